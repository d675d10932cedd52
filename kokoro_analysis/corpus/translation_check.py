"""Checking Multilingual KokoroChat against the corpus it translates, file by file and message by
message.

Nothing is assumed: every file is matched to its original session by id and every message by index;
``role``, ``time`` and ``origin`` (the Japanese text) must equal the original's, ``topic`` and
``review_by_client`` (the original's ``review_by_client_en``) too. Sessions without a file and empty
translations are properties of the release, counted, not errors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.loading import Corpus
from kokoro_analysis.corpus.sources import read_bytes, read_error_reason
from kokoro_analysis.corpus.translation_sources import (
    TRANSLATION_FOLDERS,
    TranslationSource,
    file_id,
)
from kokoro_analysis.corpus.validation import Problem

TOP_KEYS = ("dialogue", "topic", "review_by_client")
MESSAGE_KEYS = ("role", "time", "origin", "content")


@dataclass
class TranslationCoverage:
    """What the translations of one language cover, and every mismatch with the original.

    Sessions: ``sessions_original`` in the corpus, ``sessions_translated`` (a file aligned with its
    original), ``missing_ids`` (no file), ``unmatched_ids`` (a file whose id is not a corpus session),
    ``skipped_ids`` (lenient mode: files with a problem). Messages: ``messages_original`` in the
    corpus, ``messages_aligned`` (in the translated sessions), ``empty`` ((session id, message index)
    of empty or blank translations). ``problems``: every mismatch (file, message index, field).
    """

    translation: str
    source: str
    sessions_original: int = 0
    sessions_translated: int = 0
    missing_ids: list[int] = field(default_factory=list)
    unmatched_ids: list[int] = field(default_factory=list)
    skipped_ids: list[int] = field(default_factory=list)
    messages_original: int = 0
    messages_aligned: int = 0
    empty: list[tuple[int, int]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def aligned(self) -> bool:
        """True when every file matches a session of the corpus and no field differs."""
        return not self.problems and not self.unmatched_ids

    @property
    def sessions_with_empty(self) -> int:
        return len({session for session, _ in self.empty})

    def summary(self) -> str:
        """Human-readable coverage: counts, missing ids, empty translations, problems by field."""
        share = (
            self.sessions_translated / self.sessions_original
            if self.sessions_original
            else float("nan")
        )
        lines = [
            f"translations ({TRANSLATION_FOLDERS[self.translation]}): {self.source}",
            f"sessions: {self.sessions_original:,} in the corpus, {self.sessions_translated:,} translated "
            f"({share:.2%}), {len(self.missing_ids):,} without a translation"
            + (
                f" (ids {', '.join(map(str, self.missing_ids[:30]))}"
                + (", ..." if len(self.missing_ids) > 30 else "")
                + ")"
                if self.missing_ids
                else ""
            ),
            f"messages: {self.messages_aligned:,} aligned of {self.messages_original:,} in the corpus; "
            f"{len(self.empty):,} empty translation(s) in {self.sessions_with_empty:,} session(s)",
        ]
        if self.unmatched_ids:
            lines.append(
                f"files without an original session: {len(self.unmatched_ids)} "
                f"(ids {', '.join(map(str, self.unmatched_ids[:30]))})"
            )
        if self.skipped_ids:
            lines.append(
                f"skipped: {len(self.skipped_ids)} session(s) with a mismatch (listed below)"
            )
        lines.append(f"mismatches: {len(self.problems):,}")
        if self.problems:
            by_field = pd.Series([p.field.split(".")[0] for p in self.problems]).value_counts()
            lines += [f"  {name}: {count:,}" for name, count in by_field.items()]
        return "\n".join(lines)

    def problems_frame(self) -> pd.DataFrame:
        """One row per mismatch: file, session id, message index, field, detail."""
        columns = ["file", "session_id", "message_index", "field", "detail"]
        rows = [[getattr(p, c) for c in columns] for p in self.problems]
        return pd.DataFrame(rows, columns=columns).astype({"message_index": "Int64"})

    def to_dict(self) -> dict:
        """The coverage as plain JSON values (:meth:`from_dict` reads it back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TranslationCoverage:
        data = dict(data)
        data["problems"] = [Problem(**p) for p in data["problems"]]
        data["empty"] = [tuple(pair) for pair in data["empty"]]
        return cls(**data)


@dataclass
class _Originals:
    """The corpus as the translations are checked against it: per session its message range."""

    ids: dict[int, tuple[int, int]]
    roles: list[str]
    times: list[str]
    texts: list[str]
    topics: dict[int, dict]
    """Session id -> its ``topic_*`` columns."""
    reviews: dict[int, dict]
    """Session id -> its row of the dialogues table (plain values: one dict lookup per file, not a
    pandas row lookup)."""

    @classmethod
    def of(cls, corpus: Corpus) -> _Originals:
        utterances = corpus.utterances
        dialogue_ids = utterances["dialogue_id"].to_numpy()
        starts = (
            np.flatnonzero(np.r_[True, dialogue_ids[1:] != dialogue_ids[:-1]])
            if len(dialogue_ids)
            else []
        )
        ends = np.append(starts[1:], len(dialogue_ids)) if len(dialogue_ids) else []
        ranges = {int(dialogue_ids[a]): (int(a), int(b)) for a, b in zip(starts, ends)}
        ranges.update({int(i): (0, 0) for i in corpus.dialogues.index if int(i) not in ranges})
        return cls(
            ids=ranges,
            roles=utterances["role"].astype(str).tolist(),
            times=schema.release_times(utterances["time"]),
            texts=utterances["text"].tolist(),
            topics=corpus.dialogues[[f"topic_{k}" for k in schema.TOPIC_KEYS]].to_dict("index"),
            reviews=corpus.dialogues.to_dict("index"),
        )

    def review(self, dialogue_id: int) -> dict:
        """The original ``review_by_client_en`` rebuilt from the dialogues table."""
        row = self.reviews[dialogue_id]
        values = {
            "evaluation_id": dialogue_id,
            "evaluation_created_at": row["evaluated_at"].strftime(schema.TIME_FORMAT),
            "client_id": int(row["client_id"]),
            "counselor_id": int(row["counselor_id"]),
            "score": int(row["score"]),
        }
        values.update({item.upstream_key: int(row[item.key]) for item in schema.ITEMS})
        values.update(
            {flag.key: schema.FLAG_SET_VALUE if row[flag.key] else None for flag in schema.FLAGS}
        )
        return values


@dataclass
class AlignedTexts:
    """Translated messages of the aligned sessions (parallel lists: session id, 0-based message
    index, the release's ``content``) and the coverage found."""

    dialogue_ids: list[int]
    positions: list[int]
    texts: list[str]
    coverage: TranslationCoverage


def _check_file(
    file: Path, translation: str, originals: _Originals
) -> tuple[int | None, list | None, list[Problem]]:
    """Read and check one file: (dialogue id, translations per message, problems)."""
    name, dialogue_id = str(file), file_id(file.name, translation)

    def problem(field_name: str, detail: str, index: int | None = None) -> Problem:
        return Problem(
            name, field_name, detail, index, None if dialogue_id is None else str(dialogue_id)
        )

    if dialogue_id is None:
        return None, None, [problem("file name", f"expected {translation}<ID>.json")]
    try:
        data = orjson.loads(read_bytes(file))
    except OSError as error:
        return dialogue_id, None, [problem("file", f"cannot be read ({read_error_reason(error)})")]
    except orjson.JSONDecodeError as error:
        return dialogue_id, None, [problem("json", f"not valid JSON ({error})")]
    if not isinstance(data, dict) or not set(TOP_KEYS) <= set(data):
        found = sorted(data)[:6] if isinstance(data, dict) else type(data).__name__
        return (
            dialogue_id,
            None,
            [problem("session", f"expected keys {list(TOP_KEYS)}, found {found}")],
        )
    if dialogue_id not in originals.ids:
        return dialogue_id, None, []
    dialogue = data["dialogue"]
    if not isinstance(dialogue, list):
        return dialogue_id, None, [problem("dialogue", "must be a list of messages")]
    start, end = originals.ids[dialogue_id]
    problems = []
    if len(dialogue) != end - start:
        problems.append(
            problem("dialogue", f"{len(dialogue)} messages, the original has {end - start}")
        )
    contents = _check_messages(dialogue, start, end, originals, problem, problems)
    problems += _compare_topic(data["topic"], originals.topics[dialogue_id], problem)
    problems += _compare_review(data["review_by_client"], originals.review(dialogue_id), problem)
    return dialogue_id, contents, problems


def _check_messages(
    dialogue: list, start: int, end: int, originals: _Originals, problem, problems: list[Problem]
) -> list[str]:
    """The translation of every message of ``dialogue`` ("" where unusable); every missing key and
    every ``role``, ``time`` or ``origin`` differing from the original (messages ``start:end`` of the
    corpus) is added to ``problems``."""
    matching = _contents_if_all_match(dialogue, start, end, originals)
    if matching is not None:
        return matching
    contents = []
    for index, message in enumerate(dialogue):
        if not isinstance(message, dict):
            problems.append(problem("message", "must be an object", index))
            contents.append("")
            continue
        problems += [problem(key, "missing", index) for key in MESSAGE_KEYS if key not in message]
        content = message.get("content", "")
        if not isinstance(content, str):
            problems.append(problem("content", f"not a string ({content!r})", index))
            content = ""
        contents.append(content)
        if index >= end - start:
            continue
        for key, expected in (
            ("role", originals.roles),
            ("time", originals.times),
            ("origin", originals.texts),
        ):
            if key in message and message[key] != expected[start + index]:
                problems.append(
                    problem(
                        key,
                        f"{message[key]!r} differs from the original ({expected[start + index]!r})",
                        index,
                    )
                )
    return contents


def _contents_if_all_match(
    dialogue: list, start: int, end: int, originals: _Originals
) -> list[str] | None:
    """The translations when the session has no problem (as many messages as the original, each an
    object with every key, a string ``content``, the original's ``role``, ``time`` and ``origin``),
    checked a column at a time; else None, and :func:`_check_messages` finds the problems."""
    if len(dialogue) != end - start:
        return None
    try:
        columns = {key: [message[key] for message in dialogue] for key in MESSAGE_KEYS}
    except (TypeError, KeyError):  # a message that is not an object, or lacks a key
        return None
    matches = (
        columns["role"] == originals.roles[start:end]
        and columns["time"] == originals.times[start:end]
        and columns["origin"] == originals.texts[start:end]
        and all(isinstance(content, str) for content in columns["content"])
    )
    return columns["content"] if matches else None


def _compare_topic(topic, original: dict, problem) -> list[Problem]:
    if not isinstance(topic, dict):
        return [problem("topic", "must be an object with main_jp, main_en, sub")]
    return [
        problem(
            f"topic.{key}",
            f"{topic.get(key)!r} differs from the original ({original[f'topic_{key}']!r})",
        )
        for key in schema.TOPIC_KEYS
        if topic.get(key) != original[f"topic_{key}"]
    ]


def _compare_review(review, original: dict, problem) -> list[Problem]:
    if not isinstance(review, dict):
        return [problem("review_by_client", "must be an object")]
    return [
        problem(
            f"review_by_client.{key}",
            "missing"
            if key not in review
            else f"{review[key]!r} differs from the original's review_by_client_en ({value!r})",
        )
        for key, value in original.items()
        if review.get(key, ...) != value
    ]


def _duplicate_ids(source: TranslationSource) -> dict[int, list[Path]]:
    """Session ids named by more than one file (``en605.json`` and ``en0605.json``) -> those files:
    none of them is used, as which one is meant cannot be told."""
    by_id: dict[int, list[Path]] = {}
    for file in source.files:
        dialogue_id = file_id(file.name, source.translation)
        if dialogue_id is not None:
            by_id.setdefault(dialogue_id, []).append(file)
    return {i: files for i, files in by_id.items() if len(files) > 1}


def validate_translations(corpus: Corpus, source: TranslationSource) -> AlignedTexts:
    """Align every file of ``source`` with ``corpus``; collect translations, coverage and problems."""
    originals = _Originals.of(corpus)
    coverage = TranslationCoverage(
        source.translation,
        str(source.folder),
        sessions_original=len(corpus.dialogues),
        messages_original=len(corpus.utterances),
    )
    parsed = AlignedTexts([], [], [], coverage)
    seen = set()
    duplicates = _duplicate_ids(source)
    for file in source.files:
        dialogue_id, contents, problems = _check_file(file, source.translation, originals)
        if dialogue_id in duplicates:
            others = ", ".join(f.name for f in duplicates[dialogue_id] if f != file)
            detail = f"session {dialogue_id} also has {others}"
            problems = [Problem(str(file), "file name", detail, None, str(dialogue_id))]
            contents = None
        if (
            dialogue_id is not None
            and dialogue_id not in originals.ids
            and contents is None
            and not problems
        ):
            coverage.unmatched_ids.append(dialogue_id)
            continue
        coverage.problems += problems
        if problems or contents is None:
            if dialogue_id is not None:
                coverage.skipped_ids.append(dialogue_id)
                seen.add(dialogue_id)
            continue
        seen.add(dialogue_id)
        coverage.sessions_translated += 1
        coverage.messages_aligned += len(contents)
        coverage.empty += [(dialogue_id, i) for i, text in enumerate(contents) if not text.strip()]
        parsed.dialogue_ids += [dialogue_id] * len(contents)
        parsed.positions += range(len(contents))
        parsed.texts += contents
    coverage.missing_ids = sorted(int(i) for i in corpus.dialogues.index if int(i) not in seen)
    coverage.skipped_ids = sorted(set(coverage.skipped_ids))
    return parsed
