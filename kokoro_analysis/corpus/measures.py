"""Per-message and per-session measures of the corpus that several analyses share: response times,
merged turns and score bands.

* a *response* is a message whose immediately preceding message in the same session is by the other
  role; its *response time* is the time since that message, in seconds;
* a *turn* is a maximal run of consecutive messages by one speaker
  (:func:`kokoro_analysis.corpus.loading.turn_starts`).

Response times and turns are vectorised over the utterance table (600,939 rows), which must be in
session order (as ``Corpus.utterances``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.loading import turn_starts

__all__ = ["SCORE_BANDS", "response_times", "score_band", "turns_per_session"]


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
