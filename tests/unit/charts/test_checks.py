"""The checks save_figure runs on every figure (kokoro_analysis.charts.checks): each refuses the
defect it names, as the figures of issue 23 had it, and passes the mended figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from kokoro_analysis.charts import corpus as corpus_charts
from kokoro_analysis.charts import feedback as charts
from kokoro_analysis.charts import item_structure as structure_charts
from kokoro_analysis.charts import score_features as feature_charts
from kokoro_analysis.charts import topics as topic_charts
from kokoro_analysis.charts.style import new_figure, paper_style, save_figure


@pytest.fixture(autouse=True)
def _paper_style():
    with paper_style():
        yield
    plt.close("all")


def _refused(fig, tmp_path, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        save_figure(fig, "checked", tmp_path)
    assert not (tmp_path / "figures" / "checked.pdf").exists()


# --------------------------------------------------------------------------- legends


def test_a_legend_entry_for_an_empty_series_is_refused(tmp_path):
    fig, ax = new_figure("column")
    # the High subset's histogram: no session changed by a flag, yet a legend entry for them
    ax.hist([np.array([70.0, 75, 80]), np.array([])], bins=3, stacked=True,
            color=["#a6bddb", "#cc4c02"], label=["Item sum", "Changed by a flag"])  # fmt: skip
    ax.legend()
    _refused(fig, tmp_path, "'Changed by a flag' stands for nothing the figure draws")


def test_legend_entries_drawn_alike_or_listed_twice_are_refused(tmp_path):
    fig, ax = new_figure("column")
    ax.plot([1, 10], [1, 10], color="#222222", label="All")
    ax.plot([], [], color="black", label="surface forms")  # a style key identical to "All"
    ax.legend()
    _refused(fig, tmp_path, "'All' and 'surface forms' are drawn alike")
    fig, ax = new_figure("column")
    ax.plot([1, 2], [1, 2], color="C0", label="Counselor")
    ax.plot([1, 2], [2, 1], color="C1", label="Counselor")
    ax.legend()
    _refused(fig, tmp_path, "legend lists 'Counselor' twice")


def test_a_grey_line_style_key_stands_for_the_lines_drawn_in_that_style(tmp_path):
    fig, ax = new_figure("column")
    ax.plot([1, 2], [1, 2], color="C0", linestyle="--")
    ax.plot([], [], color="C0", linestyle="none", marker="o", label="Counselor")
    ax.plot([], [], color="0.45", linestyle="--", label="Lemmas")
    ax.plot([1, 2], [2, 1], color="C0", linestyle="-", marker="o")
    ax.legend()
    save_figure(fig, "keys", tmp_path)


# --------------------------------------------------------------------------- overlapping texts


def test_texts_whose_boxes_overlap_are_refused(tmp_path):
    fig, ax = new_figure("column", 1.0)
    # wrapped labels on rows too close for two lines (the feature-correlation labels touched)
    labels = ["Client response\ntime", "Counselor question\nrate", "Counselor response\ntime"]
    ax.set_yticks(range(6), labels * 2, fontsize=6.5)
    _refused(fig, tmp_path, "overlaps text")


def test_an_annotation_on_another_is_refused_but_neighbours_pass(tmp_path):
    fig, ax = new_figure("column")
    ax.text(0.5, 0.5, "Mean 63.58")
    ax.text(0.52, 0.5, "Median 64")
    _refused(fig, tmp_path, "text 'Mean 63.58' overlaps text 'Median 64'")
    fig, ax = new_figure("column")
    ax.text(0.1, 0.5, "Mean 63.58")
    ax.text(0.6, 0.5, "Median 64")
    save_figure(fig, "apart", tmp_path)


def test_a_line_through_an_annotation_is_refused(tmp_path):
    fig, ax = new_figure("column")
    ax.set_xlim(-40, 80)
    ax.axvline(0, color="black")  # the zero line through a block heading (issue 23)
    ax.text(0, 0.5, "Overall impression of the conversation", transform=ax.get_yaxis_transform())
    _refused(fig, tmp_path, "a line of the plot runs through text 'Overall impression")
    fig, ax = new_figure("column")
    ax.set_xlim(-40, 80)
    ax.axvline(0, color="black")
    ax.text(0, 0.5, "On a white ground", transform=ax.get_yaxis_transform(),
            bbox={"facecolor": "white", "edgecolor": "none"})  # fmt: skip
    ax.text(10, 0.2, "Beside the line")
    save_figure(fig, "beside", tmp_path)


# --------------------------------------------------------------------------- stray spaces


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Correlation (ρ)", "draws 'ρ' full-width among Latin letters"),  # IPAexGothic's ρ
        ("ρ = 0.42", "draws 'ρ' full-width"),
        ("r  = 0.42", "a doubled space"),
        ("Correlation ( r )", "a space after an opening bracket"),
        ("Correlation (r )", "a space before a closing bracket"),
        ("0.40 , 0.44", "a space before a comma"),
    ],
)
def test_stray_spaces_around_symbols_are_refused(tmp_path, text, problem):
    fig, ax = new_figure("column")
    ax.set_xlabel(text)
    _refused(fig, tmp_path, problem)


@pytest.mark.parametrize(
    "text",
    [r"Correlation ($\rho$)", r"$\rho$ = 0.42 [0.40, 0.44]", "評価点との相関（ρ）", "   Indented"],
)
def test_symbols_set_right_pass(tmp_path, text):
    fig, ax = new_figure("column")
    ax.set_xlabel(text)
    save_figure(fig, "symbols", tmp_path)


# --------------------------------------------------------------------------- the mended figures


def _correlations(labels: list[str]) -> pd.DataFrame:
    r = np.linspace(-0.2, 0.4, len(labels))
    return pd.DataFrame(
        {
            "r": r, "ci_low": r - 0.02, "ci_high": r + 0.02, "ci_low_rater": r - 0.08,
            "ci_high_rater": r + 0.08, "label_en": labels, "label_ja": labels,
            "reported_key": ["x"] + [""] * (len(labels) - 1),
        }
    )  # fmt: skip


def test_feature_correlations_wrap_without_a_lone_word_and_explain_the_intervals(tmp_path):
    labels = ["Client characters (total)", "Client response time (s)", "Messages",
              "Counselor question rate (ends with ?)", "Counselor response time (s)"]  # fmt: skip
    fig = feature_charts.feature_correlation_chart(_correlations(labels))
    save_figure(fig, "features", tmp_path)  # no overlapping labels
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert "Counselor question\nrate (ends with ?)" in ticks and not any(
        len(line) < 6 for t in ticks for line in t.rstrip(" *").split("\n")
    )
    assert ax.get_xlabel() == r"Correlation with score ($\rho$)"  # notes go to the caption
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["95% CI, raters resampled", "95% CI, sessions resampled"]


def _dialogues(scores, branches=None) -> pd.DataFrame:
    scores = np.asarray(scores, dtype=float)
    return pd.DataFrame({"score": scores, "score_branch": branches or ["sum"] * len(scores)})


def test_score_histogram_lists_only_what_it_draws(tmp_path):
    rng = np.random.default_rng(0)
    high = _dialogues(rng.integers(70, 99, 400))  # no session changed by a flag
    fig = charts.score_distribution_chart(high)
    save_figure(fig, "high", tmp_path)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "Changed by a flag" not in labels
    # one band holding scores (High) is named by the scope note, not by a label on the median line
    assert len(fig.axes[0].texts) == 0
    (_center,) = [line for line in fig.axes[0].lines if line.get_linestyle() == ":"]
    assert labels[-1].startswith("Median") and "(mean " in labels[-1]  # mean = median: one line
    spread = _dialogues([10] * 50 + [90] * 20 + list(range(100)))
    labels = [t.get_text() for t in charts.score_distribution_chart(spread).legends[0].get_texts()]
    assert any(label.startswith("Mean") for label in labels)  # apart: two lines


def test_score_density_holds_its_level_at_a_cut_off_end():
    uniform = _dialogues(np.repeat(np.arange(70, 99), 20))
    ax = charts.score_distribution_chart(uniform).axes[0]
    (kde,) = [line for line in ax.lines if line.get_label() == "KDE"]
    density = kde.get_ydata()
    middle = density[len(density) // 2]
    assert min(density[0], density[-1]) > 0.8 * middle  # a plain KDE halves at 70 and at 98
    assert kde.get_xdata()[-1] == 98.5  # the subset's end, not the axis' (100)


def test_item_heatmap_has_no_empty_row_or_column():
    rng = np.random.default_rng(1)
    keys = [f"q{i}" for i in range(1, 6)]
    values = pd.DataFrame(rng.integers(0, 6, (50, 5)), columns=keys).corr()
    from scipy.cluster import hierarchy

    link = hierarchy.linkage(1 - values.to_numpy()[np.triu_indices(5, 1)], "average")
    items = pd.DataFrame(
        {"number": range(1, 6), "label_en": list("ABCDE"), "label_ja": list("ABCDE")}, index=keys
    )
    fig = structure_charts.item_correlation_chart(values, link, items)
    matrix = fig.axes[1].get_images()[0].get_array()
    assert matrix.shape == (4, 4)
    assert all(np.isfinite(matrix[i, :]).any() for i in range(4))  # first row no longer empty
    assert all(np.isfinite(matrix[:, j]).any() for j in range(4))  # nor the last column


def test_hexbin_colour_bar_is_labelled_at_its_top_end():
    assert feature_charts._count_ticks(44) == [1, 2, 5, 10, 20, 44]
    assert feature_charts._count_ticks(22) == [1, 2, 5, 10, 22]  # 20 would crowd 22
    assert feature_charts._count_ticks(50) == [1, 2, 5, 10, 20, 50]


def test_topic_levels_name_the_levels_and_print_small_shares(tmp_path):
    shares = pd.DataFrame(
        {"main_en": ["Workplace Issues", "Physical Health Issues"], "share_pct": [17.0, 0.7]}
    )
    subtopics = pd.DataFrame(
        {
            "main_en": ["Workplace Issues", "Physical Health Issues"],
            "subtopic_en": ["Hierarchy", "Post-COVID Symptoms"],
            "subtopic_ja": ["上下関係", "コロナ後遺症"],
            "sessions": [290, 2],
            "share_pct": [4.4, 0.03],
        }
    )
    fig = topic_charts.topic_levels_chart(shares, subtopics)
    save_figure(fig, "levels", tmp_path)
    texts = [t.get_text().strip() for ax in fig.axes for t in ax.texts]
    assert "<0.1" in texts and "0.0" not in texts
    legend = [t.get_text() for t in fig.axes[-1].get_legend().get_texts()]
    assert legend == ["Main topic", "Sub-topic (keyword rules)"]


def test_topic_words_panels_each_show_their_own_data():
    words = pd.DataFrame(
        {
            "main_en": ["School Issues"] * 2 + ["Financial Issues"] * 2,
            "rank": [1, 2, 1, 2],
            "lemma": ["学校", "先生", "金", "借金"],
            "z": [35.0, 20.0, 6.0, 5.0],
        }
    )
    fig = topic_charts.distinguishing_words_chart(words, lang="ja", ncols=2)
    school, money = fig.axes[:2]
    assert school.get_xlim()[1] > 35 and money.get_xlim()[1] < 10  # not one shared scale


def test_role_lines_differ_in_pattern_and_type_token_keys_are_unique(tmp_path):
    values = {"total": np.arange(1, 200), "counselor": np.arange(1, 100), "client": np.arange(50)}
    fig = corpus_charts.distribution_chart(values, ("長さ", "Length"))
    patterns = {str(patch.get_linestyle()) for patch in fig.axes[0].patches}
    assert len(patterns) == 3  # distinct in greyscale, not by colour alone
    save_figure(fig, "roles", tmp_path)
    growth = pd.DataFrame(
        [(role, unit, t, t // 2 + 1) for role in ("counselor", "client", "total")
         for unit in ("surface", "lemma") for t in (1, 10, 100, 1000)],
        columns=["role", "unit", "tokens", "types"],
    )  # fmt: skip
    fig = corpus_charts.type_token_chart(growth)
    save_figure(fig, "growth", tmp_path)  # "All" and "Surface forms" no longer look alike
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["Counselor", "Client", "All", "Surface forms", "Lemmas"]


# --------------------------------------------------------------------------- capitalisation


def test_labels_in_lower_case_are_refused(tmp_path):
    fig, ax = new_figure("column")
    ax.set_xlabel("year (sessions)")  # topic_year's label, unlike every other figure
    _refused(fig, tmp_path, "label 'year \\(sessions\\)' begins in lower case")
    fig, ax = new_figure("column")
    ax.plot([1, 2], [1, 2], label="mean (95% CI)")
    ax.legend()
    _refused(fig, tmp_path, "label 'mean")
    fig, ax = new_figure("column")
    ax.set_xlabel("z (log-odds ratio)")  # a one-letter symbol may begin a label
    ax.set_ylabel("年（セッション数）")
    save_figure(fig, "symbol", tmp_path)
