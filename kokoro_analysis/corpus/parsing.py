"""Parsing and validating KokoroChat's raw sessions into the corpus tables (one process, or split
over the available cores for a large folder of JSON files).

Every record is checked field by field against :mod:`kokoro_analysis.corpus.schema`; what is wrong
becomes a :class:`~kokoro_analysis.corpus.validation.Problem` naming file, message index and field,
never an exception. :func:`parse_data` returns the tables with the file of each session, for
:func:`kokoro_analysis.corpus.loading.load_corpus` to raise on or skip.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.sources import DataSource, RawRecord, iter_records
from kokoro_analysis.corpus.validation import KokoroDataError, Problem, ValidationReport
from kokoro_analysis.workers import available_cores, map_in_processes

REVIEW_EN = "review_by_client_en"


@dataclass
class _Columns:
    """Message columns and session rows accumulated while parsing."""

    sessions: list[dict] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    roles: list = field(default_factory=list)
    times: list = field(default_factory=list)
    texts: list = field(default_factory=list)


@dataclass
class _Shard:
    """A parsed share of the sessions as compact arrays (cheap to send between processes)."""

    sessions: list[dict]
    counts: np.ndarray
    role_codes: np.ndarray
    times: np.ndarray
    texts: pa.Array
    problems: list[Problem]
    seen: int
    kokorochat_like: bool
    other_json: bool
    """Some file is valid JSON but not a session (evidence of another dataset)."""
    digests: dict[str, str]
    """:func:`~kokoro_analysis.corpus.sources.content_digest` of every file as read."""


PARALLEL_MIN_FILES = 2000
"""Below this many files the sessions are parsed in one process (starting workers costs more)."""


def parse_data(source: DataSource) -> tuple[pd.DataFrame, pd.DataFrame, ValidationReport, str]:
    """Tables, the validation report and the key of the bytes read (:meth:`DataSource.key`)."""
    shards = _parse_shards(source)
    report = ValidationReport(source=str(source.path), sessions_seen=sum(s.seen for s in shards))
    report.problems = [p for shard in shards for p in shard.problems]
    kokorochat_like = any(shard.kokorochat_like for shard in shards)
    if not kokorochat_like and any(shard.other_json for shard in shards):
        first = next(p for p in report.problems if p.field == "session")
        raise KokoroDataError(
            f"{source.path}: none of the {report.sessions_seen} files is a KokoroChat session "
            f"(first problem: {first}). Is this another dataset?",
            report.problems,
        )
    dialogues, utterances = _build_tables(shards)
    report.problems.extend(_check_messages(dialogues, utterances))
    report.problems.extend(_check_duplicates(dialogues))
    digests = {label: digest for shard in shards for label, digest in shard.digests.items()}
    return dialogues, utterances, report, source.key(digests)


def _parse_shards(source: DataSource) -> list[_Shard]:
    """Parse all records, split over the available cores for a large folder of JSON files."""
    workers = min(available_cores(), 8)
    if source.kind != "json" or workers < 2 or len(source.files) < PARALLEL_MIN_FILES:
        return [_parse_source(source)]
    size = -(-len(source.files) // workers)
    parts = [
        replace(source, files=source.files[i : i + size]) for i in range(0, len(source.files), size)
    ]
    return list(map_in_processes(_parse_source, parts, len(parts), what="reading the data"))


def _parse_source(source: DataSource) -> _Shard:
    digests: dict[str, str] = {}
    return _parse_records(iter_records(source, digests), digests)


def _parse_records(records, digests: dict[str, str]) -> _Shard:
    """Parse ``records`` (``digests`` is filled while they are read)."""
    columns = _Columns()
    problems: list[Problem] = []
    seen, kokorochat_like, other_json = 0, False, False
    for record in records:
        seen += 1
        found = _parse_record(record, columns)
        kokorochat_like |= not any(p.field in ("json", "session") for p in found)
        other_json |= any(p.field == "session" for p in found)
        problems.extend(found)
    role_codes = {role: code for code, role in enumerate(schema.ROLES)}
    return _Shard(
        sessions=columns.sessions,
        counts=np.asarray(columns.counts, dtype=np.int64),
        role_codes=np.fromiter(
            (role_codes.get(r, -1) for r in columns.roles), dtype=np.int8, count=len(columns.roles)
        ),
        times=_parse_times(columns.times),
        texts=pa.array(columns.texts, pa.large_string()),
        problems=problems,
        seen=seen,
        kokorochat_like=kokorochat_like,
        other_json=other_json,
        digests=digests,
    )


def _parse_record(record: RawRecord, out: _Columns) -> list[Problem]:
    """Validate one session and, when its structure is usable, append it to ``out``. A structure the
    checks did not foresee is reported against the file, never raised."""
    try:
        return _check_and_append(record, out)
    except (TypeError, ValueError, AttributeError, KeyError) as error:
        detail = f"unusable structure ({type(error).__name__}: {error})"
        return [Problem(record.file, "session", detail, session_id=record.stem)]


def _check_and_append(record: RawRecord, out: _Columns) -> list[Problem]:
    data = record.data
    if isinstance(data, KokoroDataError):
        return [Problem(record.file, "json", str(data), session_id=record.stem)]
    if not isinstance(data, dict) or not set(schema.TOP_KEYS) <= set(data):
        found = sorted(data)[:6] if isinstance(data, dict) else type(data).__name__
        return [
            Problem(
                record.file,
                "session",
                f"not a KokoroChat session: expected keys {list(schema.TOP_KEYS)}, found {found}",
                session_id=record.stem,
            )
        ]
    problems: list[Problem] = []
    review, review_problems = _parse_review(
        record, data["review_by_client_en"], data["review_by_client_jp"]
    )
    problems += review_problems
    topic, topic_problems = _parse_topic(record, data["topic"])
    problems += topic_problems
    messages, message_problems = _parse_messages(record, data["dialogue"])
    problems += message_problems
    if review is None or messages is None:
        return problems
    roles, times, texts = messages
    session_id = review["evaluation_id"]
    out.sessions.append({"dialogue_id": session_id, "file": record.file, **topic, **review})
    out.counts.append(len(roles))
    out.roles.extend(roles)
    out.times.extend(times)
    out.texts.extend(texts)
    return problems


def _problem(record: RawRecord, field_name: str, detail: str, index: int | None = None) -> Problem:
    return Problem(record.file, field_name, detail, message_index=index, session_id=record.stem)


def _parse_messages(
    record: RawRecord, dialogue
) -> tuple[tuple[list, list, list] | None, list[Problem]]:
    if not isinstance(dialogue, list) or not dialogue:
        return None, [_problem(record, "dialogue", "must be a non-empty list of messages")]
    try:
        roles = [m["role"] for m in dialogue]
        times = [m["time"] for m in dialogue]
        texts = [m["utterance"] for m in dialogue]
    except (KeyError, TypeError):
        problems = [
            _problem(record, key, "missing", index)
            for index, message in enumerate(dialogue)
            for key in schema.MESSAGE_KEYS
            if not isinstance(message, dict) or key not in message
        ]
        return None, problems
    problems = []
    if not _all_roles_known(roles):
        problems += [
            _problem(record, "role", f"{role!r} is not one of {list(schema.ROLES)}", i)
            for i, role in enumerate(roles)
            if not (isinstance(role, str) and role in schema.ROLES)
        ]
    if not all(type(text) is str and text for text in texts):
        problems += [
            _problem(record, "utterance", "empty" if text == "" else f"not a string ({text!r})", i)
            for i, text in enumerate(texts)
            if not (type(text) is str and text)
        ]
    if not all(type(time) is str for time in times):
        problems += [
            _problem(record, "time", f"not a string ({time!r})", i)
            for i, time in enumerate(times)
            if type(time) is not str
        ]
    if problems:  # keep the session's shape; it is skipped or raised on later
        texts = [text if type(text) is str else "" for text in texts]
        times = [time if type(time) is str else None for time in times]
        roles = [role if isinstance(role, str) else "" for role in roles]
    return (roles, times, texts), problems


def _all_roles_known(roles: list) -> bool:
    try:
        return set(roles) <= set(schema.ROLES)
    except TypeError:  # a list or object as a role
        return False


def _parse_topic(record: RawRecord, topic) -> tuple[dict, list[Problem]]:
    if not isinstance(topic, dict):
        return {}, [_problem(record, "topic", "must be an object with main_jp, main_en, sub")]
    values, problems = {}, []
    for key in schema.TOPIC_KEYS:
        value = topic.get(key)
        if not isinstance(value, str) or not value:
            problems.append(
                _problem(
                    record, f"topic.{key}", "missing" if value is None else f"invalid ({value!r})"
                )
            )
            value = None
        values[f"topic_{key}"] = value
    return values, problems


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _id_problem(value) -> str | None:
    """Why ``value`` is not a usable id (an integer in ``schema.ID_RANGE``), or None."""
    low, high = schema.ID_RANGE
    if not _is_int(value):
        return f"not an integer ({value!r})"
    if not low <= value <= high:
        return f"{value} is outside the supported id range {low} to {high:,} (64-bit)"
    return None


def _parse_review(record: RawRecord, review_en, review_ja) -> tuple[dict | None, list[Problem]]:
    """Check the English review field by field and that the Japanese copy holds the same values."""
    if not isinstance(review_en, dict):
        return None, [_problem(record, REVIEW_EN, "must be an object")]
    missing = [key for key in schema.REVIEW_KEYS_EN if key not in review_en]
    if missing:
        return None, [_problem(record, f"{REVIEW_EN}.{key}", "missing") for key in missing]
    evaluation_id = review_en["evaluation_id"]
    id_problem = _id_problem(evaluation_id)
    if id_problem:
        return None, [_problem(record, f"{REVIEW_EN}.evaluation_id", id_problem)]
    problems: list[Problem] = []
    if record.stem is not None and record.stem != str(evaluation_id):
        detail = f"{evaluation_id} differs from the file name's id {record.stem!r}"
        problems.append(_problem(record, f"{REVIEW_EN}.evaluation_id", detail))
    ids = _review_ids(record, review_en, problems)
    items = _review_items(record, review_en, problems)
    flags = _review_flags(record, review_en, problems)
    score = _review_score(record, review_en["score"], items, flags, problems)
    problems += _compare_japanese_review(record, review_en, review_ja)
    created = review_en["evaluation_created_at"]
    if not schema.is_timestamp(created):
        detail = f"{created!r} is not a timestamp in the format {schema.TIME_PATTERN_TEXT}"
        problems.append(_problem(record, f"{REVIEW_EN}.evaluation_created_at", detail))
        created = None
    row = {"evaluation_id": evaluation_id, **ids, "score": score, "evaluated_at": created}
    return {**row, **items, **flags}, problems


def _review_ids(record: RawRecord, review_en: dict, problems: list[Problem]) -> dict:
    """``client_id`` and ``counselor_id`` (None where unusable, reported in ``problems``)."""
    ids = {}
    for key in ("client_id", "counselor_id"):
        id_problem = _id_problem(review_en[key])
        if id_problem:
            problems.append(_problem(record, f"{REVIEW_EN}.{key}", id_problem))
        ids[key] = None if id_problem else review_en[key]
    return ids


def _review_items(record: RawRecord, review_en: dict, problems: list[Problem]) -> dict:
    """The 20 item answers by item key (None where not an integer 0–5, reported)."""
    items = {}
    for item in schema.ITEMS:
        value = review_en[item.upstream_key]
        if not _is_int(value) or not schema.ITEM_MIN <= value <= schema.ITEM_MAX:
            detail = f"must be an integer 0–5, found {value!r}"
            problems.append(_problem(record, f"{REVIEW_EN}.{item.upstream_key}", detail))
            value = None
        items[item.key] = value
    return items


def _review_flags(record: RawRecord, review_en: dict, problems: list[Problem]) -> dict:
    """The three flags as booleans (a value other than null or the set value is reported)."""
    flags = {}
    for flag in schema.FLAGS:
        value = review_en[flag.key]
        if value not in (None, schema.FLAG_SET_VALUE):
            detail = f"must be null or {schema.FLAG_SET_VALUE!r}, found {value!r}"
            problems.append(_problem(record, f"{REVIEW_EN}.{flag.key}", detail))
        flags[flag.key] = value is not None
    return flags


def _review_score(
    record: RawRecord, score, items: dict, flags: dict, problems: list[Problem]
) -> int | None:
    """The score (None where not an integer 0–100, reported); when nothing else is wrong, it must
    follow the score rule from items and flags."""
    if not _is_int(score) or not schema.SCORE_MIN <= score <= schema.SCORE_MAX:
        detail = f"must be an integer 0–100, found {score!r}"
        problems.append(_problem(record, f"{REVIEW_EN}.score", detail))
        return None
    if not problems:
        expected = schema.expected_score(sum(items.values()), *flags.values())
        if score != expected:
            detail = f"{score} breaks the score rule (expected {expected} from items and flags)"
            problems.append(_problem(record, f"{REVIEW_EN}.score", detail))
    return score


def _compare_japanese_review(record: RawRecord, review_en: dict, review_ja) -> list[Problem]:
    prefix = "review_by_client_jp"
    if not isinstance(review_ja, dict):
        return [_problem(record, prefix, "must be an object")]
    problems = []
    for key_ja, key_en in zip(schema.REVIEW_KEYS_JA, schema.REVIEW_KEYS_EN):
        if key_ja not in review_ja:
            problems.append(_problem(record, f"{prefix}.{key_ja}", "missing"))
        elif review_ja[key_ja] != review_en[key_en]:
            problems.append(
                _problem(
                    record,
                    f"{prefix}.{key_ja}",
                    f"{review_ja[key_ja]!r} differs from review_by_client_en.{key_en} "
                    f"({review_en[key_en]!r})",
                )
            )
    return problems


def _build_tables(shards: list[_Shard]) -> tuple[pd.DataFrame, pd.DataFrame]:
    dialogues = pd.DataFrame([row for shard in shards for row in shard.sessions])
    if dialogues.empty:
        dialogues = pd.DataFrame(columns=["dialogue_id", "file", "score", "evaluated_at"])
    dialogues = dialogues.drop(columns="evaluation_id", errors="ignore").set_index("dialogue_id")
    counts = np.concatenate([shard.counts for shard in shards])
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    codes = np.concatenate([shard.role_codes for shard in shards])
    texts = pd.Series(
        pa.chunked_array([shard.texts for shard in shards], pa.large_string()), dtype="str"
    )
    utterances = pd.DataFrame(
        {
            "dialogue_id": np.repeat(dialogues.index.to_numpy(dtype=np.int64), counts),
            "position": (np.arange(counts.sum()) - starts).astype(np.int32),
            "role": pd.Categorical.from_codes(codes, categories=schema.ROLES),
            "time": np.concatenate([shard.times for shard in shards]),
            "text": texts,
        }
    )
    utterances["length"] = utterances["text"].str.len().astype("Int32").fillna(0).astype(np.int32)
    dialogues["evaluated_at"] = pd.to_datetime(
        dialogues["evaluated_at"], format=schema.TIME_FORMAT, errors="coerce"
    )
    return _add_session_columns(dialogues, utterances, counts), utterances


def _parse_times(values: list) -> np.ndarray:
    """Timestamps to datetime64[us] (pandas' default unit, and one Parquet stores). Only the release's
    exact format (``schema.TIME_PATTERN``) is accepted, each value on its own; anything else (another
    format, a time zone, fractions of a second, an impossible date) becomes NaT and is reported."""
    exact = pc.match_substring_regex(pa.array(values, pa.string()), schema.TIME_PATTERN)
    exact = exact.fill_null(False)
    if not pc.all(exact).as_py():
        keep = exact.to_numpy(zero_copy_only=False)
        values = [value if ok else "NaT" for value, ok in zip(values, keep)]
    try:
        parsed = np.array(values, dtype="datetime64[s]")
    except ValueError:  # an impossible date (2020-02-30) somewhere: judge each value
        parsed = np.array([_parse_time(value) for value in values], dtype="datetime64[s]")
    parsed[parsed < FIRST_TIME] = np.datetime64("NaT")  # NumPy's year 0000: no calendar's
    return parsed.astype("datetime64[us]")


FIRST_TIME = np.datetime64("0001-01-01T00:00:00", "s")
"""The earliest real timestamp (Python's ``datetime.min``; NumPy also parses year 0000)."""


def _parse_time(value: str) -> np.datetime64:
    try:
        return np.datetime64(value, "s")
    except ValueError:
        return np.datetime64("NaT", "s")


def _add_session_columns(
    dialogues: pd.DataFrame, utterances: pd.DataFrame, counts: np.ndarray
) -> pd.DataFrame:
    """Derived per-session columns: times, duration, message counts, item sum and score-rule branch.

    Messages are grouped by their session's position (not its id), so duplicated ids cannot mix sessions.
    """
    if dialogues.empty:
        return dialogues
    session_number = np.repeat(np.arange(len(dialogues)), counts)
    times = utterances["time"].groupby(session_number)
    dialogues["start_time"] = times.min().to_numpy()
    dialogues["end_time"] = times.max().to_numpy()
    dialogues["duration_min"] = (
        dialogues["end_time"] - dialogues["start_time"]
    ).dt.total_seconds() / 60
    dialogues["year"] = dialogues["start_time"].dt.year.astype("Int64")
    codes = utterances["role"].cat.codes.to_numpy()
    dialogues["n_messages"] = counts
    for code, role in enumerate(schema.ROLES):
        dialogues[f"n_{role}_messages"] = np.bincount(
            session_number[codes == code], minlength=len(dialogues)
        )
    items = dialogues[list(schema.ITEM_KEYS)].apply(pd.to_numeric, errors="coerce")
    dialogues["item_sum"] = items.sum(axis=1, min_count=len(schema.ITEM_KEYS)).astype("Int64")
    flags = dialogues[list(schema.FLAG_KEYS)].astype(bool).to_numpy().T
    dialogues["score_branch"] = schema.score_rule_branch(*flags)
    return dialogues


def _check_messages(dialogues: pd.DataFrame, utterances: pd.DataFrame) -> list[Problem]:
    """Vectorised checks over all messages: timestamps in the release's format, in order within each
    session (review timestamps are checked per session by ``_parse_review``)."""
    files = dialogues["file"].to_numpy()
    positions = utterances["position"].to_numpy()
    session_number = np.cumsum(positions == 0) - 1
    unparsed = utterances["time"].isna().to_numpy()
    backwards = (positions > 0) & (utterances["time"].diff() < pd.Timedelta(0)).to_numpy()
    problems = []
    for index in np.flatnonzero(unparsed | backwards):
        time = utterances["time"].iat[index]
        detail = (
            f"not a timestamp in the format {schema.TIME_PATTERN_TEXT}"
            if unparsed[index]
            else f"{time} is earlier than the previous message"
        )
        file = files[session_number[index]]
        problems.append(Problem(file, "time", detail, int(positions[index]), Path(file).stem))
    return problems


def _check_duplicates(dialogues: pd.DataFrame) -> list[Problem]:
    duplicated = dialogues.index.duplicated(keep=False)
    return [
        Problem(
            file,
            "review_by_client_en.evaluation_id",
            f"id {dialogue_id} occurs in more than one session",
            None,
            Path(file).stem,
        )
        for dialogue_id, file in zip(dialogues.index[duplicated], dialogues["file"][duplicated])
    ]
