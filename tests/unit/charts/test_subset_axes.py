"""Score axes cover the data of a subset (no wide empty band), keep 0–100 for the full corpus; legends
and statistics sit outside the data; the hexbin median line reads in greyscale."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb

from kokoro_analysis.analyses import topics
from kokoro_analysis.analyses.feedback import (
    experience_effects,
)
from kokoro_analysis.charts import feedback as charts
from kokoro_analysis.charts import item_structure as structure_charts
from kokoro_analysis.charts import score_features as feature_charts
from kokoro_analysis.charts import topics as topic_charts
from kokoro_analysis.charts.style import paper_style, score_limits
from kokoro_analysis.corpus import measures
from kokoro_analysis.corpus.loading import load_corpus


@pytest.fixture(autouse=True)
def _paper_style():
    with paper_style():
        yield
    plt.close("all")


def test_score_limits():
    assert score_limits([0, 50, 100]) == (0 - 2.0, 100 + 2.0)
    assert score_limits([17, 97], pad=False) == (0.0, 100.0)  # near both ends: the whole scale
    assert score_limits([70, 98], pad=False) == (70.0, 100.0)  # the High subset
    assert score_limits([0, 69], pad=False) == (0.0, 69.0)  # the Low subset: no empty 70–100
    assert score_limits([40, 60], pad=False) == (40.0, 60.0)
    assert score_limits([99, 100]) == (98.0, 101.0)  # at least one point of margin
    assert score_limits([np.nan], pad=False) == (0.0, 100.0)


def _outside_axes(artist, ax) -> bool:
    renderer = ax.figure.canvas.get_renderer()
    return artist.get_window_extent(renderer).y0 >= ax.get_window_extent(renderer).y1 - 0.5


@pytest.fixture(scope="module")
def synthetic_corpus(synthetic_dir):
    return load_corpus(synthetic_dir)


@pytest.fixture(scope="module")
def high(synthetic_corpus):
    return synthetic_corpus.subset("high")


def test_score_histogram_axis_follows_the_subset(synthetic_corpus, high):
    full = charts.score_distribution_chart(synthetic_corpus.dialogues)
    assert full.axes[0].get_xlim() == (-0.5, 100.5)
    fig = charts.score_distribution_chart(high.dialogues)
    ax = fig.axes[0]
    scores = high.dialogues["score"]
    assert scores.min() > 60 and ax.get_xlim() == (scores.min() - 0.5, 100.5)
    labels = [t.get_text() for t in ax.texts]
    assert labels == []  # one band holds the scores (High): the scope note names it
    assert [t.get_text() for t in full.axes[0].texts] == ["Low", "High", "Test"]
    fig.draw_without_rendering()
    legend = fig.legends[0]  # below the axes: covers no bar
    renderer = fig.canvas.get_renderer()
    assert legend.get_window_extent(renderer).y1 <= ax.get_window_extent(renderer).y0


def test_score_histogram_bins_hold_equally_many_scores():
    dialogues = pd.DataFrame({"score": np.arange(0, 101), "score_branch": "sum"})
    ax = charts.score_distribution_chart(dialogues).axes[0]
    heights = [p.get_height() for p in ax.patches if p.get_height() > 0]
    assert np.allclose(heights, heights[0])  # uniform scores: a flat histogram, last bin too


def test_hexbin_limits_statistics_and_median_line(synthetic_corpus, high):
    row = pd.Series({"r": 0.4, "ci_low": 0.3, "ci_high": 0.5, "n": 60})
    features = measures.session_features(high)
    fig = feature_charts.hexbin_chart(features, "client_chars", row)
    ax = fig.axes[0]
    scores = high.dialogues["score"]
    assert ax.get_ylim() == score_limits(scores) and scores.min() > 60
    fig.draw_without_rendering()
    assert _outside_axes(ax.texts[0], ax) and _outside_axes(ax.get_legend(), ax)
    (line,) = ax.lines
    assert to_rgb(line.get_color()) == (0.0, 0.0, 0.0)  # darker than every hexagon
    strokes = line.get_path_effects()
    assert strokes and to_rgb(strokes[0]._gc["foreground"]) == (1.0, 1.0, 1.0)
    full = feature_charts.hexbin_chart(
        measures.session_features(synthetic_corpus), "client_chars", row
    )
    assert full.axes[0].get_ylim() == (-2.0, 102.0)


def test_experience_chart_counts_under_ticks_and_drops_empty_bins(synthetic_corpus):
    bins = experience_effects.experience_bins(synthetic_corpus.dialogues, n_bootstrap=20)
    ax = charts.experience_chart(bins).axes[0]
    assert len(ax.texts) == 0
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert 0 < len(ticks) == (bins["sessions"] > 0).sum() < len(bins)
    assert ticks[0] == f"{bins.index[0]}\n({bins['sessions'].iloc[0]:,})"


def test_topic_score_axis_follows_the_subset(high):
    table = topics.score_by_topic(high.dialogues)
    ax = topic_charts.score_by_topic_chart(high.dialogues, table).axes[0]
    assert ax.get_xlim() == score_limits(high.dialogues["score"])
    assert ax.get_xlim()[0] > 60


def test_score_histogram_ticks_are_round_numbers(synthetic_corpus):
    ax = charts.score_distribution_chart(synthetic_corpus.dialogues).axes[0]
    ticks = [t for t in ax.get_xticks() if 0 <= t <= 100]
    assert ticks == [0, 20, 40, 60, 80, 100]


def test_scree_within_a_decade_prints_no_tiny_exponents(tmp_path):
    from kokoro_analysis.charts.style import save_figure

    eigen = pd.DataFrame(
        {
            "eigenvalue": np.linspace(7.4, 0.32, 20),
            "null_q95": np.linspace(1.2, 0.88, 20),
            "share_pct": np.linspace(36.8, 1.6, 20),
        },
        index=pd.RangeIndex(1, 21, name="component"),
    )
    fig = structure_charts.scree_chart(eigen)
    save_figure(fig, "scree", tmp_path)  # refuses text under 6 pt (the 10^-1 exponents were 4.9 pt)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_text()]
    assert "1" in labels and not any("$" in label for label in labels)


@pytest.fixture(scope="module")
def test_pool(synthetic_corpus):
    return synthetic_corpus.subset("test")


def test_item_charts_of_a_top_scored_subset_leave_no_wide_empty_band(test_pool):
    from kokoro_analysis.analyses.feedback import scores as feedback

    ax = charts.item_distribution_chart(feedback.item_distribution(test_pool.dialogues)).axes[0]
    left, right = ax.get_xlim()
    assert -10 <= left < 0 < right <= 100  # answers 0–2 are rare: no 25 % band on the left
    assert all(not t.get_text().startswith(("-", "\u2212")) for t in ax.get_xticklabels())
    table = feedback.item_statistics(test_pool.dialogues)
    table.loc[table.index[0], "r_item_rest"] = -0.3
    right_panel = charts.item_statistics_chart(table).axes[1]
    assert right_panel.get_xlim()[0] <= -0.3  # a negative correlation stays on the axis


def test_scree_statistic_sits_above_the_axes():
    eigen = pd.DataFrame(
        {
            "eigenvalue": np.linspace(1.1, 0.3, 20),
            "null_q95": np.linspace(2.1, 0.3, 20),
            "share_pct": np.linspace(5.5, 1.0, 20),
        },
        index=pd.RangeIndex(1, 21, name="component"),
    )
    fig = structure_charts.scree_chart(eigen)
    fig.draw_without_rendering()
    (note,) = fig.axes[0].texts
    assert note.get_text() == "PC1: 5.5% of variance" and _outside_axes(note, fig.axes[0])
