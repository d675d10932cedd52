"""Fixed effects: residuals after one effect per level of two labellings (:func:`two_way_residuals`),
three definitions of a within-cluster correlation (:func:`within_correlation_definitions`), the
within regression (:func:`within_cluster_regression`) and a slope with absorbed fixed effects and
cluster-robust standard errors (:func:`fixed_effects_slope`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse, stats

from kokoro_analysis.stats.correlation import (
    centred_within,
    check_method,
    complete_pairs,
    within_cluster_correlation,
)
from kokoro_analysis.stats.resampling import cluster_codes


def two_way_residuals(values, first, second, *, tolerance: float = 1e-10) -> np.ndarray:
    """``values`` minus their least-squares fit on one effect per level of ``first`` and one per level
    of ``second`` (the two-way fixed-effects residuals), by alternating projections (demean by
    ``first``, then by ``second``, until the largest change is below ``tolerance`` times the spread;
    at most 1,000 rounds)."""
    residual = np.asarray(values, dtype=float).copy()
    (codes_a, size_a), (codes_b, size_b) = cluster_codes(first), cluster_codes(second)
    scale = max(float(np.ptp(residual)), 1e-300)
    for _ in range(1000):
        before = residual.copy()
        residual = centred_within(residual, codes_a, size_a)
        residual = centred_within(residual, codes_b, size_b)
        if np.abs(residual - before).max() < tolerance * scale:
            break
    return residual


def within_correlation_definitions(x, y, first, second, method: str = "spearman") -> dict:
    """Three ways to correlate x and y *within* the clusters of ``first`` (pairs with a NaN dropped):
    ``rank_then_centre`` (:func:`~kokoro_analysis.stats.correlation.within_cluster_correlation`: ranks over all pairs, centred on each
    cluster's mean), ``rank_within`` (ranks within each cluster of ``first``, then centred), and
    ``both_removed`` (ranks over all pairs, two-way fixed effects of ``first`` and ``second`` removed,
    :func:`two_way_residuals`). Pearson: the values themselves instead of ranks (``rank_within`` then
    equals ``rank_then_centre``)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    first = np.asarray(first, dtype=object)[keep]
    second = np.asarray(second, dtype=object)[keep]
    spearman = check_method(method) == "spearman"
    out = {"rank_then_centre": within_cluster_correlation(x, y, first, method)}
    if spearman:
        frame = pd.DataFrame({"x": x, "y": y, "g": first})
        ranked = frame.groupby("g")[["x", "y"]].rank()
        out["rank_within"] = within_cluster_correlation(ranked["x"], ranked["y"], first, "pearson")
        x, y = stats.rankdata(x), stats.rankdata(y)
    else:
        out["rank_within"] = out["rank_then_centre"]
    rx, ry = two_way_residuals(x, first, second), two_way_residuals(y, first, second)
    out["both_removed"] = float((rx * ry).sum() / np.sqrt((rx**2).sum() * (ry**2).sum()))
    return out


def within_cluster_regression(x, y, clusters) -> dict[str, float]:
    """Fixed-effects (within) regression y = α_cluster + β x + e: one intercept per cluster, so β uses
    only variation inside clusters. β and its OLS standard error come from the cluster-centred data;
    the t test has n − k − 1 degrees of freedom (n pairs, k clusters, one slope), as in an OLS with a
    dummy per cluster. ``r_partial`` = t / √(t² + df) is the within-cluster Pearson r. Returns ``n``,
    ``clusters``, ``slope``, ``se``, ``t``, ``df``, ``p_value`` (two-sided) and ``r_partial``."""
    x, y, labels = complete_pairs(x, y, clusters)
    codes, n_clusters = cluster_codes(labels)
    df = len(x) - n_clusters - 1
    cx, cy = centred_within(x, codes, n_clusters), centred_within(y, codes, n_clusters)
    sxx = float((cx**2).sum())
    if df < 1 or sxx == 0:
        raise ValueError(
            f"within regression not estimable: {len(x)} pairs, {n_clusters} clusters, "
            f"within-cluster variance of x {sxx}"
        )
    slope = float((cx * cy).sum() / sxx)
    se = float(np.sqrt(((cy - slope * cx) ** 2).sum() / df / sxx))
    t = slope / se if se > 0 else np.copysign(np.inf, slope)
    return {
        "n": len(x),
        "clusters": n_clusters,
        "slope": slope,
        "se": se,
        "t": float(t),
        "df": df,
        "p_value": float(2 * stats.t.sf(abs(t), df)),
        "r_partial": float(t / np.sqrt(t * t + df)),
    }


def fixed_effects_slope(
    x, y, absorb: Sequence, clusters: Sequence, *, confidence: float = 0.95
) -> dict[str, float]:
    """Slope of y on x with fixed effects (one intercept per level) of every labelling in ``absorb``
    and cluster-robust standard errors clustered by every labelling in ``clusters`` (one: Liang-Zeger;
    two: Cameron-Gelbach-Miller two-way, statsmodels' ``cov_type="cluster"``). The fixed effects are
    removed first (:func:`two_way_residuals`; Frisch-Waugh-Lovell: the same slope and residuals as the
    regression with dummies), and the covariance is scaled by (N − 1)/(N − K), K = 1 + the rank of the
    dummies, so the SE equals statsmodels' OLS with all dummies (small-sample factor
    G/(G − 1) · (N − 1)/(N − K)). Test and interval: t with G − 1 degrees of freedom, G the fewest
    clusters of a labelling. Rows with a NaN are dropped. Returns ``n``, ``slope``, ``se``, ``t``,
    ``df``, ``p_value``, ``ci_low``, ``ci_high``, ``clusters`` (G)."""
    import warnings

    import statsmodels.api as sm
    from scipy.sparse.csgraph import connected_components

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    absorb = [cluster_codes(np.asarray(a, dtype=object)[keep]) for a in absorb]
    groups = [cluster_codes(np.asarray(c, dtype=object)[keep])[0] for c in clusters]
    x, y = x[keep], y[keep]
    if len(absorb) == 1:
        rank = absorb[0][1]
        x, y = (centred_within(v, *absorb[0]) for v in (x, y))
    elif len(absorb) == 2:
        (codes_a, size_a), (codes_b, size_b) = absorb
        graph = sparse.csr_matrix(
            (np.ones(len(x)), (codes_a, size_a + codes_b)), shape=(size_a + size_b,) * 2
        )
        rank = size_a + size_b - connected_components(graph, directed=False)[0]
        x, y = (two_way_residuals(v, codes_a, codes_b) for v in (x, y))
    else:
        raise ValueError("absorb one or two labellings")
    n = len(x)
    group_array = groups[0] if len(groups) == 1 else np.column_stack(groups)
    with warnings.catch_warnings():  # statsmodels' two-way sandwich may warn on other entries
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = sm.OLS(y, x[:, None]).fit(cov_type="cluster", cov_kwds={"groups": group_array})
    slope = float(fit.params[0])
    se = float(np.sqrt(fit.cov_params()[0, 0] * (n - 1) / (n - 1 - rank)))
    n_clusters = min(int(g.max()) + 1 for g in groups)
    df = n_clusters - 1
    t = slope / se
    half = stats.t.ppf(0.5 + confidence / 2, df) * se
    return {
        "n": n,
        "slope": slope,
        "se": se,
        "t": float(t),
        "df": df,
        "p_value": float(2 * stats.t.sf(abs(t), df)),
        "ci_low": slope - half,
        "ci_high": slope + half,
        "clusters": n_clusters,
    }
