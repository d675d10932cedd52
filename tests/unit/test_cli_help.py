"""The command line a user expects: --version, plain-text help that shows every default, and a warm
tokenize that says it read the cache."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kokoro_analysis import __version__
from kokoro_analysis.cli import build_parser, main

COMMANDS = (
    "validate",
    "tokenize",
    "report",
    "export-sft",
    "evaluate",
    "smoke-model",
    "finetune",
    "generate",
    "predict-scores",
    "reproduce-models",
    "run",
)


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert (
        stop.value.code == 0 and capsys.readouterr().out.strip() == f"kokoro-analysis {__version__}"
    )


@pytest.mark.parametrize("command", ("", *COMMANDS))
def test_help_is_plain_text_and_shows_defaults(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"] if command else ["--help"])
    text = capsys.readouterr().out
    assert "``" not in text and ":func:" not in text and ":class:" not in text
    parser = build_parser()
    if not command:
        return
    sub = parser._subparsers._group_actions[0].choices[command]
    for action in sub._actions:
        if (
            action.option_strings
            and action.help
            and action.default not in (None, False, "==SUPPRESS==")
        ):
            assert "default" in action.help, (
                f"{command} {action.option_strings[0]}: default not shown"
            )
        if action.option_strings and action.dest != "help":
            assert action.help, f"{command} {action.option_strings[0]} is not explained"


def test_tokenize_says_where_the_tokens_came_from(synthetic_dir, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("KOKORO_ANALYSIS_CACHE", str(tmp_path / "cache"))
    assert main(["tokenize", "--data", str(synthetic_dir), "--quiet"]) == 0
    first = capsys.readouterr().out
    assert main(["tokenize", "--data", str(synthetic_dir), "--quiet"]) == 0
    second = capsys.readouterr().out
    assert "read from the cache" in second
    assert ("tokenized" in first) or (
        "read from the cache" in first
    )  # another test may have warmed it


@pytest.mark.parametrize(
    "arguments", (["--version"], ["--help"], ["tokenize", "--help"], ["run", "--help"])
)
def test_version_and_help_import_nothing_heavy(arguments):
    """--version and --help must be instant: no pandas, NumPy, pyarrow, SciPy, matplotlib import."""
    code = (
        "import sys\nfrom kokoro_analysis.cli import main\ntry:\n    main(sys.argv[1:])\n"
        "except SystemExit:\n    pass\n"
        "heavy = {'pandas', 'numpy', 'pyarrow', 'scipy', 'matplotlib', 'fugashi'}\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & heavy))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *arguments], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
