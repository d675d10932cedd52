"""measures: the response-time definition (a message after one of the other role, timed from the
last of them), bad input named, merged turns equal to ``Corpus.turns()``; on the real data every
counselor response follows a client message; the score bands split 0–100 at the subsets' bounds."""

from __future__ import annotations

import pandas as pd
import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.corpus import measures, schema


def _frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["dialogue_id", "position", "role", "time"])
    frame["role"] = pd.Categorical(frame["role"], categories=schema.ROLES)
    frame["time"] = pd.to_datetime(frame["time"])
    return frame


def test_response_time_definition():
    utterances = _frame(
        [
            (1, 0, "client", "2021-01-01 10:00:00"),
            (1, 1, "client", "2021-01-01 10:00:30"),
            (1, 2, "counselor", "2021-01-01 10:01:00"),  # 30 s after the LAST client message
            (
                1,
                3,
                "counselor",
                "2021-01-01 10:01:05",
            ),  # follows a counselor message: not a response
            (1, 4, "client", "2021-01-01 10:01:05"),  # client response, 0 s
            (
                2,
                0,
                "counselor",
                "2021-01-01 11:00:00",
            ),  # first message of a session: not a response
            (2, 1, "client", "2021-01-01 11:02:00"),  # client response, 120 s
            (2, 2, "counselor", "2021-01-01 11:02:07"),  # counselor response, 7 s
        ]
    )
    utterances.index = utterances.index + 100
    counselor = measures.response_times(utterances)
    assert counselor.index.tolist() == [102, 107]
    assert counselor["seconds"].tolist() == [30.0, 7.0]
    assert counselor["dialogue_id"].tolist() == [1, 2]
    client = measures.response_times(utterances, to_role="client")
    assert client.index.tolist() == [104, 106]
    assert client["seconds"].tolist() == [0.0, 120.0]


def test_response_times_reject_bad_input():
    utterances = _frame(
        [
            (1, 0, "client", "2021-01-01 10:00:00"),
            (2, 0, "client", "2021-01-01 10:00:00"),
            (1, 1, "counselor", "2021-01-01 10:00:05"),
        ]
    )
    with pytest.raises(ValueError, match="not contiguous"):
        measures.response_times(utterances)
    shuffled = _frame(
        [(1, 1, "client", "2021-01-01 10:00:00"), (1, 0, "counselor", "2021-01-01 10:00:05")]
    )
    with pytest.raises(ValueError, match="positions decrease"):
        measures.response_times(shuffled)
    with pytest.raises(ValueError, match="to_role"):
        measures.response_times(shuffled, to_role="usr")


def test_turns_per_session_equals_corpus_turns(synthetic_dir):
    corpus = load_corpus(synthetic_dir)
    expected = corpus.turns().groupby("dialogue_id").size()
    turns = measures.turns_per_session(corpus.utterances)
    assert turns["total"].to_dict() == expected.to_dict()
    assert (turns["counselor"] + turns["client"] == turns["total"]).all()


@pytest.mark.realdata
def test_response_times_on_real_data(real_corpus):
    counselor = measures.response_times(real_corpus.utterances)
    assert (counselor["seconds"] >= 0).all()
    roles = real_corpus.utterances["role"]
    assert (roles.loc[counselor.index] == "counselor").all()
    assert (roles.loc[counselor.index - 1] == "client").all()  # RangeIndex: the previous message


def test_score_bands_split_the_score_range():
    assert measures.score_band([0, 69, 70, 98, 99, 100]).tolist() == [
        "low",
        "low",
        "high",
        "high",
        "test",
        "test",
    ]
