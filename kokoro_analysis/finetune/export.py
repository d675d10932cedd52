"""Writing an export-sft folder: the fine-tuning and test files of :mod:`kokoro_analysis.finetune.data`
as JSON lines in its chat format, with a manifest (counts, SHA-256 of every file, corpus hash,
definitions, seed), atomically and never over a user's files
(:mod:`kokoro_analysis.finetune.export_folder`).

Training layouts (``layout=``):

* ``"session"`` (default, the CLI's): one line per session, every turn a message, the session cut
  after its last target. Assistant messages carry ``"weight": 1`` (a target) or ``"weight": 0``
  (an opening counselor turn before any client turn), as in OpenAI's chat fine-tuning format; map it
  to your trainer's per-message training flag. With the loss on weight-1 assistant messages only,
  a causal LM sees exactly the per-turn (context, target) pairs of the paper; only the loss
  normalisation and truncation at a maximum length differ. Linear size (71 MB for *full*).
* ``"turn"``: one line per example, the context followed by the target as the last assistant
  message (weight 1; the context's assistant messages weight 0): the paper's layout literally, but
  quadratic in size (1.4 GB for *full*).

Lines are built as JSON text around messages encoded once (:func:`_message`, the JSON of
:func:`~kokoro_analysis.finetune.data.chat_message`), so a session's shared context is not encoded
again for each of its examples.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kokoro_analysis import __version__
from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.loading import Corpus
from kokoro_analysis.corpus.sources import DIALOGUES_FOLDER
from kokoro_analysis.corpus.translation_sources import LICENCE_NOTE as TRANSLATION_LICENCE
from kokoro_analysis.corpus.translations import Translations, translated_corpus
from kokoro_analysis.finetune.data import (
    PROMPTS,
    SCORE_SYSTEM_PROMPT,
    SCORE_TEST_FRACTION,
    SYSTEM_PROMPT,
    SYSTEM_PROMPT_SOURCE,
    TEST_SUBSET,
    TRAIN_SUBSETS,
    Prompts,
    chat_message,
    chat_messages,
    response_examples,
    sample_examples,
    sample_test_contexts,
    score_messages,
    score_split,
)
from kokoro_analysis.finetune.export_folder import FORMAT as EXPORT_FORMAT
from kokoro_analysis.finetune.export_folder import (
    MANIFEST,
    check_output_folder,
    install,
    staging_folder,
)

LAYOUTS = ("session", "turn")
LICENCE_NOTE = (
    "KokoroChat is licensed CC BY-NC-ND 4.0: the exported files are derived from it and must "
    "not be redistributed. Keep them on your disk."
)
FILES = {
    "train": "train.jsonl",
    "test": "test.jsonl",
    "score_train": "score_prediction_train.jsonl",
    "score_test": "score_prediction_test.jsonl",
    "manifest": MANIFEST,
}


@dataclass
class _HashedWriter:
    """A text file written as UTF-8 with ``\\n`` line ends, counting lines and hashing the bytes."""

    path: Path
    lines: int = 0
    size: int = 0
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)

    def __post_init__(self) -> None:
        self._handle = open(self.path, "wb")  # noqa: SIM115 (closed by close())

    def write_line(self, line: str) -> None:
        data = (line + "\n").encode("utf-8")
        self._handle.write(data)
        self.digest.update(data)
        self.lines += 1
        self.size += len(data)

    def close(self) -> dict:
        self._handle.close()
        return {"lines": self.lines, "bytes": self.size, "sha256": self.digest.hexdigest()}


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _message(role: str, text: str, weight: int | None = None) -> str:
    """One chat message (:func:`~kokoro_analysis.finetune.data.chat_message`) as JSON text."""
    return _json(chat_message(role, text, weight))


def _line(head: dict, messages: str, **tail) -> str:
    """One line of an export file: the ``head`` fields, ``"messages"`` (JSON text of the messages,
    comma-separated) and the ``tail`` fields, in that order."""
    fields = [f"{_json(key)}: {_json(value)}" for key, value in head.items()]
    fields.append(f'"messages": [{messages}]')
    fields += [f"{_json(key)}: {_json(value)}" for key, value in tail.items()]
    return "{" + ", ".join(fields) + "}"


def _write_train_sessions(
    writer: _HashedWriter, turns: pd.DataFrame, examples: pd.DataFrame, system_message: str
) -> int:
    """Session layout: one line per session with examples, its turns up to its last target (targets
    weight 1, opening counselor turns weight 0); returns the number of sessions written."""
    is_target = np.zeros(len(turns), dtype=bool)
    is_target[examples["row"].to_numpy()] = True
    for first, group in examples.groupby("first_row", sort=False):
        dialogue_id = int(group["dialogue_id"].iloc[0])
        session = turns.iloc[first : int(group["row"].iloc[-1]) + 1]
        messages = [system_message]
        for message, row in zip(chat_messages(session, 0), range(first, first + len(session))):
            if "weight" in message:
                message["weight"] = int(is_target[row])
            messages.append(_json(message))
        head = {"id": str(dialogue_id), "dialogue_id": dialogue_id, "n_targets": len(group)}
        writer.write_line(_line(head, ", ".join(messages)))
    return examples["first_row"].nunique()


def _write_contexts(
    writer: _HashedWriter,
    turns: pd.DataFrame,
    examples: pd.DataFrame,
    *,
    with_target: bool,
    system_message: str,
) -> None:
    """One line per example: the context (shared prefixes are built once per session) and either the
    target as the last assistant message with weight 1, earlier assistant messages weight 0 (training,
    ``turn`` layout), or a ``target`` field (test, no weights)."""
    encoded = [_json(message) for message in chat_messages(turns, 0 if with_target else None)]
    for first_row, group in examples.groupby("first_row", sort=False):
        prefix = system_message
        done = first_row
        for example_id, dialogue_id, turn, row, target in zip(
            group["id"], group["dialogue_id"], group["turn"], group["row"], group["target"]
        ):
            if row > done:
                prefix += ", " + ", ".join(encoded[done:row])
                done = row
            head = {"id": example_id, "dialogue_id": int(dialogue_id), "turn": int(turn)}
            if with_target:
                writer.write_line(_line(head, f"{prefix}, {_message('assistant', target, 1)}"))
            else:
                writer.write_line(_line(head, prefix, target=target))


def _write_score_file(
    writer: _HashedWriter,
    corpus: Corpus,
    ids: pd.Index,
    *,
    with_answer: bool,
    prompts: Prompts = PROMPTS["ja"],
) -> None:
    dialogues = corpus.dialogues.loc[ids].sort_index()
    items = schema.item_matrix(dialogues)
    utterances = corpus.utterances[corpus.utterances["dialogue_id"].isin(ids)]
    groups = dict(tuple(utterances.groupby("dialogue_id", sort=False)))
    for dialogue_id, row_items, score in zip(
        dialogues.index.tolist(), items.tolist(), dialogues["score"].tolist()
    ):
        messages = score_messages(groups[dialogue_id], prompts)
        if with_answer:
            messages.append(chat_message("assistant", _json(row_items)))
        head = {"id": str(dialogue_id), "dialogue_id": dialogue_id}
        text = ", ".join(_json(message) for message in messages)
        writer.write_line(_line(head, text, items=row_items, score=score))


def corpus_content_hash(corpus: Corpus) -> str:
    """SHA-256 over what the export depends on: session ids, scores and items, and every message's
    session, role and text (unlike the load cache's fingerprint, it ignores file times). Sessions in
    id order and messages in session order, so the table order does not matter."""
    digest = hashlib.sha256()
    dialogues = corpus.dialogues.sort_index(kind="stable")
    digest.update(dialogues.index.to_numpy(dtype=np.int64).tobytes())
    digest.update(dialogues[["score", *schema.ITEM_KEYS]].to_numpy(dtype=np.int64).tobytes())
    utterances = corpus.utterances.sort_values(["dialogue_id", "position"], kind="stable")
    digest.update(utterances["dialogue_id"].to_numpy(dtype=np.int64).tobytes())
    digest.update(utterances["role"].cat.codes.to_numpy(dtype=np.int8).tobytes())
    digest.update("\x00".join(utterances["text"].tolist()).encode("utf-8"))
    return digest.hexdigest()


def export_sft(
    corpus: Corpus,
    subset: str,
    out_dir: str | os.PathLike,
    *,
    test_samples: int | None = None,
    seed: int = 0,
    layout: str = "session",
    translations: Translations | None = None,
    force: bool = False,
) -> dict:
    """Write the fine-tuning and test files of ``subset`` (low/high/full) to ``out_dir``; return the manifest.

    Files: ``train.jsonl`` (``layout`` "session" or "turn", see the module docstring), ``test.jsonl``
    (one line per test context: ``id``, ``dialogue_id``, ``turn``, ``messages``, ``target``),
    ``score_prediction_train.jsonl`` / ``score_prediction_test.jsonl`` (one line per session:
    ``id`` = the dialogue id as a string (every export's ``id`` is a string; ``dialogue_id`` is the
    integer), ``messages`` (system, transcript as user[, answer as assistant]), ``items``,
    ``score``) and ``manifest.json`` (counts, SHA-256 of every file, corpus hash, definitions, seed).
    ``corpus`` must be the whole corpus (the test pool and the held-out split come from it).

    ``translations`` (:func:`kokoro_analysis.corpus.translations.load_translations` of ``corpus``):
    write the same examples from the official translation instead, with the prompts of
    :data:`PROMPTS`. Sessions the translation cannot give whole are skipped and counted in the
    manifest (:func:`~kokoro_analysis.corpus.translations.translated_corpus`); the test sample and
    the held-out split are drawn on the original corpus, so they are the original's minus the
    skipped sessions.

    The folder is written atomically and never over a user's files (see
    :mod:`kokoro_analysis.finetune.export_folder`): a non-empty folder that holds no unchanged export
    of ours is refused unless ``force``, and a folder inside the data folder always.
    """
    if subset not in TRAIN_SUBSETS:
        raise ValueError(f"subset must be one of {', '.join(TRAIN_SUBSETS)}, not {subset!r}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    out = Path(out_dir).expanduser().absolute()
    names = list(FILES.values())
    data_folders = _data_folders(corpus)
    check_output_folder(out, names, data_folders=data_folders, force=force)  # refuse before working
    original, prompts, skipped = corpus, PROMPTS["ja"], None
    if translations is not None:
        corpus, skipped = translated_corpus(original, translations)
        prompts = PROMPTS[translations.translation]
    with staging_folder(out) as tmp:
        manifest = _write_export(
            corpus,
            original,
            subset,
            tmp,
            test_samples,
            seed,
            layout,
            prompts,
            skipped,
            translations,
        )
        install(tmp, out, names, data_folders=data_folders, force=force)  # checks again
    return manifest


def _data_folders(corpus: Corpus) -> list[Path]:
    """The folders an export must stay out of: the sessions' folder and the clone holding it."""
    source = corpus.source
    if source is None or not source.path.is_dir():
        return []
    if source.path.name == DIALOGUES_FOLDER:
        return [source.path, source.path.parent]
    return [source.path]


def _write_export(
    corpus: Corpus,
    original: Corpus,
    subset: str,
    out: Path,
    test_samples: int | None,
    seed: int,
    layout: str,
    prompts: Prompts,
    skipped: dict | None,
    translations: Translations | None,
) -> dict:
    """Write every file of the export into the folder ``out``; the manifest last. ``corpus`` is the
    text written (the original or its translation), ``original`` the Japanese corpus the test sample
    and the held-out split are drawn on."""
    system_message = _message("system", prompts.system)
    turns = corpus.turns()
    train_ids = corpus.subset_ids(subset)
    test_ids = corpus.subset_ids(TEST_SUBSET)
    if not len(test_ids):
        raise ValueError("the corpus has no test-pool session (score ≥ 99)")
    files = _write_train_file(out, turns, train_ids, layout, system_message)
    test_turns = turns[turns["dialogue_id"].isin(test_ids)].reset_index(drop=True)
    all_test = response_examples(test_turns)
    chosen = sample_examples(all_test, test_samples, seed)
    if skipped is not None:  # the original's sample, minus the skipped sessions
        chosen = all_test[all_test["id"].isin(_test_sample_ids(original, test_samples, seed))]
    writer = _HashedWriter(out / FILES["test"])
    _write_contexts(writer, test_turns, chosen, with_target=False, system_message=system_message)
    files[FILES["test"]] = {
        **writer.close(),
        "sessions": int(chosen["dialogue_id"].nunique()),
        "examples": len(chosen),
        "test_contexts_total": len(all_test),
    }
    held_out = score_split(original.dialogues, seed).loc[corpus.dialogues.index]
    for key, ids, with_answer in (
        ("score_train", train_ids[~held_out.loc[train_ids].to_numpy()], True),
        ("score_test", held_out.index[held_out.to_numpy()], False),
    ):
        writer = _HashedWriter(out / FILES[key])
        _write_score_file(writer, corpus, ids, with_answer=with_answer, prompts=prompts)
        files[FILES[key]] = {**writer.close(), "sessions": len(ids)}
    manifest = _manifest(corpus, subset, layout, test_samples, seed, files, train_ids, test_ids)
    manifest.update(
        system_prompt=prompts.system,
        score_system_prompt=prompts.score_system,
        language=_language_record(translations, skipped, len(original.dialogues)),
    )
    (out / FILES["manifest"]).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest


def _write_train_file(
    out: Path, turns: pd.DataFrame, train_ids: pd.Index, layout: str, system_message: str
) -> dict[str, dict]:
    """``train.jsonl`` in ``layout``; returns ``{file name: its manifest entry}``."""
    train_turns = turns[turns["dialogue_id"].isin(train_ids)].reset_index(drop=True)
    train_examples = response_examples(train_turns)
    writer = _HashedWriter(out / FILES["train"])
    if layout == "session":
        written_sessions = _write_train_sessions(
            writer, train_turns, train_examples, system_message
        )
    else:
        _write_contexts(
            writer, train_turns, train_examples, with_target=True, system_message=system_message
        )
        written_sessions = int(train_examples["dialogue_id"].nunique())
    return {
        FILES["train"]: {
            **writer.close(),
            "layout": layout,
            "sessions": written_sessions,
            "examples": len(train_examples),
            "lines_if_session_layout": written_sessions,
            "lines_if_turn_layout": len(train_examples),
            "subset_sessions_without_examples": len(train_ids) - written_sessions,
        }
    }


def _test_sample_ids(original: Corpus, test_samples: int | None, seed: int) -> pd.Index:
    """Ids of the test contexts the original corpus's export samples."""
    return pd.Index(sample_test_contexts(original, test_samples, seed)["id"])


def _language_record(
    translations: Translations | None, skipped: dict | None, original_sessions: int
) -> dict:
    """The manifest's ``language``: "ja" for the original, else the translation's source and what
    was skipped."""
    if translations is None:
        return {"lang": "ja", "source": "the original KokoroChat"}

    source = translations.source
    return {
        "lang": translations.translation,
        "source": "Multilingual KokoroChat (official translations)",
        "folder": str(source.folder) if source is not None else None,
        "source_fingerprint": source.fingerprint() if source is not None else None,
        "licence": TRANSLATION_LICENCE,
        "original_sessions": original_sessions,
        "sessions_skipped": {
            reason: len(ids) for reason, ids in skipped.items() if reason != "empty_messages"
        },
        "skipped_ids": {
            reason: ids for reason, ids in skipped.items() if reason != "empty_messages"
        },
        "empty_messages_dropped": skipped["empty_messages"],
        "skipped_reasons": {
            "no_translation": "the release has no file for the session",
            "invalid": "the file did not align with the original (lenient loading)",
            "untranslated_turn": "a turn none of whose messages has a translation",
        },
    }


def _manifest(
    corpus: Corpus,
    subset: str,
    layout: str,
    test_samples: int | None,
    seed: int,
    files: dict,
    train_ids: pd.Index,
    test_ids: pd.Index,
) -> dict:
    source = corpus.source
    return {
        "format": EXPORT_FORMAT,
        "created_by": f"kokoro_analysis {__version__} (export_sft)",
        "licence": LICENCE_NOTE,
        "corpus": {
            "sessions": len(corpus.dialogues),
            "utterances": len(corpus.utterances),
            "content_sha256": corpus_content_hash(corpus),
            "source_fingerprint": corpus.data_key
            or (source.fingerprint() if source is not None else None),
            "source": str(source.path) if source is not None else None,
        },
        "subset": {
            "name": subset,
            "definition": schema.SUBSETS[subset][2],
            "sessions": len(train_ids),
        },
        "test_pool": {
            "definition": schema.SUBSETS[TEST_SUBSET][2],
            "sessions": len(test_ids),
            "test_samples": test_samples,
            "seed": seed,
        },
        "score_prediction_split": {
            "test": f"seeded held-out {SCORE_TEST_FRACTION:.0%} of all sessions "
            "(kokoro_analysis.finetune.data.score_split(seed)); independent of the subset",
            "train": "the subset's sessions outside the held-out split",
            "answer": "JSON array of the 20 item scores (0-5) in item order",
            "seed": seed,
        },
        "definitions": {
            "turn": "consecutive messages of one speaker joined with '\\n' (Corpus.turns())",
            "example": "a counselor turn after at least one client turn; context = all earlier turns "
            "of the session, target = that turn; id = '<dialogue_id>-<turn index>'",
            "roles": {"counselor": "assistant", "client": "user"},
            "train_layout": layout,
            "weight": "assistant messages in train.jsonl carry weight 1 (a target) or 0 (session layout: "
            "an opening counselor turn before any client turn; turn layout: the context's "
            "counselor turns); compute the loss on weight-1 messages only",
        },
        "system_prompt": SYSTEM_PROMPT,
        "system_prompt_source": SYSTEM_PROMPT_SOURCE,
        "score_system_prompt": SCORE_SYSTEM_PROMPT,
        "seed": seed,
        "files": files,
    }
