"""English glosses of Japanese words from JMdict, for readers of the English figures and tables.

Source: JMdict (Jim Breen and the Electronic Dictionary Research and Development Group, licence
CC BY-SA 4.0, https://www.edrdg.org/edrdg/licence.html), read from the SQLite build shipped by the PyPI
package ``jamdict-data`` through ``jamdict``: no download at run time.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path

import pandas as pd

from kokoro_analysis.text.mecab import make_tagger
from kokoro_analysis.text.tokens import lemma_label

GLOSS_SOURCE = "JMdict (EDRDG, CC BY-SA 4.0) via the jamdict-data package"
"""Citation of the glosses, for captions and the README."""
OVERRIDES_FILE = Path(__file__).resolve().parent.parent / "data" / "gloss_overrides.csv"
"""Reviewed glosses (``word,gloss,reason``) of words the outputs show whose JMdict sense, chosen by the
rules of :func:`english_gloss`, is not the one they have in this corpus; each row gives its reason."""
MAX_GLOSS_CHARS = 18
"""Longest gloss kept, characters (figures have little room)."""
SKIPPED_MISC = ("archaism", "obsolete term", "rare term", "slang", "vulgar expression")
"""JMdict sense notes of senses never chosen while another sense agrees in part of speech."""


@lru_cache(maxsize=1)
def _dictionary():
    from jamdict import Jamdict

    return Jamdict(memory_mode=False)


@cache
def gloss_overrides() -> dict[str, str]:
    """Word -> reviewed gloss, from :data:`OVERRIDES_FILE` (a row without a reason is an error)."""
    table = pd.read_csv(OVERRIDES_FILE, dtype=str, keep_default_na=False, comment="#")
    missing = table[(table["gloss"].str.strip() == "") | (table["reason"].str.strip() == "")]
    if len(missing):
        raise ValueError(
            f"{OVERRIDES_FILE}: row(s) for {missing['word'].tolist()} need a gloss and a reason"
        )
    return dict(zip(table["word"], table["gloss"]))


@cache
def english_gloss(word: str) -> str | None:
    """The English gloss of ``word`` in the sense it has in this corpus: the reviewed gloss of
    :func:`gloss_overrides` if there is one, else JMdict's, chosen by

    1. the entry: one where ``word`` is a common form (JMdict priority tags), then where it comes
       earliest among the entry's forms (夫 -> "husband", not the rare reading つま "wife"); among
       those, entries with a sense of ``word``'s part of speech (UniDic's tag of the word alone: 人 is
       a noun, so ひと "man", not the suffix じん "-ian") first;
    2. the sense: the first one of that part of speech, skipping archaic and slang senses
       (:data:`SKIPPED_MISC`);
    3. the gloss: the sense's first gloss of at most :data:`MAX_GLOSS_CHARS` characters (貯金: not
       "putting money aside" but "savings"), else its first gloss cut at a word boundary
       (:func:`shorten`). ``None`` when JMdict has no such word."""
    overrides = gloss_overrides()
    if word in overrides:
        return overrides[word]
    result = _dictionary().lookup(word, strict_lookup=True, lookup_chars=False, lookup_ne=False)
    wanted = _jmdict_pos(unidic_pos(word))
    ranked = sorted(
        (not _senses(entry, wanted), rank, order, entry)
        for order, entry in enumerate(result.entries)
        if (rank := _form_rank(entry, word)) is not None
    )
    for _, _, _, entry in ranked:
        for sense in _senses(entry, wanted) or entry.senses:
            glosses = [
                _plain(g.text)
                for g in sense.gloss
                if getattr(g, "lang", "eng") in ("eng", None) and g.text
            ]
            glosses = [g for g in glosses if g]
            if glosses:
                fitting = [g for g in glosses if len(g) <= MAX_GLOSS_CHARS]
                return fitting[0] if fitting else shorten(glosses[0])
    return None


@cache
def unidic_pos(word: str) -> str | None:
    """UniDic's coarse part of speech of ``word`` tagged alone; None when it is not one token."""
    lines = _tagger().parse(word).splitlines() if word.strip() else []
    return lines[0].split("\t", 1)[0] if len(lines) == 1 else None


@lru_cache(maxsize=1)
def _tagger():
    return make_tagger()


_POS_CLASSES = {
    "名詞": ("noun",),
    "代名詞": ("pronoun", "noun"),
    "動詞": ("verb",),
    "形容詞": ("adjective",),
    "形状詞": ("adjectival noun", "noun"),
    "副詞": ("adverb",),
    "感動詞": ("interjection",),
    "接尾辞": ("suffix", "counter"),
    "接頭辞": ("prefix",),
}


def _jmdict_pos(pos: str | None) -> tuple[str, ...]:
    """The classes of JMdict part-of-speech labels (:func:`_pos_class`) that agree with a UniDic one."""
    return _POS_CLASSES.get(pos or "", ())


def _pos_class(label: str) -> str:
    """A JMdict part-of-speech label in one word: noun, verb, adjective, adjectival noun, adverb, ..."""
    label = label.lower()
    if label.startswith("adjectival noun"):
        return "adjectival noun"
    if label.startswith("noun") or label.startswith("nouns which"):
        return "suffix" if "suffix" in label else "prefix" if "prefix" in label else "noun"
    if " verb" in label or label.startswith("verb"):
        return "verb"
    for name in ("adjective", "adverb", "interjection", "pronoun", "suffix", "prefix", "counter"):
        if label.startswith(name):
            return name
    return label


def _senses(entry, wanted: tuple[str, ...]) -> list:
    """The senses of ``entry`` whose part of speech agrees with ``wanted`` (JMdict lists a sense's
    part of speech only when it changes: a sense without one has its predecessor's), without archaic
    or slang ones; [] when ``wanted`` is empty or none agrees."""
    if not wanted:
        return []
    chosen, current = [], []
    for sense in entry.senses:
        current = list(sense.pos) or current
        misc = " ".join(getattr(sense, "misc", []) or [])
        if any(_pos_class(p) in wanted for p in current) and not any(
            m in misc for m in SKIPPED_MISC
        ):
            chosen.append(sense)
    return chosen


def _form_rank(entry, word: str) -> tuple[int, int] | None:
    """(0 if ``word`` is a common form of the entry else 1, its position among the entry's forms);
    ``None`` when the entry has no such form."""
    forms = [*entry.kanji_forms, *entry.kana_forms]
    for position, form in enumerate(forms):
        if form.text == word:
            return (0 if form.pri else 1, position)
    return None


def _plain(text: str) -> str:
    """A gloss without parenthesised notes."""
    return re.sub(r"\s*\([^)]*\)", "", text).strip()


def shorten(text: str, limit: int = MAX_GLOSS_CHARS) -> str:
    """``text`` if it has at most ``limit`` characters, else cut at the last sense boundary (comma,
    semicolon) or word boundary that fits, with "..." when cut at a word (three periods: the Japanese
    font draws "…" full-width, a gap after the word in a figure); never inside a word."""
    if len(text) <= limit:
        return text
    for separator in (";", ","):
        head = text[: limit + 1].rsplit(separator, 1)[0].strip()
        if separator in text[: limit + 1] and head:
            return head
    words = text[:limit].split(" ")
    head = " ".join(words[:-1]) if len(words) > 1 else ""
    head = re.sub(r"\s+(a|an|the|of|to|for|and|or|in|on|with|esp\.)$", "", head).rstrip(",;:- ")
    return f"{head}..." if head else text


def gloss_label(display: str, lemma: str | None = None, *, separator: str = "\n") -> str:
    """``display`` with the English gloss of ``lemma`` (else of ``display``) after ``separator``
    (default: on a second line); ``display`` alone when JMdict has neither."""
    gloss = (english_gloss(lemma) if lemma else None) or english_gloss(display)
    return f"{display}{separator}{gloss}" if gloss else display


def word_label(lemma: str, form, *, lang: str = "en", separator: str = " ") -> str:
    """How a figure shows a lemma: its usual written form (:func:`~kokoro_analysis.text.tokens.lemma_label`),
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
