"""What every generation engine shares, without a model: prompts in longest-first batches, each cut
by the training length rule, one line per prompt (with ``prompt_cut`` when cut), the file created
only once the engine has loaded, resumed runs skipping what is done; and a clean error when vLLM is
missing."""

from __future__ import annotations

import importlib.util
import json

import pytest

from kokoro_analysis.finetune import generation
from kokoro_analysis.finetune.generation import Decoding, run_prompts
from kokoro_analysis.finetune.models import LLMError
from kokoro_analysis.finetune.prediction_files import PredictionsWriter
from kokoro_analysis.finetune.prompts import batches, longest_first


class CharacterTokenizer:
    """One token per character; a chat template of 3 tokens per message (+2 for the answer header)."""

    def apply_chat_template(self, messages, *, tokenize, add_generation_prompt, return_dict):
        size = sum(3 + len(m["content"]) for m in messages) + (2 if add_generation_prompt else 0)
        return {"input_ids": list(range(size))}

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": list(range(len(text)))}


def conversation(*turns: str) -> list[dict]:
    return [{"role": "system", "content": "s"}] + [
        {"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(turns)
    ]


@pytest.fixture
def stub_engine(monkeypatch, tmp_path):
    batches_seen: list[list[list[dict]]] = []

    class StubEngine:
        def __init__(self, model_name, adapter, *, device, quantize, decoding):
            assert not (tmp_path / "out.jsonl").exists()  # nothing written before the load
            self.decoding = decoding

        def generate(self, tokenizer, conversations):
            batches_seen.append(conversations)
            return [f"reply to {c[-1]['content'][:3]}" for c in conversations]

    monkeypatch.setitem(generation.ENGINES, "stub", StubEngine)
    monkeypatch.setattr(generation, "load_tokenizer", lambda name: CharacterTokenizer())
    return batches_seen


def run_stub(prompts: dict, writer: PredictionsWriter, decoding: Decoding) -> int:
    return run_prompts(
        prompts,
        writer,
        lambda key, text: {"id": key, "response": text},
        model_name="m",
        adapter=None,
        device="cpu",
        quantize="none",
        decoding=decoding,
        batch_size=2,
        engine="stub",
        progress=False,
    )


def test_prompts_go_longest_first_in_batches_cut_by_the_training_rule(stub_engine, tmp_path):
    prompts = {
        "a": conversation("short"),
        "b": conversation("x" * 30, "y" * 30, "zzz last"),  # 3+1 + 3*3+68 + 2 = 83 tokens
        "c": conversation("medium length"),
    }
    path = tmp_path / "out.jsonl"
    writer = PredictionsWriter(path, {"task": "generation"}, must_match=("task",))
    decoding = Decoding(max_new_tokens=10, max_length=70)  # prompts get 60 tokens
    with writer:
        written = run_stub(prompts, writer, decoding)
    assert written == 3
    assert [len(batch) for batch in stub_engine] == [2, 1]
    first = stub_engine[0][0]  # "b" (83 tokens), cut: its oldest turn dropped (50 tokens)
    assert [m["content"] for m in first] == ["s", "y" * 30, "zzz last"]
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines[0] == {"meta": {"task": "generation"}}
    assert [r["id"] for r in lines[1:]] == ["b", "c", "a"]
    assert lines[1]["prompt_cut"] == {"messages": 1, "lines": 0}
    assert "prompt_cut" not in lines[2]

    with PredictionsWriter(path, {"task": "generation"}, must_match=("task",)) as again:
        assert run_stub(prompts, again, decoding) == 0


def test_batching_helpers():
    prompts = {k: conversation("x" * n) for k, n in (("a", 1), ("b", 5), ("c", 3), ("d", 5))}
    assert longest_first(prompts, list(prompts)) == ["b", "d", "c", "a"]
    assert list(batches(["b", "d", "c", "a"], 3)) == [["b", "d", "c"], ["a"]]
    with pytest.raises(ValueError, match="batch size must be at least 1"):
        list(batches(["a"], 0))


def test_vllm_missing_is_one_clean_error(monkeypatch, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "vllm" else real(name)
    )
    with pytest.raises(
        LLMError, match=r'needs vLLM, which is not installed: pip install -e "\.\[vllm\]"'
    ):
        generation.run_task(
            "generation",
            None,
            {},
            {},
            tmp_path / "out.jsonl",
            lambda key, text: {},
            model="m",
            system_prompt="s",
            run=generation.RunOptions(batch_size=1, device="cpu", progress=False, engine="vllm"),
        )
    assert not (tmp_path / "out.jsonl").exists()
