"""Unit tests of kokoro_analysis.stats.correlation: bootstrap and within-cluster correlations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy import stats as scipy_stats

from kokoro_analysis.stats.correlation import (
    bootstrap_correlation,
    correlation_matrix,
    resampled_correlations,
    weighted_midranks,
    within_cluster_correlation,
)
from kokoro_analysis.stats.resampling import (
    TwoWay,
    resample_weights,
)


def test_two_way_within_correlation_centres_on_the_weighted_cluster_mean():
    rng = np.random.default_rng(8)
    raters, counselors = rng.integers(0, 5, 40), rng.integers(0, 6, 40)
    x, y = rng.normal(size=40) + raters, rng.normal(size=40) + raters
    clusters = TwoWay(raters, counselors)
    weights = resample_weights(40, 5, 2, clusters)
    resampled = resampled_correlations(x, y, weights, method="pearson", within=raters)
    for row, value in zip(weights, resampled):
        copies = np.repeat(np.arange(40), row)  # the resample written out
        assert value == pytest.approx(
            within_cluster_correlation(x[copies], y[copies], raters[copies], "pearson")
        )


def test_bootstrap_correlation_bca_and_monte_carlo_error():
    rng = np.random.default_rng(12)
    raters, counselors = rng.integers(0, 12, 200), rng.integers(0, 10, 200)
    x = rng.normal(size=200) + rng.normal(size=12)[raters]
    y = x + rng.normal(size=200) + rng.normal(size=10)[counselors]
    result = bootstrap_correlation(
        x, y, n_bootstrap=400, clusters=TwoWay(raters, counselors), bca=True
    )
    assert result["ci_low"] < result["r"] < result["ci_high"]
    assert result["bca_low"] < result["r"] < result["bca_high"]
    assert 0 < result["mc_se"] < (result["ci_high"] - result["ci_low"]) / 4
    with pytest.raises(ValueError, match="BCa"):
        bootstrap_correlation(x, y, n_bootstrap=20, bca=True)


def test_within_cluster_correlation_removes_cluster_differences():
    # inside each cluster y falls with x, but the cluster means rise together: pooled r > 0, within r = −1
    x = np.array([0, 1, 10, 11, 20, 21], float)
    y = np.array([1, 0, 11, 10, 21, 20], float)
    labels = [0, 0, 1, 1, 2, 2]
    assert scipy_stats.pearsonr(x, y)[0] > 0.9
    assert within_cluster_correlation(x, y, labels, "pearson") == pytest.approx(-1)
    assert within_cluster_correlation(x, y, labels, "spearman") == pytest.approx(-1)
    result = bootstrap_correlation(
        x, y, method="pearson", n_bootstrap=50, clusters=labels, within=labels
    )
    assert result["r"] == pytest.approx(-1) and result["ci_high"] == pytest.approx(-1)


@pytest.mark.parametrize("method", ["spearman", "pearson"])
def test_bootstrap_correlation_matches_explicit_resampling(method):
    rng = np.random.default_rng(4)
    x = rng.integers(0, 8, 60).astype(float)  # many ties
    y = x + rng.integers(0, 6, 60)
    result = bootstrap_correlation(x, y, method=method, n_bootstrap=200, seed=11, chunk=64)
    draws = np.random.default_rng(11)
    explicit = []
    for _ in range(200):
        index = draws.integers(0, 60, 60)
        test = stats.spearmanr if method == "spearman" else stats.pearsonr
        explicit.append(test(x[index], y[index])[0])
    low, high = np.quantile(explicit, [0.025, 0.975])
    assert result["ci_low"] == pytest.approx(low, abs=1e-12)
    assert result["ci_high"] == pytest.approx(high, abs=1e-12)
    reference = stats.spearmanr(x, y)[0] if method == "spearman" else stats.pearsonr(x, y)[0]
    assert result["r"] == pytest.approx(reference)


def test_bootstrap_correlation_reproducible_and_robust():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=80), rng.normal(size=80)
    first = bootstrap_correlation(x, y, n_bootstrap=100, seed=1)
    assert first == bootstrap_correlation(x, y, n_bootstrap=100, seed=1)
    assert first != bootstrap_correlation(x, y, n_bootstrap=100, seed=2)
    x[:5] = np.nan
    assert bootstrap_correlation(x, y, n_bootstrap=10, seed=1)["n"] == 75
    constant = bootstrap_correlation(np.ones(10), np.arange(10), n_bootstrap=10)
    assert np.isnan(constant["r"]) and constant["n_bootstrap"] == 0


def test_correlation_matrix_matches_scipy():
    rng = np.random.default_rng(1)
    values = rng.integers(0, 6, size=(50, 4))
    assert np.allclose(correlation_matrix(values, "spearman"), stats.spearmanr(values)[0])
    assert np.allclose(correlation_matrix(values, "pearson"), np.corrcoef(values, rowvar=False))


def test_weighted_midranks_are_the_ranks_of_the_written_out_resample():
    rng = np.random.default_rng(2)
    values = rng.integers(0, 5, 30).astype(float)  # many ties
    values[:3] = [0.5, 7.0, -1.0]  # and some values of their own
    weights = resample_weights(30, 6, 9)
    ranks = weighted_midranks(values, weights)
    for row, rank in zip(weights, ranks, strict=True):
        copies = np.repeat(np.arange(30), row)  # the resample written out
        drawn = row > 0
        expected = dict(zip(copies, stats.rankdata(values[copies]), strict=True))
        assert np.array_equal(rank[drawn], [expected[i] for i in np.flatnonzero(drawn)])
