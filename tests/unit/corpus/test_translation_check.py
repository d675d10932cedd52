"""Checking the translations against the corpus: coverage, every defect named by file, message and
field, broken and duplicate files, files outside the corpus."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.cli import main
from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus import translations as tr
from kokoro_analysis.corpus.synthetic import (
    TRANSLATION_DEFECTS,
    make_translations,
    tamper_translation,
    write_translations,
)
from kokoro_analysis.corpus.validation import KokoroDataError
from tests.unit.corpus.synthetic_release import EMPTY, MISSING, tampered_copy


def test_coverage_counts_sessions_messages_and_empty(synthetic_dir, release):
    corpus = load_corpus(synthetic_dir)
    coverage = tr.load_translations(corpus, "en", release).coverage
    assert coverage.aligned
    assert coverage.sessions_original == 60 and coverage.sessions_translated == 58
    assert coverage.missing_ids == list(MISSING)
    in_missing = int(corpus.utterances["dialogue_id"].isin(MISSING).sum())
    assert coverage.messages_aligned == len(corpus.utterances) - in_missing
    assert sorted(coverage.empty) == sorted(EMPTY)
    text = coverage.summary()
    assert "58 translated" in text and "2 without a translation (ids 5, 17)" in text
    assert "2 empty translation(s) in 2 session(s)" in text and "mismatches: 0" in text


DEFECT_FIELDS = [
    ("misaligned", "time", 1),
    ("wrong_origin", "origin", 1),
    ("wrong_role", "role", 1),
    ("wrong_time", "time", 1),
    ("dropped_message", "dialogue", None),
    ("wrong_topic", "topic.main_en", None),
    ("wrong_review", "review_by_client.score", None),
]
"""Each defect of ``synthetic.tamper_translation``: the field and message index it must be named by."""


@pytest.mark.parametrize("defect, field, index", DEFECT_FIELDS)
def test_every_defect_is_named_by_file_message_and_field(
    synthetic_dir, sessions, tmp_path, defect, field, index
):
    corpus = load_corpus(synthetic_dir)
    path = tampered_copy(tmp_path, sessions, defect)
    with pytest.raises(KokoroDataError) as raised:
        tr.load_translations(corpus, "en", path)
    problems = raised.value.problems
    assert {p.file for p in problems} == {str((path / "English" / "en4.json").resolve())}
    assert any(p.field == field and p.message_index == index for p in problems)
    assert "en4.json" in str(raised.value) and f"field '{field}'" in str(raised.value)


def test_the_defect_list_is_covered():
    assert sorted(TRANSLATION_DEFECTS) == sorted(defect for defect, _, _ in DEFECT_FIELDS)
    with pytest.raises(ValueError, match="defect must be one of"):
        tamper_translation({"dialogue": []}, "nonsense")


def test_broken_files_are_named(synthetic_dir, sessions, tmp_path):
    corpus = load_corpus(synthetic_dir)
    root = write_translations(tmp_path, make_translations(sessions, "en"), "en")
    (root / "English" / "en2.json").write_text("{not json", encoding="utf-8")
    (root / "English" / "en3.json").write_text(json.dumps({"dialogue": []}), encoding="utf-8")
    (root / "English" / "notes.json").write_text("{}", encoding="utf-8")
    coverage = tr.load_translations(corpus, "en", root, strict=False).coverage
    fields = {(os.path.basename(p.file), p.field) for p in coverage.problems}
    assert fields == {("en2.json", "json"), ("en3.json", "session"), ("notes.json", "file name")}


def test_files_outside_the_corpus_are_unmatched_not_errors(synthetic_dir, release):
    corpus = load_corpus(synthetic_dir).subset("low")
    coverage = tr.load_translations(corpus, "en", release).coverage
    assert coverage.problems == [] and not coverage.aligned
    assert len(coverage.unmatched_ids) == 58 - coverage.sessions_translated
    assert coverage.sessions_original == len(corpus.dialogues)


def test_two_files_for_one_session_are_both_refused(synthetic_dir, sessions, tmp_path, capsys):
    corpus = load_corpus(synthetic_dir)
    root = write_translations(tmp_path, make_translations(sessions, "en"), "en")
    english = root / "English"
    (english / "en06.json").write_bytes((english / "en6.json").read_bytes())
    coverage = tr.load_translations(corpus, "en", root, strict=False, cache=False).coverage
    assert coverage.sessions_translated == 59 and coverage.skipped_ids == [6]
    named = {(os.path.basename(p.file), p.field, p.detail) for p in coverage.problems}
    assert named == {
        ("en6.json", "file name", "session 6 also has en06.json"),
        ("en06.json", "file name", "session 6 also has en6.json"),
    }
    assert "100.00 %" not in coverage.summary() and "101" not in coverage.summary()
    assert main(["translations", str(root), "--data", str(synthetic_dir)]) == 1
    assert "en06.json" in capsys.readouterr().out
    out = tmp_path / "export"
    args = ["export-sft", "--data", str(synthetic_dir), "--out", str(out), "--language", "en"]
    assert main([*args, "--translations", str(root)]) == 1  # strict: refused, naming both files
    err = capsys.readouterr().err
    assert "Traceback" not in err and "en06.json" in err and not out.exists()


@pytest.mark.parametrize("kind", ["folder", "fifo", "dangling link", "/dev/zero link"])
def test_a_translation_that_is_not_a_regular_file_is_reported_never_read(
    synthetic_dir, sessions, tmp_path, kind
):
    corpus = load_corpus(synthetic_dir)
    root = write_translations(tmp_path, make_translations(sessions, "en"), "en")
    target = root / "English" / "en7.json"
    target.unlink()
    if kind == "folder":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "dangling link":
        target.symlink_to(tmp_path / "nowhere.json")
    else:
        target.symlink_to("/dev/zero")
    coverage = tr.load_translations(corpus, "en", root, strict=False, cache=False).coverage
    assert coverage.skipped_ids == [7] and 7 not in coverage.missing_ids
    (problem,) = coverage.problems
    assert problem.file == str(target) and problem.field == "file"
    assert "cannot be read" in problem.detail


@pytest.mark.parametrize(
    "times",
    [
        ["2020-03-07 18:22:28", "2023-12-31 23:59:59.999"],  # a fraction is cut, as strftime does
        ["1969-12-31 23:59:59.5", "1970-01-01 00:00:00"],  # before 1970: strftime itself
        [],
    ],
    ids=["release", "before 1970", "empty"],
)
def test_release_times_spell_timestamps_as_strftime_does(times):
    series = pd.Series(pd.to_datetime(times, format="ISO8601"), dtype="datetime64[us]")
    assert schema.release_times(series) == series.dt.strftime(schema.TIME_FORMAT).tolist()
    zoned = series.dt.tz_localize("Asia/Tokyo")
    assert schema.release_times(zoned) == zoned.dt.strftime(schema.TIME_FORMAT).tolist()
