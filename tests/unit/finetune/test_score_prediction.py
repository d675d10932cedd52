"""Score prediction without a model: robust parsing of answers, the resumable predictions writer,
headers and unparseable answers in ``evaluate``, per-item details and the most-common-value baseline,
and the one-line message when the llm extra is missing."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.cli import main
from kokoro_analysis.corpus import schema
from kokoro_analysis.finetune import models
from kokoro_analysis.finetune.data import score_split
from kokoro_analysis.finetune.prediction_files import (
    PredictionsError,
    PredictionsWriter,
    ids_digest,
    read_predictions,
)
from kokoro_analysis.finetune.predictions import evaluate, score_details
from kokoro_analysis.finetune.score_prediction import (
    ScoreParseError,
    answer_record,
    parse_item_scores,
)
from kokoro_analysis.finetune.test_sets import sample_sessions

SCORES = [4, 5, 3, 2, 1, 0, 5, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 4, 3]


@pytest.mark.parametrize(
    "answer",
    [
        json.dumps(SCORES),
        "評価は次の通りです。\n" + json.dumps(SCORES) + "\n以上です。",
        json.dumps({str(i): v for i, v in enumerate(SCORES, 1)}),
        json.dumps({item.label_ja: v for item, v in zip(schema.ITEMS, SCORES)}, ensure_ascii=False),
        "\n".join(f"{item.number}. {item.label_ja}: {v}" for item, v in zip(schema.ITEMS, SCORES)),
        json.dumps([float(v) for v in SCORES]),
    ],
    ids=["array", "array-in-prose", "object-numbers", "object-labels", "numbered-lines", "floats"],
)
def test_parse_accepts_the_usual_answer_shapes(answer):
    assert parse_item_scores(answer) == SCORES


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("よく分かりません", "no list, object or numbered lines"),
        (json.dumps(SCORES[:19]), "a list of 19 values, not 20"),
        (json.dumps([*SCORES[:19], 6]), "item 20: 6 is not an integer 0-5"),
        (json.dumps([*SCORES[:19], 4.5]), "item 20: 4.5 is not an integer 0-5"),
        ("[4, 5, 3", "no list, object or numbered lines"),
        ("1. 傾聴: 4\n2. 共感: 5", "2 numbered item lines, not 20"),
    ],
)
def test_parse_rejects_broken_answers_with_a_reason(answer, reason):
    with pytest.raises(ScoreParseError, match=reason):
        parse_item_scores(answer)
    record = answer_record(7, answer)
    assert record["items"] is None and reason in record["error"] and record["answer"] == answer


def _held_out(corpus, limit=None, seed=0):
    ids = corpus.dialogues.index[score_split(corpus.dialogues, seed).to_numpy()]
    return sample_sessions(ids, limit, seed)


def _score_meta(ids, limit, seed=0) -> dict:
    contexts = {"set": "held_out", "limit": limit, "seed": seed, "count": len(ids)}
    return {"task": "score", "model": "m", "contexts": {**contexts, "ids_sha256": ids_digest(ids)}}


def test_writer_resumes_repairs_a_torn_line_and_refuses_other_settings(tmp_path):
    path = tmp_path / "p.jsonl"
    meta = {"task": "score", "model": "m", "contexts": {"set": "held_out", "limit": 2, "seed": 0}}
    with PredictionsWriter(path, meta, must_match=("task", "model")) as writer:
        writer.write({"id": 1, "items": SCORES, "answer": "x"})
    with open(path, "ab") as handle:
        handle.write(b'{"id": 2, "items": [1, 2')  # a crash in the middle of a line
    with PredictionsWriter(path, meta, must_match=("task", "model")) as writer:
        assert writer.repaired and writer.done == {1}
        writer.write({"id": 2, "items": None, "answer": "?", "error": "no list"})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["meta"]["model"] == "m"
    predictions = read_predictions(path)
    assert predictions.values == {1: SCORES} and predictions.unparsed == {2: "no list"}
    with pytest.raises(PredictionsError, match="other settings \\(model differ"):
        PredictionsWriter(path, {**meta, "model": "other"}, must_match=("task", "model"))
    foreign = tmp_path / "mine.jsonl"
    foreign.write_text('{"id": 1, "items": null}\n', encoding="utf-8")
    with pytest.raises(PredictionsError, match="not written by kokoro-analysis"):
        PredictionsWriter(foreign, meta, must_match=("task",))
    assert foreign.read_text(encoding="utf-8") == '{"id": 1, "items": null}\n'


def test_unparseable_answers_are_counted_and_the_baseline_stands_beside(
    synthetic_dir, tmp_path, capsys
):
    corpus = load_corpus(synthetic_dir)
    ids = _held_out(corpus, limit=5)
    gold = schema.item_matrix(corpus.dialogues.loc[ids])
    path = tmp_path / "scores.jsonl"
    with PredictionsWriter(path, _score_meta(ids, 5), must_match=()) as writer:
        for dialogue_id, row in zip(ids[:4], gold[:4]):
            writer.write(answer_record(int(dialogue_id), json.dumps(row.tolist())))
        writer.write(answer_record(int(ids[4]), "わかりません"))
    predictions = read_predictions(path)
    evaluation = evaluate(predictions, corpus)
    assert evaluation.scores["acc"] == 1.0 and evaluation.scores["n_sessions"] == 4
    assert evaluation.scores["n_unparsed"] == 1
    assert "1 of 5 answers unparseable: ACC/MAE on the other 4" in evaluation.test_set
    assert evaluation.scores["parse_rate"] == 0.8
    assert evaluation.scores["acc_strict"] == pytest.approx(0.8)

    details = score_details(predictions, corpus)
    assert details.scored_sessions == 4 and list(details.unparsed) == [int(ids[4])]
    outside = schema.item_matrix(corpus.dialogues.drop(index=_held_out(corpus)))
    expected_modes = [np.bincount(column, minlength=6).argmax() for column in outside.T]
    assert details.per_item["baseline_value"].tolist() == expected_modes
    assert details.per_item["acc"].eq(1.0).all()
    baseline_acc = (gold[:4] == np.array(expected_modes)).mean()
    assert details.pooled["baseline"]["acc"] == pytest.approx(baseline_acc)
    assert int(details.confusion[1].to_numpy().trace()) == 4
    assert details.confusion[1].shape == (6, 6)

    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(path)]) == 0
    out = capsys.readouterr().out
    assert "scored exactly the 5 contexts the file covers" in out
    assert f"unparseable answer, session {int(ids[4])}: no list" in out
    assert "baseline: each item's most common value" in out and "item 20:" in out


def test_a_header_whose_contexts_differ_from_the_data_is_an_error(synthetic_dir, tmp_path):
    corpus = load_corpus(synthetic_dir)
    ids = _held_out(corpus, limit=3)
    meta = _score_meta(ids, 3)
    meta["contexts"]["ids_sha256"] = ids_digest([1, 2, 3])
    path = tmp_path / "other.jsonl"
    with PredictionsWriter(path, meta, must_match=()) as writer:
        for dialogue_id in ids:
            writer.write({"id": int(dialogue_id), "items": SCORES, "answer": ""})
    with pytest.raises(PredictionsError, match="made from other data"):
        evaluate(read_predictions(path), corpus)


def test_an_unfinished_file_says_to_rerun(synthetic_dir, tmp_path):
    corpus = load_corpus(synthetic_dir)
    ids = _held_out(corpus, limit=3)
    path = tmp_path / "partial.jsonl"
    with PredictionsWriter(path, _score_meta(ids, 3), must_match=()) as writer:
        writer.write({"id": int(ids[0]), "items": SCORES, "answer": ""})
    with pytest.raises(PredictionsError, match="run the same command again"):
        evaluate(read_predictions(path), corpus)


def test_missing_extra_is_one_line_with_the_install_command(monkeypatch, tmp_path, capsys):
    real = models.importlib.util.find_spec
    monkeypatch.setattr(
        models.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "trl" else real(name, *a),
    )
    assert main(["smoke-model", "--out", str(tmp_path / "m")]) == 1
    err = capsys.readouterr().err.strip()
    assert (
        err.count("\n") == 0
        and re.search(r"missing: [^)]*\btrl\b", err)
        and 'pip install -e ".[llm]"' in err
    )


@pytest.mark.parametrize("written", [0, 2])
def test_an_unfinished_file_is_an_incomplete_row_not_an_error(
    synthetic_dir, tmp_path, capsys, written
):
    """A header-only file (the run failed before its first batch) or a run stopped early: evaluate
    and notebook 04's folder evaluation show it as incomplete, with its coverage, unscored."""
    from kokoro_analysis.finetune.results import evaluate_folder, evaluations_frame, score_table
    from kokoro_analysis.finetune.test_sets import ResponseTestSet

    corpus = load_corpus(synthetic_dir)
    ids = _held_out(corpus, limit=5)
    gold = schema.item_matrix(corpus.dialogues.loc[ids])
    path = tmp_path / "scores.jsonl"
    with PredictionsWriter(path, _score_meta(ids, 5), must_match=()) as writer:
        writer.begin()
        for dialogue_id, row in zip(ids[:written], gold[:written]):
            writer.write(answer_record(int(dialogue_id), json.dumps(row.tolist())))
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"incomplete: {written} of 5 sessions predicted, not scored" in out
    assert "run the same command again" in out
    test_set = ResponseTestSet.from_corpus(corpus, 3)
    (evaluation,) = evaluate_folder(tmp_path, corpus, response_test_set=test_set)
    assert evaluation.coverage == (written, 5) and not evaluation.complete
    table = score_table(evaluations_frame([evaluation], "score"))
    row = table.iloc[-1]
    assert np.isnan(row["ACC"]) and np.isnan(row["Parsed %"])
    assert f"INCOMPLETE: {written} of 5 predicted" in row["Source"]
