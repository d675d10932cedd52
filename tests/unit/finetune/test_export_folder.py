"""Exports are atomic and never overwrite a user's files or land in the data (issue 13: items 1, 4,
10, 11)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.cli import main
from kokoro_analysis.finetune import export
from kokoro_analysis.finetune.export import FILES, export_sft
from kokoro_analysis.finetune.export_folder import ExportFolderError, verify_manifest


@pytest.fixture(scope="module")
def corpus(synthetic_dir):
    return load_corpus(synthetic_dir)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_foreign_folder_is_refused_and_left_untouched(tmp_path, corpus):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "train.jsonl").write_text("MY PRECIOUS\n")
    (out / "notes.txt").write_text("keep me")
    before = _snapshot(out)
    with pytest.raises(ExportFolderError, match="holds no export of ours") as raised:
        export_sft(corpus, "full", out)
    assert "train.jsonl" in str(raised.value) and "--force" in str(raised.value)
    assert _snapshot(out) == before


def test_force_writes_our_files_and_touches_no_other(tmp_path, corpus):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "train.jsonl").write_text("MY PRECIOUS\n")
    (out / "notes.txt").write_text("keep me")
    export_sft(corpus, "full", out, force=True)
    assert (out / "notes.txt").read_text() == "keep me"
    assert (out / "train.jsonl").read_text() != "MY PRECIOUS\n"
    manifest, problems = verify_manifest(out)
    assert manifest is not None and problems == []
    assert not list(tmp_path.glob(".mine*"))  # no staging folder left


def test_an_earlier_export_of_ours_is_replaced_without_force(tmp_path, corpus):
    out = tmp_path / "export"
    export_sft(corpus, "full", out)
    first = _snapshot(out)
    export_sft(corpus, "high", out)
    second = _snapshot(out)
    assert set(second) == set(first) == set(FILES.values())
    assert second["train.jsonl"] != first["train.jsonl"]
    assert verify_manifest(out)[1] == []


def test_an_earlier_export_with_a_changed_file_needs_force(tmp_path, corpus):
    out = tmp_path / "export"
    export_sft(corpus, "full", out)
    with open(out / "test.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"id": "my own line"}\n')
    with pytest.raises(ExportFolderError, match="changed since the export"):
        export_sft(corpus, "full", out)
    export_sft(corpus, "full", out, force=True)
    assert verify_manifest(out)[1] == []


def test_an_export_interrupted_by_an_error_leaves_the_earlier_export_intact(
    tmp_path, corpus, monkeypatch
):
    out = tmp_path / "export"
    export_sft(corpus, "full", out)
    before = _snapshot(out)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(export, "_write_score_file", broken)
    with pytest.raises(RuntimeError):
        export_sft(corpus, "high", out)
    assert _snapshot(out) == before
    assert not list(tmp_path.glob(".export*"))


def test_sigkill_during_an_export_leaves_the_earlier_export_intact(tmp_path, synthetic_dir):
    out = tmp_path / "export"
    corpus = load_corpus(synthetic_dir)
    export_sft(corpus, "full", out)
    before = _snapshot(out)
    code = f"""
        import sys, time
        from kokoro_analysis import load_corpus
        from kokoro_analysis.finetune import export
        original = export._write_score_file
        def slow(writer, *args, **kwargs):
            original(writer, *args, **kwargs)
            writer._handle.flush()
            print("HALF WRITTEN", flush=True)
            time.sleep(60)
        export._write_score_file = slow
        export.export_sft(load_corpus({str(synthetic_dir)!r}), "high", {str(out)!r})
    """
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline().strip() == "HALF WRITTEN"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert _snapshot(out) == before
    assert verify_manifest(out)[1] == []
    export_sft(corpus, "high", out)  # the next run cleans up and succeeds
    assert not list(tmp_path.glob(".export*"))


@pytest.mark.parametrize("where", ["file", "under-file"])
def test_an_output_path_that_is_or_is_under_a_file_is_refused(tmp_path, corpus, where):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    out = blocker if where == "file" else blocker / "sub"
    with pytest.raises(ExportFolderError, match="is a file"):
        export_sft(corpus, "full", out)
    assert blocker.read_text() == "x"


@pytest.mark.parametrize("inside", [".", "kokorochat_dialogues", "kokorochat_dialogues/out"])
def test_an_output_folder_inside_the_data_is_refused(tmp_path, inside):
    from kokoro_analysis.corpus.synthetic import write_synthetic_corpus

    root = write_synthetic_corpus(tmp_path / "clone", n_sessions=30, seed=1)
    corpus = load_corpus(root)
    before = sorted(p.name for p in (root / "kokorochat_dialogues").iterdir())
    with pytest.raises(ExportFolderError, match="inside the data folder"):
        export_sft(corpus, "full", root / inside, force=True)
    assert sorted(p.name for p in (root / "kokorochat_dialogues").iterdir()) == before
    assert len(load_corpus(root, cache=False).dialogues) == 30


def test_cli_refusals_are_one_line_without_traceback(tmp_path, synthetic_dir, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "train.jsonl").write_text("MY PRECIOUS\n")
    assert main(["export-sft", "--data", str(synthetic_dir), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "holds no export of ours" in err and "Traceback" not in err
    assert (out / "train.jsonl").read_text() == "MY PRECIOUS\n"
    assert main(["export-sft", "--data", str(synthetic_dir), "--out", str(out), "--force"]) == 0
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["export-sft", "--data", str(synthetic_dir), "--out", str(blocker / "x")]) == 1
    assert "is a file" in capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"].startswith("kokoro-analysis SFT export")


# --------------------------------------------------------------------------- issue 21


def test_a_file_put_into_a_new_target_during_the_export_is_never_overwritten(
    tmp_path, corpus, monkeypatch
):
    out = tmp_path / "new"
    original = export._write_score_file

    def user_meanwhile(*args, **kwargs):
        out.mkdir(exist_ok=True)
        (out / "train.jsonl").write_text("MINE\n")
        return original(*args, **kwargs)

    monkeypatch.setattr(export, "_write_score_file", user_meanwhile)
    with pytest.raises(ExportFolderError, match="holds no export of ours"):
        export_sft(corpus, "full", out)
    assert _snapshot(out) == {"train.jsonl": b"MINE\n"}
    assert not list(tmp_path.glob(".new*"))


class _Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (not even cleanup handlers would help)."""


def test_an_export_killed_between_two_moves_is_completed_by_the_next_plain_export(
    tmp_path, corpus, monkeypatch
):
    from kokoro_analysis.finetune import export_folder

    out = tmp_path / "shared"
    export_sft(corpus, "full", out)
    (out / "notes.txt").write_text("keep me")
    moves = []
    original = export_folder._place

    def killed_after_two(source, target, **kwargs):
        if len(moves) == 2:
            raise _Killed
        moves.append(target.name)
        original(source, target, **kwargs)

    monkeypatch.setattr(export_folder, "_place", killed_after_two)
    with pytest.raises(_Killed):
        export_sft(corpus, "high", out)
    monkeypatch.setattr(export_folder, "_place", original)
    assert not (out / "manifest.json").exists() and len(moves) == 2  # the half-way state
    export_sft(corpus, "high", out)  # no --force needed: the journal says the files are ours
    assert verify_manifest(out)[1] == []
    assert (out / "notes.txt").read_text() == "keep me"
    assert not (out / ".kokoro-export-pending.json").exists()
    # a file the user changed in such a folder still needs --force
    monkeypatch.setattr(export_folder, "_place", killed_after_two)
    moves.clear()
    with pytest.raises(_Killed):
        export_sft(corpus, "full", out)
    monkeypatch.setattr(export_folder, "_place", original)
    (out / "test.jsonl").write_text("MY EDIT\n")
    with pytest.raises(ExportFolderError, match="changed since an interrupted export"):
        export_sft(corpus, "full", out)
    assert (out / "test.jsonl").read_text() == "MY EDIT\n"


def test_a_name_of_the_export_taken_by_a_folder_is_refused_even_with_force(tmp_path, corpus):
    out = tmp_path / "mine"
    (out / "train.jsonl").mkdir(parents=True)
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(ExportFolderError, match=r"train\.jsonl is not a file"):
        export_sft(corpus, "full", out, force=True)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "train.jsonl"]


def test_a_dangling_link_as_target_is_named(tmp_path, corpus, capsys):
    out = tmp_path / "link"
    out.symlink_to(tmp_path / "nowhere")
    with pytest.raises(ExportFolderError, match=r"a link to .*nowhere, which does not exist"):
        export_sft(corpus, "full", out)
    assert out.is_symlink() and not (tmp_path / "nowhere").exists()


def test_a_240_character_folder_name_is_exported(tmp_path, corpus):
    out = tmp_path / ("x" * 240)
    export_sft(corpus, "full", out)
    assert verify_manifest(out)[1] == []


@pytest.mark.parametrize(
    "error",
    [
        OSError(28, "No space left on device"),
        PermissionError(13, "Permission denied", "/some/parent"),
        OSError(30, "Read-only file system", "/some/parent"),
    ],
)
def test_file_system_refusals_are_one_line_and_leave_nothing(
    tmp_path, synthetic_dir, monkeypatch, capsys, error
):
    out = tmp_path / "export"

    def refused(self, line):
        raise error

    monkeypatch.setattr(export._HashedWriter, "write_line", refused)
    assert main(["export-sft", "--data", str(synthetic_dir), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert error.strerror in err and (error.filename is None or error.filename in err)
    assert not out.exists() and not list(tmp_path.glob(".export*"))


def test_a_manifest_whose_files_is_not_a_map_is_a_problem_not_a_crash(tmp_path, corpus):
    out = tmp_path / "export"
    export_sft(corpus, "full", out)
    manifest = json.loads((out / "manifest.json").read_text())
    for files in (["train.jsonl"], {"train.jsonl": 3}):
        manifest["files"] = files
        (out / "manifest.json").write_text(json.dumps(manifest))
        assert "is not a map" in verify_manifest(out)[1][0]


def test_evaluate_names_a_malformed_manifest_field(tmp_path, synthetic_dir, capsys):
    out = tmp_path / "export"
    assert main(["export-sft", "--data", str(synthetic_dir), "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["test_pool"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    predictions = out / "p.jsonl"
    predictions.write_text('{"id": "1-2", "response": "はい"}\n')
    capsys.readouterr()
    assert main(["evaluate", "--data", str(synthetic_dir), "--predictions", str(predictions)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "manifest.json: field 'test_pool' missing" in err


def test_a_file_put_into_our_export_just_before_the_swap_is_kept(tmp_path, corpus, monkeypatch):
    from kokoro_analysis.finetune import export_folder

    out = tmp_path / "export"
    export_sft(corpus, "full", out)
    original = export_folder._exchange

    def user_meanwhile(a, b):
        (out / "notes.txt").write_text("mine")  # after the commit-point check, before the swap
        return original(a, b)

    monkeypatch.setattr(export_folder, "_exchange", user_meanwhile)
    export_sft(corpus, "high", out)
    assert (out / "notes.txt").read_text() == "mine"
    assert verify_manifest(out)[1] == []


def test_a_place_where_nothing_can_be_written_is_named(corpus):
    with pytest.raises(ExportFolderError, match=r"^/proc/x: cannot write there \("):
        export_sft(corpus, "full", Path("/proc/x"))
