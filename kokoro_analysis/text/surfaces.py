"""MeCab surfaces of texts, the tokenization behind every generation score (BLEU, ROUGE, Dist-n):
the same for hypotheses and references; whitespace (line breaks inside a turn, full-width spaces)
and control characters are never tokens."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kokoro_analysis.text.mecab import tokenize_texts, tokenizer_identity


def tokenizer_label(*, lang: str = "en") -> str:
    """The tokenization behind every generation score, e.g. ``"MeCab 0.996 + unidic-lite 1.0.8 surfaces"``
    (``lang="ja"``: ``"MeCab 0.996 + unidic-lite 1.0.8 の表層形"``)."""
    identity = tokenizer_identity()
    unit = "の表層形" if lang == "ja" else " surfaces"
    return f"MeCab {identity['mecab']} + unidic-lite {identity['unidic-lite']}{unit}"


def surfaces(
    texts: Sequence[str], *, workers: int | None = None, progress: bool = False
) -> list[list[str]]:
    """MeCab surfaces of each text (``kokoro_analysis.text.mecab``: whitespace and control characters
    separate tokens and are never tokens); one list per text, in order."""
    texts = list(texts)
    if not texts:
        return []
    workers = workers or (1 if len(texts) < 2000 else None)
    counts, table = tokenize_texts(texts, workers=workers, progress=progress)
    values = table.column("surface").to_pylist()
    ends = np.cumsum(counts).tolist()
    starts = [0, *ends[:-1]]
    return [values[a:b] for a, b in zip(starts, ends)]
