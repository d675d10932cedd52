"""The ``kokoro-analysis`` command: validate, tokenize, report, export-sft, evaluate (argparse lives only here).

A user's mistake (wrong path, broken file, another dataset) ends in one readable message and exit
status 1 (2 for wrong usage), never a Python traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from kokoro_analysis.corpus.loading import load_corpus
from kokoro_analysis.corpus.validation import KokoroDataError
from kokoro_analysis.finetune.data import FILES, LICENCE_NOTE, export_sft
from kokoro_analysis.finetune.predictions import (
    Evaluation,
    evaluate,
    read_predictions,
    tokenizer_label,
)
from kokoro_analysis.finetune.results import GENERATION_FLOAT_FORMAT, SCORE_FLOAT_FORMAT
from kokoro_analysis.paths import cache_dir
from kokoro_analysis.publish.reproduction import gather_report
from kokoro_analysis.publish.tables import format_frame, to_markdown
from kokoro_analysis.text.mecab import tokenize_corpus


def _add_data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        metavar="PATH",
        default=None,
        help="KokoroChat clone, its kokorochat_dialogues/ folder or a Parquet export "
        "(default: $KOKOROCHAT_DATA, then data/KokoroChat, then a fresh clone)",
    )


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate every record; print a summary; exit 1 when anything is wrong."""

    corpus = load_corpus(args.path or args.data, strict=False, cache=False)
    report = corpus.report
    print(report.summary())
    if report.problems:
        print("\nproblems:")
        for problem in report.problems[: args.show]:
            print(f"  {problem}")
        if len(report.problems) > args.show:
            print(f"  ... {len(report.problems) - args.show} more (use --show N)")
        return 1
    branches = corpus.dialogues["score_branch"].value_counts()
    print(
        "score rule: holds on every session "
        f"({', '.join(f'{name}: {count:,}' for name, count in branches.items())})"
    )
    return 0


def cmd_tokenize(args: argparse.Namespace) -> int:
    """Warm the token cache for the data."""

    corpus = load_corpus(args.data)
    started = time.perf_counter()
    tokens = tokenize_corpus(corpus, workers=args.workers, progress=not args.quiet)
    print(
        f"{len(tokens):,} tokens for {len(corpus.utterances):,} utterances in "
        f"{time.perf_counter() - started:.1f} s; cache: {cache_dir() / 'tokens'}"
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Gather the notebooks' reproduction logs into reports/reproduction.{md,html}; exit 1 if a number
    expected to match differs, 2 if no notebook wrote a part, else 0."""
    report = gather_report(args.output_dir)
    print(f"reproduction report: {report.summary}")
    print(f"  {report.markdown_path}\n  {report.html_path}")
    if not report.parts:
        print("no report parts found: run the notebooks first", file=sys.stderr)
        return 2
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
    corpus = load_corpus(args.data)
    layout = args.layout
    translations = None
    if args.lang != "ja":
        from kokoro_analysis.corpus.translations import load_translations

        translations = load_translations(corpus, args.lang, args.translations)
    manifest = export_sft(
        corpus,
        args.subset,
        args.out,
        test_samples=args.test_samples,
        seed=args.seed,
        layout=layout,
        translations=translations,
    )
    files = manifest["files"]
    train, test = files[FILES["train"]], files[FILES["test"]]
    out = Path(args.out).expanduser()
    language = manifest["language"]
    if translations is not None:
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
    float_format = (
        GENERATION_FLOAT_FORMAT if evaluation.kind == "generation" else SCORE_FLOAT_FORMAT
    )
    return to_markdown(
        *format_frame(pd.DataFrame([evaluation.row()]), float_format, index=False)
    ).rstrip("\n")


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score a predictions file: print what was scored and the table row."""
    path = Path(args.predictions)
    predictions = read_predictions(path)  # check the file before loading the corpus
    corpus = load_corpus(args.data)
    evaluation = evaluate(predictions, corpus, test_samples=args.test_samples, seed=args.seed)
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
    print(format_row(evaluation))
    return 0


def cmd_translations(args: argparse.Namespace) -> int:
    """Align the official translations with the corpus; print the coverage, every mismatch and the
    release README check. Exit 1 on a misalignment (a mismatch, or a file without an original);
    with ``--lenient`` mismatched sessions are skipped and counted instead."""
    from kokoro_analysis.corpus import translations

    corpus = load_corpus(args.data)
    result = translations.load_translations(corpus, args.lang, args.path, strict=False, cache=False)
    coverage = result.coverage
    print(coverage.summary())
    for problem in coverage.problems[: args.show]:
        print(f"  {problem}")
    if len(coverage.problems) > args.show:
        print(f"  ... {len(coverage.problems) - args.show} more (use --show N)")
    check = translations.release_statistics_check(result.source.root, corpus)
    print(translations.release_check_summary(check, result.source.readme))
    print(translations.LICENCE_NOTE)
    misaligned = bool(coverage.unmatched_ids) or (bool(coverage.problems) and not args.lenient)
    return 1 if misaligned else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kokoro-analysis", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="check every record and the score rule")
    validate.add_argument("path", nargs="?", default=None, help="data location (as --data)")
    _add_data_option(validate)
    validate.add_argument("--show", type=int, default=20, help="problems to list (default 20)")
    validate.set_defaults(handler=cmd_validate)

    tokenize = commands.add_parser(
        "tokenize", help="tokenize every utterance with MeCab and cache the result"
    )
    _add_data_option(tokenize)
    tokenize.add_argument(
        "--workers", type=int, default=None, help="processes (default: all cores)"
    )
    tokenize.add_argument("--quiet", action="store_true", help="no progress bar")
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
        "--subset", default="full", choices=["low", "high", "full"], help="training subset"
    )
    export.add_argument("--out", required=True, metavar="DIR", help="output folder")
    export.add_argument(
        "--test-samples",
        type=int,
        default=None,
        help="seeded sample of test contexts (default: all)",
    )
    export.add_argument("--seed", type=int, default=0, help="seed of the test-context sample")
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
        type=int,
        default=None,
        help="the seeded sample of test contexts the file answers (as in export-sft)",
    )
    evaluate.add_argument(
        "--seed", type=int, default=0, help="seed of that sample (as in export-sft)"
    )
    evaluate.set_defaults(handler=cmd_evaluate)

    translations = commands.add_parser(
        "translations",
        help="align the official translations (Multilingual KokoroChat) with the corpus; "
        "exit 1 on a misalignment",
    )
    translations.add_argument(
        "path",
        nargs="?",
        default=None,
        help="the release (folder holding English/, Chinese/) or a language folder "
        "(default: $KOKOROCHAT_TRANSLATIONS, then data/MultilingualKokoroChat, then a fresh clone)",
    )
    _add_data_option(translations)
    translations.add_argument(
        "--lang", choices=["en", "zh"], default="en", help="language (default en)"
    )
    translations.add_argument(
        "--lenient", action="store_true", help="skip and count mismatched sessions (exit 0)"
    )
    translations.add_argument(
        "--show", type=int, default=20, help="mismatches to list (default 20)"
    )
    translations.set_defaults(handler=cmd_translations)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KokoroDataError as error:
        print(f"kokoro-analysis: {error}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError) as error:
        print(f"kokoro-analysis {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
