"""Unit tests of kokoro_analysis.analyses.feedback.scores (hand-computed answers) and of the figures of
the feedback analyses (every glyph rendered)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kokoro_analysis import load_corpus
from kokoro_analysis.analyses.feedback import (
    experience_effects,
    item_structure,
    score_features,
    scores,
    uncertainty,
)
from kokoro_analysis.analyses.feedback import scores as feedback
from kokoro_analysis.corpus import measures, schema
from kokoro_analysis.corpus.loading import Corpus
from kokoro_analysis.corpus.validation import ValidationReport
from kokoro_analysis.stats.ordinal import polychoric_matrix, standardized_alpha
from kokoro_analysis.stats.resampling import (
    bootstrap_counts,
    cluster_bootstrap_counts,
    percentile_interval,
)
from kokoro_analysis.text.tokens import Tokens


def _utterances(rows: list[tuple[int, str, int, str]]) -> pd.DataFrame:
    """(dialogue_id, role, seconds after 2021-01-01 10:00, text) → an utterances table like the loader's."""
    frame = pd.DataFrame(rows, columns=["dialogue_id", "role", "seconds", "text"])
    frame["position"] = frame.groupby("dialogue_id").cumcount().astype(np.int32)
    frame["role"] = pd.Categorical(frame["role"], categories=schema.ROLES)
    frame["time"] = pd.Timestamp("2021-01-01 10:00") + pd.to_timedelta(
        frame.pop("seconds"), unit="s"
    )
    frame["length"] = frame["text"].str.len().astype(np.int32)
    return frame[["dialogue_id", "position", "role", "time", "text", "length"]]


def _dialogues(ids, scores, **columns) -> pd.DataFrame:
    """A dialogues table; given all items (and flags), with the loader's ``item_sum`` (and ``score_branch``)."""
    frame = pd.DataFrame({"score": scores, **columns}, index=pd.Index(ids, name="dialogue_id"))
    if set(schema.ITEM_KEYS) <= set(frame):
        frame["item_sum"] = frame[list(schema.ITEM_KEYS)].sum(axis=1)
    if set(schema.FLAG_KEYS) <= set(frame):
        frame["score_branch"] = schema.score_rule_branch(
            *frame[list(schema.FLAG_KEYS)].to_numpy(dtype=bool).T
        )
    return frame


def _corpus(dialogues: pd.DataFrame, utterances: pd.DataFrame) -> Corpus:
    return Corpus(dialogues, utterances, ValidationReport(source="test"))


def _tokens(rows: list[tuple[int, str, str, str, str]]) -> Tokens:
    frame = pd.DataFrame(rows, columns=["utterance", "surface", "pos", "pos2", "lemma"])
    for column in ("surface", "pos", "pos2", "lemma"):
        frame[column] = frame[column].astype("category")
    return Tokens(frame)


def test_score_summary_hand_values():
    summary = feedback.score_summary(pd.Series([10, 20, 30, 40, 100]))["value"]
    assert summary["n"] == 5
    assert summary["mean"] == pytest.approx(40)
    assert summary["median"] == 30
    assert summary["sd"] == pytest.approx(np.sqrt(((-30) ** 2 + 20**2 + 10**2 + 0 + 60**2) / 4))
    assert summary["p25"] == 20 and summary["p75"] == 40
    assert summary["skewness"] == pytest.approx(stats.skew([10, 20, 30, 40, 100], bias=False))


def test_score_rule_table_counts_branches_and_plain_sum_errors():
    items = {key: [5, 4, 1, 0] for key in schema.ITEM_KEYS}  # item sums 100, 80, 20, 0
    dialogues = _dialogues(
        [1, 2, 3, 4],
        [100, 40, 0, 0],
        **items,
        harmful_due_to_ignorance=[False, False, True, False],
        other_potentially_unethical=[False, False, False, False],
        unwilling_to_continue=[False, True, False, True],
    )
    table = feedback.score_rule_table(dialogues)
    assert table.loc["sum", "sessions"] == 1
    assert table.loc["halved", "sessions"] == 2
    assert table.loc["zeroed", "sessions"] == 1
    # session 4 is halved but 0 // 2 == 0: the plain sum happens to be right
    assert table.loc["all", "plain_sum_wrong"] == 2
    assert table.loc["all", "rule_holds"] == 4


def test_cronbach_alpha_hand_example():
    items = np.array([[1, 2, 3], [2, 2, 4], [3, 4, 4], [4, 5, 5]])
    # item variances 5/3, 9/4, 2/3 (sum 55/12); variance of the sums [6, 8, 11, 14] is 49/4
    # alpha = 3/2 * (1 - (55/12) / (49/4)) = 46/49
    assert feedback.cronbach_alpha(items) == pytest.approx(46 / 49)


def test_cronbach_alpha_edge_cases():
    assert feedback.cronbach_alpha(np.array([[1, 1], [2, 2], [3, 3]])) == pytest.approx(1.0)
    assert np.isnan(feedback.cronbach_alpha(np.ones((4, 3))))
    assert np.isnan(feedback.cronbach_alpha(np.arange(5).reshape(5, 1)))
    with pytest.raises(ValueError):
        feedback.cronbach_alpha(np.arange(5))


def test_bootstrapped_alpha_equals_alpha_of_the_resample():
    rng = np.random.default_rng(3)
    matrix = rng.integers(0, 6, size=(40, 4)).astype(float)
    counts = bootstrap_counts(40, 5, seed=1)
    boot = feedback._weighted_alpha(matrix, counts)
    for row, value in zip(counts, boot):
        assert value == pytest.approx(feedback.cronbach_alpha(np.repeat(matrix, row, axis=0)))


def test_item_statistics_corrected_item_total():
    rng = np.random.default_rng(0)
    answers = rng.integers(0, 6, size=(30, 20))
    dialogues = pd.DataFrame(answers, columns=list(schema.ITEM_KEYS))
    table = feedback.item_statistics(dialogues, "pearson")
    rest = answers.sum(axis=1) - answers[:, 0]
    assert table.iloc[0]["r_item_rest"] == pytest.approx(np.corrcoef(answers[:, 0], rest)[0, 1])
    spearman = feedback.item_statistics(dialogues, "spearman")
    assert spearman.iloc[0]["r_item_rest"] == pytest.approx(stats.spearmanr(answers[:, 0], rest)[0])
    assert table.iloc[0]["alpha_if_deleted"] == pytest.approx(
        feedback.cronbach_alpha(answers[:, 1:])
    )
    assert table.iloc[3]["mean"] == pytest.approx(answers[:, 3].mean())
    with pytest.raises(ValueError, match="spearman"):
        feedback.item_statistics(dialogues, "kendall")


def test_flag_table_counts():
    items = {key: [3, 2, 1] for key in schema.ITEM_KEYS}
    topics = ["School Issues", "School Issues", "Workplace Issues"]
    dialogues = _dialogues(
        [1, 2, 3],
        [60, 20, 0],
        **items,
        topic_main_en=topics,
        harmful_due_to_ignorance=[False, False, True],
        other_potentially_unethical=[False] * 3,
        unwilling_to_continue=[False, True, True],
    )
    table = feedback.flag_table(dialogues)
    assert table.loc["unwilling_to_continue", "sessions"] == 2
    assert table.loc["unwilling_to_continue", "with_other_flag"] == 1
    assert table.loc["harmful_due_to_ignorance", "mean_item_sum"] == 20
    assert table.loc["unwilling_to_continue", "label_ja"] == "離脱"
    topics = feedback.flag_topics(dialogues)
    assert topics.loc["School Issues", "unwilling_to_continue"] == 1


@pytest.fixture(scope="module")
def synthetic_corpus(synthetic_dir):

    return load_corpus(synthetic_dir)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_figures_render_every_glyph(synthetic_corpus, lang):
    import matplotlib.pyplot as plt

    from kokoro_analysis.charts import feedback as charts
    from kokoro_analysis.charts import item_structure as structure_charts
    from kokoro_analysis.charts import score_features as feature_charts
    from kokoro_analysis.charts.fonts import check_japanese_glyphs
    from kokoro_analysis.charts.style import apply_paper_style

    plt.close("all")  # figures left open by earlier tests
    apply_paper_style()
    corpus = synthetic_corpus
    dialogues = corpus.dialogues
    features = measures.session_features(corpus)
    correlations = score_features.feature_correlations(
        features, n_bootstrap=20, clusters=uncertainty.cluster_labels(dialogues)
    )
    corr = item_structure.item_correlations(dialogues)
    _, link = item_structure.cluster_order(corr)
    keywords = pd.DataFrame(
        {
            "direction": ["high", "low"],
            "rank": [1, 1],
            "lemma": ["迚も", "学校"],
            "surface": ["とても", "学校"],
            "z": [3.0, -2.5],
        }
    )
    figures = [
        charts.score_distribution_chart(dialogues, lang=lang),
        charts.item_distribution_chart(feedback.item_distribution(dialogues), lang=lang),
        charts.item_statistics_chart(feedback.item_statistics(dialogues), lang=lang),
        structure_charts.scree_chart(item_structure.eigen_table(dialogues, n_iter=10), lang=lang),
        structure_charts.loadings_chart(item_structure.loadings_table(dialogues), lang=lang),
        structure_charts.item_correlation_chart(corr, link, corpus.items, lang=lang),
        feature_charts.hexbin_chart(
            features, "client_chars", correlations.loc["client_chars"], lang=lang
        ),
        feature_charts.feature_correlation_chart(correlations, lang=lang),
        charts.experience_chart(experience_effects.experience_bins(dialogues), lang=lang),
        charts.keyness_chart(keywords, lang=lang),
    ]
    for fig in figures:
        assert check_japanese_glyphs(fig) == []
        assert fig.get_size_inches()[0] in (pytest.approx(3.0), pytest.approx(6.3))
        plt.close(fig)


@pytest.mark.realdata
def test_real_score_distribution_and_rule(real_corpus):
    dialogues = real_corpus.dialogues
    summary = feedback.score_summary(dialogues["score"])["value"]
    assert round(summary["mean"], 2) == 63.58
    assert summary["median"] == 64
    rule = feedback.score_rule_table(dialogues)
    assert rule["sessions"].to_dict() == {"sum": 6374, "halved": 203, "zeroed": 12, "all": 6589}
    assert rule.loc["all", "plain_sum_wrong"] == 215
    assert rule.loc["all", "rule_holds"] == 6589


def test_alpha_table_ordinal_alpha_and_cluster_columns(corpus):
    dialogues = corpus.dialogues
    table = scores.alpha_table(
        dialogues, n_bootstrap=40, clusters=uncertainty.cluster_labels(dialogues), method="pearson"
    )
    items = schema.item_matrix(dialogues, dtype=float)
    assert table.loc["all", "ordinal_alpha"] == pytest.approx(
        standardized_alpha(polychoric_matrix(items))
    )
    off = np.corrcoef(items, rowvar=False)[np.triu_indices(20, 1)]
    assert table.loc["all", "mean_inter_item_r"] == pytest.approx(off.mean())
    assert {"ci_low_two_way", "ci_low_rater", "ci_high_counselor"} <= set(table.columns)
    caption = scores.ALPHA.caption(table)
    assert "over 40 resamples of raters and, independently, counselors" in caption
    assert "polychoric" not in caption


def test_item_statistics_cluster_interval_of_the_mean(corpus):
    dialogues = corpus.dialogues
    clusters = uncertainty.cluster_labels(dialogues)
    table = scores.item_statistics(dialogues, clusters=clusters, n_bootstrap=200, seed=4)
    weights = cluster_bootstrap_counts(dialogues["client_id"], 200, 4).astype(float)
    first = dialogues[schema.ITEM_KEYS[0]].to_numpy(dtype=float)
    means = weights @ first / weights.sum(axis=1)
    low, high = percentile_interval(means)
    row = table.loc[schema.ITEM_KEYS[0]]
    assert (row["ci_low_rater"], row["ci_high_rater"]) == pytest.approx((low, high))
    assert "200 resamples of raters and, independently" in scores.ITEM_STATISTICS.caption(table)
    unclustered = scores.item_statistics(dialogues, n_bootstrap=200)
    assert "Student-t" in scores.ITEM_STATISTICS.caption(unclustered)
