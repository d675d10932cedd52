"""Multilingual KokoroChat on synthetic translations: finding, alignment, coverage, every defect
named by file, message and field, lenient counts, the cache, the release-README check and the CLI."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.cli import main
from kokoro_analysis.corpus import release_statistics as rs
from kokoro_analysis.corpus import translation_sources as sources
from kokoro_analysis.corpus import translations as tr
from kokoro_analysis.corpus.synthetic import (
    TRANSLATION_DEFECTS,
    make_corpus,
    make_translations,
    tamper_translation,
    write_translations,
)
from kokoro_analysis.corpus.validation import DataNotFoundError, KokoroDataError

MISSING = (5, 17)


def _inside_a_turn(dialogue_id: int) -> tuple[int, int]:
    """(session, index) of a message followed by one of the same speaker: emptying it leaves its turn
    translated."""
    dialogue = make_corpus(60, seed=0)[dialogue_id]["dialogue"]
    index = next(
        i for i in range(len(dialogue) - 1) if dialogue[i]["role"] == dialogue[i + 1]["role"]
    )
    return dialogue_id, index


EMPTY = (_inside_a_turn(3), _inside_a_turn(8))


@pytest.fixture(scope="module")
def sessions():
    return make_corpus(60, seed=0)


@pytest.fixture(scope="module")
def release(tmp_path_factory, sessions):
    """English and Chinese translations of the synthetic corpus: two sessions missing, two empty
    translations, and a release README like the upstream one."""
    root = tmp_path_factory.mktemp("release")
    for translation in ("en", "zh"):
        write_translations(
            root,
            make_translations(sessions, translation, missing=MISSING, empty=EMPTY),
            translation,
        )
    (root / "README.md").write_text(
        "## Dataset Statistics\n| Language | Dialogues | Avg. utterances/dialogue |\n| --- | --- | --- |\n"
        f"| Japanese (KokoroChat) | 60 | {_average(sessions, ()):.1f} |\n"
        f"| English  | 57     | {_average(sessions, MISSING):.1f} |\n"
        f"| Chinese  | 58     | {_average(sessions, MISSING):.1f} |\n",
        encoding="utf-8",
    )
    return root


def _average(sessions, missing) -> float:
    kept = [s for i, s in sessions.items() if i not in missing]
    return sum(len(s["dialogue"]) for s in kept) / len(kept)


@pytest.fixture
def no_default(monkeypatch, tmp_path):
    monkeypatch.delenv(sources.ENV, raising=False)
    monkeypatch.setattr(sources, "DEFAULT_DIR", tmp_path / "absent")


def tampered_copy(tmp_path, sessions, defect: str, dialogue_id: int = 4, index: int = 1):
    translations = make_translations(sessions, "en", missing=MISSING, empty=EMPTY)
    translations[dialogue_id] = tamper_translation(translations[dialogue_id], defect, index)
    return write_translations(tmp_path / defect, translations, "en")


@pytest.mark.parametrize("translation", ["en", "zh"])
def test_translations_align_one_row_per_corpus_message(
    synthetic_dir, release, sessions, translation
):
    corpus = load_corpus(synthetic_dir)
    frame = tr.load_translations(corpus, translation, release).for_utterances(corpus.utterances)
    assert frame.index.equals(corpus.utterances.index)
    assert frame["text"].equals(corpus.utterances["text"])
    expected = make_translations(sessions, translation)[1]["dialogue"]
    first = frame[frame["dialogue_id"] == 1]
    assert first["translation"].tolist() == [m["content"] for m in expected]
    assert frame.loc[frame["dialogue_id"].isin(MISSING), "status"].eq("no_translation").all()
    assert frame.loc[frame["dialogue_id"].isin(MISSING), "translation"].isna().all()
    for dialogue_id, index in EMPTY:
        row = frame[(frame["dialogue_id"] == dialogue_id) & (frame["position"] == index)].iloc[0]
        assert row["status"] == "empty" and pd.isna(row["translation"])
    n_missing = int(corpus.utterances["dialogue_id"].isin(MISSING).sum())
    assert frame["status"].value_counts().to_dict() == {
        "translated": len(frame) - n_missing - len(EMPTY),
        "no_translation": n_missing,
        "empty": len(EMPTY),
        "invalid": 0,
    }


def test_chinese_text_is_read_unchanged(synthetic_dir, release):
    corpus = load_corpus(synthetic_dir)
    frame = tr.load_translations(corpus, "zh", release).for_utterances(corpus.utterances)
    assert frame.loc[
        frame["text"] == "こんにちは。相談員です。", "translation"
    ].dropna().unique().tolist() == ["你好。我是咨询师。"]


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


@pytest.mark.parametrize(
    "defect, field, index",
    [
        ("misaligned", "time", 1),
        ("wrong_origin", "origin", 1),
        ("wrong_role", "role", 1),
        ("wrong_time", "time", 1),
        ("dropped_message", "dialogue", None),
        ("wrong_topic", "topic.main_en", None),
        ("wrong_review", "review_by_client.score", None),
    ],
)
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
    assert set(TRANSLATION_DEFECTS) == {
        "misaligned",
        "wrong_origin",
        "wrong_role",
        "wrong_time",
        "dropped_message",
        "wrong_topic",
        "wrong_review",
    }
    with pytest.raises(ValueError, match="defect must be one of"):
        tamper_translation({"dialogue": []}, "nonsense")


def test_lenient_mode_skips_and_counts(synthetic_dir, sessions, tmp_path, capsys):
    corpus = load_corpus(synthetic_dir)
    path = tampered_copy(tmp_path, sessions, "wrong_origin")
    result = tr.load_translations(corpus, "en", path, strict=False)
    assert "skipped 1 translated session(s)" in capsys.readouterr().out
    coverage = result.coverage
    assert (
        coverage.skipped_ids == [4] and coverage.sessions_translated == 57 and not coverage.aligned
    )
    frame = result.for_utterances(corpus.utterances)
    assert frame.loc[frame["dialogue_id"] == 4, "status"].eq("invalid").all()
    assert frame.loc[frame["dialogue_id"] == 4, "translation"].isna().all()
    assert coverage.problems_frame().loc[0, "message_index"] == 1


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


def test_result_is_cached_and_cache_follows_the_files(
    synthetic_dir, sessions, tmp_path, monkeypatch
):
    corpus = load_corpus(synthetic_dir)
    root = write_translations(tmp_path, make_translations(sessions, "en", missing=MISSING), "en")
    first = tr.load_translations(corpus, "en", root)

    def validate(*args):
        raise RuntimeError("validated again")

    monkeypatch.setattr(tr, "validate_translations", validate)
    second = tr.load_translations(corpus, "en", root)
    assert second.coverage == first.coverage
    pd.testing.assert_frame_equal(second.table, first.table)
    file = root / "English" / "en1.json"
    file.write_text(file.read_text(encoding="utf-8").replace("Hello", "Hi"), encoding="utf-8")
    os.utime(file, ns=(1, 1))
    with pytest.raises(
        RuntimeError, match="validated again"
    ):  # a changed file is not read from cache
        tr.load_translations(corpus, "en", root)


def test_finding_by_path_environment_and_default(release, monkeypatch, tmp_path, no_default):
    assert sources.find_translations(release, "en").folder == (release / "English").resolve()
    assert (
        sources.find_translations(release / "Chinese", "zh").folder
        == (release / "Chinese").resolve()
    )
    monkeypatch.setenv(sources.ENV, str(release))
    assert sources.find_translations(translation="zh").root == release.resolve()
    monkeypatch.delenv(sources.ENV)
    monkeypatch.setattr(sources, "DEFAULT_DIR", release)
    assert len(sources.find_translations(translation="en").files) == 58


def test_not_found_names_what_was_tried(no_default, tmp_path):
    with pytest.raises(DataNotFoundError) as raised:
        sources.find_translations(translation="en", clone=False)
    message = str(raised.value)
    assert sources.ENV in message and "absent" in message and "git clone --depth 1" in message
    (tmp_path / "only" / "Chinese").mkdir(parents=True)
    with pytest.raises(DataNotFoundError, match=r"no English/ folder .*found: Chinese/"):
        sources.find_translations(tmp_path / "only", "en")
    with pytest.raises(DataNotFoundError, match="does not exist"):
        sources.find_translations(tmp_path / "nowhere", "en")
    with pytest.raises(ValueError, match="must be one of en, zh"):
        sources.find_translations(tmp_path, "fr")


def test_release_readme_check(synthetic_dir, release):
    corpus = load_corpus(synthetic_dir)
    check = rs.release_statistics_check(release, corpus)
    assert check.loc["ja", "agrees"] and check.loc["en", "files_dialogues"] == 58
    assert check.loc["en", "agrees"] is False or not check.loc["en", "agrees"]
    assert "prints 57 dialogues, the files hold 58" in check.loc["en", "note"]
    assert check.loc["zh", "agrees"]
    claimed = rs.release_readme_statistics(release / "README.md")
    assert claimed["dialogues"].to_dict() == {"ja": 60, "en": 57, "zh": 58}
    assert rs.release_readme_statistics(release / "absent.md").empty


def test_cli_prints_coverage_and_exits_0(synthetic_dir, release, capsys):
    assert main(["translations", str(release), "--data", str(synthetic_dir), "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "translations (Chinese)" in out and "2 without a translation (ids 5, 17)" in out
    assert "README" in out and "57" in out


def test_cli_names_file_message_and_field_and_exits_1(synthetic_dir, sessions, tmp_path, capsys):
    path = tampered_copy(tmp_path, sessions, "wrong_origin", dialogue_id=9, index=3)
    assert main(["translations", str(path), "--data", str(synthetic_dir)]) == 1
    out = capsys.readouterr().out
    assert "en9.json: message 3, field 'origin'" in out
    assert main(["translations", str(path), "--data", str(synthetic_dir), "--lenient"]) == 0
    assert "skipped: 1 session(s) with a mismatch" in capsys.readouterr().out


def test_cli_reports_missing_release_in_one_message(synthetic_dir, tmp_path, capsys, no_default):
    assert main(["translations", str(tmp_path / "nowhere"), "--data", str(synthetic_dir)]) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err


def test_translated_corpus_keeps_turns_and_drops_gaps(synthetic_dir, sessions, tmp_path):
    corpus = load_corpus(synthetic_dir)
    translations = make_translations(sessions, "en", missing=MISSING, empty=EMPTY)
    whole_turn = next(
        i for i, m in enumerate(translations[12]["dialogue"]) if m["role"] == "client"
    )
    translations[12]["dialogue"][whole_turn]["content"] = ""  # a one-message turn left untranslated
    single = (
        translations[12]["dialogue"][whole_turn - 1]["role"] != "client"
        and translations[12]["dialogue"][whole_turn + 1]["role"] != "client"
    )
    root = write_translations(tmp_path, translations, "en")
    english, dropped = tr.translated_corpus(corpus, tr.load_translations(corpus, "en", root))
    assert dropped["no_translation"] == list(MISSING) and dropped["invalid"] == []
    assert dropped["untranslated_turn"] == ([12] if single else [])
    kept = english.dialogues.index
    assert not kept.isin(MISSING).any() and len(kept) == 60 - len(MISSING) - single
    assert dropped["empty_messages"] == sum(1 for i, _ in EMPTY if i in kept) + (not single)
    original_turns = corpus.restrict(kept).turns().reset_index(drop=True)
    turns = english.turns().reset_index(drop=True)
    assert turns[["dialogue_id", "turn", "role"]].equals(
        original_turns[["dialogue_id", "turn", "role"]]
    )
    assert english.utterances["text"].str.strip().ne("").all()
    assert "Hello. I'm the counselor." in set(english.utterances["text"])
    assert english.utterances["length"].equals(
        english.utterances["text"].str.len().astype(np.int32)
    )


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
    args = ["export-sft", "--data", str(synthetic_dir), "--out", str(out), "--lang", "en"]
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


def test_an_unusable_cache_folder_is_one_line_for_the_translations_too(
    synthetic_dir, release, tmp_path, monkeypatch, capsys
):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("KOKORO_ANALYSIS_CACHE", str(blocker / "cache"))
    out = tmp_path / "export"
    args = ["export-sft", "--data", str(synthetic_dir), "--out", str(out), "--lang", "en"]
    assert main([*args, "--translations", str(release)]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "translations is not usable" in err
    assert (out / "manifest.json").exists()


@pytest.mark.parametrize(
    "readme, message",
    [
        (b"| English | 57 | 9\xff.1 |\n", r"README\.md: not UTF-8 \(byte 0xff at offset 18\)"),
        (
            b"## Dataset Statistics\n| English | many | 9.1 |\n",
            r"README\.md:2: statistics row not understood .*\| English \| many \| 9\.1 \|",
        ),
        (b"FIFO", r"README\.md: cannot be read \(a FIFO \(named pipe\), not a regular file\)"),
    ],
)
def test_a_release_readme_that_cannot_be_read_is_named(
    synthetic_dir, release, tmp_path, capsys, readme, message
):
    import shutil

    copy = tmp_path / "release"
    shutil.copytree(release, copy)
    if readme == b"FIFO":
        (copy / "README.md").unlink()
        os.mkfifo(copy / "README.md")
    else:
        (copy / "README.md").write_bytes(readme)
    with pytest.raises(ValueError, match=message):
        rs.release_readme_statistics(copy / "README.md")
    assert main(["translations", str(copy), "--data", str(synthetic_dir)]) == 0
    out = capsys.readouterr().out
    assert "release README check skipped: " in out and "README.md" in out
