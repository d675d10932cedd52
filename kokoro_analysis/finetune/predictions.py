"""Scoring predictions files: response generation on the test contexts and score prediction.

One implementation of the metrics for everyone (``kokoro_analysis.finetune.metrics``), on one tokenization:
MeCab surfaces with unidic-lite (:func:`tokenizer_label`), the same for hypotheses and references;
whitespace (line breaks inside a turn, full-width spaces) and control characters are never tokens.

Predictions files are JSON lines, one object per line:

* response generation: ``{"id": "<dialogue_id>-<turn>", "response": "..."}`` for every test context
  (ids as in ``test.jsonl`` of ``export-sft``); the references are rebuilt from the data;
* score prediction: ``{"id": "<dialogue_id>", "items": [20 integers 0-5]}`` (an integer id is accepted) (item order as in
  ``schema.ITEMS``) or ``"items": {"<item key>": score, ...}`` with all 20 keys, for every session of
  the held-out split (``sft.score_split(seed)``) or of the ≥ 99 test pool.

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.loading import Corpus
from kokoro_analysis.finetune import metrics
from kokoro_analysis.finetune.data import (
    TEST_SUBSET,
    corpus_content_hash,
    sample_examples,
    sample_test_contexts,
    score_split,
)
from kokoro_analysis.finetune.export_folder import verify_manifest
from kokoro_analysis.text.mecab import tokenize_texts, tokenizer_identity

GENERATION_COLUMNS = {
    "bleu_1": "BLEU-1",
    "bleu_4": "BLEU-4",
    "rouge_l": "ROUGE-L",
    "dist_1": "Dist-1",
    "dist_2": "Dist-2",
}
"""Generation metrics (x 100) and their column names in the paper's table."""
SCORE_COLUMNS = {"acc": "ACC", "acc_soft": "ACC_soft", "mae": "MAE", "spearman_total": "Spearman ρ"}
"""Score-prediction metrics on the parsed answers and their column names (ρ: between predicted and
true item sums)."""
STRICT_COLUMNS = {
    "parse_rate": "Parsed %",
    "acc_strict": "ACC strict",
    "acc_soft_strict": "ACC_soft strict",
    "mae_strict": "MAE strict",
}
"""The share of parsed answers and the metrics over every session with an unparseable answer
counted as wrong (``metrics.strict_score_prediction_scores``)."""
PERCENT_METRICS = ("acc", "acc_soft", "parse_rate", "acc_strict", "acc_soft_strict")
"""Score-prediction metrics computed as fractions and shown in percent."""
MAX_LISTED = 5
"""Ids listed in an error message."""


class PredictionsError(ValueError):
    """A predictions file that cannot be scored; the message names the file, line and id."""


# --------------------------------------------------------------------------- tokens


def tokenizer_label(*, lang: str = "en") -> str:
    """The tokenization behind every generation score, e.g. ``"MeCab 0.996 + unidic-lite 1.0.8 surfaces"``
    (``lang="ja"``: ``"MeCab 0.996 + unidic-lite 1.0.8 の表層形"``)."""
    identity = tokenizer_identity()
    unit = "の表層形" if lang == "ja" else " surfaces"
    return f"MeCab {identity['mecab']} + unidic-lite {identity['unidic-lite']}{unit}"


def surfaces(
    texts: Sequence[str], *, workers: int | None = None, progress: bool = False
) -> list[list[str]]:
    """MeCab surfaces of each text (``kokoro_analysis.text.mecab``: whitespace and control characters
    separate tokens and are never tokens); one list per text, in order."""
    texts = list(texts)
    if not texts:
        return []
    workers = workers or (1 if len(texts) < 2000 else None)
    counts, table = tokenize_texts(texts, workers=workers, progress=progress)
    values = table.column("surface").to_pylist()
    ends = np.cumsum(counts).tolist()
    starts = [0, *ends[:-1]]
    return [values[a:b] for a, b in zip(starts, ends)]


# --------------------------------------------------------------------------- test sets


@dataclass
class ResponseTestSet:
    """The test contexts with their references, tokenized once; :meth:`score` scores responses."""

    examples: pd.DataFrame
    """``sft.sample_test_contexts`` rows (``id``, ``dialogue_id``, ``turn``, ``target`` ...)."""
    reference_tokens: list[list[str]]
    test_samples: int | None = None
    seed: int = 0
    total_contexts: int = 0

    @classmethod
    def from_corpus(
        cls,
        corpus: Corpus,
        test_samples: int | None = None,
        seed: int = 0,
        *,
        turns: pd.DataFrame | None = None,
        workers: int | None = None,
    ) -> ResponseTestSet:
        """Test contexts of ``corpus`` (the whole corpus: the ≥ 99 test pool is taken from it)."""
        turns = corpus.turns() if turns is None else turns
        everything = sample_test_contexts(corpus, None, seed, turns=turns)
        if everything.empty:
            raise ValueError(
                f"the corpus has no test context (no session with score ≥ {schema.TEST_SCORE})"
            )
        examples = sample_examples(everything, test_samples, seed).reset_index(drop=True)
        tokens = surfaces(examples["target"].tolist(), workers=workers)
        return cls(examples, tokens, test_samples, seed, len(everything))

    @property
    def ids(self) -> list[str]:
        return self.examples["id"].tolist()

    def describe(self, *, lang: str = "en") -> str:
        """E.g. ``"4,631 test contexts (all) from 118 test-pool sessions (score ≥ {schema.TEST_SCORE})"``; ``lang="ja"``
        gives the same in Japanese."""
        contexts, sessions = len(self.examples), self.examples["dialogue_id"].nunique()
        if lang == "ja":
            sample = (
                "全件"
                if self.test_samples is None
                else f"全{self.total_contexts:,}件からシード{self.seed}で抽出"
            )
            return f"テスト文脈{contexts:,}件（{sample}）、テストプール{sessions:,}セッション（評価点{schema.TEST_SCORE}以上）"
        sample = (
            "all"
            if self.test_samples is None
            else f"seeded sample of {self.total_contexts:,}, seed {self.seed}"
        )
        return f"{contexts:,} test contexts ({sample}) from {sessions:,} test-pool sessions (score ≥ {schema.TEST_SCORE})"

    def score(
        self,
        responses: Sequence[str] | Mapping[str, str] | pd.Series,
        *,
        tokens: Sequence[Sequence[str]] | None = None,
        workers: int | None = None,
    ) -> dict[str, float]:
        """Generation metrics of ``responses`` (a mapping id -> text, or texts in :attr:`ids` order);
        ``tokens`` may pass already tokenized responses (same order). Keys as
        ``metrics.generation_scores`` plus ``mean_hyp_chars``."""
        texts = self._aligned(responses)
        if tokens is None:
            tokens = surfaces(texts, workers=workers)
        scores = metrics.generation_scores(tokens, self.reference_tokens)
        scores["mean_hyp_chars"] = float(np.mean([len(t) for t in texts]))
        return scores

    def _aligned(self, responses) -> list[str]:
        if isinstance(responses, (Mapping, pd.Series)):
            missing = [i for i in self.ids if i not in responses]
            if missing:
                raise ValueError(
                    f"{len(missing):,} test contexts have no response (first: {missing[:MAX_LISTED]})"
                )
            return [str(responses[i]) for i in self.ids]
        texts = list(responses)
        if len(texts) != len(self.examples):
            raise ValueError(
                f"got {len(texts):,} responses for {len(self.examples):,} test contexts"
            )
        return texts

    def reference_scores(self) -> dict[str, float]:
        """The human reference as a system: length and Dist-n of the targets (BLEU/ROUGE would be 100)."""
        refs = self.reference_tokens
        return {
            "dist_1": metrics.distinct_n(refs, 1),
            "dist_2": metrics.distinct_n(refs, 2),
            "mean_hyp_tokens": float(np.mean([len(r) for r in refs])),
            "mean_hyp_chars": float(self.examples["target"].str.len().mean()),
            "n_responses": len(refs),
        }


@dataclass
class ScoreTestSet:
    """The sessions a score-prediction file may cover: the held-out split or the ≥ 99 test pool."""

    name: str
    description: str
    items: pd.DataFrame
    """Gold item scores (sessions x 20, columns = item keys), indexed by ``dialogue_id``."""

    def score(self, predicted: pd.DataFrame | np.ndarray) -> dict[str, float]:
        """``metrics.score_prediction_scores`` of predictions (frame indexed by dialogue id with the 20
        item columns, or an array in the order of :attr:`items`). ACC/ACC_soft are fractions."""
        if isinstance(predicted, pd.DataFrame):
            predicted = predicted.loc[self.items.index, list(schema.ITEM_KEYS)].to_numpy()
        return metrics.score_prediction_scores(predicted, self.items.to_numpy())


def score_test_sets(
    corpus: Corpus, seed: int = 0, limit: int | None = None
) -> dict[str, ScoreTestSet]:
    """``{"held_out": ..., "test_pool": ...}`` (see ``sft.score_split`` and the module docstring);
    with ``limit``, each is a seeded sample of that many sessions (:func:`sample_sessions`)."""
    dialogues = corpus.dialogues
    held_out = sample_sessions(
        dialogues.index[score_split(dialogues, seed).to_numpy()], limit, seed
    )
    pool = sample_sessions(corpus.subset_ids(TEST_SUBSET), limit, seed)
    sample = "" if limit is None else ", seeded sample"
    items = pd.DataFrame(
        schema.item_matrix(dialogues), index=dialogues.index, columns=list(schema.ITEM_KEYS)
    ).sort_index()
    return {
        "held_out": ScoreTestSet(
            "held_out",
            f"held-out split ({len(held_out):,} sessions{sample}, seed {seed})",
            items.loc[np.sort(held_out)],
        ),
        "test_pool": ScoreTestSet(
            "test_pool",
            f"test pool ({len(pool):,} sessions with score ≥ {schema.TEST_SCORE}{sample})",
            items.loc[np.sort(pool)],
        ),
    }


def sample_sessions(ids: Sequence[int], limit: int | None, seed: int = 0) -> pd.Index:
    """Sorted session ids, all or a seeded sample of ``limit`` (as ``sample_examples``)."""
    frame = pd.DataFrame({"dialogue_id": np.sort(np.asarray(ids, dtype=np.int64))})
    if limit is not None and limit > len(frame):
        limit = len(frame)
    return pd.Index(
        sample_examples(frame, limit, seed)["dialogue_id"].to_numpy(), name="dialogue_id"
    )


# --------------------------------------------------------------------------- reading predictions


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
            line = _decode(raw, f"{path}:{number}")
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


def _decode(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PredictionsError(
            f"{where}: not UTF-8 (byte 0x{raw[error.start]:02x} at byte {error.start + 1} of the "
            "line); save the file as UTF-8"
        ) from None


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
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise PredictionsError(
            f"{where}: not valid JSON ({error.msg} at column {error.colno})"
        ) from None
    if not isinstance(record, dict):
        raise PredictionsError(f"{where}: expected a JSON object, got {type(record).__name__}")
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


# --------------------------------------------------------------------------- scoring


@dataclass
class Evaluation:
    """Scores of one predictions file."""

    name: str
    kind: str
    scores: dict
    test_set: str
    """What was scored (test contexts or sessions, which split)."""
    path: Path | None = None
    meta: dict | None = None
    """The predictions file's header (model, adapter, decoding ...), None when it has none."""
    coverage: tuple[int, int] | None = None
    """``(predicted, covered)`` of a file with a header: lines written and contexts or sessions its
    run covers; an unfinished run (predicted < covered) is not scored (every metric NaN)."""

    @property
    def complete(self) -> bool:
        return self.coverage is None or self.coverage[0] >= self.coverage[1]

    def row(self) -> dict:
        """The table row: ``Model`` plus the paper's columns (generation: x 100; score: ACC and
        ACC_soft in percent, MAE in item points, Spearman ρ of the totals)."""
        if self.kind == "generation":
            return {
                "Model": self.name,
                **{label: self.scores[k] for k, label in GENERATION_COLUMNS.items()},
            }
        return {"Model": self.name, **score_columns(self.scores)}


def score_columns(scores) -> dict:
    """Score-prediction metrics (a mapping or frame with the keys of :data:`SCORE_COLUMNS` and
    optionally :data:`STRICT_COLUMNS`; missing ones are NaN) in the table's columns: ACC and ACC_soft
    in percent, MAE in item points, Spearman ρ of the item sums, then the parse rate and the strict
    metrics."""
    columns = {}
    for key, label in {**SCORE_COLUMNS, **STRICT_COLUMNS}.items():
        value = scores.get(key, float("nan"))
        columns[label] = 100 * value if key in PERCENT_METRICS else value
    return columns


def _check_ids(found: Iterable, expected: Sequence, path: Path, what: str, hint: str = "") -> None:
    found_set, expected_set = set(found), set(expected)
    unknown = [i for i in found if i not in expected_set]
    if unknown:
        raise PredictionsError(
            f"{path}: {len(unknown):,} id(s) are not {what} (first: "
            f"{', '.join(map(repr, unknown[:MAX_LISTED]))}){hint}"
        )
    missing = [i for i in expected if i not in found_set]
    if missing:
        raise PredictionsError(
            f"{path}: {len(missing):,} of {len(expected):,} {what} have no prediction (first: "
            f"{', '.join(map(repr, missing[:MAX_LISTED]))}). Predict every one{hint}"
        )


def evaluate_generation(
    predictions: Predictions, test_set: ResponseTestSet, *, workers: int | None = None
) -> Evaluation:
    """Score a generation predictions file on ``test_set`` (every test context exactly once)."""
    hint = (
        "; if the test file was a sample (--test-samples N --seed S), evaluate with the same sample"
        if test_set.test_samples is None
        else f"; this evaluation uses the seeded sample of {test_set.test_samples:,} (seed {test_set.seed})"
    )
    _check_ids(
        predictions.values,
        test_set.ids,
        predictions.path,
        "test contexts",
        hint + _resume_hint(predictions),
    )
    texts = [predictions.values[i] for i in test_set.ids]
    tokens = surfaces(texts, workers=workers)
    empty = [i for i, toks in zip(test_set.ids, tokens) if not toks]
    if empty:
        first = empty[0]
        raise PredictionsError(
            f"{predictions.path}:{predictions.lines[first]}: id {first!r}: the response has no "
            f"token (whitespace only)" + (f"; {len(empty) - 1} more" if len(empty) > 1 else "")
        )
    scores = test_set.score(texts, tokens=tokens)
    return Evaluation(
        predictions.name,
        "generation",
        scores,
        test_set.describe(),
        predictions.path,
        predictions.meta,
        _coverage(predictions),
    )


def evaluate_score_prediction(
    predictions: Predictions, test_sets: Mapping[str, ScoreTestSet]
) -> Evaluation:
    """Score a score-prediction file on the test set its ids belong to (held-out split or test pool)."""
    ids = [*predictions.values, *predictions.unparsed]
    chosen = _pick_score_set(ids, test_sets)
    _check_ids(
        ids,
        chosen.items.index.tolist(),
        predictions.path,
        f"sessions of the {chosen.description}",
        "; score predictions cover the held-out split (sft.score_split(seed)) or the test pool"
        + _resume_hint(predictions),
    )
    parsed = [i for i in chosen.items.index if i in predictions.values]
    description = chosen.description
    if parsed:
        predicted = np.array([predictions.values[i] for i in parsed], dtype=np.int64)
        gold = chosen.items.loc[parsed].to_numpy()
        scores = metrics.score_prediction_scores(predicted, gold)
    else:
        scores = {**dict.fromkeys(SCORE_COLUMNS, float("nan")), "n_sessions": 0}
    every = chosen.items.index
    zeros = [0] * len(schema.ITEMS)
    scores.update(
        metrics.strict_score_prediction_scores(
            np.array([predictions.values.get(i, zeros) for i in every], dtype=np.int64),
            chosen.items.to_numpy(),
            [i in predictions.values for i in every],
        )
    )
    scores["n_unparsed"] = len(predictions.unparsed)
    if predictions.unparsed:
        description += (
            f"; {len(predictions.unparsed):,} of {len(chosen.items):,} answers unparseable: "
            f"ACC/MAE on the other {len(parsed):,}, strict columns count them as wrong"
        )
    return Evaluation(
        predictions.name,
        "score",
        scores,
        description,
        predictions.path,
        predictions.meta,
        _coverage(predictions),
    )


def _coverage(predictions: Predictions) -> tuple[int, int] | None:
    covered = predictions.contexts
    return None if covered is None else (_predicted(predictions), covered["count"])


def _resume_hint(predictions: Predictions) -> str:
    if predictions.meta is None:
        return ""
    return "; the run that wrote it stopped early: run the same command again to finish the file"


@dataclass
class ScoreDetails:
    """Per-item view of a score-prediction file beside the most-common-value baseline."""

    per_item: pd.DataFrame
    """One row per item (index 1-20): ``label``, ``acc``, ``acc_soft``, ``mae`` (model; fractions and
    item points), ``baseline_value`` and ``baseline_acc``, ``baseline_acc_soft``, ``baseline_mae``."""
    confusion: dict[int, pd.DataFrame]
    """Item number -> counts, true score (rows 0-5) x predicted score (columns 0-5)."""
    pooled: dict[str, dict[str, float]]
    """``{"model": {...}, "baseline": {...}}``: acc, acc_soft, mae pooled over (session, item) pairs."""
    scored_sessions: int
    unparsed: dict
    """Session id -> why its answer gave no scores."""
    baseline_definition: str


def score_details(
    predictions: Predictions, corpus: Corpus, *, seed: int = 0, limit: int | None = None
) -> ScoreDetails:
    """Per-item ACC / ACC_soft / MAE, a confusion matrix per item and the most-common-value baseline
    (each item's most frequent score among the sessions outside the scored test set, ties: the lower
    score) on the same parsed sessions. ``seed`` / ``limit`` as the file's header when it has one."""
    covered = predictions.contexts
    if covered is not None:
        seed, limit = covered["seed"], covered["limit"]
    sets = score_test_sets(corpus, seed, limit)
    chosen = _pick_score_set([*predictions.values, *predictions.unparsed], sets)
    parsed = [i for i in chosen.items.index if i in predictions.values]
    if not parsed:
        raise PredictionsError(f"{predictions.path}: no parseable answer to score")
    gold = chosen.items.loc[parsed].to_numpy()
    predicted = np.array([predictions.values[i] for i in parsed], dtype=np.int64)
    dialogues = corpus.dialogues
    excluded = score_test_sets(corpus, seed)[chosen.name].items.index
    training = schema.item_matrix(dialogues.drop(index=excluded))
    values = np.arange(schema.ITEM_MIN, schema.ITEM_MAX + 1)
    modes = values[(training[:, :, None] == values).sum(axis=0).argmax(axis=1)]
    model_items = metrics.per_item_scores(predicted, gold)
    base_items = metrics.per_item_scores(np.broadcast_to(modes, gold.shape), gold)
    per_item = pd.DataFrame(
        {
            "label": [item.label_en for item in schema.ITEMS],
            **{k: model_items[k] for k in ("acc", "acc_soft", "mae")},
            "baseline_value": modes,
            **{f"baseline_{k}": base_items[k] for k in ("acc", "acc_soft", "mae")},
        },
        index=model_items.index,
    )
    confusion = {
        number: pd.crosstab(
            pd.Categorical(gold[:, number - 1], categories=values),
            pd.Categorical(predicted[:, number - 1], categories=values),
            rownames=["true"],
            colnames=["predicted"],
            dropna=False,
        )
        for number in model_items.index
    }
    pooled = {
        name: {k: float(frame[k].mean()) for k in ("acc", "acc_soft", "mae")}
        for name, frame in (("model", model_items), ("baseline", base_items))
    }
    definition = (
        f"each item's most common value among the {len(training):,} sessions outside the "
        f"{chosen.name.replace('_', '-')} test set"
    )
    return ScoreDetails(
        per_item, confusion, pooled, len(parsed), dict(predictions.unparsed), definition
    )


def _pick_score_set(ids: Sequence[int], test_sets: Mapping[str, ScoreTestSet]) -> ScoreTestSet:
    """The test set covering most of ``ids`` (ties: the held-out split)."""
    coverage = {name: len(set(ids) & set(s.items.index)) for name, s in test_sets.items()}
    best = max(coverage, key=lambda name: (coverage[name], name == "held_out"))
    return test_sets[best]


def evaluate(
    predictions: Predictions,
    corpus: Corpus,
    *,
    test_samples: int | None = None,
    seed: int = 0,
    response_test_set: ResponseTestSet | None = None,
    score_sets: Mapping[str, ScoreTestSet] | None = None,
    workers: int | None = None,
    incomplete_ok: bool = False,
) -> Evaluation:
    """Score a checked predictions file (generation or score prediction) against ``corpus`` (the whole
    corpus). ``response_test_set`` / ``score_sets`` reuse already built test sets when they match.
    A file with a header is scored on the contexts or sessions it records (``test_samples`` and
    ``seed`` are then taken from it), after checking that they are the same ids. With
    ``incomplete_ok``, a file with a header whose run has not finished (header only, or stopped
    early) is an unscored :func:`incomplete_evaluation` instead of an error."""
    covered = predictions.contexts
    limit = None
    if covered is not None:
        test_samples = limit = covered["limit"]
        seed = covered["seed"]
        if incomplete_ok and _predicted(predictions) < covered["count"]:
            return incomplete_evaluation(predictions)
    if predictions.kind == "generation":
        test_set = response_test_set
        if test_set is None or (test_set.test_samples, test_set.seed) != (test_samples, seed):
            test_set = ResponseTestSet.from_corpus(corpus, test_samples, seed, workers=workers)
        _check_covered(predictions, test_set.ids)
        return evaluate_generation(predictions, test_set, workers=workers)
    if score_sets is None or covered is not None:
        score_sets = score_test_sets(corpus, seed, limit)
    if covered is not None:
        _check_covered(predictions, score_sets[covered["set"]].items.index.tolist())
    return evaluate_score_prediction(predictions, score_sets)


def _predicted(predictions: Predictions) -> int:
    return len(predictions.values) + len(predictions.unparsed)


def incomplete_evaluation(predictions: Predictions) -> Evaluation:
    """The row of a file whose ``generate`` / ``predict-scores`` run has not finished: its coverage
    and every metric NaN (a part of the test set is not comparable with the whole)."""
    covered = predictions.contexts
    what = "test contexts" if covered["set"] == "test_contexts" else "sessions"
    done, total = _predicted(predictions), covered["count"]
    if predictions.kind == "generation":
        keys = [*GENERATION_COLUMNS, "mean_hyp_tokens", "mean_hyp_chars"]
    else:
        keys = [*SCORE_COLUMNS, *STRICT_COLUMNS]
    return Evaluation(
        predictions.name,
        predictions.kind,
        {**dict.fromkeys(keys, float("nan")), "n_predicted": done},
        f"incomplete: {done:,} of {total:,} {what} predicted, not scored",
        predictions.path,
        predictions.meta,
        (done, total),
    )


def _check_covered(predictions: Predictions, ids: Sequence) -> None:
    """The header's ids hash must match the ids rebuilt from the data (else: other data or code)."""
    covered = predictions.contexts
    if covered is not None and covered.get("ids_sha256") != ids_digest(ids):
        raise PredictionsError(
            f"{predictions.path}: the header's contexts ({covered.get('count')} of the "
            f"{covered.get('set')}, limit {covered.get('limit')}, seed {covered.get('seed')}) are not "
            f"the ones this data gives: the file was made from other data"
        )
