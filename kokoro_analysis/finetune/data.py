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

Score prediction (whole session → the 20 item scores): a seeded held-out split of *all* sessions
(:data:`SCORE_TEST_FRACTION`); training = the subset's sessions outside it. The ≥ 99 test pool is not
used as the score-prediction test set: nearly all its items are 5, so a constant "5" would look
near-perfect. Note that the held-out sessions overlap the response-generation training subsets: do
not train one multi-task model on ``train.jsonl`` and test it on ``score_prediction_test.jsonl``.

``kokoro_analysis.finetune.export`` writes these files (``export-sft``): its docstring gives the
training layouts. The KokoroChat licence (CC BY-NC-ND 4.0) forbids redistribution: exported files
stay on your disk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.loading import Corpus

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
SCORE_TEST_FRACTION = 0.2
"""Share of all sessions held out as the score-prediction test set."""


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


# --------------------------------------------------------------------------- chat format


def chat_message(role: str, text: str, weight: int | None = None) -> dict:
    """One chat message, the only place its fields are spelled: ``{"role", "content"}``, plus
    ``"weight"`` (1 a target, 0 not) on the assistant messages of training files."""
    message = {"role": role, "content": text}
    if weight is not None:
        message["weight"] = weight
    return message


def chat_messages(turns: pd.DataFrame, assistant_weight: int | None = None) -> list[dict]:
    """``turns`` (``Corpus.turns()`` rows) as chat messages, counselor = assistant and client = user;
    assistant messages carry ``assistant_weight`` when given."""
    roles = turns["role"].map(ROLE_TO_CHAT).tolist()
    return [
        chat_message(role, text, assistant_weight if role == "assistant" else None)
        for role, text in zip(roles, turns["text"].tolist())
    ]


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
    return [chat_message("system", SYSTEM_PROMPT), *chat_messages(turns.iloc[first_row:row])]


def score_messages(utterances: pd.DataFrame, prompts: Prompts | None = None) -> list[dict]:
    """The chat messages of one score-prediction prompt (as a ``score_prediction_test.jsonl`` line):
    the score system prompt and the session's :func:`score_transcript` as the user message
    (``prompts``: the export texts of a language, default the Japanese ones)."""
    prompts = prompts or PROMPTS["ja"]
    return [
        chat_message("system", prompts.score_system),
        chat_message("user", score_transcript(utterances, prompts.speakers)),
    ]
