"""Unit tests of kokoro_analysis.analyses.feedback.experience_effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis.analyses.feedback import (
    experience_effects,
)
from kokoro_analysis.stats.fixed_effects import fixed_effects_slope, within_cluster_regression
from kokoro_analysis.stats.p_values import p_value_text

from .test_scores import _dialogues


def test_counselor_experience_orders_by_start_time_then_id():
    start = pd.to_datetime(["2021-01-03", "2021-01-01", "2021-01-01", "2021-01-02"])
    dialogues = _dialogues(
        [10, 11, 9, 12],
        [1, 2, 3, 4],
        counselor_id=[1, 1, 1, 2],
        client_id=[5, 6, 5, 6],
        start_time=start,
    )
    assert experience_effects.counselor_experience(dialogues).tolist() == [3, 2, 1, 1]
    bins = experience_effects.experience_bins(dialogues, edges=(1, 2, 3))
    assert bins["sessions"].tolist() == [2, 1, 1]
    assert list(bins.index) == ["1", "2", "3+"]


def test_experience_test_clusters_the_standard_error():
    rng = np.random.default_rng(3)
    counselors = np.repeat(np.arange(10), 6)
    start = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.permutation(60), unit="D")
    dialogues = _dialogues(
        np.arange(60), rng.normal(60, 10, 60).round(), counselor_id=counselors,
        client_id=rng.integers(0, 8, 60), start_time=start,
    )  # fmt: skip
    table = experience_effects.experience_test(dialogues)
    first = table.iloc[0]
    assert first["headline"] and not table["headline"].iloc[1:].any()
    fit = fixed_effects_slope(
        experience_effects.counselor_experience(dialogues),
        dialogues["score"],
        [counselors],
        [counselors],
    )
    assert first["slope"] == pytest.approx(fit["slope"]) and first["df"] == 9
    plain = within_cluster_regression(
        experience_effects.counselor_experience(dialogues), dialogues["score"], counselors
    )
    assert first["slope"] == pytest.approx(plain["slope"])


def test_p_values_are_printed_without_scientific_notation():
    from kokoro_analysis.publish.tables import formatted

    texts = [p_value_text(p) for p in (0.9912, 0.0004, 1e-40)]
    assert texts == ["0.991", "< 0.001", "< 0.001"]
    frame = pd.DataFrame({"model": ["within counselor"], "p_value": [1.2e-5], "slope": [0.1]})
    shown = formatted(frame, experience_effects.EXPERIENCE_TEST)
    assert shown.loc[0, "p_value"] == "< 0.001"
