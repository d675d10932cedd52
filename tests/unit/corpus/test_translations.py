"""Multilingual KokoroChat aligned with the corpus (synthetic translations): one row per message,
lenient counts, the cache, the CLI and the corpus in translation."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.cli import main
from kokoro_analysis.corpus import translations as tr
from kokoro_analysis.corpus.synthetic import (
    make_translations,
    write_translations,
)
from tests.unit.corpus.synthetic_release import EMPTY, MISSING, tampered_copy


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
