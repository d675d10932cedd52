"""Fine-tuning and test data as the paper built them: score-filtered subsets, merged turns, whole history.

Definitions (the paper's fine-tuning subsets and test pool; lab-affiliated secondary sources describe
the preprocessing; the numbers and their sources are in ``data/reported.csv``):

* **turn**: consecutive messages of one speaker merged (``Corpus.turns()``, messages joined by ``\\n``).
* **example**: every counselor turn that follows at least one client turn of its session. Its
  *context* is all earlier turns of the session (the counselor's opening turns included), its
  *target* that counselor turn. Id: ``"<dialogue_id>-<turn>"`` (turn = 0-based turn index).
* **training subsets** by session score: low (< 70), high (70–98), full (≤ 98);
  **test pool**: the sessions with score ≥ 99. The test contexts are the examples of the test pool
  (all by default, or a seeded sample of ``test_samples``); they are the same for every subset.
* **chat format**: ``{"messages": [{"role": "system"|"user"|"assistant", "content": ...}, ...]}``
  with counselor = ``assistant`` and client = ``user``, system prompt :data:`SYSTEM_PROMPT`.

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

Score prediction (whole session → the 20 item scores): a seeded held-out split of *all* sessions
(:data:`SCORE_TEST_FRACTION`); training = the subset's sessions outside it. The ≥ 99 test pool is not
used as the score-prediction test set: nearly all its items are 5, so a constant "5" would look
near-perfect. Note that the held-out sessions overlap the response-generation training subsets: do
not train one multi-task model on ``train.jsonl`` and test it on ``score_prediction_test.jsonl``.

The KokoroChat licence (CC BY-NC-ND 4.0) forbids redistribution: exported files stay on your disk.
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
from kokoro_analysis.finetune.export_folder import FORMAT as EXPORT_FORMAT
from kokoro_analysis.finetune.export_folder import check_output_folder, install, staging_folder

SYSTEM_PROMPT = (
    "あなたは傾聴を大切にする心理カウンセラーです。"
    "相談者の話を丁寧に聴き、気持ちを受け止めながら、共感的で落ち着いた応答をしてください。"
)
"""System prompt of the response-generation files. Written for this toolkit: the paper's prompt is not
published (the sources leave it unknown). It is neutral and fixed so runs are comparable."""

SYSTEM_PROMPT_SOURCE = (
    "written for kokoro_analysis (neutral wording); the paper's system prompt is not published"
)

SCORE_SYSTEM_PROMPT = (
    "以下は心理カウンセリングの対話です。相談者（クライアント）がこの対話の後に回答した評価を予測してください。"
    "評価項目は次の20項目で、各項目0〜5の整数です。\n"
    + "\n".join(f"{item.number}. {item.label_ja}" for item in schema.ITEMS)
    + "\n項目1から20の順に、20個の整数のJSON配列だけを出力してください。"
)
"""System prompt of the score-prediction files (written for this toolkit; lists the 20 items). The
expected answer is a JSON array of 20 integers in item order, e.g. ``[4, 5, 3, ...]``."""

SPEAKER_LABELS_JA = {role: labels[0] for role, labels in schema.ROLE_LABELS.items()}
"""Speaker labels in the score-prediction transcripts (the Japanese ``schema.ROLE_LABELS``)."""


@dataclass(frozen=True)
class Prompts:
    """The language-dependent texts of an export: the response-generation system prompt, the
    score-prediction system prompt and the speaker labels of its transcripts."""

    system: str
    score_system: str
    speakers: dict[str, str]


PROMPTS = {
    "ja": Prompts(SYSTEM_PROMPT, SCORE_SYSTEM_PROMPT, SPEAKER_LABELS_JA),
    "en": Prompts(
        "You are a psychological counselor who values attentive listening. Listen carefully to the "
        "client, acknowledge their feelings, and respond with empathy and calm.",
        "The following is a psychological counseling dialogue. Predict the ratings the client gave "
        "after this dialogue. There are 20 items, each an integer from 0 to 5:\n"
        + "\n".join(f"{item.number}. {item.label_en}" for item in schema.ITEMS)
        + "\nOutput only a JSON array of 20 integers, items 1 to 20 in order.",
        {role: labels[1] for role, labels in schema.ROLE_LABELS.items()},
    ),
    "zh": Prompts(
        "你是一名重视倾听的心理咨询师。请认真倾听来访者的讲述，接纳其感受，并给予共情而平和的回应。",
        "以下是一段心理咨询对话。请预测来访者在对话结束后给出的评价。共有20个评价项目（项目名称为英文），"
        "每项为0到5的整数：\n"
        + "\n".join(f"{item.number}. {item.label_en}" for item in schema.ITEMS)
        + "\n请按项目1到20的顺序，只输出由20个整数组成的JSON数组。",
        {"counselor": "咨询师", "client": "来访者"},
    ),
}
"""Export texts by language: the originals ("ja") and, for exports from the official translations,
English and Chinese versions written for this toolkit (the Chinese score prompt lists the items'
English labels: the release has no Chinese item labels)."""

ROLE_TO_CHAT = {"counselor": "assistant", "client": "user"}
TRAIN_SUBSETS = ("low", "high", "full")
TEST_SUBSET = "test"
LAYOUTS = ("session", "turn")
SCORE_TEST_FRACTION = 0.2
"""Share of all sessions held out as the score-prediction test set."""

LICENCE_NOTE = (
    "KokoroChat is licensed CC BY-NC-ND 4.0: the exported files are derived from it and must "
    "not be redistributed. Keep them on your disk."
)

FILES = {
    "train": "train.jsonl",
    "test": "test.jsonl",
    "score_train": "score_prediction_train.jsonl",
    "score_test": "score_prediction_test.jsonl",
    "manifest": "manifest.json",
}


# --------------------------------------------------------------------------- examples


def response_examples(turns: pd.DataFrame) -> pd.DataFrame:
    """One row per example (see the module docstring) of the sessions in ``turns`` (``Corpus.turns()``).

    Columns: ``id`` ("<dialogue_id>-<turn>"), ``dialogue_id``, ``turn`` (index of the target turn),
    ``row`` (position of the target in ``turns``), ``first_row`` (position of the session's first turn;
    the context is ``turns[first_row:row]``), ``context_turns`` and ``target`` (text).
    """
    ids = turns["dialogue_id"].to_numpy()
    is_client = (turns["role"] == "client").to_numpy()
    session_start = np.ones(len(ids), dtype=bool)
    session_start[1:] = ids[1:] != ids[:-1]
    session_number = np.cumsum(session_start) - 1
    first_row = (
        np.flatnonzero(session_start)[session_number] if len(ids) else np.zeros(0, dtype=np.int64)
    )
    clients_so_far = np.cumsum(is_client)
    clients_before_session = (clients_so_far - is_client)[first_row] if len(ids) else clients_so_far
    target = ~is_client & (clients_so_far - clients_before_session > 0)
    rows = np.flatnonzero(target)
    turn_numbers = turns["turn"].to_numpy()[rows]
    dialogue_ids = ids[rows]
    return pd.DataFrame(
        {
            "id": [f"{d}-{t}" for d, t in zip(dialogue_ids.tolist(), turn_numbers.tolist())],
            "dialogue_id": dialogue_ids,
            "turn": turn_numbers,
            "row": rows,
            "first_row": first_row[rows],
            "context_turns": rows - first_row[rows],
            "target": turns["text"].to_numpy()[rows],
        }
    )


def sample_examples(
    examples: pd.DataFrame, test_samples: int | None, seed: int = 0
) -> pd.DataFrame:
    """A seeded sample of ``test_samples`` examples without replacement, in corpus order (all when None).
    Drawn over the rows ordered by ``dialogue_id`` and ``turn`` (when there is one), so the same
    sessions in another table order give the same sample."""
    if test_samples is None:
        return examples
    if (
        isinstance(test_samples, bool)
        or not isinstance(test_samples, (int, np.integer))
        or test_samples < 1
    ):
        raise ValueError(f"test_samples must be a positive integer or None, got {test_samples!r}")
    if test_samples > len(examples):
        raise ValueError(
            f"test_samples={test_samples:,} exceeds the {len(examples):,} test contexts"
        )
    rng = np.random.default_rng(seed)
    keys = [examples[c].to_numpy() for c in ("turn", "dialogue_id") if c in examples]
    canonical = np.lexsort(keys)
    chosen = canonical[rng.choice(len(examples), size=int(test_samples), replace=False)]
    return examples.iloc[np.sort(chosen)]


def sample_test_contexts(
    corpus: Corpus,
    test_samples: int | None = None,
    seed: int = 0,
    turns: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The test contexts: examples of the test pool (score ≥ 99), all or a seeded sample
    (:func:`sample_examples`). ``turns`` may pass ``corpus.turns()`` when already computed; ``row`` and
    ``first_row`` are positions in it."""
    turns = corpus.turns() if turns is None else turns
    pool = corpus.subset_ids(TEST_SUBSET)
    examples = response_examples(turns)
    return sample_examples(examples[examples["dialogue_id"].isin(pool)], test_samples, seed)


def score_split(
    dialogues: pd.DataFrame, seed: int = 0, test_fraction: float = SCORE_TEST_FRACTION
) -> pd.Series:
    """Seeded held-out split of all sessions for score prediction: boolean Series (True = test) indexed
    by ``dialogue_id``. ``round(test_fraction * n)`` sessions, drawn from the sessions sorted by id with
    ``numpy.random.default_rng(SeedSequence([seed, 1]))``, so it does not depend on table order."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    ids = np.sort(dialogues.index.to_numpy())
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1]))
    n_test = round(test_fraction * len(ids))
    test = np.zeros(len(ids), dtype=bool)
    test[rng.choice(len(ids), size=n_test, replace=False)] = True
    return pd.Series(test, index=pd.Index(ids, name="dialogue_id"), name="held_out").reindex(
        dialogues.index
    )


SPLIT_ROLES = ("train", "test", "excluded")
"""Values of :func:`person_disjoint_split`."""


def person_disjoint_split(
    dialogues: pd.DataFrame, seed: int = 0, test_fraction: float = SCORE_TEST_FRACTION
) -> pd.Series:
    """Seeded person-disjoint split for score prediction: no person of a test session (its rater
    ``client_id`` or its counselor ``counselor_id``; the ids name one population, most play both roles)
    appears in a training session. Every person gets a uniform number (``default_rng(SeedSequence([seed,
    2]))``, people in sorted order); a session is *test* when both of its people are at or below the
    threshold, *train* when both are above it, *excluded* otherwise (it would leak a person). The
    threshold is the smallest one that gives at least ``round(test_fraction * n)`` test sessions.
    Returns a categorical Series (:data:`SPLIT_ROLES`) indexed like ``dialogues``."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    raters = dialogues["client_id"].astype(str).to_numpy()
    counselors = dialogues["counselor_id"].astype(str).to_numpy()
    people = np.unique(np.r_[raters, counselors])
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 2]))
    draw = pd.Series(rng.random(len(people)), index=people)
    high = np.maximum(draw[raters].to_numpy(), draw[counselors].to_numpy())
    low = np.minimum(draw[raters].to_numpy(), draw[counselors].to_numpy())
    n_test = max(round(test_fraction * len(dialogues)), 1)
    threshold = np.sort(high)[n_test - 1]
    role = np.where(high <= threshold, "test", np.where(low > threshold, "train", "excluded"))
    return pd.Series(
        pd.Categorical(role, categories=list(SPLIT_ROLES)), index=dialogues.index, name="split"
    )


def data_summary(corpus: Corpus, turns: pd.DataFrame | None = None) -> pd.DataFrame:
    """Sessions, turns and examples per training subset and the test pool (response generation).

    Columns: ``definition``, ``sessions``, ``sessions_with_examples``, ``turns``, ``examples`` (target
    counselor turns = lines of the ``turn`` layout; for the test pool: test contexts) and
    ``mean_context_turns`` (turns before the target).
    """
    turns = corpus.turns() if turns is None else turns
    examples = response_examples(turns)
    rows = {}
    for name in (*TRAIN_SUBSETS, TEST_SUBSET):
        ids = corpus.subset_ids(name)
        mine = examples[examples["dialogue_id"].isin(ids)]
        rows[name] = {
            "definition": schema.SUBSETS[name][2],
            "sessions": len(ids),
            "sessions_with_examples": int(mine["dialogue_id"].nunique()),
            "turns": int(turns["dialogue_id"].isin(ids).sum()),
            "examples": len(mine),
            "mean_context_turns": float(mine["context_turns"].mean())
            if len(mine)
            else float("nan"),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "subset"
    return frame


def score_split_summary(corpus: Corpus, seed: int = 0) -> pd.DataFrame:
    """Score-prediction sessions: the held-out test split and, per training subset, its training
    sessions (the subset outside the held-out split). Columns ``sessions``, ``mean_item_score``."""
    dialogues = corpus.dialogues
    held_out = score_split(dialogues, seed).to_numpy()
    rows = {}
    for name in TRAIN_SUBSETS:
        mask = schema.subset_mask(dialogues["score"], name) & ~held_out
        rows[f"train ({name})"] = mask
    rows["test (held-out)"] = held_out
    rows[f"test pool (score ≥ {schema.TEST_SCORE})"] = schema.subset_mask(
        dialogues["score"], TEST_SUBSET
    )
    frame = pd.DataFrame(
        {
            "sessions": {k: int(m.sum()) for k, m in rows.items()},
            "mean_item_score": {
                k: float(schema.item_matrix(dialogues[m]).mean()) if m.any() else float("nan")
                for k, m in rows.items()
            },
        }
    )
    frame.index.name = "split"
    return frame


# --------------------------------------------------------------------------- writing


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


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _message(role: str, text: str, weight: int | None = None) -> str:
    """One chat message as JSON text (``weight`` only on training assistant messages)."""
    tail = "" if weight is None else f', "weight": {weight}'
    return f'{{"role": "{role}", "content": {_dumps(text)}{tail}}}'


SYSTEM_MESSAGE = _message("system", SYSTEM_PROMPT)


def _encoded_turns(turns: pd.DataFrame, assistant_weight: int | None = None) -> list[str]:
    """Every turn as a JSON chat message; assistant messages get ``assistant_weight`` when given."""
    roles = turns["role"].map(ROLE_TO_CHAT).tolist()
    return [
        _message(role, text, assistant_weight if role == "assistant" else None)
        for role, text in zip(roles, turns["text"].tolist())
    ]


def _write_train_sessions(
    writer: _HashedWriter,
    turns: pd.DataFrame,
    examples: pd.DataFrame,
    system_message: str = SYSTEM_MESSAGE,
) -> int:
    """Session layout: one line per session with examples, its turns up to its last target (targets
    weight 1, opening counselor turns weight 0); returns the number of sessions written."""
    is_target = np.zeros(len(turns), dtype=bool)
    is_target[examples["row"].to_numpy()] = True
    is_assistant = (turns["role"] == "counselor").to_numpy()
    roles = turns["role"].map(ROLE_TO_CHAT).tolist()
    texts = turns["text"].tolist()
    sessions = 0
    for first, group in examples.groupby("first_row", sort=False):
        dialogue_id = int(group["dialogue_id"].iloc[0])
        messages = [system_message]
        for row in range(first, int(group["row"].iloc[-1]) + 1):
            weight = int(is_target[row]) if is_assistant[row] else None
            messages.append(_message(roles[row], texts[row], weight))
        writer.write_line(
            f'{{"id": "{dialogue_id}", "dialogue_id": {dialogue_id}, '
            f'"n_targets": {len(group)}, "messages": [{", ".join(messages)}]}}'
        )
        sessions += 1
    return sessions


def _write_contexts(
    writer: _HashedWriter,
    turns: pd.DataFrame,
    examples: pd.DataFrame,
    *,
    with_target: bool,
    system_message: str = SYSTEM_MESSAGE,
) -> None:
    """One line per example: the context (shared prefixes are built once per session) and either the
    target as the last assistant message with weight 1, earlier assistant messages weight 0 (training,
    ``turn`` layout), or a ``target`` field (test, no weights)."""
    encoded = _encoded_turns(turns, 0 if with_target else None)
    by_session = examples.groupby("first_row", sort=False)
    for first_row, group in by_session:
        prefix = system_message
        done = first_row
        for example_id, dialogue_id, turn, row, target in zip(
            group["id"], group["dialogue_id"], group["turn"], group["row"], group["target"]
        ):
            if row > done:
                prefix += ", " + ", ".join(encoded[done:row])
                done = row
            head = f'{{"id": "{example_id}", "dialogue_id": {dialogue_id}, "turn": {turn}, '
            if with_target:
                writer.write_line(
                    f'{head}"messages": [{prefix}, {_message("assistant", target, 1)}]}}'
                )
            else:
                writer.write_line(f'{head}"messages": [{prefix}], "target": {_dumps(target)}}}')


def score_transcript(utterances: pd.DataFrame, speakers: dict[str, str] = SPEAKER_LABELS_JA) -> str:
    """A session as plain text for score prediction: one line per message, ``<speaker>: <text>``
    (``speakers``: role → label, default :data:`SPEAKER_LABELS_JA`; line breaks inside a message
    become spaces)."""
    labels = utterances["role"].map(speakers).tolist()
    texts = utterances["text"].str.replace("\n", " ", regex=False).tolist()
    return "\n".join(f"{label}: {text}" for label, text in zip(labels, texts))


def context_messages(turns: pd.DataFrame, first_row: int, row: int) -> list[dict]:
    """The chat messages of one test context (as a ``test.jsonl`` line): the system prompt, then
    ``turns[first_row:row]`` (``Corpus.turns()`` rows; counselor = assistant, client = user)."""
    context = turns.iloc[first_row:row]
    roles = context["role"].map(ROLE_TO_CHAT).tolist()
    return [{"role": "system", "content": SYSTEM_PROMPT}] + [
        {"role": role, "content": text} for role, text in zip(roles, context["text"].tolist())
    ]


def score_messages(utterances: pd.DataFrame) -> list[dict]:
    """The chat messages of one score-prediction prompt (as a ``score_prediction_test.jsonl`` line):
    :data:`SCORE_SYSTEM_PROMPT` and the session's :func:`score_transcript` as the user message."""
    return [
        {"role": "system", "content": SCORE_SYSTEM_PROMPT},
        {"role": "user", "content": score_transcript(utterances)},
    ]


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
    system = _message("system", prompts.score_system)
    for dialogue_id, row_items, score in zip(
        dialogues.index.tolist(), items.tolist(), dialogues["score"].tolist()
    ):
        transcript = score_transcript(groups[dialogue_id], prompts.speakers)
        messages = [system, _message("user", transcript)]
        if with_answer:
            messages.append(_message("assistant", _dumps(row_items)))
        writer.write_line(
            f'{{"id": "{dialogue_id}", "dialogue_id": {dialogue_id}, "messages": [{", ".join(messages)}], '
            f'"items": {_dumps(row_items)}, "score": {score}}}'
        )


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
    dialogues = corpus.dialogues
    turns = corpus.turns()
    train_ids = corpus.subset_ids(subset)
    test_ids = corpus.subset_ids(TEST_SUBSET)
    if not len(test_ids):
        raise ValueError("the corpus has no test-pool session (score ≥ 99)")
    train_turns = turns[turns["dialogue_id"].isin(train_ids)].reset_index(drop=True)
    train_examples = response_examples(train_turns)
    test_turns = turns[turns["dialogue_id"].isin(test_ids)].reset_index(drop=True)
    all_test = response_examples(test_turns)
    chosen = sample_examples(all_test, test_samples, seed)
    if skipped is not None:  # the original's sample, minus the skipped sessions
        chosen = all_test[all_test["id"].isin(_test_sample_ids(original, test_samples, seed))]

    files: dict[str, dict] = {}
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
    files[FILES["train"]] = {
        **writer.close(),
        "layout": layout,
        "sessions": written_sessions,
        "examples": len(train_examples),
        "lines_if_session_layout": written_sessions,
        "lines_if_turn_layout": len(train_examples),
        "subset_sessions_without_examples": len(train_ids) - written_sessions,
    }
    writer = _HashedWriter(out / FILES["test"])
    _write_contexts(writer, test_turns, chosen, with_target=False, system_message=system_message)
    files[FILES["test"]] = {
        **writer.close(),
        "sessions": int(chosen["dialogue_id"].nunique()),
        "examples": len(chosen),
        "test_contexts_total": len(all_test),
    }

    held_out = score_split(original.dialogues, seed).loc[dialogues.index]
    score_test_ids = held_out.index[held_out.to_numpy()]
    score_train_ids = train_ids[~held_out.loc[train_ids].to_numpy()]
    for key, ids, with_answer in (
        ("score_train", score_train_ids, True),
        ("score_test", score_test_ids, False),
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
