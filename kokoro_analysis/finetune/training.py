"""Fine-tuning with TRL's SFTTrainer and a PEFT LoRA adapter: the paper's recipe as defaults, the
training data from ``export-sft``, checkpoints, resume, and a manifest beside the adapter.

Recipe (:class:`Recipe`; lab-affiliated secondary sources, REPORTED.md "Fine-tuning setup", not the
paper text): QLoRA with 4-bit NF4, LoRA rank 8, alpha 16, dropout 0.05 on the attention and MLP
projections, 1 epoch, learning rate 1e-3, maximum sequence length 4,096 tokens, batch 1 per device
with gradient accumulation 2 on 8 GPUs: a global batch of 16 examples per optimizer step. The
default here is that global batch (``global_batch_size=16``): the gradient accumulation is derived
from the number of processes (16 on one GPU, 2 on eight; :meth:`Recipe.batch_plan`). Not published,
chosen here and recorded: the learning-rate schedule (transformers' default, linear decay without
warm-up), the seed (0), how over-long examples are cut. Every value is a ``finetune`` flag and is
written to the manifest.

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
from kokoro_analysis.finetune.data import TRAIN_SUBSETS
from kokoro_analysis.finetune.export import FILES, export_sft
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
    process_count,
    require_llm,
    resolve_device,
)
from kokoro_analysis.finetune.prediction_files import TASKS
from kokoro_analysis.finetune.prompts import (
    TooLong,
    chat_ids,
    fit_to_length,
    message_sizer,
    text_counter,
)
from kokoro_analysis.paths import write_atomically

BASE_MODEL = "tokyotech-llm/Llama-3.1-Swallow-8B-Instruct-v0.3"
"""The paper's base model (REPORTED.md §5)."""
LORA_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
"""The attention and MLP projections of a Llama model."""
MANIFEST = "finetune_manifest.json"


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
    warmup_ratio: float = 0.0
    max_length: int = 4096
    per_device_batch_size: int = 1
    global_batch_size: int | None = 16
    """Examples per optimizer step over all processes (the recipe's 16); the accumulation follows."""
    gradient_accumulation_steps: int | None = None
    """Set instead of ``global_batch_size`` to fix the accumulation (the global batch then follows)."""
    max_steps: int = -1
    """Stop after this many optimizer steps (-1: the whole epoch)."""
    limit: int | None = None
    """Train on a seeded sample of this many examples (None: all)."""
    seed: int = 0
    save_steps: int = 500
    logging_steps: int = 10

    def check(self) -> None:
        """Raise :class:`LLMError` for an unknown subset or task or a value out of range."""
        if self.subset not in TRAIN_SUBSETS:
            raise LLMError(f"subset must be one of {', '.join(TRAIN_SUBSETS)}, not {self.subset!r}")
        if self.task not in TASKS:
            raise LLMError(f"task must be one of {', '.join(TASKS)}, not {self.task!r}")
        if self.limit is not None and self.limit < 1:
            raise LLMError(f"limit must be a positive number of examples, not {self.limit}")
        if (self.global_batch_size is None) == (self.gradient_accumulation_steps is None):
            raise LLMError("give exactly one of --global-batch and --grad-accum")
        positive = {
            "per-device batch": self.per_device_batch_size,
            "global batch": self.global_batch_size,
            "gradient accumulation": self.gradient_accumulation_steps,
            "max length": self.max_length,
            "LoRA rank": self.lora_rank,
            "logging steps": self.logging_steps,
        }
        for name, value in positive.items():
            if value is not None and value < 1:
                raise LLMError(f"{name} must be at least 1, not {value}")
        if not 0 <= self.lora_dropout < 1 or not 0 <= self.warmup_ratio < 1:
            raise LLMError("LoRA dropout and warm-up ratio must be in [0, 1)")
        if self.learning_rate <= 0 or self.epochs <= 0:
            raise LLMError("learning rate and epochs must be positive")
        if not self.target_modules:
            raise LLMError("LoRA needs at least one target module")

    def batch_plan(self, processes: int) -> dict[str, int]:
        """Per-device batch, gradient accumulation, processes and global batch for ``processes``
        data-parallel processes; an :class:`LLMError` when the global batch does not divide."""
        per_step = self.per_device_batch_size * processes
        if self.gradient_accumulation_steps is not None:
            accumulation = self.gradient_accumulation_steps
        elif self.global_batch_size % per_step:
            raise LLMError(
                f"global batch {self.global_batch_size} is not a multiple of per-device batch "
                f"{self.per_device_batch_size} x {processes} process(es); change --global-batch "
                f"or --per-device-batch"
            )
        else:
            accumulation = self.global_batch_size // per_step
        return {
            "per_device_batch_size": self.per_device_batch_size,
            "gradient_accumulation_steps": accumulation,
            "processes": processes,
            "global_batch_size": per_step * accumulation,
        }

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
    "warmup_ratio",
    "max_length",
    "per_device_batch_size",
    "global_batch_size",
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
    main_process: bool = True
    """False in the other processes of a multi-process (``accelerate launch``) run."""


def prompt_completion(messages: list[dict]) -> dict:
    """A training example: everything but the last message is the prompt, the last (the target
    counselor turn, or the item-score answer) the completion; export-sft's ``weight`` keys dropped."""
    clean = [{"role": m["role"], "content": m["content"]} for m in messages]
    return {"prompt": clean[:-1], "completion": clean[-1:]}


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


def training_export(corpus: Corpus, recipe: Recipe, fallback: Path, *, write: bool) -> Path:
    """The folder of the ``turn``-layout export of ``recipe.subset`` (``export-sft``): in the cache,
    keyed by the corpus content, subset and seed, and reused while its files match its manifest, so
    no copy of the data goes into an adapter folder; ``fallback`` when the cache is not usable.
    ``write=False`` (the other processes of a multi-process run) only names the folder."""
    from kokoro_analysis.finetune.export import corpus_content_hash
    from kokoro_analysis.finetune.export_folder import verify_manifest
    from kokoro_analysis.paths import usable_cache_dir

    cache = usable_cache_dir("sft-exports")
    key = f"{recipe.subset}-turn-seed{recipe.seed}-{corpus_content_hash(corpus)[:16]}"
    folder = fallback if cache is None else cache / key
    if write:
        manifest, problems = verify_manifest(folder)
        if manifest is None or problems:
            export_sft(corpus, recipe.subset, folder, seed=recipe.seed, layout="turn", force=True)
    return folder


def line_offsets(path: Path) -> list[int]:
    """Byte offset of every non-blank line of ``path`` (read in blocks; memory: the offsets only)."""
    offsets, position = [], 0
    with open(path, "rb") as handle:
        for line in handle:
            if line.strip():
                offsets.append(position)
            position += len(line)
    return offsets


def _tokenized_examples(
    parts: list[list[int]], source: str, tokenizer_name: str, max_length: int, key: str
):
    """The examples at the offsets of ``parts`` (lists of line offsets) of ``source``, fitted to
    ``max_length`` and tokenized as TRL does (``input_ids`` of prompt + completion,
    ``completion_mask`` 1 on the completion's tokens, after the common prefix with the prompt
    rendered with its generation header); ``cut`` says whether the context was cut. A ``datasets``
    generator: ``datasets`` calls it once per part (a shard; the workers take contiguous runs of
    them), so the tokenizer is loaded once per :data:`PART_SIZE` examples; ``key`` only names the
    cache entry."""
    tokenizer = load_tokenizer(tokenizer_name, padding_side="right")
    count, size = text_counter(tokenizer), message_sizer(tokenizer)
    last: dict = {}

    def length(messages: list[dict]) -> int:
        last["messages"], last["ids"] = messages, chat_ids(tokenizer, messages)
        return len(last["ids"])

    with open(source, "rb") as handle:
        for offset in (offset for part in parts for offset in part):
            handle.seek(offset)
            example = prompt_completion(json.loads(handle.readline())["messages"])
            try:
                prompt, cut = fit_to_length(
                    example["prompt"], example["completion"], max_length, length, size, count
                )
            except TooLong:
                continue
            messages = prompt + example["completion"]
            ids = last["ids"] if last["messages"] == messages else chat_ids(tokenizer, messages)
            prompt_ids = chat_ids(tokenizer, prompt, generation_prompt=True)
            start = next(
                (i for i, (a, b) in enumerate(zip(prompt_ids, ids)) if a != b),
                min(len(prompt_ids), len(ids)),
            )
            yield {
                "input_ids": ids,
                "completion_mask": [0] * start + [1] * (len(ids) - start),
                "cut": bool(cut),
            }


PARALLEL_FROM = 2000
"""Examples from which fitting runs in one worker process per core."""
PART_SIZE = 1000
"""Examples per call of the dataset generator (``datasets`` makes one call per item of a list
argument: a list of single offsets would load the tokenizer again for every example, and memory
grew with every call)."""


def training_dataset(export_dir: Path, recipe: Recipe, tokenizer, *, workers: int | None = None):
    """The tokenized dataset of ``recipe.task`` from the export in ``export_dir`` (a seeded sample of
    ``recipe.limit`` examples when set): each example fitted to ``max_length`` tokens of the chat
    template (:func:`~kokoro_analysis.finetune.prompts.fit_to_length`) and tokenized as TRL would
    (``input_ids``, ``completion_mask``: TRL's SFTTrainer takes it as it is). Returns it and the
    counts: ``examples`` (trained), ``cut`` (lost context), ``dropped_too_long`` (target alone too
    long).

    Streamed: lines are read one at a time by ``workers`` processes (default: one per core from
    :data:`PARALLEL_FROM` examples) into an on-disk Arrow dataset in the cache, keyed by the file's
    SHA-256, the tokenizer and ``max_length`` (and the sample), so a resumed or repeated run reads
    it at once instead of tokenizing again."""
    name = FILES["train"] if recipe.task == "generation" else FILES["score_train"]
    source = export_dir / name
    offsets = _sampled(line_offsets(source), recipe.limit, recipe.seed)
    if not offsets:
        raise LLMError(f"{source}: no training example for subset {recipe.subset!r}")
    manifest = json.loads((export_dir / FILES["manifest"]).read_text(encoding="utf-8"))
    key = "|".join(
        [manifest["files"][name]["sha256"], tokenizer_key(tokenizer), str(recipe.max_length)]
    )
    if workers is None:
        workers = (os.cpu_count() or 1) if len(offsets) >= PARALLEL_FROM else 1
    dataset = _dataset(offsets, source, tokenizer.name_or_path, recipe.max_length, key, workers)
    if not len(dataset):
        raise LLMError(f"{source}: every example is longer than --max-length {recipe.max_length}")
    counts = {
        "examples": len(dataset),
        "cut": int(sum(dataset["cut"])),
        "dropped_too_long": len(offsets) - len(dataset),
    }
    return dataset.remove_columns("cut"), counts


def _sampled(offsets: list[int], limit: int | None, seed: int) -> list[int]:
    """All ``offsets``, or a seeded sample of ``limit`` of them in file order."""
    if limit is None or limit >= len(offsets):
        return offsets
    import numpy as np

    chosen = np.sort(np.random.default_rng(seed).choice(len(offsets), limit, replace=False))
    return [offsets[i] for i in chosen]


def _dataset(
    offsets: list[int], source: Path, tokenizer_name: str, max_length: int, key: str, workers: int
):
    """The Arrow dataset of :func:`_tokenized_examples` over ``offsets``, made by ``workers``
    processes into the cache (``datasets`` names the entry by the generator's arguments)."""
    from datasets import Dataset, Features, Sequence, Value

    from kokoro_analysis.paths import usable_cache_dir

    parts = [offsets[start : start + PART_SIZE] for start in range(0, len(offsets), PART_SIZE)]
    workers = max(1, min(workers, len(parts)))
    cache = usable_cache_dir("datasets")
    return Dataset.from_generator(
        _tokenized_examples,
        gen_kwargs={
            # datasets gives each worker a contiguous run of these parts: the dataset keeps the
            # file's order whatever the worker count
            "parts": parts,
            "source": str(source),
            "tokenizer_name": tokenizer_name,
            "max_length": max_length,
            "key": key,
        },
        features=Features(  # int32 token ids, one byte per mask value: a third of the default
            {
                "input_ids": Sequence(Value("int32")),
                "completion_mask": Sequence(Value("int8")),
                "cut": Value("bool"),
            }
        ),
        cache_dir=str(cache) if cache else None,
        num_proc=workers if workers > 1 else None,
    )


def tokenizer_key(tokenizer) -> str:
    """What identifies a tokenizer for the cache: its name or folder, vocabulary and chat template."""
    import hashlib

    text = f"{tokenizer.name_or_path}|{len(tokenizer)}|{tokenizer.chat_template}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def finetune(
    corpus: Corpus, recipe: Recipe, out: str | os.PathLike, *, device: str = "auto"
) -> FinetuneResult:
    """Fine-tune ``recipe.base_model`` with LoRA (TRL ``SFTTrainer``, completion-only loss) on the
    ``export-sft`` data of ``recipe.subset`` / ``recipe.task``; write the adapter, the tokenizer and
    :data:`MANIFEST` to ``out`` (checkpoints in ``out/checkpoints``; the export and the fitted
    dataset in the cache, :func:`training_export`, :func:`training_dataset`).
    An unfinished run of the same recipe in ``out`` resumes from its last checkpoint.

    Under ``accelerate launch`` (DDP, one process per GPU; gloo on CPUs) every process trains on its
    share of each global batch; the main process writes the export and the manifest first."""
    require_llm()
    recipe.check()
    from accelerate import PartialState
    from transformers.trainer_utils import get_last_checkpoint
    from trl import SFTTrainer

    plan = recipe.batch_plan(process_count())
    out = Path(out).expanduser()
    previous = _check_out(out, recipe)
    device = resolve_device(device)
    quantize = effective_quantization(recipe.quantize, device)
    dtype = model_dtype(device)
    state = PartialState(cpu=device == "cpu")
    tokenizer = load_tokenizer(recipe.base_model, padding_side="right")
    with state.main_process_first():  # the main process writes the export, the others read it
        dataset, data = _prepared_data(
            corpus, recipe, out, previous, tokenizer, main=state.is_main_process
        )
    manifest = {
        "status": "running",
        "recipe": recipe.as_dict(),
        "effective": _effective_record(device, quantize, str(dtype), plan),
        "data": data,
        "versions": library_versions(),
        "started": (previous or {}).get("started") or _now(),
    }
    _write_manifest(out, manifest, main=state.is_main_process)
    checkpoints = out / "checkpoints"
    trainer = SFTTrainer(
        model=_base_model(recipe.base_model, quantize, dtype),
        args=_sft_config(recipe, plan, checkpoints, str(dtype), device),
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=_lora_config(recipe),
    )
    last = get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None
    started = time.perf_counter()
    with memory_guard(recipe.per_device_batch_size):
        result = trainer.train(resume_from_checkpoint=last)
    trainer.save_model(str(out))
    manifest.update(
        status="complete",
        resumed_from=last,
        training=_training_record(result, trainer, time.perf_counter() - started),
        finished=_now(),
    )
    _write_manifest(out, manifest, main=state.is_main_process)
    return FinetuneResult(out, manifest, last, state.is_main_process)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_manifest(out: Path, manifest: dict, *, main: bool) -> None:
    """Write :data:`MANIFEST` atomically, from the main process only."""
    if main:
        write_atomically(out / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")


def _prepared_data(
    corpus: Corpus, recipe: Recipe, out: Path, previous: dict | None, tokenizer, *, main: bool
):
    """The tokenized training dataset (:func:`training_export`, :func:`training_dataset`) and the
    manifest's ``data`` record; a resumed run's data must be the one it started with."""
    if main:
        out.mkdir(parents=True, exist_ok=True)
    export_dir = training_export(corpus, recipe, out / "data", write=main)
    export = json.loads((export_dir / FILES["manifest"]).read_text(encoding="utf-8"))
    if previous and previous["data"]["train_sha256"] != _train_hash(export, recipe.task):
        raise LLMError(f"{out}: the data changed since the run started; choose another --out")
    dataset, counts = training_dataset(export_dir, recipe, tokenizer)
    return dataset, _data_record(export_dir, export, recipe.task, counts)


def _effective_record(device: str, quantize: str, dtype: str, plan: dict) -> dict:
    """The manifest's ``effective``: what this machine ran (device, quantization, dtype, batches)."""
    return {
        "device": device,
        "quantize": quantize,
        "dtype": dtype.removeprefix("torch."),
        **plan,
        "loss": "completion only (target turn)",
    }


def _base_model(name: str, quantize: str, dtype):
    """The base model to train, 4-bit on this process's GPU for QLoRA."""
    from transformers import AutoModelForCausalLM

    kwargs = {"dtype": dtype}
    if quantize == "4bit":
        kwargs.update(quantization_config=bnb_config(dtype), device_map={"": local_gpu()})
    return load_pretrained(AutoModelForCausalLM, name, "model", **kwargs)


def _data_record(export_dir: Path, export: dict, task: str, counts: dict) -> dict:
    """The manifest's ``data``: the export, its hashes and what was trained."""
    return {
        "export": str(export_dir),
        "corpus_sha256": export["corpus"]["content_sha256"],
        "train_file": FILES["train"] if task == "generation" else FILES["score_train"],
        "train_sha256": _train_hash(export, task),
        "examples": counts["examples"],
        "examples_cut_to_max_length": counts["cut"],
        "examples_dropped_target_too_long": counts["dropped_too_long"],
        "length_rule": "chat-template tokens of the real tokenizer; oldest context turns "
        "dropped first, the target never cut",
    }


def _sft_config(recipe: Recipe, plan: dict, checkpoints: Path, dtype: str, device: str):
    """TRL's ``SFTConfig`` of ``recipe`` with the batch ``plan`` (:meth:`Recipe.batch_plan`)."""
    from trl import SFTConfig

    return SFTConfig(
        output_dir=str(checkpoints),
        num_train_epochs=recipe.epochs,
        max_steps=recipe.max_steps,
        learning_rate=recipe.learning_rate,
        lr_scheduler_type=recipe.lr_scheduler,
        warmup_steps=recipe.warmup_steps or recipe.warmup_ratio,
        per_device_train_batch_size=plan["per_device_batch_size"],
        gradient_accumulation_steps=plan["gradient_accumulation_steps"],
        max_length=recipe.max_length,
        completion_only_loss=True,
        save_strategy="steps",
        save_steps=recipe.save_steps,
        save_total_limit=2,
        logging_steps=recipe.logging_steps,
        seed=recipe.seed,
        bf16=dtype == "torch.bfloat16",
        fp16=dtype == "torch.float16",
        gradient_checkpointing=device == "cuda",
        use_cpu=device == "cpu",
        report_to=[],
        dataloader_num_workers=0,
    )


def _lora_config(recipe: Recipe):
    """PEFT's ``LoraConfig`` of ``recipe``."""
    from peft import LoraConfig

    return LoraConfig(
        r=recipe.lora_rank,
        lora_alpha=recipe.lora_alpha,
        lora_dropout=recipe.lora_dropout,
        target_modules=list(recipe.target_modules),
        task_type="CAUSAL_LM",
    )


def _training_record(result, trainer, seconds: float) -> dict:
    """The manifest's ``training``: steps, final loss, time and the logged loss curve."""
    return {
        "steps": int(result.global_step),
        "train_loss": float(result.training_loss),
        "seconds": round(seconds, 1),
        "loss_curve": [
            {"step": entry["step"], "loss": entry["loss"]}
            for entry in trainer.state.log_history
            if "loss" in entry
        ],
    }


def _train_hash(export: dict, task: str) -> str:
    return export["files"][FILES["train"] if task == "generation" else FILES["score_train"]][
        "sha256"
    ]
