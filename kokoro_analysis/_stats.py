"""Helpers shared by the client-feedback modules (:mod:`kokoro_analysis.feedback`,
:mod:`kokoro_analysis.item_structure`, :mod:`kokoro_analysis.score_features`, :mod:`kokoro_analysis.raters`):
the correlation-method check, the (sessions × items) answer matrix, the per-item table, Student-t intervals of a mean and the
bootstrap resample counts. The conventions are described in :mod:`kokoro_analysis.feedback`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from . import schema

METHODS = ("spearman", "pearson")


def check_method(method: str) -> str:
    """Return ``method`` if it is "spearman" or "pearson"; raise ValueError otherwise."""
    if method not in METHODS:
        raise ValueError(f"method must be 'spearman' or 'pearson', not {method!r}")
    return method


def _item_matrix(dialogues: pd.DataFrame, keys: Sequence[str] = schema.ITEM_KEYS) -> np.ndarray:
    """The item answers as a float (sessions × items) array."""
    missing = [k for k in keys if k not in dialogues]
    if missing:
        raise KeyError(f"dialogues lacks item columns {missing}")
    return dialogues[list(keys)].to_numpy(dtype=float)


def item_frame() -> pd.DataFrame:
    """A fresh table of the 20 items (index: item key, questionnaire order) with ``number``, ``label_ja``,
    ``label_en`` and ``block``, for per-item results to be added to."""
    return schema.item_table()[["number", "label_ja", "label_en", "block"]].copy()


def _t_interval(mean: np.ndarray, sd: np.ndarray, n: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
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
