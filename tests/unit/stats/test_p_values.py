"""Unit tests of kokoro_analysis.stats.p_values: Holm and Benjamini-Hochberg adjustments."""

from __future__ import annotations

import numpy as np
import pytest

from kokoro_analysis.stats.p_values import adjust_p_values


def test_holm_and_benjamini_hochberg_adjustments():
    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    holm = adjust_p_values(p, "holm")
    assert holm[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02]) and np.isnan(holm[4])
    assert adjust_p_values(p, "bh")[:4] == pytest.approx([0.02, 0.04, 0.04, 0.02])
    with pytest.raises(ValueError, match="correction"):
        adjust_p_values(p, "bonferroni")
