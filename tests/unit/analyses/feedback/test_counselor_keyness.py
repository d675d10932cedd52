"""Unit tests of kokoro_analysis.analyses.feedback.counselor_keyness (hand-made tokens)."""

from __future__ import annotations

import pandas as pd

from kokoro_analysis.analyses.feedback import (
    counselor_keyness,
)

from .test_scores import _corpus, _dialogues, _tokens, _utterances


def test_counselor_lemma_counts_by_group():
    utterances = _utterances(
        [
            (1, "counselor", 0, "x"),
            (1, "client", 5, "x"),
            (2, "counselor", 0, "x"),
            (3, "counselor", 0, "x"),
        ]
    )
    dialogues = _dialogues([1, 2, 3], [90, 30, 70], counselor_id=[5, 6, 7])
    tokens = _tokens(
        [
            (0, "とても", "副詞", "一般", "迚も"),
            (0, "とっても", "副詞", "一般", "迚も"),
            (0, "とても", "副詞", "一般", "迚も"),
            (1, "とても", "副詞", "一般", "迚も"),  # client: not counted
            *[(1, "とっても", "副詞", "一般", "迚も")] * 4,
            (2, "とても", "副詞", "一般", "迚も"),
            (2, "は", "助詞", "係助詞", "は"),  # particle: not a content word
            (3, "大切", "形状詞", "一般", "大切"),
        ]
    )
    counts = counselor_keyness.counselor_lemma_counts(_corpus(dialogues, utterances), tokens)
    assert counts.loc["迚も", ["high", "low", "counselors"]].tolist() == [3, 1, 2]
    # one written form per lemma in every role: とっても 5 times in all the tokens, とても 4
    assert counts.loc["迚も", "surface"] == "とっても"
    forms = pd.Series({"迚も": "とても"})
    with_forms = counselor_keyness.counselor_lemma_counts(
        _corpus(dialogues, utterances), tokens, forms=forms
    )
    assert with_forms.loc["迚も", "surface"] == "とても"
    assert counts.loc["大切", ["high", "low"]].tolist() == [1, 0]  # score 70 counts as high
    assert "は" not in counts.index
    client_tokens = _tokens([(1, "とても", "副詞", "一般", "迚も")])
    assert counselor_keyness.counselor_lemma_counts(
        _corpus(dialogues, utterances), client_tokens
    ).empty
    top, _ = counselor_keyness.keyness_table(_corpus(dialogues, utterances), client_tokens)
    assert top.empty


def test_top_keywords_filters_by_counselors_and_direction():
    keyness = pd.DataFrame(
        {
            "delta": [1.0, 0.5, -0.4, -1.0],
            "z": [5.0, 3.0, -2.0, -6.0],
            "count_group": [10, 8, 3, 1],
            "count_other": [1, 2, 6, 9],
            "rate_group": [1.0] * 4,
            "rate_other": [1.0] * 4,
            "counselors": [1, 12, 15, 30],
            "surface": ["a", "b", "c", "d"],
        },
        index=pd.Index(["w1", "w2", "w3", "w4"], name="word"),
    )
    top = counselor_keyness.top_keywords(keyness, 5, min_counselors=10)
    assert top[top["direction"] == "high"]["lemma"].tolist() == ["w2"]
    assert top[top["direction"] == "low"]["lemma"].tolist() == ["w4", "w3"]
