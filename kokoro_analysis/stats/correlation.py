"""Correlations: Spearman ρ (Pearson on mid-ranks) or Pearson r (:func:`correlation_matrix`), with
session, cluster or two-way bootstrap intervals (:func:`bootstrap_correlation`, all resamples at once:
:func:`resampled_correlations`), the correlation *within* clusters
(:func:`within_cluster_correlation`) and the partial correlation (:func:`partial_correlation`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse, stats

from kokoro_analysis.stats.resampling import (
    TwoWay,
    bca_interval,
    bootstrap_summary,
    cluster_codes,
    leave_one_out_weights,
    resample_weights,
    take_clusters,
)

METHODS = ("spearman", "pearson")


def check_method(method: str) -> str:
    """Return ``method`` if it is "spearman" or "pearson"; raise ValueError otherwise."""
    if method not in METHODS:
        raise ValueError(f"method must be 'spearman' or 'pearson', not {method!r}")
    return method


def correlation_matrix(values: np.ndarray, method: str = "spearman") -> np.ndarray:
    """Correlation matrix of the columns of ``values`` (Spearman = Pearson on average ranks).
    Constant columns give NaN rows/columns."""
    matrix = np.asarray(values, dtype=float)
    if check_method(method) == "spearman":
        matrix = stats.rankdata(matrix, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        centred = matrix - matrix.mean(axis=0)
        norms = np.sqrt((centred**2).sum(axis=0))
        corr = centred.T @ centred / np.outer(norms, norms)
    corr[np.isfinite(corr)] = np.clip(corr[np.isfinite(corr)], -1, 1)
    return corr


def weighted_midranks(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Ranks of ``values`` within each resample (rows of ``weights``: how often each value is drawn);
    tied values share their mean rank. Values drawn 0 times get a rank that receives no weight."""
    return _grouped_midranks(_tie_groups(values), weights)


def _tie_groups(values: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray]:
    """The tie groups of ``values`` (no NaN) in ascending order of value: a (groups × n) 0/1
    membership matrix and the group of each value. Computed once per variable, used for every block
    of resamples (:func:`_grouped_midranks`)."""
    group = np.unique(values, return_inverse=True)[1].ravel()
    member = sparse.csr_matrix(
        (np.ones(len(group)), (group, np.arange(len(group)))), shape=(int(group.max()) + 1, len(group))
    ) if len(group) else sparse.csr_matrix((0, 0))  # fmt: skip
    return member, group


def _grouped_midranks(
    groups: tuple[sparse.csr_matrix, np.ndarray], weights: np.ndarray
) -> np.ndarray:
    """:func:`weighted_midranks` from the :func:`_tie_groups` of the values: a group drawn c times
    after C draws of smaller values has the mean rank C + (c + 1) / 2 (sums of counts: exact)."""
    member, group = groups
    counts = np.asarray(member @ np.asarray(weights, dtype=float).T).T  # draws per tie group
    midrank = np.cumsum(counts, axis=1)
    midrank -= (counts - 1) / 2
    return np.take(midrank, group, axis=1)


def weighted_pearson(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Pearson r per row of ``weights``; ``x``/``y`` are vectors or (rows × n) matrices."""
    return _pearson_of_centred(_deviations(x, weights), _centred(y, weights), weights)


def _deviations(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``values`` minus their weighted mean in each row of ``weights``."""
    total = weights.sum(axis=1)
    sums = weights @ values if values.ndim == 1 else np.einsum("ij,ij->i", weights, values)
    return values - (sums / total)[:, None]


def _centred(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The y side of :func:`weighted_pearson`: :func:`_deviations` d and Σ w d² per row, kept for a
    variable correlated with many others."""
    deviations = _deviations(values, weights)
    return deviations, np.einsum("ij,ij,ij->i", weights, deviations, deviations)


def _pearson_of_centred(dx: np.ndarray, y_side, weights: np.ndarray) -> np.ndarray:
    """Pearson r per row of ``weights`` from the deviations of x and the :func:`_centred` y side."""
    weighted_dx = weights * dx
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = np.einsum("ij,ij->i", weighted_dx, dx) * y_side[1]
        return np.einsum("ij,ij->i", weighted_dx, y_side[0]) / np.sqrt(spread)


def centred_within(values: np.ndarray, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """``values`` (a vector, or resamples × n) minus the plain mean of their cluster (``codes``)."""
    values = np.asarray(values, dtype=float)
    sizes = np.bincount(codes, minlength=n_clusters).astype(float)
    member = sparse.csr_matrix(
        (1 / sizes[codes], (np.arange(len(codes)), codes)), shape=(len(codes), n_clusters)
    )
    means = (member.T @ values.T).T if values.ndim == 2 else member.T @ values
    return values - (means[:, codes] if values.ndim == 2 else means[codes])


def within_cluster_correlation(x, y, clusters, method: str = "spearman") -> float:
    """Correlation of x and y *within* clusters: both (Spearman: their ranks over all pairs) centred on
    their cluster's mean, then Pearson r of the centred values, so stable differences between clusters
    cannot create it. Pairs with a NaN are dropped; clusters with one pair contribute nothing."""
    x, y, clusters = complete_pairs(x, y, clusters)
    if check_method(method) == "spearman":
        x, y = stats.rankdata(x), stats.rankdata(y)
    codes, n_clusters = cluster_codes(clusters)
    cx, cy = centred_within(x, codes, n_clusters), centred_within(y, codes, n_clusters)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float((cx * cy).sum() / np.sqrt((cx**2).sum() * (cy**2).sum()))


def complete_pairs(x, y, clusters=None):
    """x, y (float) and the cluster labels of the pairs without a NaN."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) != len(y) or (clusters is not None and len(clusters) != len(x)):
        raise ValueError("x, y and clusters must have the same length")
    keep = np.isfinite(x) & np.isfinite(y)
    return (
        x[keep],
        y[keep],
        (None if clusters is None else np.asarray(clusters, dtype=object)[keep]),
    )


def bootstrap_correlation(
    x,
    y,
    *,
    method: str = "spearman",
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    clusters=None,
    within=None,
    chunk: int = 50,
    cache: dict | None = None,
    bca: bool = False,
    keep_values: bool = False,
) -> dict:
    """Correlation (``method``) of x and y with a percentile bootstrap CI (pairs with a NaN dropped).
    ``clusters=None`` resamples pairs (:func:`~kokoro_analysis.stats.resampling.bootstrap_counts`); one labelling resamples whole
    clusters, each with all its pairs (:func:`~kokoro_analysis.stats.resampling.cluster_bootstrap_counts`); a :class:`~kokoro_analysis.stats.resampling.TwoWay` resamples
    both factors (:func:`~kokoro_analysis.stats.resampling.two_way_bootstrap_counts`). ``within`` (cluster labels): the statistic is
    :func:`within_cluster_correlation` for those clusters, recomputed in every resample. All resamples
    are evaluated at once (:func:`resampled_correlations`); a Spearman resample ranks the drawn values
    afresh. Resamples with an undefined r (a constant variable, or no pair drawn) are dropped.
    ``cache``: a dict shared by calls with the same ``y``, ``clusters``, ``n_bootstrap`` and ``seed``
    (the resample weights and the ranks of ``y`` are reused when no pair is dropped).

    Returns ``n``, ``r``, ``ci_low``, ``ci_high`` (percentile), ``se`` (SD of the resampled r),
    ``mc_se`` (Monte Carlo standard error of the interval's ends, the larger of the two:
    :func:`~kokoro_analysis.stats.resampling.quantile_mc_se`), ``p_value`` (scipy's test of r = 0, valid for independent pairs only; NaN
    for a within correlation), ``p_boot`` (two-sided Wald test of r = 0 with the bootstrap SE, normal
    reference) and ``n_bootstrap`` (resamples used). ``bca=True`` (needs ``clusters``) adds the BCa
    interval ``bca_low``/``bca_high`` (:func:`~kokoro_analysis.stats.resampling.bca_interval`, acceleration from the leave-one-cluster-out
    jackknife of every resampled factor); ``keep_values=True`` adds the resampled r as ``values``."""
    check_method(method)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    cluster_labels = take_clusters(clusters, keep)
    within_labels = None if within is None else np.asarray(within, dtype=object)[keep]
    x, y = x[keep], y[keep]
    n = len(x)
    undefined = ("r", "ci_low", "ci_high", "se", "mc_se", "p_value", "p_boot")
    result = {"n": n, **dict.fromkeys(undefined, np.nan), "n_bootstrap": 0}
    result.update(dict(bca_low=np.nan, bca_high=np.nan) if bca else {})
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return result
    result["r"], result["p_value"] = _point_correlation(x, y, method, within_labels)
    shared = cache if cache is not None and keep.all() else {}
    if "weights" not in shared:
        shared["weights"] = resample_weights(n, n_bootstrap, seed, cluster_labels)
    values = resampled_correlations(
        x, y, shared["weights"], method=method, within=within_labels, chunk=chunk, cache=shared
    )
    result.update(bootstrap_summary(values, result["r"], confidence))
    if bca:
        leave_out = _cluster_jackknife_for_bca(x, y, cluster_labels, method, within_labels)
        result["bca_low"], result["bca_high"] = bca_interval(
            values, result["r"], leave_out, confidence
        )
    if keep_values:
        result["values"] = values
    return result


def _cluster_jackknife_for_bca(x, y, cluster_labels, method: str, within_labels) -> dict:
    """:func:`cluster_jackknife` for a BCa interval, which needs clusters."""
    if cluster_labels is None:
        raise ValueError("a BCa interval needs clusters (its jackknife leaves out one cluster)")
    return cluster_jackknife(x, y, cluster_labels, method=method, within=within_labels)


def _point_correlation(x, y, method: str, within_labels) -> tuple[float, float]:
    """The correlation of x and y and scipy's p-value of r = 0 (NaN for a within correlation)."""
    if within_labels is None:
        test = stats.spearmanr(x, y) if method == "spearman" else stats.pearsonr(x, y)
        return float(test[0]), float(test[1])
    return within_cluster_correlation(x, y, within_labels, method), np.nan


def resampled_correlations(
    x, y, weights: np.ndarray, *, method: str = "spearman", within=None, chunk: int = 50,
    cache: dict | None = None,
) -> np.ndarray:  # fmt: skip
    """The correlation (``method``) of x and y in every resample given by the rows of ``weights``
    (how often each pair is drawn; no NaN allowed in x, y), or the within-cluster correlation for the
    labels ``within``. Evaluated ``chunk`` resamples at a time (small enough for a core's cache: 50 x
    6,589 sessions x 8 bytes is 2.6 MB; 200 was about 1.7x slower). ``cache`` (a dict for one ``y`` and
    one ``weights``) keeps the centred resample ranks of ``y``. NaN where r is undefined."""
    shared = {} if cache is None else cache
    ranked = method == "spearman" and within is None
    if ranked:
        x_groups = _tie_groups(x)
        if "y_groups" not in shared:
            shared["y_groups"] = _tie_groups(y)
    boot = []
    for start in range(0, len(weights), chunk):
        block = np.asarray(weights[start : start + chunk], dtype=float)
        if within is not None:
            boot.append(_within_resample_correlations(x, y, block, method, within))
        elif not ranked:
            boot.append(weighted_pearson(x, y, block))
        else:
            if ("y_side", start) not in shared:
                y_ranks = _grouped_midranks(shared["y_groups"], block)
                shared[("y_side", start)] = _centred(y_ranks, block)
            dx = _deviations(_grouped_midranks(x_groups, block), block)
            boot.append(_pearson_of_centred(dx, shared[("y_side", start)], block))
    return np.concatenate(boot) if boot else np.empty(0)


def cluster_jackknife(x, y, clusters, *, method: str = "spearman", within=None) -> dict:
    """Leave-one-cluster-out values of the correlation of x and y (no NaN): for one labelling
    ``{"clusters": Series}``; for a :class:`~kokoro_analysis.stats.resampling.TwoWay` ``{"first": …, "second": …}``, each Series indexed
    by the cluster left out."""
    parts = (
        {"first": clusters.first, "second": clusters.second}
        if isinstance(clusters, TwoWay)
        else {"clusters": clusters}
    )
    out = {}
    for name, labels in parts.items():
        weights, index = leave_one_out_weights(labels)
        out[name] = pd.Series(
            resampled_correlations(x, y, weights, method=method, within=within), index=index
        )
    return out


def _within_resample_correlations(x, y, weights, method, within_labels) -> np.ndarray:
    """:func:`within_cluster_correlation` of each resample (rows of ``weights``): values centred on
    their cluster's weighted mean in that resample (the plain mean of the drawn copies; with a
    one-way cluster bootstrap of the same clusters, the plain mean of the cluster's pairs)."""
    codes, n_clusters = cluster_codes(within_labels)
    if method == "spearman":
        x, y = weighted_midranks(x, weights), weighted_midranks(y, weights)
    else:
        x, y = np.broadcast_to(x, weights.shape), np.broadcast_to(y, weights.shape)
    member = sparse.csr_matrix(
        (np.ones(len(codes)), (np.arange(len(codes)), codes)), shape=(len(codes), n_clusters)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        totals = np.asarray((member.T @ weights.T).T)

        def centred(values: np.ndarray) -> np.ndarray:
            means = np.asarray((member.T @ (weights * values).T).T) / totals
            return values - np.nan_to_num(means)[:, codes]

        return weighted_pearson(centred(x), centred(y), weights)


def partial_correlation(x, y, z, method: str = "spearman") -> float:
    """Partial correlation of x and y given z (Spearman: of their ranks), from the three pairwise
    correlations: (r_xy − r_xz r_yz) / √((1 − r_xz²)(1 − r_yz²)). Triples with a NaN are dropped."""
    matrix = np.column_stack([np.asarray(v, dtype=float) for v in (x, y, z)])
    matrix = matrix[np.isfinite(matrix).all(axis=1)]
    corr = correlation_matrix(matrix, method)
    return float(_partial(corr[0, 1], corr[0, 2], corr[1, 2]))


def _partial(r_xy, r_xz, r_yz):
    with np.errstate(invalid="ignore", divide="ignore"):
        return (r_xy - r_xz * r_yz) / np.sqrt((1 - r_xz**2) * (1 - r_yz**2))


def resampled_partial_correlations(
    x, y, z, weights: np.ndarray, *, method: str = "spearman", chunk: int = 50
) -> np.ndarray:
    """:func:`partial_correlation` in every resample given by the rows of ``weights`` (no NaN allowed;
    Spearman: each resample ranked afresh)."""
    boot = []
    for start in range(0, len(weights), chunk):
        block = weights[start : start + chunk].astype(float)
        values = [np.asarray(v, dtype=float) for v in (x, y, z)]
        if check_method(method) == "spearman":
            values = [weighted_midranks(v, block) for v in values]
        else:
            values = [np.broadcast_to(v, block.shape) for v in values]
        r_xy, r_xz, r_yz = (
            weighted_pearson(values[i], values[j], block) for i, j in ((0, 1), (0, 2), (1, 2))
        )
        boot.append(_partial(r_xy, r_xz, r_yz))
    return np.concatenate(boot) if boot else np.empty(0)
