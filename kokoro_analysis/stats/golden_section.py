"""Golden-section search of many one-dimensional problems at once (:func:`golden_section`)."""

from __future__ import annotations

import numpy as np


def golden_section(objective, size: int, low: float, high: float, iterations: int) -> np.ndarray:
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
