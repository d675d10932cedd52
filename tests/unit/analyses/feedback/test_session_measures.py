"""Unit tests of kokoro_analysis.analyses.feedback.session_measures (hand-computed answers)."""

from __future__ import annotations

import numpy as np
import pytest

from kokoro_analysis.analyses.feedback import (
    session_measures,
)
from kokoro_analysis.corpus import measures

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


def test_response_gaps_definition():
    utterances = _utterances(RESPONSE_ROWS)
    counselor = measures.response_gaps(utterances, "counselor")
    assert counselor["gap_s"].tolist() == [30, 40, 7]
    assert counselor["dialogue_id"].tolist() == [1, 1, 2]
    assert counselor["utterance"].tolist() == [3, 6, 10]
    client = measures.response_gaps(utterances, "client")
    assert client["gap_s"].tolist() == [10, 5, 30, 3]
    means = measures.mean_response_time(utterances, "counselor")
    assert means.to_dict() == {1: 35.0, 2: 7.0}
    assert measures.mean_response_time(utterances, "client").to_dict() == {1: 15.0, 2: 3.0}
    # shuffled rows give the same answer (messages are ordered by session and position first)
    shuffled = utterances.sample(frac=1, random_state=0)
    assert measures.mean_response_time(shuffled, "counselor").to_dict() == {1: 35.0, 2: 7.0}
    with pytest.raises(ValueError):
        measures.response_gaps(utterances, "therapist")


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
    features = measures.session_features(_corpus(dialogues, utterances))
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


def test_message_phases_split_each_session_in_thirds():
    rows = [(1, "client" if i % 2 else "counselor", i, "x") for i in range(9)]
    rows += [(2, "client" if i % 2 else "counselor", i, "y") for i in range(4)]
    phases = session_measures.message_phases(_utterances(rows))
    assert list(phases[:9].astype(str)) == ["early"] * 3 + ["middle"] * 3 + ["late"] * 3
    assert list(phases[9:].astype(str)) == ["early", "early", "middle", "late"]


def test_phase_features_count_each_phase_and_response_phase():
    # session 1: six messages, two per phase; counselor messages end with ？ in the early phase only
    rows = [
        (1, "counselor", 0, "はい？"),
        (1, "client", 10, "abc"),
        (1, "counselor", 40, "そう"),
        (1, "client", 50, "abcdef"),
        (1, "counselor", 110, "ええ"),
        (1, "client", 120, "a"),
    ]
    dialogues = _dialogues([1], [50], client_id=[1], counselor_id=[1])
    table = session_measures.phase_features(_corpus(dialogues, _utterances(rows)))
    early, middle, late = (table.loc[(1, p)] for p in session_measures.PHASES)
    assert (early["client_chars"], middle["client_chars"], late["client_chars"]) == (3, 6, 1)
    assert early["counselor_question_rate"] == 1 and middle["counselor_question_rate"] == 0
    # counselor responses: at 40 s (gap 30, middle) and 110 s (gap 60, late)
    assert np.isnan(early["counselor_response_time_s"])
    assert middle["counselor_response_time_s"] == 30 and late["counselor_response_time_s"] == 60
    assert early["client_response_time_s"] == 10


def test_features_label_every_session_measure_in_order():
    assert tuple(session_measures.FEATURES) == measures.SESSION_MEASURES
