"""English glosses of Japanese words from JMdict, for readers of the English figures and tables.

Source: JMdict (Jim Breen and the Electronic Dictionary Research and Development Group, licence
CC BY-SA 4.0, https://www.edrdg.org/edrdg/licence.html), read from the SQLite build shipped by the PyPI
package ``jamdict-data`` through ``jamdict``: no download at run time.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from kokoro_analysis.text.mecab import lemma_label

GLOSS_SOURCE = "JMdict (EDRDG, CC BY-SA 4.0) via the jamdict-data package"
"""Citation of the glosses, for captions and the README."""
COUNSELLING_SENSES = {"辛い": "painful"}
"""Words whose written form JMdict splits between readings with unrelated senses, glossed by the sense
they have in counselling talk: 辛い is つらい "painful" there, not からい "spicy" (JMdict's first entry)."""
MAX_GLOSS_CHARS = 18
"""Longest gloss kept, characters (figures have little room)."""


@lru_cache(maxsize=1)
def _dictionary():
    from jamdict import Jamdict

    return Jamdict(memory_mode=False)


@cache
def english_gloss(word: str) -> str | None:
    """The first English gloss of the JMdict entry that spells ``word`` most typically: one where
    ``word`` is a common form (JMdict priority tags), then where it comes earliest among the entry's
    forms (夫 -> "husband", not the rare reading つま "wife"); shortened to :data:`MAX_GLOSS_CHARS`;
    :data:`COUNSELLING_SENSES` first.
    ``None`` when JMdict has no such word."""
    if word in COUNSELLING_SENSES:
        return COUNSELLING_SENSES[word]
    result = _dictionary().lookup(word, strict_lookup=True, lookup_chars=False, lookup_ne=False)
    ranked = sorted(
        (rank, order, entry)
        for order, entry in enumerate(result.entries)
        if (rank := _form_rank(entry, word)) is not None
    )
    for _, _, entry in ranked:
        for sense in entry.senses:
            for gloss in sense.gloss:
                if getattr(gloss, "lang", "eng") in ("eng", None) and gloss.text:
                    return _shorten(gloss.text)
    return None


def _form_rank(entry, word: str) -> tuple[int, int] | None:
    """(0 if ``word`` is a common form of the entry else 1, its position among the entry's forms);
    ``None`` when the entry has no such form."""
    forms = [*entry.kanji_forms, *entry.kana_forms]
    for position, form in enumerate(forms):
        if form.text == word:
            return (0 if form.pri else 1, position)
    return None


def _shorten(text: str) -> str:
    """The gloss without parenthesised notes, cut to :data:`MAX_GLOSS_CHARS` with "..." (three
    periods: the Japanese font draws "…" full-width, a gap after the word in a figure)."""
    text = re.sub(r"\s*\([^)]*\)", "", text).strip()
    return text if len(text) <= MAX_GLOSS_CHARS else text[: MAX_GLOSS_CHARS - 3].rstrip() + "..."


def gloss_label(display: str, lemma: str | None = None, *, separator: str = "\n") -> str:
    """``display`` with the English gloss of ``lemma`` (else of ``display``) after ``separator``
    (default: on a second line); ``display`` alone when JMdict has neither."""
    gloss = (english_gloss(lemma) if lemma else None) or english_gloss(display)
    return f"{display}{separator}{gloss}" if gloss else display


def word_label(lemma: str, form, *, lang: str = "en", separator: str = " ") -> str:
    """How a figure shows a lemma: its usual written form (:func:`~kokoro_analysis.text.mecab.lemma_label`),
    followed in English (``lang="en"``) by its JMdict gloss after ``separator``."""
    shown = lemma_label(lemma, form)
    return gloss_label(shown, lemma, separator=separator) if lang == "en" else shown


def gloss_of(lemma: str, form=None) -> str:
    """The English gloss of a lemma (else of its written form ``form``) for a table's ``gloss_en``
    column; ``""`` when JMdict has neither."""
    gloss = english_gloss(lemma)
    if gloss is None and isinstance(form, str) and form:
        gloss = english_gloss(form)
    return gloss or ""
