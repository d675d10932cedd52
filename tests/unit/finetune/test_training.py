"""The fine-tuning recipe and its data shaping, without a model: the paper's defaults, one
prompt-completion example per export line (loss on the target only), and cutting over-long contexts
from the oldest turn without touching the system prompt or the target."""

from __future__ import annotations

import pytest

from kokoro_analysis.finetune.models import LLMError
from kokoro_analysis.finetune.prompts import Cut, TooLong, fit_to_length
from kokoro_analysis.finetune.training import BASE_MODEL, Recipe, prompt_completion


def test_recipe_defaults_are_the_papers_settings():
    recipe = Recipe()
    assert recipe.base_model == BASE_MODEL == "tokyotech-llm/Llama-3.1-Swallow-8B-Instruct-v0.3"
    assert (recipe.quantize, recipe.lora_rank, recipe.lora_alpha, recipe.lora_dropout) == (
        "4bit",
        8,
        16,
        0.05,
    )
    assert (recipe.epochs, recipe.learning_rate, recipe.max_length) == (1.0, 1e-3, 4096)
    assert (recipe.per_device_batch_size, recipe.global_batch_size) == (1, 16)
    assert {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"} == set(
        recipe.target_modules
    )
    assert recipe.as_dict()["target_modules"] == list(recipe.target_modules)
    with pytest.raises(LLMError, match="subset must be one of low, high, full"):
        Recipe(subset="test").check()
    with pytest.raises(LLMError, match="task must be one of"):
        Recipe(task="chat").check()


def test_an_export_line_becomes_prompt_and_completion_without_weights():
    messages = [
        {"role": "system", "content": "S"},
        {"role": "assistant", "content": "opening", "weight": 0},
        {"role": "user", "content": "client"},
        {"role": "assistant", "content": "target", "weight": 1},
    ]
    example = prompt_completion(messages)
    assert example["completion"] == [{"role": "assistant", "content": "target"}]
    assert [m["content"] for m in example["prompt"]] == ["S", "opening", "client"]
    assert all("weight" not in m for m in example["prompt"])


def count_characters(text: str) -> int:
    return len(text)


def rendered_length(messages: list[dict]) -> int:
    """A stand-in chat template: 3 tokens of header per message, one per character."""
    return sum(3 + len(m["content"]) for m in messages)


def message_size(message: dict) -> int:
    return rendered_length([message])


def test_long_contexts_lose_their_oldest_turns_first_and_fit_exactly():
    prompt = [{"role": "system", "content": "s" * 10}] + [
        {"role": "user" if i % 2 else "assistant", "content": str(i) * 20} for i in range(6)
    ]
    completion = [{"role": "assistant", "content": "t" * 20}]
    budget = 13 + 3 * 23  # system + 2 turns + completion
    cut, how = fit_to_length(
        prompt, completion, budget, rendered_length, message_size, count_characters
    )
    assert how == Cut(messages=4) and how
    assert [m["content"][0] for m in cut] == ["s", "4", "5"]
    assert rendered_length(cut + completion) <= budget
    same, how = fit_to_length(
        prompt, completion, 10_000, rendered_length, message_size, count_characters
    )
    assert not how and same == prompt


def test_the_estimate_is_corrected_by_the_exact_length():
    """A template that is not additive (here ``size`` says half): too few turns go by the sizes,
    the exact length then drops more one at a time, and no turn more than needed."""
    prompt = [{"role": "system", "content": "s"}] + [
        {"role": "user", "content": str(i) * 20} for i in range(6)
    ]
    completion = [{"role": "assistant", "content": "t"}]
    budget = 4 + 4 + 2 * 23
    cut, how = fit_to_length(
        prompt, completion, budget, rendered_length, lambda m: len(m["content"]) // 2, len
    )
    assert rendered_length(cut + completion) <= budget and how.messages == 4
    assert [m["content"][0] for m in cut] == ["s", "4", "5"]


def test_a_single_long_transcript_loses_its_first_lines():
    transcript = "\n".join(f"line{i:02d}" for i in range(10))  # 10 lines of 6 characters
    prompt = [{"role": "system", "content": "s"}, {"role": "user", "content": transcript}]
    completion = [{"role": "assistant", "content": "[5]"}]
    budget = 4 + 6 + 3 + 30
    cut, how = fit_to_length(
        prompt, completion, budget, rendered_length, message_size, count_characters
    )
    kept = cut[1]["content"].split("\n")
    assert how.lines == 10 - len(kept) and how.messages == 0
    assert kept[-1] == "line09" and kept == transcript.split("\n")[-len(kept) :]
    assert rendered_length(cut + completion) <= budget


def test_a_target_longer_than_the_budget_is_never_cut():
    prompt = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    with pytest.raises(TooLong):
        fit_to_length(
            prompt,
            [{"role": "assistant", "content": "t" * 50}],
            20,
            rendered_length,
            message_size,
            len,
        )


def test_the_global_batch_sets_the_accumulation_from_the_processes():
    recipe = Recipe()
    assert recipe.global_batch_size == 16 and recipe.gradient_accumulation_steps is None
    assert recipe.batch_plan(1) == {
        "per_device_batch_size": 1,
        "gradient_accumulation_steps": 16,
        "processes": 1,
        "global_batch_size": 16,
    }
    assert recipe.batch_plan(8)["gradient_accumulation_steps"] == 2  # the recipe's 8 GPUs
    assert Recipe(per_device_batch_size=4).batch_plan(2)["gradient_accumulation_steps"] == 2
    with pytest.raises(LLMError, match="not a multiple of per-device batch 3"):
        Recipe(per_device_batch_size=3).batch_plan(1)
    fixed = Recipe(global_batch_size=None, gradient_accumulation_steps=2)
    assert fixed.batch_plan(8)["global_batch_size"] == 16
    assert fixed.batch_plan(1)["global_batch_size"] == 2
    with pytest.raises(LLMError, match="exactly one of --global-batch and --grad-accum"):
        Recipe(gradient_accumulation_steps=2).check()
    with pytest.raises(LLMError, match="LoRA rank must be at least 1"):
        Recipe(lora_rank=0).check()


def test_finetune_flags_default_to_the_recipe_and_reach_it(monkeypatch):
    """Every recipe flag's default is the Recipe default, and each flag sets its field."""
    from kokoro_analysis import cli
    from kokoro_analysis.finetune import training

    captured = {}

    def fake_finetune(corpus, recipe, out, device):
        captured["recipe"] = recipe
        raise LLMError("stop here")

    monkeypatch.setattr(training, "finetune", fake_finetune)
    monkeypatch.setattr(cli, "load_corpus", lambda data: None)
    assert cli.main(["finetune", "--out", "x"]) == 1
    assert captured["recipe"] == Recipe()
    argv = ["finetune", "--out", "x", "--per-device-batch", "2", "--grad-accum", "4",
            "--learning-rate", "2e-4", "--lr-scheduler", "cosine", "--warmup-ratio", "0.03",
            "--epochs", "2", "--max-length", "2048", "--lora-r", "16", "--lora-alpha", "32",
            "--lora-dropout", "0.1", "--lora-targets", "q_proj, v_proj"]  # fmt: skip
    assert cli.main(argv) == 1
    recipe = captured["recipe"]
    assert recipe.batch_plan(1) == {
        "per_device_batch_size": 2,
        "gradient_accumulation_steps": 4,
        "processes": 1,
        "global_batch_size": 8,
    }
    assert (recipe.learning_rate, recipe.lr_scheduler, recipe.warmup_ratio, recipe.epochs) == (
        2e-4,
        "cosine",
        0.03,
        2.0,
    )
    assert (recipe.max_length, recipe.lora_rank, recipe.lora_alpha, recipe.lora_dropout) == (
        2048,
        16,
        32,
        0.1,
    )
    assert recipe.target_modules == ("q_proj", "v_proj")


def test_4bit_on_cuda_without_bitsandbytes_is_an_error_naming_the_install(monkeypatch):
    import importlib.util

    from kokoro_analysis.finetune import models

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "bitsandbytes" else real(name)
    )
    with pytest.raises(LLMError, match="pip install bitsandbytes"):
        models.effective_quantization("4bit", "cuda")
    assert models.effective_quantization("none", "cuda") == "none"


def test_an_adapter_is_a_local_folder_or_a_hub_id(tmp_path):
    from kokoro_analysis.finetune.models import adapter_source

    assert adapter_source("UEC-InabaLab/some-adapter") == "UEC-InabaLab/some-adapter"
    (tmp_path / "adapter_config.json").write_text("{}", encoding="utf-8")
    assert adapter_source(tmp_path) == str(tmp_path.resolve())
    for not_an_adapter in (tmp_path.parent, "./missing/folder", "missing"):
        with pytest.raises(LLMError, match="not a LoRA adapter folder"):
            adapter_source(not_an_adapter)
