"""General statistics used by the analyses: the correlation methods, Student-t intervals of a mean and
bootstrap resample counts. Nothing here knows the corpus."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

METHODS = ("spearman", "pearson")


def check_method(method: str) -> str:
    """Return ``method`` if it is "spearman" or "pearson"; raise ValueError otherwise."""
    if method not in METHODS:
        raise ValueError(f"method must be 'spearman' or 'pearson', not {method!r}")
    return method


def t_interval(
    mean: np.ndarray, sd: np.ndarray, n: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Student-t confidence interval of a mean (NaN when n < 2)."""
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(0.5 + confidence / 2, np.where(n > 1, n - 1, np.nan)) * sd / np.sqrt(n)
    return mean - half, mean + half


def bootstrap_counts(n: int, n_bootstrap: int, seed: int) -> np.ndarray:
    """(n_bootstrap × n) matrix: how often each of n sessions is drawn in each resample (each row sums
    to n). Row b equals ``np.bincount(rng.integers(0, n, n), minlength=n)`` for the b-th draw of
    ``np.random.default_rng(seed)``."""
    if n < 1 or n_bootstrap < 1:
        raise ValueError("need n >= 1 and n_bootstrap >= 1")
    rng = np.random.default_rng(seed)
    counts = np.empty((n_bootstrap, n), dtype=np.int32)
    for b in range(n_bootstrap):  # one draw per resample: reproducible row by row
        counts[b] = np.bincount(rng.integers(0, n, n), minlength=n)
    return counts


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


def chi2_permutation_test(
    groups: np.ndarray, flags: np.ndarray, *, n_permutations: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """Are boolean ``flags`` independent of the categorical ``groups``? Returns Pearson's χ² of the
    groups × flag table and its permutation p-value: the share of ``n_permutations`` shuffles of
    ``flags`` (``np.random.default_rng(seed)``) whose χ² is at least as large, with +1 smoothing,
    (1 + count) / (1 + n_permutations). Valid when expected counts are small, unlike the χ²
    distribution. NaN when all flags are equal."""
    codes = pd.factorize(pd.Series(groups))[0]
    flags = np.asarray(flags, dtype=bool)
    n, k = len(flags), int(codes.max()) + 1 if len(codes) else 0
    if n == 0 or flags.all() or not flags.any():
        return float("nan"), float("nan")
    sizes = np.bincount(codes, minlength=k).astype(float)
    share = flags.mean()

    def chi2(mask: np.ndarray) -> float:
        flagged = np.bincount(codes[mask], minlength=k)
        expected_flagged, expected_other = sizes * share, sizes * (1 - share)
        return float(
            ((flagged - expected_flagged) ** 2 / expected_flagged).sum()
            + ((sizes - flagged - expected_other) ** 2 / expected_other).sum()
        )

    observed = chi2(flags)
    rng = np.random.default_rng(seed)
    at_least = sum(chi2(rng.permutation(flags)) >= observed - 1e-9 for _ in range(n_permutations))
    return observed, (1 + at_least) / (1 + n_permutations)
