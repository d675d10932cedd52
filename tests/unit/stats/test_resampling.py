"""Unit tests of kokoro_analysis.stats.resampling: session, cluster and two-way bootstrap weights
against exact resampling distributions, BCa against scipy, the Monte Carlo error."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from kokoro_analysis.stats.correlation import (
    bootstrap_correlation,
)
from kokoro_analysis.stats.distributions import group_mean_intervals
from kokoro_analysis.stats.resampling import (
    TwoWay,
    bca_interval,
    bootstrap_counts,
    cluster_bootstrap_counts,
    percentile_interval,
    quantile_mc_se,
    resample_weights,
    two_way_bootstrap_counts,
)


def test_cluster_bootstrap_with_singleton_clusters_is_the_session_bootstrap():
    assert (cluster_bootstrap_counts(list("abcdefg"), 30, 4) == bootstrap_counts(7, 30, 4)).all()


def test_cluster_bootstrap_draws_whole_clusters():
    clusters = ["a", "a", "b", "c", "c", "c"]
    counts = cluster_bootstrap_counts(clusters, 200, 1)
    assert (counts[:, 0] == counts[:, 1]).all() and (counts[:, 3] == counts[:, 5]).all()
    draws = counts[:, [0, 2, 3]]  # one column per cluster
    assert (draws.sum(axis=1) == 3).all()


def test_cluster_bootstrap_of_duplicated_points_equals_the_bootstrap_of_the_points():
    # each cluster holds 4 copies of one (x, y) pair: resampling clusters is resampling the distinct pairs,
    # so the CI must equal the session bootstrap of the 12 distinct pairs (same draws, weights × 4)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=12), rng.normal(size=12)
    x_dup, y_dup, labels = np.repeat(x, 4), np.repeat(y, 4), np.repeat(np.arange(12), 4)
    for method in ("spearman", "pearson"):
        distinct = bootstrap_correlation(x, y, method=method, n_bootstrap=300, seed=5)
        clustered = bootstrap_correlation(
            x_dup, y_dup, method=method, n_bootstrap=300, seed=5, clusters=labels
        )
        naive = bootstrap_correlation(x_dup, y_dup, method=method, n_bootstrap=300, seed=5)
        assert clustered["r"] == pytest.approx(distinct["r"])
        assert (clustered["ci_low"], clustered["ci_high"]) == pytest.approx(
            (distinct["ci_low"], distinct["ci_high"])
        )
        assert naive["ci_high"] - naive["ci_low"] < clustered["ci_high"] - clustered["ci_low"]


def test_cluster_bootstrap_mean_matches_the_exact_resampling_distribution():
    # three clusters of two sessions with means 1, 2, 6: the 27 equally likely cluster draws give the
    # exact bootstrap distribution of the mean; its variance is Σ(m − m̄)² / G² = 14 / 9
    values = [0, 2, 1, 3, 5, 7]
    labels = ["a", "a", "b", "b", "c", "c"]
    exact = np.array([np.mean(draw) for draw in itertools.product([1, 2, 6], repeat=3)])
    assert exact.var() == pytest.approx(14 / 9)
    weights = cluster_bootstrap_counts(labels, 40_000, 0).astype(float)
    means = weights @ np.asarray(values, float) / weights.sum(axis=1)
    assert means.var() == pytest.approx(exact.var(), rel=0.03)
    values_exact, counts_exact = np.unique(np.round(exact, 9), return_counts=True)
    values_seen, counts_seen = np.unique(np.round(means, 9), return_counts=True)
    assert set(values_seen) <= set(values_exact)
    frequency = dict(zip(values_seen, counts_seen / len(means)))
    for value, count in zip(values_exact, counts_exact):
        assert frequency.get(value, 0) == pytest.approx(count / 27, abs=0.01)
    table = group_mean_intervals(values, ["g"] * 6, {"rater": labels}, n_bootstrap=40_000)
    assert table.loc["g", "raters"] == 3 and table.loc["g", "mean"] == pytest.approx(3)
    low, high = percentile_interval(means)
    assert (table.loc["g", "ci_low_rater"], table.loc["g", "ci_high_rater"]) == pytest.approx(
        (low, high)
    )


def test_resample_weights_rejects_mismatched_clusters():
    with pytest.raises(ValueError, match="cluster labels"):
        resample_weights(5, 10, 0, clusters=[1, 2])
    with pytest.raises(ValueError, match="missing"):
        cluster_bootstrap_counts([1, None, 2], 10, 0)


def test_two_way_bootstrap_with_one_singleton_factor_is_the_one_way_bootstrap():
    labels = list("aabccdeeef")
    one_way = cluster_bootstrap_counts(labels, 60, 7)
    assert (two_way_bootstrap_counts(["z"] * 10, labels, 60, 7) == one_way).all()
    assert (two_way_bootstrap_counts(labels, ["z"] * 10, 60, 7) == one_way).all()
    x = np.arange(10.0) ** 1.5
    y = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3], float)
    for method in ("spearman", "pearson"):
        two_way = bootstrap_correlation(
            x, y, method=method, n_bootstrap=60, seed=7, clusters=TwoWay(["z"] * 10, labels)
        )
        assert two_way == bootstrap_correlation(
            x, y, method=method, n_bootstrap=60, seed=7, clusters=labels
        )


def _crossed_design():
    """Two raters × three counselors, one session per pair (a complete crossed design)."""
    raters, counselors = np.repeat(["r1", "r2"], 3), np.tile(["c1", "c2", "c3"], 2)
    values = np.array([1.0, 4.0, 2.0, 6.0, 8.0, 13.0])
    return values, raters, counselors


def test_two_way_bootstrap_mean_matches_the_exact_crossed_resampling_distribution():
    # every session is one (rater, counselor) pair, so a resample's mean is Σ w_r w_c y / (2 · 3); its
    # exact distribution comes from the 2² rater draws × 3³ counselor draws, all equally likely
    values, raters, counselors = _crossed_design()
    table = values.reshape(2, 3)
    exact = np.array(
        [
            table[np.ix_(rows, cols)].mean()
            for rows in itertools.product(range(2), repeat=2)
            for cols in itertools.product(range(3), repeat=3)
        ]
    )
    weights = two_way_bootstrap_counts(raters, counselors, 40_000, 0).astype(float)
    means = weights @ values / weights.sum(axis=1)
    assert means.var() == pytest.approx(exact.var(), rel=0.03)
    values_exact, counts_exact = np.unique(np.round(exact, 9), return_counts=True)
    frequency = pd.Series(np.round(means, 9)).value_counts(normalize=True)
    assert set(frequency.index) <= set(values_exact)
    for value, count in zip(values_exact, counts_exact):
        assert frequency.get(value, 0) == pytest.approx(count / len(exact), abs=0.01)


def test_two_way_bootstrap_variance_of_an_additive_table_is_the_sum_of_the_factor_terms():
    # y = a_rater + b_counselor on a complete table: the resample mean is the mean of the drawn a plus the
    # mean of the drawn b, so its variance is s²(a)/R + s²(b)/C (population variances, ddof 0)
    a, b = np.array([0.0, 3.0, 7.0]), np.array([1.0, -2.0, 5.0, 0.0])
    raters, counselors = np.repeat(np.arange(3), 4), np.tile(np.arange(4), 3)
    values = a[raters] + b[counselors]
    weights = two_way_bootstrap_counts(raters, counselors, 40_000, 1).astype(float)
    means = weights @ values / weights.sum(axis=1)
    assert means.var() == pytest.approx(a.var() / 3 + b.var() / 4, rel=0.03)
    one_way = cluster_bootstrap_counts(raters, 40_000, 1).astype(float)
    assert (one_way @ values / one_way.sum(axis=1)).var() == pytest.approx(a.var() / 3, rel=0.03)


def test_person_level_bootstrap_draws_a_person_once_for_both_roles():
    first, second = np.array(["p", "q", "r", "p"]), np.array(["q", "p", "p", "r"])
    weights = two_way_bootstrap_counts(first, second, 500, 3, persons=True)
    assert (weights[:, 0] == weights[:, 1]).all()  # (p, q) and (q, p): the same two people
    assert (weights[:, 2] == weights[:, 3]).all()
    crossed = two_way_bootstrap_counts(first, second, 500, 3)
    assert (crossed[:, 0] != crossed[:, 1]).any()


def test_bca_interval_matches_scipy_for_the_mean_of_skewed_data():
    rng = np.random.default_rng(11)
    x = rng.exponential(size=40)
    weights = bootstrap_counts(40, 20_000, 4).astype(float)
    means = weights @ x / 40
    leave_out = {"sessions": (x.sum() - x) / 39}
    low, high = bca_interval(means, x.mean(), leave_out)
    reference = scipy_stats.bootstrap(
        (x,), np.mean, method="BCa", n_resamples=20_000, random_state=np.random.default_rng(5)
    ).confidence_interval
    assert (low, high) == pytest.approx((reference.low, reference.high), abs=0.02)
    percentile = percentile_interval(means)
    assert low > percentile[0] and high > percentile[1]  # right skew moves both ends up


def test_quantile_mc_se_matches_the_normal_theory_value():
    values = np.random.default_rng(6).normal(size=4000)
    expected = np.sqrt(0.025 * 0.975 / 4000) / scipy_stats.norm.pdf(1.96)
    assert quantile_mc_se(values, 0.025) == pytest.approx(expected, rel=0.25)


def test_bootstrap_counts_rows_are_resamples():
    counts = bootstrap_counts(7, 4, seed=9)
    assert counts.shape == (4, 7) and (counts.sum(axis=1) == 7).all()
    rng = np.random.default_rng(9)
    for row in counts:
        assert (row == np.bincount(rng.integers(0, 7, 7), minlength=7)).all()
