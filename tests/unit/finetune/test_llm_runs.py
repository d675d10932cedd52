"""The model commands end to end on the CPU with the smoke model (needs the llm extra; nothing is
downloaded): smoke-model -> finetune 2 steps for each task -> generate / predict-scores with the
adapter on a few contexts -> evaluate -> notebook 04 rows; resume after an interrupted generate;
unparseable score answers counted; one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")
pytest.importorskip("trl")

from kokoro_analysis.cli import main
from kokoro_analysis.finetune import generation
from kokoro_analysis.finetune.export import FILES
from kokoro_analysis.finetune.prediction_files import read_predictions

pytestmark = pytest.mark.llm
GENERATE = ["--limit", "5", "--batch-size", "2", "--max-new-tokens", "8", "--quiet"]


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def run(*argv: str) -> None:
    assert main(list(argv)) == 0, argv


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, synthetic_dir):
    """The whole pipeline once: folders of the smoke model, both adapters and both predictions files."""
    root = tmp_path_factory.mktemp("llm")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("KOKORO_ANALYSIS_CACHE", str(root / "cache"))
        data = ["--data", str(synthetic_dir)]
        run("smoke-model", "--out", str(root / "smoke"))
        for task, subset, limit in (("generation", "high", "8"), ("score", "full", "4")):
            run(
                "finetune", *data, "--base-model", str(root / "smoke"), "--task", task,
                "--subset", subset, "--out", str(root / f"adapter-{task}"), "--max-steps", "2",
                "--limit", limit, "--logging-steps", "1",
                *(["--global-batch", "4"] if task == "score" else []),
            )  # fmt: skip
        predictions = root / "predictions"
        run(
            "generate", *data, "--model", str(root / "smoke"), "--adapter",
            str(root / "adapter-generation"), "--out", str(predictions / "gen.jsonl"), *GENERATE,
        )  # fmt: skip
        run(
            "predict-scores", *data, "--model", str(root / "smoke"), "--adapter",
            str(root / "adapter-score"), "--out", str(predictions / "scores.jsonl"), "--limit", "3",
            "--max-new-tokens", "24", "--quiet",
        )  # fmt: skip
        yield root


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_smoke_model_is_built_locally_and_never_overwritten(pipeline, capsys):
    folder = pipeline / "smoke"
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert config["num_hidden_layers"] == 2 and config["hidden_size"] == 32
    assert "{%- generation %}" in (folder / "chat_template.jinja").read_text(encoding="utf-8")
    assert main(["smoke-model", "--out", str(folder)]) == 1
    assert "exists and is not empty" in capsys.readouterr().err


@pytest.mark.parametrize("task", ["generation", "score"])
def test_finetune_writes_adapter_and_manifest_with_the_paper_recipe(pipeline, task):
    limit = {"generation": 8, "score": 4}[task]
    out = pipeline / f"adapter-{task}"
    manifest = json.loads((out / "finetune_manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "complete" and manifest["training"]["steps"] == 2
    recipe = manifest["recipe"]
    assert (recipe["lora_rank"], recipe["lora_alpha"], recipe["lora_dropout"]) == (8, 16, 0.05)
    assert (recipe["learning_rate"], recipe["max_length"], recipe["epochs"]) == (1e-3, 4096, 1.0)
    effective = manifest["effective"]
    if task == "generation":  # the defaults: the recipe's global batch 16 on one process
        assert (recipe["per_device_batch_size"], recipe["global_batch_size"]) == (1, 16)
        assert (effective["gradient_accumulation_steps"], effective["processes"]) == (16, 1)
    else:  # --global-batch 4
        assert (effective["gradient_accumulation_steps"], effective["global_batch_size"]) == (4, 4)
    assert recipe["quantize"] == "4bit" and effective["quantize"] == "none"  # CPU
    assert effective["dtype"] == "float32"  # CPU; CUDA: bfloat16 where supported, else float16
    assert [point["step"] for point in manifest["training"]["loss_curve"]] == [1, 2]
    data = manifest["data"]
    assert data["examples"] + data["examples_dropped_target_too_long"] == int(limit)
    assert not (out / "data").exists()  # no copy of the data in the adapter folder
    export_dir = Path(manifest["data"]["export"])
    assert export_dir.is_relative_to(pipeline / "cache")
    export = json.loads((export_dir / FILES["manifest"]).read_text(encoding="utf-8"))
    train_file = FILES["train"] if task == "generation" else FILES["score_train"]
    assert manifest["data"]["train_sha256"] == export["files"][train_file]["sha256"]
    assert manifest["versions"]["trl"] and manifest["versions"]["torch"]
    adapter = json.loads((out / "adapter_config.json").read_text(encoding="utf-8"))
    assert adapter["r"] == 8 and set(adapter["target_modules"]) >= {"q_proj", "down_proj"}
    assert (out / "adapter_model.safetensors").is_file()


def test_finetune_refuses_a_folder_with_other_settings(pipeline, synthetic_dir, capsys):
    argv = ["finetune", "--data", str(synthetic_dir), "--base-model", str(pipeline / "smoke")]
    out = str(pipeline / "adapter-generation")
    assert main([*argv, "--subset", "low", "--out", out, "--max-steps", "2", "--limit", "8"]) == 1
    assert "other settings (subset" in capsys.readouterr().err


def test_finetune_resumes_from_its_last_checkpoint(pipeline, synthetic_dir, capsys):
    out = pipeline / "adapter-resumed"
    argv = ["finetune", "--data", str(synthetic_dir), "--base-model", str(pipeline / "smoke"),
            "--task", "score", "--subset", "full", "--out", str(out), "--limit", "4",
            "--save-steps", "1", "--quantize", "none", "--global-batch", "2"]  # fmt: skip
    run(*argv, "--max-steps", "1")
    assert (out / "checkpoints" / "checkpoint-1").is_dir()
    capsys.readouterr()
    run(*argv, "--max-steps", "2")
    assert "resumed from" in capsys.readouterr().out
    manifest = json.loads((out / "finetune_manifest.json").read_text(encoding="utf-8"))
    assert manifest["training"]["steps"] == 2 and manifest["resumed_from"].endswith("checkpoint-1")
    assert main([*argv, "--max-steps", "2"]) == 1
    assert "already holds a finished adapter" in capsys.readouterr().err


def test_generate_records_model_settings_and_covered_contexts(pipeline, synthetic_dir, capsys):
    path = pipeline / "predictions" / "gen.jsonl"
    header, *records = lines(path)
    meta = header["meta"]
    assert meta["model"].endswith("smoke") and meta["adapter"]["subset"] == "high"
    assert meta["decoding"] == {
        "max_new_tokens": 8,
        "min_new_tokens": 1,
        "strategy": "greedy",
        "max_length": 4096,
    }
    assert meta["contexts"]["count"] == 5 and meta["contexts"]["limit"] == 5
    assert meta["versions"]["transformers"] and meta["device"] == "cpu"
    assert len(records) == 5 and len({r["id"] for r in records}) == 5
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(path)]) == 0
    out = capsys.readouterr().out
    assert "5 test contexts (seeded sample" in out and "scored exactly the 5 contexts" in out


def test_generate_resumes_after_an_interruption(pipeline, synthetic_dir, monkeypatch, capsys):
    path = pipeline / "predictions-resume" / "gen.jsonl"
    argv = ["generate", "--data", str(synthetic_dir), "--model", str(pipeline / "smoke"), "--adapter",
            str(pipeline / "adapter-generation"), "--out", str(path), *GENERATE]  # fmt: skip
    real, calls = generation.generate_batch, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(generation, "generate_batch", interrupted)
    assert main(argv) == 130
    assert len(lines(path)) == 3  # header + the first batch of 2
    with open(path, "ab") as handle:
        handle.write('{"id": "99-1", "response": "途中'.encode())  # torn by a crash
    monkeypatch.setattr(generation, "generate_batch", real)
    capsys.readouterr()
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "3 responses written, 2 already there (resumed) of 5" in out
    assert "truncated last line was cut off" in out
    ids = [r["id"] for r in lines(path)[1:]]
    assert len(ids) == 5 and len(set(ids)) == 5 and "99-1" not in ids
    expected = {r["id"] for r in lines(pipeline / "predictions" / "gen.jsonl")[1:]}
    assert set(ids) == expected
    other = [*argv[:-5], "--max-new-tokens", "9", "--quiet"]
    assert main(other) == 1
    assert "other settings (decoding differ)" in capsys.readouterr().err


def test_predict_scores_counts_answers_it_cannot_parse(pipeline, synthetic_dir, capsys):
    path = pipeline / "predictions" / "scores.jsonl"
    predictions = read_predictions(path)
    assert predictions.meta["contexts"]["set"] == "held_out"
    assert len(predictions.values) + len(predictions.unparsed) == 3
    for record in lines(path)[1:]:
        assert isinstance(record["answer"], str)
        assert (record["items"] is None) == ("error" in record)
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(path)]) == 0
    out = capsys.readouterr().out
    if predictions.unparsed:  # the random smoke model rarely writes 20 integers
        assert f"{len(predictions.unparsed)} of 3 answers unparseable" in out


def test_a_model_that_is_not_available_offline_is_one_line(pipeline, synthetic_dir, capsys):
    out = pipeline / "none.jsonl"
    argv = ["generate", "--data", str(synthetic_dir), "--model", "nobody/no-such-model", "--out",
            str(out), "--limit", "1", "--quiet"]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert "hf download nobody/no-such-model" in err[-1]
    assert not out.exists()  # the file is created only once the model has loaded
    adapter = [*argv[:4], str(pipeline / "smoke"), "--adapter", "nobody/no-such-adapter", *argv[5:]]
    assert main(adapter) == 1
    assert "LoRA adapter 'nobody/no-such-adapter'" in capsys.readouterr().err
    assert not out.exists()


def test_examples_fit_max_length_by_the_real_tokenizer(pipeline):
    """Training: every example fits --max-length in chat-template tokens with its target whole;
    inference cuts a prompt by the same rule into max_length - max_new_tokens."""
    from kokoro_analysis.finetune.generation import Decoding, prompt_fitter
    from kokoro_analysis.finetune.models import load_tokenizer
    from kokoro_analysis.finetune.prompts import chat_length
    from kokoro_analysis.finetune.training import Recipe, prompt_completion, training_dataset

    tokenizer = load_tokenizer(str(pipeline / "smoke"), padding_side="right")
    manifest = json.loads(
        (pipeline / "adapter-generation" / "finetune_manifest.json").read_text(encoding="utf-8")
    )
    export = Path(manifest["data"]["export"])
    recipe = Recipe(subset="high", limit=8, max_length=300)
    dataset, counts = training_dataset(export, recipe, tokenizer)
    originals = [
        prompt_completion(json.loads(line)["messages"])
        for line in (export / FILES["train"]).read_text(encoding="utf-8").splitlines()
    ]
    targets = {o["completion"][0]["content"].strip() for o in originals}
    assert counts["cut"] > 0 and counts["examples"] + counts["dropped_too_long"] == 8
    assert dataset.column_names == ["input_ids", "completion_mask"]  # TRL takes it as it is
    for example in dataset:
        ids, mask = example["input_ids"], example["completion_mask"]
        assert len(ids) == len(mask) <= 300 and ids[0] == tokenizer.bos_token_id
        start = mask.index(1)
        assert set(mask[start:]) == {1}
        target = tokenizer.decode(ids[start:], skip_special_tokens=True).strip()
        assert target in targets  # the target whole, and only the target
        assert ids[-1] == tokenizer.convert_tokens_to_ids("<|eot_id|>")
    # two worker processes give the same dataset in the same order; a repeat reads the cache
    parallel, parallel_counts = training_dataset(export, recipe, tokenizer, workers=2)
    assert parallel_counts == counts and parallel.to_list() == dataset.to_list()
    again, _ = training_dataset(export, recipe, tokenizer)
    assert {f["filename"] for f in again.cache_files} == {
        f["filename"] for f in dataset.cache_files
    }
    decoding = Decoding(max_new_tokens=50, max_length=250)
    fit = prompt_fitter(tokenizer, decoding)
    longest = max(originals, key=lambda o: len(o["prompt"]))["prompt"]
    fitted, cut = fit(longest)
    assert cut and chat_length(tokenizer, fitted, generation_prompt=True) <= 200
    assert fitted[-1] == longest[-1] and fitted[0] == longest[0]


@pytest.mark.notebook
def test_notebook_04_shows_the_model_rows(pipeline, synthetic_dir, run_notebook, tmp_path):
    import pandas as pd

    folder = tmp_path / "predictions"
    shutil.copytree(pipeline / "predictions", folder)
    out = run_notebook(
        "04_finetuning_results", data_dir=str(synthetic_dir), predictions_dir=str(folder)
    )
    generation_table = pd.read_csv(out / "tables" / "finetuning_generation.csv").set_index("Model")
    row = generation_table.loc["smoke + LoRA (generation, high)"]
    assert "predictions/gen.jsonl; greedy, max 8 new tokens" in row["Source"]
    assert "test contexts: 5, seed 0" in row["Source"]
    scores = pd.read_csv(out / "tables" / "finetuning_score_prediction.csv").set_index("Model")
    score_row = scores.loc["smoke + LoRA (score, full)"]
    assert "held-out split (3 sessions, seeded sample" in score_row["Test set"]
    assert "held-out sessions: 3, seed 0" in score_row["Source"]


def test_out_of_memory_and_a_missing_gpu_are_one_line_errors(capsys):
    import torch

    from kokoro_analysis.finetune.models import LLMError, memory_guard, resolve_device

    expected = r"out of GPU memory at batch size 8.*--batch-size 4"
    with pytest.raises(LLMError, match=expected), memory_guard(8):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    if not torch.cuda.is_available():
        with pytest.raises(LLMError, match="no CUDA GPU is visible"):
            resolve_device("cuda")
        assert resolve_device("auto") == "cpu"
        assert "no CUDA GPU: running on the CPU" in capsys.readouterr().err


def test_two_processes_with_the_same_global_batch_follow_the_same_loss_curve(
    pipeline, synthetic_dir, tmp_path
):
    """DDP through ``accelerate launch`` (two CPU processes, gloo): each process trains on half of
    every global batch of 4 (accumulation 2 instead of 4); the loss curve is one process's."""
    import os
    import subprocess
    import sys

    argv = ["finetune", "--data", str(synthetic_dir), "--base-model", str(pipeline / "smoke"),
            "--subset", "high", "--limit", "12", "--max-steps", "3", "--global-batch", "4",
            "--learning-rate", "0.05", "--lora-dropout", "0", "--logging-steps", "1",
            "--device", "cpu", "--quantize", "none"]  # fmt: skip
    run(*argv, "--out", str(tmp_path / "one"))
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
              "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
              "--dynamo_backend", "no", "-m", "kokoro_analysis.cli"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [*launch, *argv, "--out", str(tmp_path / "two")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("adapter written") == 1  # the main process reports
    one, two = (
        json.loads((tmp_path / name / "finetune_manifest.json").read_text(encoding="utf-8"))
        for name in ("one", "two")
    )
    assert (one["effective"]["processes"], one["effective"]["gradient_accumulation_steps"]) == (
        1,
        4,
    )
    assert (two["effective"]["processes"], two["effective"]["gradient_accumulation_steps"]) == (
        2,
        2,
    )
    curve_one = [point["loss"] for point in one["training"]["loss_curve"]]
    curve_two = [point["loss"] for point in two["training"]["loss_curve"]]
    assert len(curve_one) == len(curve_two) == 3
    assert curve_one[0] != pytest.approx(curve_one[-1], abs=1e-3)  # the curve moves
    assert curve_two == pytest.approx(curve_one, abs=2e-3)


def test_reproduce_models_runs_every_model_once_and_refuses_the_cpu_without_a_limit(
    pipeline, synthetic_dir, tmp_path, monkeypatch, capsys
):
    from kokoro_analysis.finetune import released

    smoke = str(pipeline / "smoke")
    monkeypatch.setattr(
        released,
        "RELEASED",
        (
            released.ReleasedModel("smoke-gen", smoke, "generation"),
            released.ReleasedModel("smoke-score", smoke, "score"),
        ),
    )
    argv = ["reproduce-models", "--data", str(synthetic_dir), "--predictions-dir",
            str(tmp_path), "--device", "cpu", "--quiet"]  # fmt: skip
    assert main(argv) == 1
    assert "give --limit N" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
    run(*argv, "--limit", "2")
    out = capsys.readouterr().out
    assert "smoke-gen: 2 written" in out and "smoke-score: 2 written" in out
    assert read_predictions(tmp_path / "smoke-gen.jsonl").meta["contexts"]["count"] == 2
    run(*argv, "--limit", "2")  # finished files are kept; no model is loaded
    assert "0 written, 2 already there" in capsys.readouterr().out
