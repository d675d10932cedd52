"""How much of the corpus unidic-lite does not know: the unknown-word rate, before and after merging.

MeCab marks a token *unknown* (node status 1) when the dictionary has no entry for it and it was made
by the character-class rules (runs of katakana, Latin letters, symbols...). A compound of
:data:`~kokoro_analysis.text.compounds.COMPOUNDS` counts as one known token after merging, whatever
its pieces were. Rates are unknown tokens / all tokens.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from kokoro_analysis.text.compounds import COMPOUNDS, find_compounds, isolate_compounds
from kokoro_analysis.text.mecab import SEPARATORS, _dictionary_dir, split_long_text

_FORMAT = r'-F "0\t%m\n" -U "1\t%m\n" -B "" -E ""'


def unknown_word_rate(
    texts: Iterable[str],
    *,
    compounds: dict[str, tuple[str, str]] | None = COMPOUNDS,
    isolate: bool = True,
) -> dict[str, float]:
    """``tokens``, ``unknown`` (tokens MeCab made by its unknown-word rules) and ``rate`` (unknown /
    tokens) of ``texts`` tokenized as :mod:`kokoro_analysis.text.mecab` does, after merging
    ``compounds`` (``None``: MeCab alone), with the compounds isolated first when ``isolate``."""
    import fugashi

    tagger = fugashi.GenericTagger(f'-d "{_dictionary_dir()}" -r /dev/null -O "" {_FORMAT}')
    status, surfaces, owners = [], [], []
    for number, text in enumerate(texts):
        text = text.translate(SEPARATORS)
        if isolate and compounds:
            text = isolate_compounds(text, compounds)
        for piece in split_long_text(text):
            for line in tagger.parse(piece).splitlines():
                flag, _, surface = line.partition("\t")
                status.append(flag == "1")
                surfaces.append(surface)
                owners.append(number)
    unknown = np.asarray(status, dtype=bool)
    tokens = len(unknown)
    if compounds and tokens:
        table = pd.DataFrame({"utterance": owners, "surface": pd.Categorical(surfaces)}, copy=False)
        starts, lengths, _ = find_compounds(table, compounds)
        for start, length in zip(starts, lengths):
            unknown[start : start + length] = False
            tokens -= length - 1
    count = int(unknown.sum())
    return {"tokens": tokens, "unknown": count, "rate": count / tokens if tokens else 0.0}
