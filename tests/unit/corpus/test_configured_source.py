"""A wrong data path names where it was configured."""

from __future__ import annotations

import pytest

from kokoro_analysis.corpus.sources import find_data
from kokoro_analysis.corpus.validation import DataNotFoundError


def test_a_mistyped_environment_variable_is_named(tmp_path, monkeypatch):
    wrong = tmp_path / "KokoroCaht"
    monkeypatch.setenv("KOKOROCHAT_DATA", str(wrong))
    with pytest.raises(
        DataNotFoundError,
        match=rf"^KOKOROCHAT_DATA={wrong} \(set in the environment\): .*does not exist",
    ):
        find_data()


def test_an_explicit_path_is_not_blamed_on_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KOKOROCHAT_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError) as error:
        find_data(tmp_path / "missing")
    assert "KOKOROCHAT_DATA" not in str(error.value).splitlines()[0]


@pytest.mark.parametrize("origin", ["environment", "--data", "path"])
def test_a_wrong_data_location_is_one_line_naming_its_origin(tmp_path, monkeypatch, capsys, origin):
    """issue 21: one line (not a how-to block), naming KOKOROCHAT_DATA or --data."""
    from kokoro_analysis.cli import main

    wrong = tmp_path / "KokoroCaht"
    monkeypatch.setenv("KOKOROCHAT_DATA", str(wrong) if origin == "environment" else str(tmp_path))
    args = {"environment": [], "--data": ["--data", str(wrong)], "path": [str(wrong)]}[origin]
    assert main(["validate", *args]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    expected = {
        "environment": f"KOKOROCHAT_DATA={wrong} (set in the environment): ",
        "--data": f"--data {wrong}: ",
        "path": "",
    }[origin]
    assert err.startswith(f"kokoro-analysis validate: {expected}KokoroChat data not found: {wrong}")


def test_messages_name_commands_and_options_not_python_attributes(tmp_path, capsys):
    """issue 21: no "see corpus.report" or "force=True" in what the command line prints."""
    import json

    from kokoro_analysis.cli import main
    from kokoro_analysis.corpus.synthetic import make_corpus, write_corpus

    folder = write_corpus(tmp_path / "data", make_corpus(12, seed=1)) / "kokorochat_dialogues"
    session = json.loads((folder / "2.json").read_text(encoding="utf-8"))
    session["dialogue"][0]["role"] = "therapist"
    (folder / "2.json").write_text(json.dumps(session, ensure_ascii=False), encoding="utf-8")
    assert main(["validate", str(folder)]) == 1
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("x")
    assert main(["export-sft", "--data", str(folder), "--out", str(out), "--lenient"]) == 1
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert "corpus.report" not in text and "force=True" not in text
    assert "`kokoro-analysis validate` lists them" in text and "--force" in text


def test_a_device_as_data_is_named(capsys):
    from kokoro_analysis.cli import main

    assert main(["validate", "--data", "/dev/zero"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kokoro-analysis validate: --data /dev/zero: KokoroChat data not found: ")
    assert "neither a folder nor a file" in err
