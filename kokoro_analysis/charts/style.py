"""Publication figures: ACL-sized paper style (fonts: :mod:`kokoro_analysis.charts.fonts`),
figure scaffolding and deterministic PDF/PNG export.

Typical notebook use::

    from kokoro_analysis.charts.style import apply_paper_style, new_figure, save_figure
    apply_paper_style()
    fig, ax = new_figure("column")
    ax.bar(["家族", "職場"], [1330, 1123])
    save_figure(fig, "topics", output_dir)

Sizes are in inches; ``savefig.dpi`` is 300, so a column-wide figure is 900 px wide.
This module is the one place where the global matplotlib style is set (seaborn's theme written out,
not imported): do not call ``seaborn.set_theme`` elsewhere, it resets the font family to one without
Japanese glyphs.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import matplotlib
import matplotlib.colors
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from kokoro_analysis.charts.checks import figure_problems, pdf_problems, recording_texts
from kokoro_analysis.charts.fonts import check_japanese_glyphs, font_paths, use_japanese_font
from kokoro_analysis.corpus import schema
from kokoro_analysis.paths import output_dirs, write_atomically
from kokoro_analysis.published import headline_bounds

__all__ = [
    "COLUMN_WIDTH_IN",
    "FULL_WIDTH_IN",
    "PAPER_RC",
    "add_scope_note",
    "apply_paper_style",
    "coefficient_symbol",
    "interval_errors",
    "label_axes",
    "legend_above",
    "mean_with_interval",
    "new_figure",
    "paper_style",
    "png_from_pdf",
    "save_figure",
    "scope_note",
    "score_limits",
    "signed",
]

COLUMN_WIDTH_IN = 3.0
"""ACL single-column width, inches."""
FULL_WIDTH_IN = 6.3
"""ACL two-column (full text) width, inches."""
DEFAULT_HEIGHT_IN = {"column": 2.2, "full": 2.6}
"""Default figure heights, inches."""
SAVE_DPI = 300
"""Raster resolution of saved PNGs, dots per inch."""

_PRODUCER = "kokoro_analysis"

PAPER_RC: dict[str, Any] = {
    # fonts: ~8 pt body, 7 pt ticks and legend (ACL captions are 10 pt, columns ~3 in)
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.title_fontsize": 7,
    "figure.titlesize": 9,
    # thin lines
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.0,
    "lines.markersize": 3.5,
    "patch.linewidth": 0.5,
    "grid.linewidth": 0.4,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.minor.width": 0.4,
    "ytick.minor.width": 0.4,
    "xtick.major.size": 3.0,
    "ytick.major.size": 3.0,
    "xtick.minor.size": 1.5,
    "ytick.minor.size": 1.5,
    "legend.frameon": False,
    # no top/right spines
    "axes.spines.top": False,
    "axes.spines.right": False,
    # export: embed TrueType (Type 42) fonts, fixed SVG ids, 300 dpi rasters
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "path",
    "svg.hashsalt": "kokoro_analysis",
    "savefig.dpi": SAVE_DPI,
    "savefig.format": "pdf",
    "savefig.bbox": None,
    "savefig.pad_inches": 0.02,
    "figure.dpi": 150,
    "figure.constrained_layout.use": True,
    "axes.unicode_minus": True,
}
"""rcParams of the paper style (applied on top of seaborn's ``paper``/``ticks`` theme)."""


_COLORBLIND = [
    (0.00392156862745098, 0.45098039215686275, 0.6980392156862745),
    (0.8705882352941177, 0.5607843137254902, 0.0196078431372549),
    (0.00784313725490196, 0.6196078431372549, 0.45098039215686275),
    (0.8352941176470589, 0.3686274509803922, 0.0),
    (0.8, 0.47058823529411764, 0.7372549019607844),
    (0.792156862745098, 0.5686274509803921, 0.3803921568627451),
    (0.984313725490196, 0.6862745098039216, 0.8941176470588236),
    (0.5803921568627451, 0.5803921568627451, 0.5803921568627451),
    (0.9254901960784314, 0.8823529411764706, 0.2),
    (0.33725490196078434, 0.7058823529411765, 0.9137254901960784),
]
"""seaborn's ``colorblind`` palette."""

SEABORN_THEME_RC = {
    "axes.axisbelow": True,
    "axes.edgecolor": ".15",
    "axes.facecolor": "white",
    "axes.grid": False,
    "axes.labelcolor": ".15",
    "axes.labelsize": 9.600000000000001,
    "axes.linewidth": 1.0,
    "axes.prop_cycle": cycler("color", _COLORBLIND),
    "axes.spines.bottom": True,
    "axes.spines.left": True,
    "axes.spines.right": True,
    "axes.spines.top": True,
    "axes.titlesize": 9.600000000000001,
    "figure.facecolor": "white",
    "font.family": ["sans-serif"],
    "font.sans-serif": [
        "Arial",
        "DejaVu Sans",
        "Liberation Sans",
        "Bitstream Vera Sans",
        "sans-serif",
    ],
    "font.size": 9.600000000000001,
    "grid.color": ".8",
    "grid.linestyle": "-",
    "grid.linewidth": 0.8,
    "legend.fontsize": 8.8,
    "legend.title_fontsize": 9.600000000000001,
    "lines.linewidth": 1.2000000000000002,
    "lines.markersize": 4.800000000000001,
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "patch.linewidth": 0.8,
    "text.color": ".15",
    "xtick.bottom": True,
    "xtick.color": ".15",
    "xtick.direction": "out",
    "xtick.labelsize": 8.8,
    "xtick.major.size": 4.800000000000001,
    "xtick.major.width": 1.0,
    "xtick.minor.size": 3.2,
    "xtick.minor.width": 0.8,
    "xtick.top": False,
    "ytick.color": ".15",
    "ytick.direction": "out",
    "ytick.labelsize": 8.8,
    "ytick.left": True,
    "ytick.major.size": 4.800000000000001,
    "ytick.major.width": 1.0,
    "ytick.minor.size": 3.2,
    "ytick.minor.width": 0.8,
    "ytick.right": False,
}
"""Every rcParam ``seaborn.set_theme(context="paper", style="ticks", palette="colorblind")`` sets
(seaborn 0.13), written out so the style costs no seaborn import (3 s per notebook kernel); the test suite
checks it against seaborn. Left out: ``image.cmap`` (seaborn's ``rocket``; every chart names its
colour map)."""

SEABORN_COLOR_CODES = dict(
    zip("bgrmyc", [_COLORBLIND[i] for i in (0, 2, 3, 4, 8, 9)]), k=(0.1, 0.1, 0.1)
)
"""The one-letter colours seaborn's theme redefines (``color="b"``) for the colorblind palette."""


def apply_paper_style() -> str:
    """Apply the publication style globally (seaborn's paper/ticks/colorblind theme as
    :data:`SEABORN_THEME_RC`, then :data:`PAPER_RC`, then the Japanese font). Idempotent. Returns the
    Japanese font family name."""
    matplotlib.rcParams.update(SEABORN_THEME_RC)
    matplotlib.colors.get_named_colors_mapping().update(SEABORN_COLOR_CODES)
    matplotlib.rcParams.update(PAPER_RC)
    return use_japanese_font()


@contextlib.contextmanager
def paper_style() -> Iterator[str]:
    """Context manager: the publication style inside the ``with`` block, previous rcParams
    restored after. Yields the Japanese font family name."""
    with matplotlib.rc_context():
        yield apply_paper_style()


def _resolve_width(width: Literal["column", "full"] | float) -> tuple[float, float]:
    """(width, default height) in inches for a named or numeric width."""
    if isinstance(width, str):
        if width not in DEFAULT_HEIGHT_IN:
            raise ValueError(f"width must be 'column', 'full' or inches, not {width!r}")
        inches = COLUMN_WIDTH_IN if width == "column" else FULL_WIDTH_IN
        return inches, DEFAULT_HEIGHT_IN[width]
    return float(width), round(float(width) * 0.72, 2)


def new_figure(
    width: Literal["column", "full"] | float = "column",
    height: float | None = None,
    nrows: int = 1,
    ncols: int = 1,
    **kw: Any,
) -> tuple[Figure, Any]:
    """A new figure sized for the paper: ``width`` is ``"column"`` (3.0 in), ``"full"``
    (6.3 in) or inches; ``height`` in inches (default depends on width). Uses constrained
    layout so the saved page keeps the exact width. Extra ``kw`` go to ``plt.subplots``.
    Returns ``(fig, axes)`` like ``plt.subplots``."""
    inches, default_height = _resolve_width(width)
    kw.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, figsize=(inches, height or default_height), **kw)


def label_axes(
    ax: Axes, *, lang: str, x: tuple[str, str] | None = None, y: tuple[str, str] | None = None
) -> None:
    """Label the x and y axes, each given as (Japanese, English), in the figure's language ``lang``."""
    if x is not None:
        ax.set_xlabel(schema.pick(*x, lang=lang))
    if y is not None:
        ax.set_ylabel(schema.pick(*y, lang=lang))


LEGEND_ANCHORS = {"left": 0.0, "center": 0.5, "right": 1.0}
"""Where along the top of the axes :func:`legend_above` aligns the legend (fraction of the width)."""


def legend_above(ax: Axes, align: Literal["left", "center", "right"] = "right", **options: Any):
    """The axes' legend just above its top edge, so it covers no data, aligned ``left``, ``center``
    or ``right``; ``options`` go to ``ax.legend`` (handles, ncols, font size ...)."""
    return ax.legend(loc=f"lower {align}", bbox_to_anchor=(LEGEND_ANCHORS[align], 1.0), **options)


def signed(value: float) -> str:
    """A number printed in a figure: two decimals with a true minus sign (−0.25)."""
    return f"{value:.2f}".replace("-", "\u2212")


def interval_errors(center, low, high, *, clip: bool = False) -> list:
    """Whisker lengths below and above ``center`` of the interval ``low``–``high`` (``xerr`` or
    ``yerr`` of ``errorbar``); with ``clip`` never negative (a percentile interval need not contain
    the estimate in tiny samples)."""
    below, above = center - low, high - center
    return [np.clip(below, 0, None), np.clip(above, 0, None)] if clip else [below, above]


def mean_with_interval(
    ax: Axes,
    positions,
    table,
    column: str = "mean",
    *,
    horizontal: bool = False,
    clip: bool = False,
    **options: Any,
):
    """``table[column]`` at ``positions`` as black markers with the interval the analysis calls the
    headline (:func:`~kokoro_analysis.published.headline_bounds`) as error bars, along x when
    ``horizontal``; ``clip``: see :func:`interval_errors`. ``options`` go to ``ax.errorbar``
    (markers, caps, label ...)."""
    low, high = headline_bounds(table)
    center = table[column]
    errors = interval_errors(center, table[low], table[high], clip=clip)
    if horizontal:
        return ax.errorbar(center, positions, xerr=errors, color="black", **options)
    return ax.errorbar(positions, center, yerr=errors, color="black", **options)


def coefficient_symbol(method: str) -> str:
    """ρ for Spearman, r for Pearson, as mathtext: the Japanese font draws ρ full-width, which
    reads as "( ρ )" in Latin text."""
    return r"$\rho$" if method == "spearman" else "$r$"


SCOPE_NOTE_GID = "kokoro-scope-note"
"""``gid`` of the note :func:`add_scope_note` draws (found again, so it is drawn once)."""


def scope_note(
    subset: str = "all", sessions: int | None = None, *, topic: str | None = None, lang: str = "en"
) -> str:
    """The line naming the sessions a figure shows, e.g. ``Subset: high (score 70–98), 2,601
    sessions``; empty for the whole corpus (``subset`` "all", no ``topic``). Bounds from
    :data:`schema.SUBSETS`, inclusive."""
    parts: list[str] = []
    if subset != "all":
        low, high, _ = schema.SUBSETS[subset]
        parts.append(
            schema.pick(
                f"サブセット {subset}（評価点 {low}–{high}）",
                f"Subset: {subset} (score {low}–{high})",
                lang=lang,
            )
        )
    if topic:
        parts.append(schema.pick(f"トピック {topic}", f"topic {topic}", lang=lang))
    if not parts:
        return ""
    if sessions is not None:
        parts.append(schema.pick(f"{sessions:,}セッション", f"{sessions:,} sessions", lang=lang))
    text = schema.pick("、", ", ", lang=lang).join(parts)
    return text[0].upper() + text[1:]


def add_scope_note(fig: Figure, text: str) -> None:
    """Write ``text`` (e.g. :func:`scope_note`) in small grey type (6.5 pt) above the top-right of the
    figure, in a strip the constrained layout reserves for it, so it covers no data. Replaces an
    earlier note; an empty ``text`` removes it."""
    current = fig.get_suptitle() and fig._suptitle
    if current and current.get_gid() != SCOPE_NOTE_GID:
        raise ValueError(f"the figure has a title ({current.get_text()!r}): captions carry titles")
    if current:
        current.remove()
        fig._suptitle = None
    if not text:
        return
    note = fig.suptitle(text, x=0.995, ha="right", fontsize=6.5, color="0.3")
    note.set_gid(SCOPE_NOTE_GID)


SCALE_END_SNAP = 20
"""A score axis reaches the end of the 0–100 scale when the data come within this many points of it."""


def score_limits(scores, *, pad: bool = True) -> tuple[float, float]:
    """Limits of a score axis (0–100 points) that cover the data and no wide empty band: the range
    of the scores, extended to 0 or 100 when they come within :data:`SCALE_END_SNAP` points of it
    (so the full corpus keeps 0–100, the High subset 70–100, the Low subset 0–69); with ``pad``,
    widened by 2 % of the range (at least 1 point) so markers at the ends are not cut."""
    values = np.asarray(scores, dtype=float)
    values = values[np.isfinite(values)]
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 100.0)
    low = 0.0 if low <= SCALE_END_SNAP else low
    high = 100.0 if high >= 100 - SCALE_END_SNAP else high
    if not pad:
        return low, high
    margin = max(1.0, 0.02 * (high - low))
    return low - margin, high + margin


def save_figure(
    fig: Figure,
    name: str,
    output_dir: str | os.PathLike | None = None,
    *,
    formats: tuple[str, ...] = ("pdf", "png"),
    close: bool = False,
) -> dict[str, Path]:
    """Write ``<figures>/<name>.pdf`` and ``.png`` (300 dpi), byte-identical across runs
    (:func:`render_figure`), each file whole or not at all (:func:`write_figure`). Returns
    ``{format: path}``. The figure stays open unless ``close`` (notebooks display it)."""
    rendered = render_figure(fig, name, formats=formats)
    if close:
        plt.close(fig)
    return write_figure(rendered, name, output_dir)


def render_figure(
    fig: Figure, name: str, *, formats: tuple[str, ...] = ("pdf", "png")
) -> dict[str, bytes]:
    """The figure's files as bytes, ``{format: bytes}``: identical across runs (no dates, fixed
    producer, no version strings); the PNG (300 dpi) is the PDF rasterised (:func:`png_from_pdf`),
    so both show the same drawing and the figure is drawn once.

    Refuses (:class:`ValueError`) a figure with a character none of its fonts can draw
    (:func:`~kokoro_analysis.charts.fonts.check_japanese_glyphs`) or one that fails the checks
    of :mod:`kokoro_analysis.charts.checks` (a legend entry listed twice or standing for nothing
    drawn, a text overlapping another, a stray space around a symbol, a text smaller than 6 pt in
    its PDF or cut off at its edge); ``name`` names the figure in the message."""
    rendered: dict[str, bytes] = {}
    # constrained layout settles after one draw: without this the first save differs from a second
    fig.draw_without_rendering()
    with _no_source_date_epoch():
        with recording_texts() as drawn:  # the texts the PDF draws, with their boxes in points
            rendered["pdf"] = _saved_bytes(fig, "pdf")
        for fmt in formats:
            if fmt not in rendered:
                rendered[fmt] = (
                    png_from_pdf(rendered["pdf"]) if fmt == "png" else _saved_bytes(fig, fmt)
                )
    # after drawing (tick labels exist); an extra draw here would shift the constrained layout
    missing = check_japanese_glyphs(fig, draw=False)
    if missing:
        raise ValueError(f"figure {name}: no glyph for {''.join(missing)!r} in its fonts")
    problems = figure_problems(fig, drawn) or pdf_problems(rendered["pdf"])
    if problems:
        raise ValueError(f"figure {name}: " + "; ".join(problems))
    return {fmt: rendered[fmt] for fmt in formats}


def rendering_identity() -> str:
    """What besides a chart's code, its inputs and the installed libraries (part of every cache key:
    :func:`kokoro_analysis.cache.environment_identity`) decides the bytes :func:`render_figure`
    makes: matplotlib's settings (``rcParams``) and the font files its text resolves to with them
    (:func:`~kokoro_analysis.charts.fonts.font_paths`), as one string."""
    import matplotlib
    from matplotlib.text import Text

    settings = sorted((k, repr(v)) for k, v in matplotlib.rcParams.items())
    return repr((font_paths(Text()), settings))


def write_figure(
    rendered: dict[str, bytes], name: str, output_dir: str | os.PathLike | None = None
) -> dict[str, Path]:
    """Write each ``{format: bytes}`` of :func:`render_figure` to ``<figures>/<name>.<format>``, each
    file whole or not at all (:func:`~kokoro_analysis.paths.write_atomically`); ``{format: path}``."""
    folder = output_dirs(output_dir).figures
    return {fmt: write_atomically(folder / f"{name}.{fmt}", data) for fmt, data in rendered.items()}


def _saved_bytes(fig: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=SAVE_DPI, metadata=_metadata(fmt))
    return buffer.getvalue()


def png_from_pdf(pdf: bytes, dpi: int = SAVE_DPI) -> bytes:
    """The first page of a PDF (its bytes) as a PNG at ``dpi`` dots per inch (white background, the
    resolution recorded in the file), rendered with PyMuPDF; deterministic."""
    import pymupdf

    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        pixmap = document[0].get_pixmap(dpi=dpi, alpha=False)
        pixmap.set_dpi(dpi, dpi)
        return pixmap.tobytes("png")


def _metadata(fmt: str) -> dict[str, Any] | None:
    """Metadata that keeps the file identical across runs and library versions."""
    if fmt == "pdf":
        return {"Creator": _PRODUCER, "Producer": _PRODUCER, "CreationDate": None, "ModDate": None}
    if fmt == "png":
        return {"Software": None}
    if fmt == "svg":
        return {"Creator": _PRODUCER, "Date": None}
    if fmt in ("ps", "eps"):
        return {"Creator": _PRODUCER}
    return None


@contextlib.contextmanager
def _no_source_date_epoch() -> Iterator[None]:
    """Hide ``SOURCE_DATE_EPOCH`` while saving, so no date is written even when it is set."""
    saved = os.environ.pop("SOURCE_DATE_EPOCH", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["SOURCE_DATE_EPOCH"] = saved
