"""Fonts of the figures: the bundled Japanese font registered with matplotlib, and which font files
draw a text and which characters they have glyphs for (a character no font has prints as an empty
box, :func:`check_japanese_glyphs`)."""

from __future__ import annotations

import importlib
import sys
import warnings
from functools import cache
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text

__all__ = [
    "JAPANESE_FONT",
    "charmap",
    "check_japanese_glyphs",
    "font_paths",
    "is_mathtext",
    "use_japanese_font",
]

JAPANESE_FONT = "IPAexGothic"
"""Family name of the bundled Japanese font (IPAex Gothic, shipped by japanize-matplotlib
/ matplotlib-fontja)."""
_FALLBACK_FONT = "DejaVu Sans"  # matplotlib's own font: covers symbols IPAex lacks.


def _import_font_package() -> Any:
    """Import the Japanese-font package for this Python (fontja on >= 3.12, japanize below),
    falling back to the other one; it registers IPAexGothic on first import."""
    preferred = ["matplotlib_fontja", "japanize_matplotlib"]
    if sys.version_info < (3, 12):
        preferred.reverse()
    errors: list[str] = []
    for name in preferred:
        try:
            with warnings.catch_warnings():
                # japanize-matplotlib imports distutils (deprecated)
                warnings.simplefilter("ignore", DeprecationWarning)
                return importlib.import_module(name)
        except ImportError as exc:  # pragma: no cover - depends on the environment
            errors.append(f"{name}: {exc}")
    raise ImportError(
        "No Japanese font package: install japanize-matplotlib (Python < 3.12) "
        "or matplotlib-fontja (Python >= 3.12). " + "; ".join(errors)
    )


def _register_font(package: Any) -> None:
    """Add the package's TTF to matplotlib's font manager unless it is already known."""
    known = {entry.name for entry in font_manager.fontManager.ttflist}
    if JAPANESE_FONT not in known:
        font_manager.fontManager.addfont(package.get_font_ttf_path())


def use_japanese_font() -> str:
    """Make matplotlib render Japanese text with IPAexGothic (DejaVu Sans as glyph fallback).

    Idempotent; call again after anything that resets ``font.family``. Returns the family name.
    """
    _register_font(_import_font_package())
    matplotlib.rcParams["font.family"] = [JAPANESE_FONT, _FALLBACK_FONT]
    return JAPANESE_FONT


@cache
def charmap(path: str) -> frozenset[int]:
    """Code points a font file has glyphs for."""
    return frozenset(FT2Font(path).get_charmap())


def font_paths(text: Text) -> list[str]:
    """Font files matplotlib would use (with per-glyph fallback) for a text artist."""
    prop = text.get_fontproperties()
    finder = getattr(font_manager.fontManager, "_find_fonts_by_props", None)
    if finder is not None:
        return [str(p) for p in finder(prop)]
    return [str(font_manager.findfont(prop))]  # pragma: no cover - old matplotlib


def check_japanese_glyphs(fig: Figure, *, draw: bool = True) -> list[str]:
    """Characters in the figure's visible text that none of its fonts can render (they would
    show as empty boxes). Draws the figure first so tick labels exist (``draw=False``: it was just
    drawn). Empty list = all good. Mathtext (``$...$``) strings are skipped."""
    if draw:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
            fig.draw_without_rendering()
    missing: set[str] = set()
    for text in fig.findobj(Text):
        string = text.get_text()
        if not string or not text.get_visible() or is_mathtext(text):
            continue
        covered = frozenset().union(*(charmap(p) for p in font_paths(text)))
        missing.update(ch for ch in string if not ch.isspace() and ord(ch) not in covered)
    return sorted(missing)


def is_mathtext(text: Text) -> bool:
    """Whether matplotlib parses the text's string as mathtext (two unescaped ``$``, no usetex)."""
    string = text.get_text()
    return not text.get_usetex() and string.count("$") - string.count(r"\$") >= 2
