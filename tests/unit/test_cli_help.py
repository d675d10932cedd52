"""The command line a user expects: --version, plain-text help that shows every default (read from
the code that applies it), the language options named by what they choose, and a warm tokenize that
says it read the cache."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from kokoro_analysis import __version__
from kokoro_analysis.cli import build_parser, main

COMMANDS = (
    "validate",
    "tokenize",
    "translations",
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


def _options(command: str) -> dict[str, argparse.Action]:
    """Option string → action of one command, as the full parser builds it."""
    sub = build_parser()._subparsers._group_actions[0].choices[command]
    return {option: action for action in sub._actions for option in action.option_strings}


def test_every_command_is_listed():
    assert set(build_parser()._subparsers._group_actions[0].choices) == set(COMMANDS)


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
    "arguments",
    (["--version"], ["--help"], ["tokenize", "--help"], ["validate", "--help"], ["run", "--help"]),
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


def test_python_m_runs_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "kokoro_analysis.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == f"kokoro-analysis {__version__}"


def test_a_named_command_gets_only_its_own_options():
    commands = build_parser("tokenize")._subparsers._group_actions[0].choices
    assert "--workers" in {
        o for action in commands["tokenize"]._actions for o in action.option_strings
    }
    assert [action.dest for action in commands["finetune"]._actions] == ["help"]


def test_model_run_defaults_are_the_run_options_defaults():
    from dataclasses import asdict

    from kokoro_analysis.finetune.generation import GENERATION_OPTIONS
    from kokoro_analysis.finetune.score_prediction import SCORE_OPTIONS

    for command, defaults in (("generate", GENERATION_OPTIONS), ("predict-scores", SCORE_OPTIONS)):
        options = _options(command)
        shown = 0
        for name, default in asdict(defaults).items():
            option = "--" + name.replace("_", "-")
            if option in options:
                assert options[option].default == default, (command, option)
                shown += 1
        assert shown >= 5, command


def test_choices_come_from_their_owners():
    from kokoro_analysis.corpus.translation_sources import TRANSLATION_FOLDERS
    from kokoro_analysis.finetune.data import PROMPTS, TRAIN_SUBSETS
    from kokoro_analysis.finetune.export import LAYOUTS
    from kokoro_analysis.finetune.models import DEVICES, QUANTIZATIONS
    from kokoro_analysis.finetune.training import TASKS

    export, finetune = _options("export-sft"), _options("finetune")
    assert (
        list(export["--subset"].choices)
        == list(finetune["--subset"].choices)
        == list(TRAIN_SUBSETS)
    )
    assert list(export["--layout"].choices) == list(LAYOUTS)
    assert list(export["--language"].choices) == list(PROMPTS)
    assert list(_options("translations")["--translation"].choices) == list(TRANSLATION_FOLDERS)
    assert list(finetune["--task"].choices) == list(TASKS)
    assert list(finetune["--device"].choices) == list(DEVICES)
    assert list(finetune["--quantize"].choices) == list(QUANTIZATIONS)


def test_lang_is_not_the_translation_option(capsys):
    """``--lang`` means the label language of figures only: the translation aligned is
    ``--translation`` (and an export's language ``--language``)."""
    with pytest.raises(SystemExit) as stop:
        main(["translations", "--lang", "zh"])
    assert stop.value.code == 2 and "--lang" in capsys.readouterr().err
