"""Words unidic-lite splits into unrelated pieces, merged back into one token after tagging.

unidic-lite has no entry for some slang and compounds of the counselling domain and tags their pieces as
unrelated words: リスカ (wrist-cutting) becomes 栗鼠 + か ("squirrel" + a particle) or リ + スカ,
depending on what follows. The token table is repaired after MeCab: every run of consecutive tokens of
one utterance whose surfaces spell one of :data:`COMPOUNDS` becomes a single token (a post-merge rule;
a compiled MeCab user dictionary would need MeCab's dictionary compiler, which fugashi does not ship).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COMPOUNDS: dict[str, tuple[str, str]] = {
    "リスカ": ("名詞", "普通名詞"),  # wrist-cutting (slang): 栗鼠 + か, or リ + スカ
    "アムカ": ("名詞", "普通名詞"),  # arm-cutting (slang): アム + 蚊
    "リストカット": ("名詞", "普通名詞"),  # wrist-cutting: リスト (list) + カット
    "希死念慮": ("名詞", "普通名詞"),  # suicidal ideation: 希 + 死 + 念慮
    "モラハラ": ("名詞", "普通名詞"),  # moral harassment: モラ + 腹
    "毒親": ("名詞", "普通名詞"),  # toxic parent: 毒 + 親
}
"""Written form -> (coarse POS, sub-POS) of each merged word; the written form is also its lemma."""

MAX_PIECES = 4
"""Most tokens one compound is merged from."""


def merge_compounds(
    table: pd.DataFrame, compounds: dict[str, tuple[str, str]] = COMPOUNDS
) -> pd.DataFrame:
    """The token table with each run of tokens of one utterance that spells a compound merged into one
    token: surface, lemma and every other text column = the compound, ``pos``/``pos2`` from
    ``compounds``. ``table`` is a token table in text order (``utterance`` and categorical text columns,
    see :class:`kokoro_analysis.text.mecab.Tokens`). Other rows are unchanged; the index is reset."""
    starts, lengths, words = find_compounds(table, compounds)
    if not starts:
        return table
    keep = np.ones(len(table), dtype=bool)
    for start, length in zip(starts, lengths):
        keep[start + 1 : start + length] = False
    merged = {}
    for name in table.columns:
        column = table[name]
        if name == "utterance" or not isinstance(column.dtype, pd.CategoricalDtype):
            merged[name] = column.to_numpy()[keep]
            continue
        values = [{"pos": compounds[w][0], "pos2": compounds[w][1]}.get(name, w) for w in words]
        new = sorted(set(values) - set(column.cat.categories))
        column = column.cat.add_categories(new) if new else column
        codes = column.cat.codes.to_numpy().copy()
        codes[starts] = column.cat.categories.get_indexer(values)
        merged[name] = pd.Categorical.from_codes(codes[keep], column.cat.categories)
    return pd.DataFrame(merged)


def find_compounds(
    table: pd.DataFrame, compounds: dict[str, tuple[str, str]] = COMPOUNDS
) -> tuple[list[int], list[int], list[str]]:
    """Start row, token count and word of every non-overlapping run of tokens of one utterance whose
    surfaces spell a compound (only rows whose surface begins a compound are looked at)."""
    surface = table["surface"]
    surface = (
        surface if isinstance(surface.dtype, pd.CategoricalDtype) else surface.astype("category")
    )
    categories = np.asarray(surface.cat.categories.astype(str), dtype=object)
    codes = surface.cat.codes.to_numpy()
    utterances = table["utterance"].to_numpy()
    prefixes = {word[:cut] for word in compounds for cut in range(1, len(word))}
    prefix_codes = np.flatnonzero(np.isin(categories, list(prefixes)))
    starts: list[int] = []
    lengths: list[int] = []
    words: list[str] = []
    taken = -1
    for start in np.flatnonzero(np.isin(codes, prefix_codes)):
        if start <= taken:
            continue
        text = categories[codes[start]]
        for end in range(start + 1, min(start + MAX_PIECES, len(codes))):
            if utterances[end] != utterances[start] or codes[end] < 0:
                break
            text += categories[codes[end]]
            if text in compounds:
                starts.append(int(start))
                lengths.append(int(end - start + 1))
                words.append(text)
                taken = end
                break
            if not any(word.startswith(text) for word in compounds):
                break
    return starts, lengths, words
