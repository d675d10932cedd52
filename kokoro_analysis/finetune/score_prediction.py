"""Score prediction with a causal LM: the prompt, the run over held-out sessions, and robust parsing
of the model's answer into the 20 item scores.

Prompt: the system prompt and transcript of ``export-sft``'s ``score_prediction_*.jsonl``
(:data:`~kokoro_analysis.finetune.data.SCORE_SYSTEM_PROMPT`, ``score_transcript``), rendered with the
model's chat template; greedy decoding. The expected answer is a JSON array of 20 integers 0-5 in item
order. :func:`parse_item_scores` also accepts an object keyed by item number, key or Japanese label,
or 20 numbered lines ("1. ...: 4"). Anything else is *unparseable*: the predictions file keeps the
raw answer with ``"items": null`` and the reason, and ``evaluate`` counts it (never a made-up number).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace

from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.loading import Corpus
from kokoro_analysis.finetune.data import SCORE_SYSTEM_PROMPT, score_messages
from kokoro_analysis.finetune.generation import RunOptions, RunSummary, covered_record, run_task
from kokoro_analysis.finetune.metrics import N_ITEMS
from kokoro_analysis.finetune.models import require_llm
from kokoro_analysis.finetune.test_sets import held_out_sessions

_ARRAY = re.compile(r"\[[^\[\]]*\]")
_OBJECT = re.compile(r"\{[^{}]*\}")
_NUMBERED = re.compile(
    r"^\s*(?:項目\s*)?(\d{1,2})\s*[.:：)）、]\s*(?:.*?[:：]\s*)?(-?\d+(?:\.\d+)?)\s*(?:点)?\s*$",
    re.MULTILINE,
)
_ITEM_NAMES = {
    **{str(item.number): item.number - 1 for item in schema.ITEMS},
    **{item.key: item.number - 1 for item in schema.ITEMS},
    **{item.upstream_key: item.number - 1 for item in schema.ITEMS},
    **{item.label_ja: item.number - 1 for item in schema.ITEMS},
}


class ScoreParseError(ValueError):
    """An answer that does not contain 20 item scores; the message says why."""


def _as_score(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ScoreParseError(f"{where}: {value!r} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise ScoreParseError(f"{where}: {value!r} is not a number") from None
    if not number.is_integer() or not schema.ITEM_MIN <= number <= schema.ITEM_MAX:
        raise ScoreParseError(
            f"{where}: {value!r} is not an integer {schema.ITEM_MIN}-{schema.ITEM_MAX}"
        )
    return int(number)


def _from_array(values: list) -> list[int]:
    if len(values) != N_ITEMS:
        raise ScoreParseError(f"a list of {len(values)} values, not {N_ITEMS}")
    return [_as_score(v, f"item {i}") for i, v in enumerate(values, 1)]


def _from_object(values: dict) -> list[int]:
    ordered: list[int | None] = [None] * N_ITEMS
    for name, value in values.items():
        index = _ITEM_NAMES.get(str(name).strip())
        if index is None:
            raise ScoreParseError(f"unknown item {name!r}")
        ordered[index] = _as_score(value, f"item {index + 1}")
    missing = [i + 1 for i, v in enumerate(ordered) if v is None]
    if missing:
        raise ScoreParseError(f"items {missing[:5]} missing")
    return ordered  # type: ignore[return-value]


def parse_item_scores(answer: str) -> list[int]:
    """The 20 item scores (item order) in a model's ``answer``, or :class:`ScoreParseError`.

    Tried in order: the first JSON array in the text, the first JSON object (keys: item number, key or
    Japanese label), 20 numbered lines ``"<n>. <label>: <score>"``. Values must be integers 0-5
    (``4.0`` counts as 4; ``4.5`` or ``6`` make the answer unparseable)."""
    problems = []
    for pattern, convert in ((_ARRAY, _from_array), (_OBJECT, _from_object)):
        match = pattern.search(answer)
        if match is None:
            continue
        try:
            return convert(json.loads(match.group(0)))
        except json.JSONDecodeError as error:
            problems.append(f"{match.group(0)[:40]!r} is not valid JSON ({error.msg})")
        except ScoreParseError as error:
            problems.append(str(error))
    lines = {int(n): v for n, v in _NUMBERED.findall(answer) if 1 <= int(n) <= N_ITEMS}
    if len(lines) == N_ITEMS:
        return [_as_score(lines[n], f"item {n}") for n in range(1, N_ITEMS + 1)]
    if lines:
        problems.append(f"{len(lines)} numbered item lines, not {N_ITEMS}")
    if not problems:
        problems.append("no list, object or numbered lines of item scores")
    raise ScoreParseError("; ".join(problems))


def answer_record(dialogue_id: int, answer: str) -> dict:
    """The predictions-file line of one answer: ``items`` parsed, or ``null`` with the ``error``."""
    try:
        return {"id": dialogue_id, "items": parse_item_scores(answer), "answer": answer}
    except ScoreParseError as error:
        return {"id": dialogue_id, "items": None, "answer": answer, "error": str(error)}


SCORE_OPTIONS = RunOptions(batch_size=4, max_new_tokens=128)
"""``predict-scores``' defaults: batches of 4 (whole sessions), at most 128 new tokens."""


def predict_scores(corpus: Corpus, model: str, out: str | os.PathLike, **options) -> RunSummary:
    """Write (or continue) the score-prediction file ``out``: the model's answer for each session of
    the held-out split (:func:`~kokoro_analysis.finetune.test_sets.held_out_sessions`; all, or a
    seeded sample of ``limit``), parsed with :func:`parse_item_scores`. ``options``: the fields of
    :class:`~kokoro_analysis.finetune.generation.RunOptions` (defaults :data:`SCORE_OPTIONS`)."""
    require_llm()
    run = replace(SCORE_OPTIONS, **options)
    ids = held_out_sessions(corpus.dialogues, run.seed, run.limit)
    utterances = corpus.utterances[corpus.utterances["dialogue_id"].isin(ids)]
    groups = dict(tuple(utterances.groupby("dialogue_id", sort=False)))
    prompts = {int(i): score_messages(groups[i]) for i in ids}
    return run_task(
        "score",
        corpus,
        prompts,
        covered_record("held_out", run.limit, run.seed, ids),
        out,
        answer_record,
        model=model,
        system_prompt=SCORE_SYSTEM_PROMPT,
        run=run,
    )
