"""Checks a figure must pass before it is saved for a paper (:func:`figure_problems`, run by
:func:`kokoro_analysis.charts.style.save_figure` on every figure):

- every legend entry is unique (no label twice, no two entries drawn alike) and stands for something
  the figure draws (a hidden or empty series listed in the legend is refused);
- no text overlaps another text's box (tick labels, annotations, titles, legends as laid out), and
  no line of the plot runs through an annotation (a zero line through a group heading);
- no stray space around a symbol: no doubled space or space inside brackets, and no character of
  Latin text drawn with a full-width glyph (IPAexGothic draws ρ as wide as a kanji: "( ρ )");
- labels (axis and colour-bar labels, titles, legend entries) in one capitalisation convention:
  each begins with a capital letter, unless it begins with a one-letter symbol ("z (log-odds)");
- in the saved PDF (:func:`pdf_problems`), no text under :data:`MIN_TEXT_PT` and none cut off at
  the figure's edge.

Each check returns readable problem descriptions; an empty list means the figure passes.
"""

from __future__ import annotations

import contextlib
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from matplotlib import colors as mcolors
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.collections import Collection, LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.transforms import Affine2D, Bbox

from kokoro_analysis.charts.fonts import charmap, font_paths, is_mathtext

__all__ = [
    "MIN_TEXT_PT",
    "DrawnText",
    "capitalisation_problems",
    "crossed_texts",
    "figure_problems",
    "legend_problems",
    "overlapping_texts",
    "pdf_problems",
    "pdf_text_sizes",
    "pdf_texts_off_page",
    "recording_texts",
    "spacing_problems",
]

OVERLAP_TOLERANCE_PT = 0.1
"""Two text boxes may share at most this much (points, in each direction) before they overlap."""
WIDE_GLYPH_EM = 0.9
"""A glyph at least this wide (in em) is full-width, like a kanji."""


def figure_problems(fig: Figure, drawn: list[DrawnText]) -> list[str]:
    """Every problem of the checks above; ``drawn`` are the texts a save of the figure drew
    (:func:`recording_texts`)."""
    return [
        *legend_problems(fig),
        *overlapping_texts(drawn),
        *crossed_texts(fig, drawn),
        *spacing_problems(drawn),
        *capitalisation_problems(fig, drawn),
    ]


# --------------------------------------------------------------------------- texts as drawn


@dataclass(frozen=True)
class DrawnText:
    """A text artist as a save drew it: its box in points (the PDF's coordinates)."""

    text: Text
    box: Bbox


@contextlib.contextmanager
def recording_texts() -> Iterator[list[DrawnText]]:
    """Collect the texts drawn inside the ``with`` block (by a ``savefig`` to PDF, whose renderer
    works in points): only what is drawn counts (no tick label outside the view, no text of a hidden
    axes), each with its box (descenders included) as laid out at that moment."""
    drawn: list[DrawnText] = []
    original = Text.draw

    def draw(self: Text, renderer: RendererBase) -> None:
        original(self, renderer)
        if self.get_visible() and self.get_text().strip():
            drawn.append(DrawnText(self, self.get_window_extent(renderer)))

    Text.draw = draw
    try:
        yield drawn
    finally:
        Text.draw = original


def overlapping_texts(drawn: list[DrawnText]) -> list[str]:
    """Pairs of texts whose boxes overlap by more than :data:`OVERLAP_TOLERANCE_PT` in both
    directions."""
    tolerance = OVERLAP_TOLERANCE_PT
    order = sorted(drawn, key=lambda item: item.box.x0)
    problems = set()
    for position, first in enumerate(order):
        for second in order[position + 1 :]:
            if second.box.x0 >= first.box.x1 - tolerance:
                break  # sorted by left edge: no later box reaches back into this one
            wide = min(first.box.x1, second.box.x1) - max(first.box.x0, second.box.x0)
            high = min(first.box.y1, second.box.y1) - max(first.box.y0, second.box.y0)
            if wide > tolerance and high > tolerance and first.text is not second.text:
                names = sorted((_shown(first.text), _shown(second.text)))
                problems.add(f"text {names[0]} overlaps text {names[1]}")
    return sorted(problems)


CROSSING_MARGIN_PT = 0.5
"""A line may touch an annotation's box by this much (points) without running through it."""


def crossed_texts(fig: Figure, drawn: list[DrawnText]) -> list[str]:
    """Annotations (texts placed in an axes) that a line of the same axes runs through: a plotted or
    reference line, or the segments of a line collection (error bars, ``vlines``). A text drawn on
    its own background box covers the line and passes."""
    to_pixels = Affine2D().scale(fig.dpi / 72)  # boxes were recorded in points (the PDF's units)
    problems = set()
    for item in drawn:
        text, ax = item.text, item.text.axes
        if ax is None or text not in ax.texts or text.get_bbox_patch() is not None:
            continue
        box = item.box.padded(-CROSSING_MARGIN_PT).transformed(to_pixels)
        for path in _line_paths(ax):
            if path.intersects_bbox(box, filled=False):
                problems.add(f"a line of the plot runs through text {_shown(text)}")
                break
    return sorted(problems)


def _line_paths(ax: Axes) -> Iterator[Path]:
    """The visible lines of an axes as paths in display coordinates."""
    for line in ax.lines:
        if line.get_visible() and line.get_linestyle() not in ("None", "none", "", " "):
            yield line.get_transform().transform_path(line.get_path())
    for collection in ax.collections:
        if isinstance(collection, LineCollection) and collection.get_visible():
            transform = collection.get_transform()
            yield from (transform.transform_path(path) for path in collection.get_paths())


def _shown(text: Text) -> str:
    return repr(text.get_text().replace("\n", " "))


# --------------------------------------------------------------------------- spacing

_STRAY_SPACE = (
    (re.compile(r"\S {2,}\S"), "a doubled space"),
    (re.compile(r"[(\[（［] "), "a space after an opening bracket"),
    (re.compile(r" [)\]）］]"), "a space before a closing bracket"),
    (re.compile(r"\S [,;]"), "a space before a comma or semicolon"),
)


def spacing_problems(drawn: list[DrawnText]) -> list[str]:
    """Stray spaces around symbols: typed ones (doubled, inside brackets, before a comma) and
    drawn ones (a character of Latin text set with a full-width glyph, e.g. IPAexGothic's ρ)."""
    problems = []
    for text in dict.fromkeys(item.text for item in drawn):
        string = _outside_math(text)
        for pattern, what in _STRAY_SPACE:
            if pattern.search(string):
                problems.append(f"text {_shown(text)} has {what}")
        wide = sorted(set(_wide_in_latin(text, string)))
        if wide:
            problems.append(
                f"text {_shown(text)} draws {''.join(wide)!r} full-width among Latin letters "
                "(it looks spaced out; write it as mathtext, e.g. $\\rho$)"
            )
    return sorted(set(problems))


def _outside_math(text: Text) -> str:
    """The text's string without its mathtext parts (``$...$``), which mathtext spaces itself."""
    string = text.get_text()
    if not is_mathtext(text):
        return string
    return re.sub(r"(?<!\\)\$.*?(?<!\\)\$", "\u2009", string)


def _is_wide_character(char: str) -> bool:
    """Characters that are full-width by nature (kanji, kana, full-width forms)."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def _wide_in_latin(text: Text, string: str) -> Iterator[str]:
    """Characters that are not full-width by nature, drawn with a full-width glyph next to a narrow
    character (a Latin letter, digit, space or ASCII sign)."""
    paths = None
    for index, char in enumerate(string):
        if char.isspace() or char.isascii() or _is_wide_character(char):
            continue
        neighbours = string[max(index - 1, 0) : index] + string[index + 1 : index + 2]
        if not any(n.isascii() for n in neighbours):
            continue  # among kanji or full-width signs: full width is the convention there
        paths = paths if paths is not None else font_paths(text)
        font = next((p for p in paths if _has_glyph(p, char)), None)
        if font is not None and _advance_em(font, char) >= WIDE_GLYPH_EM:
            yield char


@cache
def _has_glyph(path: str, char: str) -> bool:
    return ord(char) in charmap(path)


@cache
def _advance_em(path: str, char: str) -> float:
    """Advance width of ``char`` in the font file ``path``, in em."""
    from matplotlib.ft2font import FT2Font, LoadFlags

    font = FT2Font(path)
    glyph = font.load_char(ord(char), flags=LoadFlags.NO_SCALE)
    return glyph.horiAdvance / font.units_per_EM


# --------------------------------------------------------------------------- capitalisation


def capitalisation_problems(fig: Figure, drawn: list[DrawnText]) -> list[str]:
    """Labels (axis and colour-bar labels, titles, legend entries) that begin with a lower-case Latin
    word: every figure capitalises its labels ("Year (sessions)"); a one-letter symbol may begin one."""
    labels = {id(text) for text in _label_texts(fig)}
    problems = []
    for text in dict.fromkeys(item.text for item in drawn if id(item.text) in labels):
        string = _outside_math(text).lstrip()
        word = re.match(r"[A-Za-z]+", string)
        if word and word.group().islower() and len(word.group()) > 1:
            problems.append(f"label {_shown(text)} begins in lower case (labels are capitalised)")
    return problems


def _label_texts(fig: Figure) -> Iterator[Text]:
    for name in ("_supxlabel", "_supylabel", "_suptitle"):
        if getattr(fig, name, None) is not None:
            yield getattr(fig, name)
    for ax in fig.axes:
        yield from (ax.xaxis.label, ax.yaxis.label, ax.title, ax._left_title, ax._right_title)
    for legend in _legends(fig):
        yield from legend.texts
        yield legend.get_title()


# --------------------------------------------------------------------------- legends


def legend_problems(fig: Figure) -> list[str]:
    """Legend entries listed twice (the same label, or two labels drawn alike, so a reader cannot
    tell them apart) or standing for nothing the figure draws (an empty series)."""
    problems = []
    drawn = list(_drawn_keys(fig))
    for legend in _legends(fig):
        entries = [
            (text.get_text(), handle)
            for handle, text in zip(legend.legend_handles, legend.texts)
            if handle is not None and text.get_text().strip()
        ]
        labels = [label for label, _ in entries]
        for label in sorted({label for label in labels if labels.count(label) > 1}):
            problems.append(f"legend lists {label!r} twice")
        keys = [_key(handle) for _, handle in entries]
        for i, (label, _) in enumerate(entries):
            for j in range(i + 1, len(entries)):
                if label != entries[j][0] and _alike(keys[i], keys[j]):
                    problems.append(
                        f"legend entries {label!r} and {entries[j][0]!r} are drawn alike"
                    )
            if keys[i] is not None and not any(_matches(keys[i], key) for key in drawn):
                problems.append(f"legend entry {label!r} stands for nothing the figure draws")
    return problems


def _legends(fig: Figure) -> Iterator[Legend]:
    yield from fig.legends
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            yield legend


def _rgba(color: Any) -> tuple[float, ...] | None:
    try:
        return tuple(round(c, 3) for c in mcolors.to_rgba(color))
    except (TypeError, ValueError):
        return None


_LINESTYLES = {"solid": "-", "dashed": "--", "dotted": ":", "dashdot": "-."}


def _dashes(artist: Any) -> Any:
    """Dash pattern of a line or patch, independent of its width."""
    pattern = getattr(artist, "_unscaled_dash_pattern", None)
    if pattern is not None:
        _offset, dashes = pattern
        return "solid" if dashes is None else tuple(round(d, 2) for d in dashes)
    style = artist.get_linestyle()
    return _LINESTYLES.get(style, style) if isinstance(style, str) else str(style)


def _marker(line: Line2D) -> str | None:
    marker = line.get_marker()
    return None if marker in (None, "None", "none", "", " ") else str(marker)


def _key(artist: Any) -> tuple | None:
    """What a legend key (or a drawn artist) looks like: kind, colour, dash pattern, marker."""
    if isinstance(artist, Line2D):
        has_line = artist.get_linestyle() not in ("None", "none", "", " ")
        return (
            "line",
            _rgba(artist.get_color()),
            _dashes(artist) if has_line else None,
            _marker(artist),
        )
    if isinstance(artist, Patch):
        if not artist.get_fill():  # an outline (step histogram): drawn as a line in a legend
            return ("line", _rgba(artist.get_edgecolor()), _dashes(artist), None)
        return ("area", _rgba(artist.get_facecolor()), artist.get_hatch() or None)
    if isinstance(artist, Collection):
        faces = artist.get_facecolor()
        if len(faces) and faces[0][3] > 0:
            return ("area", _rgba(faces[0]), artist.get_hatch() or None)
        edges = artist.get_edgecolor()
        color = _rgba(edges[0]) if len(edges) else None
        return ("line", color, None, None)
    return None


COLOR_TOLERANCE = 0.15
"""Colours closer than this (largest RGB difference, 0–1) look alike in a legend key."""


def _same_color(first: tuple | None, second: tuple | None) -> bool:
    if first is None or second is None:
        return first is second
    return max(abs(a - b) for a, b in zip(first, second)) < COLOR_TOLERANCE


def _alike(first: tuple | None, second: tuple | None) -> bool:
    """Two keys a reader cannot tell apart: same kind, dash pattern and marker, colours alike."""
    if first is None or second is None:
        return False
    return first[0] == second[0] and first[2:] == second[2:] and _same_color(first[1], second[1])


def _is_grey(color: tuple | None) -> bool:
    return color is not None and max(color[:3]) - min(color[:3]) < 0.02


def _matches(entry: tuple, drawn: tuple) -> bool:
    """A legend key stands for a drawn artist: same kind and colour (a grey line key: any colour, a
    key for a line style); a line key also the same dash pattern and marker (a key without a line
    matches a marker; one without a marker, a line)."""
    if entry[0] != drawn[0]:
        return False
    if entry[0] == "area":
        return _same_color(entry[1], drawn[1]) and entry[2] == drawn[2]
    if not _same_color(entry[1], drawn[1]) and not (_is_grey(entry[1]) and entry[2] is not None):
        return False
    line, marker = entry[2], entry[3]
    return (line is None or line == drawn[2]) and (marker is None or marker == drawn[3])


def _drawn_keys(fig: Figure) -> Iterator[tuple]:
    """Keys of the artists of the figure's visible axes that draw something."""
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for artist in [*ax.lines, *ax.patches, *ax.collections]:
            if artist.get_visible() and _draws_something(artist, ax):
                key = _key(artist)
                if key is not None:
                    yield key


def _draws_something(artist: Any, ax: Axes) -> bool:
    if isinstance(artist, Line2D):
        x, y = (np.asarray(v, dtype=float) for v in artist.get_data())
        return bool(np.isfinite(x).any() and np.isfinite(y).any())
    if isinstance(artist, Rectangle):
        return artist.get_width() != 0 and artist.get_height() != 0
    if isinstance(artist, PathCollection):  # markers (scatter): one per offset
        return len(artist.get_offsets()) > 0
    if isinstance(artist, Collection):
        return len(artist.get_paths()) > 0
    return True


# --------------------------------------------------------------------------- the saved PDF

MIN_TEXT_PT = 6.0
"""Smallest text a saved figure may hold, points at printed size (figures are drawn at that size)."""


def pdf_problems(pdf: bytes) -> list[str]:
    """Texts of a saved figure (its PDF bytes) smaller than :data:`MIN_TEXT_PT` or cut off at the
    figure's edge (:func:`pdf_text_sizes`, :func:`pdf_texts_off_page`)."""
    spans = list(_pdf_spans(pdf))  # read once for both checks
    problems = []
    small = [(size, text) for size, text in _span_sizes(spans) if size < MIN_TEXT_PT - 0.01]
    if small:
        shown = ", ".join(f"{text!r} {size:g} pt" for size, text in small[:5])
        problems.append(f"{len(small)} text(s) under {MIN_TEXT_PT:g} pt ({shown})")
    cut = _spans_off_page(spans)
    if cut:
        shown = ", ".join(repr(text) for text in cut[:5])
        problems.append(f"{len(cut)} text(s) cut off at the figure's edge ({shown})")
    return problems


def pdf_text_sizes(pdf: bytes | str | os.PathLike) -> list[tuple[float, str]]:
    """``(size in pt, text)`` of every non-blank text span of a PDF (a file path or its bytes), read
    with PyMuPDF. Figures are saved at printed size, so these are the printed sizes."""
    return _span_sizes(_pdf_spans(pdf))


def pdf_texts_off_page(pdf: bytes | str | os.PathLike, *, tolerance_pt: float = 0.5) -> list[str]:
    """The non-blank text spans of a PDF that reach more than ``tolerance_pt`` beyond the page edge:
    text cut off in the saved figure (e.g. a vertical axis label longer than the figure is high)."""
    return _spans_off_page(_pdf_spans(pdf), tolerance_pt)


def _span_sizes(spans: Iterable[tuple[dict, Any]]) -> list[tuple[float, str]]:
    return [(round(span["size"], 2), span["text"]) for span, _ in spans]


def _spans_off_page(spans: Iterable[tuple[dict, Any]], tolerance_pt: float = 0.5) -> list[str]:
    import pymupdf

    t = tolerance_pt
    return [
        span["text"]
        for span, page in spans
        if not pymupdf.Rect(page.x0 - t, page.y0 - t, page.x1 + t, page.y1 + t).contains(
            pymupdf.Rect(span["bbox"])
        )
    ]


def _pdf_spans(pdf: bytes | str | os.PathLike) -> Iterator[tuple[dict, Any]]:
    """``(span, page rectangle)`` of every non-blank text span of a PDF, text beyond the page
    included (PyMuPDF leaves it out by default)."""
    import pymupdf

    document = (
        pymupdf.open(stream=pdf, filetype="pdf") if isinstance(pdf, bytes) else pymupdf.open(pdf)
    )
    flags = pymupdf.TEXTFLAGS_DICT & ~pymupdf.TEXT_MEDIABOX_CLIP
    with document:
        for page in document:
            text = page.get_text("dict", flags=flags, clip=pymupdf.INFINITE_RECT())
            for block in text["blocks"]:
                for line in block.get("lines", []):
                    for span in line["spans"]:
                        if span["text"].strip():
                            yield span, page.rect
