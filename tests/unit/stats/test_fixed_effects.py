"""Unit tests of kokoro_analysis.stats.fixed_effects: statsmodels' OLS with dummies as the reference
for slopes, standard errors and degrees of freedom."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats as scipy_stats

from kokoro_analysis.stats.fixed_effects import fixed_effects_slope, within_cluster_regression


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
