"""Unit tests of kokoro_analysis.stats.ordinal: the bivariate normal CDF, polychoric correlations,
ordinal alpha."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from kokoro_analysis.stats.ordinal import (
    bivariate_normal_cdf,
    polychoric_matrices,
    polychoric_matrix,
    standardized_alpha,
)


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


def test_polychoric_matrices_equal_one_call_per_sample_to_the_bit():
    rng = np.random.default_rng(3)
    latent = rng.multivariate_normal([0, 0, 0], [[1, 0.5, 0.2], [0.5, 1, 0.1], [0.2, 0.1, 1]], 500)
    answers = np.digitize(latent, [-1.0, -0.2, 0.4, 1.1]).astype(float)
    other = answers.copy()
    other[:40, 1] = 0  # other thresholds: searched apart
    samples = [answers, rng.permuted(answers, axis=0), other, rng.permuted(answers, axis=0)]
    together = polychoric_matrices(iter(samples))  # read once, as a generator is
    assert together.shape == (4, 3, 3)
    for sample, matrix in zip(samples, together, strict=True):
        np.testing.assert_array_equal(matrix, polychoric_matrix(sample))
    assert polychoric_matrices([]).shape == (0, 0, 0)
    with pytest.raises(ValueError, match="same number of columns"):
        polychoric_matrices([answers, answers[:, :2]])
