"""Per-session dialogue measures set against the score: characters per role and per message,
messages, merged turns, session length, the client's share of characters, the counselor's question
rate and the mean response times (:func:`session_features`, :data:`FEATURES`), and the same on each
third of a session (:func:`phase_features`, :func:`message_phases`).

A *response* is a message whose previous message in the session is by the other role; its gap runs
from that previous message (one definition for the package:
:func:`kokoro_analysis.corpus.measures.response_times`); :func:`response_gaps` lists them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kokoro_analysis.corpus.loading import turn_starts
from kokoro_analysis.corpus.measures import response_times

FEATURES: dict[str, tuple[str, str, str]] = {
    "client_chars": ("クライアント総文字数", "Client characters (total)", "characters"),
    "counselor_chars": ("カウンセラー総文字数", "Counselor characters (total)", "characters"),
    "n_messages": ("メッセージ数", "Messages", "messages"),
    "n_turns": ("ターン数（連続発話を結合）", "Merged turns", "turns"),
    "duration_min": ("セッション時間（分）", "Session length (min)", "minutes"),
    "counselor_response_time_s": (
        "カウンセラー応答時間（秒）",
        "Counselor response time (s)",
        "seconds",
    ),
    "client_response_time_s": ("クライアント応答時間（秒）", "Client response time (s)", "seconds"),
    "counselor_chars_per_message": (
        "カウンセラー文字数／メッセージ",
        "Counselor chars / message",
        "characters",
    ),
    "client_chars_per_message": (
        "クライアント文字数／メッセージ",
        "Client chars / message",
        "characters",
    ),
    "client_char_share": ("クライアント文字数の割合", "Client share of characters", "fraction"),
    "counselor_question_rate": (
        "カウンセラー質問率（？で終わる）",
        "Counselor question rate (ends with ?)",
        "fraction",
    ),
}
"""Per-session features of :func:`session_features`: key → (Japanese label, English label, unit)."""


def _session_ordered(utterances: pd.DataFrame) -> pd.DataFrame:
    """``utterances`` in session order: corpus tables already are (their index ascends) and are returned
    as they are; any other row order (e.g. shuffled rows) is sorted once by session and position."""
    if utterances.index.is_monotonic_increasing:
        return utterances
    return utterances.iloc[
        np.lexsort((utterances["position"].to_numpy(), utterances["dialogue_id"].to_numpy()))
    ]


def response_gaps(utterances: pd.DataFrame, responder: str = "counselor") -> pd.DataFrame:
    """Every *response* by ``responder`` with its gap in seconds, as defined once for the package by
    :func:`kokoro_analysis.corpus.measures.response_times` (a message by ``responder`` whose previous message
    in the session is by the other role; the gap runs from that previous message). Rows may come in any
    order; they are put in session order first. Returns ``dialogue_id``, ``utterance`` (index label of the
    response) and ``gap_s``."""
    times = response_times(_session_ordered(utterances), to_role=responder)
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
    features of :data:`FEATURES`:

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
    messages = _session_ordered(corpus.utterances)
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
    return frame[["score", *FEATURES]]


PHASES = ("early", "middle", "late")
"""Thirds of a session by message position (Inaba, EMNLP 2026 Findings, "Beyond Reflection")."""


PHASE_FEATURES: dict[str, tuple[str, str, str]] = {
    key: FEATURES[key]
    for key in (
        "client_chars",
        "counselor_chars",
        "client_char_share",
        "counselor_question_rate",
        "counselor_response_time_s",
        "client_response_time_s",
    )
}
"""Features of :func:`phase_features` (key → Japanese label, English label, unit)."""


def message_phases(utterances: pd.DataFrame, phases: Sequence[str] = PHASES) -> pd.Series:
    """The phase of every message (index of ``utterances``): with the session's n stored messages in
    order, message i (0-based) is in phase ⌊len(phases) · i / n⌋, so each phase holds a third of the
    messages (±1). Categorical with ``phases`` as categories."""
    messages = _session_ordered(utterances)
    sessions = messages["dialogue_id"]
    order = sessions.groupby(sessions, sort=False).cumcount().to_numpy()
    size = sessions.map(sessions.value_counts()).to_numpy()
    codes = len(phases) * order // size
    phase = pd.Categorical.from_codes(codes, categories=list(phases))
    return pd.Series(phase, index=messages.index, name="phase").reindex(utterances.index)


def phase_features(corpus, phases: Sequence[str] = PHASES) -> pd.DataFrame:
    """The features of :data:`PHASE_FEATURES` computed on each phase of each session
    (:func:`message_phases`), as in :func:`session_features` but over the phase's messages; a response
    time belongs to the phase of the response message. Index (``dialogue_id``, ``phase``); NaN where a
    phase has no counselor message or no response."""
    messages = _session_ordered(corpus.utterances)
    phase = message_phases(messages, phases)
    is_client = messages["role"].astype(str).to_numpy() == "client"
    length = messages["length"].to_numpy(dtype=float)
    text = messages["text"].astype(str).str.rstrip()
    question = text.str.endswith(QUESTION_ENDINGS).to_numpy(dtype=bool)
    keys = [messages["dialogue_id"].to_numpy(), phase.array]  # categorical: phases in order
    parts = pd.DataFrame(
        {
            "client_chars": np.where(is_client, length, 0.0),
            "counselor_chars": np.where(is_client, 0.0, length),
            "counselor_messages": (~is_client).astype(float),
            "counselor_questions": (~is_client & question).astype(float),
        }
    )
    sums = parts.groupby(keys, observed=True).sum().rename_axis(["dialogue_id", "phase"])
    out = sums[["client_chars", "counselor_chars"]].copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["client_char_share"] = sums["client_chars"] / (
            sums["client_chars"] + sums["counselor_chars"]
        )
        out["counselor_question_rate"] = sums["counselor_questions"] / sums["counselor_messages"]
    for responder in ("counselor", "client"):
        gaps = response_gaps(messages, responder)
        gap_phase = phase.loc[gaps["utterance"].to_numpy()].array
        means = gaps.groupby([gaps["dialogue_id"].to_numpy(), gap_phase], observed=True)["gap_s"]
        out[f"{responder}_response_time_s"] = means.mean().reindex(out.index)
    return out[list(PHASE_FEATURES)]
