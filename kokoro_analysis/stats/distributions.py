"""Distributions and means: Student-t intervals (:func:`t_interval`), :func:`describe` and
:func:`describe_many`, means per group with Student-t and cluster-bootstrap intervals
(:func:`group_mean_intervals`), and a kernel density for bounded data (:func:`reflected_kde`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from kokoro_analysis.stats.resampling import (
    TwoWay,
    bootstrap_counts,
    cluster_codes,
    percentile_interval,
    resample_weights,
    take_clusters,
)


def t_interval(
    mean: np.ndarray, sd: np.ndarray, n: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Student-t confidence interval of a mean (NaN when n < 2)."""
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(0.5 + confidence / 2, np.where(n > 1, n - 1, np.nan)) * sd / np.sqrt(n)
    return mean - half, mean + half


def describe(values) -> dict[str, float]:
    """n, mean, SD (ddof 1), min, p5, Q1, median, Q3, IQR, p95, max of the finite values (linear
    interpolation for percentiles)."""
    array = np.asarray(values, dtype=float)
    array = array[np.isfinite(array)]
    if array.size == 0:
        return {
            "n": 0,
            **{
                k: np.nan
                for k in ("mean", "sd", "min", "p5", "q1", "median", "q3", "iqr", "p95", "max")
            },
        }
    p5, q1, median, q3, p95 = np.percentile(array, [5, 25, 50, 75, 95])
    return {
        "n": int(array.size),
        "mean": float(array.mean()),
        "sd": float(array.std(ddof=1)) if array.size > 1 else np.nan,
        "min": float(array.min()),
        "p5": p5,
        "q1": q1,
        "median": median,
        "q3": q3,
        "iqr": q3 - q1,
        "p95": p95,
        "max": float(array.max()),
    }


def describe_many(
    named_values: Mapping[str, object], units: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """:func:`describe` of several distributions, one row each (index = the names, column ``unit``)."""
    frame = pd.DataFrame.from_dict(
        {name: describe(v) for name, v in named_values.items()}, orient="index"
    )
    frame.insert(0, "unit", [(units or {}).get(name, "") for name in frame.index])
    frame["n"] = frame["n"].astype(np.int64)
    frame.index.name = "distribution"
    return frame


def group_mean_intervals(
    values,
    groups,
    clusters: dict[str, object] | None = None,
    *,
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Mean of ``values`` per group (index: group, order of first appearance) with ``n``, ``sd``, the
    Student-t interval (``ci_low``/``ci_high``, sessions independent) and, for each ``name → labels`` of
    ``clusters``, a percentile cluster-bootstrap interval (``ci_low_<name>``/``ci_high_<name>``: the
    clusters *of that group* resampled, ``n_bootstrap`` times; a :class:`~kokoro_analysis.stats.resampling.TwoWay` resamples both of its
    factors, :func:`~kokoro_analysis.stats.resampling.two_way_bootstrap_counts`, and resamples that draw no session of the group are
    dropped) and, for one labelling, the number of clusters (``<name>s``)."""
    y_all = np.asarray(values, dtype=float)
    group_all = pd.Series(np.asarray(groups, dtype=object))
    keep = np.isfinite(y_all) & group_all.notna().to_numpy()
    clusters = {name: take_clusters(labels, keep) for name, labels in (clusters or {}).items()}
    y_all, group_all = y_all[keep], group_all[keep].reset_index(drop=True)
    rows = []
    for group, positions in group_all.groupby(group_all, sort=False).indices.items():
        y = y_all[positions]
        mean, sd = y.mean(), y.std(ddof=1) if len(y) > 1 else np.nan
        low, high = t_interval(mean, sd, len(y), confidence)
        row = {
            "group": group,
            "n": len(y),
            "mean": mean,
            "sd": sd,
            "ci_low": float(low),
            "ci_high": float(high),
        }
        for name, labels in clusters.items():
            part = take_clusters(labels, positions)
            if isinstance(part, TwoWay):
                weights = resample_weights(len(y), n_bootstrap, seed, part).astype(float)
                with np.errstate(invalid="ignore", divide="ignore"):
                    means = weights @ y / weights.sum(axis=1)
                enough = min(len(set(part.first)), len(set(part.second))) > 1
            else:
                codes, n_clusters = cluster_codes(part)
                row[f"{name}s"] = n_clusters
                draws = bootstrap_counts(n_clusters, n_bootstrap, seed).astype(float)
                sums, sizes = (
                    np.bincount(codes, weights=y, minlength=n_clusters),
                    np.bincount(codes, minlength=n_clusters),
                )
                means, enough = draws @ sums / (draws @ sizes), n_clusters > 1
            row[f"ci_low_{name}"], row[f"ci_high_{name}"] = (
                percentile_interval(means, confidence) if enough else (np.nan, np.nan)
            )
        rows.append(row)
    return pd.DataFrame(rows).set_index("group")


def reflected_kde(values, grid, *, low: float, high: float) -> np.ndarray:
    """Gaussian kernel density of ``values`` (Scott's bandwidth, :func:`scipy.stats.gaussian_kde`)
    at ``grid``, for data bounded to [low, high]: the mass the kernels put beyond either bound is
    reflected back inside (Silverman 1986, 3.10), so the estimate does not fall away at a bound that
    cuts the distribution off, and it integrates to 1 over [low, high]; 0 outside."""
    values = np.asarray(values, dtype=float)
    grid = np.asarray(grid, dtype=float)
    kde = stats.gaussian_kde(values)
    density = kde(grid) + kde(2 * low - grid) + kde(2 * high - grid)
    return np.where((grid >= low) & (grid <= high), density, 0.0)
