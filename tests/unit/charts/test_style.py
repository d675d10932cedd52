from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from kokoro_analysis.charts import checks, style
from kokoro_analysis.charts.style import (
    COLUMN_WIDTH_IN,
    FULL_WIDTH_IN,
    apply_paper_style,
    new_figure,
    paper_style,
    save_figure,
)

LABELS = ["家族問題", "職場", "心理的問題"]


@pytest.fixture(autouse=True)
def _restore_rc():
    with matplotlib.rc_context():
        yield
    plt.close("all")


def _japanese_figure(width: str = "column"):
    fig, ax = new_figure(width)
    ax.bar(LABELS, [1330, 1123, -966])
    ax.set_title("トピック別の対話数")
    ax.set_xlabel("主トピック")
    ax.set_ylabel("対話数（件）")
    return fig


def test_paper_style_survives_seaborn_reset_and_sets_export_params():
    import seaborn as sns

    sns.set_theme()  # resets font.family to a family without Japanese glyphs
    assert "IPAexGothic" not in matplotlib.rcParams["font.family"]
    assert apply_paper_style() == "IPAexGothic"
    rc = matplotlib.rcParams
    assert rc["font.family"][0] == "IPAexGothic"
    assert rc["pdf.fonttype"] == 42 and rc["ps.fonttype"] == 42
    assert rc["savefig.dpi"] == 300
    assert rc["svg.hashsalt"]
    assert rc["font.size"] <= 9
    assert not rc["axes.spines.top"] and not rc["axes.spines.right"]


def test_paper_style_context_restores_previous_rc():
    matplotlib.rcParams["font.size"] = 13
    with paper_style() as family:
        assert family == "IPAexGothic"
        assert matplotlib.rcParams["font.size"] == 8
    assert matplotlib.rcParams["font.size"] == 13


def test_new_figure_sizes():
    fig, _ = new_figure("column")
    assert fig.get_size_inches()[0] == pytest.approx(COLUMN_WIDTH_IN)
    fig, axes = new_figure("full", height=2.0, nrows=1, ncols=2)
    assert tuple(fig.get_size_inches()) == pytest.approx((FULL_WIDTH_IN, 2.0))
    assert len(axes) == 2
    with pytest.raises(ValueError):
        new_figure("page")


def test_save_figure_embeds_truetype_and_png_is_300_dpi(tmp_path):
    apply_paper_style()
    paths = save_figure(_japanese_figure(), "topics", tmp_path)
    assert paths["pdf"] == tmp_path / "figures" / "topics.pdf"
    assert paths["png"] == tmp_path / "figures" / "topics.png"
    pdf = paths["pdf"].read_bytes()
    assert b"/FontFile2" in pdf
    assert b"/Type3" not in pdf
    assert b"IPAexGothic" in pdf
    assert b"/CreationDate" not in pdf and b"/ModDate" not in pdf
    with Image.open(paths["png"]) as image:
        assert abs(image.size[0] - 900) <= 2
        assert image.info["dpi"][0] == pytest.approx(300, abs=0.5)
        assert "Software" not in image.info


def test_png_is_the_pdf_drawing_at_300_dpi(tmp_path):
    import numpy as np

    apply_paper_style()
    fig = plt.figure(figsize=(2, 1))
    fig.patches.append(
        plt.Rectangle((0, 0), 0.5, 1, transform=fig.transFigure, color="black", figure=fig)
    )
    paths = save_figure(fig, "half", tmp_path, close=True)
    with Image.open(paths["png"]) as image:
        assert image.size == (600, 300)
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels[:, :295].mean() < 5  # the black left half
    assert pixels[:, 305:].mean() > 250  # the white right half (no transparency)


def test_a_text_cut_off_at_the_edge_is_refused(tmp_path):
    apply_paper_style()
    fig, ax = new_figure("column")
    ax.set_ylabel("A vertical label much longer than the figure is high (%)")
    with pytest.raises(ValueError, match=r"cut off at the figure's edge.*much longer"):
        save_figure(fig, "cut", tmp_path)
    assert not (tmp_path / "figures" / "cut.pdf").exists()
    ax.set_ylabel("Share (%)")
    paths = save_figure(fig, "fits", tmp_path)
    assert checks.pdf_texts_off_page(paths["pdf"]) == []
    assert "Share (%)" in [text for _, text in checks.pdf_text_sizes(paths["pdf"])]


def test_save_figure_is_byte_identical(tmp_path, monkeypatch):
    apply_paper_style()
    fig = _japanese_figure("full")
    first = {fmt: p.read_bytes() for fmt, p in save_figure(fig, "a", tmp_path).items()}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    second = {fmt: p.read_bytes() for fmt, p in save_figure(fig, "a", tmp_path).items()}
    assert first.keys() == {"pdf", "png"}
    assert first == second
    # a fresh, identical figure gives the same bytes too
    third = {
        fmt: p.read_bytes()
        for fmt, p in save_figure(_japanese_figure("full"), "b", tmp_path).items()
    }
    assert third == first


def test_save_figure_close_flag(tmp_path):
    apply_paper_style()
    fig = _japanese_figure()
    save_figure(fig, "kept", tmp_path)
    assert plt.fignum_exists(fig.number)
    save_figure(fig, "closed", tmp_path, close=True)
    assert not plt.fignum_exists(fig.number)


def test_public_constants():
    assert style.COLUMN_WIDTH_IN == 3.0
    assert style.FULL_WIDTH_IN == 6.3


def test_save_figure_refuses_text_under_6_pt_and_writes_nothing(tmp_path):
    with paper_style():
        fig = _japanese_figure()
        fig.axes[0].text(0, 0, "tiny", fontsize=5)
        with pytest.raises(
            ValueError, match=r"figure small: 1 text\(s\) under 6 pt \('tiny' 5 pt\)"
        ):
            save_figure(fig, "small", tmp_path)
    assert not (tmp_path / "figures").exists()


def test_save_figure_refuses_missing_glyphs(tmp_path):
    with paper_style():
        fig = _japanese_figure()
        fig.axes[0].set_xlabel("\U0001f600 \u0f00")
        with pytest.raises(ValueError, match="figure g: no glyph"):
            save_figure(fig, "g", tmp_path)


def test_pdf_text_sizes_are_printed_sizes(tmp_path):
    with paper_style():
        fig = _japanese_figure()
        paths = save_figure(fig, "sizes", tmp_path, formats=("pdf",))
    sizes = checks.pdf_text_sizes(paths["pdf"])
    assert ("主トピック", 8.0) in [(text, size) for size, text in sizes]
    assert min(size for size, _ in sizes) >= checks.MIN_TEXT_PT


def test_the_written_out_theme_is_what_seaborn_sets():
    import matplotlib.colors
    import seaborn as sns

    from kokoro_analysis.charts.style import SEABORN_COLOR_CODES, SEABORN_THEME_RC

    with matplotlib.rc_context():
        saved = {code: matplotlib.colors.to_rgb(code) for code in "bgrcmyk"}
        sns.set_theme(context="paper", style="ticks", palette="colorblind")
        theirs = {key: matplotlib.rcParams[key] for key in SEABORN_THEME_RC}
        codes = {code: matplotlib.colors.to_rgb(code) for code in "bgrcmyk"}
        matplotlib.colors.get_named_colors_mapping().update(saved)
        expected = {**sns.axes_style("ticks"), **sns.plotting_context("paper")}
    assert set(SEABORN_THEME_RC) == (set(expected) - {"image.cmap"}) | {"axes.prop_cycle"}
    with matplotlib.rc_context(SEABORN_THEME_RC):
        assert {key: matplotlib.rcParams[key] for key in SEABORN_THEME_RC} == theirs
    assert {
        code: matplotlib.colors.to_rgb(rgb) for code, rgb in SEABORN_COLOR_CODES.items()
    } == codes


def test_interval_errors_are_lengths_clipped_on_request():
    below, above = style.interval_errors(
        np.array([5.0, 2.0]), np.array([4.0, 2.5]), np.array([7.0, 3])
    )
    assert below.tolist() == [1.0, -0.5] and above.tolist() == [2.0, 1.0]
    below, _ = style.interval_errors(np.array([2.0]), np.array([2.5]), np.array([3.0]), clip=True)
    assert below.tolist() == [0.0]  # a percentile interval above its estimate: no negative whisker


def test_shared_labels_and_legend_above_the_axes(tmp_path):
    with paper_style():
        fig, ax = new_figure("column")
        ax.plot([1, 2], [1, 2], label="Series")
        style.label_axes(ax, lang="ja", x=("年", "Year"), y=("件数", "Count"))
        legend = style.legend_above(ax, "left")
        fig.draw_without_rendering()
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("年", "件数")
        box, frame = legend.get_window_extent(), ax.get_window_extent()
        assert box.y0 >= frame.y1 - 1 and abs(box.x0 - frame.x0) < 10  # above, at the left edge
        paths = save_figure(fig, "shared", tmp_path)
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["shared.pdf", "shared.png"]
    assert paths["pdf"].read_bytes().startswith(b"%PDF")  # whole files, no temporary left beside
