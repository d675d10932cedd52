"""The ``kokoro-analysis`` command: validate, tokenize, report, run, export-sft, evaluate, and the model
runs smoke-model, finetune, generate, predict-scores, reproduce-models (argparse lives only here).

A user's mistake (wrong path, broken file, another dataset) ends in one readable message and exit
status 1 (2 for wrong usage), never a Python traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kokoro_analysis import __version__
from kokoro_analysis.paths import PROJECT_ROOT, OutputDirs

if TYPE_CHECKING:
    from kokoro_analysis.finetune.predictions import Evaluation

# Only the standard library and the package's version above: ``--version`` and ``--help`` import nothing
# heavy (pandas, pyarrow, scipy); each command imports what it uses.


def _add_data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        metavar="PATH",
        default=None,
        help="KokoroChat clone, its kokorochat_dialogues/ folder or a Parquet export "
        "(default: $KOKOROCHAT_DATA, then data/KokoroChat, then a fresh clone)",
    )


def _add_lenient_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lenient",
        action="store_true",
        help="skip the sessions with problems (each is reported; the count is printed) instead of "
        "stopping at the first bad file",
    )


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _steps_or_all(text: str) -> int:
    """A number of steps, or -1 for all of them."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value != -1 and value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more (or -1: all), not {value}")
    return value


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate every record; print a summary; exit 1 when anything is wrong (with --lenient: only
    when no session is valid)."""
    from kokoro_analysis.corpus.loading import load_corpus

    corpus = load_corpus(args.path or args.data, strict=False, cache=False)
    report = corpus.report
    print(report.summary())
    if report.problems:
        print("\nproblems:")
        for problem in report.problems[: args.show]:
            print(f"  {problem}")
        if len(report.problems) > args.show:
            print(f"  ... {len(report.problems) - args.show} more (use --show N)")
        if args.lenient and report.sessions_valid:
            print(
                f"lenient: {report.sessions_skipped:,} session(s) skipped, "
                f"{report.sessions_valid:,} valid"
            )
            return 0
        return 1
    branches = corpus.dialogues["score_branch"].value_counts()
    print(
        "score rule: holds on every session "
        f"({', '.join(f'{name}: {count:,}' for name, count in branches.items())})"
    )
    return 0


def cmd_tokenize(args: argparse.Namespace) -> int:
    """Warm the token cache for the data."""
    from kokoro_analysis.corpus.loading import load_corpus
    from kokoro_analysis.text.token_cache import warm_token_cache

    corpus = load_corpus(args.data, strict=not args.lenient)
    started = time.perf_counter()
    warmed = warm_token_cache(corpus, workers=args.workers, progress=not args.quiet)
    if warmed.folder is None or warmed.tokenized == warmed.parts:
        how = "tokenized"
    elif warmed.tokenized:
        how = f"tokenized ({warmed.tokenized:,} of {warmed.parts:,} parts; the others read from the cache)"
    else:
        how = "read from the cache"
    print(
        f"{warmed.tokens:,} tokens for {len(corpus.utterances):,} utterances {how} in "
        f"{time.perf_counter() - started:.1f} s; cache: {warmed.folder or 'none (folder not usable)'}"
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Gather the notebooks' reproduction logs into reports/reproduction.{md,html}; exit 1 if a number
    expected to match differs, 2 if no notebook wrote a part (then nothing is written), else 0."""
    from kokoro_analysis.publish.reproduction import gather_report

    root = Path(args.output_dir).expanduser() if args.output_dir else PROJECT_ROOT
    if root.exists() and not root.is_dir():
        raise ValueError(f"--output-dir {root} is not a folder")
    parts = OutputDirs(root).reports / "parts"
    if not any(parts.glob("*.json")):
        print(
            f"no report parts in {parts}: run the notebooks first (nothing written)",
            file=sys.stderr,
        )
        return 2
    report = gather_report(root)
    print(f"reproduction report: {report.summary}")
    print(f"  {report.markdown_path}\n  {report.html_path}")
    if report.parameters_line:
        print(f"{report.parameters_line} (the paper's numbers assume the defaults)")
    if not report.ok:
        print(
            f"{len(report.failed)} reproduced number(s) differ from the reported value:",
            file=sys.stderr,
        )
        for row in report.failed.itertuples(index=False):
            print(
                f"  {row.key} ({row.notebook}): reported {row.reported}, ours {row.ours_display} — {row.quantity}",
                file=sys.stderr,
            )
        return 1
    return 0


def cmd_export_sft(args: argparse.Namespace) -> int:
    """Write the fine-tuning / test / score-prediction files; print the counts and the licence note."""
    from kokoro_analysis.corpus import translations
    from kokoro_analysis.corpus.loading import load_corpus
    from kokoro_analysis.finetune.export import FILES, LICENCE_NOTE, export_sft

    corpus = load_corpus(args.data, strict=not args.lenient)
    layout = args.layout
    translated = None
    if args.lang != "ja":
        translated = translations.load_translations(corpus, args.lang, args.translations)
    manifest = export_sft(
        corpus,
        args.subset,
        args.out,
        test_samples=args.test_samples,
        seed=args.seed,
        layout=layout,
        translations=translated,
        force=args.force,
    )
    files = manifest["files"]
    train, test = files[FILES["train"]], files[FILES["test"]]
    out = Path(args.out).expanduser()
    language = manifest["language"]
    if translated is not None:
        skipped = language["sessions_skipped"]
        print(
            f"language {args.lang} (official translations): {sum(skipped.values()):,} of "
            f"{language['original_sessions']:,} sessions skipped ("
            + ", ".join(f"{reason}: {count:,}" for reason, count in skipped.items())
            + f"), {language['empty_messages_dropped']:,} empty translations dropped"
        )
    print(
        f"subset {args.subset} ({manifest['subset']['definition']}): {manifest['subset']['sessions']:,} sessions"
    )
    print(
        f"  {FILES['train']}: {train['lines']:,} lines ({layout} layout), {train['sessions']:,} sessions, "
        f"{train['examples']:,} target counselor turns"
    )
    print(
        f"  {FILES['test']}: {test['examples']:,} of {test['test_contexts_total']:,} test contexts from "
        f"{test['sessions']:,} of {manifest['test_pool']['sessions']:,} test-pool sessions"
        + (f" (seeded sample, seed {args.seed})" if args.test_samples else " (all)")
    )
    for key in ("score_train", "score_test"):
        print(f"  {FILES[key]}: {files[FILES[key]]['sessions']:,} sessions")
    print(
        f"  {FILES['manifest']}: counts, SHA-256 of every file, corpus hash {manifest['corpus']['content_sha256'][:16]}…"
    )
    print(f"written to {out}")
    print(LICENCE_NOTE)
    return 0


def format_row(evaluation: Evaluation) -> str:
    """The Markdown header and row, with the precision of the result tables
    (:data:`GENERATION_FLOAT_FORMAT`, :data:`SCORE_FLOAT_FORMAT`; an undefined value is blank)."""
    import pandas as pd

    from kokoro_analysis.finetune.results import GENERATION_FLOAT_FORMAT, SCORE_FLOAT_FORMAT
    from kokoro_analysis.publish.tables import format_frame, to_markdown

    float_format = (
        GENERATION_FLOAT_FORMAT if evaluation.kind == "generation" else SCORE_FLOAT_FORMAT
    )
    return to_markdown(
        *format_frame(pd.DataFrame([evaluation.row()]), float_format, index=False)
    ).rstrip("\n")


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score a predictions file: print what was scored and the table row."""
    from kokoro_analysis.corpus.loading import load_corpus
    from kokoro_analysis.finetune.export_folder import holds_export
    from kokoro_analysis.finetune.prediction_files import check_export, read_predictions
    from kokoro_analysis.finetune.predictions import evaluate
    from kokoro_analysis.text.surfaces import tokenizer_label

    path = Path(args.predictions)
    predictions = read_predictions(path)  # check the file before loading the corpus
    corpus = load_corpus(args.data, strict=not args.lenient)
    export = Path(args.export) if args.export else path.parent
    test_samples, seed = args.test_samples, args.seed
    if args.export or holds_export(export):
        test_samples, seed = check_export(export, corpus, test_samples, seed)
        print(f"export {export}: every file matches its manifest")
    evaluation = evaluate(
        predictions, corpus, test_samples=test_samples, seed=seed or 0, incomplete_ok=True
    )
    if not evaluation.complete:
        print(
            f"{path}: {evaluation.test_set}: the run that writes it has not finished; run the "
            f"same command again to complete it (metrics left blank)"
        )
        print(format_row(evaluation))
        return 0
    if predictions.kind == "generation":
        print(f"{path}: response generation, {evaluation.test_set}")
        print(
            f"tokens: {tokenizer_label()}; mean response length {evaluation.scores['mean_hyp_tokens']:.2f} "
            f"tokens ({evaluation.scores['mean_hyp_chars']:.1f} characters); metrics x 100"
        )
    else:
        print(f"{path}: score prediction, {evaluation.test_set}")
        print(
            "ACC / ACC_soft (within ±1) in percent, MAE in item points (0-5), each averaged over the 20 "
            "items; Spearman ρ between predicted and true item sums"
        )
    if predictions.contexts is not None:
        covered = predictions.contexts
        sample = "all" if covered["limit"] is None else f"seeded sample, seed {covered['seed']}"
        print(f"scored exactly the {covered['count']:,} contexts the file covers ({sample})")
    print(format_row(evaluation))
    if predictions.kind == "score":
        _print_undefined_rho(evaluation, predictions)
        _print_score_details(predictions, corpus, seed or 0)
    return 0


def cmd_translations(args: argparse.Namespace) -> int:
    """Align the official translations with the corpus; print the coverage, every mismatch and the
    release README check. Exit 1 on a misalignment (a mismatch, or a file without an original);
    with ``--lenient`` mismatched sessions are skipped and counted instead."""
    from kokoro_analysis.corpus import release_statistics, translations
    from kokoro_analysis.corpus.loading import load_corpus
    from kokoro_analysis.corpus.translation_sources import LICENCE_NOTE

    corpus = load_corpus(args.data)
    result = translations.load_translations(corpus, args.lang, args.path, strict=False, cache=False)
    coverage = result.coverage
    print(coverage.summary())
    for problem in coverage.problems[: args.show]:
        print(f"  {problem}")
    if len(coverage.problems) > args.show:
        print(f"  ... {len(coverage.problems) - args.show} more (use --show N)")
    try:
        check = release_statistics.release_statistics_check(result.source.root, corpus)
        print(release_statistics.release_check_summary(check, result.source.readme))
    except ValueError as error:  # the README is only compared, never needed
        print(f"release README check skipped: {error}")
    print(LICENCE_NOTE)
    misaligned = bool(coverage.unmatched_ids) or (bool(coverage.problems) and not args.lenient)
    return 1 if misaligned else 0


def _print_undefined_rho(evaluation: Evaluation, predictions) -> None:
    """Say why Spearman ρ is blank (it is undefined when either side's item sums are constant)."""
    import pandas as pd

    if not pd.isna(evaluation.scores["spearman_total"]):
        return
    sums = {sum(items) for items in predictions.values.values()}
    why = (
        f"every scored session has the same predicted item sum ({sums.pop()})"
        if len(sums) == 1
        else "the true item sums are all equal, or fewer than 2 sessions were scored"
    )
    print(f"Spearman ρ is blank: undefined, as {why}")


SCORE_DETAIL_FORMAT = {
    name: "{:.4f}" if name.endswith("mae") else "{:.2f}"
    for name in ("acc", "acc_soft", "mae", *(f"baseline_{k}" for k in ("acc", "acc_soft", "mae")))
}
"""Precision of the per-item and pooled tables: as the result row (MAE 4 dp, shares 2 dp)."""


def _print_score_details(predictions, corpus, seed: int) -> None:
    """Unparseable answers, per-item metrics beside the most-common-value baseline, confusion matrices."""
    import pandas as pd

    from kokoro_analysis.finetune.predictions import score_details
    from kokoro_analysis.publish.tables import format_frame, to_markdown

    for key, reason in list(predictions.unparsed.items())[:5]:
        print(f"unparseable answer, session {key}: {reason}")
    if len(predictions.unparsed) > 5:
        print(f"... {len(predictions.unparsed) - 5} more unparseable answers")
    if not predictions.values:
        return
    details = score_details(predictions, corpus, seed=seed)
    print(f"\nbaseline: {details.baseline_definition}; {details.scored_sessions:,} sessions scored")
    pooled = pd.DataFrame(details.pooled).T
    pooled[["acc", "acc_soft"]] *= 100
    print(
        to_markdown(*format_frame(pooled.rename_axis("pooled"), SCORE_DETAIL_FORMAT)).rstrip("\n")
    )
    per_item = details.per_item.copy()
    percent = ["acc", "acc_soft", "baseline_acc", "baseline_acc_soft"]
    per_item[percent] *= 100
    print(to_markdown(*format_frame(per_item, SCORE_DETAIL_FORMAT)).rstrip("\n"))
    print("\nconfusion matrices (rows: true score 0-5, columns: predicted 0-5)")
    for number, matrix in details.confusion.items():
        rows = " | ".join(" ".join(f"{v}" for v in row) for row in matrix.to_numpy().tolist())
        print(f"item {number:2d}: {rows}")


def cmd_smoke_model(args: argparse.Namespace) -> int:
    """Build the tiny random model with its tokenizer and chat template."""
    from kokoro_analysis.finetune.models import build_smoke_model

    folder = build_smoke_model(args.out, seed=args.seed)
    print(f"smoke model (tiny, randomly initialised, outputs are noise) written to {folder}")
    return 0


def _print_run(summary, what: str) -> None:
    resumed = f", {summary.already_done:,} already there (resumed)" if summary.already_done else ""
    repaired = "; a truncated last line was cut off and redone" if summary.repaired else ""
    print(
        f"{summary.path}: {summary.written:,} {what} written{resumed} of {summary.covered:,} "
        f"on {summary.device}{repaired}"
    )


def _model_run_arguments(args: argparse.Namespace) -> dict:
    """The keyword arguments ``generate`` and ``predict-scores`` share (see _add_model_run_options)."""
    return dict(
        model=args.model,
        out=args.out,
        adapter=args.adapter,
        limit=args.limit,
        seed=args.seed,
        batch_size=args.batch_size,
        max_new_tokens=args.max_new_tokens,
        max_length=args.max_length,
        device=args.device,
        quantize=args.quantize,
        engine=args.engine,
        progress=not args.quiet,
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


def cmd_reproduce_models(args: argparse.Namespace) -> int:
    """The released models' predictions files (resumable), for notebook 04's tables."""
    from kokoro_analysis.corpus.loading import load_corpus
    from kokoro_analysis.finetune.released import reproduce_models

    corpus = load_corpus(args.data)
    options = {"batch_size": args.batch_size} if args.batch_size else {}
    paths = reproduce_models(
        corpus,
        args.predictions_dir,
        limit=args.limit,
        device=args.device,
        seed=args.seed,
        quantize=args.quantize,
        engine=args.engine,
        progress=not args.quiet,
        **options,
    )
    print(f"{len(paths)} predictions files in {Path(args.predictions_dir).expanduser()}")
    print("the tables: ./run_all.sh --only 04 (./run_all.sh --models runs both)")
    return 0


def cmd_finetune(args: argparse.Namespace) -> int:
    """LoRA fine-tuning with TRL on a subset's export-sft data."""
    from kokoro_analysis.corpus.loading import load_corpus
    from kokoro_analysis.finetune.export import LICENCE_NOTE
    from kokoro_analysis.finetune.training import Recipe, finetune

    recipe = Recipe(
        base_model=args.base_model,
        subset=args.subset,
        task=args.task,
        quantize=args.quantize,
        lora_rank=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        target_modules=tuple(m.strip() for m in args.lora_targets.split(",") if m.strip()),
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        lr_scheduler=args.lr_scheduler,
        warmup_steps=args.warmup_steps,
        warmup_ratio=args.warmup_ratio,
        max_length=args.max_length,
        per_device_batch_size=args.per_device_batch,
        global_batch_size=None if args.grad_accum is not None else args.global_batch,
        gradient_accumulation_steps=args.grad_accum,
        max_steps=args.max_steps,
        limit=args.limit,
        seed=args.seed,
        save_steps=args.save_steps,
        logging_steps=args.logging_steps,
    )
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
    print(f"manifest: {result.out / 'finetune_manifest.json'}")
    print(LICENCE_NOTE)
    return 0


DEVICE_HELP = "auto: CUDA when visible, else the CPU (default: %(default)s)"
QUANTIZE_HELP = (
    "4bit: NF4 (QLoRA), needs CUDA + bitsandbytes; none: the model's dtype (default: %(default)s)"
)


def _add_model_run_options(
    parser: argparse.ArgumentParser, batch_size: int, max_new_tokens: int
) -> None:
    _add_data_option(parser)
    parser.add_argument(
        "--model", required=True, metavar="NAME_OR_PATH", help="hub id or local folder"
    )
    parser.add_argument(
        "--adapter",
        default=None,
        metavar="DIR_OR_ID",
        help="LoRA adapter: a finetune --out folder or a hub id (default: none)",
    )
    parser.add_argument(
        "--out", required=True, metavar="FILE", help="predictions file (JSON lines)"
    )
    parser.add_argument(
        "--limit", type=_positive_int, default=None, help="seeded sample of N (default: all)"
    )
    parser.add_argument(
        "--seed",
        type=_non_negative_int,
        default=0,
        help="seed of the sample and the held-out split (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=_positive_int,
        default=batch_size,
        help="prompts per batch (default: %(default)s)",
    )
    parser.add_argument(
        "--max-new-tokens",
        type=_positive_int,
        default=max_new_tokens,
        help="longest answer in tokens (default: %(default)s)",
    )
    parser.add_argument(
        "--max-length",
        type=int,
        default=4096,
        help="prompt + answer in tokens: a longer prompt loses its oldest turns, as in finetune "
        "(default: %(default)s)",
    )
    _add_engine_options(parser)


def _add_engine_options(parser: argparse.ArgumentParser) -> None:
    """Where and how generation runs (generate, predict-scores, reproduce-models)."""
    parser.add_argument(
        "--device", choices=["auto", "cpu", "cuda"], default="auto", help=DEVICE_HELP
    )
    parser.add_argument("--quantize", choices=["4bit", "none"], default="none", help=QUANTIZE_HELP)
    parser.add_argument(
        "--engine",
        choices=["hf", "vllm"],
        default="hf",
        help="hf: transformers generate (CPU or GPU); vllm: vLLM on a CUDA GPU (the vllm extra), "
        "same prompts and file (default: %(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_recipe_options(parser: argparse.ArgumentParser) -> None:
    """The recipe flags of ``finetune`` (defaults: ``training.Recipe``, the follow-up recipe)."""
    recipe = parser.add_argument_group(
        "recipe", "the defaults are the lab's recipe (README: the recipe table)"
    )
    recipe.add_argument(
        "--per-device-batch",
        type=int,
        default=1,
        metavar="N",
        help="examples per device and forward pass (default: %(default)s)",
    )
    recipe.add_argument(
        "--global-batch",
        type=int,
        default=16,
        metavar="N",
        help="examples per optimizer step over all processes; the gradient accumulation is "
        "N / (per-device batch x processes) (default: %(default)s, the recipe's 1 x 2 x 8 GPUs)",
    )
    recipe.add_argument(
        "--grad-accum",
        type=int,
        default=None,
        metavar="N",
        help="fix the gradient accumulation instead of --global-batch (default: derived)",
    )
    recipe.add_argument(
        "--learning-rate",
        type=float,
        default=1e-3,
        help="peak learning rate (default: %(default)s)",
    )
    recipe.add_argument(
        "--lr-scheduler",
        default="linear",
        choices=["linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts"],
        help="learning-rate schedule (transformers' names; default: %(default)s)",
    )
    recipe.add_argument(
        "--warmup-steps",
        type=int,
        default=0,
        metavar="N",
        help="linear warm-up steps (default: %(default)s)",
    )
    recipe.add_argument(
        "--warmup-ratio",
        type=float,
        default=0.0,
        help="warm-up as a share of all steps, used when --warmup-steps is 0 (default: %(default)s)",
    )
    recipe.add_argument(
        "--epochs", type=float, default=1.0, help="passes over the data (default: %(default)s)"
    )
    recipe.add_argument(
        "--max-length",
        type=int,
        default=4096,
        help="tokens per example (chat template included): a longer example loses its oldest "
        "context turns, never the target (default: %(default)s)",
    )
    recipe.add_argument("--lora-r", type=int, default=8, help="LoRA rank (default: %(default)s)")
    recipe.add_argument(
        "--lora-alpha", type=int, default=16, help="LoRA alpha (default: %(default)s)"
    )
    recipe.add_argument(
        "--lora-dropout", type=float, default=0.05, help="LoRA dropout (default: %(default)s)"
    )
    recipe.add_argument(
        "--lora-targets",
        default="q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
        metavar="NAMES",
        help="comma-separated modules LoRA adapts (default: %(default)s: attention and MLP)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kokoro-analysis",
        description="Validate, tokenize, report on, export and evaluate the KokoroChat corpus.",
    )
    parser.add_argument("--version", action="version", version=f"kokoro-analysis {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="check every record and the score rule")
    validate.add_argument("path", nargs="?", default=None, help="data location (as --data)")
    _add_data_option(validate)
    validate.add_argument(
        "--show",
        type=_non_negative_int,
        default=20,
        help="how many problems to print; all are counted (default: 20)",
    )
    _add_lenient_option(validate)
    validate.set_defaults(handler=cmd_validate)

    tokenize = commands.add_parser(
        "tokenize", help="tokenize every utterance with MeCab and cache the result"
    )
    _add_data_option(tokenize)
    tokenize.add_argument(
        "--workers", type=_positive_int, default=None, help="MeCab processes (default: all cores)"
    )
    tokenize.add_argument(
        "--quiet", action="store_true", help="no progress bar (the summary line is still printed)"
    )
    _add_lenient_option(tokenize)
    tokenize.set_defaults(handler=cmd_tokenize)

    report = commands.add_parser(
        "report", help="gather the reproduction report; exit 1 if a number differs"
    )
    report.add_argument(
        "--output-dir", default=None, help="run output folder (default: the project root)"
    )
    report.set_defaults(handler=cmd_report)

    export = commands.add_parser(
        "export-sft", help="write fine-tuning and test data (JSON lines) for a subset"
    )
    _add_data_option(export)
    export.add_argument(
        "--subset",
        default="full",
        choices=["low", "high", "full"],
        help="training sessions: low (score < 70), high (70-98) or full (<= 98) (default: full)",
    )
    export.add_argument("--out", required=True, metavar="DIR", help="output folder")
    _add_lenient_option(export)
    export.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty folder that holds no unchanged export of ours (only the export's "
        "file names are replaced; other files are never touched)",
    )
    export.add_argument(
        "--test-samples",
        type=_positive_int,
        default=None,
        help="seeded sample of test contexts (default: all)",
    )
    export.add_argument(
        "--seed",
        type=_non_negative_int,
        default=0,
        help="seed of the test-context sample (default: 0)",
    )
    export.add_argument(
        "--layout",
        choices=["session", "turn"],
        default="session",
        help="train.jsonl: one line per session with weighted assistant turns (default), "
        "or one line per target turn",
    )
    export.add_argument(
        "--lang",
        choices=["ja", "en", "zh"],
        default="ja",
        help="ja: the original (default); en, zh: the same examples from the official translations",
    )
    export.add_argument(
        "--translations",
        metavar="PATH",
        default=None,
        help="Multilingual KokoroChat for --lang en/zh (default: $KOKOROCHAT_TRANSLATIONS, then "
        "data/MultilingualKokoroChat, then a fresh clone)",
    )
    export.set_defaults(handler=cmd_export_sft)

    evaluate = commands.add_parser(
        "evaluate", help="score a predictions file (responses or item scores)"
    )
    _add_data_option(evaluate)
    evaluate.add_argument(
        "--predictions",
        required=True,
        metavar="FILE",
        help="JSON lines with id and response or items",
    )
    evaluate.add_argument(
        "--test-samples",
        type=_positive_int,
        default=None,
        help="the seeded sample of test contexts the file answers (as in export-sft)",
    )
    evaluate.add_argument(
        "--seed",
        type=_non_negative_int,
        default=None,
        help="seed of that sample (as in export-sft; default: the export's, else 0)",
    )
    evaluate.add_argument(
        "--export",
        metavar="DIR",
        default=None,
        help="the export-sft folder the file answers: its files are checked against manifest.json "
        "and its sample is used (default: the predictions file's folder when it holds a manifest)",
    )
    _add_lenient_option(evaluate)
    evaluate.set_defaults(handler=cmd_evaluate)

    translations_parser = commands.add_parser(
        "translations",
        help="align the official translations (Multilingual KokoroChat) with the corpus; "
        "exit 1 on a misalignment",
    )
    translations_parser.add_argument(
        "path",
        nargs="?",
        default=None,
        help="the release (folder holding English/, Chinese/) or a language folder "
        "(default: $KOKOROCHAT_TRANSLATIONS, then data/MultilingualKokoroChat, then a fresh clone)",
    )
    _add_data_option(translations_parser)
    translations_parser.add_argument(
        "--lang", choices=["en", "zh"], default="en", help="language (default en)"
    )
    translations_parser.add_argument(
        "--lenient", action="store_true", help="skip and count mismatched sessions (exit 0)"
    )
    translations_parser.add_argument(
        "--show", type=_non_negative_int, default=20, help="mismatches to list (default 20)"
    )
    translations_parser.set_defaults(handler=cmd_translations)

    smoke = commands.add_parser(
        "smoke-model", help="build a tiny random causal LM to try the model commands (no download)"
    )
    smoke.add_argument("--out", required=True, metavar="DIR", help="new folder")
    smoke.add_argument(
        "--seed",
        type=_non_negative_int,
        default=0,
        help="seed of the random weights (default: %(default)s)",
    )
    smoke.set_defaults(handler=cmd_smoke_model)

    finetune = commands.add_parser(
        "finetune", help="LoRA fine-tuning (TRL SFT) with the paper's settings as defaults"
    )
    _add_data_option(finetune)
    finetune.add_argument(
        "--base-model",
        default="tokyotech-llm/Llama-3.1-Swallow-8B-Instruct-v0.3",
        metavar="NAME_OR_PATH",
        help="hub id or local folder (default: the paper's base model)",
    )
    finetune.add_argument(
        "--subset",
        choices=["low", "high", "full"],
        default="full",
        help="training sessions by score (default: %(default)s)",
    )
    finetune.add_argument(
        "--task",
        choices=["generation", "score"],
        default="generation",
        help="next counselor turn or the 20 item scores (default: %(default)s)",
    )
    finetune.add_argument("--out", required=True, metavar="DIR", help="adapter folder")
    finetune.add_argument(
        "--max-steps",
        type=_steps_or_all,
        default=-1,
        help="stop after N optimizer steps (default: %(default)s, the whole --epochs)",
    )
    finetune.add_argument(
        "--quantize",
        choices=["4bit", "none"],
        default="4bit",
        help="4bit: QLoRA, needs CUDA + bitsandbytes (on the CPU: none, with a warning) "
        "(default: %(default)s)",
    )
    finetune.add_argument(
        "--limit",
        type=_positive_int,
        default=None,
        help="seeded sample of N examples (default: all)",
    )
    finetune.add_argument(
        "--seed",
        type=_non_negative_int,
        default=0,
        help="seed of the sample and training (default: %(default)s)",
    )
    finetune.add_argument(
        "--save-steps",
        type=_positive_int,
        default=500,
        help="checkpoint every N optimizer steps (default: %(default)s)",
    )
    finetune.add_argument(
        "--logging-steps",
        type=_positive_int,
        default=10,
        help="record the loss every N optimizer steps (default: %(default)s)",
    )
    finetune.add_argument(
        "--device", choices=["auto", "cpu", "cuda"], default="auto", help=DEVICE_HELP
    )
    _add_recipe_options(finetune)
    finetune.set_defaults(handler=cmd_finetune)

    generate = commands.add_parser(
        "generate", help="next counselor turn for the test contexts (predictions file, resumable)"
    )
    _add_model_run_options(generate, batch_size=8, max_new_tokens=256)
    generate.set_defaults(handler=cmd_generate)

    predict = commands.add_parser(
        "predict-scores",
        help="the 20 item scores of held-out sessions (predictions file, resumable)",
    )
    _add_model_run_options(predict, batch_size=4, max_new_tokens=128)
    predict.set_defaults(handler=cmd_predict_scores)

    reproduce = commands.add_parser(
        "reproduce-models",
        help="generate / predict-scores with every released model into predictions/ (resumable)",
    )
    _add_data_option(reproduce)
    reproduce.add_argument(
        "--predictions-dir",
        default="predictions",
        metavar="DIR",
        help="where the files go; notebook 04 reads predictions/ (default: %(default)s)",
    )
    reproduce.add_argument(
        "--limit",
        type=_positive_int,
        default=None,
        help="seeded sample of N contexts / sessions per model; required on the CPU (default: all)",
    )
    reproduce.add_argument(
        "--seed",
        type=_non_negative_int,
        default=0,
        help="seed of the sample (default: %(default)s)",
    )
    reproduce.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="prompts per batch (default: generate's 8, predict-scores' 4)",
    )
    _add_engine_options(reproduce)
    reproduce.set_defaults(handler=cmd_reproduce_models)
    _add_run_command(commands)
    return parser


def _add_run_command(commands) -> None:
    """``run``: every notebook, then the reproduction report (``kokoro_analysis.publish.pipeline``;
    what ``./run_all.sh`` runs)."""
    run = commands.add_parser(
        "run",
        help="run every notebook with papermill, then gather the reproduction report",
        description="Run the notebooks (figures/, tables/, executed/ in --output-dir; each one's "
        "output in logs/), then gather reports/reproduction.{md,html}. Exit status 1 when a notebook "
        "fails or a number that should match does not, 2 when nothing could run.",
    )
    _add_data_option(run)
    run.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only notebooks whose name contains NAME (repeatable)",
    )
    run.add_argument(
        "--output-dir",
        metavar="DIR",
        default=None,
        help="where figures/, tables/, reports/, executed/ and logs/ go "
        "(default: the project root)",
    )
    run.add_argument(
        "-p",
        "--parameters",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="pass a parameter to every notebook (papermill -p; repeatable), e.g. -p subset high",
    )
    run.add_argument(
        "-j",
        "--jobs",
        type=_positive_int,
        default=None,
        metavar="N",
        help="notebooks run at once once the caches are warm (default: the number of cores)",
    )
    _add_lenient_option(run)
    run.add_argument(
        "--models",
        action="store_true",
        help="first run the released models into predictions/ (kokoro-analysis "
        "reproduce-models: a GPU, the llm extra, resumable), then notebook 04",
    )
    run.add_argument("--version", action="version", version=f"kokoro-analysis {__version__}")
    run.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the notebooks and gather the report (see ``publish.pipeline``)."""
    from kokoro_analysis.publish.pipeline import RunOptions, run

    only, parameters = args.only or (), args.parameters or ()
    named = {
        name: getattr(args, name) for name in ("data", "output_dir", "jobs", "lenient", "models")
    }
    return run(RunOptions(only=only, parameters=parameters, **named))


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its status. Standard output closed early (``| head``) ends quietly with
    status 141, as a shell reports SIGPIPE; standard output full (``> /dev/full``) in one line."""
    stdout = sys.stdout
    sys.stdout = _GuardedOutput(stdout)
    try:
        status = _run(argv)
        sys.stdout.flush()
        return status
    except _OutputError as error:
        _detach_stdout(stdout)
        if isinstance(error.cause, BrokenPipeError):
            return 141
        print(
            f"kokoro-analysis: cannot write to standard output: {_os_error_text(error.cause)}",
            file=sys.stderr,
        )
        return 1
    finally:
        sys.stdout = stdout


class _OutputError(Exception):
    """Writing to standard output failed (kept apart from errors writing the user's files)."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _GuardedOutput:
    """Standard output whose failures raise :class:`_OutputError`."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as error:
            raise _OutputError(error) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as error:
            raise _OutputError(error) from None

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)  # --version and --help end here, before any heavy import
    from kokoro_analysis.corpus.validation import DataNotFoundError, KokoroDataError
    from kokoro_analysis.workers import WorkerDiedError

    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except DataNotFoundError as error:
        origin = _data_origin(args) if str(error).startswith("KokoroChat data") else ""
        print(f"kokoro-analysis {args.command}: {origin}{error}", file=sys.stderr)
        return 1
    except KokoroDataError as error:
        print(f"kokoro-analysis: {error}", file=sys.stderr)
        return 1
    except (ValueError, WorkerDiedError) as error:
        print(f"kokoro-analysis {args.command}: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # a missing file, permission, full disk, read-only or name too long
        print(f"kokoro-analysis {args.command}: {_os_error_text(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _data_origin(args: argparse.Namespace) -> str:
    """Which option gave the data location, as a prefix for a not-found message ("" for none)."""
    if getattr(args, "path", None) and args.command == "validate":
        return ""
    return f"--data {args.data}: " if getattr(args, "data", None) else ""


def _os_error_text(error: OSError) -> str:
    """``path: reason`` for an error of the operating system, else the message as raised."""
    if error.errno is None or not error.strerror:
        return str(error)
    paths = [str(p) for p in (error.filename, error.filename2) if p is not None]
    return f"{' -> '.join(paths)}: {error.strerror}" if paths else error.strerror


def _detach_stdout(stdout) -> None:
    """Point standard output at /dev/null, so nothing fails again when Python flushes it at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
