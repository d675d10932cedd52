"""MeCab tokenization: fields, edge cases, parallel = serial, the cache and its invalidation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.text import mecab, token_cache
from kokoro_analysis.text.compounds import isolate_compounds
from kokoro_analysis.text.mecab import (
    SEPARATORS,
    _line_columns,
    prepare_texts,
    tokenize_texts,
    tokenizer_identity,
)
from kokoro_analysis.text.token_cache import tokenize_corpus
from kokoro_analysis.text.tokens import Tokens, lemma_label, message_positions


def frame(texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"text": pd.Series(texts, dtype="str")})


def test_surface_lemma_and_pos_of_a_sentence():
    tokens = tokenize_corpus(
        frame(["今日はとても寒いですね。", "コンピューターを使う"]), progress=False
    )
    table = tokens.table
    assert table["surface"].astype(str).tolist()[:7] == [
        "今日",
        "は",
        "とても",
        "寒い",
        "です",
        "ね",
        "。",
    ]
    assert table["pos"].astype(str).tolist()[:4] == ["名詞", "助詞", "副詞", "形容詞"]
    lemmas = dict(zip(table["surface"].astype(str), table["lemma"].astype(str)))
    assert lemmas["コンピューター"] == "コンピューター"  # English gloss removed
    assert lemmas["使う"] == "使う"
    assert (
        tokenize_corpus(frame(["私です"]), progress=False).table["lemma"].astype(str).iloc[0]
        == "私"
    )  # 私-代名詞
    assert table["utterance"].tolist() == [0] * 7 + [1] * 3
    assert isinstance(table["lemma"].dtype, pd.CategoricalDtype)


def test_awkward_texts_do_not_break_the_line_format():
    texts = ['彼は"引用"と言った\tタブ', "   ", "", "ｱｲｳｴｵ！？", "a,b;c"]
    counts, table = tokenize_texts(texts, workers=1, progress=False)
    assert counts.tolist()[1:3] == [0, 0]  # whitespace only and empty give no tokens
    assert len(table) == counts.sum()
    surfaces = table["surface"].to_pylist()
    assert '"' in surfaces and "\t" not in "".join(surfaces)


def test_parallel_equals_serial(synthetic_dir):
    texts = load_corpus(synthetic_dir).utterances["text"].tolist()
    serial = tokenize_texts(texts, workers=1, progress=False, chunk_size=100)
    parallel = tokenize_texts(texts, workers=2, progress=False, chunk_size=100)
    assert serial[0].tolist() == parallel[0].tolist()
    assert serial[1].equals(parallel[1])


def test_second_call_reads_the_cache(synthetic_dir, monkeypatch):
    corpus = load_corpus(synthetic_dir)
    first = tokenize_corpus(corpus, progress=False)

    def fail(*args, **kwargs):
        raise AssertionError("tokenized again instead of reading the cache")

    monkeypatch.setattr(token_cache, "tokenize_parts", fail)
    second = tokenize_corpus(corpus, progress=False)
    pd.testing.assert_frame_equal(first.table, second.table)


def test_changed_text_or_tokenizer_is_not_served_stale(monkeypatch):
    texts = frame(["こんにちは", "さようなら"])
    before = tokenize_corpus(texts, progress=False)
    changed = frame(["こんにちは", "ありがとう"])
    after = tokenize_corpus(changed, progress=False)
    assert "ありがとう" in after.table["surface"].astype(str).tolist()
    assert (
        before.table["surface"].astype(str).tolist() != after.table["surface"].astype(str).tolist()
    )

    identity = dict(tokenizer_identity())
    key = token_cache.token_cache_key(texts["text"].tolist())
    monkeypatch.setattr(
        token_cache, "tokenizer_identity", lambda: {**identity, "unidic-lite": "9.9.9"}
    )
    assert token_cache.token_cache_key(texts["text"].tolist()) != key


def test_identity_names_every_version():
    identity = tokenizer_identity()
    for name in ("fugashi", "mecab", "unidic-lite", "dictionary", "options"):
        assert identity[name] and identity[name] != "unknown"
    assert "-O ''" in identity["options"]


def test_restrict_lists_and_content():
    tokens = tokenize_corpus(
        frame(["私は学校に行きます。", "ありがとう", "本を読むことにする"]), progress=False
    )
    lists = tokens.lists("surface")
    assert lists.loc[1] == ["ありがとう"]
    restricted = tokens.restrict([0, 2])
    assert set(restricted.table["utterance"]) == {0, 2}
    content = set(tokens.content().table["lemma"].astype(str))
    assert {"学校", "本", "読む"} <= content
    # particles, auxiliaries, symbols, pronouns and UniDic's 非自立可能 words (行く, 事, 為る) are not content
    assert not {"は", "に", "ます", "。", "私", "行く", "事", "為る"} & content
    assert tokens.counts_per_utterance([0, 1, 2, 99]).tolist()[-1] == 0


def test_tokens_of_an_empty_table():
    tokens = tokenize_corpus(frame([]), progress=False, cache=False)
    assert isinstance(tokens, Tokens) and len(tokens) == 0


def test_cache_key_depends_on_content_not_on_memory_layout():
    texts = pd.Series(["あ", "いう", "えお", "か"], dtype="str")
    sliced = texts.iloc[1:3]
    fresh = pd.Series(["いう", "えお"], dtype="str", index=[1, 2])
    key = token_cache.token_cache_key
    assert key(sliced) == key(fresh)
    assert key(sliced) != key(pd.Series(["いう", "えか"]))
    assert key(sliced) != key(pd.Series(["い", "うえお"]))


def test_whitespace_and_control_characters_are_never_tokens():
    texts = [
        "\u3000あ\u3000い\u3000",
        "a\rb",
        "x\x00y",
        "前\u2028後",
        "終わり\u3000",
        "\tタブ\n改行\n",
    ]
    counts, table = tokenize_texts(texts, workers=1, progress=False)
    surfaces = table["surface"].to_pylist()
    ends = counts.cumsum().tolist()
    per_text = [surfaces[a:b] for a, b in zip([0, *ends[:-1]], ends)]
    assert per_text[1] == ["a", "b"] and per_text[2] == ["x", "y"]
    assert per_text[4] == ["終わり"] and per_text[5] == ["タブ", "改行"]
    assert not any(s.isspace() or not s for s in surfaces)
    assert "".join(per_text[0]) == "あい" and "".join(per_text[3]) == "前後"


# --------------------------------------------------------------------------- usual surfaces and labels


def _token_table(pairs: list[tuple[str, str]], categories: list[str] | None = None) -> Tokens:
    lemma, surface = zip(*pairs)
    return Tokens(
        pd.DataFrame(
            {
                "utterance": range(len(pairs)),
                "lemma": pd.Categorical(lemma),
                "surface": pd.Categorical(surface, categories=categories),
            }
        )
    )


def test_usual_surfaces_most_frequent_form_per_lemma():
    tokens = _token_table(
        [
            ("迚も", "とても"),
            ("迚も", "とっても"),
            ("迚も", "とても"),
            ("栗鼠", "リス"),
            ("言う", "いう"),
            ("言う", "言う"),
            ("言う", "いう"),
            ("言う", "いっ"),
            ("言う", "いう"),
        ]
    )
    surfaces = tokens.usual_surfaces()
    assert surfaces.to_dict() == {"言う": "いう", "迚も": "とても", "栗鼠": "リス"}
    assert surfaces.index.tolist() == sorted(surfaces.index) and surfaces.index.name == "lemma"
    assert surfaces.name == "surface" and all(isinstance(s, str) for s in surfaces)
    assert tokens.usual_surfaces(["迚も", "存在しない"]).to_dict() == {"迚も": "とても"}
    assert tokens.usual_surfaces([]).empty
    assert Tokens(tokens.table.iloc[:0]).usual_surfaces().empty
    # only the given tokens count: in this subset いっ is the only form of 言う
    assert tokens.restrict([7]).usual_surfaces().to_dict() == {"言う": "いっ"}


def test_usual_surfaces_tie_goes_to_the_first_form_by_code_point_whatever_the_category_order():
    pairs = [
        ("死ぬ", "死ん"),
        ("死ぬ", "死に"),
        ("死ぬ", "死に"),
        ("死ぬ", "死ん"),
        ("栗鼠", "リス"),
    ]
    for categories in (None, ["死ん", "リス", "死に"], ["リス", "死に", "死ん"]):
        assert _token_table(pairs, categories).usual_surfaces().to_dict() == {
            "栗鼠": "リス",
            "死ぬ": "死に",
        }
    # a missing surface is not a form; plain (non-categorical) columns work too
    plain = pd.DataFrame(
        {"utterance": [0, 1, 2], "lemma": ["死ぬ", "死ぬ", "死ぬ"], "surface": ["死ん", None, None]}
    )
    assert Tokens(plain).usual_surfaces().to_dict() == {"死ぬ": "死ん"}


def test_usual_forms_on_real_tokens_are_written_base_forms():
    tokens = tokenize_corpus(
        frame(["とてもいいと言う", "きっと大丈夫と思った", "そういうことです", "思っている"]),
        progress=False,
    )
    forms = tokens.usual_surfaces()
    assert forms["迚も"] == "とても" and forms["急度"] == "きっと"
    assert forms["思う"] == "思う"  # the base form, not the inflected 思っ
    assert lemma_label("迚も", forms["迚も"]) == "とても"


@pytest.mark.parametrize(
    ("lemma", "form", "label"),
    [
        ("迚も", "とても", "とても"),
        ("急度", "きっと", "きっと"),
        ("学校", "学校", "学校"),
        ("学校", None, "学校"),
        ("学校", "", "学校"),
        ("学校", float("nan"), "学校"),
        ("学校", 3, "学校"),
    ],
)
def test_lemma_label(lemma, form, label):
    assert lemma_label(lemma, form) == label


def test_the_token_table_carries_dialogue_ids(synthetic_dir):
    from kokoro_analysis import load_corpus
    from kokoro_analysis.text.token_cache import tokenize_corpus

    corpus = load_corpus(synthetic_dir)
    for _ in range(2):  # tokenized, then read from the cache
        table = tokenize_corpus(corpus, progress=False).table
        assert table.columns[:2].tolist() == ["utterance", "dialogue_id"]
        expected = corpus.utterances.loc[table["utterance"], "dialogue_id"].to_numpy()
        assert (table["dialogue_id"].to_numpy() == expected).all()
    part = corpus.restrict(corpus.dialogues.index[5:9])
    table = tokenize_corpus(part, progress=False).table
    assert set(table["dialogue_id"]) == set(corpus.dialogues.index[5:9])


def test_prepare_texts_equals_preparing_each_text():
    texts = [
        "リスカした",
        "",
        "パワハラ\u3000モラハラ",
        "改行\nと\tタブ発達障害",
        "ゼロ\x00バイト毒親",
    ]
    each = [isolate_compounds(text).translate(SEPARATORS) for text in texts]
    assert prepare_texts(texts) == each
    assert prepare_texts(texts[:4]) == each[:4]
    assert prepare_texts([]) == []


def test_a_line_without_every_field_is_refused():
    with pytest.raises(ValueError, match="without 5 tab-separated fields"):
        _line_columns(np.zeros(1, np.int32), pa.array(["名詞\t普通名詞\t猫"]))


AWKWARD_TEXTS = [
    "今晩は。相談員です",
    "",
    "   ",
    "ｱｲｳｴｵ！？ 😀 リスカ",
    "私はコンピューターで、わかる。" * 400,  # longer than MAX_PARSE_CHARS: parsed in pieces
    "abcdefg" * 700,
]


def test_libmecab_through_ctypes_gives_fugashis_lines():
    library_parse = mecab.make_parser()
    assert isinstance(library_parse, mecab.LibraryParser), "fugashi's libmecab was not loaded"
    prepared = prepare_texts(AWKWARD_TEXTS)
    direct = mecab._parse_all(library_parse, prepared)
    assert direct == mecab._parse_all(mecab.fugashi_parser(), prepared)
    assert direct[1:3] == [b"", b""] and all(out.endswith(b"\n") for out in direct[3:])
    assert direct[0].decode().splitlines()[0] == "感動詞\t一般\t今晩は\t今晩は\t今晩は"


def test_tokens_are_the_same_through_fugashi_when_libmecab_cannot_be_loaded(monkeypatch):
    direct = tokenize_texts(AWKWARD_TEXTS, workers=1, progress=False)
    monkeypatch.setattr(mecab, "mecab_library", lambda: None)
    assert not isinstance(mecab.make_parser(), mecab.LibraryParser)
    through_fugashi = tokenize_texts(AWKWARD_TEXTS, workers=1, progress=False)
    assert direct[0].tolist() == through_fugashi[0].tolist()
    assert direct[1].equals(through_fugashi[1])


def test_mecab_refusing_its_options_is_an_error_naming_them():
    with pytest.raises(RuntimeError, match="MeCab could not start with -d /nonexistent"):
        mecab.LibraryParser(mecab.mecab_library(), "-d /nonexistent")


@pytest.mark.parametrize(
    "index",
    [pd.RangeIndex(5, 10), pd.Index([5, 6, 7, 9, 11]), pd.Index([9, 7, 6, 5, 11])],
    ids=["contiguous", "sorted", "unsorted"],
)
def test_message_positions_agree_with_pandas_lookup(index):
    utterances = pd.DataFrame({"text": ["a"] * len(index)}, index=index)
    inside = pd.DataFrame({"utterance": np.array([5, 7, 6, 9, 5], dtype=np.int32)})
    assert (
        message_positions(inside, utterances).tolist()
        == index.get_indexer([5, 7, 6, 9, 5]).tolist()
    )
    outside = pd.DataFrame({"utterance": np.array([4, 7, 8, 12, 10], dtype=np.int32)})
    expected = index.get_indexer([4, 7, 8, 12, 10]).tolist()
    assert message_positions(outside, utterances, strict=False).tolist() == expected
    with pytest.raises(ValueError, match="not in the given utterance table"):
        message_positions(outside, utterances)
    empty = pd.DataFrame({"utterance": np.zeros(0, dtype=np.int32)})
    assert message_positions(empty, utterances).tolist() == []
