"""Unit tests of kokoro_analysis.analyses.feedback.score_features (hand-computed answers, clustered
intervals); real-data check of the reported correlations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis import published
from kokoro_analysis.analyses.feedback import (
    score_features,
    uncertainty,
)
from kokoro_analysis.corpus import measures
from kokoro_analysis.stats.correlation import (
    bootstrap_correlation,
    within_cluster_correlation,
)
from kokoro_analysis.stats.p_values import adjust_p_values


@pytest.mark.realdata
def test_real_reported_correlations(real_corpus):
    features = measures.session_features(real_corpus)
    reported = score_features.reported_spearman(features)
    assert round(reported["feedback.spearman_client_chars_score"], 2) == 0.42
    assert round(reported["feedback.spearman_counselor_response_time_score"], 2) == -0.21
    assert features["counselor_response_time_s"].notna().all()


@pytest.mark.parametrize("method", ["spearman", "pearson"])
def test_feature_correlations_equal_separate_bootstraps(method):
    import pandas as pd

    rng = np.random.default_rng(5)
    score = rng.integers(0, 101, 50).astype(float)
    features = pd.DataFrame(
        {
            "score": score,
            "client_chars": score + rng.normal(0, 30, 50),
            "n_messages": rng.integers(5, 9, 50).astype(float),
            "counselor_response_time_s": rng.normal(60, 10, 50),
        }
    )
    features.loc[:4, "counselor_response_time_s"] = (
        np.nan
    )  # another sample size: other counts, own ranks
    table = score_features.feature_correlations(features, method=method, n_bootstrap=300, seed=3)
    for column in table.index:
        alone = bootstrap_correlation(
            features[column], features["score"], method=method, n_bootstrap=300, seed=3
        )
        keys = ["n", "r", "ci_low", "ci_high", "n_bootstrap"]
        assert table.loc[column, keys].to_dict() == {k: alone[k] for k in keys}


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
    features = measures.session_features(corpus)
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
    features = measures.session_features(corpus)
    clusters = uncertainty.cluster_labels(corpus.dialogues)
    table = score_features.feature_correlations(features, n_bootstrap=40, clusters=clusters)
    assert (table["p_adjusted"] >= table["p_two_way"]).all()
    expected = adjust_p_values(table["p_two_way"], "holm")
    assert table["p_adjusted"].to_numpy() == pytest.approx(expected, nan_ok=True)
    reported = table.loc[list(score_features.REPORTED_FEATURES)]
    assert reported[["bca_low", "bca_high"]].notna().all().all()
    assert table.drop(index=reported.index)["bca_low"].isna().all()


def test_correlation_sensitivity_rows(corpus):
    features = measures.session_features(corpus)
    table = score_features.correlation_sensitivity(features, corpus.dialogues, n_bootstrap=30)
    rows = table[table["feature"] == "client_chars"].set_index("variant")
    assert list(rows.index) == list(score_features.SENSITIVITY_ROWS)
    assert rows.loc["all sessions", "r"] == pytest.approx(
        features[["client_chars", "score"]].corr("spearman").iloc[0, 1]
    )
    assert rows.loc["within rater (rank within rater)", ["ci_low"]].isna().all()
    assert rows["headline"].sum() == 2
