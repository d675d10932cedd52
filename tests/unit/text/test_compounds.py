"""Slang and compounds unidic-lite splits (リスカ -> 栗鼠 + か) are merged back into one token."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from kokoro_analysis.text.compounds import (
    COMPOUNDS,
    find_compounds,
    isolate_compounds,
    merge_compound_columns,
    merge_compounds,
)
from kokoro_analysis.text.token_cache import tokenize_corpus


def frame(texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"text": texts}, index=pd.RangeIndex(len(texts)))


@pytest.mark.parametrize(
    "text", ["リスカをしてしまう", "リスカした", "昨日リスカ", "アムカ", "希死念慮がある"]
)
def test_tokenizer_keeps_the_compound_whole(text):
    table = tokenize_corpus(frame([text]), progress=False).table
    lemmas = table["lemma"].astype(str).tolist()
    word = next(w for w in COMPOUNDS if w in text)
    assert word in lemmas and "栗鼠" not in lemmas
    row = table[table["lemma"].astype(str) == word].iloc[0]
    assert (row["surface"], row["base"], row["pos"]) == (word, word, "名詞")


def test_squirrel_stays_a_squirrel():
    lemmas = tokenize_corpus(frame(["リスが好き"]), progress=False).table["lemma"].astype(str)
    assert "栗鼠" in set(lemmas)


def _table(rows: list[tuple[int, str]]) -> pd.DataFrame:
    utterances, surfaces = zip(*rows)
    table = pd.DataFrame(
        {
            "utterance": utterances,
            "surface": surfaces,
            "pos": ["名詞"] * len(rows),
            "pos2": ["x"] * len(rows),
            "lemma": [f"L{s}" for s in surfaces],
        }
    )
    return table.astype({c: "category" for c in ("surface", "pos", "pos2", "lemma")})


def test_merge_never_crosses_utterances():
    table = _table([(1, "リス"), (2, "カ"), (3, "リ"), (3, "スカ")])
    merged = merge_compounds(table)
    assert merged["surface"].astype(str).tolist() == ["リス", "カ", "リスカ"]
    assert merged["lemma"].astype(str).tolist() == ["Lリス", "Lカ", "リスカ"]
    assert merged["utterance"].tolist() == [1, 2, 3]
    assert merged["pos2"].astype(str).tolist() == ["x", "x", "普通名詞"]


def test_find_compounds_positions():
    table = _table([(1, "毒"), (1, "親"), (1, "と"), (1, "毒"), (2, "親")])
    assert find_compounds(table) == ([0], [2], ["毒親"])
    assert merge_compounds(_table([(1, "と")])).equals(_table([(1, "と")]))


def test_kamoshirenai_is_not_a_content_word():
    content = tokenize_corpus(frame(["そうかもしれない"]), progress=False).content()
    assert "知れる" not in set(content.table["lemma"].astype(str))


@pytest.mark.parametrize(
    "text, word",
    [
        ("プロフみたらリスカしてたんです", "リスカ"),  # was リ + スカし (すかす)
        ("パワハラモラハラを受けていた", "モラハラ"),  # was one unknown katakana token
        ("メンヘラチックな", "メンヘラ"),
        ("ごろごろスマホって感じ", "スマホ"),  # was スマ + ホ
        ("知的障害、発達障害もあります", "発達障害"),
        ("自己肯定感が低い", "自己肯定感"),
        ("生きづらさを感じる", "生きづらさ"),
        ("過呼吸になった", "過呼吸"),
        ("承認欲求が強い", "承認欲求"),
    ],
)
def test_every_occurrence_becomes_one_token_whatever_its_neighbours(text, word):
    table = tokenize_corpus(frame([text]), progress=False).table
    assert word in table["surface"].astype(str).tolist()
    row = table[table["surface"].astype(str) == word].iloc[0]
    assert (row["lemma"], row["pos"]) == (word, "名詞")


def test_isolate_compounds_puts_spaces_around_the_longest_word():
    assert isolate_compounds("パワハラモラハラ") == "パワハラ モラハラ "
    assert isolate_compounds("リスカ", {}) == "リスカ"
    assert isolate_compounds("パニック障害と発達障害") == " パニック障害 と 発達障害 "


def test_a_single_token_that_spells_a_compound_gets_its_lemma():
    table = _table([(1, "スマホ"), (1, "を")])
    assert find_compounds(table) == ([0], [1], ["スマホ"])
    assert merge_compounds(table)["lemma"].astype(str).tolist() == ["スマホ", "Lを"]


def test_the_arrow_merge_equals_the_pandas_merge():
    table = _table([(1, "リ"), (1, "スカ"), (1, "を"), (2, "毒"), (2, "親"), (3, "スマホ")])
    columns = {
        name: pa.DictionaryArray.from_arrays(
            pa.array(table[name].cat.codes.to_numpy(), pa.int32()),
            pa.array(table[name].cat.categories.astype(str), pa.string()),
        )
        for name in ("surface", "pos", "pos2", "lemma")
    }
    owners, merged = merge_compound_columns(table["utterance"].to_numpy(), columns)
    expected = merge_compounds(table)
    assert owners.tolist() == expected["utterance"].tolist()
    for name, column in merged.items():
        assert column.to_pylist() == expected[name].astype(str).tolist()
        assert column.dictionary.to_pylist() == expected[name].cat.categories.tolist()
    untouched = {"surface": columns["surface"][2:3]}
    assert merge_compound_columns(owners[2:3], untouched) == (owners[2:3], untouched)
