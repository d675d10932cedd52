"""The token cache never serves what it was not made from, repairs tampered entries, leaves no
temporary files behind a killed writer, and re-tokenizes only the part of a changed session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.text import token_cache
from kokoro_analysis.text.token_cache import tokenize_corpus


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("KOKORO_ANALYSIS_CACHE", str(folder))
    return folder / "tokens"


def frame(texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"text": pd.Series(texts, dtype="str")})


MINE = frame(["今日はとても寒いですね。", "リスカしたいと思った", "ありがとう"])
OTHER = frame(["別の文章です。", "まったく違う"])


def entries(cache, suffixes=(".parquet", ".arrow")) -> list:
    """The cache's entries: the parts (Parquet) and the assembled table (mapped Arrow)."""
    return sorted(p for p in cache.iterdir() if p.suffix in suffixes)


def test_a_token_file_of_other_texts_under_the_key_is_not_served(cache):
    expected = tokenize_corpus(MINE, progress=False, cache=False).table
    tokenize_corpus(MINE, progress=False)
    mine = entries(cache)
    for path in mine:
        path.unlink()
    tokenize_corpus(OTHER, progress=False)
    for source, target in zip(entries(cache), mine):
        shutil.copyfile(source, target)
    served = tokenize_corpus(MINE, progress=False).table
    pd.testing.assert_frame_equal(served, expected)


def test_an_entry_replaced_by_a_folder_is_rewritten(cache):
    expected = tokenize_corpus(MINE, progress=False).table
    for path in entries(cache):
        path.unlink()
        (path / "inside").mkdir(parents=True)
    pd.testing.assert_frame_equal(tokenize_corpus(MINE, progress=False).table, expected)
    assert entries(cache) and all(path.is_file() for path in entries(cache))


def test_an_entry_whose_metadata_was_deleted_is_rewritten(cache):
    expected = tokenize_corpus(MINE, progress=False).table
    (table,) = entries(cache, (".arrow",))
    table.write_bytes(table.read_bytes()[: table.read_bytes().rindex(b'{"kind"')])
    for path in entries(cache, (".parquet",)):
        pq.write_table(pq.read_table(path).replace_schema_metadata(None), path)
    pd.testing.assert_frame_equal(tokenize_corpus(MINE, progress=False).table, expected)
    for path in entries(cache, (".parquet",)):
        assert b"kokoro_analysis.cache" in pq.read_schema(path).metadata
    assert table.read_bytes().endswith(b"KOKOROC1")


def test_temporary_files_of_killed_writers_are_removed(cache):
    tokenize_corpus(OTHER, progress=False)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    ).stdout.strip()
    left = cache / f".0123abcd.parquet.{dead}.tmp"  # paths.atomic_target's name
    left.write_bytes(b"half a file")
    alive = cache / f".4567cdef.parquet.{os.getpid()}.tmp"
    alive.write_bytes(b"being written")
    tokenize_corpus(MINE, progress=False)
    assert not left.exists()
    assert alive.exists()  # a running writer's file is left alone


def test_an_interrupted_write_leaves_no_temporary_file(cache, monkeypatch):
    def interrupted(table, where, **kwargs):
        with open(where, "wb") as file:
            file.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(pq, "write_table", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tokenize_corpus(MINE, workers=1, progress=False)
    assert not [p for p in cache.iterdir() if ".tmp" in p.name]


def test_a_changed_session_re_tokenizes_only_its_part(synthetic_dir, cache, monkeypatch):
    monkeypatch.setattr(token_cache, "PART_SESSIONS", 4)
    corpus = load_corpus(synthetic_dir, cache=False)
    tokenize_corpus(corpus, progress=False)
    utterances = corpus.utterances.copy()
    session = utterances["dialogue_id"].iloc[len(utterances) // 2]
    row = utterances.index[utterances["dialogue_id"] == session][0]
    utterances.loc[row, "text"] = "まったく新しい発言です。"
    tokenized = []
    original = token_cache.tokenize_parts

    def counting(texts, parts, **kwargs):
        tokenized.extend(text for a, b, _ in parts for text in texts[a:b].to_pylist())
        return original(texts, parts, **kwargs)

    monkeypatch.setattr(token_cache, "tokenize_parts", counting)
    changed = tokenize_corpus(utterances, progress=False)
    assert "まったく新しい発言です。" in tokenized
    assert 0 < len(tokenized) < len(utterances) / 2
    expected = tokenize_corpus(utterances, progress=False, cache=False)
    pd.testing.assert_frame_equal(changed.table, expected.table)


def test_a_skipped_session_does_not_re_tokenize_the_others(synthetic_dir, cache, monkeypatch):
    """--lenient drops a bad session and renumbers the utterances after it: the parts stay cached."""
    corpus = load_corpus(synthetic_dir, cache=False)
    tokenize_corpus(corpus, progress=False)
    first = corpus.utterances["dialogue_id"].iloc[0]
    rest = corpus.utterances[corpus.utterances["dialogue_id"] != first].reset_index(drop=True)
    monkeypatch.setattr(token_cache, "PART_SESSIONS", 4)
    tokenize_corpus(corpus, progress=False)  # parts of 4 sessions on average
    tokenized = []
    original = token_cache.tokenize_parts
    monkeypatch.setattr(
        token_cache,
        "tokenize_parts",
        lambda texts, parts, **kw: (
            tokenized.extend(t for a, b, _ in parts for t in texts[a:b].to_pylist())
            or original(texts, parts, **kw)
        ),
    )
    served = tokenize_corpus(rest, progress=False)
    assert len(tokenized) < len(rest) / 2
    expected = tokenize_corpus(rest, progress=False, cache=False)
    pd.testing.assert_frame_equal(served.table, expected.table)


def test_the_table_is_the_same_from_parts_cached_or_not(synthetic_dir, cache, monkeypatch):
    """Category order included: MeCab's values by first appearance, compounds appended, sorted."""
    corpus = load_corpus(synthetic_dir, cache=False)
    whole = tokenize_corpus(corpus, progress=False, cache=False).table
    monkeypatch.setattr(token_cache, "PART_SESSIONS", 3)
    cold = tokenize_corpus(corpus, progress=False, workers=2).table
    warm = tokenize_corpus(corpus, progress=False).table
    for table in (cold, warm):
        pd.testing.assert_frame_equal(table, whole)
        for name in ("pos", "pos2", "lemma", "base", "surface"):
            assert table[name].cat.categories.tolist() == whole[name].cat.categories.tolist()


def test_warming_the_cache_verifies_entries_from_their_footers(cache):
    expected = tokenize_corpus(MINE, progress=False, cache=False).table
    tokenize_corpus(OTHER, progress=False)
    other = entries(cache)
    warmed = token_cache.warm_token_cache(MINE, progress=False)
    assert (warmed.tokens, warmed.tokenized) == (len(expected), warmed.parts)
    for source, target in zip(other, [p for p in entries(cache) if p not in other]):
        shutil.copyfile(source, target)
    again = token_cache.warm_token_cache(MINE, progress=False)
    assert (again.tokens, again.tokenized) == (len(expected), again.parts)
    assert token_cache.warm_token_cache(MINE, progress=False).tokenized == 0


def test_parts_come_back_in_order_though_the_longest_are_tokenized_first():
    texts = pa.array(["猫です。"] * 83, pa.large_string())
    parts = [(0, 1, None), (1, 31, None), (31, 33, None), (33, 83, None)]
    counts = list(token_cache.tokenize_parts(texts, parts, workers=2, progress=False, tables=False))
    tables = list(token_cache.tokenize_parts(texts, parts, workers=1, progress=False))
    assert counts == [3, 90, 6, 150] == [len(part) for part, _ in tables]
    assert token_cache._TEXTS is None  # the texts are not kept after the run
