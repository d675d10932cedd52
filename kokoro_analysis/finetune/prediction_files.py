"""Predictions files: reading and checking them, writing them resumably, and checking the export
they answer.

Predictions files are JSON lines, one object per line:

* response generation: ``{"id": "<dialogue_id>-<turn>", "response": "..."}`` for every test context
  (ids as in ``test.jsonl`` of ``export-sft``); the references are rebuilt from the data;
* score prediction: ``{"id": "<dialogue_id>", "items": [20 integers 0-5]}`` (an integer id is accepted) (item order as in
  ``schema.ITEMS``) or ``"items": {"<item key>": score, ...}`` with all 20 keys, for every session of
  the held-out split (``data.score_split(seed)``) or of the ≥ 99 test pool.

A file that leaves out test ids is an error (a partial file scored silently would not be comparable).
When the export used ``--test-samples N --seed S``, evaluate with the same sample.

Files written by ``kokoro-analysis generate`` / ``predict-scores`` start with a header line
``{"meta": {...}}``: task, model, adapter, decoding settings, library versions and the contexts the
file covers (``"contexts": {"set", "limit", "seed", "count", "ids_sha256"}``); ``evaluate`` then scores
exactly those. Their score lines keep the model's raw ``answer``; an answer that could not be parsed
has ``"items": null`` and an ``"error"``: it is counted and reported, never scored as a number.
:class:`PredictionsWriter` appends such files resumably.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.jsonl import decode_line, json_object
from kokoro_analysis.corpus.loading import Corpus
from kokoro_analysis.finetune.export import corpus_content_hash
from kokoro_analysis.finetune.export_folder import verify_manifest

MAX_LISTED = 5
"""Ids listed in an error message."""


class PredictionsError(ValueError):
    """A predictions file that cannot be scored; the message names the file, line and id."""


@dataclass
class Predictions:
    """A parsed predictions file: ``kind`` is ``"generation"`` or ``"score"``."""

    path: Path
    kind: str
    values: dict = field(default_factory=dict)
    """id -> response text (generation) or id -> list of 20 ints (score)."""
    lines: dict = field(default_factory=dict)
    """id -> line number (1-based)."""
    meta: dict | None = None
    """The header of a file written by ``generate`` / ``predict-scores`` (None for other files)."""
    unparsed: dict = field(default_factory=dict)
    """Score prediction: id -> why the model's answer gave no item scores (not in :attr:`values`)."""

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def contexts(self) -> dict | None:
        """The covered test contexts or sessions recorded in the header (None without one)."""
        return (self.meta or {}).get("contexts")


def read_predictions(path: str | os.PathLike) -> Predictions:
    """Parse and check a predictions file (see the module docstring). Raises :class:`PredictionsError`
    naming the file, line and id for broken JSON, missing fields, empty responses, wrong item counts or
    values and duplicate ids; blank lines are skipped."""
    path = Path(path).expanduser()
    _check_regular_file(path)
    kind: str | None = None
    values: dict = {}
    lines: dict = {}
    unparsed: dict = {}
    meta: dict | None = None
    duplicates: list[str] = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            line = decode_line(raw, f"{path}:{number}", PredictionsError)
            if not line.strip():
                continue
            where = f"{path}:{number}"
            if number == 1 and line.startswith(META_PREFIX):
                meta = _parse_meta(line, where)
                kind = meta["task"]
                continue
            record = _parse_line(line, where)
            line_kind = (
                "generation" if "response" in record else "score" if "items" in record else None
            )
            if line_kind is None:
                raise PredictionsError(
                    f'{where}: needs a "response" (generation) or "items" (score '
                    f"prediction) field; found {sorted(record)}"
                )
            if kind is None:
                kind = line_kind
            elif line_kind != kind:
                raise PredictionsError(
                    f"{where}: a {line_kind} line in a file of {kind} predictions "
                    f"(first line with data decided the kind)"
                )
            key = _parse_id(record, kind, where)
            if key in lines:
                duplicates.append(f"{key!r} (lines {lines[key]} and {number})")
                continue
            lines[key] = number
            if kind == "score" and record["items"] is None and "error" in record:
                unparsed[key] = str(record["error"])
                continue
            values[key] = (
                _parse_response(record, key, where)
                if kind == "generation"
                else _parse_items(record["items"], key, where)
            )
    if duplicates:
        raise PredictionsError(
            f"{path}: {len(duplicates)} duplicate id(s): {', '.join(duplicates[:MAX_LISTED])}"
            + (" ..." if len(duplicates) > MAX_LISTED else "")
        )
    if kind is None:
        raise PredictionsError(f"{path}: no predictions (the file is empty)")
    return Predictions(path, kind, values, lines, meta, unparsed)


META_PREFIX = '{"meta":'
"""How the header line of a ``generate`` / ``predict-scores`` file starts."""
TASKS = ("generation", "score")


def _parse_meta(line: str, where: str) -> dict:
    try:
        meta = json.loads(line)["meta"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise PredictionsError(
            f"{where}: broken header line (expected {META_PREFIX} {{...}}}})"
        ) from None
    if not isinstance(meta, dict) or meta.get("task") not in TASKS:
        raise PredictionsError(f'{where}: the header needs "task": one of {", ".join(TASKS)}')
    if "contexts" in meta:
        _check_contexts(meta["contexts"], meta["task"], where)
    return meta


CONTEXT_SETS = {"generation": ("test_contexts",), "score": ("held_out", "test_pool")}
"""The header's ``contexts.set`` per task."""


def _check_contexts(contexts, task: str, where: str) -> None:
    """The header's ``contexts``: ``set`` of the task, ``limit`` (positive or null), ``seed``
    (0 or more) and, when present, ``count`` (0 or more) and ``ids_sha256`` (text)."""

    def count(value, least: int) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= least

    if not isinstance(contexts, dict):
        raise PredictionsError(
            f'{where}: header field "contexts" must be an object, got {contexts!r}'
        )
    get = contexts.get
    checks = {
        "set": (get("set") in CONTEXT_SETS[task], f"one of {', '.join(CONTEXT_SETS[task])}"),
        "limit": (get("limit") is None or count(get("limit"), 1), "null or 1 or more"),
        "seed": (count(get("seed"), 0), "an integer, 0 or more"),
        "count": ("count" not in contexts or count(get("count"), 0), "an integer, 0 or more"),
        "ids_sha256": (isinstance(get("ids_sha256", ""), str), "a SHA-256 in hex"),
    }
    for name, (ok, expected) in checks.items():
        if not ok:
            raise PredictionsError(
                f'{where}: header field "contexts.{name}" must be {expected}, '
                f"got {contexts.get(name)!r}"
            )


def ids_digest(ids: Iterable) -> str:
    """SHA-256 of the ids (as text, one per line, in the given order): the header's ``ids_sha256``."""
    return hashlib.sha256("\n".join(str(i) for i in ids).encode("utf-8")).hexdigest()


def _check_out_file(path: Path) -> None:
    """Refuse an ``--out`` that is a folder or another non-file, or lies under a file."""
    if path.exists() and not path.is_file():
        raise PredictionsError(
            f"{path} is not a file (a folder or device); choose a file for --out"
        )
    blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise PredictionsError(
            f"{path} cannot be created: {blocker} is a file; choose another --out"
        )


class PredictionsWriter:
    """Appends lines to a ``generate`` / ``predict-scores`` predictions file so that an interrupted run
    continues where it stopped: the file is created by :meth:`begin` (after the model loaded) or the
    first :meth:`write`; each line is flushed and fsynced when written; on reopening, a
    truncated last line (a crash mid-write) is cut off and written again later, the ids already in
    the file are in :attr:`done`, and the header must agree on the keys ``must_match``. A file that
    has no such header (not ours) is never touched."""

    def __init__(self, path: str | os.PathLike, meta: dict, *, must_match: Sequence[str]):
        self.path = Path(path).expanduser()
        self.done: set = set()
        self.repaired = False
        self.meta = json.loads(json.dumps(meta, ensure_ascii=False))
        self._handle = None
        _check_out_file(self.path)
        if self.path.exists() and self.path.stat().st_size:
            self._resume(must_match)
            self.begin()

    def begin(self) -> None:
        """Create the file with its header (once the model has loaded) unless it exists; open it for
        appending."""
        if self._handle is not None:
            return
        if not (self.path.exists() and self.path.stat().st_size):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "wb") as handle:
                self._write(handle, {"meta": self.meta})
        self._handle = open(self.path, "ab")  # noqa: SIM115 (closed by close())

    def _resume(self, must_match: Sequence[str]) -> None:
        with open(self.path, "r+b") as handle:
            data = handle.read()
            end = data.rfind(b"\n") + 1
            if end < len(data):
                handle.truncate(end)
                os.fsync(handle.fileno())
                self.repaired = True
        # "\n" only: str.splitlines() also splits at U+2028, U+0085 ... inside a response
        lines = data[:end].decode("utf-8", errors="replace").split("\n")[:-1]
        if not lines or not lines[0].startswith(META_PREFIX):
            raise PredictionsError(
                f"{self.path} exists and was not written by kokoro-analysis generate / predict-scores: "
                f"choose another --out (a file that is not ours is never changed)"
            )
        old = _parse_meta(lines[0], f"{self.path}:1")
        differing = [key for key in must_match if old.get(key) != self.meta.get(key)]
        if differing:
            raise PredictionsError(
                f"{self.path} was started with other settings ({', '.join(differing)} differ): "
                f"rerun the same command to finish it, or choose another --out"
            )
        for number, line in enumerate(lines[1:], 2):
            if line.strip():
                self.done.add(_parse_line(line, f"{self.path}:{number}")["id"])
        self.meta = old

    @staticmethod
    def _write(handle, record: dict) -> None:
        handle.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())

    def write(self, record: dict) -> None:
        """Append one prediction (a JSON object with ``id``) durably."""
        self.begin()
        self._write(self._handle, record)
        self.done.add(record["id"])

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()

    def __enter__(self) -> PredictionsWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _check_regular_file(path: Path) -> None:
    """Raise a readable error unless ``path`` is a regular file we may read."""
    if not path.exists():
        raise FileNotFoundError(f"predictions file not found: {path}")
    if path.is_dir():
        raise PredictionsError(f"{path} is a folder, not a predictions file (JSON lines)")
    if not stat.S_ISREG(path.stat().st_mode):
        raise PredictionsError(
            f"{path} is not a regular file (a FIFO, socket or device); give a JSON lines file"
        )
    if not os.access(path, os.R_OK):
        raise PredictionsError(f"{path}: cannot be read (permission denied)")


def check_export(
    folder: Path, corpus: Corpus, test_samples: int | None, seed: int | None
) -> tuple[int | None, int]:
    """Check the export-sft folder a predictions file answers: every file matches its manifest, the
    corpus is the one exported, and the sample settings agree. Returns the export's ``(test_samples,
    seed)``; raises :class:`PredictionsError` naming what differs."""
    manifest, problems = verify_manifest(folder)
    if manifest is None:
        raise PredictionsError(f"{folder}: no manifest.json of an export-sft export")
    if problems:
        raise PredictionsError(
            "the export does not match its manifest:\n  " + "\n  ".join(problems)
        )
    try:
        exported_hash = manifest["corpus"]["content_sha256"]
        exported = (manifest["test_pool"]["test_samples"], manifest["seed"])
    except (KeyError, TypeError) as error:
        raise PredictionsError(
            f"{folder / 'manifest.json'}: field {error} missing or malformed; export the data again"
        ) from None
    if exported_hash != corpus_content_hash(corpus):
        raise PredictionsError(
            f"{folder}: the export was made from other data (its corpus hash differs from the "
            "data loaded now)"
        )
    given = (
        test_samples if test_samples is not None else exported[0],
        exported[1] if seed is None else seed,
    )
    if given != exported:
        raise PredictionsError(
            f"{folder}: the export used --test-samples {exported[0]} --seed {exported[1]}, "
            f"not {given[0]} and {given[1]}; evaluate with the export's sample"
        )
    return exported


def _parse_line(line: str, where: str) -> dict:
    record = json_object(line, where, PredictionsError)
    if "id" not in record:
        raise PredictionsError(f'{where}: missing "id"')
    return record


def _parse_id(record: dict, kind: str, where: str):
    raw = record["id"]
    if kind == "generation":
        if not isinstance(raw, str):
            raise PredictionsError(
                f'{where}: id must be a string like "123-4" (<dialogue_id>-<turn>), got {raw!r}'
            )
        return raw.strip()
    if isinstance(raw, bool) or not (
        isinstance(raw, int)
        or (isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit())
    ):
        raise PredictionsError(f"{where}: id must be a dialogue id (integer), got {raw!r}")
    return int(raw)


def _parse_response(record: dict, key: str, where: str) -> str:
    response = record["response"]
    if not isinstance(response, str):
        raise PredictionsError(
            f"{where}: id {key!r}: response must be a string, got {type(response).__name__}"
        )
    if not response.strip():
        raise PredictionsError(f"{where}: id {key!r}: empty response")
    return response


_ITEM_ALIASES = {
    **{item.key: item.number - 1 for item in schema.ITEMS},
    **{item.upstream_key: item.number - 1 for item in schema.ITEMS},
}


def _parse_items(items, key: int, where: str) -> list[int]:
    n = len(schema.ITEMS)
    if isinstance(items, dict):
        unknown = [k for k in items if k not in _ITEM_ALIASES]
        if unknown:
            raise PredictionsError(
                f"{where}: id {key}: unknown item key(s) {unknown[:MAX_LISTED]}; "
                f"use the keys of schema.ITEM_KEYS"
            )
        ordered: list = [None] * n
        for name, value in items.items():
            ordered[_ITEM_ALIASES[name]] = value
        missing = [item.key for item, value in zip(schema.ITEMS, ordered) if value is None]
        if missing or len(items) != n:
            raise PredictionsError(
                f"{where}: id {key}: expected {n} item scores, got {len(items)}"
                + (f" (missing {missing[:MAX_LISTED]})" if missing else "")
            )
        items = ordered
    if not isinstance(items, list):
        raise PredictionsError(
            f"{where}: id {key}: items must be a list of {n} integers or an object "
            f"item key -> integer, got {type(items).__name__}"
        )
    if len(items) != n:
        raise PredictionsError(f"{where}: id {key}: expected {n} item scores, got {len(items)}")
    for number, value in enumerate(items, 1):
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not schema.ITEM_MIN <= value <= schema.ITEM_MAX
        ):
            raise PredictionsError(
                f"{where}: id {key}: item {number} must be an integer "
                f"{schema.ITEM_MIN}-{schema.ITEM_MAX}, got {value!r}"
            )
    return items
