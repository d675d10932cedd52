"""The publishing commands: ``run`` runs every notebook and gathers the report (what ``./run_all.sh``
runs), ``report`` gathers the notebooks' reproduction logs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kokoro_analysis import __version__
from kokoro_analysis.cli.options import Command, add_data_option, add_lenient_option, positive_int


def add_run_options(parser: argparse.ArgumentParser) -> None:
    add_data_option(parser)
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only notebooks whose name contains NAME (repeatable)",
    )
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        default=None,
        help="where figures/, tables/, reports/, executed/ and logs/ go (default: the project root)",
    )
    parser.add_argument(
        "-p",
        "--parameters",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="pass a parameter to every notebook (papermill -p; repeatable), e.g. -p subset high",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=positive_int,
        default=None,
        metavar="N",
        help="notebooks run at once once the caches are warm (default: the number of cores)",
    )
    add_lenient_option(parser)
    parser.add_argument(
        "--models",
        action="store_true",
        help="first run the released models into predictions/ (kokoro-analysis "
        "reproduce-models: a GPU, the llm extra, resumable), then notebook 04",
    )
    parser.add_argument("--version", action="version", version=f"kokoro-analysis {__version__}")


def cmd_run(args: argparse.Namespace) -> int:
    """Run the notebooks and gather the report (see ``publish.pipeline``)."""
    from kokoro_analysis.publish.pipeline import RunOptions, run

    only, parameters = args.only or (), args.parameters or ()
    named = {
        name: getattr(args, name) for name in ("data", "output_dir", "jobs", "lenient", "models")
    }
    return run(RunOptions(only=only, parameters=parameters, **named))


def add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output-dir", default=None, help="run output folder (default: the project root)"
    )


def cmd_report(args: argparse.Namespace) -> int:
    """Gather the notebooks' reproduction logs into reports/reproduction.{md,html}; exit 1 if a number
    expected to match differs, 2 if no notebook wrote a part (then nothing is written), else 0."""
    from kokoro_analysis.paths import PROJECT_ROOT, OutputDirs
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


COMMANDS = (
    Command(
        "run",
        "run every notebook with papermill, then gather the reproduction report",
        add_run_options,
        cmd_run,
        description="Run the notebooks (figures/, tables/, executed/ in --output-dir; each one's "
        "output in logs/), then gather reports/reproduction.{md,html}. Exit status 1 when a notebook "
        "fails or a number that should match does not, 2 when nothing could run.",
    ),
    Command(
        "report",
        "gather the reproduction report; exit 1 if a number differs",
        add_report_options,
        cmd_report,
    ),
)
