"""General statistics used by the analyses. Nothing here knows the corpus.

* Means: Student-t intervals (:func:`t_interval`), :func:`describe`, and means per group with Student-t and
  cluster-bootstrap intervals (:func:`group_mean_intervals`).
* Resampling: session resamples (:func:`bootstrap_counts`) and cluster resamples
  (:func:`cluster_bootstrap_counts`: whole clusters drawn with replacement, each with all its sessions),
  both as weight matrices so that every resample's statistic is computed at once.
* Correlations: Spearman ρ (Pearson on mid-ranks) or Pearson r (:func:`correlation_matrix`,
  :func:`bootstrap_correlation` with session or cluster resamples), the correlation *within* clusters
  (:func:`within_cluster_correlation`) and the fixed-effects regression whose test has the right degrees of
  freedom (:func:`within_cluster_regression`); polychoric correlations of ordinal answers
  (:func:`polychoric_matrix`) and standardised / ordinal alpha (:func:`standardized_alpha`).
* Intraclass correlation ICC(1) of one grouping by the ANOVA estimator (:func:`icc_oneway`) and by REML
  (:func:`icc_oneway_reml`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, sparse, special, stats

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
    # one draw per resample: reproducible row by row
    return _draw_counts(np.random.default_rng(seed), n, n_bootstrap)


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


# --------------------------------------------------------------------------- resampling


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


def p_value_text(p: float) -> str:
    """A p-value as tables and prose print it: three decimals, ``< 0.001`` below that (no scientific
    notation); ``—`` when undefined."""
    if not np.isfinite(p):
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


P_ADJUSTMENTS = {"holm": "Holm", "bh": "Benjamini-Hochberg"}
"""Multiplicity corrections of :func:`adjust_p_values`: key → name a caption prints."""


def adjust_p_values(p_values, correction: str = "holm") -> np.ndarray:
    """p-values adjusted for multiplicity within one family (statsmodels' ``multipletests``):
    ``"holm"`` (Holm 1979, family-wise error) or ``"bh"`` (Benjamini-Hochberg 1995, false discovery
    rate). NaN p-values stay NaN and do not count as members of the family."""
    from statsmodels.stats.multitest import multipletests

    if correction not in P_ADJUSTMENTS:
        raise ValueError(
            f"correction must be one of {', '.join(P_ADJUSTMENTS)}, not {correction!r}"
        )
    p_values = np.asarray(p_values, dtype=float)
    out = np.full_like(p_values, np.nan)
    finite = np.isfinite(p_values)
    if finite.any():
        method = "holm" if correction == "holm" else "fdr_bh"
        out[finite] = multipletests(p_values[finite], method=method)[1]
    return out


def percentile_interval(values, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the finite ``values`` (NaN, NaN when there are none)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not values.size:
        return float("nan"), float("nan")
    low, high = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


# --------------------------------------------------------------------------- correlations


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


def _weighted_midranks(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Ranks of ``values`` within each resample (rows of ``weights``: how often each value is drawn);
    tied values share their mean rank. Values drawn 0 times get a rank that receives no weight."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    starts = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    group = np.cumsum(starts) - 1  # tie group of each sorted value
    ends = np.r_[np.flatnonzero(starts)[1:], len(values)] - 1
    cumulative = np.cumsum(weights[:, order], axis=1, dtype=float)[:, ends]  # drawn up to the group
    before = np.empty_like(cumulative)  # drawn before the group
    before[:, 0] = 0
    before[:, 1:] = cumulative[:, :-1]
    midrank = (before + cumulative + 1) / 2
    position = np.empty_like(order)
    position[order] = np.arange(len(order))  # where each value sits in the sorted order
    return np.take(midrank, group[position], axis=1)


def _weighted_pearson(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Pearson r per row of ``weights``; ``x``/``y`` are vectors or (rows × n) matrices."""
    total = weights.sum(axis=1)

    def weighted_mean(values: np.ndarray) -> np.ndarray:
        sums = weights @ values if values.ndim == 1 else np.einsum("ij,ij->i", weights, values)
        return sums / total

    dx = x - weighted_mean(x)[:, None]
    dy = y - weighted_mean(y)[:, None]
    weighted_dx = weights * dx
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = np.einsum("ij,ij->i", weighted_dx, dx) * np.einsum("ij,ij,ij->i", weights, dy, dy)
        return np.einsum("ij,ij->i", weighted_dx, dy) / np.sqrt(spread)


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
    x, y, clusters = _complete(x, y, clusters)
    if check_method(method) == "spearman":
        x, y = stats.rankdata(x), stats.rankdata(y)
    codes, n_clusters = cluster_codes(clusters)
    cx, cy = centred_within(x, codes, n_clusters), centred_within(y, codes, n_clusters)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float((cx * cy).sum() / np.sqrt((cx**2).sum() * (cy**2).sum()))


def _complete(x, y, clusters=None):
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
    ``clusters=None`` resamples pairs (:func:`bootstrap_counts`); one labelling resamples whole
    clusters, each with all its pairs (:func:`cluster_bootstrap_counts`); a :class:`TwoWay` resamples
    both factors (:func:`two_way_bootstrap_counts`). ``within`` (cluster labels): the statistic is
    :func:`within_cluster_correlation` for those clusters, recomputed in every resample. All resamples
    are evaluated at once (:func:`resampled_correlations`); a Spearman resample ranks the drawn values
    afresh. Resamples with an undefined r (a constant variable, or no pair drawn) are dropped.
    ``cache``: a dict shared by calls with the same ``y``, ``clusters``, ``n_bootstrap`` and ``seed``
    (the resample weights and the ranks of ``y`` are reused when no pair is dropped).

    Returns ``n``, ``r``, ``ci_low``, ``ci_high`` (percentile), ``se`` (SD of the resampled r),
    ``mc_se`` (Monte Carlo standard error of the interval's ends, the larger of the two:
    :func:`quantile_mc_se`), ``p_value`` (scipy's test of r = 0, valid for independent pairs only; NaN
    for a within correlation), ``p_boot`` (two-sided Wald test of r = 0 with the bootstrap SE, normal
    reference) and ``n_bootstrap`` (resamples used). ``bca=True`` (needs ``clusters``) adds the BCa
    interval ``bca_low``/``bca_high`` (:func:`bca_interval`, acceleration from the leave-one-cluster-out
    jackknife of every resampled factor); ``keep_values=True`` adds the resampled r as ``values``."""
    check_method(method)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    cluster_labels = take_clusters(clusters, keep)
    within_labels = None if within is None else np.asarray(within, dtype=object)[keep]
    x, y = x[keep], y[keep]
    n = len(x)
    result = dict(
        n=n, r=np.nan, ci_low=np.nan, ci_high=np.nan, se=np.nan, mc_se=np.nan, p_value=np.nan,
        p_boot=np.nan, n_bootstrap=0,
    )  # fmt: skip
    if bca:
        result.update(bca_low=np.nan, bca_high=np.nan)
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return result
    if within_labels is None:
        test = stats.spearmanr(x, y) if method == "spearman" else stats.pearsonr(x, y)
        result["r"], result["p_value"] = float(test[0]), float(test[1])
    else:
        result["r"] = within_cluster_correlation(x, y, within_labels, method)
    shared = cache if cache is not None and keep.all() else {}
    if "weights" not in shared:
        shared["weights"] = resample_weights(n, n_bootstrap, seed, cluster_labels)
    values = resampled_correlations(
        x, y, shared["weights"], method=method, within=within_labels, chunk=chunk, cache=shared
    )
    result.update(bootstrap_summary(values, result["r"], confidence))
    if bca:
        if cluster_labels is None:
            raise ValueError("a BCa interval needs clusters (its jackknife leaves out one cluster)")
        leave_out = cluster_jackknife(x, y, cluster_labels, method=method, within=within_labels)
        result["bca_low"], result["bca_high"] = bca_interval(
            values, result["r"], leave_out, confidence
        )
    if keep_values:
        result["values"] = values
    return result


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


def resampled_correlations(
    x, y, weights: np.ndarray, *, method: str = "spearman", within=None, chunk: int = 50,
    cache: dict | None = None,
) -> np.ndarray:  # fmt: skip
    """The correlation (``method``) of x and y in every resample given by the rows of ``weights``
    (how often each pair is drawn; no NaN allowed in x, y), or the within-cluster correlation for the
    labels ``within``. Evaluated ``chunk`` resamples at a time (small enough for a core's cache: 50 x
    6,589 sessions x 8 bytes is 2.6 MB; 200 was about 1.7x slower). ``cache`` (a dict for one ``y`` and
    one ``weights``) keeps the resample ranks of ``y``. NaN where r is undefined."""
    shared = {} if cache is None else cache
    boot = []
    for start in range(0, len(weights), chunk):
        block = weights[start : start + chunk].astype(float)
        if within is not None:
            boot.append(_within_resample_correlations(x, y, block, method, within))
        elif method == "pearson":
            boot.append(_weighted_pearson(x, y, block))
        else:
            if ("y_ranks", start) not in shared:
                shared[("y_ranks", start)] = _weighted_midranks(y, block)
            x_ranks = _weighted_midranks(x, block)
            boot.append(_weighted_pearson(x_ranks, shared[("y_ranks", start)], block))
    return np.concatenate(boot) if boot else np.empty(0)


def leave_one_out_weights(labels) -> tuple[np.ndarray, pd.Index]:
    """(G × n) 0/1 weights, row g leaving out cluster g of ``labels`` (order of first appearance),
    and the cluster labels."""
    codes, uniques = pd.factorize(pd.Series(np.asarray(labels, dtype=object)))
    if (codes < 0).any():
        raise ValueError("cluster labels contain missing values")
    weights = np.ones((len(uniques), len(codes)), dtype=np.int32)
    weights[codes, np.arange(len(codes))] = 0
    return weights, pd.Index(uniques)


def cluster_jackknife(x, y, clusters, *, method: str = "spearman", within=None) -> dict:
    """Leave-one-cluster-out values of the correlation of x and y (no NaN): for one labelling
    ``{"clusters": Series}``; for a :class:`TwoWay` ``{"first": …, "second": …}``, each Series indexed
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


def bca_interval(
    values, estimate: float, leave_out: Mapping[str, object], confidence: float = 0.95
) -> tuple[float, float]:
    """Bias-corrected and accelerated (BCa) bootstrap interval (Efron 1987) from resampled ``values``
    of a statistic with point ``estimate``. Bias correction z₀ = Φ⁻¹(share of values < estimate, ties
    counted half); acceleration a = Σ U³ / (6 (Σ U²)^{3/2}) from the jackknife influence values
    U = (G − 1)(θ̄ − θ₍₋g₎) of every factor in ``leave_out`` (name → leave-one-cluster-out values,
    :func:`cluster_jackknife`); with two crossed factors their influence values are pooled, since the
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


def _within_resample_correlations(x, y, weights, method, within_labels) -> np.ndarray:
    """:func:`within_cluster_correlation` of each resample (rows of ``weights``): values centred on
    their cluster's weighted mean in that resample (the plain mean of the drawn copies; with a
    one-way cluster bootstrap of the same clusters, the plain mean of the cluster's pairs)."""
    codes, n_clusters = cluster_codes(within_labels)
    if method == "spearman":
        x, y = _weighted_midranks(x, weights), _weighted_midranks(y, weights)
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

        return _weighted_pearson(centred(x), centred(y), weights)


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
            values = [_weighted_midranks(v, block) for v in values]
        else:
            values = [np.broadcast_to(v, block.shape) for v in values]
        r_xy, r_xz, r_yz = (
            _weighted_pearson(values[i], values[j], block) for i, j in ((0, 1), (0, 2), (1, 2))
        )
        boot.append(_partial(r_xy, r_xz, r_yz))
    return np.concatenate(boot) if boot else np.empty(0)


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
    ``rank_then_centre`` (:func:`within_cluster_correlation`: ranks over all pairs, centred on each
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
    x, y, labels = _complete(x, y, clusters)
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


# --------------------------------------------------------------------------- means


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
    clusters *of that group* resampled, ``n_bootstrap`` times; a :class:`TwoWay` resamples both of its
    factors, :func:`two_way_bootstrap_counts`, and resamples that draw no session of the group are
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


# --------------------------------------------------------------------------- ICC


def icc_oneway(values, groups, *, confidence: float = 0.95) -> dict[str, float]:
    """One-way random-effects intraclass correlation ICC(1) (Shrout & Fleiss 1979), ANOVA estimator:

        ICC(1) = (MSB − MSW) / (MSB + (k0 − 1) · MSW),
        k0 = (N − Σ n_g² / N) / (G − 1)   (mean group size, adjusted for unequal sizes)

    with MSB/MSW the between/within-group mean squares of G groups and N observations: the share of
    variance due to the grouping. CI from the F distribution (exact for equal group sizes, the usual
    approximation with k0 otherwise): F_L = F / F_{1−α/2}(G−1, N−G), F_U = F · F_{1−α/2}(N−G, G−1),
    bounds (F_x − 1) / (F_x + k0 − 1). Observations with a missing value are dropped."""
    frame = pd.DataFrame({"y": np.asarray(values, dtype=float), "g": np.asarray(groups)}).dropna()
    sizes = frame.groupby("g")["y"].size()
    n_obs, n_groups = len(frame), len(sizes)
    if n_groups < 2 or n_obs <= n_groups:
        raise ValueError(
            f"need at least 2 groups and more observations than groups (got {n_groups}, {n_obs})"
        )
    means = frame.groupby("g")["y"].mean()
    grand = frame["y"].mean()
    ssb = float((sizes * (means - grand) ** 2).sum())
    ssw = float(((frame["y"] - frame["g"].map(means)) ** 2).sum())
    df1, df2 = n_groups - 1, n_obs - n_groups
    msb, msw = ssb / df1, ssw / df2
    k0 = (n_obs - (sizes**2).sum() / n_obs) / df1
    icc = (msb - msw) / (msb + (k0 - 1) * msw)
    f = msb / msw if msw > 0 else np.inf
    alpha = 1 - confidence
    f_low = f / stats.f.ppf(1 - alpha / 2, df1, df2)
    f_high = f * stats.f.ppf(1 - alpha / 2, df2, df1)
    with np.errstate(
        invalid="ignore", divide="ignore"
    ):  # no within-group variance: F = ∞, no interval
        low, high = (f_low - 1) / (f_low + k0 - 1), (f_high - 1) / (f_high + k0 - 1)
    return {
        "icc": float(icc),
        "ci_low": float(low),
        "ci_high": float(high),
        "F": float(f),
        "df_between": df1,
        "df_within": df2,
        "p_value": float(stats.f.sf(f, df1, df2)),
        "groups": n_groups,
        "observations": n_obs,
        "k0": float(k0),
        "ms_between": msb,
        "ms_within": msw,
    }


def _group_moments(values, groups) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Size, sum and sum of squares of ``values`` per group (order of first appearance; pairs with a
    missing value dropped). Raises ValueError with fewer than 2 groups or no more values than groups."""
    frame = pd.DataFrame(
        {"y": np.asarray(values, dtype=float), "g": np.asarray(groups, dtype=object)}
    ).dropna()
    codes, n_groups = cluster_codes(frame["g"])
    y = frame["y"].to_numpy()
    if n_groups < 2 or len(y) <= n_groups:
        raise ValueError(
            f"need at least 2 groups and more observations than groups (got {n_groups}, {len(y)})"
        )
    return (
        np.bincount(codes, minlength=n_groups).astype(float),
        np.bincount(codes, weights=y, minlength=n_groups),
        np.bincount(codes, weights=y * y, minlength=n_groups),
    )


def icc_oneway_reml(values, groups) -> dict[str, float]:
    """ICC of the one-way random-effects model y = μ + u_group + e (u ~ N(0, σ²_u), e ~ N(0, σ²_e)) with
    the variances estimated by REML: ICC = σ²_u / (σ²_u + σ²_e). With γ = σ²_u / σ²_e the profiled
    criterion is −2ℓ_R = (N − 1) log σ̂²_e + Σ_g log(1 + γ n_g) + log Σ_g n_g / (1 + γ n_g) (+ const),
    minimised over γ ≥ 0 (bounded scalar search on √γ). Unlike the ANOVA estimator it cannot be negative
    and weights groups by their information, so the two differ for unbalanced groups. Returns ``icc``,
    ``between_variance``, ``within_variance``, ``groups``, ``observations``."""
    sizes, sums, squares = _group_moments(values, groups)
    n_groups, n = len(sizes), int(sizes.sum())

    def parts(root: float) -> tuple[float, float, float]:
        shrink = root * root / (1 + root * root * sizes)  # γ / (1 + γ n_g)
        one_h1 = float((sizes * (1 - shrink * sizes)).sum())
        one_hy = float((sums * (1 - shrink * sizes)).sum())
        rss = float((squares - shrink * sums**2).sum()) - one_hy**2 / one_h1
        return rss, one_h1, one_hy

    def criterion(root: float) -> float:
        rss, one_h1, _ = parts(root)
        return (
            (n - 1) * np.log(rss / (n - 1)) + np.log1p(root * root * sizes).sum() + np.log(one_h1)
        )

    fit = optimize.minimize_scalar(
        criterion, bounds=(0, 100), method="bounded", options={"xatol": 1e-10}
    )
    root = fit.x if criterion(fit.x) <= criterion(0.0) else 0.0
    within = parts(root)[0] / (n - 1)
    between = root * root * within
    return {
        "icc": between / (between + within),
        "between_variance": between,
        "within_variance": within,
        "groups": n_groups,
        "observations": n,
    }


def icc_cluster_bootstrap(
    values, groups, *, n_bootstrap: int = 1000, seed: int = 0, confidence: float = 0.95
) -> dict[str, float]:
    """Percentile intervals of ICC(1) by the ANOVA estimator (:func:`icc_oneway`) and by REML
    (:func:`icc_oneway_reml`) from a bootstrap of whole groups (:func:`bootstrap_counts` of the G
    groups; a group drawn k times counts as k groups). Each resample is computed from the groups' sizes,
    sums and sums of squares, all resamples at once (REML: golden-section search of √γ on [0, 5], i.e.
    ICC up to 0.96, 60 steps, against γ = 0). Returns ``icc``/``icc_reml`` (the estimates),
    ``ci_low``/``ci_high`` (ANOVA), ``ci_low_reml``/``ci_high_reml``, ``mc_se`` (largest Monte Carlo
    error of the four ends, :func:`quantile_mc_se`) and ``n_bootstrap``."""
    sizes, sums, squares = _group_moments(values, groups)
    n_groups = len(sizes)
    draws = np.vstack(
        [np.ones(n_groups), bootstrap_counts(n_groups, n_bootstrap, seed).astype(float)]
    )  # row 0: the data themselves
    n = draws @ sizes
    grand = draws @ sums / n
    ssb = draws @ (sums**2 / sizes) - n * grand**2
    ssw = draws @ (squares - sums**2 / sizes)
    msb, msw = ssb / (n_groups - 1), ssw / (n - n_groups)
    k0 = (n - draws @ sizes**2 / n) / (n_groups - 1)
    anova = (msb - msw) / (msb + (k0 - 1) * msw)

    def criterion(root: np.ndarray) -> np.ndarray:
        gamma = (root * root)[:, None]
        shrink = gamma / (1 + gamma * sizes)
        one_h1 = (draws * sizes * (1 - shrink * sizes)).sum(axis=1)
        one_hy = (draws * sums * (1 - shrink * sizes)).sum(axis=1)
        rss = (draws * (squares - shrink * sums**2)).sum(axis=1) - one_hy**2 / one_h1
        logdet = (draws * np.log1p(gamma * sizes)).sum(axis=1)
        return (n - 1) * np.log(rss / (n - 1)) + logdet + np.log(one_h1)

    root = _golden_section(criterion, len(draws), 0.0, 5.0, 60)
    root = np.where(criterion(root) <= criterion(np.zeros_like(root)), root, 0.0)
    gamma = root * root
    reml = gamma / (1 + gamma)
    out = {"icc": float(anova[0]), "icc_reml": float(reml[0])}
    errors = []
    for suffix, boot in (("", anova[1:]), ("_reml", reml[1:])):
        out[f"ci_low{suffix}"], out[f"ci_high{suffix}"] = percentile_interval(boot, confidence)
        errors += [quantile_mc_se(boot, p) for p in ((1 - confidence) / 2, (1 + confidence) / 2)]
    out["mc_se"], out["n_bootstrap"] = float(max(errors)), n_bootstrap
    return out


# --------------------------------------------------------------------------- polychoric


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
    estimate = _golden_section(
        lambda rho: _negative_log_likelihood(tables, low, high, rho), len(rows), -0.999, 0.999,
        iterations,
    )  # fmt: skip
    corr = np.eye(k)
    corr[rows, cols] = corr[cols, rows] = estimate
    constant = np.array([len(np.unique(codes[:, j])) < 2 for j in range(k)])
    corr[constant, :] = corr[:, constant] = np.nan
    return corr


def _golden_section(objective, size: int, low: float, high: float, iterations: int) -> np.ndarray:
    """Minimise ``size`` unimodal functions at once (``objective`` maps a vector of arguments to a vector
    of values) by golden-section search on [low, high]; returns the midpoints of the final brackets."""
    ratio = (np.sqrt(5) - 1) / 2
    lo, hi = np.full(size, low), np.full(size, high)
    x1, x2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    f1, f2 = objective(x1), objective(x2)
    for _ in range(iterations):
        left = f1 < f2  # the minimum lies in [lo, x2]
        lo, hi = np.where(left, lo, x1), np.where(left, x2, hi)
        new = np.where(left, hi - ratio * (hi - lo), lo + ratio * (hi - lo))
        value = objective(new)
        x1, x2, f1, f2 = (
            np.where(left, new, x2),
            np.where(left, x1, new),
            np.where(left, value, f2),
            np.where(left, f1, value),
        )
    return (lo + hi) / 2


def standardized_alpha(corr) -> float:
    """Standardised alpha of a correlation matrix: k · r̄ / (1 + (k − 1) · r̄), r̄ = mean off-diagonal
    correlation. On a polychoric matrix this is *ordinal alpha* (Zumbo, Gadermann & Zeisser 2007)."""
    corr = np.asarray(corr, dtype=float)
    k = len(corr)
    mean = float(np.nanmean(corr[np.triu_indices(k, 1)]))
    return k * mean / (1 + (k - 1) * mean)
