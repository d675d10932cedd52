"""MeCab never crashes or hangs (issue 13, item 6) and an unusable cache folder is not fatal (item 9)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from kokoro_analysis.text import token_cache
from kokoro_analysis.text.mecab import MAX_PARSE_CHARS, split_long_text, tokenize_texts


def _run(code: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter: a crash in native code must not take the tests down."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_one_message_of_one_and_a_half_million_characters_is_tokenized():
    """MeCab itself segfaults on this text in one call; it is cut into pieces first."""
    result = _run(
        """
        from kokoro_analysis.text.mecab import tokenize_texts
        text = ("今日はとても疲れました。" * 130_000)[:1_500_000]
        counts, table = tokenize_texts(["短い文です。", text, "abc" * 100_000], workers=1, progress=False)
        print(counts.tolist(), table.num_rows)
        from kokoro_analysis.text.surfaces import surfaces# what evaluate tokenizes with
        assert len(surfaces([text + text])[0]) == 2 * counts[1]  # a 3 M-character response
        """
    )
    assert result.returncode == 0, result.stderr[-2000:]
    counts = eval(result.stdout.strip().split("]")[0] + "]")
    assert counts[0] == 4  # 短い / 文 / です / 。
    assert counts[1] > 500_000
    assert counts[2] > 0


def test_cutting_at_spaces_keeps_the_tokens():
    words = "今日は雨が降っています 明日は晴れるでしょう "
    text = words * 400
    assert len(text) > MAX_PARSE_CHARS
    pieces = split_long_text(text)
    assert "".join(pieces) == text
    assert all(len(piece) <= MAX_PARSE_CHARS for piece in pieces)
    assert all(piece.endswith(" ") for piece in pieces[:-1])
    counts, _ = tokenize_texts([text], workers=1, progress=False)
    one_piece, _ = tokenize_texts([words], workers=1, progress=False)
    assert counts[0] == one_piece[0] * 400


def test_a_text_without_spaces_is_cut_after_a_sentence_end_or_at_the_limit():
    sentences = "あいうえお。" * 2000
    assert all(p.endswith("。") for p in split_long_text(sentences)[:-1])
    letters = "a" * (3 * MAX_PARSE_CHARS + 5)
    assert [len(p) for p in split_long_text(letters)] == [MAX_PARSE_CHARS] * 3 + [5]


def test_a_dead_worker_fails_the_run_with_a_message_instead_of_hanging():
    result = _run(
        """
        import os, signal, sys
        from kokoro_analysis.text import mecab
        from kokoro_analysis.workers import WorkerDiedError
        original = mecab.tokenize_chunk
        def dying(texts):
            if "KILL" in texts:
                os.kill(os.getpid(), signal.SIGKILL)
            return original(texts)
        mecab.tokenize_chunk = dying
        texts = ["こんにちは"] * 20 + ["KILL"] + ["さようなら"] * 20
        try:
            mecab.tokenize_texts(texts, workers=2, chunk_size=4, progress=False)
        except WorkerDiedError as error:
            print("FAILED CLEANLY:", error)
            sys.exit(3)
        """,
        timeout=120,
    )
    assert result.returncode == 3, result.stderr[-2000:]
    assert "worker process died while tokenizing" in result.stdout


def test_tokenize_corpus_runs_without_an_unusable_cache_folder(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("KOKORO_ANALYSIS_CACHE", str(blocker / "cache"))
    import pandas as pd

    utterances = pd.DataFrame({"text": ["こんにちは。", "ありがとう"]})
    tokens = token_cache.tokenize_corpus(utterances, workers=1, progress=False)
    assert len(tokens) > 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "cache folder" in line]
    assert len(lines) == 1
    assert str(blocker / "cache" / "tokens") in lines[0] and "running without the cache" in lines[0]


@pytest.mark.parametrize("workers", [1, 2])
def test_short_texts_are_not_affected_by_the_cutting(workers):
    texts = ["今日は とても\u3000疲れました。", "", "  ", "リスカしたい"]
    counts, table = tokenize_texts(texts, workers=workers, chunk_size=1, progress=False)
    assert counts.tolist()[1:3] == [0, 0]
    assert table.num_rows == sum(counts)
