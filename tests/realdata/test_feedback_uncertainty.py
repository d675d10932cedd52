"""Clustered uncertainty, estimators and tiers on the real release (skipped unless KOKOROCHAT_DATA is
set): the values issue 14 reports from independent checks."""

from __future__ import annotations

import pytest

from kokoro_analysis import stats
from kokoro_analysis.analyses.feedback import raters, score_features, scores


def test_rater_bootstrap_widens_the_client_characters_interval(real_corpus):
    dialogues = real_corpus.dialogues
    features = score_features.session_features(real_corpus)
    x, y = features["client_chars"], features["score"]
    sessions = stats.bootstrap_correlation(x, y, n_bootstrap=300)
    by_rater = stats.bootstrap_correlation(x, y, n_bootstrap=300, clusters=dialogues["client_id"])
    assert (sessions["ci_low"], sessions["ci_high"]) == pytest.approx((0.400, 0.442), abs=0.01)
    assert (by_rater["ci_low"], by_rater["ci_high"]) == pytest.approx((0.34, 0.50), abs=0.02)
    within = {
        column: stats.within_cluster_correlation(features[column], y, dialogues["client_id"])
        for column in ("client_chars", "counselor_response_time_s")
    }
    assert within == pytest.approx(
        {"client_chars": 0.38, "counselor_response_time_s": -0.20}, abs=0.005
    )


def test_experience_df_icc_estimators_and_tiers(real_corpus):
    dialogues = real_corpus.dialogues
    fit = stats.within_cluster_regression(
        raters.counselor_experience(dialogues), dialogues["score"], dialogues["counselor_id"]
    )
    assert fit["df"] == 6525 - 360 - 1
    assert fit["p_value"] == pytest.approx(0.054, abs=0.001)
    icc = raters.icc_table(dialogues)
    assert icc.loc["client_id", "icc"] == pytest.approx(0.339, abs=0.001)
    assert icc.loc["client_id", "icc_reml"] == pytest.approx(0.298, abs=0.001)
    assert raters.icc_table(dialogues, "item_sum").loc["client_id", "icc"] == pytest.approx(
        0.332, abs=0.001
    )
    assert scores.tier_cutoffs(dialogues["score"]) == {33.0: 55.0, 67.0: 74.0}
