"""The fine-tuning recipe and its data shaping, without a model: the paper's defaults, one
prompt-completion example per export line (loss on the target only), and cutting over-long contexts
from the oldest turn without touching the system prompt or the target."""

from __future__ import annotations

import pytest

from kokoro_analysis.finetune.models import LLMError
from kokoro_analysis.finetune.training import (
    BASE_MODEL,
    MESSAGE_OVERHEAD_TOKENS,
    Recipe,
    fit_to_length,
    prompt_completion,
)


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
    assert (recipe.per_device_batch_size, recipe.gradient_accumulation_steps) == (1, 2)
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


def test_long_contexts_lose_their_oldest_turns_first():
    prompt = [{"role": "system", "content": "s" * 10}] + [
        {"role": "user" if i % 2 else "assistant", "content": str(i) * 20} for i in range(6)
    ]
    example = {"prompt": prompt, "completion": [{"role": "assistant", "content": "t" * 20}]}
    per_message = 20 + MESSAGE_OVERHEAD_TOKENS
    budget = 10 + MESSAGE_OVERHEAD_TOKENS + 3 * per_message  # system + 2 turns + completion
    cut, was_cut = fit_to_length(example, count_characters, budget)
    assert was_cut
    assert [m["content"][0] for m in cut["prompt"]] == ["s", "4", "5"]
    assert cut["completion"] == example["completion"]
    same, was_cut = fit_to_length(example, count_characters, 10_000)
    assert not was_cut and same == example


def test_a_single_long_transcript_loses_its_first_lines():
    transcript = "\n".join(f"line{i:02d}" for i in range(10))  # 10 lines of 6 characters
    example = {
        "prompt": [{"role": "system", "content": "s"}, {"role": "user", "content": transcript}],
        "completion": [{"role": "assistant", "content": "[5]"}],
    }
    budget = 1 + 3 + 3 * MESSAGE_OVERHEAD_TOKENS + 30
    cut, was_cut = fit_to_length(example, count_characters, budget)
    assert was_cut
    kept = cut["prompt"][1]["content"].split("\n")
    assert kept[-1] == "line09" and len(kept) < 10 and kept == transcript.split("\n")[-len(kept) :]
