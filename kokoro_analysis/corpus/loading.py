"""Load KokoroChat into tidy pandas tables, validating every record.

``load_corpus()`` returns a :class:`Corpus` with

* ``dialogues``: one row per session, indexed by ``dialogue_id`` (the file stem, equal to the review's
  ``evaluation_id``);
* ``utterances``: one row per stored message (an *utterance*; consecutive messages of one speaker are
  not merged), in session order;
* ``items``: the 20 feedback items with Japanese and English labels and their block.

``Corpus.turns()`` merges consecutive messages of one speaker into *turns*. Lengths are characters of
the unnormalised text.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.sources import (
    DataSource,
    RawRecord,
    content_digest,
    find_data,
    iter_records,
)
from kokoro_analysis.corpus.validation import KokoroDataError, Problem, ValidationReport
from kokoro_analysis.paths import report_unusable_cache, usable_cache_dir
from kokoro_analysis.workers import available_cores, map_in_processes

CACHE_FORMAT = 3
"""Bump when the cached table layout changes, so old caches are not read."""


@dataclass
class Corpus:
    """The loaded corpus: ``dialogues``, ``utterances`` and ``items`` tables plus the validation report."""

    dialogues: pd.DataFrame
    utterances: pd.DataFrame
    report: ValidationReport
    source: DataSource | None = None
    subset_name: str = "all"
    items: pd.DataFrame = field(default_factory=schema.item_table)
    data_key: str | None = None
    """:meth:`DataSource.key` of the bytes this corpus was parsed from (the load cache's key)."""

    def __repr__(self) -> str:
        return (
            f"Corpus({len(self.dialogues):,} sessions, {len(self.utterances):,} utterances, "
            f"subset={self.subset_name!r})"
        )

    def subset(self, name: str) -> Corpus:
        """The sessions of score subset ``name`` ("all", "low", "high", "full", "test"; see ``schema.SUBSETS``)."""
        return replace(self.restrict(self.subset_ids(name)), subset_name=name)

    def subset_ids(self, name: str) -> pd.Index:
        """The dialogue ids of score subset ``name`` (without copying any table)."""
        return self.dialogues.index[schema.subset_mask(self.dialogues["score"], name)]

    def restrict(self, dialogue_ids) -> Corpus:
        """The corpus restricted to ``dialogue_ids`` (tables keep their order)."""
        keep = self.dialogues.index.isin(pd.Index(dialogue_ids))
        dialogues = self.dialogues[keep]
        utterances = self.utterances[self.utterances["dialogue_id"].isin(dialogues.index)]
        return replace(self, dialogues=dialogues, utterances=utterances)

    def turns(self, sep: str = "\n") -> pd.DataFrame:
        """Merge consecutive utterances of one speaker into turns (see :func:`merge_turns`)."""
        return merge_turns(self.utterances, sep=sep)

    def translations(
        self, lang: str = "en", path: str | os.PathLike | None = None, *, strict: bool = True
    ) -> pd.DataFrame:
        """The official translation (Multilingual KokoroChat) of every message: one row per row of
        ``utterances`` (same index) with ``dialogue_id``, ``position``, ``role``, ``text``,
        ``translation`` (missing where the release has none) and ``status``. ``lang``: "en" or "zh";
        ``path``: as :func:`kokoro_analysis.corpus.translations.find_translations`."""
        from kokoro_analysis.corpus.translations import translation_table

        return translation_table(self, lang, path, strict=strict)


def merge_turns(utterances: pd.DataFrame, sep: str = "\n") -> pd.DataFrame:
    """One row per *turn*: a maximal run of consecutive utterances by the same speaker in a session.

    Columns: ``dialogue_id``, ``turn`` (0-based index in the session), ``role``, ``text`` (the messages
    joined with ``sep``), ``n_messages``, ``start_time``, ``end_time`` (of the first and last message)
    and ``length`` (characters of the merged text, separators included).
    """
    ids = utterances["dialogue_id"].to_numpy()
    first = np.flatnonzero(turn_starts(utterances))
    last = np.append(first[1:], len(ids)) - 1
    texts = utterances["text"].tolist()
    times = utterances["time"].to_numpy()
    turns = pd.DataFrame(
        {
            "dialogue_id": ids[first],
            "role": utterances["role"].to_numpy()[first],
            "text": pd.Series(
                [sep.join(texts[a : b + 1]) for a, b in zip(first, last)], dtype="str"
            ),
            "n_messages": (last - first + 1).astype(np.int32),
            "start_time": times[first],
            "end_time": times[last],
        }
    )
    turns["role"] = pd.Categorical(turns["role"], categories=schema.ROLES)
    turns.insert(1, "turn", turns.groupby("dialogue_id").cumcount())
    turns["length"] = turns["text"].str.len()
    return turns


def turn_starts(utterances: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the messages that start a *turn*: the first message of a session, or one whose
    speaker differs from the previous message's. ``utterances`` must be in session order (as
    ``Corpus.utterances``); ``np.cumsum(turn_starts(u)) - 1`` numbers the turns."""
    ids = utterances["dialogue_id"].to_numpy()
    roles = utterances["role"]
    codes = (
        roles.cat.codes.to_numpy()
        if isinstance(roles.dtype, pd.CategoricalDtype)
        else roles.to_numpy(dtype=object)
    )
    starts = np.ones(len(ids), dtype=bool)
    starts[1:] = (ids[1:] != ids[:-1]) | (codes[1:] != codes[:-1])
    return starts


def load_corpus(
    path: str | os.PathLike | None = None,
    *,
    strict: bool = True,
    cache: bool = True,
    clone: bool = True,
) -> Corpus:
    """Find, read and validate KokoroChat; return a :class:`Corpus`.

    ``strict=True`` raises :class:`KokoroDataError` naming file, message index and field of every
    problem. ``strict=False`` skips each session with a problem and reports them in ``corpus.report``
    (the skipped count is also printed). A valid corpus is cached as Parquet in the cache folder, keyed
    by a content hash of every data file (:meth:`DataSource.fingerprint`); what is parsed is keyed by
    the bytes actually read, so a file edited during the load never leaves stale tables behind.
    An unusable cache folder is reported in one line and the corpus is loaded without it.
    """
    source = find_data(path, clone=clone)
    cache_root = usable_cache_dir("corpus") if cache else None
    if cache_root is not None:
        cached = _read_cache(cache_root, source)
        if cached is not None:
            return cached
    dialogues, utterances, report, data_key = _parse(source)
    if report.problems:
        if strict:
            raise KokoroDataError.from_problems(report.problems)
        print(
            f"kokoro_analysis: skipped {report.sessions_skipped} of {report.sessions_seen} sessions "
            f"with {len(report.problems)} problem(s) (`kokoro-analysis validate` lists them)",
            flush=True,
        )
        bad = set(report.skipped_files)
        good_ids = dialogues.index[~dialogues["file"].isin(bad)]
        dialogues = _restore_types(dialogues.loc[good_ids])
        utterances = utterances[utterances["dialogue_id"].isin(good_ids)].reset_index(drop=True)
    dialogues = dialogues.drop(columns="file")
    corpus = Corpus(dialogues, utterances, report, source, data_key=data_key)
    if cache_root is not None and report.ok:
        _write_cache(cache_root, corpus)
    return corpus


def _restore_types(dialogues: pd.DataFrame) -> pd.DataFrame:
    """Integer columns as integers again once the sessions with invalid values are dropped."""
    columns = [
        c for c in ("client_id", "counselor_id", "score", *schema.ITEM_KEYS) if c in dialogues
    ]
    return dialogues.astype(dict.fromkeys(columns, np.int64)) if len(dialogues) else dialogues


# --- parsing ---------------------------------------------------------------------------------------


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
    """:func:`content_digest` of every file as read."""


PARALLEL_MIN_FILES = 2000
"""Below this many files the sessions are parsed in one process (starting workers costs more)."""


def _parse(source: DataSource) -> tuple[pd.DataFrame, pd.DataFrame, ValidationReport, str]:
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
    prefix = "review_by_client_en"
    if not isinstance(review_en, dict):
        return None, [_problem(record, prefix, "must be an object")]
    missing = [key for key in schema.REVIEW_KEYS_EN if key not in review_en]
    if missing:
        return None, [_problem(record, f"{prefix}.{key}", "missing") for key in missing]
    problems: list[Problem] = []
    evaluation_id = review_en["evaluation_id"]
    id_problem = _id_problem(evaluation_id)
    if id_problem:
        return None, [_problem(record, f"{prefix}.evaluation_id", id_problem)]
    if record.stem is not None and record.stem != str(evaluation_id):
        problems.append(
            _problem(
                record,
                f"{prefix}.evaluation_id",
                f"{evaluation_id} differs from the file name's id {record.stem!r}",
            )
        )
    ids = {}
    for key in ("client_id", "counselor_id"):
        id_problem = _id_problem(review_en[key])
        if id_problem:
            problems.append(_problem(record, f"{prefix}.{key}", id_problem))
        ids[key] = None if id_problem else review_en[key]
    items = {}
    for item in schema.ITEMS:
        value = review_en[item.upstream_key]
        if not _is_int(value) or not schema.ITEM_MIN <= value <= schema.ITEM_MAX:
            problems.append(
                _problem(
                    record,
                    f"{prefix}.{item.upstream_key}",
                    f"must be an integer 0–5, found {value!r}",
                )
            )
            value = None
        items[item.key] = value
    flags = {}
    for flag in schema.FLAGS:
        value = review_en[flag.key]
        if value not in (None, schema.FLAG_SET_VALUE):
            problems.append(
                _problem(
                    record,
                    f"{prefix}.{flag.key}",
                    f"must be null or {schema.FLAG_SET_VALUE!r}, found {value!r}",
                )
            )
        flags[flag.key] = value is not None
    score = review_en["score"]
    if not _is_int(score) or not schema.SCORE_MIN <= score <= schema.SCORE_MAX:
        problems.append(
            _problem(record, f"{prefix}.score", f"must be an integer 0–100, found {score!r}")
        )
        score = None
    elif not problems:
        expected = schema.expected_score(sum(items.values()), *flags.values())
        if score != expected:
            problems.append(
                _problem(
                    record,
                    f"{prefix}.score",
                    f"{score} breaks the score rule (expected {expected} from items and flags)",
                )
            )
    problems += _compare_japanese_review(record, review_en, review_ja)
    created = review_en["evaluation_created_at"]
    if not schema.is_timestamp(created):
        problems.append(
            _problem(
                record,
                f"{prefix}.evaluation_created_at",
                f"{created!r} is not a timestamp in the format {schema.TIME_PATTERN_TEXT}",
            )
        )
        created = None
    row = {
        "evaluation_id": evaluation_id,
        **ids,
        "score": score,
        "evaluated_at": created,
        **items,
        **flags,
    }
    return row, problems


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


# --- cache -----------------------------------------------------------------------------------------


CACHE_TABLES = ("dialogues", "utterances")


def _read_cache(root: Path, source: DataSource) -> Corpus | None:
    """The cached corpus of ``source``'s current content (:meth:`DataSource.fingerprint`), or None.
    Every table is checked against the XXH3-64 recorded when it was written; a damaged entry is
    removed so that this load rewrites it."""
    key = source.fingerprint()
    folder = root / f"v{CACHE_FORMAT}-{key}"
    meta_file = folder / "meta.json"
    if not meta_file.exists():
        return None
    try:
        meta = json.loads(meta_file.read_text())
        tables = {}
        for name in CACHE_TABLES:
            raw = (folder / f"{name}.parquet").read_bytes()
            if content_digest(raw) != meta["xxh3_64"][name]:
                raise ValueError(f"{name}.parquet does not match its recorded hash")
            tables[name] = pq.read_table(pa.BufferReader(raw)).to_pandas()
    except Exception:  # a damaged cache is rebuilt, never trusted
        _discard(folder)
        return None
    report = ValidationReport(source=str(source.path), sessions_seen=meta["sessions"])
    return Corpus(tables["dialogues"], tables["utterances"], report, source, data_key=key)


def _discard(folder: Path) -> None:
    """Remove a cache entry (renamed first, so a concurrent reader never sees it half-deleted)."""
    doomed = folder.with_name(f"{folder.name}.damaged{os.getpid()}")
    try:
        folder.rename(doomed)
    except OSError:
        return
    shutil.rmtree(doomed, ignore_errors=True)


def _write_cache(root: Path, corpus: Corpus) -> None:
    """Write the tables under the key of the bytes they were parsed from (written to a temporary
    folder, then renamed: never half-written). A failure (disk full) is reported, not raised."""
    folder = root / f"v{CACHE_FORMAT}-{corpus.data_key}"
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        digests = {}
        for name in CACHE_TABLES:
            path = tmp / f"{name}.parquet"
            getattr(corpus, name).to_parquet(path)
            digests[name] = content_digest(path.read_bytes())
        meta = {"sessions": len(corpus.dialogues), "xxh3_64": digests}
        (tmp / "meta.json").write_text(json.dumps(meta))
    except OSError as error:
        shutil.rmtree(tmp, ignore_errors=True)
        report_unusable_cache(root, error)
        return
    try:
        tmp.rename(folder)
    except OSError:  # another process won the race; its copy is identical
        shutil.rmtree(tmp, ignore_errors=True)
