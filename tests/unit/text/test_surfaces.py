"""MeCab surfaces, the tokenization behind every generation score, and its stated label."""

from __future__ import annotations

from kokoro_analysis.text.surfaces import surfaces, tokenizer_label


def test_tokenizer_is_stated():
    assert surfaces(["そうですね。", "ええ。"]) == [["そう", "です", "ね", "。"], ["ええ", "。"]]
    label = tokenizer_label()
    assert label.startswith("MeCab ") and "unidic-lite" in label and label.endswith(" surfaces")
    assert tokenizer_label(lang="ja").endswith("の表層形")


def test_surfaces_survive_awkward_texts():
    """Carriage returns, whitespace anywhere and NUL neither shift tokens into the next text nor crash;
    whitespace and control characters are never tokens."""
    texts = ["a\r\nb", "はい\u3000", "\u3000はい", "はい\u3000。", "そう\rですね", "x\x00y"]
    tokens = surfaces([*texts, "はい"])
    assert tokens[:5] == [["a", "b"], ["はい"], ["はい"], ["はい", "。"], ["そう", "です", "ね"]]
    assert tokens[5] == surfaces(["x y"])[0] and tokens[6] == ["はい"]
