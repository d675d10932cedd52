"""The publishing commands: ``report`` gathers the notebooks' reproduction logs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kokoro_analysis.cli.options import Command


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
        "report",
        "gather the reproduction report; exit 1 if a number differs",
        add_report_options,
        cmd_report,
    ),
)
