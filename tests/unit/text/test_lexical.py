"""lexical: the vectorised Dist-n equals metrics.distinct_n; vocabulary, tokens per message, growth and
frequent content lemmas on a hand-built token table; the synthetic corpus through the real tokenizer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.corpus import schema
from kokoro_analysis.finetune.metrics import distinct_n
from kokoro_analysis.text import lexical
from kokoro_analysis.text.token_cache import tokenize_corpus
from kokoro_analysis.text.tokens import Tokens

# utterance label -> (role, [(surface, pos, pos2, lemma), ...])
MESSAGES = {
    10: (
        "counselor",
        [
            ("今日", "名詞", "普通名詞", "今日"),
            ("は", "助詞", "係助詞", "は"),
            ("話し", "動詞", "一般", "話す"),
            ("ます", "助動詞", "", "ます"),
        ],
    ),
    11: ("client", [("はい", "感動詞", "一般", "はい")]),
    12: (
        "client",
        [
            ("話す", "動詞", "一般", "話す"),
            ("今日", "名詞", "普通名詞", "今日"),
            ("は", "助詞", "係助詞", "は"),
            ("話す", "動詞", "一般", "話す"),
        ],
    ),
    13: (
        "counselor",
        [
            ("今日", "名詞", "普通名詞", "今日"),
            ("は", "助詞", "係助詞", "は"),
            ("こと", "名詞", "普通名詞", "事"),
            ("お話", "名詞", "普通名詞", "話"),
        ],
    ),
}


def build(messages=MESSAGES) -> tuple[Tokens, pd.DataFrame]:
    utterances = pd.DataFrame(
        {
            "dialogue_id": [1, 1, 1, 1][: len(messages)],
            "role": pd.Categorical(
                [role for role, _ in messages.values()], categories=schema.ROLES
            ),
        },
        index=list(messages),
    )
    rows = [(label, *token) for label, (_, tokens) in messages.items() for token in tokens]
    table = pd.DataFrame(rows, columns=["utterance", "surface", "pos", "pos2", "lemma"])
    for column in ("surface", "pos", "pos2", "lemma"):
        table[column] = table[column].astype("category")
    return Tokens(table), utterances


def dist_n(table: pd.DataFrame, n: int) -> float:
    """Dist-n of a token table's surfaces (messages = runs of equal ``utterance``)."""
    return lexical.distinct_n_codes(
        table["surface"].cat.codes.to_numpy(), table["utterance"].to_numpy(), n
    )


def token_lists(table: pd.DataFrame, column: str = "surface") -> list[list[str]]:
    return [
        group[column].astype(str).tolist() for _, group in table.groupby("utterance", sort=False)
    ]


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_vectorised_distinct_n_equals_metrics(n):
    rng = np.random.default_rng(n)
    vocabulary = [f"w{i}" for i in range(12)]
    lists = [list(rng.choice(vocabulary, size=int(rng.integers(1, 7)))) for _ in range(300)]
    table = pd.DataFrame(
        {
            "utterance": np.repeat(np.arange(len(lists)) * 3 + 5, [len(t) for t in lists]),
            "surface": pd.Categorical([w for t in lists for w in t]),
        }
    )
    assert dist_n(table, n) == pytest.approx(distinct_n(lists, n), abs=1e-12)


def test_distinct_n_by_hand():
    tokens, _ = build()
    # unigrams: 13 tokens, distinct surfaces 今日 は 話し ます はい 話す こと お話 = 8
    assert dist_n(tokens.table, 1) == pytest.approx(100 * 8 / 13)
    # bigrams within messages: 3 + 0 + 3 + 3 = 9; 今日-は occurs three times -> 7 distinct
    assert dist_n(tokens.table, 2) == pytest.approx(100 * 7 / 9)
    assert dist_n(tokens.table, 2) == pytest.approx(distinct_n(token_lists(tokens.table), 2))
    assert dist_n(tokens.table.iloc[:0], 2) == 0.0


def test_ngram_ids_recode_instead_of_overflowing():
    codes = np.array([2**40, 7, 2**40, 7, 2**40, 9], dtype=np.int64)
    messages = np.zeros(6, dtype=np.int64)
    ids = lexical.ngram_ids(codes, messages, 4)
    assert len(ids) == 3 and ids[0] != ids[2] and len(set(ids.tolist())) == 3
    assert lexical.distinct_n_codes(codes, messages, 3) == pytest.approx(100 * 3 / 4)
    assert lexical.distinct_n_codes(codes, messages, 2) == pytest.approx(100 * 3 / 5)
    with pytest.raises(ValueError, match="n must be"):
        lexical.ngram_ids(codes, messages, 0)
    with pytest.raises(ValueError, match="same length"):
        lexical.ngram_ids(codes, messages[:3], 1)


def test_vocabulary_table_by_hand():
    tokens, utterances = build()
    table = lexical.vocabulary_table(tokens, utterances)
    assert table.index.tolist() == ["total", "counselor", "client"]
    assert table["messages"].tolist() == [4, 2, 2]
    assert table["tokens"].tolist() == [13, 8, 5]
    assert table["tokens_per_message"].tolist() == pytest.approx([13 / 4, 4.0, 2.5])
    # surfaces: counselor 今日 は 話し ます こと お話 = 6; client はい 話す 今日 は = 4
    assert table["surfaces"].tolist() == [8, 6, 4]
    # lemmas: counselor 今日 は 話す ます 事 話 = 6; client はい 話す 今日 は = 4; total 7
    assert table["lemmas"].tolist() == [7, 6, 4]
    assert table.loc["counselor", "dist_2"] == pytest.approx(100 * 5 / 6)  # 今日-は twice
    assert table.loc["client", "dist_1"] == pytest.approx(100 * 4 / 5)


def test_tokens_per_message_and_roles():
    tokens, utterances = build()
    per_message = tokens.counts_per_utterance(utterances.index)
    assert per_message.tolist() == [4, 1, 4, 4]
    assert per_message.index.tolist() == [10, 11, 12, 13]
    assert lexical.token_roles(tokens, utterances).tolist() == [0] * 4 + [1] * 5 + [0] * 4
    # a non-contiguous, unsorted utterance index works too
    shuffled = utterances.loc[[13, 10, 12, 11]]
    assert tokens.counts_per_utterance(shuffled.index).tolist() == [4, 4, 4, 1]
    with pytest.raises(ValueError, match="not in the given utterance table"):
        lexical.token_roles(tokens, utterances.loc[[10, 11]])


def test_type_token_growth():
    tokens, utterances = build()
    growth = lexical.type_token_growth(tokens, utterances, points=50)
    total = growth[(growth["role"] == "total") & (growth["unit"] == "surface")]
    assert total["tokens"].tolist() == list(range(1, 14))
    # corpus order: 今日 は 話し ます | はい | 話す 今日 は 話す | 今日 は こと お話
    assert total["types"].tolist() == [1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 7, 8]
    client = growth[(growth["role"] == "client") & (growth["unit"] == "lemma")]
    assert client["types"].tolist() == [1, 2, 3, 4, 4]
    assert set(growth["unit"]) == {"surface", "lemma"}
    fit = lexical.heaps_fit(growth, min_tokens=1)
    assert 0 < fit.loc[("total", "surface"), "beta"] <= 1


def test_top_content_lemmas():
    tokens, utterances = build()
    top = lexical.top_content_lemmas(tokens, utterances, top=2)
    client = top[top["role"] == "client"]
    # client content tokens: 話す 今日 話す (はい is an interjection, は a particle)
    assert client["lemma"].tolist() == ["話す", "今日"]
    assert client["count"].tolist() == [2, 1]
    assert client["per_1000"].tolist() == pytest.approx([1000 * 2 / 3, 1000 / 3])
    assert client["messages_share"].tolist() == pytest.approx([50.0, 50.0])
    counselor = top[top["role"] == "counselor"]
    assert "事" not in counselor["lemma"].tolist()  # formal noun: not a content word
    assert counselor["lemma"].tolist()[0] == "今日" and counselor["count"].tolist()[0] == 2
    assert counselor.set_index("lemma").loc["今日", "surface"] == "今日"


def test_synthetic_corpus_matches_metrics(synthetic_dir):
    corpus = load_corpus(synthetic_dir)
    tokens = tokenize_corpus(corpus, progress=False)
    table = lexical.vocabulary_table(tokens, corpus.utterances)
    roles = corpus.utterances["role"]
    for role in schema.ROLES:
        mine = tokens.restrict(corpus.utterances.index[roles == role])
        lists = mine.lists("surface").tolist()
        for n in (1, 2):
            assert table.loc[role, f"dist_{n}"] == pytest.approx(distinct_n(lists, n))
    assert table.loc["total", "tokens"] == len(tokens)
