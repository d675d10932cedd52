"""Scoring predictions files (:mod:`~kokoro_analysis.finetune.prediction_files`) on their test sets
(:mod:`~kokoro_analysis.finetune.test_sets`): response generation on the test contexts and score
prediction on the held-out split or the test pool.

One implementation of the metrics for everyone (:mod:`kokoro_analysis.finetune.metrics`), on one
tokenization: MeCab surfaces with unidic-lite (:func:`~kokoro_analysis.text.surfaces.tokenizer_label`),
the same for hypotheses and references. A file that leaves out test ids is an error; a file with a
header is scored on exactly the contexts it records, and one whose run has not finished can be shown
as an unscored incomplete row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.loading import Corpus
from kokoro_analysis.finetune import metrics
from kokoro_analysis.finetune.prediction_files import (
    MAX_LISTED,
    Predictions,
    PredictionsError,
    ids_digest,
)
from kokoro_analysis.finetune.test_sets import ResponseTestSet, ScoreTestSet, score_test_sets
from kokoro_analysis.text.surfaces import surfaces

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
        "; score predictions cover the held-out split (data.score_split(seed)) or the test pool"
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
