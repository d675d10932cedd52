"""Paralinguistic marks, emoji, pseudonym letters and URL fragments are their own token class."""

from __future__ import annotations

import pandas as pd

from kokoro_analysis.text.marks import TOKEN_CLASSES, mark_counts, token_classes
from kokoro_analysis.text.token_cache import tokenize_corpus

TEXTS = [
    "そうなんです（笑）",
    "そうなんですｗｗ",
    "そうです笑",
    "泣きそう（泣）",
    "うれしい😊",
    "A子さんとＡさんが",
    "https://example.com/%E3%81%82%A9 を見て",
    "笑ってしまう",
    "笑いが止まらない♪",
]


def classes_of(text: str) -> list[tuple[str, str]]:
    table = tokenize_corpus(pd.DataFrame({"text": [text]}), progress=False).table
    classes = token_classes(table)
    return [
        (surface, TOKEN_CLASSES[c])
        for surface, c in zip(table["surface"].astype(str), classes)
        if c >= 0
    ]


def test_marks_letters_and_url_fragments_are_classified():
    assert classes_of(TEXTS[0]) == [("笑", "laugh")]
    assert classes_of(TEXTS[1]) == [("ｗｗ", "laugh")]
    assert classes_of(TEXTS[2]) == [("笑", "laugh")]
    assert classes_of(TEXTS[3]) == [("泣", "cry")]
    assert classes_of(TEXTS[4]) == [("😊", "emoji")]
    assert classes_of(TEXTS[5]) == [("A", "letter"), ("子", "letter"), ("Ａ", "letter")]
    url = classes_of(TEXTS[6])
    assert {c for _, c in url} == {"url"} and "A" in [s for s, _ in url] and "を" not in url
    assert classes_of(TEXTS[7]) == [] and classes_of(TEXTS[8]) == []  # the verb and noun, ♪


def test_none_of_them_is_a_content_word():
    tokens = tokenize_corpus(pd.DataFrame({"text": TEXTS}), progress=False)
    content = tokens.content().table["lemma"].astype(str)
    lemmas = set(content)
    assert not lemmas & {"泣き", "A", "Ａ", "example", "E", "子"}
    assert (content == "笑い").sum() == 1  # the noun 笑い (笑いが止まらない), not the marks
    assert {"笑う", "嬉しい", "泣く"} <= lemmas


def test_mark_counts_per_group():
    texts = ["そうです（笑）", "ｗｗ笑", "はい", "😊😊"]
    utterances = pd.DataFrame(
        {"text": texts, "role": ["client", "client", "counselor", "counselor"]}
    )
    table = tokenize_corpus(utterances, progress=False).table
    counts = mark_counts(table, utterances, by="role").set_index("role")
    assert counts.loc["client", "laugh_tokens"] == 3
    assert counts.loc["client", "laugh_messages"] == 2
    assert counts.loc["counselor", "emoji_tokens"] == 1  # MeCab keeps a run of symbols together
    assert counts.loc["counselor", "emoji_per_1000"] == 500.0
    assert counts.loc["counselor", "messages"] == 2


def test_mark_table_per_role_and_session_attribute():
    from kokoro_analysis.text.marks import MARKS, mark_table

    utterances = pd.DataFrame(
        {
            "dialogue_id": [1, 1, 2],
            "role": ["client", "counselor", "client"],
            "text": ["そうです（笑）", "はい", "泣きそう（泣）"],
        }
    )
    table = tokenize_corpus(utterances, progress=False).table
    frame = mark_table(table, utterances, {"band": pd.Series({1: "low", 2: "high"})})
    assert frame["by"].tolist() == ["role", "role", "band", "band"]
    rows = frame.set_index(["by", "group"])
    assert rows.loc[("role", "client"), "laugh_messages"] == 1
    assert rows.loc[("band", "high"), "cry_tokens"] == 1
    assert rows.loc[("band", "low"), "messages"] == 2
    assert MARKS.name == "corpus_paralinguistic_marks"


def test_coverage_counts_unknown_words_before_and_after_merging():
    from kokoro_analysis.text.coverage import unknown_word_rate

    texts = ["パワハラモラハラを受けた", "リスカした"]
    alone = unknown_word_rate(texts, compounds=None, isolate=False)
    merged = unknown_word_rate(texts)
    assert (
        alone["unknown"] == 1 and merged["unknown"] == 0
    )  # パワハラモラハラ was one unknown token
    assert merged["rate"] == 0.0 and alone["rate"] == 1 / alone["tokens"]
