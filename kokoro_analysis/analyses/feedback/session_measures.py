"""The per-session dialogue features set against the score, as tables name them (:data:`FEATURES`:
labels and units of the measures of :func:`kokoro_analysis.corpus.measures.session_features`), and
the same measures on each third of a session (:func:`phase_features`, :func:`message_phases`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kokoro_analysis.corpus.measures import (
    QUESTION_ENDINGS,
    in_session_order,
    response_gaps,
)

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
"""The measures of :func:`kokoro_analysis.corpus.measures.session_features` (the same keys as
:data:`~kokoro_analysis.corpus.measures.SESSION_MEASURES`, in order): key → (Japanese label,
English label, unit)."""


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
    messages = in_session_order(utterances)
    sessions = messages["dialogue_id"]
    order = sessions.groupby(sessions, sort=False).cumcount().to_numpy()
    size = sessions.map(sessions.value_counts()).to_numpy()
    codes = len(phases) * order // size
    phase = pd.Categorical.from_codes(codes, categories=list(phases))
    return pd.Series(phase, index=messages.index, name="phase").reindex(utterances.index)


def phase_features(corpus, phases: Sequence[str] = PHASES) -> pd.DataFrame:
    """The features of :data:`PHASE_FEATURES` computed on each phase of each session
    (:func:`message_phases`), as in :func:`kokoro_analysis.corpus.measures.session_features` but over the phase's messages; a response
    time belongs to the phase of the response message. Index (``dialogue_id``, ``phase``); NaN where a
    phase has no counselor message or no response."""
    messages = in_session_order(corpus.utterances)
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
