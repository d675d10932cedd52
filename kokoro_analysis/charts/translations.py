"""Figures of notebook 01's translation section (Multilingual KokoroChat)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from kokoro_analysis.charts.corpus import distribution_chart

RATIO_LABEL = (
    "訳文／原文の文字数比（メッセージごと）",
    "Translation / original characters per message",
)


def length_ratio_chart(
    ratios_by_role: Mapping[str, object], *, lang: str = "en", per_decade: int = 12
) -> Figure:
    """Per-message length ratio (translation characters / original characters) by role: step
    histograms on a logarithmic axis (``per_decade`` bins per decade from the smallest to the largest
    ratio; y = share of the role's messages per decade), medians dotted."""
    values = np.concatenate([np.asarray(v, dtype=float) for v in ratios_by_role.values()])
    values = values[np.isfinite(values) & (values > 0)]
    low, high = (values.min(), values.max()) if values.size else (0.1, 10.0)
    decades = max(np.log10(high / low), 1 / per_decade)
    edges = np.logspace(
        np.log10(low), np.log10(high) + 1e-9, int(np.ceil(decades * per_decade)) + 1
    )
    return distribution_chart(
        ratios_by_role, RATIO_LABEL, lang=lang, log_x=True, bins=edges, clip_low=low
    )
