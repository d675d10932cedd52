"""A lemma is shown by a form the corpus uses: its dictionary form where the corpus writes it."""

from __future__ import annotations

import pandas as pd

from kokoro_analysis.text.forms import display_forms
from kokoro_analysis.text.token_cache import tokenize_corpus

TEXTS = [
    "そう感じます",
    "そう感じました",
    "感じる時がある",
    "何というか",
    "と言いました",
    "とても嬉しい",
    "リスが好き",
]


def test_display_forms_are_attested_dictionary_forms_else_the_usual_surface():
    tokens = tokenize_corpus(pd.DataFrame({"text": TEXTS}), progress=False)
    forms = display_forms(tokens)
    assert (
        forms["感ずる"] == "感じる"
    )  # the base form UniDic gives most is 感ずる, never written here
    assert forms["迚も"] == "とても"
    assert forms["栗鼠"] == "リス"
    assert forms["言う"] in ("いう", "言い")
    surfaces = set(tokens.table["surface"].astype(str))
    assert set(forms) <= surfaces
    assert display_forms(tokens, ["迚も"]).to_dict() == {"迚も": "とても"}


def test_without_the_dictionary_form_the_most_frequent_surface():
    tokens = tokenize_corpus(
        pd.DataFrame({"text": ["感じました", "感じます", "感じ"]}), progress=False
    )
    assert display_forms(tokens)["感ずる"] == "感じ"


def test_forms_of_a_keyed_table_come_from_the_cache_and_equal_those_computed(monkeypatch):
    from kokoro_analysis.text import forms as forms_module
    from kokoro_analysis.text.tokens import Tokens

    tokens = tokenize_corpus(pd.DataFrame({"text": TEXTS}), progress=False)
    assert tokens.key is not None  # the token cache's key
    unkeyed = Tokens(tokens.table)
    expected = display_forms(unkeyed)
    pd.testing.assert_series_equal(display_forms(tokens), expected)
    calls = []
    compute = forms_module._display_forms
    monkeypatch.setattr(forms_module, "_display_forms", lambda *a: calls.append(a) or compute(*a))
    lemmas = ["言う", "迚も", "無い語", "言う"]
    for _ in range(2):
        pd.testing.assert_series_equal(display_forms(tokens), expected)
        pd.testing.assert_series_equal(
            display_forms(tokens, lemmas), display_forms(unkeyed, lemmas)
        )
    assert len(calls) == 2  # only the unkeyed table's forms were computed
