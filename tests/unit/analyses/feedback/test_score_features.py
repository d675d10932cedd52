"""Unit tests of kokoro_analysis.analyses.feedback.score_features (hand-computed answers); real-data check of the reported
correlations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from kokoro_analysis.analyses.feedback import score_features, session_measures
from kokoro_analysis.stats.correlation import bootstrap_correlation

from .test_scores import _corpus, _dialogues, _utterances

# A tiny conversation: session 1 ends with a client message and session 2 starts with a counselor
# message, which must not count as a response across sessions.
RESPONSE_ROWS = [
    (1, "counselor", 0, "こんにちは。"),
    (1, "client", 10, "よろしく"),  # client response: 10 s
    (1, "client", 20, "お願いします"),  # same speaker: not a response
    (1, "counselor", 50, "どうぞ？"),  # counselor response: 30 s
    (1, "counselor", 55, "ゆっくりで"),  # same speaker: not a response
    (1, "client", 60, "はい"),  # client response: 5 s
    (1, "counselor", 100, "なるほど?"),  # counselor response: 40 s
    (1, "client", 130, "ええ"),  # client response: 30 s
    (2, "counselor", 1000, "こんにちは"),  # first of its session: no response
    (2, "client", 1003, "どうも"),  # client response: 3 s
    (2, "counselor", 1010, "はい"),  # counselor response: 7 s
]


# --------------------------------------------------------------------------- response times and features


def test_response_gaps_definition():
    utterances = _utterances(RESPONSE_ROWS)
    counselor = session_measures.response_gaps(utterances, "counselor")
    assert counselor["gap_s"].tolist() == [30, 40, 7]
    assert counselor["dialogue_id"].tolist() == [1, 1, 2]
    assert counselor["utterance"].tolist() == [3, 6, 10]
    client = session_measures.response_gaps(utterances, "client")
    assert client["gap_s"].tolist() == [10, 5, 30, 3]
    means = session_measures.mean_response_time(utterances, "counselor")
    assert means.to_dict() == {1: 35.0, 2: 7.0}
    assert session_measures.mean_response_time(utterances, "client").to_dict() == {1: 15.0, 2: 3.0}
    # shuffled rows give the same answer (messages are ordered by session and position first)
    shuffled = utterances.sample(frac=1, random_state=0)
    assert session_measures.mean_response_time(shuffled, "counselor").to_dict() == {1: 35.0, 2: 7.0}
    with pytest.raises(ValueError):
        session_measures.response_gaps(utterances, "therapist")


def test_session_features_hand_values():
    utterances = _utterances(RESPONSE_ROWS)
    dialogues = _dialogues(
        [1, 2],
        [80, 40],
        duration_min=[130 / 60, 10 / 60],
        n_messages=[8, 3],
        n_counselor_messages=[4, 2],
        n_client_messages=[4, 1],
    )
    features = session_measures.session_features(_corpus(dialogues, utterances))
    one = features.loc[1]
    assert one["client_chars"] == len("よろしく") + len("お願いします") + len("はい") + len("ええ")
    assert one["counselor_chars"] == len("こんにちは。") + len("どうぞ？") + len(
        "ゆっくりで"
    ) + len("なるほど?")
    assert one["n_messages"] == 8
    assert one["n_turns"] == 6  # co | cl cl | co co | cl | co | cl
    assert one["counselor_question_rate"] == pytest.approx(2 / 4)  # full-width and ASCII ?
    assert one["counselor_response_time_s"] == 35 and one["client_response_time_s"] == 15
    total = one["client_chars"] + one["counselor_chars"]
    assert one["client_char_share"] == pytest.approx(one["client_chars"] / total)
    assert features.loc[2, "n_turns"] == 3 and features.loc[2, "counselor_response_time_s"] == 7
    assert list(features.index) == [1, 2] and features["score"].tolist() == [80, 40]


# --------------------------------------------------------------------------- bootstrap


@pytest.mark.parametrize("method", ["spearman", "pearson"])
def test_bootstrap_correlation_matches_explicit_resampling(method):
    rng = np.random.default_rng(4)
    x = rng.integers(0, 8, 60).astype(float)  # many ties
    y = x + rng.integers(0, 6, 60)
    result = bootstrap_correlation(x, y, method=method, n_bootstrap=200, seed=11, chunk=64)
    draws = np.random.default_rng(11)
    explicit = []
    for _ in range(200):
        index = draws.integers(0, 60, 60)
        test = stats.spearmanr if method == "spearman" else stats.pearsonr
        explicit.append(test(x[index], y[index])[0])
    low, high = np.quantile(explicit, [0.025, 0.975])
    assert result["ci_low"] == pytest.approx(low, abs=1e-12)
    assert result["ci_high"] == pytest.approx(high, abs=1e-12)
    reference = stats.spearmanr(x, y)[0] if method == "spearman" else stats.pearsonr(x, y)[0]
    assert result["r"] == pytest.approx(reference)


def test_bootstrap_correlation_reproducible_and_robust():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=80), rng.normal(size=80)
    first = bootstrap_correlation(x, y, n_bootstrap=100, seed=1)
    assert first == bootstrap_correlation(x, y, n_bootstrap=100, seed=1)
    assert first != bootstrap_correlation(x, y, n_bootstrap=100, seed=2)
    x[:5] = np.nan
    assert bootstrap_correlation(x, y, n_bootstrap=10, seed=1)["n"] == 75
    constant = bootstrap_correlation(np.ones(10), np.arange(10), n_bootstrap=10)
    assert np.isnan(constant["r"]) and constant["n_bootstrap"] == 0


# --------------------------------------------------------------------------- real data


@pytest.mark.realdata
def test_real_reported_correlations(real_corpus):
    features = session_measures.session_features(real_corpus)
    reported = score_features.reported_spearman(features)
    assert round(reported["feedback.spearman_client_chars_score"], 2) == 0.42
    assert round(reported["feedback.spearman_counselor_response_time_score"], 2) == -0.21
    assert features["counselor_response_time_s"].notna().all()


@pytest.mark.parametrize("method", ["spearman", "pearson"])
def test_feature_correlations_equal_separate_bootstraps(method):
    import pandas as pd

    rng = np.random.default_rng(5)
    score = rng.integers(0, 101, 50).astype(float)
    features = pd.DataFrame(
        {
            "score": score,
            "client_chars": score + rng.normal(0, 30, 50),
            "n_messages": rng.integers(5, 9, 50).astype(float),
            "counselor_response_time_s": rng.normal(60, 10, 50),
        }
    )
    features.loc[:4, "counselor_response_time_s"] = (
        np.nan
    )  # another sample size: other counts, own ranks
    table = score_features.feature_correlations(features, method=method, n_bootstrap=300, seed=3)
    for column in table.index:
        alone = bootstrap_correlation(
            features[column], features["score"], method=method, n_bootstrap=300, seed=3
        )
        keys = ["n", "r", "ci_low", "ci_high", "n_bootstrap"]
        assert table.loc[column, keys].to_dict() == {k: alone[k] for k in keys}
