"""English glosses come from JMdict (the jamdict-data package), not from a download."""

from __future__ import annotations

import pytest

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


PINNED = {
    # issue 25: the sense these words have in KokoroChat
    "消える": "to disappear",
    "主人": "husband",
    "旦那": "husband",
    "部署": "department",
    "人": "person",
    "よろしく": "please (greeting)",
    "宜しく": "please (greeting)",  # UniDic's lemma of よろしく
    "方": "person; side",
    "もう": "already; anymore",
    "気": "feeling; mind",
    "教える": "to tell",
    "担任": "homeroom teacher",
    "進路": "career path",
    "検査": "medical test",
    "嬢": "daughter",
    "済む": "to be sorry",
    "職場": "workplace",
    "付き合う": "to go out with",
    "別れる": "to break up",
    # shown by the keyness table after the marks left it
    "是非": "by all means",
    "御免": "sorry",
    "本当": "really; true",
    # were cut mid-word
    "進学": "going to college",
    "転職": "career change",
    "受験": "entrance exams",
    "婚活": "marriage hunting",
    "貯金": "savings",
}


@pytest.mark.parametrize("word, gloss", PINNED.items())
def test_pinned_glosses(word, gloss):
    assert english_gloss(word) == gloss


def test_no_gloss_is_cut_inside_a_word():
    from kokoro_analysis.text.glossary import shorten

    assert shorten("developmental disorder") == "developmental..."
    assert shorten("entering a higher-level school, esp. going on") == "entering..."
    assert shorten("a; bbbbbbbbbbbbbbbbbbbbbbbbbbb") == "a"
    assert shorten("unbreakablewordthatislong") == "unbreakablewordthatislong"
    for word in ("発達障害", "心療内科", "相談", "気持ち", *PINNED):
        gloss = english_gloss(word) or ""
        assert len(gloss) <= MAX_GLOSS_CHARS, (word, gloss)


def test_every_override_has_a_reason_and_fits():
    import pandas as pd

    from kokoro_analysis.text.glossary import OVERRIDES_FILE, gloss_overrides

    table = pd.read_csv(OVERRIDES_FILE, dtype=str, keep_default_na=False, comment="#")
    assert table["word"].is_unique and (table["reason"].str.len() > 10).all()
    assert all(len(g) <= MAX_GLOSS_CHARS for g in gloss_overrides().values())


def test_part_of_speech_picks_the_entry():
    from kokoro_analysis.text.glossary import unidic_pos

    assert unidic_pos("人") == "名詞" and unidic_pos("もう") == "副詞"
    assert english_gloss("感ずる") == "to feel"
