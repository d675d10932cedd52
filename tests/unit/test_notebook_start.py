"""notebook.start: non-default parameters are named, lenient loading skips and counts bad sessions."""

from __future__ import annotations

import json
import shutil

import pytest

from kokoro_analysis.corpus.validation import KokoroDataError
from kokoro_analysis.notebook import start


def test_non_default_parameters_are_printed_and_logged(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("KOKOROCHAT_DATA", str(synthetic_dir))
    assert start("99_check", output_dir=tmp_path).non_default == {}
    assert "non-default" not in capsys.readouterr().out
    run = start("99_check", output_dir=tmp_path, lang="ja", seed=7)
    assert run.non_default == {"lang": "ja", "seed": 7}
    assert "non-default parameters: lang='ja', seed=7" in capsys.readouterr().out
    part = json.loads(run.log.save().read_text(encoding="utf-8"))
    assert part["parameters"] == {"lang": "'ja'", "seed": "7"}


def test_lenient_skips_a_broken_session(synthetic_dir, tmp_path, capsys):
    broken = tmp_path / "data"
    shutil.copytree(synthetic_dir, broken)
    first = sorted(broken.rglob("*.json"))[0]
    first.write_text("{not json", encoding="utf-8")
    with pytest.raises(KokoroDataError):
        start("99_check", data_dir=broken, output_dir=tmp_path)
    run = start("99_check", data_dir=broken, output_dir=tmp_path, lenient=True)
    assert len(run.corpus.dialogues) == 59 and run.non_default["lenient"] is True
    assert "skipped 1 of 60 sessions" in capsys.readouterr().out


def test_a_notebook_about_every_topic_says_a_topic_does_not_apply(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("KOKOROCHAT_DATA", str(synthetic_dir))
    whole = start("99_check", output_dir=tmp_path)
    topic = str(whole.corpus.dialogues["topic_main_en"].iloc[0])
    capsys.readouterr()
    run = start("99_check", output_dir=tmp_path, topic=topic, ignores_topic=True)
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed == [
        f"topic {topic!r} does not apply to 99_check: it covers every topic, as without one"
    ]
    assert run.topic is None and run.is_default and len(run.corpus.dialogues) == 60
    narrowed = start("99_check", output_dir=tmp_path, topic=topic)
    assert narrowed.topic == topic and len(narrowed.corpus.dialogues) < 60
