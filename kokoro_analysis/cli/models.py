"""The model commands (the llm extra): ``smoke-model``, ``finetune``, ``generate``,
``predict-scores`` and ``reproduce-models``.

Every default shown in their ``--help`` is read from the function or recipe that applies it
(``training.Recipe``, ``generate_predictions``, ``predict_scores``), and every choice from its owner's
constant, so the help cannot drift from what runs. Each ``finetune`` option's destination is the
:class:`~kokoro_analysis.finetune.training.Recipe` field it sets, so the recipe is built from the
parsed options alone.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from kokoro_analysis.cli.options import (
    Command,
    add_data_option,
    add_device_options,
    add_limit_option,
    add_out_option,
    add_seed_option,
    chosen,
    positive_int,
    steps_or_all,
    subset_help,
)

if TYPE_CHECKING:
    from kokoro_analysis.finetune.training import Recipe


def add_smoke_options(parser: argparse.ArgumentParser) -> None:
    add_out_option(parser, "DIR", "new folder")
    add_seed_option(parser, "the random weights")


def cmd_smoke_model(args: argparse.Namespace) -> int:
    """Build the tiny random model with its tokenizer and chat template."""
    from kokoro_analysis.finetune.models import build_smoke_model

    folder = build_smoke_model(args.out, seed=args.seed)
    print(f"smoke model (tiny, randomly initialised, outputs are noise) written to {folder}")
    return 0


LR_SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts")
"""The learning-rate schedules offered (transformers' ``SchedulerType`` names)."""

RECIPE_OPTIONS = {
    "batch": (
        ("--per-device-batch", "per_device_batch_size", int,
         "examples per device and forward pass (default: %(default)s)"),
        ("--global-batch", "global_batch_size", int,
         "examples per optimizer step over all processes; the gradient accumulation is "
         "N / (per-device batch x processes) (default: %(default)s, the recipe's 1 x 2 x 8 GPUs)"),
        ("--grad-accum", "gradient_accumulation_steps", int,
         "fix the gradient accumulation instead of --global-batch (default: derived)"),
    ),
    "schedule": (
        ("--learning-rate", "learning_rate", float, "peak learning rate (default: %(default)s)"),
        ("--warmup-steps", "warmup_steps", int, "linear warm-up steps (default: %(default)s)"),
        ("--warmup-ratio", "warmup_ratio", float,
         "warm-up as a share of all steps, used when --warmup-steps is 0 (default: %(default)s)"),
        ("--epochs", "epochs", float, "passes over the data (default: %(default)s)"),
        ("--max-length", "max_length", int,
         "tokens per example (chat template included): a longer example loses its oldest "
         "context turns, never the target (default: %(default)s)"),
    ),
    "LoRA": (
        ("--lora-r", "lora_rank", int, "LoRA rank (default: %(default)s)"),
        ("--lora-alpha", "lora_alpha", int, "LoRA alpha (default: %(default)s)"),
        ("--lora-dropout", "lora_dropout", float, "LoRA dropout (default: %(default)s)"),
    ),
}  # fmt: skip
"""The recipe's numeric options by group: option, Recipe field, type, help."""


def _module_names(text: str) -> tuple[str, ...]:
    """``q_proj, v_proj`` → ("q_proj", "v_proj")."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """What to train, on which data, where to, and how long (the recipe's other fields)."""
    from kokoro_analysis.finetune.data import TRAIN_SUBSETS
    from kokoro_analysis.finetune.training import TASKS, Recipe

    defaults = Recipe()
    add_data_option(parser)
    parser.add_argument(
        "--base-model",
        default=defaults.base_model,
        metavar="NAME_OR_PATH",
        help="hub id or local folder (default: %(default)s, the paper's base model)",
    )
    parser.add_argument(
        "--subset",
        choices=TRAIN_SUBSETS,
        default=defaults.subset,
        help=subset_help(),
    )
    parser.add_argument(
        "--task",
        choices=TASKS,
        default=defaults.task,
        help="generation: the next counselor turn; score: the 20 item scores (default: %(default)s)",
    )
    add_out_option(parser, "DIR", "adapter folder")
    parser.add_argument(
        "--max-steps",
        type=steps_or_all,
        default=defaults.max_steps,
        help="stop after N optimizer steps (default: %(default)s, the whole --epochs)",
    )
    add_limit_option(parser, "examples")
    add_seed_option(parser, "the sample and training")


def add_checkpoint_options(parser: argparse.ArgumentParser) -> None:
    """Checkpoints, logging, the device and quantization."""
    from kokoro_analysis.finetune.training import Recipe

    defaults = Recipe()
    every = (
        ("--save-steps", "save_steps", "checkpoint"),
        ("--logging-steps", "logging_steps", "record the loss"),
    )
    for option, field, what in every:
        parser.add_argument(
            option,
            type=positive_int,
            default=getattr(defaults, field),
            help=f"{what} every N optimizer steps (default: %(default)s)",
        )
    add_device_options(
        parser,
        "auto",
        defaults.quantize,
        "4bit: QLoRA, needs CUDA + bitsandbytes (on the CPU: none, with a warning) "
        "(default: %(default)s)",
    )


def add_recipe_options(parser: argparse.ArgumentParser) -> None:
    """The recipe flags by group (defaults: ``training.Recipe``, the follow-up recipe)."""
    from kokoro_analysis.finetune.training import Recipe

    defaults = Recipe()
    groups = {}
    for title, options in RECIPE_OPTIONS.items():
        groups[title] = parser.add_argument_group(
            f"recipe: {title}",
            None if groups else "the defaults are the lab's recipe (README: the recipe table)",
        )
        for option, field, kind, what in options:
            groups[title].add_argument(
                option,
                dest=field,
                type=kind,
                default=getattr(defaults, field),
                metavar="N" if kind is int else None,
                help=what,
            )
    groups["schedule"].add_argument(
        "--lr-scheduler",
        choices=LR_SCHEDULERS,
        default=defaults.lr_scheduler,
        help="learning-rate schedule (transformers' names; default: %(default)s)",
    )
    groups["LoRA"].add_argument(
        "--lora-targets",
        dest="target_modules",
        type=_module_names,
        default=defaults.target_modules,
        metavar="NAMES",
        help=f"comma-separated modules LoRA adapts (default: {','.join(defaults.target_modules)}: "
        "attention and MLP)",
    )


def add_finetune_options(parser: argparse.ArgumentParser) -> None:
    add_training_options(parser)
    add_checkpoint_options(parser)
    add_recipe_options(parser)


def recipe_from(args: argparse.Namespace) -> Recipe:
    """The :class:`Recipe` the options give (``--grad-accum`` replaces ``--global-batch``)."""
    from kokoro_analysis.finetune.training import Recipe

    fields = {field.name for field in dataclasses.fields(Recipe)}
    values = {name: value for name, value in vars(args).items() if name in fields}
    if args.gradient_accumulation_steps is not None:
        values["global_batch_size"] = None
    return Recipe(**values)


def cmd_finetune(args: argparse.Namespace) -> int:
    """LoRA fine-tuning with TRL on a subset's export-sft data."""
    from kokoro_analysis.corpus.loading import load_corpus
    from kokoro_analysis.finetune.export import LICENCE_NOTE
    from kokoro_analysis.finetune.training import MANIFEST, finetune

    recipe = recipe_from(args)
    corpus = load_corpus(args.data)
    result = finetune(corpus, recipe, args.out, device=args.device)
    if not result.main_process:
        return 0
    training, data = result.manifest["training"], result.manifest["data"]
    resumed = f" (resumed from {result.resumed_from})" if result.resumed_from else ""
    effective = result.manifest["effective"]
    print(
        f"adapter written to {result.out}{resumed}: {training['steps']:,} steps of global batch "
        f"{effective['global_batch_size']} ({effective['per_device_batch_size']} per device x "
        f"{effective['gradient_accumulation_steps']} accumulation x {effective['processes']} "
        f"process(es)), loss {training['train_loss']:.4f}, {training['seconds']:.0f} s; "
        f"{data['examples']:,} examples ({data['examples_cut_to_max_length']:,} cut to "
        f"{recipe.max_length:,} tokens, {data['examples_dropped_target_too_long']:,} left out: "
        f"the target alone is longer)"
    )
    print(f"manifest: {result.out / MANIFEST}")
    print(LICENCE_NOTE)
    return 0


def add_engine_options(parser: argparse.ArgumentParser, defaults: dict) -> None:
    """Where and how generation runs (generate, predict-scores, reproduce-models)."""
    from kokoro_analysis.finetune.generation import ENGINES

    add_device_options(
        parser,
        defaults["device"],
        defaults["quantize"],
        "4bit: NF4 (QLoRA), needs CUDA + bitsandbytes; none: the model's dtype "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--engine",
        choices=list(ENGINES),
        default=defaults["engine"],
        help="hf: transformers generate (CPU or GPU); vllm: vLLM on a CUDA GPU (the vllm extra), "
        "same prompts and file (default: %(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run_defaults(command: str) -> dict:
    """What ``generate`` or ``predict-scores`` applies when an option is not given (its
    :class:`~kokoro_analysis.finetune.generation.RunOptions` defaults)."""
    from dataclasses import asdict

    from kokoro_analysis.finetune.generation import GENERATION_OPTIONS
    from kokoro_analysis.finetune.score_prediction import SCORE_OPTIONS

    return asdict({"generate": GENERATION_OPTIONS, "predict-scores": SCORE_OPTIONS}[command])


def add_model_run_options(parser: argparse.ArgumentParser, defaults: dict, of: str) -> None:
    """The options of ``generate`` and ``predict-scores`` (``defaults``: :func:`run_defaults`)."""
    add_data_option(parser)
    parser.add_argument(
        "--model", required=True, metavar="NAME_OR_PATH", help="hub id or local folder"
    )
    parser.add_argument(
        "--adapter",
        default=None,
        metavar="DIR_OR_ID",
        help="LoRA adapter: a finetune --out folder or a hub id (default: none)",
    )
    add_out_option(parser, "FILE", "predictions file (JSON lines)")
    add_limit_option(parser, of)
    add_seed_option(parser, "the sample and the held-out split")
    sizes = {
        "--batch-size": ("batch_size", "prompts per batch"),
        "--max-new-tokens": ("max_new_tokens", "longest answer in tokens"),
        "--max-length": (
            "max_length",
            "prompt + answer in tokens: a longer prompt loses its oldest turns, as in finetune",
        ),
    }
    for option, (name, what) in sizes.items():
        parser.add_argument(
            option,
            type=positive_int,
            default=defaults[name],
            metavar="N",
            help=f"{what} (default: %(default)s)",
        )
    add_engine_options(parser, defaults)


def add_generate_options(parser: argparse.ArgumentParser) -> None:
    add_model_run_options(parser, run_defaults("generate"), "test contexts")


def add_predict_options(parser: argparse.ArgumentParser) -> None:
    add_model_run_options(parser, run_defaults("predict-scores"), "held-out sessions")


def _model_run_arguments(args: argparse.Namespace) -> dict:
    """The keyword arguments ``generate`` and ``predict-scores`` share (see add_model_run_options)."""
    names = ("model", "out", "adapter", "limit", "seed", "batch_size", "max_new_tokens")
    names += ("max_length", "device", "quantize", "engine")
    return chosen(args, *names) | {"progress": not args.quiet}


def _print_run(summary, what: str) -> None:
    resumed = f", {summary.already_done:,} already there (resumed)" if summary.already_done else ""
    repaired = "; a truncated last line was cut off and redone" if summary.repaired else ""
    print(
        f"{summary.path}: {summary.written:,} {what} written{resumed} of {summary.covered:,} "
        f"on {summary.device}{repaired}"
    )


def cmd_generate(args: argparse.Namespace) -> int:
    """Generate the next counselor turn for the test contexts into a predictions file."""
    from kokoro_analysis.corpus.loading import load_corpus
    from kokoro_analysis.finetune.generation import generate_predictions

    corpus = load_corpus(args.data)
    summary = generate_predictions(corpus, **_model_run_arguments(args))
    _print_run(summary, "responses")
    print(f"score it with: kokoro-analysis evaluate --predictions {summary.path}")
    return 0


def cmd_predict_scores(args: argparse.Namespace) -> int:
    """Predict the 20 item scores of held-out sessions into a predictions file."""
    from kokoro_analysis.corpus.loading import load_corpus
    from kokoro_analysis.finetune.prediction_files import read_predictions
    from kokoro_analysis.finetune.score_prediction import predict_scores

    corpus = load_corpus(args.data)
    summary = predict_scores(corpus, **_model_run_arguments(args))
    _print_run(summary, "answers")
    unparsed = read_predictions(summary.path).unparsed
    print(
        f"{len(unparsed):,} of {summary.covered:,} answers could not be parsed into 20 item scores"
    )
    print(f"score it with: kokoro-analysis evaluate --predictions {summary.path}")
    return 0


def add_reproduce_options(parser: argparse.ArgumentParser) -> None:
    add_data_option(parser)
    parser.add_argument(
        "--predictions-dir",
        default="predictions",
        metavar="DIR",
        help="where the files go; notebook 04 reads predictions/ (default: %(default)s)",
    )
    add_limit_option(parser, "contexts / sessions per model; required on the CPU")
    add_seed_option(parser, "the sample")
    generate, predict = run_defaults("generate"), run_defaults("predict-scores")
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"prompts per batch (default: generate's {generate['batch_size']}, "
        f"predict-scores' {predict['batch_size']})",
    )
    add_engine_options(parser, generate)


def cmd_reproduce_models(args: argparse.Namespace) -> int:
    """The released models' predictions files (resumable), for notebook 04's tables."""
    from kokoro_analysis.corpus.loading import load_corpus
    from kokoro_analysis.finetune.released import reproduce_models

    corpus = load_corpus(args.data)
    names = ["limit", "device", "seed", "quantize", "engine"]
    if args.batch_size:  # else each run's own default
        names.append("batch_size")
    options = chosen(args, *names)
    paths = reproduce_models(corpus, args.predictions_dir, **options, progress=not args.quiet)
    print(f"{len(paths)} predictions files in {Path(args.predictions_dir).expanduser()}")
    print("the tables: ./run_all.sh --only 04 (./run_all.sh --models runs both)")
    return 0


COMMANDS = (
    Command(
        "smoke-model",
        "build a tiny random causal LM to try the model commands (no download)",
        add_smoke_options,
        cmd_smoke_model,
    ),
    Command(
        "finetune",
        "LoRA fine-tuning (TRL SFT) with the paper's settings as defaults",
        add_finetune_options,
        cmd_finetune,
    ),
    Command(
        "generate",
        "next counselor turn for the test contexts (predictions file, resumable)",
        add_generate_options,
        cmd_generate,
    ),
    Command(
        "predict-scores",
        "the 20 item scores of held-out sessions (predictions file, resumable)",
        add_predict_options,
        cmd_predict_scores,
    ),
    Command(
        "reproduce-models",
        "generate / predict-scores with every released model into predictions/ (resumable)",
        add_reproduce_options,
        cmd_reproduce_models,
    ),
)
