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
