"""Result tables of notebook 04: the paper's reported rows and the measured rows (baselines and
predictions files) in the paper's layout, their number formats and their reproduction records."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from kokoro_analysis.corpus.loading import Corpus
from kokoro_analysis.finetune.data import TEST_SUBSET, TRAIN_SUBSETS
from kokoro_analysis.finetune.prediction_files import read_predictions
from kokoro_analysis.finetune.predictions import (
    GENERATION_COLUMNS,
    SCORE_COLUMNS,
    STRICT_COLUMNS,
    Evaluation,
    evaluate,
    score_columns,
)
from kokoro_analysis.finetune.test_sets import ResponseTestSet, score_test_sets
from kokoro_analysis.paths import PROJECT_ROOT
from kokoro_analysis.published import Column, TableSpec, Words, register
from kokoro_analysis.reported import Record, load_reported, snake_key

REPORTED_SOURCE = "reported (secondary source)"
MEASURED_SOURCE = "measured here"
GENERATION_TABLE_COLUMNS = ["Model", *GENERATION_COLUMNS.values(), "Tokens", "Source"]
SCORE_TABLE_COLUMNS = [
    "Model",
    "Test set",
    *SCORE_COLUMNS.values(),
    *STRICT_COLUMNS.values(),
    "Source",
]
SCORE_FLOAT_FORMAT = dict(
    zip(
        [*SCORE_COLUMNS.values(), *STRICT_COLUMNS.values()],
        ["{:.2f}", "{:.2f}", "{:.4f}", "{:.3f}", "{:.1f}", "{:.2f}", "{:.2f}", "{:.4f}"],
    )
)
"""Table precision: ACC and ACC_soft in percent (2 dp), MAE 4 dp (as reported), ρ 3 dp; the parse
rate in percent (1 dp) and the strict metrics as their parsed-only counterparts."""
GENERATION_FLOAT_FORMAT = {
    **{label: "{:.2f}" for label in GENERATION_COLUMNS.values()},
    "Tokens": "{:.1f}",
}


def reported_rows(prefix: str) -> pd.DataFrame:
    """Rows of ``reported.csv`` whose key starts with ``prefix``, plus ``model`` (label before " / ")
    and ``metric`` (last key part)."""

    table = load_reported()
    table = table[table.index.str.startswith(prefix)].copy()
    table["model"] = table["label"].str.split(" / ").str[0]
    table["metric"] = table.index.str.rsplit(".", n=1).str[1]
    return table


UNAVAILABLE_NOTE = (
    "8B fine-tuned models and GPT-4o outputs are not available here; see the measured baselines"
)


def unavailable_records() -> list[Record]:
    """Every fine-tuning number the paper reports (``finetune.*``), as not reproducible: the models
    and outputs behind them are not available (:data:`UNAVAILABLE_NOTE`)."""
    return [
        Record(key, None, expect="not_reproducible", note=UNAVAILABLE_NOTE)
        for key in reported_rows("finetune.").index
    ]


def data_records(summary: pd.DataFrame) -> list[Record]:
    """The sessions of each training subset and of the test pool (``subsets.<name>.dialogues``) from
    :func:`kokoro_analysis.finetune.data.data_summary`."""
    return [
        Record(f"subsets.{name}.dialogues", int(summary.loc[name, "sessions"]))
        for name in (*TRAIN_SUBSETS, TEST_SUBSET)
    ]


def reported_generation_table() -> pd.DataFrame:
    """The paper's response-generation table (known from secondary sources; ``reported.csv``): ``Model``, the
    five metrics (x 100), ``Source`` ("reported (secondary source)"), ``key`` prefix per row."""
    table = reported_rows("finetune.generation.")
    rows = []
    for model, group in table.groupby("model", sort=False):
        values = group.set_index("metric")["value"]
        kinds = set(group["source_kind"])
        rows.append(
            {
                "Model": model,
                **{label: values.get(k) for k, label in GENERATION_COLUMNS.items()},
                "Tokens": float("nan"),
                "Source": REPORTED_SOURCE if kinds == {"secondary"} else "reported (authors)",
                "key": group.index[0].rsplit(".", 1)[0],
            }
        )
    return pd.DataFrame(rows)


def reported_score_table() -> pd.DataFrame:
    """The reported score-prediction numbers (two secondary sources, which disagree), in our units: ACC and
    ACC_soft in percent, MAE in item points. Columns as :data:`SCORE_TABLE_COLUMNS` plus ``key``."""
    table = reported_rows("finetune.score_prediction.")
    table["group"] = table.index.str.rsplit(".", n=1).str[0]
    rows = []
    for group_key, group in table.groupby("group", sort=False):
        row = {
            "Model": group["model"].iloc[0],
            "Test set": "not stated",
            **dict.fromkeys(SCORE_COLUMNS.values(), float("nan")),
        }
        for metric, value, unit in zip(group["metric"], group["value"], group["unit"]):
            row[SCORE_COLUMNS[metric]] = 100 * value if unit == "fraction" else value
        row["Source"] = f"{REPORTED_SOURCE}: {group['source'].iloc[0]}"
        row["key"] = group_key
        rows.append(row)
    return pd.DataFrame(rows)


def evaluations_frame(evaluations: Sequence[Evaluation], kind: str) -> pd.DataFrame:
    """Rows of predictions files of one ``kind`` in the layout of :func:`generation_baselines` /
    :func:`score_prediction_baselines` (``model``, metric keys, ``source``)."""
    rows = []
    for evaluation in evaluations:
        if evaluation.kind != kind:
            continue
        file = f"predictions/{evaluation.path.name if evaluation.path else evaluation.name}"
        settings = run_settings(evaluation.meta)
        source = f"{MEASURED_SOURCE} ({file}{'; ' + settings if settings else ''})"
        if not evaluation.complete:
            done, total = evaluation.coverage
            source += (
                f"; INCOMPLETE: {done:,} of {total:,} predicted, not scored (run the same "
                f"command again to finish the file)"
            )
        rows.append(
            {
                "model": model_label(evaluation),
                **evaluation.scores,
                "test_set": evaluation.test_set,
                "source": source,
            }
        )
    return pd.DataFrame(rows)


def model_label(evaluation: Evaluation) -> str:
    """The row label of a predictions file: from its header the model (a local folder by its name)
    and the adapter (task and subset when ``finetune`` made it), else the file name."""
    meta = evaluation.meta
    if not meta:
        return evaluation.name
    model = meta["model"]
    label = Path(model).name if Path(model).expanduser().is_dir() else model
    adapter = meta.get("adapter")
    if adapter:
        if adapter.get("subset"):
            label += f" + LoRA ({adapter.get('task')}, {adapter['subset']})"
        else:
            label += f" + adapter {Path(adapter['path']).name}"
    return label


def run_settings(meta: dict | None) -> str:
    """The settings of a ``generate`` / ``predict-scores`` run in a few words (empty without a header),
    e.g. ``"greedy, max 256 new tokens, 4bit; 100 of the test contexts (seed 0)"``."""
    if not meta:
        return ""
    decoding, covered = meta.get("decoding", {}), meta.get("contexts", {})
    what = "test contexts" if covered.get("set") == "test_contexts" else "held-out sessions"
    sample = (
        "all"
        if covered.get("limit") is None
        else f"{covered.get('count')}, seed {covered.get('seed')}"
    )
    return (
        f"{decoding.get('strategy')}, max {decoding.get('max_new_tokens')} new tokens, "
        f"quantization {meta.get('quantize')}; {what}: {sample}"
    )


def _sources(measured: pd.DataFrame) -> pd.Series:
    """The ``source`` column, "measured here" where missing."""
    if "source" not in measured:
        return pd.Series(MEASURED_SOURCE, index=measured.index)
    return measured["source"].fillna(MEASURED_SOURCE)


def generation_table(measured: pd.DataFrame, reported: pd.DataFrame | None = None) -> pd.DataFrame:
    """Reported rows, then measured rows (``model``, ``bleu_1`` ... ``dist_2``, ``mean_hyp_tokens``,
    optional ``source``), in the paper's layout (:data:`GENERATION_TABLE_COLUMNS`)."""
    reported = reported_generation_table() if reported is None else reported
    ours = pd.DataFrame(
        {
            "Model": measured["model"],
            **{
                label: measured.get(key, pd.Series(np.nan, index=measured.index))
                for key, label in GENERATION_COLUMNS.items()
            },
            "Tokens": measured["mean_hyp_tokens"],
            "Source": _sources(measured),
        }
    )
    return pd.concat([reported[GENERATION_TABLE_COLUMNS], ours], ignore_index=True)


def score_table(measured: pd.DataFrame, reported: pd.DataFrame | None = None) -> pd.DataFrame:
    """Reported rows, then measured rows (``model``, ``test_set``, ``acc``/``acc_soft`` fractions,
    ``mae``, ``spearman_total``, optional ``source``), as :data:`SCORE_TABLE_COLUMNS` (ACC in percent)."""
    reported = reported_score_table() if reported is None else reported
    ours = pd.DataFrame(
        {
            "Model": measured["model"],
            "Test set": measured["test_set"],
            **score_columns(measured),
            "Source": _sources(measured),
        }
    )
    return pd.concat([reported.reindex(columns=SCORE_TABLE_COLUMNS), ours], ignore_index=True)


def predictions_folder(predictions_dir: str | os.PathLike | None = None) -> Path:
    """``predictions_dir`` or the project's ``predictions/`` folder."""

    return Path(predictions_dir).expanduser() if predictions_dir else PROJECT_ROOT / "predictions"


def evaluate_folder(
    folder: str | os.PathLike, corpus: Corpus, *, response_test_set: ResponseTestSet, seed: int = 0
) -> list[Evaluation]:
    """Score every ``*.jsonl`` in ``folder`` (sorted by name; none when the folder does not exist).
    A file whose ``generate`` / ``predict-scores`` run has not finished gives an unscored row with
    its coverage (``Evaluation.coverage``); any other file that cannot be scored raises
    :class:`PredictionsError` (never skipped silently)."""
    folder = Path(folder)
    paths = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    sets = score_test_sets(corpus, seed) if paths else None
    return [
        evaluate(
            read_predictions(path),
            corpus,
            seed=seed,
            response_test_set=response_test_set,
            score_sets=sets,
            incomplete_ok=True,
        )
        for path in paths
    ]


SCORE_UNITS = {
    "acc": "fraction",
    "acc_soft": "fraction",
    "mae": "item points",
    "spearman_total": "rho",
}


def measured_records(
    measured: pd.DataFrame, kind: str, *, test_contexts: int | None = None
) -> list[Record]:
    """The records of measured rows (baselines and predictions files): ``kind="generation"`` (keys
    ``finetune.measured.generation.<model>.<metric>``, x 100; ``test_contexts`` = how many were scored)
    or ``"score"`` (keys ``finetune.measured.score_prediction.<model>[.<split>].<metric>``). Missing
    values are skipped."""

    if kind not in ("generation", "score"):
        raise ValueError(f"kind must be 'generation' or 'score', not {kind!r}")
    if kind == "generation" and test_contexts is None:
        raise ValueError("generation records need test_contexts")
    records = []
    for row in measured.to_dict("records"):
        model = row["model"]
        if kind == "generation":
            slug, columns = f"generation.{snake_key(model)}", GENERATION_COLUMNS
            units = dict.fromkeys(columns, "x100")
            where = f"Response generation, {model} (measured here, {test_contexts:,} test contexts, MeCab surfaces)"
        else:
            split = row.get("split")
            parts = [snake_key(model), *([snake_key(split)] if isinstance(split, str) else [])]
            slug = ".".join(["score_prediction", *parts])
            columns, units = SCORE_COLUMNS, SCORE_UNITS
            where = f"Score prediction, {model} on the {row['test_set']}"
        for key, label in columns.items():
            value = row.get(key, float("nan"))
            if pd.notna(value):
                records.append(
                    Record(
                        f"finetune.measured.{slug}.{key}",
                        float(value),
                        expect="measured",
                        quantity=f"{where}: {label}",
                        unit=units[key],
                    )
                )
    return records


def source_cell(source: str) -> Words | None:
    """The Source cell of a result row: reported, or measured (here, or from a predictions file)."""
    for prefix, words in (
        (REPORTED_SOURCE.split(" (")[0], Words("reported", "報告値")),
        (MEASURED_SOURCE, Words("measured", "計測値")),
    ):
        if isinstance(source, str) and source.startswith(prefix):
            return words
    return None


MODEL_CELLS = {
    "Llama-3.1-Swallow-8B-Instruct (not fine-tuned)": Words(
        "Llama-3.1-Swallow-8B-Instruct, untuned", "Llama-3.1-Swallow-8B-Instruct（未調整）"
    ),
    "Human reference (test targets)": Words(
        "Human reference (test targets)", "人間の応答（テストの正解）"
    ),
    "Echo last client turn": Words("Echo last client turn", "直前のクライアント発話の反復"),
    **{
        f"Most frequent counselor turn ({subset})": Words(
            f"Most frequent counselor turn ({subset})", f"最頻のカウンセラー発話（{subset}）"
        )
        for subset in TRAIN_SUBSETS
    },
    **{
        f"TF-IDF retrieval ({subset})": Words(
            f"TF-IDF retrieval ({subset})", f"TF-IDF 検索（{subset}）"
        )
        for subset in TRAIN_SUBSETS
    },
}
"""Japanese names of the models and baselines (others are shown as they are)."""

DATA = TableSpec(
    "finetuning_data",
    title=Words(
        "Fine-tuning data per subset: sessions, turns and examples (target counselor turns), "
        "computed from the data.",
        "ファインチューニング用データ：部分集合ごとのセッション数と事例数（データから算出）。",
    ),
    thousands=True,
    formats={"mean_context_turns": "{:.1f}"},
    records=data_records,
)
SCORE_SPLIT = TableSpec(
    "finetuning_score_split",
    title=Words(
        "Score-prediction splits (sessions, mean item score 0–5).",
        "評価スコア予測の分割（セッション数と項目平均、0〜5）。",
    ),
    thousands=True,
    formats={"mean_item_score": "{:.2f}"},
)
REPORTED_GENERATION = TableSpec(
    "finetuning_reported_generation",
    title=Words(
        "Response generation as reported (secondary source, not verified); metrics ×100.",
        "応答生成の報告値（二次資料、未検証）。各指標 ×100。",
    ),
    formats=GENERATION_FLOAT_FORMAT,
)
REPORTED_SCORE = TableSpec(
    "finetuning_reported_score",
    title=Words(
        "Score prediction as reported (secondary sources, not verified); ACC and ACC_soft in "
        "percent, MAE in item points.",
        "評価スコア予測の報告値（二次資料、未検証；ACC は百分率）。",
    ),
    formats=SCORE_FLOAT_FORMAT,
)
GENERATION = TableSpec(
    "finetuning_generation",
    title=Words("Response generation by model.", "モデル別の応答生成。"),
    columns=(
        Column("Model", Words("Model", "モデル"), cells=MODEL_CELLS),
        Column(
            "Source",
            Words("Source", "出典"),
            cells=source_cell,
            means=Words(
                "reported by a secondary source (unknown test contexts, tokenizer and decoding, so "
                "not comparable digit by digit with the measured rows) or measured here on "
                "{test_set} with {tokenizer}",
                "二次資料の報告値（テスト文脈・トークナイザ・デコード設定が不明のため、計測値と桁単位では"
                "比較できない）、または本表での計測値（{test_set}、トークン：{tokenizer}）",
            ),
        ),
        *(Column(label, Words(label, label), "{:.2f}") for label in GENERATION_COLUMNS.values()),
    ),
    method=Words(
        "BLEU-1, BLEU-4, ROUGE-L, Dist-1 and Dist-2 ×100; –: not available.",
        "BLEU-1、BLEU-4、ROUGE-L、Dist-1、Dist-2 は ×100。–：値なし。",
    ),
    width="full",
    missing="–",
)
SCORE_PREDICTION = TableSpec(
    "finetuning_score_prediction",
    title=Words(
        "Score prediction. The reported rows (secondary sources) used an unknown test set and are "
        "not comparable with the rows measured here; measured baselines are trained on the full "
        "subset's training sessions. ACC and ACC_soft in percent, on the parsed answers; Parsed % "
        "is the share of answers that held 20 scores; the strict columns count an unparseable "
        "answer as wrong (no match, the largest absolute error its true score allows) over every "
        "session (blank for the baselines, which always answer).",
        "評価スコア予測。報告値（二次資料）のテスト集合は不明で、本表の計測値とは比較できない。計測値の"
        "ベースラインは full の学習セッションで学習。ACC・ACC_soft・MAE は解析できた回答のみで計算。"
        "Parsed % は20項目を解析できた回答の割合、strict は解析できない回答を誤り（一致なし、真の値で最大の"
        "絶対誤差）として全セッションで計算（常に回答するベースラインは空欄）。",
    ),
    formats=SCORE_FLOAT_FORMAT,
)
TABLES = register(
    DATA, SCORE_SPLIT, REPORTED_GENERATION, REPORTED_SCORE, GENERATION, SCORE_PREDICTION
)
"""The published tables of this module by name (:class:`kokoro_analysis.published.TableSpec`)."""
