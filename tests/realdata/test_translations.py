"""The real Multilingual KokoroChat release (skipped unless KOKOROCHAT_DATA and
KOKOROCHAT_TRANSLATIONS are set): it aligns with the corpus, coverage and the release-README check
agree with independent counts of the files, and a tampered copy is named by file, message and field."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kokoro_analysis.cli import main
from kokoro_analysis.corpus import release_statistics as rs
from kokoro_analysis.corpus import translations as tr
from kokoro_analysis.corpus.translation_sources import ENV


@pytest.fixture(scope="module")
def release() -> Path:
    path = os.environ.get(ENV)
    if not path:
        pytest.skip(f"{ENV} is not set (real-data test)")
    return Path(path).expanduser().resolve()


@pytest.fixture(scope="module")
def english(release, real_corpus):
    return tr.load_translations(real_corpus, "en", release)


def file_ids(release: Path) -> set[int]:
    return {int(path.stem[2:]) for path in (release / "English").glob("en*.json")}


def test_release_aligns_with_the_corpus(english, release, real_corpus):
    coverage = english.coverage
    assert coverage.aligned and coverage.problems == []
    ids = file_ids(release)
    assert coverage.sessions_translated == len(ids)
    assert coverage.missing_ids == sorted(set(real_corpus.dialogues.index) - ids)
    assert coverage.messages_aligned == int(real_corpus.utterances["dialogue_id"].isin(ids).sum())


def test_empty_translations_match_an_independent_count(english, release):
    empty = []
    for path in (release / "English").glob("en*.json"):
        dialogue = json.loads(path.read_text(encoding="utf-8"))["dialogue"]
        empty += [
            (int(path.stem[2:]), i) for i, m in enumerate(dialogue) if not m["content"].strip()
        ]
    assert sorted(english.coverage.empty) == sorted(empty)


def test_table_has_one_row_per_corpus_message(english, real_corpus):
    frame = english.for_utterances(real_corpus.utterances)
    assert frame.index.equals(real_corpus.utterances.index)
    counts = frame["status"].value_counts()
    assert counts["translated"] + counts["empty"] == english.coverage.messages_aligned
    assert counts["empty"] == len(english.coverage.empty)


def test_release_readme_check_against_the_files(release, real_corpus):
    check = rs.release_statistics_check(release, real_corpus)
    claimed = rs.release_readme_statistics(release / "README.md")
    n_files = len(file_ids(release))
    assert check.loc["en", "files_dialogues"] == n_files
    assert bool(check.loc["en", "agrees"]) == (
        claimed.loc["en", "dialogues"] == n_files
        and claimed.loc["en", "avg_utterances_per_dialogue"]
        == check.loc["en", "files_avg_utterances"]
    )
    assert check.loc["ja", "files_dialogues"] == len(real_corpus.dialogues)


def test_cli_exits_0_on_the_release_and_1_on_a_tampered_copy(
    release, real_data_dir, tmp_path, capsys
):
    assert main(["translations", str(release), "--data", str(real_data_dir)]) == 0
    assert "mismatches: 0" in capsys.readouterr().out
    copy = tmp_path / "English"
    copy.mkdir()
    files = sorted((release / "English").glob("en*.json"))
    for path in files:
        (copy / path.name).symlink_to(path)
    victim = files[0]
    data = json.loads(victim.read_text(encoding="utf-8"))
    data["dialogue"][2]["origin"] += "x"
    (copy / victim.name).unlink()
    (copy / victim.name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main(["translations", str(tmp_path), "--data", str(real_data_dir)]) == 1
    assert f"{victim.name}: message 2, field 'origin'" in capsys.readouterr().out
