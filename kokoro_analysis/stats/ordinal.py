"""Ordinal answers read as cuts of correlated normal variables: thresholds
(:func:`ordinal_thresholds`), the polychoric correlation matrix (:func:`polychoric_matrix`) and
standardised / ordinal alpha (:func:`standardized_alpha`)."""

from __future__ import annotations

import numpy as np
from scipy import special

from kokoro_analysis.stats.golden_section import golden_section

THRESHOLD_BOUND = 8.0
"""Thresholds of the latent normal are clipped to ±8 (Φ(8) = 1 − 6e-16) in place of ±∞."""


def bivariate_normal_cdf(h, k, rho) -> np.ndarray:
    """P(X ≤ h, Y ≤ k) for a standard bivariate normal with correlation ``rho`` (|ρ| < 1; arrays
    broadcast), from Owen's T function: Φ₂ = ½Φ(h) + ½Φ(k) − T(h, a_h) − T(k, a_k) − δ with
    a_h = (k − ρh) / (h√(1 − ρ²)), a_k likewise and δ = ½ when h·k < 0 (h or k = 0 is moved by 1e-12)."""
    h, k, rho = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (h, k, rho)))
    h, k = np.where(h == 0, 1e-12, h), np.where(k == 0, 1e-12, k)
    root = np.sqrt(1 - rho * rho)
    with np.errstate(divide="ignore", invalid="ignore"):
        a_h, a_k = (k - rho * h) / (h * root), (h - rho * k) / (k * root)
    delta = np.where(h * k < 0, 0.5, 0.0)
    return (
        0.5 * (special.ndtr(h) + special.ndtr(k))
        - special.owens_t(h, a_h)
        - special.owens_t(k, a_k)
        - delta
    )


def ordinal_thresholds(codes: np.ndarray, levels: int) -> np.ndarray:
    """(items × levels + 1) thresholds of each column of integer ``codes`` (0 … levels − 1):
    Φ⁻¹ of the cumulative answer shares, with ∓:data:`THRESHOLD_BOUND` at the ends (an unused level
    has zero width)."""
    n, k = codes.shape
    counts = np.stack([np.bincount(codes[:, j], minlength=levels) for j in range(k)])
    with np.errstate(divide="ignore"):
        inner = np.clip(
            special.ndtri(np.cumsum(counts, axis=1)[:, :-1] / n), -THRESHOLD_BOUND, THRESHOLD_BOUND
        )
    return np.column_stack([np.full(k, -THRESHOLD_BOUND), inner, np.full(k, THRESHOLD_BOUND)])


def _negative_log_likelihood(tables, low, high, rho):
    """−log-likelihood of each pair's contingency table (pairs × levels × levels) given the thresholds of
    the two items (pairs × levels + 1) at correlation ``rho`` (pairs). Φ₂ is evaluated at the inner
    thresholds only; at the bounds it is 0 or the margin Φ."""
    size = len(rho)
    cdf = np.zeros((size, low.shape[1], high.shape[1]))
    cdf[:, 1:-1, 1:-1] = bivariate_normal_cdf(
        low[:, 1:-1, None], high[:, None, 1:-1], rho[:, None, None]
    )
    cdf[:, -1, :] = special.ndtr(high)
    cdf[:, :, -1] = special.ndtr(low)
    cdf[:, -1, -1], cdf[:, 0, :], cdf[:, :, 0] = 1.0, 0.0, 0.0
    cells = cdf[:, 1:, 1:] - cdf[:, :-1, 1:] - cdf[:, 1:, :-1] + cdf[:, :-1, :-1]
    return -(tables * np.log(np.clip(cells, 1e-300, None))).sum(axis=(1, 2))


def polychoric_matrix(values, *, iterations: int = 40) -> np.ndarray:
    """Polychoric correlation matrix of the ordinal columns of ``values`` (integers; rows with a NaN
    dropped): each column is a cut normal variable with thresholds from its answer shares
    (:func:`ordinal_thresholds`), and each pair's ρ maximises the likelihood of the pair's contingency
    table given those thresholds (two-step ML, Olsson 1979), found by golden-section search on
    [−0.999, 0.999] (``iterations`` steps, all pairs at once; 40 steps: |error| < 1e-8). A constant
    column gives NaN."""
    matrix = np.asarray(values, dtype=float)
    matrix = matrix[~np.isnan(matrix).any(axis=1)]
    levels_seen = np.unique(matrix)
    codes = np.searchsorted(levels_seen, matrix)
    levels, k = len(levels_seen), matrix.shape[1]
    rows, cols = np.triu_indices(k, 1)
    thresholds = ordinal_thresholds(codes, levels)
    pair_codes = codes[:, rows] * levels + codes[:, cols] + np.arange(len(rows)) * levels * levels
    tables = np.bincount(pair_codes.ravel(), minlength=len(rows) * levels * levels).reshape(
        len(rows), levels, levels
    )
    low, high = thresholds[rows], thresholds[cols]
    estimate = golden_section(
        lambda rho: _negative_log_likelihood(tables, low, high, rho), len(rows), -0.999, 0.999,
        iterations,
    )  # fmt: skip
    corr = np.eye(k)
    corr[rows, cols] = corr[cols, rows] = estimate
    constant = np.array([len(np.unique(codes[:, j])) < 2 for j in range(k)])
    corr[constant, :] = corr[:, constant] = np.nan
    return corr


def standardized_alpha(corr) -> float:
    """Standardised alpha of a correlation matrix: k · r̄ / (1 + (k − 1) · r̄), r̄ = mean off-diagonal
    correlation. On a polychoric matrix this is *ordinal alpha* (Zumbo, Gadermann & Zeisser 2007)."""
    corr = np.asarray(corr, dtype=float)
    k = len(corr)
    mean = float(np.nanmean(corr[np.triu_indices(k, 1)]))
    return k * mean / (1 + (k - 1) * mean)
