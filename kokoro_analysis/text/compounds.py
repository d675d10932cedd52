"""Words unidic-lite splits into unrelated pieces, merged back into one token after tagging.

unidic-lite has no entry for some slang and compounds of the counselling domain and tags their pieces as
unrelated words: リスカ (wrist-cutting) becomes 栗鼠 + か ("squirrel" + a particle) or リ + スカ,
depending on what follows. Two steps make every occurrence one token (a compiled MeCab user dictionary would need MeCab's
dictionary compiler, which fugashi does not ship):

1. before MeCab, :func:`isolate_compounds` puts a space on both sides of each compound in the text.
   MeCab never makes a token across a space, so the compound's edges become token edges. Without it
   MeCab let neighbours absorb a piece: リスカした -> リ + スカし (the verb すかす), パワハラモラハラ
   -> one unknown katakana token, so 26 of 375 リスカ and 4 of 94 モラハラ were never found;
2. after MeCab, :func:`merge_compounds` turns every run of consecutive tokens of one utterance whose
   surfaces spell one of :data:`COMPOUNDS` into a single token (a single token that spells it gets the
   compound's lemma and part of speech too).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

COMPOUNDS: dict[str, tuple[str, str]] = {
    "リスカ": ("名詞", "普通名詞"),  # wrist-cutting (slang): 栗鼠 + か, or リ + スカ
    "アムカ": ("名詞", "普通名詞"),  # arm-cutting (slang): アム + 蚊
    "リストカット": ("名詞", "普通名詞"),  # wrist-cutting: リスト (list) + カット
    "希死念慮": ("名詞", "普通名詞"),  # suicidal ideation: 希 + 死 + 念慮
    "モラハラ": ("名詞", "普通名詞"),  # moral harassment: モラ + 腹
    "毒親": ("名詞", "普通名詞"),  # toxic parent: 毒 + 親
    "メンヘラ": ("名詞", "普通名詞"),  # mentally unstable person (slang): inside メンヘラチック
    "スマホ": ("名詞", "普通名詞"),  # smartphone: スマ + ホ after ごろごろ, inside スマホゲーム
    # conditions and terms of the counselling domain that UniDic cuts into short units
    "発達障害": ("名詞", "普通名詞"),  # developmental disorder: 発達 + 障害
    "適応障害": ("名詞", "普通名詞"),  # adjustment disorder: 適応 + 障害
    "摂食障害": ("名詞", "普通名詞"),  # eating disorder: 摂食 + 障害
    "パニック障害": ("名詞", "普通名詞"),  # panic disorder: パニック + 障害
    "双極性障害": ("名詞", "普通名詞"),  # bipolar disorder: 双極 + 性 + 障害
    "統合失調症": ("名詞", "普通名詞"),  # schizophrenia: 統合 + 失調 + 症
    "依存症": ("名詞", "普通名詞"),  # addiction: 依存 + 症
    "自己肯定感": ("名詞", "普通名詞"),  # self-esteem: 自己 + 肯定 + 感
    "自己嫌悪": ("名詞", "普通名詞"),  # self-loathing: 自己 + 嫌悪
    "承認欲求": ("名詞", "普通名詞"),  # need for approval: 承認 + 欲求
    "生きづらさ": ("名詞", "普通名詞"),  # difficulty of living: 生き + づら + さ
    "過呼吸": ("名詞", "普通名詞"),  # hyperventilation: 過 (prefix) + 呼吸
    "過干渉": ("名詞", "普通名詞"),  # over-involvement (of parents): 過 + 干渉
    "不登校": ("名詞", "普通名詞"),  # school refusal: 不 (prefix) + 登校
    "心療内科": ("名詞", "普通名詞"),  # psychosomatic medicine (clinic): 心療 + 内科
    "精神科": ("名詞", "普通名詞"),  # psychiatry: 精神 + 科
}
"""Written form -> (coarse POS, sub-POS) of each merged word; the written form is also its lemma."""

RULE_NOTE = (
    f"tokens after the compound rule: {len(COMPOUNDS)} slang and domain words kept whole (issue 25 "
    "extended it from 6 words and isolates them before MeCab; token-based numbers changed with it)"
)
"""Note of the reproduction records counted on tokens."""

MAX_PIECES = 4
"""Most tokens one compound is merged from."""


@lru_cache(maxsize=8)
def _compound_pattern(words: frozenset[str]) -> re.Pattern:
    """Alternation of ``words``, longest first (so a compound is never cut by a shorter one)."""
    return re.compile("|".join(map(re.escape, sorted(words, key=lambda w: (-len(w), w)))))


def isolate_compounds(text: str, compounds: dict[str, tuple[str, str]] = COMPOUNDS) -> str:
    """``text`` with an ASCII space on both sides of every occurrence of a compound, so MeCab's tokens
    begin and end at its edges (MeCab skips spaces; they never become tokens)."""
    if not compounds:
        return text
    return _compound_pattern(frozenset(compounds)).sub(r" \g<0> ", text)


def merge_compounds(
    table: pd.DataFrame, compounds: dict[str, tuple[str, str]] = COMPOUNDS
) -> pd.DataFrame:
    """The token table with each run of tokens of one utterance that spells a compound merged into one
    token (a single token that spells it is relabelled the same way): surface, lemma and every other text column = the compound, ``pos``/``pos2`` from
    ``compounds``. ``table`` is a token table in text order (``utterance`` and categorical text columns,
    see :class:`kokoro_analysis.text.tokens.Tokens`). Other rows are unchanged; the index is reset.
    The pandas form of :func:`merge_compound_columns`."""
    starts, lengths, words = find_compounds(table, compounds)
    if not starts:
        return table
    keep = _kept_rows(len(table), starts, lengths)
    merged = {}
    for name in table.columns:
        column = table[name]
        if name == "utterance" or not isinstance(column.dtype, pd.CategoricalDtype):
            merged[name] = column.to_numpy()[keep]
            continue
        categories = pa.array(column.cat.categories.astype(str), pa.string())
        dictionary, codes = _merged_codes(
            name, categories, column.cat.codes.to_numpy(), starts, words, keep, compounds
        )
        added = dictionary[len(categories) :].to_pylist()
        column = column.cat.add_categories(added) if added else column
        merged[name] = pd.Categorical.from_codes(codes, column.cat.categories)
    return pd.DataFrame(merged)


def merge_compound_columns(
    owners: np.ndarray,
    columns: dict[str, pa.DictionaryArray],
    compounds: dict[str, tuple[str, str]] = COMPOUNDS,
) -> tuple[np.ndarray, dict[str, pa.DictionaryArray]]:
    """:func:`merge_compounds` on Arrow: ``owners`` (the utterance of each token, text order) and
    dictionary-encoded text columns (``surface`` among them), merged on their codes. The values the
    merge adds are appended to a column's dictionary, sorted; no value is removed."""
    surface = columns["surface"]
    codes = surface.indices.to_numpy(zero_copy_only=False)
    starts, lengths, words = compound_runs(surface.dictionary, codes, owners, compounds)
    if not starts:
        return owners, columns
    keep = _kept_rows(len(owners), starts, lengths)
    merged = {}
    for name, column in columns.items():
        dictionary, codes = _merged_codes(
            name,
            column.dictionary,
            column.indices.to_numpy(zero_copy_only=False),
            starts,
            words,
            keep,
            compounds,
        )
        merged[name] = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), dictionary)
    return owners[keep], merged


def _kept_rows(rows: int, starts: list[int], lengths: list[int]) -> np.ndarray:
    """Mask of the rows a merge keeps: all but the second and later tokens of each run."""
    keep = np.ones(rows, dtype=bool)
    for start, length in zip(starts, lengths):
        keep[start + 1 : start + length] = False
    return keep


def _merged_codes(name, dictionary: pa.Array, codes: np.ndarray, starts, words, keep, compounds):
    """One column's dictionary with the merged values appended (sorted, those not in it yet) and its
    codes with each run's first token set to its value, the other tokens of the run dropped."""
    values = [{"pos": compounds[w][0], "pos2": compounds[w][1]}.get(name, w) for w in words]
    present = set(
        dictionary.filter(pc.is_in(dictionary, pa.array(values, pa.string()))).to_pylist()
    )
    new = sorted(set(values) - present)
    if new:
        dictionary = pa.concat_arrays([dictionary, pa.array(new, dictionary.type)])
    codes = codes.copy()
    codes[starts] = pc.index_in(pa.array(values, dictionary.type), value_set=dictionary).to_numpy()
    return dictionary, codes[keep]


def find_compounds(
    table: pd.DataFrame, compounds: dict[str, tuple[str, str]] = COMPOUNDS
) -> tuple[list[int], list[int], list[str]]:
    """Start row, token count and word of every non-overlapping run of one or more tokens of one
    utterance whose surfaces spell a compound (:func:`compound_runs` of a pandas token table)."""
    surface = table["surface"]
    surface = (
        surface if isinstance(surface.dtype, pd.CategoricalDtype) else surface.astype("category")
    )
    categories = pa.array(surface.cat.categories.astype(str), pa.string())
    return compound_runs(
        categories, surface.cat.codes.to_numpy(), table["utterance"].to_numpy(), compounds
    )


def compound_runs(
    surfaces: pa.Array,
    codes: np.ndarray,
    owners: np.ndarray,
    compounds: dict[str, tuple[str, str]] = COMPOUNDS,
) -> tuple[list[int], list[int], list[str]]:
    """Start row, token count and word of every non-overlapping run of one or more tokens of one
    utterance (``owners``) whose surfaces (``surfaces[codes]``; a negative code is missing) spell a
    compound. Only rows whose surface begins a compound are looked at."""
    prefixes = {word[:cut] for word in compounds for cut in range(1, len(word) + 1)}
    begins = pc.is_in(surfaces, pa.array(sorted(prefixes), pa.string())).to_numpy(
        zero_copy_only=False
    )
    candidates = np.flatnonzero((codes >= 0) & begins[np.maximum(codes, 0)]) if len(begins) else []
    spelled: dict[int, str] = {}
    starts: list[int] = []
    lengths: list[int] = []
    words: list[str] = []
    taken = -1
    for start in candidates:
        if start <= taken:
            continue
        text = ""
        for end in range(start, min(start + MAX_PIECES, len(codes))):
            code = codes[end]
            if owners[end] != owners[start] or code < 0:
                break
            if code not in spelled:
                spelled[code] = surfaces[int(code)].as_py()
            text += spelled[code]
            if text in compounds:
                starts.append(int(start))
                lengths.append(int(end - start + 1))
                words.append(text)
                taken = end
                break
            if text not in prefixes:
                break
    return starts, lengths, words
