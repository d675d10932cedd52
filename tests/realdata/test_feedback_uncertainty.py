"""Clustered uncertainty, estimators and tiers on the real release (skipped unless KOKOROCHAT_DATA is
set): the values issue 14 reports from independent checks."""

from __future__ import annotations

import pytest

from kokoro_analysis.analyses.feedback import (
    experience_effects,
    raters,
    score_subsets,
    uncertainty,
)
from kokoro_analysis.corpus import measures
from kokoro_analysis.stats.correlation import (
    bootstrap_correlation,
    partial_correlation,
    within_cluster_correlation,
)
from kokoro_analysis.stats.fixed_effects import (
    within_cluster_regression,
    within_correlation_definitions,
)


def test_rater_bootstrap_widens_the_client_characters_interval(real_corpus):
    dialogues = real_corpus.dialogues
    features = measures.session_features(real_corpus)
    x, y = features["client_chars"], features["score"]
    sessions = bootstrap_correlation(x, y, n_bootstrap=300)
    by_rater = bootstrap_correlation(x, y, n_bootstrap=300, clusters=dialogues["client_id"])
    assert (sessions["ci_low"], sessions["ci_high"]) == pytest.approx((0.400, 0.442), abs=0.01)
    assert (by_rater["ci_low"], by_rater["ci_high"]) == pytest.approx((0.34, 0.50), abs=0.02)
    within = {
        column: within_cluster_correlation(features[column], y, dialogues["client_id"])
        for column in ("client_chars", "counselor_response_time_s")
    }
    assert within == pytest.approx(
        {"client_chars": 0.38, "counselor_response_time_s": -0.20}, abs=0.005
    )


def test_experience_df_icc_estimators_and_tiers(real_corpus):
    dialogues = real_corpus.dialogues
    fit = within_cluster_regression(
        experience_effects.counselor_experience(dialogues),
        dialogues["score"],
        dialogues["counselor_id"],
    )
    assert fit["df"] == 6525 - 360 - 1
    assert fit["p_value"] == pytest.approx(0.054, abs=0.001)
    icc = raters.icc_table(dialogues)
    assert icc.loc["client_id", "icc"] == pytest.approx(0.339, abs=0.001)
    assert icc.loc["client_id", "icc_reml"] == pytest.approx(0.298, abs=0.001)
    assert raters.icc_table(dialogues, "item_sum").loc["client_id", "icc"] == pytest.approx(
        0.332, abs=0.001
    )
    assert score_subsets.tier_cutoffs(dialogues["score"]) == {33.0: 55.0, 67.0: 74.0}


def test_crossed_inference_on_the_release(real_corpus):
    """The values issue 19 measured independently: the two-way interval, the clustered experience test,
    the rater-bootstrap ICC interval, the sensitivity rows and the person-disjoint split."""
    from kokoro_analysis.finetune.data import person_disjoint_split

    dialogues = real_corpus.dialogues
    features = measures.session_features(real_corpus)
    x, y = features["client_chars"], features["score"]
    two_way = bootstrap_correlation(
        x, y, n_bootstrap=300, clusters=uncertainty.two_way_clusters(dialogues)
    )
    assert (two_way["ci_low"], two_way["ci_high"]) == pytest.approx((0.325, 0.511), abs=0.02)
    tests = experience_effects.experience_test(dialogues)
    assert tests["se"].iloc[0] == pytest.approx(0.0255, abs=0.0002)
    assert tests["p_value"].iloc[:2].tolist() == pytest.approx([0.222, 0.239], abs=0.002)
    assert tests["slope"].iloc[2] == pytest.approx(-0.010, abs=0.001)
    icc = raters.icc_table(dialogues, n_bootstrap=300).loc["client_id"]
    assert icc["ci_low_f"] > icc["icc_reml"]  # the F-based interval excludes the REML estimate
    assert icc["ci_low"] < icc["icc_reml"] < icc["ci_high"]
    definitions = within_correlation_definitions(
        x, y, dialogues["client_id"], dialogues["counselor_id"]
    )
    assert definitions == pytest.approx(
        {"rank_then_centre": 0.380, "rank_within": 0.351, "both_removed": 0.323}, abs=0.001
    )
    assert partial_correlation(x, y, features["n_messages"]) == pytest.approx(0.378, abs=0.001)
    influence = raters.rater_influence(dialogues, features, top=1)
    assert influence.index[1] == "125" and influence["r_without"].iloc[1] == pytest.approx(
        0.382, abs=0.001
    )
    split = person_disjoint_split(dialogues)
    test, train = dialogues[split == "test"], dialogues[split == "train"]
    test_people = set(test["client_id"].astype(str)) | set(test["counselor_id"].astype(str))
    train_people = set(train["client_id"].astype(str)) | set(train["counselor_id"].astype(str))
    assert len(test) >= 0.2 * len(dialogues) and not test_people & train_people
