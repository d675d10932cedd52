"""Ordinal answers read as cuts of correlated normal variables: thresholds
(:func:`ordinal_thresholds`), the polychoric correlation matrix (:func:`polychoric_matrix`; of many
samples at once, :func:`polychoric_matrices`) and standardised / ordinal alpha
(:func:`standardized_alpha`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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


def _cdf_grid(low, high, rho) -> np.ndarray:
    """Φ₂ of each pair (pairs × levels + 1 × levels + 1) at the thresholds of its two items (pairs ×
    levels + 1) and correlation ``rho`` (pairs), evaluated at the inner thresholds only; at the bounds
    it is 0 or the margin Φ."""
    size = len(rho)
    cdf = np.zeros((size, low.shape[1], high.shape[1]))
    cdf[:, 1:-1, 1:-1] = bivariate_normal_cdf(
        low[:, 1:-1, None], high[:, None, 1:-1], rho[:, None, None]
    )
    cdf[:, -1, :] = special.ndtr(high)
    cdf[:, :, -1] = special.ndtr(low)
    cdf[:, -1, -1], cdf[:, 0, :], cdf[:, :, 0] = 1.0, 0.0, 0.0
    return cdf


def _negative_log_likelihood(tables, cdf):
    """−log-likelihood of each pair's contingency table (pairs × levels × levels) given its
    :func:`_cdf_grid`."""
    cells = cdf[:, 1:, 1:] - cdf[:, :-1, 1:] - cdf[:, 1:, :-1] + cdf[:, :-1, :-1]
    return -(tables * np.log(np.clip(cells, 1e-300, None))).sum(axis=(1, 2))


@dataclass(frozen=True)
class _OrdinalColumns:
    """What the polychoric search needs of one answer matrix: its thresholds (:func:`ordinal_thresholds`),
    the contingency table of every item pair (pairs in ``np.triu_indices`` order) and which columns
    are constant."""

    thresholds: np.ndarray
    tables: np.ndarray
    constant: np.ndarray


def _ordinal_columns(values) -> _OrdinalColumns:
    """:class:`_OrdinalColumns` of the integer columns of ``values`` (rows with a NaN dropped)."""
    matrix = np.asarray(values, dtype=float)
    matrix = matrix[~np.isnan(matrix).any(axis=1)]
    levels_seen = np.unique(matrix)
    codes = np.searchsorted(levels_seen, matrix)
    levels, k = len(levels_seen), matrix.shape[1]
    rows, cols = np.triu_indices(k, 1)
    pair_codes = codes[:, rows] * levels + codes[:, cols] + np.arange(len(rows)) * levels * levels
    tables = np.bincount(pair_codes.ravel(), minlength=len(rows) * levels * levels).reshape(
        len(rows), levels, levels
    )
    constant = np.array([len(np.unique(codes[:, j])) < 2 for j in range(k)])
    return _OrdinalColumns(ordinal_thresholds(codes, levels), tables, constant)


def polychoric_matrix(values, *, iterations: int = 40) -> np.ndarray:
    """Polychoric correlation matrix of the ordinal columns of ``values`` (integers; rows with a NaN
    dropped): each column is a cut normal variable with thresholds from its answer shares
    (:func:`ordinal_thresholds`), and each pair's ρ maximises the likelihood of the pair's contingency
    table given those thresholds (two-step ML, Olsson 1979), found by golden-section search on
    [−0.999, 0.999] (``iterations`` steps, all pairs at once; 40 steps: |error| < 1e-8). A constant
    column gives NaN."""
    return polychoric_matrices([values], iterations=iterations)[0]


def polychoric_matrices(samples: Iterable, *, iterations: int = 40) -> np.ndarray:
    """(samples × k × k) :func:`polychoric_matrix` of every answer matrix of ``samples`` (an iterable of
    matrices with k columns, read once), the same numbers as one call each. Samples whose columns have
    the same thresholds (the shuffles of one matrix's columns in a parallel analysis) are searched
    together, and Φ₂ is evaluated once per item pair and ρ tried by any of them: their searches start
    alike and part only as far as their tables differ."""
    parts = [_ordinal_columns(values) for values in samples]
    if not parts:
        return np.empty((0, 0, 0))
    k = len(parts[0].constant)
    if any(len(part.constant) != k for part in parts):
        raise ValueError("every sample needs the same number of columns")
    rows, cols = np.triu_indices(k, 1)
    alike: dict[tuple, list[int]] = {}
    for i, part in enumerate(parts):
        alike.setdefault((part.thresholds.shape, part.thresholds.tobytes()), []).append(i)
    out = np.empty((len(parts), k, k))
    for members in alike.values():
        thresholds = parts[members[0]].thresholds
        estimates = _shared_search(
            np.concatenate([parts[i].tables for i in members]), thresholds[rows],
            thresholds[cols], iterations,
        ).reshape(len(members), len(rows))  # fmt: skip
        for i, estimate in zip(members, estimates, strict=True):
            corr = np.eye(k)
            corr[rows, cols] = corr[cols, rows] = estimate
            corr[parts[i].constant, :] = corr[:, parts[i].constant] = np.nan
            out[i] = corr
    return out


def _shared_search(tables, low, high, iterations: int) -> np.ndarray:
    """The ML ρ of every table of ``tables`` (samples × pairs, pairs varying fastest) given the pairs'
    thresholds ``low``/``high`` (pairs × levels + 1), by golden-section search; Φ₂ is evaluated once for
    each distinct (pair, ρ) of a step."""
    n_pairs = len(low)
    pair = np.tile(np.arange(n_pairs), len(tables) // max(n_pairs, 1))

    def objective(rho: np.ndarray) -> np.ndarray:
        key = np.empty(len(rho), dtype=complex)
        key.real, key.imag = pair, rho
        distinct, inverse = np.unique(key, return_inverse=True)
        which = distinct.real.astype(int)
        grid = _cdf_grid(low[which], high[which], distinct.imag)
        return _negative_log_likelihood(tables, grid[inverse.ravel()])

    return golden_section(objective, len(tables), -0.999, 0.999, iterations)


def standardized_alpha(corr) -> float:
    """Standardised alpha of a correlation matrix: k · r̄ / (1 + (k − 1) · r̄), r̄ = mean off-diagonal
    correlation. On a polychoric matrix this is *ordinal alpha* (Zumbo, Gadermann & Zeisser 2007)."""
    corr = np.asarray(corr, dtype=float)
    k = len(corr)
    mean = float(np.nanmean(corr[np.triu_indices(k, 1)]))
    return k * mean / (1 + (k - 1) * mean)
