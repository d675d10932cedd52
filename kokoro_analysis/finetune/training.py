"""Fine-tuning with TRL's SFTTrainer and a PEFT LoRA adapter: the paper's recipe as defaults, the
training data from ``export-sft``, checkpoints, resume, and a manifest beside the adapter.

Recipe (:class:`Recipe`; lab-affiliated secondary sources, REPORTED.md "Fine-tuning setup", not the
paper text): QLoRA with 4-bit NF4, LoRA rank 8, alpha 16, dropout 0.05 on the attention and MLP
projections, 1 epoch, learning rate 1e-3, maximum sequence length 4,096 tokens, batch 1 per device
with gradient accumulation 2. Not published, chosen here and recorded: the learning-rate schedule
(transformers' default, linear decay without warm-up), the seed (0), how over-long examples are cut.

Data: ``export-sft`` in the ``turn`` layout, one example per counselor turn with the whole earlier
history (``generation``), or one per training session with the 20 item scores as the answer
(``score``). Each example is a prompt (system prompt + context) and a completion (the target turn), so
the loss is on the counselor turn only (TRL's completion-only loss). An example longer than
``max_length`` loses its oldest context turns (the system prompt stays; a single transcript loses its
first lines) until it fits: the target is never cut. The manifest counts such examples.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kokoro_analysis.corpus.loading import Corpus
from kokoro_analysis.finetune.data import FILES, TRAIN_SUBSETS, export_sft
from kokoro_analysis.finetune.models import (
    LLMError,
    bnb_config,
    effective_quantization,
    library_versions,
    load_pretrained,
    load_tokenizer,
    local_gpu,
    memory_guard,
    model_dtype,
    require_llm,
    resolve_device,
)

BASE_MODEL = "tokyotech-llm/Llama-3.1-Swallow-8B-Instruct-v0.3"
"""The paper's base model (REPORTED.md §5)."""
TASKS = ("generation", "score")
LORA_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
"""The attention and MLP projections of a Llama model."""
MANIFEST = "finetune_manifest.json"
MESSAGE_OVERHEAD_TOKENS = 8
"""Tokens a chat template adds per message (headers, end of turn), used when cutting long examples;
an estimate (Llama 3 adds 5); TRL still truncates anything longer."""


@dataclass
class Recipe:
    """Everything that defines a fine-tuning run; the defaults are the paper's settings."""

    base_model: str = BASE_MODEL
    subset: str = "full"
    task: str = "generation"
    quantize: str = "4bit"
    lora_rank: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    target_modules: tuple[str, ...] = LORA_TARGET_MODULES
    epochs: float = 1.0
    learning_rate: float = 1e-3
    lr_scheduler: str = "linear"
    warmup_steps: int = 0
    max_length: int = 4096
    per_device_batch_size: int = 1
    gradient_accumulation_steps: int = 2
    max_steps: int = -1
    """Stop after this many optimizer steps (-1: the whole epoch)."""
    limit: int | None = None
    """Train on a seeded sample of this many examples (None: all)."""
    seed: int = 0
    save_steps: int = 500

    def check(self) -> None:
        """Raise :class:`LLMError` for an unknown subset or task or a bad limit."""
        if self.subset not in TRAIN_SUBSETS:
            raise LLMError(f"subset must be one of {', '.join(TRAIN_SUBSETS)}, not {self.subset!r}")
        if self.task not in TASKS:
            raise LLMError(f"task must be one of {', '.join(TASKS)}, not {self.task!r}")
        if self.limit is not None and self.limit < 1:
            raise LLMError(f"limit must be a positive number of examples, not {self.limit}")

    def as_dict(self) -> dict:
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }


RESUME_KEYS = (
    "base_model",
    "subset",
    "task",
    "quantize",
    "lora_rank",
    "lora_alpha",
    "lora_dropout",
    "target_modules",
    "epochs",
    "learning_rate",
    "lr_scheduler",
    "warmup_steps",
    "max_length",
    "per_device_batch_size",
    "gradient_accumulation_steps",
    "limit",
    "seed",
)
"""Recipe fields a resumed run must share with the manifest (``max_steps`` and ``save_steps`` may grow)."""


@dataclass
class FinetuneResult:
    """A finished run: the adapter folder, its manifest and whether it resumed from a checkpoint."""

    out: Path
    manifest: dict
    resumed_from: str | None


def prompt_completion(messages: list[dict]) -> dict:
    """A training example: everything but the last message is the prompt, the last (the target
    counselor turn, or the item-score answer) the completion; export-sft's ``weight`` keys dropped."""
    clean = [{"role": m["role"], "content": m["content"]} for m in messages]
    return {"prompt": clean[:-1], "completion": clean[-1:]}


def fit_to_length(example: dict, count_tokens, max_length: int) -> tuple[dict, bool]:
    """Drop the oldest context messages (never the system prompt or the completion) until the example's
    estimated length (``count_tokens`` of each content + :data:`MESSAGE_OVERHEAD_TOKENS` per message)
    fits ``max_length``; a prompt reduced to one user message loses its first lines instead. Returns
    the example and whether it was cut."""
    prompt, completion = list(example["prompt"]), example["completion"]
    sizes = [count_tokens(m["content"]) + MESSAGE_OVERHEAD_TOKENS for m in prompt + completion]
    total, cut = sum(sizes), False
    first = 1 if prompt and prompt[0]["role"] == "system" else 0
    while total > max_length and len(prompt) - first > 1:
        total -= sizes.pop(first)
        prompt.pop(first)
        cut = True
    if total > max_length and len(prompt) > first:
        message = prompt[-1]
        lines = message["content"].split("\n")
        while total > max_length and len(lines) > 1:
            total -= count_tokens(lines.pop(0) + "\n")
            cut = True
        prompt[-1] = {**message, "content": "\n".join(lines)}
    return {"prompt": prompt, "completion": completion}, cut


def _write_json(path: Path, value: dict) -> None:
    """Write JSON atomically (a temporary file renamed over ``path``)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _check_out(out: Path, recipe: Recipe) -> dict | None:
    """The manifest of an unfinished run of the same recipe in ``out`` (to resume), None for a new
    empty folder; anything else is an :class:`LLMError` (nothing is overwritten)."""
    if out.exists() and not out.is_dir():
        raise LLMError(f"{out} is a file; choose a new or empty folder for --out")
    manifest_path = out / MANIFEST
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        old = manifest.get("recipe", {})
        differing = [k for k in RESUME_KEYS if old.get(k) != recipe.as_dict().get(k)]
        if differing:
            raise LLMError(
                f"{out} holds a run with other settings ({', '.join(differing)} differ); "
                f"choose another --out"
            )
        if manifest.get("status") == "complete" and recipe.max_steps == old.get("max_steps"):
            raise LLMError(f"{out} already holds a finished adapter; choose another --out")
        return manifest
    if out.exists() and any(out.iterdir()):
        raise LLMError(f"{out} exists and is not a fine-tuning folder; choose a new or empty --out")
    return None


def training_dataset(export_dir: Path, recipe: Recipe, tokenizer):
    """The prompt-completion dataset of ``recipe.task`` from the export in ``export_dir`` (a seeded
    sample of ``recipe.limit`` examples when set), cut to ``max_length``; returns it and the number
    of examples that were cut."""
    from datasets import Dataset

    source = export_dir / (FILES["train"] if recipe.task == "generation" else FILES["score_train"])
    with open(source, encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip()]
    if recipe.limit is not None and recipe.limit < len(lines):
        import numpy as np

        chosen = np.sort(
            np.random.default_rng(recipe.seed).choice(len(lines), recipe.limit, replace=False)
        )
        lines = [lines[i] for i in chosen]
    if not lines:
        raise LLMError(f"{source}: no training example for subset {recipe.subset!r}")

    sizes: dict[str, int] = {}  # turns recur in every later example of their session

    def count(text: str) -> int:
        if text not in sizes:
            sizes[text] = len(tokenizer(text, add_special_tokens=False)["input_ids"])
        return sizes[text]

    examples, cut = [], 0
    for line in lines:
        example, was_cut = fit_to_length(
            prompt_completion(json.loads(line)["messages"]), count, recipe.max_length
        )
        examples.append(example)
        cut += was_cut
    return Dataset.from_list(examples), cut


def finetune(
    corpus: Corpus, recipe: Recipe, out: str | os.PathLike, *, device: str = "auto"
) -> FinetuneResult:
    """Fine-tune ``recipe.base_model`` with LoRA (TRL ``SFTTrainer``, completion-only loss) on the
    ``export-sft`` data of ``recipe.subset`` / ``recipe.task``; write the adapter, the tokenizer and
    :data:`MANIFEST` to ``out`` (checkpoints in ``out/checkpoints``, the export in ``out/data``).
    An unfinished run of the same recipe in ``out`` resumes from its last checkpoint."""
    require_llm()
    recipe.check()
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM
    from transformers.trainer_utils import get_last_checkpoint
    from trl import SFTConfig, SFTTrainer

    out = Path(out).expanduser()
    previous = _check_out(out, recipe)
    device = resolve_device(device)
    quantize = effective_quantization(recipe.quantize, device)
    out.mkdir(parents=True, exist_ok=True)
    export_dir = out / "data"
    export = export_sft(corpus, recipe.subset, export_dir, seed=recipe.seed, layout="turn")
    if previous and previous["data"]["train_sha256"] != _train_hash(export, recipe.task):
        raise LLMError(f"{out}: the data changed since the run started; choose another --out")
    tokenizer = load_tokenizer(recipe.base_model, padding_side="right")
    dataset, cut = training_dataset(export_dir, recipe, tokenizer)
    manifest = {
        "status": "running",
        "recipe": recipe.as_dict(),
        "effective": {
            "device": device,
            "quantize": quantize,
            "loss": "completion only (target turn)",
        },
        "data": {
            "export": str(export_dir),
            "corpus_sha256": export["corpus"]["content_sha256"],
            "train_file": FILES["train"] if recipe.task == "generation" else FILES["score_train"],
            "train_sha256": _train_hash(export, recipe.task),
            "examples": len(dataset),
            "examples_cut_to_max_length": cut,
        },
        "versions": library_versions(),
        "started": (previous or {}).get("started")
        or datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write_json(out / MANIFEST, manifest)
    kwargs = {"dtype": model_dtype(device)}
    if quantize == "4bit":
        kwargs.update(quantization_config=bnb_config(), device_map={"": local_gpu()})
    model = load_pretrained(AutoModelForCausalLM, recipe.base_model, "model", **kwargs)
    checkpoints = out / "checkpoints"
    config = SFTConfig(
        output_dir=str(checkpoints),
        num_train_epochs=recipe.epochs,
        max_steps=recipe.max_steps,
        learning_rate=recipe.learning_rate,
        lr_scheduler_type=recipe.lr_scheduler,
        warmup_steps=recipe.warmup_steps,
        per_device_train_batch_size=recipe.per_device_batch_size,
        gradient_accumulation_steps=recipe.gradient_accumulation_steps,
        max_length=recipe.max_length,
        completion_only_loss=True,
        save_strategy="steps",
        save_steps=recipe.save_steps,
        save_total_limit=2,
        logging_steps=10,
        seed=recipe.seed,
        bf16=device == "cuda",
        gradient_checkpointing=device == "cuda",
        use_cpu=device == "cpu",
        report_to=[],
        dataloader_num_workers=0,
    )
    peft_config = LoraConfig(
        r=recipe.lora_rank,
        lora_alpha=recipe.lora_alpha,
        lora_dropout=recipe.lora_dropout,
        target_modules=list(recipe.target_modules),
        task_type="CAUSAL_LM",
    )
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    last = get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None
    started = time.perf_counter()
    with memory_guard(recipe.per_device_batch_size):
        result = trainer.train(resume_from_checkpoint=last)
    trainer.save_model(str(out))
    manifest.update(
        status="complete",
        resumed_from=last,
        training={
            "steps": int(result.global_step),
            "train_loss": float(result.training_loss),
            "seconds": round(time.perf_counter() - started, 1),
        },
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    _write_json(out / MANIFEST, manifest)
    return FinetuneResult(out, manifest, last)


def _train_hash(export: dict, task: str) -> str:
    return export["files"][FILES["train"] if task == "generation" else FILES["score_train"]][
        "sha256"
    ]
