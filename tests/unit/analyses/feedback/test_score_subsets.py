"""Unit tests of kokoro_analysis.analyses.feedback.score_subsets: subsets, tiers, mean scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis.analyses.feedback import (
    score_subsets,
)


@pytest.mark.realdata
def test_real_subset_counts(real_corpus):
    sessions = score_subsets.subset_statistics(real_corpus).loc["sessions"]
    assert sessions.to_dict() == {"low": 3870, "high": 2601, "full": 6471, "test": 118, "all": 6589}


def test_score_tiers_cut_at_percentiles_and_cutoff_goes_up():
    scores_ = pd.Series([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], dtype=float)
    tiers = score_subsets.score_tiers(scores_)
    cuts = np.percentile(scores_, [33, 67])
    cutoffs = score_subsets.tier_cutoffs(scores_)
    assert cutoffs == {33.0: pytest.approx(cuts[0]), 67.0: pytest.approx(cuts[1])}
    assert list(tiers.astype(str)) == ["low"] * 3 + ["middle"] * 4 + ["high"] * 3
    exact = score_subsets.score_tiers(
        pd.Series([1, 2, 3, 4, 5, 6, 7]), percentiles=(50,), labels=("a", "b")
    )
    assert (
        list(exact.astype(str)) == ["a"] * 3 + ["b"] * 4
    )  # the cut-off (4) belongs to the upper tier
    with pytest.raises(ValueError, match="labels"):
        score_subsets.score_tiers(scores_, labels=("a", "b"))


def test_score_means_cover_subsets_tiers_and_topics(corpus):
    table = score_subsets.score_means(corpus, n_bootstrap=30)
    dialogues = corpus.dialogues
    assert set(table["kind"]) == {"subset", "tier", "topic"}
    all_row = table[(table["kind"] == "subset") & (table["group"] == "all")].iloc[0]
    assert all_row["mean"] == pytest.approx(dialogues["score"].mean())
    assert all_row["raters"] == dialogues["client_id"].nunique()
    tiers = table[table["kind"] == "tier"]
    assert list(tiers["group"]) == ["low", "middle", "high"] and tiers["n"].sum() == len(dialogues)
