"""Reading sessions: filter them, list the matches, and lay one out as a transcript with its scores.

The logic behind notebook 05 and its widgets (:mod:`kokoro_analysis.explorer_ui`); everything here
returns plain DataFrames so the notebook can show and write them headless.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.measures import SCORE_BANDS, score_band
from kokoro_analysis.corpus.translations import available_translations

BOUNDS = ("score_min", "score_max", "year_min", "year_max", "messages_min", "messages_max")
"""The integer criteria of :class:`SessionFilter`."""


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions to list. Every criterion left at its default keeps everything.

    ``topics``: main topics (English or Japanese label); ``score_band``: a name of
    :data:`~kokoro_analysis.corpus.measures.SCORE_BANDS`; ``score_min``/``score_max``: inclusive score
    bounds (0–100); ``flags``: check flags that must all be set (``schema.FLAG_KEYS``), or
    ``("none",)`` for sessions with no flag; ``year_min``/``year_max``: the session's start year;
    ``messages_min``/``messages_max``: stored messages per session.
    """

    topics: tuple[str, ...] = ()
    score_band: str | None = None
    score_min: int | None = None
    score_max: int | None = None
    flags: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    messages_min: int | None = None
    messages_max: int | None = None

    def __post_init__(self) -> None:
        if self.score_band is not None and self.score_band not in SCORE_BANDS:
            raise ValueError(
                f"filters: score_band must be one of {', '.join(SCORE_BANDS)}, not {self.score_band!r}"
            )
        unknown = set(self.flags) - set(schema.FLAG_KEYS) - {"none"}
        if unknown:
            raise ValueError(
                f"filters: unknown flag(s) {sorted(unknown)}; flags are "
                f"{', '.join(schema.FLAG_KEYS)} or 'none'"
            )
        for name in BOUNDS:
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, np.integer))
            ):
                raise ValueError(f"filters: {name} must be an integer or None, not {value!r}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> SessionFilter:
        """From a notebook parameter such as ``{"topics": ["Workplace Issues"], "score_band": "low"}``
        (a single topic or flag may be given as a string), or the same as JSON text (as
        ``papermill -p filters '{...}'`` passes it)."""
        if isinstance(values, str):
            try:
                values = json.loads(values) if values.strip() else {}
            except ValueError as error:
                raise ValueError(f"filters: not a JSON object ({error}): {values!r}") from None
        if values is not None and not isinstance(values, Mapping):
            raise ValueError(
                f'filters: must be a mapping such as {{"score_band": "low"}}, not {values!r}'
            )
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"filters: unknown key(s) {unknown}; known keys are {', '.join(sorted(known))}"
            )
        for key in ("topics", "flags"):
            if isinstance(values.get(key), str):
                values[key] = (values[key],)
            elif key in values:
                values[key] = tuple(values[key] or ())
        return cls(**values)

    def is_empty(self) -> bool:
        """True when no criterion is set."""
        return self == SessionFilter()


def filter_mask(dialogues: pd.DataFrame, criteria: SessionFilter) -> np.ndarray:
    """Boolean mask over ``corpus.dialogues`` of the sessions meeting every criterion."""
    keep = np.ones(len(dialogues), dtype=bool)
    if criteria.topics:
        known = set(dialogues["topic_main_en"]) | set(dialogues["topic_main_jp"])
        missing = [t for t in criteria.topics if t not in known]
        if missing:
            raise ValueError(
                f"filters: no session has topic(s) {missing}; main topics are: "
                f"{', '.join(sorted(set(dialogues['topic_main_en'])))}"
            )
        keep &= (
            dialogues["topic_main_en"].isin(criteria.topics)
            | dialogues["topic_main_jp"].isin(criteria.topics)
        ).to_numpy()
    score = dialogues["score"].to_numpy()
    if criteria.score_band:
        low, high = SCORE_BANDS[criteria.score_band]
        keep &= (score >= low) & (score <= high)
    keep &= _within(score, criteria.score_min, criteria.score_max)
    keep &= _within(
        dialogues["year"].to_numpy(dtype=float, na_value=np.nan),
        criteria.year_min,
        criteria.year_max,
    )
    keep &= _within(
        dialogues["n_messages"].to_numpy(), criteria.messages_min, criteria.messages_max
    )
    flags = dialogues[list(schema.FLAG_KEYS)].to_numpy(dtype=bool)
    if "none" in criteria.flags:
        keep &= ~flags.any(axis=1)
    for flag in criteria.flags:
        if flag != "none":
            keep &= dialogues[flag].to_numpy(dtype=bool)
    return keep


def _within(values: np.ndarray, low, high) -> np.ndarray:
    keep = np.ones(len(values), dtype=bool)
    if low is not None:
        keep &= values >= low
    if high is not None:
        keep &= values <= high
    return keep


def session_table(dialogues: pd.DataFrame, *, lang: str = "en") -> pd.DataFrame:
    """One row per session (by ``dialogue_id``): start time, year, main topic (in ``lang``), score,
    band, stored messages, duration in minutes and the flags that are set (comma-separated)."""
    flags = dialogues[list(schema.FLAG_KEYS)].to_numpy(dtype=bool)
    names = np.array(schema.FLAG_KEYS, dtype=object)
    return pd.DataFrame(
        {
            "start_time": dialogues["start_time"].dt.strftime("%Y-%m-%d %H:%M").to_numpy(),
            "year": dialogues["year"].to_numpy(),
            "topic": dialogues[schema.pick("topic_main_jp", "topic_main_en", lang=lang)].to_numpy(),
            "score": dialogues["score"].to_numpy(),
            "band": score_band(dialogues["score"]),
            "messages": dialogues["n_messages"].to_numpy(),
            "duration_min": dialogues["duration_min"].round(1).to_numpy(),
            "flags": [", ".join(names[row]) for row in flags],
        },
        index=pd.Index(dialogues.index, name="dialogue_id"),
    )


def find_sessions(corpus, criteria: SessionFilter, *, lang: str = "en") -> pd.DataFrame:
    """:func:`session_table` of the sessions of ``corpus`` that meet ``criteria``, by ``dialogue_id``."""
    return session_table(corpus.dialogues[filter_mask(corpus.dialogues, criteria)], lang=lang)


def check_session(corpus, session_id) -> int:
    """``session_id`` as the corpus's id type; a clear error when the corpus has no such session."""
    try:
        if isinstance(session_id, bool) or not isinstance(session_id, (int, np.integer, str)):
            raise TypeError  # 605.5 is no id (int() would truncate it to 605)
        key = int(session_id)
    except (TypeError, ValueError):
        raise ValueError(
            f"session_id must be a dialogue id (an integer), not {session_id!r}"
        ) from None
    if key not in corpus.dialogues.index:
        raise ValueError(
            f"no session with dialogue_id {key} in this corpus ({len(corpus.dialogues):,} sessions)"
        )
    return key


def transcript(corpus, session_id, translations=None) -> pd.DataFrame:
    """The messages of one session in order: ``position``, ``time``, ``gap_s`` (seconds since the
    previous message; empty for the first), ``role`` and ``text``; plus ``translation`` when
    ``translations`` (a Series or one-column DataFrame aligned to ``corpus.utterances``) is given.
    Indexed by the utterance's label in ``corpus.utterances``."""
    key = check_session(corpus, session_id)
    utterances = corpus.utterances[corpus.utterances["dialogue_id"] == key]
    gaps = utterances["time"].diff().dt.total_seconds()
    frame = pd.DataFrame(
        {
            "position": utterances["position"].to_numpy(),
            "time": utterances["time"].dt.strftime("%H:%M:%S").to_numpy(),
            "gap_s": gaps.to_numpy(),
            "role": utterances["role"].astype(str).to_numpy(),
            "text": utterances["text"].to_numpy(),
        },
        index=pd.Index(utterances.index, name="utterance"),
    )
    if translations is not None:
        if isinstance(translations, pd.DataFrame):
            named = [c for c in ("translation", "text_en", "text") if c in translations.columns]
            translations = translations[named[0]] if named else translations.iloc[:, 0]
        frame["translation"] = translations.reindex(frame.index).to_numpy()
    return frame


def session_scores(corpus, session_id, *, lang: str = "en") -> pd.DataFrame:
    """The 20 feedback items of one session (``number``, ``item`` label in ``lang``, ``block``,
    ``score`` 0–5) followed by the three flags (``score`` 1 when set, 0 when not) and the total."""
    key = check_session(corpus, session_id)
    row = corpus.dialogues.loc[key]
    items = [
        {
            "number": item.number,
            "item": schema.pick(item.label_ja, item.label_en, lang=lang),
            "block": schema.pick(*schema.BLOCKS[item.block], lang=lang),
            "score": int(row[item.key]),
        }
        for item in schema.ITEMS
    ]
    flags = [
        {
            "number": None,
            "item": schema.pick(flag.label_ja, flag.label_en, lang=lang),
            "block": schema.pick("フラグ", "flag", lang=lang),
            "score": int(bool(row[flag.key])),
        }
        for flag in schema.FLAGS
    ]
    total = [
        {
            "number": None,
            "item": schema.pick("点数", "score", lang=lang),
            "block": schema.pick("合計", "total", lang=lang),
            "score": int(row["score"]),
        }
    ]
    frame = pd.DataFrame(items + flags + total)
    frame["number"] = frame["number"].astype("Int64")
    return frame


def choose_session(corpus, sessions: pd.DataFrame, session_id=None) -> int | None:
    """The session to read: ``session_id`` when given (checked against the corpus), else the first
    matching session, else None when nothing matches."""
    if session_id is not None:
        return check_session(corpus, session_id)
    return int(sessions.index[0]) if len(sessions) else None


def concordance_counts(
    hits: pd.DataFrame, dialogues: pd.DataFrame, *, lang: str = "en"
) -> pd.DataFrame:
    """Hits by role, by main topic (in ``lang``) and by score band, stacked: columns ``by`` (role,
    topic, band), ``group``, ``hits``, ``sessions`` and ``share`` (of all hits, 0–1)."""
    from kokoro_analysis.text.concordance import hit_counts

    topic = dialogues[schema.pick("topic_main_jp", "topic_main_en", lang=lang)]
    band = pd.Series(score_band(dialogues["score"]), index=dialogues.index)
    parts = [
        hit_counts(hits, "role"),
        hit_counts(hits, "topic", topic),
        hit_counts(hits, "band", band),
    ]
    return pd.concat(
        [
            part.rename(columns={part.columns[0]: "group"}).assign(by=part.columns[0])
            for part in parts
        ],
        ignore_index=True,
    )[["by", "group", "hits", "sessions", "share"]]


@dataclass(frozen=True)
class SearchResult:
    """A concordance search within a set of sessions (:func:`search`).

    ``hits``: :func:`kokoro_analysis.text.concordance.concordance` rows of those sessions;
    ``counts``: :func:`concordance_counts`; ``collocates``: log-Dice collocates with the lemma's
    display form (``form``) and English gloss (``gloss_en``); ``in_text``: occurrences of the query as
    written in the searched messages; ``inside_tokens``: how many of those are not hits because they
    begin or end inside a longer token (不安 in 不安定), ``in_text`` minus the hits written as the query.
    """

    query: str
    hits: pd.DataFrame
    counts: pd.DataFrame
    collocates: pd.DataFrame
    in_text: int
    inside_tokens: int

    def summary(self, sessions: int) -> str:
        """One line: hits, sessions with hits of the ``sessions`` searched, occurrences inside tokens."""
        line = (
            f"{len(self.hits):,} hits for {self.query} in {self.hits['dialogue_id'].nunique():,} "
            f"of the {sessions:,} matching sessions"
        )
        if self.inside_tokens:
            line += (
                f"; {self.inside_tokens:,} more occurrences of {self.query} sit inside longer "
                "tokens (not counted as hits)"
            )
        return line


def search(
    corpus,
    tokens,
    query: str,
    sessions,
    *,
    match: str = "either",
    pos: str | None = None,
    role: str | None = None,
    lang: str = "en",
    forms: pd.Series | None = None,
) -> SearchResult:
    """The concordance of ``query`` (:func:`kokoro_analysis.text.concordance.concordance`) restricted to
    the sessions ``sessions`` (dialogue ids, e.g. the index of :func:`find_sessions`), with its counts
    by role, topic and band and its collocates. ``forms``: display forms of lemmas (default: those of
    ``tokens``, :func:`kokoro_analysis.text.forms.display_forms`)."""
    from kokoro_analysis.text import concordance as kwic
    from kokoro_analysis.text.forms import display_forms
    from kokoro_analysis.text.glossary import gloss_of

    query = query.strip() if isinstance(query, str) else query
    hits = kwic.concordance(tokens, corpus.utterances, query, match=match, pos=pos, role=role)
    wanted = pd.Index(sessions)
    hits = hits[hits["dialogue_id"].isin(wanted)].reset_index(drop=True)
    collocates = kwic.collocates(tokens, hits) if len(hits) else _empty_collocates()
    if forms is None:
        forms = display_forms(tokens, collocates["lemma"]) if len(collocates) else pd.Series()
    collocates.insert(1, "form", [forms.get(w, w) for w in collocates["lemma"]])
    collocates.insert(
        2, "gloss_en", [gloss_of(w, f) for w, f in zip(collocates["lemma"], collocates["form"])]
    )
    utterances = corpus.utterances
    searched = utterances["dialogue_id"].isin(wanted).to_numpy()
    if role is not None:
        searched &= (utterances["role"].astype(str) == role).to_numpy()
    in_text = kwic.text_occurrences(utterances.loc[searched, "text"], query)
    written = int((hits["hit"] == query).sum())
    return SearchResult(
        query=query,
        hits=hits,
        counts=concordance_counts(hits, corpus.dialogues, lang=lang),
        collocates=collocates,
        in_text=in_text,
        inside_tokens=max(in_text - written, 0),
    )


def _empty_collocates() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lemma": pd.Series(dtype=str),
            "co": pd.Series(dtype=np.int64),
            "frequency": pd.Series(dtype=np.int64),
            "log_dice": pd.Series(dtype=float),
        }
    )


def english_translations(corpus) -> pd.DataFrame | None:
    """The official English translation of every message of ``corpus`` (column ``translation``,
    indexed like ``corpus.utterances``) when it is at hand (``$KOKOROCHAT_TRANSLATIONS`` or
    ``data/MultilingualKokoroChat``; never cloned), else None. A release that does not align with the
    corpus raises (see :func:`kokoro_analysis.corpus.translations.available_translations`)."""
    found = available_translations(corpus, "en")
    return None if found is None else found.for_utterances(corpus.utterances)
