"""The ``kokoro-analysis`` command (argparse lives only in this package): one module per group of
commands, each command a :class:`~kokoro_analysis.cli.options.Command` (name, help, the function
adding its options, the handler):

- :mod:`~kokoro_analysis.cli.data`: validate, tokenize, translations
- :mod:`~kokoro_analysis.cli.exports`: export-sft, evaluate
- :mod:`~kokoro_analysis.cli.models`: smoke-model, finetune, generate, predict-scores,
  reproduce-models
- :mod:`~kokoro_analysis.cli.reports`: run, report

Only the chosen command's options are added, and they import the modules that own their choices and
defaults, so ``--version`` and ``--help`` import nothing heavy (pandas, pyarrow, scipy). A user's
mistake (wrong path, broken file, another dataset) ends in one readable message and exit status 1 (2
for wrong usage), never a Python traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from kokoro_analysis import __version__
from kokoro_analysis.cli import data, exports, models, reports

COMMANDS = (
    *data.COMMANDS,
    *exports.COMMANDS,
    *models.COMMANDS,
    *reports.COMMANDS,
)
"""Every subcommand, in the order ``--help`` lists them."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; given a command's name, only that command's options are added
    (the others' owners are not imported)."""
    parser = argparse.ArgumentParser(
        prog="kokoro-analysis",
        description="Validate, tokenize, report on, export and evaluate the KokoroChat corpus.",
    )
    parser.add_argument("--version", action="version", version=f"kokoro-analysis {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for spec in COMMANDS:
        sub = commands.add_parser(spec.name, help=spec.help, description=spec.description)
        if command in (None, spec.name):
            spec.add_options(sub)
        sub.set_defaults(handler=spec.run)
    return parser


def _named_command(argv: Sequence[str]) -> str:
    """The command ``argv`` names (its first word that is not an option; the top level's options take
    no value), or "" when it names none (``--help``, ``--version``)."""
    return next((word for word in argv if not word.startswith("-")), "")


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
    argv = sys.argv[1:] if argv is None else list(argv)
    # --version and --help end here, before any heavy import
    args = build_parser(_named_command(argv)).parse_args(argv)
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
