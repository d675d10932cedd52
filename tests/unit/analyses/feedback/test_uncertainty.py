"""Unit tests of the clustered-uncertainty, ordinal-item, plain-sum, tier and phase additions of the
feedback analyses (small hand-made or synthetic data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis import load_corpus, published
from kokoro_analysis.analyses.feedback import (
    experience_effects,
    item_structure,
    phase_correlations,
    raters,
    score_features,
    score_subsets,
    scores,
    session_measures,
    uncertainty,
)
from kokoro_analysis.corpus import schema
from kokoro_analysis.stats.correlation import bootstrap_correlation, within_cluster_correlation
from kokoro_analysis.stats.fixed_effects import fixed_effects_slope, within_cluster_regression
from kokoro_analysis.stats.icc import icc_oneway_reml
from kokoro_analysis.stats.ordinal import polychoric_matrix, standardized_alpha
from kokoro_analysis.stats.p_values import adjust_p_values
from kokoro_analysis.stats.resampling import cluster_bootstrap_counts, percentile_interval

from .test_scores import _corpus, _dialogues, _utterances


@pytest.fixture(scope="module")
def corpus(synthetic_dir):
    return load_corpus(synthetic_dir)


def test_score_tiers_cut_at_percentiles_and_cutoff_goes_up():
    scores_ = pd.Series([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], dtype=float)
    tiers = score_subsets.score_tiers(scores_)
    cuts = np.percentile(scores_, [33, 67])
    cutoffs = score_subsets.tier_cutoffs(scores_)
    assert cutoffs == {33.0: pytest.approx(cuts[0]), 67.0: pytest.approx(cuts[1])}
    assert list(tiers.astype(str)) == ["low"] * 3 + ["middle"] * 4 + ["high"] * 3
    exact = score_subsets.score_tiers(
        pd.Series([1, 2, 3, 4, 5, 6, 7]), percentiles=(50,), labels=("a", "b")
    )
    assert (
        list(exact.astype(str)) == ["a"] * 3 + ["b"] * 4
    )  # the cut-off (4) belongs to the upper tier
    with pytest.raises(ValueError, match="labels"):
        score_subsets.score_tiers(scores_, labels=("a", "b"))


def test_message_phases_split_each_session_in_thirds():
    rows = [(1, "client" if i % 2 else "counselor", i, "x") for i in range(9)]
    rows += [(2, "client" if i % 2 else "counselor", i, "y") for i in range(4)]
    phases = session_measures.message_phases(_utterances(rows))
    assert list(phases[:9].astype(str)) == ["early"] * 3 + ["middle"] * 3 + ["late"] * 3
    assert list(phases[9:].astype(str)) == ["early", "early", "middle", "late"]


def test_phase_features_count_each_phase_and_response_phase():
    # session 1: six messages, two per phase; counselor messages end with ？ in the early phase only
    rows = [
        (1, "counselor", 0, "はい？"),
        (1, "client", 10, "abc"),
        (1, "counselor", 40, "そう"),
        (1, "client", 50, "abcdef"),
        (1, "counselor", 110, "ええ"),
        (1, "client", 120, "a"),
    ]
    dialogues = _dialogues([1], [50], client_id=[1], counselor_id=[1])
    table = session_measures.phase_features(_corpus(dialogues, _utterances(rows)))
    early, middle, late = (table.loc[(1, p)] for p in session_measures.PHASES)
    assert (early["client_chars"], middle["client_chars"], late["client_chars"]) == (3, 6, 1)
    assert early["counselor_question_rate"] == 1 and middle["counselor_question_rate"] == 0
    # counselor responses: at 40 s (gap 30, middle) and 110 s (gap 60, late)
    assert np.isnan(early["counselor_response_time_s"])
    assert middle["counselor_response_time_s"] == 30 and late["counselor_response_time_s"] == 60
    assert early["client_response_time_s"] == 10


def test_feature_correlations_add_cluster_intervals_equal_to_separate_calls():
    rng = np.random.default_rng(1)
    raters_ = np.repeat(np.arange(12), 5)
    score = rng.normal(60, 10, 60) + rng.normal(0, 10, 12)[raters_]
    features = pd.DataFrame({"score": score, "client_chars": score * 3 + rng.normal(0, 40, 60)})
    clusters = {"rater": pd.Series(raters_)}
    table = score_features.feature_correlations(
        features, n_bootstrap=200, seed=2, clusters=clusters
    )
    clustered = bootstrap_correlation(
        features["client_chars"], score, n_bootstrap=200, seed=2, clusters=raters_
    )
    row = table.loc["client_chars"]
    assert (row["ci_low_rater"], row["ci_high_rater"]) == (
        clustered["ci_low"],
        clustered["ci_high"],
    )
    assert row["r_within_rater"] == pytest.approx(
        within_cluster_correlation(features["client_chars"], score, raters_)
    )
    assert table.attrs["n_bootstrap"] == 200
    caption = score_features.FEATURE_CORRELATIONS.caption(table)
    assert "200 resamples of sessions" in caption  # no two-way scheme here: the session interval
    assert published.headline(table).low == "ci_low"


def test_correlation_robustness_rows(corpus):
    features = session_measures.session_features(corpus)
    clusters = uncertainty.cluster_labels(corpus.dialogues)
    persons = uncertainty.two_way_clusters(corpus.dialogues, persons=True)
    table = score_features.correlation_robustness(
        features, clusters, n_bootstrap=30, persons=persons
    )
    assert list(table["resampled"][:6]) == [
        "sessions",
        "raters and counselors",
        "raters",
        "counselors",
        "persons (both roles)",
        "raters and counselors",
    ]
    assert list(table["estimate"][:6]) == ["pooled"] * 5 + ["within rater"]
    pooled = table[table["estimate"] == "pooled"]
    assert pooled["r"].nunique() == len(score_features.REPORTED_FEATURES)


def test_feature_correlations_headline_p_values_are_holm_adjusted(corpus):
    features = session_measures.session_features(corpus)
    clusters = uncertainty.cluster_labels(corpus.dialogues)
    table = score_features.feature_correlations(features, n_bootstrap=40, clusters=clusters)
    assert (table["p_adjusted"] >= table["p_two_way"]).all()
    expected = adjust_p_values(table["p_two_way"], "holm")
    assert table["p_adjusted"].to_numpy() == pytest.approx(expected, nan_ok=True)
    reported = table.loc[list(score_features.REPORTED_FEATURES)]
    assert reported[["bca_low", "bca_high"]].notna().all().all()
    assert table.drop(index=reported.index)["bca_low"].isna().all()


def test_correlation_sensitivity_rows(corpus):
    features = session_measures.session_features(corpus)
    table = score_features.correlation_sensitivity(features, corpus.dialogues, n_bootstrap=30)
    rows = table[table["feature"] == "client_chars"].set_index("variant")
    assert list(rows.index) == list(score_features.SENSITIVITY_ROWS)
    assert rows.loc["all sessions", "r"] == pytest.approx(
        features[["client_chars", "score"]].corr("spearman").iloc[0, 1]
    )
    assert rows.loc["within rater (rank within rater)", ["ci_low"]].isna().all()
    assert rows["headline"].sum() == 2


def test_experience_test_clusters_the_standard_error():
    rng = np.random.default_rng(3)
    counselors = np.repeat(np.arange(10), 6)
    start = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.permutation(60), unit="D")
    dialogues = _dialogues(
        np.arange(60), rng.normal(60, 10, 60).round(), counselor_id=counselors,
        client_id=rng.integers(0, 8, 60), start_time=start,
    )  # fmt: skip
    table = experience_effects.experience_test(dialogues)
    first = table.iloc[0]
    assert first["headline"] and not table["headline"].iloc[1:].any()
    fit = fixed_effects_slope(
        experience_effects.counselor_experience(dialogues),
        dialogues["score"],
        [counselors],
        [counselors],
    )
    assert first["slope"] == pytest.approx(fit["slope"]) and first["df"] == 9
    plain = within_cluster_regression(
        experience_effects.counselor_experience(dialogues), dialogues["score"], counselors
    )
    assert first["slope"] == pytest.approx(plain["slope"])


def test_rater_influence_and_cluster_sizes(corpus):
    dialogues = corpus.dialogues
    features = session_measures.session_features(corpus)
    table = raters.rater_influence(dialogues, features, top=2)
    assert table.index[0] == "(all raters)" and len(table) == 3
    rater = table.index[1]
    kept = dialogues["client_id"].astype(str) != rater
    alone = features.loc[kept, ["client_chars", "score"]].dropna().corr("spearman").iloc[0, 1]
    assert table.loc[rater, "r_without"] == pytest.approx(alone)
    sizes = raters.cluster_sizes(dialogues)
    assert sizes.loc["sessions per rater", "n"] == dialogues["client_id"].nunique()


def test_icc_table_and_plain_sum_comparison(corpus):
    dialogues = corpus.dialogues
    icc = raters.icc_table(dialogues)
    expected = icc_oneway_reml(dialogues["score"], dialogues["client_id"])["icc"]
    assert icc.loc["client_id", "icc_reml"] == pytest.approx(expected)
    both = raters.rater_effects_by_outcome(dialogues)
    assert list(both.index) == ["score", "item_sum"]
    plain = raters.icc_table(dialogues, "item_sum")
    assert both.loc["item_sum", "icc_anova_rater"] == pytest.approx(plain.loc["client_id", "icc"])
    shares = both.loc[
        "score", ["crossed_share_rater", "crossed_share_counselor", "crossed_share_residual"]
    ]
    assert shares.sum() == pytest.approx(1)


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


def test_retention_comparison_has_every_correlation_type(corpus):
    table = item_structure.retention_comparison(corpus.dialogues, n_iter=3)
    assert list(table.index) == ["spearman", "pearson", "polychoric"]
    eigen = item_structure.eigen_table(corpus.dialogues, "polychoric", n_iter=3)
    assert table.loc["polychoric", "eigenvalue_1"] == pytest.approx(eigen.loc[1, "eigenvalue"])
    assert eigen["eigenvalue"].sum() == pytest.approx(20)
    with pytest.raises(ValueError):
        item_structure.parallel_analysis(np.ones((5, 3)), "kendall")


def test_score_means_cover_subsets_tiers_and_topics(corpus):
    table = score_subsets.score_means(corpus, n_bootstrap=30)
    dialogues = corpus.dialogues
    assert set(table["kind"]) == {"subset", "tier", "topic"}
    all_row = table[(table["kind"] == "subset") & (table["group"] == "all")].iloc[0]
    assert all_row["mean"] == pytest.approx(dialogues["score"].mean())
    assert all_row["raters"] == dialogues["client_id"].nunique()
    tiers = table[table["kind"] == "tier"]
    assert list(tiers["group"]) == ["low", "middle", "high"] and tiers["n"].sum() == len(dialogues)


def test_phase_correlations_and_trend_share_their_resamples(corpus):
    resamples = phase_correlations.phase_resamples(
        session_measures.phase_features(corpus), corpus.dialogues, n_bootstrap=20
    )
    table = phase_correlations.phase_correlations(resamples)
    assert len(table) == 3 * len(session_measures.PHASE_FEATURES)
    assert list(pd.unique(table["phase"])) == list(session_measures.PHASES)
    assert (table["p_adjusted"] >= table["p_boot"]).all()
    trend = phase_correlations.phase_trend(resamples).set_index("feature")
    rows = table.set_index(["phase", "feature"])
    for feature in trend.index:
        assert trend.loc[feature, "difference"] == pytest.approx(
            rows.loc[("late", feature), "r"] - rows.loc[("early", feature), "r"]
        )


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
