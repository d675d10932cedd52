"""Per-message and per-session measures of the corpus that several analyses share: response times,
merged turns and score bands.

* a *response* is a message whose immediately preceding message in the same session is by the other
  role; its *response time* is the time since that message, in seconds;
* a *turn* is a maximal run of consecutive messages by one speaker
  (:func:`kokoro_analysis.corpus.loading.turn_starts`).

Response times and turns are vectorised over the utterance table (600,939 rows), which must be in
session order (as ``Corpus.utterances``). :func:`session_features` gathers the per-session measures
that notebook 03 sets against the score and the score model of ``finetune.baselines`` uses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.loading import turn_starts

__all__ = [
    "QUESTION_ENDINGS",
    "SCORE_BANDS",
    "SESSION_MEASURES",
    "in_session_order",
    "mean_response_time",
    "response_gaps",
    "response_times",
    "score_band",
    "session_features",
    "turns_per_session",
]


def response_times(utterances: pd.DataFrame, to_role: str = "counselor") -> pd.DataFrame:
    """Response times of ``to_role``: for each message of ``to_role`` whose **immediately preceding**
    message in the same session is by the other role, the time since that preceding message, in seconds.

    ``to_role="counselor"``: the counselor's response time (client message → next counselor message);
    when the client sent several messages in a row, the time counts from the last of them.
    ``to_role="client"`` is the mirror. A message that follows one of its own role is not a response.

    ``utterances`` must be in session order (as ``Corpus.utterances``: the messages of a session
    contiguous, by ``position``). Returns a frame indexed like ``utterances`` (the responding messages)
    with columns ``dialogue_id`` and ``seconds`` (float; timestamps have one-second resolution, so
    0 means within the same second). Per-session aggregates:
    ``response_times(u).groupby("dialogue_id")["seconds"].median()``.
    """
    if to_role not in schema.ROLES:
        raise ValueError(f"to_role must be one of {schema.ROLES}, not {to_role!r}")
    missing = {"dialogue_id", "role", "time"} - set(utterances.columns)
    if missing:
        raise ValueError(f"utterances lack column(s) {sorted(missing)}")
    ids = utterances["dialogue_id"].to_numpy()
    roles = utterances["role"].to_numpy(dtype=object)
    _check_session_order(utterances)
    times = utterances["time"].to_numpy().astype("datetime64[ns]")
    respond = np.zeros(len(ids), dtype=bool)
    respond[1:] = (ids[1:] == ids[:-1]) & (roles[1:] == to_role) & (roles[:-1] != to_role)
    where = np.flatnonzero(respond)
    seconds = (times[where] - times[where - 1]) / np.timedelta64(1, "s")
    return pd.DataFrame(
        {"dialogue_id": ids[where], "seconds": seconds.astype(float)}, index=utterances.index[where]
    )


def _check_session_order(utterances: pd.DataFrame) -> None:
    """Each session's messages must be contiguous and in ``position`` order (when positions exist)."""
    ids = utterances["dialogue_id"].to_numpy()
    new_session = np.ones(len(ids), dtype=bool)
    new_session[1:] = ids[1:] != ids[:-1]
    if pd.Index(ids[new_session]).has_duplicates:
        raise ValueError(
            "utterances are not in session order: a session's messages are not contiguous"
        )
    if "position" in utterances:
        positions = utterances["position"].to_numpy()
        if len(positions) > 1 and np.any(
            positions[1:][~new_session[1:]] <= positions[:-1][~new_session[1:]]
        ):
            raise ValueError(
                "utterances are not in session order: positions decrease within a session"
            )


def turns_per_session(utterances: pd.DataFrame) -> pd.DataFrame:
    """Merged turns per session (a turn = a maximal run of consecutive messages by one speaker).

    Index ``dialogue_id`` (in order of first appearance); columns ``total``, ``counselor``,
    ``client`` (turns started by that role). Vectorised equivalent of counting ``Corpus.turns()``.
    """
    ids = utterances["dialogue_id"].to_numpy()
    codes = utterances["role"].cat.codes.to_numpy()
    starts = turn_starts(utterances)
    frame = pd.DataFrame({"dialogue_id": ids[starts], "role": codes[starts]})
    counts = pd.crosstab(frame["dialogue_id"], frame["role"]).reindex(
        columns=range(len(schema.ROLES)), fill_value=0
    )
    counts.columns = list(schema.ROLES)
    counts.insert(0, "total", counts.sum(axis=1))
    order = pd.unique(ids)
    return counts.reindex(order)


SCORE_BANDS = {name: schema.SUBSETS[name][:2] for name in ("low", "high", "test")}
"""Disjoint score bands of the paper's subsets (:data:`kokoro_analysis.corpus.schema.SUBSETS`):
name → (lowest, highest score), bounds inclusive: low 0–69, high 70–98, test 99–100."""


def score_band(scores) -> np.ndarray:
    """The band (:data:`SCORE_BANDS`) of each session score, as strings."""
    scores = np.asarray(scores)
    return np.select(
        [scores <= SCORE_BANDS["low"][1], scores <= SCORE_BANDS["high"][1]], ["low", "high"], "test"
    )


SESSION_MEASURES = (
    "client_chars",
    "counselor_chars",
    "n_messages",
    "n_turns",
    "duration_min",
    "counselor_response_time_s",
    "client_response_time_s",
    "counselor_chars_per_message",
    "client_chars_per_message",
    "client_char_share",
    "counselor_question_rate",
)
"""The columns of :func:`session_features` after ``score``, in order (their labels and units:
:data:`kokoro_analysis.analyses.feedback.session_measures.FEATURES`)."""


def in_session_order(utterances: pd.DataFrame) -> pd.DataFrame:
    """``utterances`` in session order: corpus tables already are (their index ascends) and are returned
    as they are; any other row order (e.g. shuffled rows) is sorted once by session and position."""
    if utterances.index.is_monotonic_increasing:
        return utterances
    return utterances.iloc[
        np.lexsort((utterances["position"].to_numpy(), utterances["dialogue_id"].to_numpy()))
    ]


def response_gaps(utterances: pd.DataFrame, responder: str = "counselor") -> pd.DataFrame:
    """Every *response* by ``responder`` with its gap in seconds, as defined once for the package by
    :func:`response_times` (a message by ``responder`` whose previous message
    in the session is by the other role; the gap runs from that previous message). Rows may come in any
    order; they are put in session order first. Returns ``dialogue_id``, ``utterance`` (index label of the
    response) and ``gap_s``."""
    times = response_times(in_session_order(utterances), to_role=responder)
    return pd.DataFrame(
        {
            "dialogue_id": times["dialogue_id"].to_numpy(),
            "utterance": times.index.to_numpy(),
            "gap_s": times["seconds"].to_numpy(),
        }
    )


def mean_response_time(utterances: pd.DataFrame, responder: str = "counselor") -> pd.Series:
    """Mean response gap (seconds, see :func:`response_gaps`) per session, over that session's responses
    by ``responder``; sessions without one are absent."""
    gaps = response_gaps(utterances, responder)
    return gaps.groupby("dialogue_id")["gap_s"].mean().rename(f"{responder}_response_time_s")


QUESTION_ENDINGS = ("？", "?")


def session_features(corpus) -> pd.DataFrame:
    """One row per session (index ``dialogue_id``, order of ``corpus.dialogues``): ``score`` and the
    measures of :data:`SESSION_MEASURES`:

    * characters (``len`` of the unnormalised text) of each role, and per message;
    * ``n_messages`` (stored messages) and ``n_turns`` (maximal runs of one speaker);
    * ``duration_min``: first to last message timestamp, minutes;
    * ``counselor_response_time_s`` / ``client_response_time_s``: mean gap (s) from a message of the other
      role to the responder's next message (see :func:`response_gaps`), NaN without any;
    * ``client_char_share``: client characters / all characters;
    * ``counselor_question_rate``: share of counselor messages whose text, trailing whitespace removed,
      ends with a full-width or ASCII question mark.
    """
    dialogues = corpus.dialogues
    messages = in_session_order(corpus.utterances)
    index = dialogues.index
    session = pd.Index(index).get_indexer(messages["dialogue_id"].to_numpy())
    if (session < 0).any():
        raise ValueError("utterances belong to sessions missing from dialogues")
    is_client = messages["role"].astype(str).to_numpy() == "client"
    length = messages["length"].to_numpy(dtype=float)
    n = len(index)

    def per_session(values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        if mask is None:
            return np.bincount(session, weights=values, minlength=n)
        return np.bincount(session[mask], weights=values[mask], minlength=n)

    client_n = dialogues["n_client_messages"].to_numpy(dtype=float)
    counselor_n = dialogues["n_counselor_messages"].to_numpy(dtype=float)
    client_chars, counselor_chars = per_session(length, is_client), per_session(length, ~is_client)
    text = messages["text"].astype(str).str.rstrip()
    question = text.str.endswith(QUESTION_ENDINGS).to_numpy(dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame = pd.DataFrame(
            {
                "score": dialogues["score"].to_numpy(),
                "client_chars": client_chars,
                "counselor_chars": counselor_chars,
                "n_messages": dialogues["n_messages"].to_numpy(dtype=float),
                "n_turns": per_session(turn_starts(messages).astype(float)),
                "duration_min": dialogues["duration_min"].to_numpy(dtype=float),
                "counselor_chars_per_message": counselor_chars / counselor_n,
                "client_chars_per_message": client_chars / client_n,
                "client_char_share": client_chars / (client_chars + counselor_chars),
                "counselor_question_rate": per_session(question.astype(float), ~is_client)
                / counselor_n,
            },
            index=index,
        )
    for responder in ("counselor", "client"):
        frame[f"{responder}_response_time_s"] = mean_response_time(messages, responder).reindex(
            index
        )
    return frame[["score", *SESSION_MEASURES]]
