"""The command line under bad input (issue 13: items 3 in the CLI, 4, 6, 9, 14, 17, 19): one readable
line, never a traceback; --lenient on every command that loads the data, as the strict error says."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.cli import build_parser, main
from kokoro_analysis.corpus.synthetic import make_corpus, write_corpus
from kokoro_analysis.corpus.validation import KokoroDataError
from kokoro_analysis.finetune.data import sample_test_contexts


def _broken_folder(tmp_path: Path, n_bad: int = 3) -> Path:
    """30 sessions, the first ``n_bad`` with an unknown role."""
    folder = write_corpus(tmp_path / "data", make_corpus(30, seed=5)) / "kokorochat_dialogues"
    for dialogue_id in range(1, n_bad + 1):
        path = folder / f"{dialogue_id}.json"
        session = json.loads(path.read_text(encoding="utf-8"))
        session["dialogue"][0]["role"] = "therapist"
        path.write_text(json.dumps(session, ensure_ascii=False), encoding="utf-8")
    return folder


def test_the_strict_error_names_a_flag_that_every_loading_command_accepts(tmp_path):
    folder = _broken_folder(tmp_path)
    with pytest.raises(KokoroDataError) as raised:
        load_corpus(folder, cache=False)
    named = re.findall(r"--[a-z-]+", str(raised.value))
    assert named == ["--lenient"]
    commands = build_parser()._subparsers._group_actions[0].choices
    for command in ("validate", "tokenize", "export-sft", "evaluate"):
        options = {o for action in commands[command]._actions for o in action.option_strings}
        assert "--lenient" in options, command


def test_validate_lenient_exits_0_and_prints_the_skipped_count(tmp_path, capsys):
    folder = _broken_folder(tmp_path)
    assert main(["validate", str(folder)]) == 1
    capsys.readouterr()
    assert main(["validate", str(folder), "--lenient"]) == 0
    out = capsys.readouterr().out
    assert "3 skipped" in out and "lenient: 3 session(s) skipped, 27 valid" in out


def test_tokenize_and_export_lenient_skip_and_count(tmp_path, capsys):
    folder = _broken_folder(tmp_path)
    assert main(["tokenize", "--data", str(folder), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "--lenient" in err and "Traceback" not in err
    assert main(["tokenize", "--data", str(folder), "--quiet", "--lenient"]) == 0
    assert "skipped 3 of 30 sessions" in capsys.readouterr().out
    out = tmp_path / "export"
    assert main(["export-sft", "--data", str(folder), "--out", str(out), "--lenient"]) == 0
    assert "skipped 3 of 30 sessions" in capsys.readouterr().out
    assert (out / "manifest.json").exists()


@pytest.mark.parametrize("value", ["-1", "-5", "x"])
def test_validate_show_rejects_invalid_values(tmp_path, value, capsys):
    with pytest.raises(SystemExit) as raised:
        main(["validate", str(tmp_path), "--show", value])
    assert raised.value.code == 2
    assert "--show" in capsys.readouterr().err


def test_validate_show_zero_lists_none(tmp_path, capsys):
    folder = _broken_folder(tmp_path)
    assert main(["validate", str(folder), "--show", "0"]) == 1
    assert "... 3 more (use --show N)" in capsys.readouterr().out


@pytest.mark.parametrize("where", ["under-file", "is-file"])
def test_an_unusable_cache_folder_is_one_line_and_the_commands_still_run(
    tmp_path, synthetic_dir, monkeypatch, capsys, where
):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv(
        "KOKORO_ANALYSIS_CACHE", str(blocker / "cache" if where == "under-file" else blocker)
    )
    assert main(["tokenize", "--data", str(synthetic_dir), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "cache: none (folder not usable)" in captured.out
    notes = [line for line in captured.err.splitlines() if "is not usable" in line]
    assert notes and all("running without the cache" in line for line in notes)
    assert "Traceback" not in captured.err
    out = tmp_path / "export"
    assert main(["export-sft", "--data", str(synthetic_dir), "--out", str(out)]) == 0
    contexts = sample_test_contexts(load_corpus(synthetic_dir, cache=False))
    predictions = out / "oracle.jsonl"
    predictions.write_text(
        "".join(
            json.dumps({"id": i, "response": t}, ensure_ascii=False) + "\n"
            for i, t in zip(contexts["id"], contexts["target"])
        ),
        encoding="utf-8",
    )
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(predictions)]) == 0
    assert "Traceback" not in capsys.readouterr().err


# --- evaluate: the predictions file and the export it answers (items 4 and 14) ------------------


def test_evaluate_names_file_and_line_of_bytes_that_are_not_utf8(tmp_path, synthetic_dir, capsys):
    path = tmp_path / "latin.jsonl"
    path.write_bytes(
        '{"id": "1-1", "response": "ok"}\n{"id": "1-2", "response": "café"}\n'.encode("latin-1")
    )
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:2: not UTF-8" in err


def test_evaluate_on_a_folder_or_fifo_says_what_it_is(tmp_path, synthetic_dir, capsys):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "is a folder" in err and "not found" not in err
    fifo = tmp_path / "a-fifo"
    os.mkfifo(fifo)
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(fifo)]) == 1
    err = capsys.readouterr().err
    assert "not a regular file" in err and "not found" not in err


def _export_with_oracle(tmp_path: Path, synthetic_dir: Path, *args: str) -> tuple[Path, Path]:
    out = tmp_path / "export"
    assert main(["export-sft", "--data", str(synthetic_dir), "--out", str(out), *args]) == 0
    lines = [
        json.loads(line) for line in (out / "test.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    predictions = out / "oracle.jsonl"
    predictions.write_text(
        "".join(
            json.dumps({"id": r["id"], "response": r["target"]}, ensure_ascii=False) + "\n"
            for r in lines
        ),
        encoding="utf-8",
    )
    return out, predictions


def test_evaluate_verifies_the_export_and_uses_its_sample(tmp_path, synthetic_dir, capsys):
    _, predictions = _export_with_oracle(
        tmp_path, synthetic_dir, "--test-samples", "7", "--seed", "3"
    )
    capsys.readouterr()
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(predictions)]) == 0
    printed = capsys.readouterr().out
    assert "every file matches its manifest" in printed and "7 test contexts" in printed
    assert (
        main(
            [
                "evaluate",
                "--data",
                str(synthetic_dir),
                "--predictions",
                str(predictions),
                "--seed",
                "4",
            ]
        )
        == 1
    )
    assert "the export used --test-samples 7 --seed 3" in capsys.readouterr().err


def test_evaluate_refuses_an_export_that_no_longer_matches_its_manifest(
    tmp_path, synthetic_dir, capsys
):
    out, predictions = _export_with_oracle(tmp_path, synthetic_dir)
    test_file = out / "test.jsonl"
    test_file.write_bytes(
        test_file.read_bytes()[:-200]
    )  # cut short, as a killed writer would leave it
    capsys.readouterr()
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(predictions)]) == 1
    err = capsys.readouterr().err
    assert "test.jsonl: changed since the export" in err
    assert (
        main(
            [
                "evaluate",
                "--data",
                str(synthetic_dir),
                "--predictions",
                str(predictions),
                "--export",
                str(tmp_path),
            ]
        )
        == 1
    )
    assert "no manifest.json" in capsys.readouterr().err


def test_evaluate_ignores_a_manifest_that_is_not_an_export_of_ours(tmp_path, synthetic_dir, capsys):
    contexts = sample_test_contexts(load_corpus(synthetic_dir, cache=False))
    predictions = tmp_path / "oracle.jsonl"
    predictions.write_text(
        "".join(
            json.dumps({"id": i, "response": t}, ensure_ascii=False) + "\n"
            for i, t in zip(contexts["id"], contexts["target"])
        ),
        encoding="utf-8",
    )
    (tmp_path / "manifest.json").write_text('{"tool": "someone else"}')
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(predictions)]) == 0
    assert "matches its manifest" not in capsys.readouterr().out


def _cli_with_stdout(args: list[str], stdout: str) -> subprocess.CompletedProcess:
    """Run the CLI with standard output full (/dev/full) or closed before it writes (a pipe whose
    reader is gone, as with ``| head``)."""
    command = [sys.executable, "-m", "kokoro_analysis.cli", *args]
    if stdout == "full":
        with open("/dev/full", "w") as full:
            return subprocess.run(command, stdout=full, stderr=subprocess.PIPE, text=True)
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(command, stdout=write, stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write)


@pytest.mark.parametrize("stdout", ["full", "closed"])
@pytest.mark.parametrize("command", ["validate", "export-sft", "evaluate"])
def test_a_full_or_closed_standard_output_is_no_traceback(tmp_path, synthetic_dir, command, stdout):
    args = {
        "validate": ["validate", str(synthetic_dir)],
        "export-sft": ["export-sft", "--data", str(synthetic_dir), "--out", str(tmp_path / "x")],
        "evaluate": [
            "evaluate",
            "--data",
            str(synthetic_dir),
            "--predictions",
            str(tmp_path / "p"),
        ],
    }[command]
    if command == "evaluate":
        ids = sample_test_contexts(load_corpus(synthetic_dir), None, 0)["id"]
        (tmp_path / "p").write_text("".join(f'{{"id": "{i}", "response": "はい"}}\n' for i in ids))
    result = _cli_with_stdout(args, stdout)
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    if stdout == "full":
        assert result.returncode == 1
        assert result.stderr.strip() == (
            "kokoro-analysis: cannot write to standard output: No space left on device"
        )
    else:
        assert result.returncode == 141 and result.stderr == ""


@pytest.mark.parametrize(
    "args, option",
    [
        (["export-sft", "--out", "x", "--seed", "-1"], "--seed"),
        (["export-sft", "--out", "x", "--test-samples", "0"], "--test-samples"),
        (["evaluate", "--predictions", "p", "--seed", "-1"], "--seed"),
        (["generate", "--model", "m", "--out", "p", "--limit", "0"], "--limit"),
        (["predict-scores", "--model", "m", "--out", "p", "--batch-size", "0"], "--batch-size"),
        (["tokenize", "--workers", "-2"], "--workers"),
        (["finetune", "--out", "o", "--max-steps", "0"], "--max-steps"),
        (["finetune", "--out", "o", "--save-steps", "0"], "--save-steps"),
        (["smoke-model", "--out", "o", "--seed", "-3"], "--seed"),
    ],
)
def test_out_of_range_numbers_are_refused_naming_the_option(
    args, option, capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # the relative --out names never land in the checkout
    with pytest.raises(SystemExit) as raised:
        main(args)
    assert raised.value.code == 2
    assert f"argument {option}: must be" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "the following arguments are required: command"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["--data", "x", "validate"], "invalid choice: 'x'"),
        (["validate", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    ],
)
def test_a_missing_or_unknown_command_is_a_usage_error(args, message, capsys):
    """Only the named command's options are built: whatever the words, argparse still answers."""
    with pytest.raises(SystemExit) as raised:
        main(args)
    err = capsys.readouterr().err
    assert raised.value.code == 2 and message in err and "Traceback" not in err
