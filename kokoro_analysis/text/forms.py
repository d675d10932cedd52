"""How a lemma is written in figures and tables: a form that occurs in the corpus.

UniDic's lemma (語彙素) and even its written base form (書字形基本形) can be spellings the release never
uses: the lemma 感ずる, base form 感ずる for 22,721 of its tokens, occurs 0 times as written, while 感じる
occurs 3,870 times. The display form of a lemma is therefore

1. the most frequent written base form of the lemma's tokens among those that also occur as the surface
   of one of its tokens (the dictionary form, where the corpus shows it: 感じる, いう);
2. else the lemma's most frequent surface (ありがとうございます-like fixed forms, nouns never inflected).

Computed once over the whole corpus (:func:`display_forms` of ``run.full_tokens``), so a lemma has one
form in every role, subset, table and figure. Ties go to the form that sorts first by code point. The
forms of a token table with a :attr:`~kokoro_analysis.text.tokens.Tokens.key` are kept in the cache
under it (:func:`kokoro_analysis.cache.cached_value`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kokoro_analysis.cache import cached_value

FORMS_FORMAT = 1
"""Bump when what :func:`display_forms` caches changes shape."""


def display_forms(tokens, lemmas=None) -> pd.Series:
    """Lemma -> display form (see the module docstring) over ``tokens`` (a
    :class:`~kokoro_analysis.text.tokens.Tokens` or its table, with ``lemma``, ``surface`` and
    optionally ``base``). ``lemmas`` limits the result. A string Series named ``form``, index
    ``lemma`` sorted by code point; every value occurs as a surface in ``tokens``. Vectorised:
    (lemma, form) code pairs are counted by hashing, no Python loop per token. A lemma's form depends
    on its own tokens only, so the forms of ``lemmas`` are those of all lemmas, selected."""
    key = getattr(tokens, "key", None)
    if key is None:
        return _display_forms(getattr(tokens, "table", tokens), lemmas)
    every = cached_value("display-forms", FORMS_FORMAT, [key], lambda: _display_forms(tokens.table))
    return every if lemmas is None else every[every.index.isin(pd.Index(lemmas).unique())]


def _display_forms(table: pd.DataFrame, lemmas=None) -> pd.Series:
    lemma, surface = _categorical(table["lemma"]), _categorical(table["surface"])
    names = np.asarray(surface.cat.categories.astype(str), dtype=object)
    lemma_names = np.asarray(lemma.cat.categories.astype(str), dtype=object)
    rank = np.empty(len(names), dtype=np.int64)  # code-point order of the surfaces, for ties
    rank[np.argsort(names, kind="stable")] = np.arange(len(names))
    lemma_codes = lemma.cat.codes.to_numpy().astype(np.int64)
    surface_codes = surface.cat.codes.to_numpy().astype(np.int64)
    keep = (lemma_codes >= 0) & (surface_codes >= 0)
    keep &= ~np.append(names == "", False)[surface_codes]
    if lemmas is not None:
        wanted = lemma.cat.categories.get_indexer(pd.Index(lemmas).unique())
        chosen = np.zeros(len(lemma_names) + 1, dtype=bool)
        chosen[wanted[wanted >= 0]] = True
        keep &= chosen[lemma_codes]
    width = len(names)
    surface_pairs = lemma_codes[keep] * width + surface_codes[keep]
    best = _most_frequent(surface_pairs, width, rank)
    if "base" in table:
        base = _categorical(table["base"])
        as_surface = np.append(
            surface.cat.categories.get_indexer(base.cat.categories.astype(str)), -1
        )
        base_codes = as_surface[base.cat.codes.to_numpy()][keep]
        base_pairs = lemma_codes[keep] * width + base_codes
        attested = pd.Series(base_pairs).isin(pd.unique(surface_pairs)).to_numpy() & (
            base_codes >= 0
        )  # hashing, no sort
        best = {**best, **_most_frequent(base_pairs[attested], width, rank)}
    index = np.fromiter(best, dtype=np.int64, count=len(best))
    values = np.fromiter(best.values(), dtype=np.int64, count=len(best))
    return (
        pd.Series(names[values], index=pd.Index(lemma_names[index], name="lemma"), name="form")
        .astype(object)
        .sort_index()
    )


def _categorical(column: pd.Series) -> pd.Series:
    return column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype("category")


def _most_frequent(pairs: np.ndarray, width: int, rank: np.ndarray) -> dict[int, int]:
    """Lemma code -> surface code of its most frequent (lemma * width + surface) pair; ties go to the
    surface of lowest ``rank``."""
    if pairs.size == 0:
        return {}
    codes, unique = pd.factorize(pairs)
    counts = np.bincount(codes, minlength=len(unique))
    lemma, form = unique // width, unique % width
    order = np.lexsort((rank[form], -counts, lemma))
    first = order[np.r_[True, lemma[order][1:] != lemma[order][:-1]]]
    return dict(zip(lemma[first].tolist(), form[first].tolist()))
