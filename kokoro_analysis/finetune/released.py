"""The released models behind the paper's result tables and one resumable run over all of them
(``kokoro-analysis reproduce-models``): each writes its predictions file, a finished file is kept,
an unfinished one continues where it stopped; ``./run_all.sh --models`` then runs notebook 04.

Models (authors' README, REPORTED.md §5): UEC-InabaLab/Llama-3.1-KokoroChat-Low, -High, -Full
(response generation) and -ScorePrediction, fine-tuned from the base model, which is run too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kokoro_analysis.corpus.loading import Corpus
from kokoro_analysis.finetune.models import LLMError
from kokoro_analysis.finetune.training import BASE_MODEL


@dataclass(frozen=True)
class ReleasedModel:
    """A model of the result tables: its predictions file name, hub id and task."""

    name: str
    model: str
    task: str
    """``"generation"`` (``generate``) or ``"score"`` (``predict-scores``)."""


RELEASED = (
    ReleasedModel("kokoro-low", "UEC-InabaLab/Llama-3.1-KokoroChat-Low", "generation"),
    ReleasedModel("kokoro-high", "UEC-InabaLab/Llama-3.1-KokoroChat-High", "generation"),
    ReleasedModel("kokoro-full", "UEC-InabaLab/Llama-3.1-KokoroChat-Full", "generation"),
    ReleasedModel("swallow", BASE_MODEL, "generation"),
    ReleasedModel("kokoro-score", "UEC-InabaLab/Llama-3.1-KokoroChat-ScorePrediction", "score"),
)


def reproduce_models(
    corpus: Corpus,
    predictions_dir: str | os.PathLike,
    *,
    models: Sequence[ReleasedModel] | None = None,
    limit: int | None = None,
    device: str = "auto",
    report: Callable[[str], None] = print,
    **run_options,
) -> list[Path]:
    """Run every model of ``models`` (default :data:`RELEASED`) into ``predictions_dir/<name>.jsonl`` (``generate`` or
    ``predict-scores`` with ``run_options``); a finished file is kept without loading its model, an
    unfinished one is continued (the same settings are required, as for the single commands).
    Returns the files. On the CPU the 8B models take hours per hundred contexts: refused unless
    ``limit`` is given."""
    from kokoro_analysis.finetune.generation import generate_predictions
    from kokoro_analysis.finetune.models import resolve_device
    from kokoro_analysis.finetune.score_prediction import predict_scores

    models = RELEASED if models is None else models
    device = resolve_device(device)
    if device == "cpu" and limit is None:
        raise LLMError(
            "reproduce-models on the CPU: the released 8B models take hours per hundred contexts; "
            "run on a GPU, or give --limit N for a seeded sample"
        )
    folder = Path(predictions_dir).expanduser()
    paths = []
    for released in models:
        path = folder / f"{released.name}.jsonl"
        paths.append(path)
        run = generate_predictions if released.task == "generation" else predict_scores
        summary = run(corpus, released.model, path, limit=limit, device=device, **run_options)
        report(
            f"{released.name}: {summary.written:,} written, {summary.already_done:,} already "
            f"there, of {summary.covered:,} -> {path}"
        )
    return paths
