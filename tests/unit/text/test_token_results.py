"""A result of a keyed token table is computed once per tokens, utterance roles and arguments, and
comes back equal; a table without a key, or arguments that cannot be pickled, are computed each time."""

from __future__ import annotations

import pandas as pd

from kokoro_analysis.text import lexical
from kokoro_analysis.text.token_cache import tokenize_corpus
from kokoro_analysis.text.token_results import cached_by_tokens
from kokoro_analysis.text.tokens import Tokens

UTTERANCES = pd.DataFrame(
    {
        "text": ["今日はとても寒いですね。", "そうですね、寒いです", "ありがとう"],
        "role": pd.Categorical(["counselor", "client", "counselor"], ["counselor", "client"]),
        "dialogue_id": [1, 1, 2],
    }
)


def test_a_keyed_tables_result_is_computed_once_per_inputs():
    tokens = tokenize_corpus(UTTERANCES, progress=False)
    assert tokens.key is not None
    calls = []

    @cached_by_tokens(uses=("role",))
    def count(tokens, utterances, *, scale=1):
        calls.append(scale)
        return len(tokens) * scale + int((utterances["role"] == "client").sum())

    assert count(tokens, UTTERANCES) == count(tokens, UTTERANCES) == len(tokens) + 1
    assert calls == [1]
    swapped = UTTERANCES.assign(role=UTTERANCES["role"].iloc[::-1].to_numpy())
    assert count(tokens, swapped, scale=2) == count(tokens, swapped, scale=2)
    count(tokens, UTTERANCES, scale=2)
    assert calls == [1, 2, 2]
    count(Tokens(tokens.table), UTTERANCES)  # no key: computed
    assert calls == [1, 2, 2, 1]


def test_cached_lexical_tables_equal_the_computed_ones():
    tokens = tokenize_corpus(UTTERANCES, progress=False)
    unkeyed = Tokens(tokens.table)
    for function in (lexical.vocabulary_table, lexical.type_token_growth):
        expected = function(unkeyed, UTTERANCES)
        for _ in range(2):
            pd.testing.assert_frame_equal(function(tokens, UTTERANCES), expected)
    expected = lexical.top_content_lemmas(unkeyed, UTTERANCES, top=3)
    for _ in range(2):
        pd.testing.assert_frame_equal(
            lexical.top_content_lemmas(tokens, UTTERANCES, top=3), expected
        )


def test_cached_mark_table_equals_the_computed_one():
    from kokoro_analysis.text.marks import mark_table

    tokens = tokenize_corpus(UTTERANCES, progress=False)
    bands = {"band": pd.Series({1: "low", 2: "high"})}
    expected = mark_table(tokens.table, UTTERANCES, bands)
    for _ in range(2):
        pd.testing.assert_frame_equal(mark_table(tokens, UTTERANCES, bands), expected)
    other = mark_table(tokens, UTTERANCES, {"band": pd.Series({1: "high", 2: "high"})})
    assert other.set_index(["by", "group"]).loc[("band", "high"), "messages"] == 3


def test_restricted_and_content_tables_have_no_key():
    import dataclasses

    import pytest

    tokens = tokenize_corpus(UTTERANCES, progress=False)
    assert tokens.key is not None
    assert tokens.restrict(UTTERANCES.index[:1]).key is None
    assert tokens.content().key is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        tokens.table = tokens.table.head(1)  # the key cannot outlive its table
