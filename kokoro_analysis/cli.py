"""The ``kokoro-analysis`` command: validate, tokenize, report, export-sft, evaluate.

A user's mistake (wrong path, broken file, another dataset) ends in one readable message and exit
status 1 (2 for wrong usage), never a Python traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Callable, Sequence

from .validation import KokoroDataError


def _add_data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", metavar="PATH", default=None,
                        help="KokoroChat clone, its kokorochat_dialogues/ folder or a Parquet export "
                             "(default: $KOKOROCHAT_DATA, then data/KokoroChat, then a fresh clone)")


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate every record; print a summary; exit 1 when anything is wrong."""
    from .loading import load_corpus

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
    print("score rule: holds on every session "
          f"({', '.join(f'{name}: {count:,}' for name, count in branches.items())})")
    return 0


def cmd_tokenize(args: argparse.Namespace) -> int:
    """Warm the token cache for the data."""
    from .loading import load_corpus
    from .paths import cache_dir
    from .tokenize import tokenize_corpus

    corpus = load_corpus(args.data)
    started = time.perf_counter()
    tokens = tokenize_corpus(corpus, workers=args.workers, progress=not args.quiet)
    print(f"{len(tokens):,} tokens for {len(corpus.utterances):,} utterances in "
          f"{time.perf_counter() - started:.1f} s; cache: {cache_dir() / 'tokens'}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Gather the notebooks' reproduction logs into reports/reproduction.{md,html}."""
    from .reporting import gather_report_cli

    return gather_report_cli(args.output_dir)


def cmd_export_sft(args: argparse.Namespace) -> int:
    from .sft import export_cli

    return export_cli(args)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluation import evaluate_cli

    return evaluate_cli(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kokoro-analysis", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="check every record and the score rule")
    validate.add_argument("path", nargs="?", default=None, help="data location (as --data)")
    _add_data_option(validate)
    validate.add_argument("--show", type=int, default=20, help="problems to list (default 20)")
    validate.set_defaults(handler=cmd_validate)

    tokenize = commands.add_parser("tokenize", help="tokenize every utterance with MeCab and cache the result")
    _add_data_option(tokenize)
    tokenize.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    tokenize.add_argument("--quiet", action="store_true", help="no progress bar")
    tokenize.set_defaults(handler=cmd_tokenize)

    report = commands.add_parser("report", help="gather the reproduction report; exit 1 if a number differs")
    report.add_argument("--output-dir", default=None, help="run output folder (default: the project root)")
    report.set_defaults(handler=cmd_report)

    export = commands.add_parser("export-sft", help="write fine-tuning and test data (JSON lines) for a subset")
    _add_data_option(export)
    export.add_argument("--subset", default="full", choices=["low", "high", "full"], help="training subset")
    export.add_argument("--out", required=True, metavar="DIR", help="output folder")
    export.add_argument("--test-samples", type=int, default=None,
                        help="seeded sample of test contexts (default: all)")
    export.add_argument("--seed", type=int, default=0, help="seed of the test-context sample")
    export.add_argument("--layout", choices=["session", "turn"], default="session",
                        help="train.jsonl: one line per session with weighted assistant turns (default), "
                             "or one line per target turn")
    export.set_defaults(handler=cmd_export_sft)

    evaluate = commands.add_parser("evaluate", help="score a predictions file (responses or item scores)")
    _add_data_option(evaluate)
    evaluate.add_argument("--predictions", required=True, metavar="FILE", help="JSON lines with id and response or items")
    evaluate.add_argument("--test-samples", type=int, default=None,
                          help="the seeded sample of test contexts the file answers (as in export-sft)")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of that sample (as in export-sft)")
    evaluate.set_defaults(handler=cmd_evaluate)
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
