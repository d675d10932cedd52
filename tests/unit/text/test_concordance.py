"""Concordance (KWIC), hit counts, log-Dice collocates and the CSV export, on a hand-made token table
whose every number can be checked by eye, and on the synthetic corpus."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kokoro_analysis.text import concordance as kwic
from kokoro_analysis.text.tokens import Tokens

# three messages of session 1 (counselor, client, client) and one of session 2 (counselor)
ROWS = [
    (0, "私", "代名詞", "私"),
    (0, "は", "助詞", "は"),
    (0, "不安", "名詞", "不安"),
    (0, "です", "助動詞", "です"),
    (1, "不安", "名詞", "不安"),
    (1, "に", "助詞", "に"),
    (1, "思っ", "動詞", "思う"),
    (1, "た", "助動詞", "た"),
    (2, "思う", "動詞", "思う"),
    (3, "とても", "副詞", "迚も"),
    (3, "不安", "名詞", "不安"),
]


@pytest.fixture
def tokens() -> Tokens:
    frame = pd.DataFrame(ROWS, columns=["utterance", "surface", "pos", "lemma"])
    frame["pos2"] = "一般"
    for column in ("surface", "pos", "pos2", "lemma"):
        frame[column] = frame[column].astype("category")
    return Tokens(frame[["utterance", "surface", "pos", "pos2", "lemma"]])


@pytest.fixture
def utterances() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dialogue_id": [1, 1, 1, 2],
            "role": pd.Categorical(["counselor", "client", "client", "counselor"]),
        }
    )


def test_hits_with_context_stay_inside_their_message(tokens, utterances):
    hits = kwic.concordance(tokens, utterances, "不安", window=2)
    assert hits.columns.tolist() == list(kwic.HIT_COLUMNS)
    assert hits[["dialogue_id", "utterance", "role", "token"]].values.tolist() == [
        [1, 0, "counselor", 2],
        [1, 1, "client", 0],
        [2, 3, "counselor", 1],
    ]
    assert hits["left"].tolist() == ["私は", "", "とても"]
    assert hits["right"].tolist() == ["です", "に思っ", ""]


def test_a_query_matches_surface_or_lemma(tokens, utterances):
    assert kwic.concordance(tokens, utterances, "思う")["hit"].tolist() == ["思っ", "思う"]
    assert kwic.concordance(tokens, utterances, "思う", match="surface")["hit"].tolist() == ["思う"]
    assert kwic.concordance(tokens, utterances, "思っ", match="lemma").empty
    assert kwic.concordance(tokens, utterances, "迚も", match="lemma")["hit"].tolist() == ["とても"]
    assert kwic.concordance(tokens, utterances, " とても ")["lemma"].tolist() == ["迚も"]


def test_pos_and_role_filters(tokens, utterances):
    assert kwic.concordance(tokens, utterances, "不安", role="client")["utterance"].tolist() == [1]
    assert kwic.concordance(tokens, utterances, "思う", pos="名詞").empty
    assert len(kwic.concordance(tokens, utterances, "思う", pos="動詞")) == 2


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"query": ""}, "non-empty"),
        ({"query": "不安", "match": "reading"}, "match must be"),
        ({"query": "不安", "role": "therapist"}, "role must be"),
        ({"query": "不安", "window": -1}, "window"),
    ],
)
def test_bad_arguments_are_named(tokens, utterances, arguments, message):
    with pytest.raises(ValueError, match=message):
        kwic.concordance(tokens, utterances, **arguments)


def test_hit_counts_by_role_and_by_session_attribute(tokens, utterances):
    hits = kwic.concordance(tokens, utterances, "不安")
    by_role = kwic.hit_counts(hits, "role")
    assert by_role.values.tolist() == [["counselor", 2, 2, 2 / 3], ["client", 1, 1, 1 / 3]]
    topics = pd.Series({1: "Work", 2: "Family"})
    assert kwic.hit_counts(hits, "topic", topics)[
        ["topic", "hits", "sessions"]
    ].values.tolist() == [["Work", 2, 1], ["Family", 1, 1]]


@pytest.mark.parametrize("arguments", [{"window": -1}, {"top": -3}, {"window": 1.5}])
def test_bad_collocate_arguments_are_named(tokens, utterances, arguments):
    hits = kwic.concordance(tokens, utterances, "不安")
    with pytest.raises(ValueError, match=next(iter(arguments))):
        kwic.collocates(tokens, hits, **arguments)


def test_log_dice_collocates(tokens, utterances):
    hits = kwic.concordance(tokens, utterances, "不安", window=2)
    result = kwic.collocates(tokens, hits, window=2, min_count=1, content_only=False)
    rows = result.set_index("lemma")
    # 私, は, です, に, 思う, 迚も each co-occur once; 思う occurs twice in all, the others once
    assert rows.loc["思う", "co"] == 1 and rows.loc["思う", "frequency"] == 2
    assert rows.loc["思う", "log_dice"] == pytest.approx(14 + math.log2(2 * 1 / (3 + 2)))
    assert rows.loc["私", "log_dice"] == pytest.approx(14 + math.log2(2 / 4))
    assert "不安" not in rows.index
    assert result["log_dice"].is_monotonic_decreasing
    assert kwic.collocates(tokens, hits, window=2, min_count=2, content_only=False).empty


def test_csv_export_is_complete_and_atomic(tokens, utterances, tmp_path):
    hits = kwic.concordance(tokens, utterances, "不安")
    path = kwic.write_csv(hits, tmp_path / "out" / "hits.csv")
    assert pd.read_csv(path)["hit"].tolist() == ["不安"] * 3
    assert [p.name for p in path.parent.iterdir()] == ["hits.csv"]


def test_on_the_synthetic_corpus(synthetic_dir):
    from kokoro_analysis import load_corpus
    from kokoro_analysis.text.token_cache import tokenize_corpus

    corpus = load_corpus(synthetic_dir)
    tokens = tokenize_corpus(corpus, progress=False)
    hits = kwic.concordance(tokens, corpus.utterances, "不安")
    texts = corpus.utterances.loc[hits["utterance"], "text"]
    assert len(hits) > 0 and all("不安" in text for text in texts)
    assert (hits["left"] + hits["hit"] + hits["right"]).map(lambda s: s in "".join(texts)).all()
    assert set(hits["dialogue_id"]) <= set(corpus.dialogues.index)


def test_a_query_of_several_tokens_matches_the_run_it_tokenizes_into(tokens, utterances):
    assert [surface for surface, _ in kwic.query_tokens("不安に思った")] == [
        "不安",
        "に",
        "思っ",
        "た",
    ]
    hits = kwic.concordance(tokens, utterances, "不安に思った", window=1)
    assert hits[["utterance", "token", "tokens", "hit", "left", "right"]].values.tolist() == [
        [1, 0, 4, "不安に思った", "", ""]
    ]
    assert hits["lemma"].tolist() == ["不安 に 思う た"]
    assert kwic.concordance(tokens, utterances, "不安に思う", match="surface").empty
    # runs never cross a message: です (message 0) + 不安 (message 1)
    assert kwic.concordance(tokens, utterances, "です不安").empty
    assert kwic.concordance(tokens, utterances, "とても不安")["utterance"].tolist() == [3]


def test_collocates_of_a_run_leave_out_the_run(tokens, utterances):
    hits = kwic.concordance(tokens, utterances, "私は")
    result = kwic.collocates(tokens, hits, window=1, min_count=1, content_only=False)
    assert result["lemma"].tolist() == ["不安"]


def test_text_occurrences_count_inside_longer_tokens_too():
    texts = pd.Series(["不安定で不安", "なし", "不安"])
    assert kwic.text_occurrences(texts, "不安") == 3


SYNTHETIC_TERMS = {
    "発達障害": ["発達障害と言われた", "知的障害、発達障害もある", "私も発達障害かも"],
    "リスカ": ["リスカしてた", "リスカされたら", "リスカを"],
    "モラハラ": ["パワハラモラハラの意識", "パワハラ・モラハラ"],
    "生きづらさ": ["生きづらさを感じる"],
    "教えてください": ["教えてください", "もう少し教えてくださいね"],
    "消えたい": ["もう消えたいです"],
}


def test_every_occurrence_of_a_term_is_a_hit_on_synthetic_sessions():
    from kokoro_analysis.text.token_cache import tokenize_corpus

    texts = [text for examples in SYNTHETIC_TERMS.values() for text in examples]
    utterances = pd.DataFrame(
        {
            "dialogue_id": range(len(texts)),
            "role": pd.Categorical(["client"] * len(texts)),
            "text": texts,
        }
    )
    tokens = tokenize_corpus(utterances, progress=False)
    for term in SYNTHETIC_TERMS:
        hits = kwic.concordance(tokens, utterances, term)
        assert len(hits) == kwic.text_occurrences(utterances["text"], term), term
        assert set(hits["hit"]) == {term}
        counts = kwic.hit_counts(hits, "role")
        assert counts["hits"].sum() == len(hits)
    # by lemma, 教えて下さい is a hit of 教えてください too (教える て 下さる)
    extra = pd.DataFrame(
        {"dialogue_id": [0], "role": pd.Categorical(["client"]), "text": ["教えて下さい"]}
    )
    extra_tokens = tokenize_corpus(extra, progress=False)
    assert kwic.concordance(extra_tokens, extra, "教えてください")["hit"].tolist() == [
        "教えて下さい"
    ]
    assert kwic.concordance(extra_tokens, extra, "教えてください", match="surface").empty
