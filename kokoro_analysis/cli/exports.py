"""The fine-tuning data commands: ``export-sft`` (the paper's fine-tuning, test and score-prediction
files) and ``evaluate`` (a predictions file scored against them)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from kokoro_analysis.cli.options import (
    TRANSLATION_LOCATIONS,
    Command,
    add_data_option,
    add_lenient_option,
    add_out_option,
    add_seed_option,
    positive_int,
    subset_help,
)

if TYPE_CHECKING:
    from kokoro_analysis.finetune.predictions import Evaluation


def add_export_options(parser: argparse.ArgumentParser) -> None:
    from kokoro_analysis.finetune.data import PROMPTS, TRAIN_SUBSETS
    from kokoro_analysis.finetune.export import LAYOUTS

    add_data_option(parser)
    parser.add_argument("--subset", default="full", choices=TRAIN_SUBSETS, help=subset_help())
    add_out_option(parser, "DIR", "output folder")
    add_lenient_option(parser)
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty folder that holds no unchanged export of ours (only the export's "
        "file names are replaced; other files are never touched)",
    )
    parser.add_argument(
        "--test-samples",
        type=positive_int,
        default=None,
        help="seeded sample of test contexts (default: all)",
    )
    add_seed_option(parser, "the test-context sample")
    parser.add_argument(
        "--layout",
        choices=LAYOUTS,
        default=LAYOUTS[0],
        help="train.jsonl: one line per session with weighted assistant turns (session), or one "
        "line per target turn (turn) (default: %(default)s)",
    )
    parser.add_argument(
        "--language",
        choices=list(PROMPTS),
        default="ja",
        help="the language of the exported texts: ja the original; en, zh the same examples from "
        "the official translations (default: %(default)s)",
    )
    parser.add_argument(
        "--translations",
        metavar="PATH",
        default=None,
        help=f"Multilingual KokoroChat for --language en/zh (default: {TRANSLATION_LOCATIONS})",
    )


def cmd_export_sft(args: argparse.Namespace) -> int:
    """Write the fine-tuning / test / score-prediction files; print the counts and the licence note."""
    from kokoro_analysis.corpus.loading import load_corpus
    from kokoro_analysis.corpus.translations import load_translations
    from kokoro_analysis.finetune.export import LICENCE_NOTE, export_sft

    corpus = load_corpus(args.data, strict=not args.lenient)
    translated = None
    if args.language != "ja":
        translated = load_translations(corpus, translation=args.language, path=args.translations)
    manifest = export_sft(
        corpus,
        args.subset,
        args.out,
        test_samples=args.test_samples,
        seed=args.seed,
        layout=args.layout,
        translations=translated,
        force=args.force,
    )
    if translated is not None:
        _print_translation_counts(args.language, manifest["language"])
    _print_export_counts(args, manifest)
    print(f"written to {Path(args.out).expanduser()}")
    print(LICENCE_NOTE)
    return 0


def _print_translation_counts(language: str, counts: dict) -> None:
    """The sessions the translation could not give whole, and the empty translations dropped."""
    skipped = counts["sessions_skipped"]
    print(
        f"language {language} (official translations): {sum(skipped.values()):,} of "
        f"{counts['original_sessions']:,} sessions skipped ("
        + ", ".join(f"{reason}: {count:,}" for reason, count in skipped.items())
        + f"), {counts['empty_messages_dropped']:,} empty translations dropped"
    )


def _print_export_counts(args: argparse.Namespace, manifest: dict) -> None:
    """One line per exported file, from the manifest."""
    from kokoro_analysis.finetune.export import FILES

    files = manifest["files"]
    train, test = files[FILES["train"]], files[FILES["test"]]
    subset = manifest["subset"]
    print(f"subset {args.subset} ({subset['definition']}): {subset['sessions']:,} sessions")
    print(
        f"  {FILES['train']}: {train['lines']:,} lines ({args.layout} layout), {train['sessions']:,} "
        f"sessions, {train['examples']:,} target counselor turns"
    )
    print(
        f"  {FILES['test']}: {test['examples']:,} of {test['test_contexts_total']:,} test contexts from "
        f"{test['sessions']:,} of {manifest['test_pool']['sessions']:,} test-pool sessions"
        + (f" (seeded sample, seed {args.seed})" if args.test_samples else " (all)")
    )
    for key in ("score_train", "score_test"):
        print(f"  {FILES[key]}: {files[FILES[key]]['sessions']:,} sessions")
    print(
        f"  {FILES['manifest']}: counts, SHA-256 of every file, corpus hash "
        f"{manifest['corpus']['content_sha256'][:16]}…"
    )


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


def add_evaluate_options(parser: argparse.ArgumentParser) -> None:
    add_data_option(parser)
    parser.add_argument(
        "--predictions",
        required=True,
        metavar="FILE",
        help="JSON lines with id and response or items",
    )
    parser.add_argument(
        "--test-samples",
        type=positive_int,
        default=None,
        help="the seeded sample of test contexts the file answers (as in export-sft)",
    )
    add_seed_option(parser, "that sample (as in export-sft; default: the export's, else 0)", None)
    parser.add_argument(
        "--export",
        metavar="DIR",
        default=None,
        help="the export-sft folder the file answers: its files are checked against manifest.json "
        "and its sample is used (default: the predictions file's folder when it holds a manifest)",
    )
    add_lenient_option(parser)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score a predictions file: print what was scored and the table row."""
    from kokoro_analysis.corpus.loading import load_corpus
    from kokoro_analysis.finetune.export_folder import holds_export
    from kokoro_analysis.finetune.prediction_files import check_export, read_predictions
    from kokoro_analysis.finetune.predictions import evaluate

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
    _print_what_was_scored(path, predictions, evaluation)
    print(format_row(evaluation))
    if predictions.kind == "score":
        _print_undefined_rho(evaluation, predictions)
        _print_score_details(predictions, corpus, seed or 0)
    return 0


def _print_what_was_scored(path: Path, predictions, evaluation: Evaluation) -> None:
    """The task, test set, units and the contexts the file covers."""
    from kokoro_analysis.text.surfaces import tokenizer_label

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

    from kokoro_analysis.finetune.prediction_files import MAX_LISTED
    from kokoro_analysis.finetune.predictions import score_details
    from kokoro_analysis.publish.tables import format_frame, to_markdown

    for key, reason in list(predictions.unparsed.items())[:MAX_LISTED]:
        print(f"unparseable answer, session {key}: {reason}")
    if len(predictions.unparsed) > MAX_LISTED:
        print(f"... {len(predictions.unparsed) - MAX_LISTED} more unparseable answers")
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


COMMANDS = (
    Command(
        "export-sft",
        "write fine-tuning and test data (JSON lines) for a subset",
        add_export_options,
        cmd_export_sft,
    ),
    Command(
        "evaluate",
        "score a predictions file (responses or item scores)",
        add_evaluate_options,
        cmd_evaluate,
    ),
)
