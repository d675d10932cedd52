"""Unit tests of kokoro_analysis.analyses.feedback.resample_cache: the key changes with every input,
and a warm call returns the cold call's table (values, dtypes, index, attrs) without computing it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis.analyses.feedback import (
    phase_correlations,
    raters,
    resample_cache,
    score_features,
    score_subsets,
    scores,
    session_measures,
    uncertainty,
)
from kokoro_analysis.analyses.feedback.resample_cache import inputs_digest, recall, remember
from kokoro_analysis.corpus import measures
from kokoro_analysis.stats.resampling import TwoWay


def test_the_digest_changes_with_every_input():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "g": ["a", "b", "a"]})
    labels = TwoWay(np.array(["r1", "r2", "r1"]), np.array(["c1", "c1", "c2"]))
    base = inputs_digest(frame, labels, {"n_bootstrap": 10, "seed": 0}, ["x"])
    assert base == inputs_digest(frame.copy(), labels, {"n_bootstrap": 10, "seed": 0}, ["x"])
    changed = [
        inputs_digest(
            frame.assign(x=[1.0, 2.0, 4.0]), labels, {"n_bootstrap": 10, "seed": 0}, ["x"]
        ),
        inputs_digest(
            frame.rename(columns={"x": "y"}), labels, {"n_bootstrap": 10, "seed": 0}, ["x"]
        ),
        inputs_digest(frame.set_axis([5, 6, 7]), labels, {"n_bootstrap": 10, "seed": 0}, ["x"]),
        inputs_digest(
            frame,
            TwoWay(labels.first, labels.second, persons=True),
            {"n_bootstrap": 10, "seed": 0},
            ["x"],
        ),
        inputs_digest(frame, labels, {"n_bootstrap": 10, "seed": 1}, ["x"]),
        inputs_digest(frame, labels, {"n_bootstrap": 10, "seed": 0}, ["x", "g"]),
        inputs_digest(frame, labels, {"seed": 0, "n_bootstrap": 10}, ["x"]),  # order is meaning
    ]
    assert len({base, *changed}) == len(changed) + 1
    with pytest.raises(TypeError, match="cannot digest"):
        inputs_digest(object())


def _same(cold: pd.DataFrame, warm: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(cold, warm, check_exact=True)
    assert list(cold.dtypes) == list(warm.dtypes)
    assert cold.attrs.keys() == warm.attrs.keys()
    assert cold.to_csv() == warm.to_csv()


def test_a_warm_call_reads_the_table_without_computing_it(corpus, monkeypatch):
    dialogues = corpus.dialogues
    clusters = uncertainty.cluster_labels(dialogues)
    features = measures.session_features(corpus)
    calls = {
        "_feature_correlations": lambda: score_features.feature_correlations(
            features, n_bootstrap=20, clusters=clusters
        ),
        "_correlation_robustness": lambda: score_features.correlation_robustness(
            features, clusters, n_bootstrap=20
        ),
        "_correlation_sensitivity": lambda: score_features.correlation_sensitivity(
            features, dialogues, n_bootstrap=20
        ),
    }
    cold = {name: call() for name, call in calls.items()}
    for name in calls:
        monkeypatch.setattr(score_features, name, _refuse)
    for name, call in calls.items():
        _same(cold[name], call())
    cold = scores.alpha_table(dialogues, n_bootstrap=20, clusters=clusters)
    monkeypatch.setattr(scores, "_alpha_table", _refuse)
    _same(cold, scores.alpha_table(dialogues, n_bootstrap=20, clusters=clusters))
    cold = score_subsets.score_means(corpus, n_bootstrap=20)
    monkeypatch.setattr(score_subsets, "_score_means", _refuse)
    _same(cold, score_subsets.score_means(corpus, n_bootstrap=20))
    cold = raters.icc_table(dialogues, n_bootstrap=20)
    monkeypatch.setattr(raters, "_icc_table", _refuse)
    _same(cold, raters.icc_table(dialogues, n_bootstrap=20))


def test_phase_resamples_come_back_as_they_were_computed(corpus, monkeypatch):
    phases = session_measures.phase_features(corpus)
    cold = phase_correlations.phase_resamples(phases, corpus.dialogues, n_bootstrap=20)
    monkeypatch.setattr(phase_correlations, "_phase_resamples", _refuse)
    warm = phase_correlations.phase_resamples(phases, corpus.dialogues, n_bootstrap=20)
    assert list(cold) == list(warm)
    for key, result in cold.items():
        assert (result["n"], type(result["r"])) == (warm[key]["n"], type(warm[key]["r"]))
        assert np.array_equal([result["r"]], [warm[key]["r"]], equal_nan=True)
        assert np.array_equal(result["values"], warm[key]["values"], equal_nan=True)
    with pytest.raises(AssertionError, match="computed the table again"):  # another key
        phase_correlations.phase_resamples(phases, corpus.dialogues, n_bootstrap=20, seed=1)


def _refuse(*args, **kwargs):
    raise AssertionError("a warm call computed the table again")


def test_remember_keeps_the_most_recently_used_values(monkeypatch):
    monkeypatch.setattr(resample_cache, "MEMO_ENTRIES", 2)
    monkeypatch.setattr(resample_cache, "_MEMO", type(resample_cache._MEMO)())
    first, second, third = (inputs_digest("test", i) for i in range(3))
    assert recall(first) is None
    remember(first, "a")
    remember(second, "b")
    assert recall(first) == "a"  # now the most recent: the third value pushes out the second
    remember(third, "c")
    assert (recall(first), recall(second), recall(third)) == ("a", None, "c")
    assert inputs_digest(first) != inputs_digest(second)  # digests digest as bytes


def test_a_cold_run_computes_a_shared_bootstrap_once(corpus, monkeypatch, tmp_path):
    monkeypatch.setenv("KOKORO_ANALYSIS_CACHE", str(tmp_path))  # cold: every table computed
    monkeypatch.setattr(resample_cache, "_MEMO", type(resample_cache._MEMO)())
    features = measures.session_features(corpus)
    clusters = uncertainty.cluster_labels(corpus.dialogues)
    options = dict(n_bootstrap=40, seed=4)
    score_features.feature_correlations(features, clusters=clusters, **options)
    calls = []
    original = score_features.bootstrap_correlation
    monkeypatch.setattr(
        score_features,
        "bootstrap_correlation",
        lambda *args, **kwargs: calls.append(kwargs) or original(*args, **kwargs),
    )
    robustness = score_features.correlation_robustness(features, clusters, **options)
    resampled = [kwargs["clusters"] for kwargs in calls]
    assert all(labels is not None for labels in resampled)  # sessions: from feature_correlations
    assert len(calls) == len(robustness) - 4 * len(set(robustness["feature"]))
