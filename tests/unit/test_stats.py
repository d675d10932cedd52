"""Unit tests of kokoro_analysis.stats: known answers, and statsmodels as the reference for the
fixed-effects degrees of freedom and REML."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats as scipy_stats
from statsmodels.regression.mixed_linear_model import MixedLM

from kokoro_analysis.stats.correlation import (
    bootstrap_correlation,
    resampled_correlations,
    within_cluster_correlation,
)
from kokoro_analysis.stats.distributions import group_mean_intervals, reflected_kde
from kokoro_analysis.stats.fixed_effects import fixed_effects_slope, within_cluster_regression
from kokoro_analysis.stats.icc import icc_cluster_bootstrap, icc_oneway, icc_oneway_reml
from kokoro_analysis.stats.ordinal import (
    bivariate_normal_cdf,
    polychoric_matrix,
    standardized_alpha,
)
from kokoro_analysis.stats.p_values import adjust_p_values
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

# --------------------------------------------------------------------------- cluster bootstrap


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


# --------------------------------------------------------------------------- two-way cluster bootstrap


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


def test_quantile_mc_se_matches_the_normal_theory_value():
    values = np.random.default_rng(6).normal(size=4000)
    expected = np.sqrt(0.025 * 0.975 / 4000) / scipy_stats.norm.pdf(1.96)
    assert quantile_mc_se(values, 0.025) == pytest.approx(expected, rel=0.25)


def test_group_mean_intervals_with_two_way_clusters():
    values, raters, counselors = _crossed_design()
    table = group_mean_intervals(
        values, ["g"] * 6, {"two_way": TwoWay(raters, counselors)}, n_bootstrap=2000
    )
    weights = two_way_bootstrap_counts(raters, counselors, 2000, 0).astype(float)
    expected = percentile_interval(weights @ values / weights.sum(axis=1))
    assert (table.loc["g", "ci_low_two_way"], table.loc["g", "ci_high_two_way"]) == pytest.approx(
        expected
    )


# --------------------------------------------------------------------------- multiplicity


def test_holm_and_benjamini_hochberg_adjustments():
    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    holm = adjust_p_values(p, "holm")
    assert holm[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02]) and np.isnan(holm[4])
    assert adjust_p_values(p, "bh")[:4] == pytest.approx([0.02, 0.04, 0.04, 0.02])
    with pytest.raises(ValueError, match="correction"):
        adjust_p_values(p, "bonferroni")


# --------------------------------------------------------------------------- within clusters


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


def test_within_cluster_regression_matches_statsmodels_ols_with_dummies():
    rng = np.random.default_rng(2)
    groups = rng.integers(0, 15, 120)
    x = rng.normal(size=120) + groups * 0.5
    y = 0.3 * x + rng.normal(size=120) + groups
    result = within_cluster_regression(x, y, groups)
    fit = smf.ols("y ~ x + C(g)", data=pd.DataFrame({"x": x, "y": y, "g": groups})).fit()
    assert result["df"] == fit.df_resid == 120 - 15 - 1
    assert result["slope"] == pytest.approx(fit.params["x"])
    assert result["se"] == pytest.approx(fit.bse["x"])
    assert result["p_value"] == pytest.approx(fit.pvalues["x"])
    centred = pd.DataFrame({"x": x, "y": y}).groupby(groups).transform(lambda s: s - s.mean())
    assert result["r_partial"] == pytest.approx(np.corrcoef(centred["x"], centred["y"])[0, 1])
    naive_p = scipy_stats.pearsonr(centred["x"], centred["y"])[1]  # n − 2 df: too small
    assert naive_p < result["p_value"]


@pytest.mark.parametrize("two_way_effects", [False, True])
def test_fixed_effects_slope_matches_statsmodels_with_dummies(two_way_effects):
    import statsmodels.api as sm

    rng = np.random.default_rng(13)
    counselors, raters = rng.integers(0, 12, 150), rng.integers(0, 9, 150)
    x = rng.normal(size=150) + counselors * 0.3
    y = 0.2 * x + rng.normal(size=150) + rng.normal(size=12)[counselors] + raters * 0.1
    absorb = [counselors, raters] if two_way_effects else [counselors]
    dummies = [pd.get_dummies(counselors).to_numpy(float)]
    if two_way_effects:
        dummies.append(pd.get_dummies(raters).to_numpy(float)[:, 1:])
    model = sm.OLS(y, np.column_stack([x, *dummies]))
    for clusters in ([counselors], [counselors, raters]):
        groups = clusters[0] if len(clusters) == 1 else np.column_stack(clusters)
        reference = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
        result = fixed_effects_slope(x, y, absorb, clusters)
        assert result["slope"] == pytest.approx(reference.params[0])
        assert result["se"] == pytest.approx(reference.bse[0], rel=1e-6)
        assert result["df"] == min(len(set(c)) for c in clusters) - 1


# --------------------------------------------------------------------------- ICC by REML


def test_icc_cluster_bootstrap_estimates_equal_the_point_estimators():
    rng = np.random.default_rng(9)
    sizes = rng.integers(1, 30, 30)
    groups = np.repeat(np.arange(30), sizes)
    y = rng.normal(0, 1.5, 30)[groups] + rng.normal(0, 2, len(groups))
    result = icc_cluster_bootstrap(y, groups, n_bootstrap=300, seed=1)
    assert result["icc"] == pytest.approx(icc_oneway(y, groups)["icc"])
    assert result["icc_reml"] == pytest.approx(icc_oneway_reml(y, groups)["icc"], abs=1e-6)
    assert result["ci_low"] < result["icc"] < result["ci_high"]
    assert result["ci_low_reml"] < result["icc_reml"] < result["ci_high_reml"]
    assert result["n_bootstrap"] == 300 and result["mc_se"] > 0


def test_icc_reml_matches_statsmodels_mixedlm():
    rng = np.random.default_rng(4)
    sizes = rng.integers(1, 25, 40)
    groups = np.repeat(np.arange(40), sizes)
    y = 10 + rng.normal(0, 2, 40)[groups] + rng.normal(0, 3, len(groups))
    result = icc_oneway_reml(y, groups)
    fit = MixedLM(y, np.ones((len(y), 1)), groups=groups).fit(reml=True)
    between = float(np.asarray(fit.cov_re)[0, 0])
    assert result["between_variance"] == pytest.approx(between, rel=1e-3)
    assert result["within_variance"] == pytest.approx(fit.scale, rel=1e-4)


def test_icc_reml_equals_anova_on_balanced_groups():
    rng = np.random.default_rng(5)
    groups = np.repeat(np.arange(12), 5)
    y = rng.normal(0, 1, 12)[groups] + rng.normal(0, 1, 60)
    frame = pd.DataFrame({"y": y, "g": groups})
    msb = 5 * frame.groupby("g")["y"].mean().var(ddof=1)
    msw = frame.groupby("g")["y"].var(ddof=1).mean()
    assert msb > msw
    assert icc_oneway_reml(y, groups)["icc"] == pytest.approx(
        (msb - msw) / (msb + 4 * msw), rel=1e-5
    )


def test_icc_reml_is_zero_without_group_differences():
    y = np.array([1, 2, 3, 1, 2, 3, 1, 2, 3], float)
    assert icc_oneway_reml(y, np.repeat([0, 1, 2], 3))["icc"] == pytest.approx(0, abs=1e-8)


# --------------------------------------------------------------------------- polychoric


def test_bivariate_normal_cdf_matches_scipy():
    for h, k, rho in [
        (0.3, -0.5, 0.7),
        (-1.2, 0.4, -0.3),
        (2.0, 1.5, 0.95),
        (0.0, 0.5, 0.2),
        (0.0, 0.0, -0.6),
    ]:
        expected = scipy_stats.multivariate_normal.cdf([h, k], cov=[[1, rho], [rho, 1]])
        assert bivariate_normal_cdf(h, k, rho) == pytest.approx(expected, abs=1e-7)


def test_tetrachoric_of_a_median_split_has_the_closed_form():
    # both variables split at their medians: P(both high) = 1/4 + arcsin(ρ) / (2π), so a table
    # [[40, 10], [10, 40]] gives ρ = sin(2π (0.4 − 0.25)) = sin(0.3π) = 0.8090…
    a = np.r_[np.zeros(50), np.ones(50)]
    b = np.r_[np.zeros(40), np.ones(10), np.zeros(10), np.ones(40)]
    corr = polychoric_matrix(np.column_stack([a, b]))
    assert corr[0, 1] == pytest.approx(np.sin(0.3 * np.pi), abs=1e-6)


def test_polychoric_recovers_the_latent_correlation_of_cut_normals():
    rng = np.random.default_rng(0)
    latent = rng.multivariate_normal(
        [0, 0, 0], [[1, 0.6, 0.3], [0.6, 1, -0.2], [0.3, -0.2, 1]], 40_000
    )
    cuts = [-1.5, -0.5, 0.2, 0.9, 1.6]
    answers = np.digitize(latent, cuts)
    corr = polychoric_matrix(answers)
    assert corr[0, 1] == pytest.approx(0.6, abs=0.015)
    assert corr[0, 2] == pytest.approx(0.3, abs=0.015)
    assert corr[1, 2] == pytest.approx(-0.2, abs=0.015)
    assert abs(corr[0, 1]) > abs(np.corrcoef(answers, rowvar=False)[0, 1])  # Pearson is attenuated


def test_polychoric_constant_column_is_nan_and_ordinal_alpha():
    answers = np.array([[0, 1, 2], [1, 1, 3], [2, 1, 4], [3, 1, 5]])
    corr = polychoric_matrix(answers)
    assert np.isnan(corr[0, 1]) and np.isnan(corr[1, 2])
    assert standardized_alpha(
        np.array([[1, 0.5, 0.5], [0.5, 1, 0.5], [0.5, 0.5, 1]])
    ) == pytest.approx(0.75)


def test_reflected_kde_holds_its_level_at_the_bounds_and_integrates_to_one():
    values = np.linspace(0, 100, 2001)  # uniform on [0, 100]: density 0.01 everywhere inside
    grid = np.linspace(0, 100, 1001)
    density = reflected_kde(values, grid, low=0, high=100)
    assert np.allclose(density, 0.01, atol=0.0005)  # a plain KDE gives about 0.005 at 0 and 100
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-3)
    assert reflected_kde(values, np.array([-1.0, 101.0]), low=0, high=100).tolist() == [0, 0]
