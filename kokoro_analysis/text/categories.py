"""Membership tests on the token table's categorical columns by one table lookup per token (no
hashing, no sort: ``Series.isin`` and ``np.isin`` on 10 M codes take about ten times as long)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def codes_in(codes: np.ndarray, wanted: Iterable[int], size: int) -> np.ndarray:
    """Boolean mask: which of ``codes`` (category codes in ``[-1, size)``, -1 missing) are among
    ``wanted``; a missing code never is."""
    chosen = np.zeros(size + 1, dtype=bool)  # the last slot answers code -1
    chosen[np.asarray(list(wanted), dtype=np.int64)] = True
    chosen[-1] = False
    return chosen[codes]


def in_categories(column: pd.Series, values: Iterable) -> np.ndarray:
    """Boolean mask: which rows of ``column`` hold one of ``values`` (as ``column.isin(values)``,
    missing values never match); any column, fastest on a categorical one."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return column.isin(list(values)).to_numpy(dtype=bool)
    categories = column.cat.categories
    wanted = np.flatnonzero(categories.isin(list(values)))
    return codes_in(column.cat.codes.to_numpy(), wanted, len(categories))
