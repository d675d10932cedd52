"""Response generation with a causal LM: the next counselor turn for each test context, written as a
predictions file that ``evaluate`` and notebook 04 read.

Prompt: the system prompt and context of ``export-sft``'s ``test.jsonl`` (``data.context_messages``),
rendered with the model's own chat template and a generation prompt. Decoding: greedy (the paper's
decoding is not published), at least 1 and at most ``max_new_tokens`` new tokens. Contexts are
batched longest first (left padding). The file starts with a header (model, adapter, decoding,
versions, covered contexts) and gets one line per context as soon as its batch is done, so an
interrupted run continues where it stopped (``predictions.PredictionsWriter``).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from tqdm.auto import tqdm

from kokoro_analysis.corpus.loading import Corpus
from kokoro_analysis.finetune.data import SYSTEM_PROMPT, context_messages, sample_test_contexts
from kokoro_analysis.finetune.export import corpus_content_hash
from kokoro_analysis.finetune.models import (
    LLMError,
    adapter_source,
    effective_quantization,
    library_versions,
    load_model,
    load_tokenizer,
    memory_guard,
    require_llm,
    resolve_device,
)
from kokoro_analysis.finetune.prediction_files import PredictionsWriter, ids_digest
from kokoro_analysis.finetune.prompts import (
    TooLong,
    batches,
    chat_length,
    fit_to_length,
    longest_first,
    message_sizer,
    text_counter,
)
from kokoro_analysis.finetune.training import MANIFEST

RESUME_KEYS = (
    "task",
    "model",
    "adapter",
    "decoding",
    "prompt",
    "contexts",
    "data_sha256",
    "quantize",
    "engine",
)
"""Header keys a resumed run must share with the file (batch size, device and versions may change)."""


@dataclass(frozen=True)
class Decoding:
    """Greedy decoding settings recorded in every predictions file."""

    max_new_tokens: int = 256
    min_new_tokens: int = 1
    strategy: str = "greedy"
    max_length: int = 4096
    """Prompt + new tokens fit this many tokens: a longer prompt is cut as in training
    (``prompts.fit_to_length``); the line records ``"prompt_cut"``."""


@dataclass(frozen=True)
class RunOptions:
    """How ``generate`` / ``predict-scores`` run a model (their shared options; the defaults are
    :data:`GENERATION_OPTIONS` and ``score_prediction.SCORE_OPTIONS``)."""

    adapter: str | os.PathLike | None = None
    """A ``finetune`` folder or a hub id (None: the base model alone)."""
    limit: int | None = None
    """A seeded sample of this many test contexts or sessions (None: all)."""
    seed: int = 0
    batch_size: int = 8
    max_new_tokens: int = 256
    max_length: int = 4096
    """Prompt + new tokens (:attr:`Decoding.max_length`)."""
    device: str = "auto"
    quantize: str = "none"
    engine: str = "hf"
    progress: bool = True

    @property
    def decoding(self) -> Decoding:
        return Decoding(max_new_tokens=self.max_new_tokens, max_length=self.max_length)


GENERATION_OPTIONS = RunOptions()
"""``generate``'s defaults: batches of 8, at most 256 new tokens."""


def covered_record(name: str, limit: int | None, seed: int, ids: Sequence) -> dict:
    """The header's ``contexts``: which test set (``name``), its sample and the ids' digest."""
    return {
        "set": name,
        "limit": limit,
        "seed": seed,
        "count": len(ids),
        "ids_sha256": ids_digest(ids),
    }


@dataclass
class RunSummary:
    """What a ``generate`` / ``predict-scores`` run did."""

    path: Path
    covered: int
    """Contexts (or sessions) the file covers."""
    already_done: int
    """Lines found in the file when the run started (resumed)."""
    written: int
    repaired: bool
    """A truncated last line was cut off (and its context generated again)."""
    device: str
    meta: dict


def adapter_record(adapter: str | os.PathLike | None) -> dict | None:
    """The adapter folder (absolute) or hub id (``{"hub_id": ...}``) and, when ``finetune`` wrote
    it, its task, subset, base model and data hash from the manifest."""
    if adapter is None:
        return None
    source = adapter_source(adapter)
    if not Path(source).is_dir():
        return {"hub_id": source}
    folder = Path(source)
    record: dict = {"path": str(folder)}
    manifest = folder / MANIFEST
    if manifest.is_file():
        info = json.loads(manifest.read_text(encoding="utf-8"))
        recipe = info.get("recipe", {})
        record.update(
            task=recipe.get("task"),
            subset=recipe.get("subset"),
            base_model=recipe.get("base_model"),
            train_sha256=info.get("data", {}).get("train_sha256"),
        )
    return record


def predictions_meta(
    task: str,
    *,
    model: str,
    adapter: str | os.PathLike | None,
    decoding: Decoding,
    system_prompt: str,
    contexts: dict,
    corpus: Corpus,
    quantize: str,
    device: str,
    batch_size: int,
    engine: str = "hf",
) -> dict:
    """The header of a predictions file (see ``predictions``; :data:`RESUME_KEYS` must not change)."""
    return {
        "task": task,
        "model": model,
        "adapter": adapter_record(adapter),
        "decoding": asdict(decoding),
        "prompt": {"system_prompt": system_prompt, "chat_template": "the model's (tokenizer)"},
        "contexts": contexts,
        "data_sha256": corpus_content_hash(corpus),
        "quantize": quantize,
        "engine": engine,
        "device": device,
        "batch_size": batch_size,
        "versions": library_versions(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def generate_batch(
    model, tokenizer, conversations: Sequence[list[dict]], decoding: Decoding
) -> list[str]:
    """Greedy continuations (decoded, special tokens dropped) of chat ``conversations`` with the
    model's chat template and a generation prompt."""
    import torch

    encoded = tokenizer.apply_chat_template(
        list(conversations),
        add_generation_prompt=True,
        return_tensors="pt",
        padding=True,
        return_dict=True,
    )
    encoded = {key: value.to(model.device) for key, value in encoded.items()}
    config = copy.deepcopy(model.generation_config)
    config.update(
        do_sample=False,
        temperature=None,
        top_p=None,
        top_k=None,
        max_new_tokens=decoding.max_new_tokens,
        min_new_tokens=decoding.min_new_tokens,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.inference_mode():
        output = model.generate(**encoded, generation_config=config)
    new_tokens = output[:, encoded["input_ids"].shape[1] :]
    return [text.strip() for text in tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]


class HFEngine:
    """Generation with transformers ``generate`` (:func:`generate_batch`): CPU or CUDA, LoRA through
    PEFT, 4-bit through bitsandbytes."""

    def __init__(self, model_name: str, adapter, *, device: str, quantize: str, decoding: Decoding):
        self.model = load_model(model_name, adapter=adapter, device=device, quantize=quantize)
        self.decoding = decoding

    def generate(self, tokenizer, conversations: Sequence[list[dict]]) -> list[str]:
        return generate_batch(self.model, tokenizer, conversations, self.decoding)


class VLLMEngine:
    """Generation with vLLM (``LLM.chat``, greedy ``SamplingParams``; the adapter as a
    ``LoRARequest``; 4-bit through vLLM's bitsandbytes loader). Needs a CUDA GPU and the ``vllm``
    extra; the prompts, their length rule and the batches are the ones the HF engine gets."""

    def __init__(self, model_name: str, adapter, *, device: str, quantize: str, decoding: Decoding):
        require_vllm()
        if device != "cuda":
            raise LLMError("--engine vllm needs a CUDA GPU; use --engine hf on the CPU")
        from vllm import LLM, SamplingParams
        from vllm.lora.request import LoRARequest

        source = adapter_source(adapter) if adapter else None
        self.llm = LLM(
            model=model_name,
            dtype="auto",
            max_model_len=decoding.max_length,
            quantization="bitsandbytes" if quantize == "4bit" else None,
            enable_lora=source is not None,
            max_lora_rank=_adapter_rank(source),
            seed=0,
        )
        self.params = SamplingParams(
            temperature=0.0,
            max_tokens=decoding.max_new_tokens,
            min_tokens=decoding.min_new_tokens,
            skip_special_tokens=True,
        )
        self.lora = LoRARequest("adapter", 1, source) if source else None

    def generate(self, tokenizer, conversations: Sequence[list[dict]]) -> list[str]:
        outputs = self.llm.chat(
            [list(c) for c in conversations], self.params, lora_request=self.lora, use_tqdm=False
        )
        return [output.outputs[0].text.strip() for output in outputs]


ENGINES = {"hf": HFEngine, "vllm": VLLMEngine}
"""``--engine``: transformers (default; CPU or GPU) or vLLM (GPU, batch throughput)."""
VLLM_INSTALL = 'pip install -e ".[vllm]" (vLLM, CUDA only)'


def require_vllm() -> None:
    """Raise :class:`LLMError` naming the install when vLLM is missing."""
    if importlib.util.find_spec("vllm") is None:
        raise LLMError(f"--engine vllm needs vLLM, which is not installed: {VLLM_INSTALL}")


def _adapter_rank(source: str | None) -> int:
    """The LoRA rank vLLM must allow: the adapter's ``r`` when its folder is local, else 16."""
    config = Path(source) / "adapter_config.json" if source else None
    if config is not None and config.is_file():
        return max(8, int(json.loads(config.read_text(encoding="utf-8")).get("r", 16)))
    return 16


def run_prompts(
    prompts: dict,
    writer: PredictionsWriter,
    to_record: Callable[[object, str], dict],
    *,
    model_name: str,
    adapter: str | os.PathLike | None,
    device: str,
    quantize: str,
    decoding: Decoding,
    batch_size: int,
    engine: str = "hf",
    progress: bool = True,
) -> int:
    """Generate for every prompt (id -> messages) whose id is not yet in ``writer``, longest first in
    batches of ``batch_size``, each prompt cut by :func:`prompt_fitter`, with the ``engine`` of
    :data:`ENGINES`; writes ``to_record(id, text)`` per prompt and returns the lines written. The
    model is loaded only when something is left to do, and the file is created only once it has
    loaded (a failed load leaves no file behind)."""
    pending = longest_first(prompts, [key for key in prompts if key not in writer.done])
    if not pending:
        return 0
    tokenizer = load_tokenizer(
        model_name if adapter is None else _tokenizer_source(model_name, adapter)
    )
    runner = ENGINES[engine](
        model_name, adapter, device=device, quantize=quantize, decoding=decoding
    )
    writer.begin()
    fit = prompt_fitter(tokenizer, decoding)
    written = 0
    with tqdm(total=len(pending), disable=not progress, unit="prompt") as bar:
        for keys in batches(pending, batch_size):
            fitted = {key: fit(prompts[key]) for key in keys}
            with memory_guard(batch_size):
                texts = runner.generate(tokenizer, [fitted[k][0] for k in keys])
            for key, text in zip(keys, texts):
                record = to_record(key, text)
                if fitted[key][1]:
                    record["prompt_cut"] = fitted[key][1].as_dict()
                writer.write(record)
                written += 1
            bar.update(len(keys))
    return written


def prompt_fitter(tokenizer, decoding: Decoding):
    """``messages -> (messages, Cut)``: the prompt with its generation header cut to
    ``max_length - max_new_tokens`` tokens (the training rule, ``prompts.fit_to_length``)."""
    budget = decoding.max_length - decoding.max_new_tokens
    if budget < 1:
        raise ValueError(
            f"--max-length {decoding.max_length} leaves no room for a prompt beside "
            f"--max-new-tokens {decoding.max_new_tokens}"
        )
    count, size = text_counter(tokenizer), message_sizer(tokenizer)

    def length(messages: list[dict]) -> int:
        return chat_length(tokenizer, messages, generation_prompt=True)

    def fit(messages: list[dict]):
        try:
            return fit_to_length(messages, [], budget, length, size, count)
        except TooLong as error:
            raise ValueError(f"a prompt cannot be fitted: {error}") from None

    return fit


def _tokenizer_source(model_name: str, adapter: str | os.PathLike) -> str:
    """The adapter folder when ``finetune`` saved the tokenizer there (same chat template), else the model."""
    folder = Path(adapter_source(adapter))
    return str(folder) if (folder / "tokenizer_config.json").is_file() else model_name


def generate_predictions(
    corpus: Corpus, model: str, out: str | os.PathLike, **options
) -> RunSummary:
    """Write (or continue) the generation predictions file ``out`` for the test contexts of ``corpus``
    (all, or a seeded sample of ``limit`` as ``export-sft --test-samples``). ``options``: the
    fields of :class:`RunOptions` (defaults :data:`GENERATION_OPTIONS`)."""
    require_llm()
    run = replace(GENERATION_OPTIONS, **options)
    contexts = sample_test_contexts(corpus, run.limit, run.seed)
    turns = corpus.turns()
    prompts = {
        example_id: context_messages(turns, first, row)
        for example_id, first, row in zip(contexts["id"], contexts["first_row"], contexts["row"])
    }
    return run_task(
        "generation",
        corpus,
        prompts,
        covered_record("test_contexts", run.limit, run.seed, contexts["id"]),
        out,
        lambda key, text: {"id": key, "response": text},
        model=model,
        system_prompt=SYSTEM_PROMPT,
        run=run,
    )


def run_task(
    task: str,
    corpus: Corpus,
    prompts: dict,
    covered: dict,
    out: str | os.PathLike,
    to_record: Callable[[object, str], dict],
    *,
    model: str,
    system_prompt: str,
    run: RunOptions,
) -> RunSummary:
    """Shared by ``generate`` and ``predict-scores``: header, resume, run, summary."""
    if run.batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {run.batch_size}")
    if run.engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {run.engine!r}")
    if run.engine == "vllm":
        require_vllm()
    device = resolve_device(run.device)
    quantize = effective_quantization(run.quantize, device)
    meta = predictions_meta(
        task,
        model=model,
        adapter=run.adapter,
        decoding=run.decoding,
        system_prompt=system_prompt,
        contexts=covered,
        corpus=corpus,
        quantize=quantize,
        device=device,
        batch_size=run.batch_size,
        engine=run.engine,
    )
    with PredictionsWriter(out, meta, must_match=RESUME_KEYS) as writer:
        before = len(writer.done)
        written = run_prompts(
            prompts,
            writer,
            to_record,
            model_name=model,
            adapter=run.adapter,
            device=device,
            quantize=quantize,
            decoding=run.decoding,
            batch_size=run.batch_size,
            engine=run.engine,
            progress=run.progress,
        )
        return RunSummary(
            writer.path, len(prompts), before, written, writer.repaired, device, writer.meta
        )
