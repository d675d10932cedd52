"""Japanese words a reader can trust, on the real release (issue 25): every occurrence of the terms
researchers search for is a concordance hit, displayed forms occur in the corpus, marks and pseudonym
letters are never content words."""

from __future__ import annotations

import pytest

from kokoro_analysis.analyses import explorer
from kokoro_analysis.text import concordance as kwic
from kokoro_analysis.text.forms import display_forms
from kokoro_analysis.text.token_cache import tokenize_corpus

TERMS = {  # occurrences in the messages (str.count), measured on the release
    "発達障害": 195,
    "自己肯定感": 76,
    "過呼吸": 61,
    "生きづらさ": 45,
    "パニック障害": 31,
    "適応障害": 27,
    "摂食障害": 14,
    "承認欲求": 14,
    "リスカ": 375,
    "モラハラ": 94,
    "メンヘラ": 5,
    "希死念慮": 154,
    "OD": 35,
    "自傷": 50,
    "オーバードーズ": 7,
    "スマホ": 412,
    "SNS": 364,
}
INSIDE_LONGER_TOKENS = {"LINE": (674, 5), "YouTube": (160, 4)}
"""Hits and occurrences inside longer tokens (ONLINE, LINECO; YouTuber): not the word itself."""


@pytest.fixture(scope="module")
def real_tokens(real_corpus):
    return tokenize_corpus(real_corpus, progress=False)


@pytest.mark.parametrize("term, occurrences", TERMS.items())
def test_every_occurrence_of_a_listed_term_is_a_hit(real_corpus, real_tokens, term, occurrences):
    texts = real_corpus.utterances["text"]
    assert kwic.text_occurrences(texts, term) == occurrences
    hits = kwic.concordance(real_tokens, real_corpus.utterances, term)
    assert len(hits) == occurrences and set(hits["hit"]) == {term}


@pytest.mark.parametrize("term, expected", INSIDE_LONGER_TOKENS.items())
def test_the_explorer_counts_occurrences_inside_longer_tokens(
    real_corpus, real_tokens, term, expected
):
    result = explorer.search(real_corpus, real_tokens, term, real_corpus.dialogues.index)
    assert (len(result.hits), result.inside_tokens) == expected


def test_phrases_are_found_as_runs_of_tokens(real_corpus, real_tokens):
    texts = real_corpus.utterances["text"]
    for phrase in ("教えてください", "消えたい", "消えてしまいたい"):
        hits = kwic.concordance(real_tokens, real_corpus.utterances, phrase, match="surface")
        assert len(hits) == kwic.text_occurrences(texts, phrase) > 0, phrase


def test_displayed_forms_occur_in_the_corpus(real_tokens):
    forms = display_forms(real_tokens)
    surfaces = set(real_tokens.table["surface"].astype(str).unique())
    assert set(forms) <= surfaces
    assert forms["感ずる"] == "感じる" and forms["言う"] == "いう" and forms["迚も"] == "とても"


def test_marks_and_pseudonym_letters_are_not_content_words(real_tokens):
    content = real_tokens.content().table
    assert not content["surface"].isin(["笑", "泣", "A", "Ａ", "w", "ｗｗ"]).any()


def _share_of_phrases(tokens, lemma: str, length: int, phrases: tuple[str, ...]) -> float:
    """Share of ``lemma``'s tokens that begin one of ``phrases`` (surfaces of ``length`` tokens)."""
    import numpy as np

    table = tokens.table
    surfaces = table["surface"].astype(str).to_numpy()
    positions = np.flatnonzero((table["lemma"] == lemma).to_numpy())
    positions = positions[positions + length <= len(surfaces)]
    runs = ["".join(surfaces[p : p + length]) for p in positions]
    return sum(run.startswith(phrases) for run in runs) / len(runs)


@pytest.mark.parametrize(
    "lemma, length, phrases, share",
    [
        ("済む", 3, ("すみません", "すいません", "済みません"), 0.9),  # "sorry", not "to finish"
        ("教える", 3, ("教えていただ", "教えてくださ", "教えて下さ"), 0.6),  # "please tell me"
        ("宜しく", 2, ("よろしくお", "宜しくお"), 0.95),  # よろしくお願いします
        ("御免", 1, ("ごめん",), 0.95),  # ごめんなさい "sorry"
    ],
)
def test_the_phrase_behind_a_reviewed_gloss_dominates(real_tokens, lemma, length, phrases, share):
    """The override table glosses these words by the phrase they mostly occur in here."""
    from kokoro_analysis.text.glossary import gloss_overrides

    assert lemma in gloss_overrides()
    assert _share_of_phrases(real_tokens, lemma, length, phrases) >= share
