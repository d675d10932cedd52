"""p-values: how tables print them (:func:`p_value_text`), multiplicity corrections within a family
(:func:`adjust_p_values`) and a permutation χ² test of independence (:func:`chi2_permutation_test`)."""

from __future__ import annotations

import numpy as np
import pandas as pd


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
