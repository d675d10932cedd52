"""Unit tests of kokoro_analysis.analyses.feedback.raters (hand-computed answers)."""

from __future__ import annotations

import numpy as np
import pytest

from kokoro_analysis.analyses.feedback import (
    raters,
)
from kokoro_analysis.corpus import measures
from kokoro_analysis.stats.icc import icc_oneway_reml

from .test_scores import _dialogues


def test_icc_table_handles_tiny_groups():
    dialogues = _dialogues([1, 2], [50, 60], client_id=[1, 2], counselor_id=[1, 1])
    table = raters.icc_table(dialogues)
    assert np.isnan(table.loc["client_id", "icc"])


def test_rater_influence_and_cluster_sizes(corpus):
    dialogues = corpus.dialogues
    features = measures.session_features(corpus)
    table = raters.rater_influence(dialogues, features, top=2)
    assert table.index[0] == "(all raters)" and len(table) == 3
    rater = table.index[1]
    kept = dialogues["client_id"].astype(str) != rater
    alone = features.loc[kept, ["client_chars", "score"]].dropna().corr("spearman").iloc[0, 1]
    assert table.loc[rater, "r_without"] == pytest.approx(alone)
    sizes = raters.cluster_sizes(dialogues)
    assert sizes.loc["sessions per rater", "n"] == dialogues["client_id"].nunique()


def test_icc_table_and_plain_sum_comparison(corpus):
    dialogues = corpus.dialogues
    icc = raters.icc_table(dialogues)
    expected = icc_oneway_reml(dialogues["score"], dialogues["client_id"])["icc"]
    assert icc.loc["client_id", "icc_reml"] == pytest.approx(expected)
    both = raters.rater_effects_by_outcome(dialogues)
    assert list(both.index) == ["score", "item_sum"]
    plain = raters.icc_table(dialogues, "item_sum")
    assert both.loc["item_sum", "icc_anova_rater"] == pytest.approx(plain.loc["client_id", "icc"])
    shares = both.loc[
        "score", ["crossed_share_rater", "crossed_share_counselor", "crossed_share_residual"]
    ]
    assert shares.sum() == pytest.approx(1)
