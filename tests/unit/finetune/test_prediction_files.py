"""Predictions files at the edges (issue 21): resuming past line separators inside a response, a
malformed header, ids that only look like digits; one line naming file, line and field."""

from __future__ import annotations

import json

import pytest

from kokoro_analysis.cli import main
from kokoro_analysis.finetune.prediction_files import (
    PredictionsError,
    PredictionsWriter,
    read_predictions,
)

META = {
    "task": "generation",
    "model": "m",
    "contexts": {"set": "test_contexts", "limit": 2, "seed": 0, "count": 2, "ids_sha256": "x"},
}


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_a_response_with_a_line_separator_resumes(tmp_path, separator):
    path = tmp_path / "p.jsonl"
    with PredictionsWriter(path, META, must_match=("task", "model")) as writer:
        writer.write({"id": "1-2", "response": f"はい{separator}そうです"})
    with PredictionsWriter(path, META, must_match=("task", "model")) as writer:
        assert writer.done == {"1-2"} and not writer.repaired
        writer.write({"id": "1-4", "response": "ええ"})
    assert read_predictions(path).values == {"1-2": f"はい{separator}そうです", "1-4": "ええ"}


@pytest.mark.parametrize(
    "contexts, field",
    [
        ({}, "contexts.set"),
        ("all", "contexts"),
        ({**META["contexts"], "set": "everything"}, "contexts.set"),
        ({**META["contexts"], "limit": 0}, "contexts.limit"),
        ({**META["contexts"], "seed": "0"}, "contexts.seed"),
        ({**META["contexts"], "count": -1}, "contexts.count"),
    ],
)
def test_a_malformed_header_is_named_by_file_line_and_field(
    tmp_path, synthetic_dir, capsys, contexts, field
):
    path = tmp_path / "p.jsonl"
    header = {"meta": {**META, "contexts": contexts}}
    path.write_text(json.dumps(header) + '\n{"id": "1-2", "response": "はい"}\n', encoding="utf-8")
    with pytest.raises(PredictionsError, match=rf'p\.jsonl:1: header field "{field}" must be'):
        read_predictions(path)
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and f'p.jsonl:1: header field "{field}"' in err


def test_an_id_of_digits_that_are_not_ascii_is_named(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": 5, "items": null, "error": "x"}\n{"id": "²", "items": null}\n')
    with pytest.raises(PredictionsError, match=r"p\.jsonl:2: id must be a dialogue id"):
        read_predictions(path)


@pytest.mark.parametrize("where", ["folder", "under-file"])
def test_an_out_that_is_a_folder_or_under_a_file_is_refused(tmp_path, where):
    blocker = tmp_path / "x"
    if where == "folder":
        blocker.mkdir()
        out, expected = blocker, "is not a file"
    else:
        blocker.write_text("mine")
        out, expected = blocker / "p.jsonl", "is a file"
    with pytest.raises(PredictionsError, match=expected):
        PredictionsWriter(out, META, must_match=("task",))
    assert blocker.is_dir() or blocker.read_text() == "mine"


def test_finetune_into_an_existing_file_is_one_line(tmp_path, synthetic_dir, capsys):
    out = tmp_path / "adapter"
    out.write_text("mine")
    args = ["finetune", "--data", str(synthetic_dir), "--out", str(out), "--quantize", "none"]
    assert main([*args, "--base-model", str(tmp_path / "no-model")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"{out} is a file" in err
    assert out.read_text() == "mine"


def test_constant_score_predictions_say_why_rho_is_blank_and_keep_one_mae_precision(
    tmp_path, synthetic_dir, capsys
):
    out = tmp_path / "export"
    assert main(["export-sft", "--data", str(synthetic_dir), "--out", str(out)]) == 0
    lines = (out / "score_prediction_test.jsonl").read_text(encoding="utf-8").splitlines()
    ids = [json.loads(line)["id"] for line in lines]
    path = out / "constant.jsonl"
    path.write_text("".join(json.dumps({"id": i, "items": [3] * 20}) + "\n" for i in ids))
    capsys.readouterr()
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(path)]) == 0
    printed = capsys.readouterr().out
    assert (
        "Spearman ρ is blank: undefined, as every scored session has the same predicted item sum (60)"
        in printed
    )
    row_mae = next(line for line in printed.splitlines() if line.startswith("| constant |"))
    pooled_mae = next(line for line in printed.splitlines() if line.startswith("| model |"))
    assert row_mae.split("|")[4].strip() == pooled_mae.split("|")[4].strip()
