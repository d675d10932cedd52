"""Resampling as weight matrices (one row per resample, how often each observation is drawn), so
that every resample's statistic is computed at once: sessions (:func:`bootstrap_counts`), whole
clusters (:func:`cluster_bootstrap_counts`), two crossed factors (:class:`TwoWay`,
:func:`two_way_bootstrap_counts`), leave-one-cluster-out (:func:`leave_one_out_weights`); and what
is read from the resampled values: percentile and BCa intervals, the bootstrap SE and Wald p, the
Monte Carlo error of an interval's ends (:func:`bootstrap_summary`, :func:`bca_interval`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


def bootstrap_counts(n: int, n_bootstrap: int, seed: int) -> np.ndarray:
    """(n_bootstrap × n) matrix: how often each of n sessions is drawn in each resample (each row sums
    to n). Row b equals ``np.bincount(rng.integers(0, n, n), minlength=n)`` for the b-th draw of
    ``np.random.default_rng(seed)``."""
    if n < 1 or n_bootstrap < 1:
        raise ValueError("need n >= 1 and n_bootstrap >= 1")
    # one draw per resample: reproducible row by row
    return _draw_counts(np.random.default_rng(seed), n, n_bootstrap)


def cluster_codes(clusters) -> tuple[np.ndarray, int]:
    """Cluster numbers 0…G−1 in order of first appearance, and G. Missing cluster labels raise."""
    codes, uniques = pd.factorize(pd.Series(np.asarray(clusters, dtype=object)))
    if (codes < 0).any():
        raise ValueError("cluster labels contain missing values")
    return codes, len(uniques)


def cluster_bootstrap_counts(clusters, n_bootstrap: int, seed: int) -> np.ndarray:
    """(n_bootstrap × n) session weights of a cluster bootstrap: each resample draws the G clusters
    (distinct values of ``clusters``, one label per session) with replacement, G times, and each session
    gets the number of times its cluster was drawn. The cluster draws are :func:`bootstrap_counts`
    (G, ``n_bootstrap``, ``seed``) with clusters numbered in order of first appearance, so with one
    session per cluster this equals :func:`bootstrap_counts` (n, ``n_bootstrap``, ``seed``)."""
    codes, n_clusters = cluster_codes(clusters)
    return bootstrap_counts(n_clusters, n_bootstrap, seed)[:, codes]


@dataclass(frozen=True)
class TwoWay:
    """Two cluster labels per observation for a two-way cluster bootstrap
    (:func:`two_way_bootstrap_counts`): ``first`` and ``second`` (e.g. rater and counselor).
    ``persons=False`` (crossed): the two factors are resampled independently; ``persons=True``
    (person-level): the labels of both factors name one population of people, each person is drawn once
    per resample and carries that count into both roles."""

    first: np.ndarray
    second: np.ndarray
    persons: bool = False

    def __post_init__(self) -> None:
        first = np.asarray(self.first, dtype=object)
        second = np.asarray(self.second, dtype=object)
        if first.shape != second.shape or first.ndim != 1:
            raise ValueError(
                f"two-way cluster labels need two vectors of one length, got {first.shape} and "
                f"{second.shape}"
            )
        object.__setattr__(self, "first", first)
        object.__setattr__(self, "second", second)

    def __len__(self) -> int:
        return len(self.first)

    def take(self, rows) -> TwoWay:
        """The labels of ``rows`` (a boolean mask or positions)."""
        return TwoWay(self.first[rows], self.second[rows], self.persons)


def two_way_bootstrap_counts(
    first, second, n_bootstrap: int, seed: int, *, persons: bool = False
) -> np.ndarray:
    """(n_bootstrap × n) observation weights of a two-way cluster bootstrap: the product of the draw
    counts of the observation's two clusters (Owen's "pigeonhole" bootstrap for crossed factors, Owen
    2007, Ann. Appl. Stat. 1(2)). ``persons=False`` (crossed): each resample draws the G₁ levels of
    ``first`` with replacement G₁ times, then the G₂ levels of ``second`` G₂ times (numbered in order of
    first appearance, both from one ``np.random.default_rng(seed)`` stream, resample by resample).
    Drawing from a single level consumes no random numbers, so when one factor has a single level the
    weights equal :func:`cluster_bootstrap_counts` of the other (same ``seed``). ``persons=True``
    (person-level): the labels of both factors are one set of people, drawn with replacement as many
    times as there are people, and an observation's weight is the count of its first person times that of
    its second. An observation whose cluster is not drawn gets weight 0; the variance of a mean under
    the crossed scheme is Σ_g s²_first/G₁ + s²_second/G₂ (+ a residual term), mildly conservative for
    sparse designs (Owen 2007)."""
    if n_bootstrap < 1:
        raise ValueError("need n_bootstrap >= 1")
    if len(first) != len(second):
        raise ValueError(f"{len(first)} first and {len(second)} second cluster labels")
    rng = np.random.default_rng(seed)
    if persons:
        codes, people = pd.factorize(
            pd.Series(np.r_[np.asarray(first, dtype=object), np.asarray(second, dtype=object)])
        )
        if (codes < 0).any():
            raise ValueError("cluster labels contain missing values")
        draws = _draw_counts(rng, len(people), n_bootstrap)
        return draws[:, codes[: len(first)]] * draws[:, codes[len(first) :]]
    (codes_a, size_a), (codes_b, size_b) = cluster_codes(first), cluster_codes(second)
    draws_a = np.empty((n_bootstrap, size_a), dtype=np.int32)
    draws_b = np.empty((n_bootstrap, size_b), dtype=np.int32)
    for b in range(n_bootstrap):  # both factors from one stream, resample by resample
        draws_a[b] = np.bincount(rng.integers(0, size_a, size_a), minlength=size_a)
        draws_b[b] = np.bincount(rng.integers(0, size_b, size_b), minlength=size_b)
    return draws_a[:, codes_a] * draws_b[:, codes_b]


def _draw_counts(rng: np.random.Generator, size: int, n_bootstrap: int) -> np.ndarray:
    """(n_bootstrap × size) counts of ``size`` draws with replacement from ``size`` levels."""
    counts = np.empty((n_bootstrap, size), dtype=np.int32)
    for b in range(n_bootstrap):
        counts[b] = np.bincount(rng.integers(0, size, size), minlength=size)
    return counts


def resample_weights(n: int, n_bootstrap: int, seed: int, clusters=None) -> np.ndarray:
    """Session weights of ``n_bootstrap`` resamples: sessions resampled (:func:`bootstrap_counts`) when
    ``clusters`` is None, both factors of a :class:`TwoWay` resampled
    (:func:`two_way_bootstrap_counts`), whole clusters of one labelling resampled
    (:func:`cluster_bootstrap_counts`) otherwise."""
    if clusters is None:
        return bootstrap_counts(n, n_bootstrap, seed)
    if len(clusters) != n:
        raise ValueError(f"{len(clusters)} cluster labels for {n} observations")
    if isinstance(clusters, TwoWay):
        return two_way_bootstrap_counts(
            clusters.first, clusters.second, n_bootstrap, seed, persons=clusters.persons
        )
    return cluster_bootstrap_counts(clusters, n_bootstrap, seed)


def take_clusters(clusters, rows):
    """The cluster labels (one labelling, or a :class:`TwoWay`) of ``rows`` (mask or positions)."""
    if clusters is None:
        return None
    if isinstance(clusters, TwoWay):
        return clusters.take(rows)
    return np.asarray(clusters, dtype=object)[rows]


def percentile_interval(values, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the finite ``values`` (NaN, NaN when there are none)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not values.size:
        return float("nan"), float("nan")
    low, high = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


def bootstrap_summary(values, estimate: float, confidence: float = 0.95) -> dict:
    """Percentile interval (``ci_low``/``ci_high``), ``se``, ``mc_se`` (:func:`quantile_mc_se`),
    ``p_boot`` (2Φ(−|estimate| / se)) and ``n_bootstrap`` (finite values) of resampled ``values``."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    low, high = percentile_interval(finite, confidence)
    se = float(finite.std(ddof=1)) if finite.size > 1 else np.nan
    tails = ((1 - confidence) / 2, (1 + confidence) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_boot = float(2 * stats.norm.sf(abs(estimate) / se)) if se > 0 else np.nan
    return {
        "ci_low": low,
        "ci_high": high,
        "se": se,
        "mc_se": max(quantile_mc_se(finite, p) for p in tails) if finite.size > 1 else np.nan,
        "p_boot": p_boot,
        "n_bootstrap": int(finite.size),
    }


def quantile_mc_se(values, probability: float) -> float:
    """Monte Carlo standard error of the ``probability`` quantile of B resampled ``values``: the
    quantile's binomial standard error √(p(1 − p)/B) carried through the empirical quantile function,
    (Q(p + s) − Q(p − s)) / 2 with s = √(p(1 − p)/B) (density-free; Hall & Martin 1988)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return float("nan")
    step = np.sqrt(probability * (1 - probability) / values.size)
    low, high = np.quantile(values, [max(probability - step, 0), min(probability + step, 1)])
    return float((high - low) / 2)


def leave_one_out_weights(labels) -> tuple[np.ndarray, pd.Index]:
    """(G × n) 0/1 weights, row g leaving out cluster g of ``labels`` (order of first appearance),
    and the cluster labels."""
    codes, uniques = pd.factorize(pd.Series(np.asarray(labels, dtype=object)))
    if (codes < 0).any():
        raise ValueError("cluster labels contain missing values")
    weights = np.ones((len(uniques), len(codes)), dtype=np.int32)
    weights[codes, np.arange(len(codes))] = 0
    return weights, pd.Index(uniques)


def bca_interval(
    values, estimate: float, leave_out: Mapping[str, object], confidence: float = 0.95
) -> tuple[float, float]:
    """Bias-corrected and accelerated (BCa) bootstrap interval (Efron 1987) from resampled ``values``
    of a statistic with point ``estimate``. Bias correction z₀ = Φ⁻¹(share of values < estimate, ties
    counted half); acceleration a = Σ U³ / (6 (Σ U²)^{3/2}) from the jackknife influence values
    U = (G − 1)(θ̄ − θ₍₋g₎) of every factor in ``leave_out`` (name → leave-one-cluster-out values,
    :func:`~kokoro_analysis.stats.correlation.cluster_jackknife`); with two crossed factors their influence values are pooled, since the
    third and second cumulants of independent contributions add. Ends: the Φ(z₀ + (z₀ + z)/(1 − a(z₀ +
    z))) quantiles of ``values`` for z = Φ⁻¹((1 ∓ confidence)/2)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2 or not np.isfinite(estimate):
        return float("nan"), float("nan")
    share = (np.sum(values < estimate) + 0.5 * np.sum(values == estimate)) / values.size
    z0 = stats.norm.ppf(np.clip(share, 1 / (2 * values.size), 1 - 1 / (2 * values.size)))
    influence = []
    for jack in leave_out.values():
        jack = np.asarray(jack, dtype=float)
        jack = jack[np.isfinite(jack)]
        influence.append((len(jack) - 1) * (jack.mean() - jack))
    influence = np.concatenate(influence)
    spread = (influence**2).sum()
    acceleration = (influence**3).sum() / (6 * spread**1.5) if spread > 0 else 0.0
    ends = []
    for tail in ((1 - confidence) / 2, (1 + confidence) / 2):
        z = z0 + stats.norm.ppf(tail)
        ends.append(float(np.quantile(values, stats.norm.cdf(z0 + z / (1 - acceleration * z)))))
    return ends[0], ends[1]
