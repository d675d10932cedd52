"""Unit tests of kokoro_analysis.analyses.feedback.phase_correlations."""

from __future__ import annotations

import pandas as pd
import pytest

from kokoro_analysis.analyses.feedback import (
    phase_correlations,
    session_measures,
)


def test_phase_correlations_and_trend_share_their_resamples(corpus):
    resamples = phase_correlations.phase_resamples(
        session_measures.phase_features(corpus), corpus.dialogues, n_bootstrap=20
    )
    table = phase_correlations.phase_correlations(resamples)
    assert len(table) == 3 * len(session_measures.PHASE_FEATURES)
    assert list(pd.unique(table["phase"])) == list(session_measures.PHASES)
    assert (table["p_adjusted"] >= table["p_boot"]).all()
    trend = phase_correlations.phase_trend(resamples).set_index("feature")
    rows = table.set_index(["phase", "feature"])
    for feature in trend.index:
        assert trend.loc[feature, "difference"] == pytest.approx(
            rows.loc[("late", feature), "r"] - rows.loc[("early", feature), "r"]
        )
