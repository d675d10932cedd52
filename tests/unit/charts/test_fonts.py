"""The Japanese font is registered once and covers the labels; a character no font draws is found."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from kokoro_analysis.charts.fonts import check_japanese_glyphs, use_japanese_font
from kokoro_analysis.charts.style import apply_paper_style, new_figure


@pytest.fixture(autouse=True)
def _restore_rc():
    with matplotlib.rc_context():
        yield
    plt.close("all")


def test_use_japanese_font_is_idempotent():
    assert use_japanese_font() == "IPAexGothic"
    n_fonts = len(matplotlib.font_manager.fontManager.ttflist)
    assert use_japanese_font() == "IPAexGothic"
    assert len(matplotlib.font_manager.fontManager.ttflist) == n_fonts
    assert matplotlib.rcParams["font.family"][0] == "IPAexGothic"


def _japanese_figure():
    fig, ax = new_figure("column")
    ax.bar(["家族問題", "職場", "心理的問題"], [1330, 1123, -966])
    ax.set_title("トピック別の対話数")
    ax.set_xlabel("主トピック")
    ax.set_ylabel("対話数（件）")
    return fig


def test_japanese_labels_have_no_missing_glyphs():
    apply_paper_style()
    fig = _japanese_figure()
    assert check_japanese_glyphs(fig) == []


def test_missing_glyphs_are_detected():
    # Without the Japanese font, DejaVu Sans has no kanji: they would be empty boxes.
    matplotlib.rcParams["font.family"] = ["DejaVu Sans"]
    fig, ax = plt.subplots()
    ax.set_title("職場 work")
    missing = check_japanese_glyphs(fig)
    assert "職" in missing and "場" in missing
    assert "w" not in missing
