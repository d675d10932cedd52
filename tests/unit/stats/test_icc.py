"""Unit tests of kokoro_analysis.stats.icc: the ANOVA and REML estimators (statsmodels' MixedLM as the
reference) and their cluster bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.regression.mixed_linear_model import MixedLM

from kokoro_analysis.stats.icc import icc_cluster_bootstrap, icc_oneway, icc_oneway_reml


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


def test_icc_oneway_balanced_hand_example():
    # groups {1, 3} and {5, 7}: MSB = 16 (df 1), MSW = 2 (df 2), k = 2 → ICC = 14 / 18
    result = icc_oneway([1, 3, 5, 7], ["a", "a", "b", "b"])
    assert result["ms_between"] == pytest.approx(16) and result["ms_within"] == pytest.approx(2)
    assert result["icc"] == pytest.approx(7 / 9)
    assert result["k0"] == pytest.approx(2)
    f = 8.0
    f_low = f / stats.f.ppf(0.975, 1, 2)
    assert result["ci_low"] == pytest.approx((f_low - 1) / (f_low + 1))


def test_icc_oneway_unbalanced_and_errors():
    values = [1, 2, 3, 10, 11, 20]
    groups = [0, 0, 0, 1, 1, 2]
    result = icc_oneway(values, groups)
    n, sizes = 6, np.array([3, 2, 1])
    assert result["k0"] == pytest.approx((n - (sizes**2).sum() / n) / 2)
    assert result["icc"] > 0.9
    with pytest.raises(ValueError):
        icc_oneway([1, 2], [0, 1])
