"""Unit tests of kokoro_analysis.stats.distributions: group means with two-way intervals, the
reflected kernel density."""

from __future__ import annotations

import numpy as np
import pytest

from kokoro_analysis.stats.distributions import group_mean_intervals, reflected_kde
from kokoro_analysis.stats.resampling import (
    TwoWay,
    percentile_interval,
    two_way_bootstrap_counts,
)

from .test_resampling import _crossed_design


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


def test_reflected_kde_holds_its_level_at_the_bounds_and_integrates_to_one():
    values = np.linspace(0, 100, 2001)  # uniform on [0, 100]: density 0.01 everywhere inside
    grid = np.linspace(0, 100, 1001)
    density = reflected_kde(values, grid, low=0, high=100)
    assert np.allclose(density, 0.01, atol=0.0005)  # a plain KDE gives about 0.005 at 0 and 100
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-3)
    assert reflected_kde(values, np.array([-1.0, 101.0]), low=0, high=100).tolist() == [0, 0]
