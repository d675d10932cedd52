"""The corpus commands: ``validate`` (every record and the score rule), ``tokenize`` (the token
cache) and ``translations`` (the official translations aligned with the corpus)."""

from __future__ import annotations

import argparse
import time

from kokoro_analysis.cli.options import (
    TRANSLATION_LOCATIONS,
    Command,
    add_data_option,
    add_lenient_option,
    add_show_option,
    positive_int,
)


def _print_problems(problems: list, show: int) -> None:
    """The first ``show`` problems, then how many more there are."""
    for problem in problems[:show]:
        print(f"  {problem}")
    if len(problems) > show:
        print(f"  ... {len(problems) - show} more (use --show N)")


def add_validate_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=None, help="data location (as --data)")
    add_data_option(parser)
    add_show_option(parser, "problems")
    add_lenient_option(parser)


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate every record; print a summary; exit 1 when anything is wrong (with --lenient: only
    when no session is valid)."""
    from kokoro_analysis.corpus.loading import load_corpus

    corpus = load_corpus(args.path or args.data, strict=False, cache=False)
    report = corpus.report
    print(report.summary())
    if report.problems:
        print("\nproblems:")
        _print_problems(report.problems, args.show)
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


def add_tokenize_options(parser: argparse.ArgumentParser) -> None:
    add_data_option(parser)
    parser.add_argument(
        "--workers", type=positive_int, default=None, help="MeCab processes (default: all cores)"
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar (the summary line is still printed)"
    )
    add_lenient_option(parser)


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


def add_translations_options(parser: argparse.ArgumentParser) -> None:
    from kokoro_analysis.corpus.translation_sources import TRANSLATION_FOLDERS

    parser.add_argument(
        "path",
        nargs="?",
        default=None,
        help="the release (folder holding English/, Chinese/) or a language folder "
        f"(default: {TRANSLATION_LOCATIONS})",
    )
    add_data_option(parser)
    parser.add_argument(
        "--translation",
        choices=list(TRANSLATION_FOLDERS),
        default="en",
        help="the translation to align: "
        + ", ".join(f"{code} ({name})" for code, name in TRANSLATION_FOLDERS.items())
        + " (default: %(default)s)",
    )
    add_lenient_option(parser, "skip and count mismatched sessions (exit 0)")
    add_show_option(parser, "mismatches")


def cmd_translations(args: argparse.Namespace) -> int:
    """Align the official translations with the corpus; print the coverage, every mismatch and the
    release README check. Exit 1 on a misalignment (a mismatch, or a file without an original);
    with ``--lenient`` mismatched sessions are skipped and counted instead."""
    from kokoro_analysis.corpus import release_statistics
    from kokoro_analysis.corpus.loading import load_corpus
    from kokoro_analysis.corpus.translation_sources import LICENCE_NOTE
    from kokoro_analysis.corpus.translations import load_translations

    corpus = load_corpus(args.data)
    result = load_translations(
        corpus, translation=args.translation, path=args.path, strict=False, cache=False
    )
    coverage = result.coverage
    print(coverage.summary())
    _print_problems(coverage.problems, args.show)
    try:
        check = release_statistics.release_statistics_check(result.source.root, corpus)
        print(release_statistics.release_check_summary(check, result.source.readme))
    except ValueError as error:  # the README is only compared, never needed
        print(f"release README check skipped: {error}")
    print(LICENCE_NOTE)
    misaligned = bool(coverage.unmatched_ids) or (bool(coverage.problems) and not args.lenient)
    return 1 if misaligned else 0


COMMANDS = (
    Command(
        "validate", "check every record and the score rule", add_validate_options, cmd_validate
    ),
    Command(
        "tokenize",
        "tokenize every utterance with MeCab and cache the result",
        add_tokenize_options,
        cmd_tokenize,
    ),
    Command(
        "translations",
        "align the official translations (Multilingual KokoroChat) with the corpus; "
        "exit 1 on a misalignment",
        add_translations_options,
        cmd_translations,
    ),
)
