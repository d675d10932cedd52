"""ESConv loader on tiny JSON-lines files written here (shape, roles, words, survey, errors naming file
and line), locating the data, and the real ESConv when KOKORO_PEERS_DIR is set."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis.corpus.esconv import ESConvDataError, find_esconv, load_esconv

DIALOGUES = {
    "train": [
        {
            "emotion_type": "anxiety",
            "problem_type": "job crisis",
            "experience_type": "Current Experience",
            "situation": "s",
            "survey_score": {
                "seeker": {
                    "initial_emotion_intensity": "4",
                    "empathy": "5",
                    "relevance": "4",
                    "final_emotion_intensity": "2",
                },
                "supporter": {"relevance": "5"},
            },
            "dialog": [
                {"speaker": "usr", "text": "Hello there."},
                {"speaker": "sys", "text": "Hi, how are you?", "strategy": "Question"},
                {"speaker": "usr", "text": "Not  good"},
                {"speaker": "usr", "text": "at all."},
            ],
        },
    ],
    "valid": [
        {
            "emotion_type": "sadness",
            "problem_type": "breakup",
            "experience_type": "Past Experience",
            "situation": "t",
            "survey_score": {"seeker": {"initial_emotion_intensity": "3"}},
            "dialog": [
                {"speaker": "sys", "text": "Hello, I am here to listen.", "strategy": "Others"},
                {"speaker": "usr", "text": "Thanks"},
            ],
        },
    ],
    "test": [
        {
            "survey_score": {},
            "dialog": [
                {"speaker": "usr", "text": "One two three"},
                {"speaker": "sys", "text": "Four", "strategy": None},
                {"speaker": "sys", "text": "five six"},
            ],
        },
    ],
}


def write_esconv(folder, dialogues=DIALOGUES, extra_lines=None):
    folder.mkdir(parents=True, exist_ok=True)
    for split, records in dialogues.items():
        lines = [json.dumps(r) for r in records] + list((extra_lines or {}).get(split, []))
        (folder / f"{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_load_esconv_tables(tmp_path):
    dialogues, utterances = load_esconv(write_esconv(tmp_path / "esconv"))
    assert dialogues.index.tolist() == [0, 1, 2]
    assert dialogues["split"].tolist() == ["train", "valid", "test"]
    assert dialogues["line"].tolist() == [1, 1, 1]
    assert dialogues["n_utterances"].tolist() == [4, 2, 3]
    assert dialogues["n_counselor_utterances"].tolist() == [1, 1, 2]
    assert dialogues["n_client_utterances"].tolist() == [3, 1, 1]
    assert (
        dialogues.loc[0, "seeker_empathy"] == 5.0 and dialogues.loc[0, "supporter_relevance"] == 5.0
    )
    assert (
        np.isnan(dialogues.loc[1, "seeker_empathy"])
        and dialogues.loc[1, "seeker_initial_emotion_intensity"] == 3
    )
    assert dialogues.loc[0, "emotion_type"] == "anxiety" and pd.isna(
        dialogues.loc[2, "emotion_type"]
    )
    assert len(utterances) == 9
    assert utterances["position"].tolist() == [0, 1, 2, 3, 0, 1, 0, 1, 2]
    assert utterances["role"].tolist()[:2] == ["client", "counselor"]  # usr = seeker = client
    assert utterances["n_words"].tolist() == [2, 4, 2, 2, 6, 1, 3, 1, 2]  # whitespace tokens
    assert utterances.loc[2, "n_chars"] == len("Not  good")
    assert utterances.loc[1, "strategy"] == "Question"


def test_broken_line_names_file_and_line(tmp_path):
    folder = write_esconv(tmp_path / "esconv", extra_lines={"valid": ['{"dialog": [ broken']})
    with pytest.raises(ESConvDataError, match=r"valid\.txt, line 2: not valid JSON"):
        load_esconv(folder)


@pytest.mark.parametrize(
    "record, message",
    [
        ({"dialog": []}, "'dialog' must be a non-empty list"),
        (
            {"dialog": [{"speaker": "bot", "text": "x"}]},
            r"dialog\[0\]: speaker must be 'usr' or 'sys'",
        ),
        ({"dialog": [{"speaker": "usr", "text": None}]}, r"dialog\[0\]: text must be a string"),
        (
            {
                "dialog": [{"speaker": "usr", "text": "x"}],
                "survey_score": {"seeker": {"empathy": "high"}},
            },
            "survey_score.seeker.empathy is not a number",
        ),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_malformed_dialogue_is_reported(tmp_path, record, message):
    dialogues = {**DIALOGUES, "test": DIALOGUES["test"] + [record]}
    with pytest.raises(ESConvDataError, match=r"test\.txt, line 2.*" + message):
        load_esconv(write_esconv(tmp_path / "esconv", dialogues))


def test_missing_files(tmp_path):
    folder = write_esconv(tmp_path / "esconv")
    (folder / "valid.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"valid\.txt"):
        load_esconv(folder)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_esconv(tmp_path / "nowhere")
    dialogues, _ = load_esconv(folder / "train.txt")  # a single split file also works
    assert dialogues["split"].tolist() == ["train"]


def test_find_esconv(tmp_path, monkeypatch):
    write_esconv(tmp_path / "peers" / "esconv")
    monkeypatch.delenv("KOKORO_PEERS_DIR", raising=False)
    assert find_esconv() is None
    assert find_esconv(tmp_path / "peers") == (tmp_path / "peers" / "esconv").resolve()
    assert find_esconv(tmp_path / "peers" / "esconv") == (tmp_path / "peers" / "esconv").resolve()
    assert find_esconv(tmp_path / "elsewhere") is None
    monkeypatch.setenv("KOKORO_PEERS_DIR", str(tmp_path / "peers"))
    assert find_esconv() == (tmp_path / "peers" / "esconv").resolve()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KOKORO_PEERS_DIR", "peers")  # relative to the working directory
    assert find_esconv() == (tmp_path / "peers" / "esconv").resolve()


@pytest.fixture(scope="module")
def real_esconv():
    folder = find_esconv() if os.environ.get("KOKORO_PEERS_DIR") else None
    if folder is None:
        pytest.skip("KOKORO_PEERS_DIR is not set or holds no esconv/ (real ESConv test)")
    return load_esconv(folder)


@pytest.mark.realdata
def test_real_esconv(real_esconv):
    dialogues, utterances = real_esconv
    assert len(dialogues) == 1300 and len(utterances) == 38365
    assert dialogues["split"].value_counts().to_dict() == {"train": 910, "valid": 195, "test": 195}


def test_word_counts_equal_str_split_for_every_kind_of_whitespace():
    import sys

    import numpy as np
    import pandas as pd

    from kokoro_analysis.corpus.esconv import whitespace_word_counts

    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    pieces = [*spaces, "a", "é", "語", "\u200b", "!", ""]  # ZERO WIDTH SPACE is not whitespace
    rng = np.random.default_rng(0)
    texts = pd.Series(["".join(rng.choice(pieces, size=rng.integers(0, 12))) for _ in range(2000)])
    assert whitespace_word_counts(texts).tolist() == [len(t.split()) for t in texts]
