"""English glosses come from JMdict (the jamdict-data package), not from a download."""

from __future__ import annotations

from kokoro_analysis.text.glossary import GLOSS_SOURCE, MAX_GLOSS_CHARS, english_gloss, gloss_label


def test_glosses_of_counselling_words():
    assert english_gloss("リスカ") == "wrist cutting"
    assert english_gloss("母") == "mother"
    assert english_gloss("迚も") == "very"  # UniDic's lemma spelling is a JMdict form too
    assert english_gloss("栗鼠") == "squirrel"
    assert english_gloss("夫") == "husband"  # not つま "wife", a rare reading of 夫
    assert english_gloss("娘") == "daughter"  # not 嬢 "unmarried woman"
    assert english_gloss("辛い") == "painful"  # つらい in counselling talk, not からい "spicy"


def test_unknown_word_has_no_gloss():
    assert english_gloss("ｘｙｚ存在しない語") is None
    assert gloss_label("ｘｙｚ") == "ｘｙｚ"


def test_gloss_label_shows_the_written_form_and_the_gloss():
    assert gloss_label("とても", "迚も") == "とても\nvery"
    assert gloss_label("母", separator=" ") == "母 mother"


def test_glosses_are_short_and_cited():
    assert all(
        len(english_gloss(w) or "") <= MAX_GLOSS_CHARS for w in ("相談", "気持ち", "希死念慮")
    )
    assert "JMdict" in GLOSS_SOURCE and "CC BY-SA" in GLOSS_SOURCE


def test_word_label_by_language():
    from kokoro_analysis.text.glossary import word_label

    assert word_label("迚も", "とても", lang="en") == "とても very"
    assert word_label("迚も", "とても", lang="ja") == "とても"
    assert word_label("ｘｙｚ", None, lang="en") == "ｘｙｚ"
