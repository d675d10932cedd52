"""Words that distinguish one group of texts from another.

Log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008, "Fightin' Words",
Political Analysis 16(4), eq. 22), over lemma counts. For word w, group i with counts y_i (total n_i),
the comparison counts y_j (total n_j) and prior counts α (total α0):

    δ_w = log((y_iw + α_w) / (n_i + α0 − y_iw − α_w)) − log((y_jw + α_w) / (n_j + α0 − y_jw − α_w))
    σ²_w ≈ 1 / (y_iw + α_w) + 1 / (y_jw + α_w)
    z_w = δ_w / σ_w

The prior is the pooled counts of both groups scaled to ``prior_total`` pseudo-counts (α_w ∝ y_iw + y_jw),
which shrinks rare words towards zero. Positive z: over-used by the group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def log_odds_dirichlet(
    counts_group: pd.Series,
    counts_other: pd.Series,
    *,
    prior_total: float | None = None,
    min_count: int = 1,
) -> pd.DataFrame:
    """Log-odds ratio of every word in ``counts_group`` against ``counts_other`` with an informative prior.

    ``counts_*`` map word → count. ``prior_total`` is α0 (default: the pooled corpus size, i.e. the
    pooled counts themselves as prior). Words seen fewer than ``min_count`` times in both groups together
    are dropped. Returns a frame indexed by word with ``delta``, ``z``, ``count_group``,
    ``count_other``, ``rate_group`` and ``rate_other`` (per 1,000 tokens), sorted by ``z`` descending.
    """
    vocabulary = counts_group.index.union(counts_other.index)
    y_i = counts_group.reindex(vocabulary, fill_value=0).astype(float)
    y_j = counts_other.reindex(vocabulary, fill_value=0).astype(float)
    pooled = y_i + y_j
    keep = pooled >= min_count
    y_i, y_j, pooled = y_i[keep], y_j[keep], pooled[keep]
    alpha0 = float(prior_total) if prior_total is not None else float(pooled.sum())
    alpha = pooled / pooled.sum() * alpha0
    n_i, n_j = y_i.sum(), y_j.sum()
    delta = np.log((y_i + alpha) / (n_i + alpha0 - y_i - alpha)) - np.log(
        (y_j + alpha) / (n_j + alpha0 - y_j - alpha)
    )
    variance = 1.0 / (y_i + alpha) + 1.0 / (y_j + alpha)
    frame = pd.DataFrame(
        {
            "delta": delta,
            "z": delta / np.sqrt(variance),
            "count_group": y_i.astype(np.int64),
            "count_other": y_j.astype(np.int64),
            "rate_group": y_i / max(n_i, 1) * 1000,
            "rate_other": y_j / max(n_j, 1) * 1000,
        }
    )
    frame.index.name = "word"
    return frame.sort_values(["z", "count_group"], ascending=[False, False], kind="mergesort")


def distinguishing_words(
    counts_by_group: pd.DataFrame,
    *,
    top: int = 15,
    min_count: int = 10,
    prior_total: float | None = None,
) -> pd.DataFrame:
    """For each column (group) of a word × group count table, the ``top`` words with the highest z
    against all other groups pooled. Long format: group, rank, word, z, delta, counts, rates."""
    rows = []
    for group in counts_by_group.columns:
        others = counts_by_group.drop(columns=group).sum(axis=1)
        scores = log_odds_dirichlet(
            counts_by_group[group], others, prior_total=prior_total, min_count=min_count
        )
        best = scores.head(top).reset_index()
        best.insert(0, "rank", np.arange(1, len(best) + 1))
        best.insert(0, "group", group)
        rows.append(best)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
