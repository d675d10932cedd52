"""Multilingual KokoroChat: the official English and Chinese translations, found, read and aligned
message by message with the original corpus.

The release (Suzuki, Qi & Inaba, LREC 2026; github.com/UEC-InabaLab/MultilingualKokoroChat, CC BY-NC-ND
4.0) holds ``English/en<ID>.json`` and ``Chinese/zh<ID>.json``. Each file repeats session ``<ID>``:
``dialogue`` (messages with ``role``, ``time``, ``origin`` = the Japanese text, ``content`` = the
translation), ``topic`` and ``review_by_client`` (the original's ``review_by_client_en``).

Resolution order: an explicit path, ``$KOKOROCHAT_TRANSLATIONS`` (a folder holding ``English/`` and/or
``Chinese/``; a relative value is tried from the working directory, then from the project root),
``data/MultilingualKokoroChat`` in the project, then a shallow ``git clone`` of the upstream repository.

Nothing is assumed: every file is matched to its original session by id and every message by index;
``role``, ``time`` and ``origin`` must equal the original's, ``topic`` and ``review_by_client`` too.
Sessions without a file and empty translations are properties of the release, counted, not errors.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import orjson
import pandas as pd

from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.sources import (
    DataSource,
    clone_upstream,
    read_bytes,
    read_error_reason,
)
from kokoro_analysis.corpus.validation import DataNotFoundError, KokoroDataError, Problem
from kokoro_analysis.paths import PROJECT_ROOT, report_unusable_cache, usable_cache_dir
from kokoro_analysis.reported import round_half_up

if TYPE_CHECKING:
    from kokoro_analysis.corpus.loading import Corpus

LANGUAGES = {"en": "English", "zh": "Chinese"}
"""Language code → release folder (the file prefix is the code: ``en<ID>.json``)."""
UPSTREAM_URL = "https://github.com/UEC-InabaLab/MultilingualKokoroChat"
DEFAULT_DIR = PROJECT_ROOT / "data" / "MultilingualKokoroChat"
ENV = "KOKOROCHAT_TRANSLATIONS"
CACHE_FORMAT = 1
"""Bump when the cached table layout changes."""
STATUSES = ("translated", "empty", "no_translation", "invalid")
"""Per-message status in :func:`translation_table`: a non-empty translation; an empty (or blank)
``content``; the session has no file in the release; the file was skipped in lenient mode."""
TOP_KEYS = ("dialogue", "topic", "review_by_client")
MESSAGE_KEYS = ("role", "time", "origin", "content")
LICENCE_NOTE = (
    "Multilingual KokoroChat is licensed CC BY-NC-ND 4.0: read it, never redistribute it "
    "or a modified copy."
)

HOW_TO_PROVIDE = f"""\
Provide Multilingual KokoroChat in one of these ways:
  * pass a path (Python: corpus.translations("en", path); CLI: kokoro-analysis translations PATH),
  * set {ENV}=/path/to/MultilingualKokoroChat (the folder holding English/ and/or Chinese/),
  * or clone it yourself: git clone --depth 1 {UPSTREAM_URL} {DEFAULT_DIR}"""


def check_lang(lang: str) -> str:
    """``lang`` if it is a release language ("en", "zh"); else a ValueError naming the choices."""
    if lang not in LANGUAGES:
        raise ValueError(
            f"translation language must be one of {', '.join(LANGUAGES)}, not {lang!r}"
        )
    return lang


# --------------------------------------------------------------------------- finding


@dataclass(frozen=True)
class TranslationSource:
    """One language of the release: ``root`` (holding ``English/`` …), ``folder`` and its session files."""

    lang: str
    root: Path
    folder: Path
    files: tuple[Path, ...]

    def fingerprint(self) -> str:
        """Names, sizes and modification times of the files (as the corpus cache key)."""
        return DataSource(f"translations-{self.lang}", self.folder, self.files).fingerprint()

    @property
    def readme(self) -> Path:
        return self.root / "README.md"


def _language_files(folder: Path, lang: str) -> tuple[Path, ...]:
    """``<lang><ID>.json`` files of ``folder`` in numeric id order. Folders, FIFOs and dangling links
    of such names are listed too, so that the check reports them (they are never read)."""
    with os.scandir(folder) as entries:
        names = [e.name for e in entries if e.name.endswith(".json")]
    names.sort(key=lambda n: (_file_id(n, lang) is None, _file_id(n, lang) or 0, n))
    return tuple(folder / name for name in names)


def _file_id(name: str, lang: str) -> int | None:
    match = re.fullmatch(rf"{lang}(\d+)\.json", name)
    return int(match.group(1)) if match else None


def source_from_path(path: str | os.PathLike, lang: str = "en") -> TranslationSource:
    """Interpret ``path``: the release root (holding ``English/``, ``Chinese/``) or a language folder."""
    check_lang(lang)
    path = Path(path).expanduser()
    if not path.is_dir():
        state = "is not a folder" if path.exists() else "does not exist"
        raise DataNotFoundError(f"Multilingual KokoroChat not found: {path} {state}")
    folder = path / LANGUAGES[lang]
    if not folder.is_dir():
        if path.name == LANGUAGES[lang] or any(
            _file_id(p.name, lang) is not None for p in path.glob("*.json")
        ):
            folder = path
        else:
            present = [name for name in LANGUAGES.values() if (path / name).is_dir()]
            raise DataNotFoundError(
                f"{path} holds no {LANGUAGES[lang]}/ folder of Multilingual KokoroChat"
                + (f" (found: {', '.join(p + '/' for p in present)})" if present else "")
                + f".\n{HOW_TO_PROVIDE}"
            )
    files = _language_files(folder, lang)
    if not files:
        raise DataNotFoundError(f"{folder} holds no {lang}<ID>.json files.\n{HOW_TO_PROVIDE}")
    folder = folder.resolve()
    return TranslationSource(lang, folder.parent, folder, tuple(folder / f.name for f in files))


def find_translations(
    path: str | os.PathLike | None = None, lang: str = "en", *, clone: bool = True
) -> TranslationSource:
    """Resolve the translations of ``lang`` (see the module docstring for the order)."""
    check_lang(lang)
    if path is not None:
        return source_from_path(path, lang)
    env = os.environ.get(ENV)
    if env:
        given = Path(env).expanduser()
        if not given.exists() and not given.is_absolute() and (PROJECT_ROOT / given).exists():
            given = PROJECT_ROOT / given
        return source_from_path(given, lang)
    if DEFAULT_DIR.exists():
        return source_from_path(DEFAULT_DIR, lang)
    tried = f"tried: no path given, ${ENV} unset, {DEFAULT_DIR} absent"
    if not clone:
        raise DataNotFoundError(f"Multilingual KokoroChat not found ({tried}).\n{HOW_TO_PROVIDE}")
    target = clone_upstream(
        DEFAULT_DIR,
        url=UPSTREAM_URL,
        what="Multilingual KokoroChat",
        how_to=f"({tried})\n{HOW_TO_PROVIDE}",
    )
    return source_from_path(target, lang)


# --------------------------------------------------------------------------- validation


@dataclass
class TranslationCoverage:
    """What the translations of one language cover, and every mismatch with the original.

    Sessions: ``sessions_original`` in the corpus, ``sessions_translated`` (a file aligned with its
    original), ``missing_ids`` (no file), ``unmatched_ids`` (a file whose id is not a corpus session),
    ``skipped_ids`` (lenient mode: files with a problem). Messages: ``messages_original`` in the
    corpus, ``messages_aligned`` (in the translated sessions), ``empty`` ((session id, message index)
    of empty or blank translations). ``problems``: every mismatch (file, message index, field).
    """

    lang: str
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
            f"translations ({LANGUAGES[self.lang]}): {self.source}",
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

    def to_json(self) -> str:
        data = asdict(self)
        data["problems"] = [asdict(p) for p in self.problems]
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> TranslationCoverage:
        data = json.loads(text)
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
    topics: pd.DataFrame
    reviews: pd.DataFrame

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
            times=utterances["time"].dt.strftime(schema.TIME_FORMAT).tolist(),
            texts=utterances["text"].tolist(),
            topics=corpus.dialogues[[f"topic_{k}" for k in schema.TOPIC_KEYS]],
            reviews=corpus.dialogues,
        )

    def review(self, dialogue_id: int) -> dict:
        """The original ``review_by_client_en`` rebuilt from the dialogues table."""
        row = self.reviews.loc[dialogue_id]
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
class _Parsed:
    """Translated messages of the aligned sessions and the coverage found."""

    dialogue_ids: list[int]
    positions: list[int]
    texts: list[str]
    coverage: TranslationCoverage


def _check_file(
    file: Path, lang: str, originals: _Originals
) -> tuple[int | None, list | None, list[Problem]]:
    """Read and check one file: (dialogue id, translations per message, problems)."""
    name, dialogue_id = str(file), _file_id(file.name, lang)

    def problem(field_name: str, detail: str, index: int | None = None) -> Problem:
        return Problem(
            name, field_name, detail, index, None if dialogue_id is None else str(dialogue_id)
        )

    if dialogue_id is None:
        return None, None, [problem("file name", f"expected {lang}<ID>.json")]
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
    problems += _compare_topic(data["topic"], originals.topics.loc[dialogue_id], problem)
    problems += _compare_review(data["review_by_client"], originals.review(dialogue_id), problem)
    return dialogue_id, contents, problems


def _compare_topic(topic, original: pd.Series, problem) -> list[Problem]:
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
        dialogue_id = _file_id(file.name, source.lang)
        if dialogue_id is not None:
            by_id.setdefault(dialogue_id, []).append(file)
    return {i: files for i, files in by_id.items() if len(files) > 1}


def validate_translations(corpus: Corpus, source: TranslationSource) -> _Parsed:
    """Align every file of ``source`` with ``corpus``; collect translations, coverage and problems."""
    originals = _Originals.of(corpus)
    coverage = TranslationCoverage(
        source.lang,
        str(source.folder),
        sessions_original=len(corpus.dialogues),
        messages_original=len(corpus.utterances),
    )
    parsed = _Parsed([], [], [], coverage)
    seen = set()
    duplicates = _duplicate_ids(source)
    for file in source.files:
        dialogue_id, contents, problems = _check_file(file, source.lang, originals)
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


# --------------------------------------------------------------------------- loading


@dataclass
class Translations:
    """The translations of one language aligned with a corpus.

    ``table``: one row per message of the translated sessions: ``dialogue_id``, ``position`` (0-based
    index in the session, as ``Corpus.utterances``), ``translation`` (the release's ``content``,
    unchanged). ``coverage``: see :class:`TranslationCoverage`.
    """

    lang: str
    table: pd.DataFrame
    coverage: TranslationCoverage
    source: TranslationSource | None = None

    def for_utterances(self, utterances: pd.DataFrame) -> pd.DataFrame:
        """One row per row of ``utterances`` (same index): ``dialogue_id``, ``position``, ``role``,
        ``text`` (Japanese), ``translation`` (missing where there is none: no file, a skipped file or
        an empty/blank ``content``) and ``status`` (:data:`STATUSES`)."""
        key = pd.MultiIndex.from_arrays([utterances["dialogue_id"], utterances["position"]])
        own = pd.MultiIndex.from_arrays([self.table["dialogue_id"], self.table["position"]])
        where = own.get_indexer(key)
        found = where >= 0
        texts = self.table["translation"].to_numpy(dtype=object)
        translation = np.where(found, texts[np.maximum(where, 0)] if len(texts) else None, None)
        blank = found & np.array(
            [not (isinstance(t, str) and t.strip()) for t in translation], dtype=bool
        )
        skipped = utterances["dialogue_id"].isin(self.coverage.skipped_ids).to_numpy()
        status = np.select(
            [found & ~blank, blank, skipped], STATUSES[:2] + STATUSES[3:], STATUSES[2]
        )
        translation[~found | blank] = None
        frame = utterances[["dialogue_id", "position", "role", "text"]].copy()
        frame["translation"] = pd.Series(translation, index=utterances.index, dtype="str")
        frame["status"] = pd.Categorical(status, categories=STATUSES)
        return frame


def load_translations(
    corpus: Corpus,
    lang: str = "en",
    path: str | os.PathLike | None = None,
    *,
    strict: bool = True,
    cache: bool = True,
    clone: bool = True,
) -> Translations:
    """Find, read and align the ``lang`` translations with ``corpus``.

    ``strict=True`` raises :class:`KokoroDataError` naming file, message index and field of every
    mismatch; ``strict=False`` skips each file with a problem and lists it in ``coverage`` (the count is
    printed). Files whose id is not a session of ``corpus`` are listed in ``coverage.unmatched_ids``
    (normal for a subset). An aligned result is cached as Parquet, keyed by the files' names, sizes and
    modification times and by the corpus.
    """
    source = find_translations(path, lang, clone=clone)
    folder = _cache_folder(source, corpus) if cache else None
    cached = _read_cache(folder, source) if folder is not None else None
    if cached is not None:
        return cached
    parsed = validate_translations(corpus, source)
    coverage = parsed.coverage
    if coverage.problems and strict:
        raise KokoroDataError.from_problems(coverage.problems)
    if coverage.problems:
        print(
            f"kokoro_analysis: skipped {len(coverage.skipped_ids)} translated session(s) with "
            f"{len(coverage.problems)} mismatch(es) (`kokoro-analysis translations` lists them)",
            flush=True,
        )
    table = pd.DataFrame(
        {
            "dialogue_id": np.asarray(parsed.dialogue_ids, dtype=np.int64),
            "position": np.asarray(parsed.positions, dtype=np.int32),
            "translation": pd.Series(parsed.texts, dtype="str"),
        }
    )
    result = Translations(lang, table, coverage, source)
    if folder is not None and not coverage.problems:
        _write_cache(folder, result)
    return result


def translation_table(
    corpus: Corpus,
    lang: str = "en",
    path: str | os.PathLike | None = None,
    *,
    strict: bool = True,
    cache: bool = True,
    clone: bool = True,
) -> pd.DataFrame:
    """``load_translations(...).for_utterances(corpus.utterances)``: one row per corpus message."""
    translations = load_translations(corpus, lang, path, strict=strict, cache=cache, clone=clone)
    return translations.for_utterances(corpus.utterances)


def _cache_folder(source: TranslationSource, corpus: Corpus) -> Path | None:
    """This alignment's cache folder; None without a corpus source or a usable cache (said once)."""
    if corpus.source is None:
        return None
    root = usable_cache_dir("translations")
    if root is None:
        return None
    ids = np.sort(corpus.dialogues.index.to_numpy(dtype=np.int64))
    ids_key = hashlib.sha256(ids.tobytes() + corpus.source.fingerprint().encode()).hexdigest()[:16]
    return root / f"v{CACHE_FORMAT}-{source.lang}-{source.fingerprint()}-{ids_key}"


def _read_cache(folder: Path, source: TranslationSource) -> Translations | None:
    meta = folder / "coverage.json"
    if not meta.exists():
        return None
    try:
        coverage = TranslationCoverage.from_json(meta.read_text())
        table = pd.read_parquet(folder / "translations.parquet")
    except Exception:  # a damaged cache is rebuilt, never trusted
        return None
    return Translations(source.lang, table, coverage, source)


def _write_cache(folder: Path, translations: Translations) -> None:
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        translations.table.to_parquet(tmp / "translations.parquet")
        (tmp / "coverage.json").write_text(translations.coverage.to_json())
    except OSError as error:  # full disk, permissions: run without the cache
        shutil.rmtree(tmp, ignore_errors=True)
        report_unusable_cache(folder.parent, error)
        return
    try:
        tmp.rename(folder)
    except OSError:  # another process won the race; its copy is identical
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- the release's README


README_LANGUAGES = {"Japanese": "ja", "English": "en", "Chinese": "zh"}
"""First word of a row of the README's statistics table → language code."""


def release_readme_statistics(readme: str | os.PathLike) -> pd.DataFrame:
    """The release README's "Dataset Statistics" table: index ``lang`` (ja, en, zh), columns
    ``dialogues`` and ``avg_utterances_per_dialogue`` (as printed) and ``decimals`` of the latter.
    Empty when the file or the table is missing."""
    rows = {}
    path = Path(readme)
    text = _readme_text(path)
    pattern = re.compile(
        r"^\|\s*(\w+)[^|]*\|\s*([\d,]+)\s*\|\s*(\d+(?:\.(\d+))?)\s*\|", re.MULTILINE
    )
    _check_table_rows(path, text, pattern)
    for name, dialogues, average, fraction in pattern.findall(text):
        if name in README_LANGUAGES:
            rows[README_LANGUAGES[name]] = {
                "dialogues": int(dialogues.replace(",", "")),
                "avg_utterances_per_dialogue": float(average),
                "decimals": len(fraction),
            }
    frame = pd.DataFrame.from_dict(
        rows, orient="index", columns=["dialogues", "avg_utterances_per_dialogue", "decimals"]
    )
    frame.index.name = "lang"
    return frame


def _readme_text(path: Path) -> str:
    """The README's text ("" when there is none); a clear error naming it when it cannot be read
    (a FIFO, a folder ...) or is not UTF-8."""
    if not (path.exists() or path.is_symlink()):
        return ""
    try:
        raw = read_bytes(path)
    except OSError as error:
        raise ValueError(f"{path}: cannot be read ({read_error_reason(error)})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path}: not UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start})"
        ) from None


def _check_table_rows(path: Path, text: str, pattern: re.Pattern) -> None:
    """Every table row naming a language must read ``| <language> | <dialogues> | <average> |``."""
    for number, line in enumerate(text.splitlines(), 1):
        first = re.match(r"^\|\s*(\w+)", line)
        if first and first.group(1) in README_LANGUAGES and not pattern.match(line):
            raise ValueError(
                f"{path}:{number}: statistics row not understood (expected "
                f"| {first.group(1)} | <dialogues> | <average utterances per dialogue> |): {line.strip()}"
            )


def release_file_statistics(root: str | os.PathLike) -> pd.DataFrame:
    """What the release's files hold per language folder present under ``root``: ``dialogues``
    (session files), ``messages`` and ``avg_utterances_per_dialogue`` (messages / files)."""
    rows = {}
    for lang, name in LANGUAGES.items():
        folder = Path(root) / name
        if not folder.is_dir():
            continue
        files = [f for f in _language_files(folder, lang) if _file_id(f.name, lang) is not None]
        messages = 0
        for file in files:
            try:
                dialogue = orjson.loads(read_bytes(file)).get("dialogue")
            except (OSError, orjson.JSONDecodeError, AttributeError):
                continue  # reported by the alignment check
            messages += len(dialogue) if isinstance(dialogue, list) else 0
        rows[lang] = {
            "dialogues": len(files),
            "messages": messages,
            "avg_utterances_per_dialogue": messages / len(files) if files else float("nan"),
        }
    frame = pd.DataFrame.from_dict(
        rows, orient="index", columns=["dialogues", "messages", "avg_utterances_per_dialogue"]
    )
    frame.index.name = "lang"
    return frame


def release_statistics_check(root: str | os.PathLike, corpus: Corpus) -> pd.DataFrame:
    """The release README's statistics against the files (``ja``: the corpus). One row per language
    in the README: ``claimed_*`` and ``files_*`` dialogues and average utterances per dialogue, the
    latter rounded half-up at the README's precision; ``agrees`` (None where the language's folder is
    absent) and ``note``."""
    claimed = release_readme_statistics(Path(root) / "README.md")
    measured = release_file_statistics(root)
    measured.loc["ja"] = {
        "dialogues": len(corpus.dialogues),
        "messages": len(corpus.utterances),
        "avg_utterances_per_dialogue": len(corpus.utterances) / max(len(corpus.dialogues), 1),
    }
    rows = []
    for lang, claim in claimed.iterrows():
        row = {
            "lang": lang,
            "claimed_dialogues": int(claim["dialogues"]),
            "claimed_avg_utterances": claim["avg_utterances_per_dialogue"],
        }
        if lang not in measured.index:
            rows.append(
                {
                    **row,
                    "files_dialogues": pd.NA,
                    "files_avg_utterances": np.nan,
                    "agrees": None,
                    "note": f"{LANGUAGES[lang]}/ not present: not checked",
                }
            )
            continue
        files = measured.loc[lang]
        average = float(round_half_up(files["avg_utterances_per_dialogue"], int(claim["decimals"])))
        notes = []
        if int(files["dialogues"]) != row["claimed_dialogues"]:
            same = [
                LANGUAGES.get(other, "Japanese")
                for other in claimed.index[claimed["dialogues"] == files["dialogues"]]
            ]
            notes.append(
                f"the README prints {row['claimed_dialogues']:,} dialogues, the files hold "
                f"{int(files['dialogues']):,}"
                + (f" (the README's {same[0]} count)" if same else "")
            )
        if average != row["claimed_avg_utterances"]:
            notes.append(
                f"the README prints {row['claimed_avg_utterances']} utterances/dialogue, "
                f"the files give {average}"
            )
        rows.append(
            {
                **row,
                "files_dialogues": int(files["dialogues"]),
                "files_avg_utterances": average,
                "agrees": not notes,
                "note": "; ".join(notes) or "agrees",
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "lang",
            "claimed_dialogues",
            "files_dialogues",
            "claimed_avg_utterances",
            "files_avg_utterances",
            "agrees",
            "note",
        ],
    ).set_index("lang")


# --------------------------------------------------------------------------- the corpus in translation


def translated_corpus(corpus: Corpus, translations: Translations) -> tuple[Corpus, dict]:
    """``corpus`` with every message's text replaced by its translation, for exports and analyses in
    the translation's language.

    Dropped: sessions without a file (``no_translation``), skipped in lenient mode (``invalid``), or
    with a turn none of whose messages is translated (``untranslated_turn``); and, in the kept
    sessions, the messages with an empty translation (``empty_messages``: the translators merged
    such fragments into a neighbouring message). Every kept turn keeps its speaker and index, so
    ``turns()`` and the fine-tuning example ids are those of the original. ``position`` stays the
    original index; ``length`` counts characters of the translation; the dialogues table (scores,
    items, topics, message counts) is the original's. Returns the corpus and the dropped ids/count.
    """
    from kokoro_analysis.corpus.loading import turn_starts

    utterances = corpus.utterances
    frame = translations.for_utterances(utterances)
    translated = (frame["status"] == "translated").to_numpy()
    turn_number = np.cumsum(turn_starts(utterances)) - 1
    covered = np.bincount(
        turn_number, weights=translated, minlength=turn_number.max() + 1 if len(turn_number) else 0
    )
    ids = utterances["dialogue_id"].to_numpy()
    has_file = ~frame["status"].isin(["no_translation", "invalid"]).to_numpy()
    gap_turn = has_file & (covered[turn_number] == 0)
    dropped = {
        "no_translation": [
            int(i) for i in translations.coverage.missing_ids if i in corpus.dialogues.index
        ],
        "invalid": [
            int(i) for i in translations.coverage.skipped_ids if i in corpus.dialogues.index
        ],
        "untranslated_turn": sorted({int(i) for i in ids[gap_turn]}),
    }
    drop_ids = [i for reason in dropped.values() for i in reason]
    in_kept = ~np.isin(ids, drop_ids)
    dropped["empty_messages"] = int((in_kept & ~translated).sum())
    keep = in_kept & translated
    mine = utterances[keep].copy()
    mine["text"] = frame.loc[keep, "translation"]
    mine["length"] = mine["text"].str.len().astype(np.int32)
    dialogues = corpus.dialogues[~corpus.dialogues.index.isin(drop_ids)]
    return replace(corpus, dialogues=dialogues, utterances=mine.reset_index(drop=True)), dropped


def release_check_summary(check: pd.DataFrame, readme: Path) -> str:
    """:func:`release_statistics_check` as text, one line per language."""
    if check.empty:
        return f"release README: no statistics table found ({readme})"
    lines = [f"release README statistics ({readme}):"]
    for lang, row in check.iterrows():
        name = "Japanese (the corpus)" if lang == "ja" else LANGUAGES[lang]
        lines.append(
            f"  {name}: README {row['claimed_dialogues']:,} dialogues, "
            f"{row['claimed_avg_utterances']} utterances/dialogue: {row['note']}"
        )
    return "\n".join(lines)


def available_translations(
    corpus: Corpus, lang: str = "en", path: str | os.PathLike | None = None
) -> Translations | None:
    """The aligned translations when they are at hand (``path``, else ``$KOKOROCHAT_TRANSLATIONS``,
    else ``data/MultilingualKokoroChat``; never cloned), else None. A given ``path`` that holds no
    translations and a release that does not align with ``corpus`` still raise."""
    if path is None:
        try:
            path = find_translations(None, lang, clone=False).folder
        except DataNotFoundError:
            return None
    return load_translations(corpus, lang, path, clone=False)
