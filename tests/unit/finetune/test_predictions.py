"""Scoring predictions files: hand-worked generation and score-prediction metrics, every error case
(message naming file, line and id; CLI exit status 1), the reported tables and the folder scan."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.cli import main
from kokoro_analysis.cli.exports import format_row
from kokoro_analysis.corpus import schema
from kokoro_analysis.finetune.data import sample_test_contexts, score_split
from kokoro_analysis.finetune.prediction_files import PredictionsError, read_predictions
from kokoro_analysis.finetune.predictions import evaluate_generation, evaluate_score_prediction
from kokoro_analysis.finetune.results import (
    evaluate_folder,
    generation_table,
    measured_records,
    reported_generation_table,
    reported_score_table,
    score_table,
)
from kokoro_analysis.finetune.test_sets import ResponseTestSet, ScoreTestSet, score_test_sets
from kokoro_analysis.text.surfaces import surfaces, tokenizer_label


def write_jsonl(path: Path, records) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def tiny_test_set() -> ResponseTestSet:
    examples = pd.DataFrame(
        {
            "id": ["1-2", "1-4"],
            "dialogue_id": [1, 1],
            "turn": [2, 4],
            "target": ["そうですね。", "はい。"],
        }
    )
    return ResponseTestSet(examples, surfaces(examples["target"].tolist()))


# --------------------------------------------------------------------------- hand-worked scores


def test_generation_scores_by_hand(tiny_test_set, tmp_path):
    path = write_jsonl(
        tmp_path / "mine.jsonl",
        [{"id": "1-4", "response": "ええ。"}, {"id": "1-2", "response": "そうですね。"}],
    )
    result = evaluate_generation(read_predictions(path), tiny_test_set)
    scores = result.scores
    # hypotheses [そう です ね 。] [ええ 。]; references [そう です ね 。] [はい 。]
    assert scores["bleu_1"] == pytest.approx(
        100 * 5 / 6
    )  # clipped unigrams 5/6, equal lengths: BP = 1
    assert scores["bleu_4"] == pytest.approx(100 * (5 / 6 * 3 / 4 * 1 * 1) ** 0.25)
    assert scores["rouge_l"] == pytest.approx(100 * (1.0 + 0.5) / 2)  # LCS-F1 1 and 2*1/(2+2)
    assert scores["dist_1"] == pytest.approx(100 * 5 / 6)
    assert scores["dist_2"] == pytest.approx(100.0)
    assert scores["mean_hyp_tokens"] == 3 and scores["n_responses"] == 2
    assert result.name == "mine" and result.kind == "generation"
    assert (
        format_row(result).splitlines()[-1] == "| mine | 83.33 | 88.91 | 75.00 | 83.33 | 100.00 |"
    )


def test_score_prediction_by_hand(tmp_path):
    gold = pd.DataFrame(
        [[5] * 20, [3] * 20],
        index=pd.Index([10, 20], name="dialogue_id"),
        columns=list(schema.ITEM_KEYS),
    )
    sets = {"held_out": ScoreTestSet("held_out", "two sessions", gold)}
    items = {key: 2 for key in schema.ITEM_KEYS}  # the dict form
    path = write_jsonl(
        tmp_path / "s.jsonl",
        [{"id": 10, "items": [5] * 10 + [3] * 10}, {"id": "20", "items": items}],
    )
    result = evaluate_score_prediction(read_predictions(path), sets)
    # session 10: errors 0 (items 1-10), 2 (11-20); session 20: error 1 everywhere; totals 80 > 40 as 100 > 60
    assert result.scores["acc"] == pytest.approx(0.25)
    assert result.scores["acc_soft"] == pytest.approx(0.75)
    assert result.scores["mae"] == pytest.approx(1.0)
    assert result.scores["spearman_total"] == pytest.approx(1.0)
    assert result.row() == pytest.approx(
        {"Model": "s", "ACC": 25.0, "ACC_soft": 75.0, "MAE": 1.0, "Spearman ρ": 1.0}
        | {"Parsed %": 100.0, "ACC strict": 25.0, "ACC_soft strict": 75.0, "MAE strict": 1.0}
    )
    assert (
        format_row(result).splitlines()[-1]
        == "| s | 25.00 | 75.00 | 1.0000 | 1.000 | 100.0 | 25.00 | 75.00 | 1.0000 |"
    )


def test_strict_metrics_count_an_unparseable_answer_as_wrong(tmp_path):
    gold = pd.DataFrame(
        [[5] * 20, [3] * 20, [4] * 20, [1] * 20],
        index=pd.Index([10, 20, 30, 40], name="dialogue_id"),
        columns=list(schema.ITEM_KEYS),
    )
    sets = {"held_out": ScoreTestSet("held_out", "four sessions", gold)}
    unparsed = {"items": None, "answer": "5", "error": "a list of 1 values, not 20"}
    path = write_jsonl(
        tmp_path / "s.jsonl",
        [
            {"id": 10, "items": [5] * 20},
            {"id": 20, "items": [4] * 20},
            {"id": 30, **unparsed},
            {"id": 40, **unparsed},
        ],
    )
    scores = evaluate_score_prediction(read_predictions(path), sets).scores
    # parsed only: session 10 exact, session 20 off by 1
    assert (scores["acc"], scores["acc_soft"], scores["mae"]) == pytest.approx((0.5, 1.0, 0.5))
    # strict: sessions 30 and 40 wrong, with the largest error their true score allows (4, 4)
    assert scores["parse_rate"] == pytest.approx(0.5)
    assert scores["acc_strict"] == pytest.approx(0.25)
    assert scores["acc_soft_strict"] == pytest.approx(0.5)
    assert scores["mae_strict"] == pytest.approx((0 + 1 + 4 + 4) / 4)


def test_upstream_item_key_is_accepted(tmp_path):
    items = {item.upstream_key: 5 for item in schema.ITEMS}
    assert "clarified_issues_cleraly" in items
    path = write_jsonl(tmp_path / "u.jsonl", [{"id": 1, "items": items}])
    assert read_predictions(path).values == {1: [5] * 20}


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "lines, message",
    [
        (
            ['{"id": "1-2", "response": "はい"}', '{"id": "1-4", "response": "はい"', ""],
            r"bad\.jsonl:2: not valid JSON",
        ),
        (['["1-2", "はい"]'], r"bad\.jsonl:1: expected a JSON object"),
        (['{"response": "はい"}'], r"bad\.jsonl:1: missing \"id\""),
        (['{"id": "1-2", "text": "はい"}'], r"bad\.jsonl:1: needs a \"response\""),
        (
            ['{"id": "1-2", "response": "はい"}', '{"id": "1-4", "response": "  \\n"}'],
            r"bad\.jsonl:2: id '1-4': empty response",
        ),
        (['{"id": "1-2", "response": 3}'], r"bad\.jsonl:1: id '1-2': response must be a string"),
        (['{"id": 12, "response": "はい"}'], r"bad\.jsonl:1: id must be a string"),
        (
            [
                '{"id": "1-2", "response": "a"}',
                '{"id": "1-4", "response": "b"}',
                '{"id": "1-2", "response": "c"}',
            ],
            r"bad\.jsonl: 1 duplicate id\(s\): '1-2' \(lines 1 and 3\)",
        ),
        (['{"id": 5, "items": [5, 5]}'], r"bad\.jsonl:1: id 5: expected 20 item scores, got 2"),
        (
            ['{"id": 5, "items": ' + json.dumps([5] * 19 + [6]) + "}"],
            r"bad\.jsonl:1: id 5: item 20 must be an integer 0-5, got 6",
        ),
        (
            ['{"id": 5, "items": ' + json.dumps([5] * 19 + [4.5]) + "}"],
            r"item 20 must be an integer 0-5, got 4\.5",
        ),
        (
            ['{"id": 5, "items": {"felt_respected": 5, "nonsense": 1}}'],
            r"bad\.jsonl:1: id 5: unknown item key\(s\) \['nonsense'\]",
        ),
        (
            ['{"id": 5, "items": {"felt_respected": 5}}'],
            r"id 5: expected 20 item scores, got 1 \(missing",
        ),
        (['{"id": "x", "items": []}'], r"bad\.jsonl:1: id must be a dialogue id"),
        (
            ['{"id": 5, "items": ' + json.dumps([5] * 20) + "}", '{"id": "1-2", "response": "a"}'],
            r"bad\.jsonl:2: a generation line in a file of score predictions",
        ),
        (["", "  "], r"bad\.jsonl: no predictions"),
    ],
)
def test_bad_files_name_file_line_and_id(tmp_path, lines, message):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(PredictionsError, match=message):
        read_predictions(path)


def test_unknown_and_missing_ids(tiny_test_set, tmp_path):
    unknown = write_jsonl(
        tmp_path / "unknown.jsonl",
        [
            {"id": "1-2", "response": "はい"},
            {"id": "1-4", "response": "はい"},
            {"id": "9-9", "response": "はい"},
        ],
    )
    with pytest.raises(
        PredictionsError, match=r"unknown\.jsonl: 1 id\(s\) are not test contexts \(first: '9-9'\)"
    ):
        evaluate_generation(read_predictions(unknown), tiny_test_set)
    partial = write_jsonl(tmp_path / "partial.jsonl", [{"id": "1-2", "response": "はい"}])
    with pytest.raises(
        PredictionsError,
        match=r"partial\.jsonl: 1 of 2 test contexts have no prediction \(first: '1-4'\)",
    ):
        evaluate_generation(read_predictions(partial), tiny_test_set)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        read_predictions(tmp_path / "nope.jsonl")


# --------------------------------------------------------------------------- the CLI on synthetic data


def test_cli_scores_perfect_responses(synthetic_dir, tmp_path, capsys):
    contexts = sample_test_contexts(load_corpus(synthetic_dir))
    path = write_jsonl(
        tmp_path / "oracle.jsonl",
        [{"id": i, "response": t} for i, t in zip(contexts["id"], contexts["target"])],
    )
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{len(contexts)} test contexts (all)" in out and tokenizer_label() in out
    assert out.strip().splitlines()[-1].startswith("| oracle | 100.00 | 100.00 | 100.00 |")


def test_cli_scores_item_predictions_on_both_test_sets(synthetic_dir, tmp_path, capsys):
    corpus = load_corpus(synthetic_dir)
    dialogues = corpus.dialogues
    held_out = dialogues[score_split(dialogues).to_numpy()]
    path = write_jsonl(
        tmp_path / "gold.jsonl",
        [
            {"id": int(i), "items": [int(v) for v in row]}
            for i, row in held_out[list(schema.ITEM_KEYS)].iterrows()
        ],
    )
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(path)]) == 0
    out = capsys.readouterr().out
    assert "held-out split (12 sessions, seed 0)" in out
    assert "\n| gold | 100.00 | 100.00 | 0.0000 |" in out
    assert "item 20: " in out  # per-item confusion matrices follow the row
    pool = dialogues[dialogues["score"] >= 99]
    path = write_jsonl(
        tmp_path / "fives.jsonl", [{"id": int(i), "items": [5] * 20} for i in pool.index]
    )
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"test pool ({len(pool)} sessions with score ≥ 99)" in out
    expected = 100 * (pool[list(schema.ITEM_KEYS)] == 5).to_numpy().mean()
    assert f"| fives | {expected:.2f} | 100.00 |" in out


def test_cli_errors_exit_1_naming_file_line_and_id(synthetic_dir, tmp_path, capsys):
    contexts = sample_test_contexts(load_corpus(synthetic_dir))
    records = [{"id": i, "response": "はい"} for i in contexts["id"]]
    broken = tmp_path / "broken.jsonl"
    broken.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records[:2]) + "\n{oops\n",
        encoding="utf-8",
    )
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(broken)]) == 1
    err = capsys.readouterr().err
    assert f"{broken}:3: not valid JSON" in err and "Traceback" not in err

    partial = write_jsonl(tmp_path / "partial.jsonl", records[:-1])
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(partial)]) == 1
    err = capsys.readouterr().err
    assert (
        f"1 of {len(contexts)} test contexts have no prediction (first: '{contexts['id'].iloc[-1]}')"
        in err
    )

    empty = write_jsonl(
        tmp_path / "empty.jsonl", [*records[:-1], {"id": records[-1]["id"], "response": ""}]
    )
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(empty)]) == 1
    assert (
        f"{empty}:{len(records)}: id '{records[-1]['id']}': empty response"
        in capsys.readouterr().err
    )

    wrong = write_jsonl(tmp_path / "wrong.jsonl", [{"id": 1, "items": [5] * 21}])
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(wrong)]) == 1
    assert f"{wrong}:1: id 1: expected 20 item scores, got 21" in capsys.readouterr().err

    some = write_jsonl(
        tmp_path / "some.jsonl", [{"id": 1, "items": [5] * 20}, {"id": 99999, "items": [5] * 20}]
    )
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(some)]) == 1
    assert "99999" in capsys.readouterr().err

    assert (
        main(
            [
                "evaluate",
                "--data",
                str(synthetic_dir),
                "--predictions",
                str(tmp_path / "none.jsonl"),
            ]
        )
        == 1
    )
    assert "not found" in capsys.readouterr().err


# --------------------------------------------------------------------------- tables


def test_reported_tables_come_from_reported_csv():
    generation = reported_generation_table().set_index("Model")
    assert generation.index.tolist() == [
        "Llama-3.1-Swallow-8B-Instruct (not fine-tuned)",
        "GPT-4o",
        "Kokoro-Low",
        "Kokoro-High",
        "Kokoro-Full",
    ]
    assert generation.loc[
        "Kokoro-High", ["BLEU-1", "BLEU-4", "ROUGE-L", "Dist-1", "Dist-2"]
    ].tolist() == [27.03, 6.00, 28.00, 2.33, 13.08]
    assert (generation["Source"] == "reported (secondary source)").all()
    scores = reported_score_table().set_index("Model")
    assert scores.loc[
        "Llama-3.1 fine-tuned (KokoroChat paper)", ["ACC", "ACC_soft", "MAE"]
    ].tolist() == pytest.approx([35.35, 83.64, 0.8283])
    assert scores.loc["fine-tuned Llama-3.1", "ACC_soft"] == pytest.approx(80.10)
    assert math.isnan(scores.loc["GPT-4o", "ACC"])
    assert scores["Source"].str.startswith("reported (secondary source): ").all()


def test_tables_put_measured_rows_after_reported_ones():
    measured = pd.DataFrame(
        [
            {
                "model": "Mine",
                "bleu_1": 1.0,
                "bleu_4": 2.0,
                "rouge_l": 3.0,
                "dist_1": 4.0,
                "dist_2": 5.0,
                "mean_hyp_tokens": 6.0,
            }
        ]
    )
    table = generation_table(measured)
    assert table.columns.tolist() == [
        "Model",
        "BLEU-1",
        "BLEU-4",
        "ROUGE-L",
        "Dist-1",
        "Dist-2",
        "Tokens",
        "Source",
    ]
    assert table.iloc[-1].tolist() == ["Mine", 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, "measured here"]
    assert len(table) == 6
    mixed = pd.concat(
        [measured, measured.assign(model="File", source="measured here (predictions/f.jsonl)")]
    )
    assert generation_table(mixed)["Source"].iloc[-2:].tolist() == [
        "measured here",
        "measured here (predictions/f.jsonl)",
    ]
    scores = score_table(
        pd.DataFrame(
            [
                {
                    "model": "M",
                    "test_set": "t",
                    "acc": 0.5,
                    "acc_soft": 0.25,
                    "mae": 1.5,
                    "spearman_total": np.nan,
                }
            ]
        )
    )
    assert scores.iloc[-1].tolist()[:5] == ["M", "t", 50.0, 25.0, 1.5]


def test_folder_scan(synthetic_dir, tmp_path):
    corpus = load_corpus(synthetic_dir)
    test_set = ResponseTestSet.from_corpus(corpus)
    assert evaluate_folder(tmp_path / "missing", corpus, response_test_set=test_set) == []
    write_jsonl(tmp_path / "b.jsonl", [{"id": i, "response": "はい"} for i in test_set.ids])
    held_out = score_test_sets(corpus)["held_out"].items
    write_jsonl(tmp_path / "a.jsonl", [{"id": int(i), "items": [3] * 20} for i in held_out.index])
    (tmp_path / "notes.txt").write_text("ignored")
    results = evaluate_folder(tmp_path, corpus, response_test_set=test_set)
    assert [(r.name, r.kind) for r in results] == [("a", "score"), ("b", "generation")]
    write_jsonl(tmp_path / "c.jsonl", ["{broken"])
    with pytest.raises(PredictionsError, match=r"c\.jsonl:1"):
        evaluate_folder(tmp_path, corpus, response_test_set=test_set)


def test_sampled_test_set_requires_the_same_sample(synthetic_dir, tmp_path):
    corpus = load_corpus(synthetic_dir)
    sample = ResponseTestSet.from_corpus(corpus, test_samples=5, seed=4)
    assert len(sample.ids) == 5 and "seeded sample" in sample.describe()
    assert sample.describe(lang="ja").startswith(
        "テスト文脈5件（全"
    ) and "シード4で抽出" in sample.describe(lang="ja")
    path = write_jsonl(tmp_path / "five.jsonl", [{"id": i, "response": "はい"} for i in sample.ids])
    assert evaluate_generation(read_predictions(path), sample).scores["n_responses"] == 5
    with pytest.raises(PredictionsError, match="have no prediction"):
        evaluate_generation(read_predictions(path), ResponseTestSet.from_corpus(corpus))


def test_measured_records():
    generation = pd.DataFrame(
        [
            {
                "model": "Echo last client turn",
                "bleu_1": 12.5,
                "bleu_4": np.nan,
                "rouge_l": 3.0,
                "dist_1": 1.0,
                "dist_2": 2.0,
            }
        ]
    )
    records = measured_records(generation, "generation", test_contexts=4631)
    assert {r.expect for r in records} == {"measured"}
    assert [r.key for r in records][:2] == [
        "finetune.measured.generation.echo_last_client_turn.bleu_1",
        "finetune.measured.generation.echo_last_client_turn.rouge_l",
    ]
    assert records[0].value == 12.5 and records[0].unit == "x100"
    assert records[0].quantity == (
        "Response generation, Echo last client turn (measured here, 4,631 test contexts, "
        "MeCab surfaces): BLEU-1"
    )
    scores = pd.DataFrame(
        [
            {
                "model": "Ridge",
                "split": "held-out",
                "test_set": "held-out split",
                "acc": 0.5,
                "acc_soft": 0.9,
                "mae": 0.7,
                "spearman_total": np.nan,
            },
            {
                "model": "file",
                "split": np.nan,
                "test_set": "test pool",
                "acc": 0.1,
                "acc_soft": 0.2,
                "mae": 0.3,
                "spearman_total": 0.4,
            },
        ]
    )
    records = {r.key: r for r in measured_records(scores, "score")}
    assert "finetune.measured.score_prediction.ridge.held_out.spearman_total" not in records
    assert records["finetune.measured.score_prediction.ridge.held_out.acc"].unit == "fraction"
    assert (
        records["finetune.measured.score_prediction.file.spearman_total"].quantity
        == "Score prediction, file on the test pool: Spearman ρ"
    )
    with pytest.raises(ValueError):
        measured_records(generation, "generation")
