"""The token table of a set of utterances (:class:`Tokens`), content words and how a lemma is shown.

Tokens come from :func:`kokoro_analysis.text.token_cache.tokenize_corpus` (MeCab with unidic-lite,
:mod:`kokoro_analysis.text.mecab`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kokoro_analysis.text.categories import in_categories
from kokoro_analysis.text.marks import non_word_mask

CONTENT_POS = ("名詞", "動詞", "形容詞", "形状詞", "副詞")
"""Coarse parts of speech counted as content words (nouns, verbs, adjectives, adjectival nouns, adverbs)."""
NON_CONTENT_POS2 = ("非自立可能", "数詞", "固有名詞")
"""Sub-POS excluded from content words: UniDic's 非自立可能 (する, いる, ある, 行く as auxiliaries...),
numerals and proper nouns (names are mostly the role-play's pseudonyms)."""
STOP_LEMMAS = (
    "事",
    "様",
    "為",
    "物",
    "所",
    "訳",
    "筈",
    "程",
    "そう",
    "どう",
    "こう",
    "ああ",
    "然う",
    "如何",
    "知れる",
)
"""Lemmas excluded from content words although tagged as nouns, verbs or adverbs: formal nouns (こと,
よう, ため, もの, ところ, わけ, はず, ほど), demonstrative adverbs (そう, どう, こう, ああ) and 知れる,
which the corpus uses almost only inside the grammatical ending かもしれない ("maybe"): it topped the
high-score keyness list as しれる "to become known"."""


@dataclass(frozen=True)
class Tokens:
    """MeCab tokens of a set of utterances.

    ``table`` has one row per token, in text order: ``utterance`` (the index label of the utterance in
    ``corpus.utterances``), ``dialogue_id`` (its session, to join on ``corpus.dialogues``; present when
    the utterances had one) and the categorical columns ``surface``, ``pos``, ``pos2``, ``lemma``.
    ``key`` fingerprints the table's tokens (the token cache's key: the utterances' texts and labels,
    the tokenizer; not ``dialogue_id``, which comes from the utterances): results computed from the
    tokens may be cached under it. None when unknown: for a table not read from the cache and for
    :meth:`restrict` and :meth:`content`. Frozen, so the key cannot outlive its table.
    """

    table: pd.DataFrame
    key: str | None = None

    def __len__(self) -> int:
        return len(self.table)

    def restrict(self, utterance_index) -> Tokens:
        """Tokens of the given utterances only (e.g. ``corpus.subset("high").utterances.index``)."""
        return Tokens(self.table[self.table["utterance"].isin(pd.Index(utterance_index))])

    def content(self) -> Tokens:
        """Content-word tokens only (see :data:`CONTENT_POS`, :data:`NON_CONTENT_POS2`, :data:`STOP_LEMMAS`)."""
        return Tokens(self.table[self.content_mask()])

    def content_mask(self) -> np.ndarray:
        """Boolean mask over ``table`` of the content-word tokens (those :meth:`content` keeps); marks,
        pseudonym letters and URL fragments are never content words (:mod:`kokoro_analysis.text.marks`)."""
        table = self.table
        return (
            in_categories(table["pos"], CONTENT_POS)
            & ~in_categories(table["pos2"], NON_CONTENT_POS2)
            & ~in_categories(table["lemma"], STOP_LEMMAS)
            & ~non_word_mask(table)
        )

    def counts_per_utterance(self, utterance_index) -> pd.Series:
        """Number of tokens of each utterance in ``utterance_index`` (0 for an utterance with none)."""
        return (
            self.table.groupby("utterance").size().reindex(pd.Index(utterance_index), fill_value=0)
        )

    def lists(self, column: str = "surface") -> pd.Series:
        """One Python list of tokens per utterance (only utterances that have tokens), indexed by utterance."""
        values = self.table[column].astype(str).to_numpy()
        keys = self.table["utterance"].to_numpy()
        if len(keys) == 0:
            return pd.Series([], dtype=object)
        bounds = np.flatnonzero(np.diff(keys)) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [len(keys)]])
        return pd.Series([values[a:b].tolist() for a, b in zip(starts, ends)], index=keys[starts])

    def usual_surfaces(self, lemmas=None) -> pd.Series:
        """The most frequent written form of each lemma among these tokens: its written base form
        (``base``; the surface for a table without one), for display with :func:`lemma_label` (UniDic
        spells some lemmas unlike the text: 迚も for とても).

        Restrict the tokens first (:meth:`restrict`, :meth:`content`, a boolean mask) to get the usual
        form within that subset. ``lemmas`` limits the result to those lemmas; lemmas without tokens (or
        only tokens with a missing surface) are absent. Returns a string Series named ``surface``, index
        ``lemma`` sorted by code point. Ties in frequency go to the surface that sorts first by code
        point, so the result does not depend on the order of the categories. Vectorised: (lemma, surface)
        code pairs are counted by hashing (``pd.factorize``), no Python loop per token.
        """
        form = "base" if "base" in self.table else "surface"
        lemma, surface = _categorical(self.table["lemma"]), _categorical(self.table[form])
        lemma_codes = lemma.cat.codes.to_numpy().astype(np.int64)
        surface_codes = surface.cat.codes.to_numpy().astype(np.int64)
        keep = (lemma_codes >= 0) & (surface_codes >= 0)
        if lemmas is not None:
            wanted = lemma.cat.categories.get_indexer(pd.Index(lemmas).unique())
            keep &= np.isin(lemma_codes, wanted[wanted >= 0])
        if not keep.any():
            return pd.Series(
                [], index=pd.Index([], dtype=object, name="lemma"), dtype=object, name="surface"
            )
        # surfaces renumbered in code-point order, so the smallest number wins a tie whatever the category order
        names = np.asarray(surface.cat.categories.astype(str), dtype=object)
        by_name = np.argsort(names, kind="stable")
        rank = np.empty(len(names), dtype=np.int64)
        rank[by_name] = np.arange(len(names))
        codes, pairs = pd.factorize(
            lemma_codes[keep] * len(names) + rank[surface_codes[keep]]
        )  # hashing, no sort
        counts = np.bincount(codes, minlength=len(pairs))
        pair_lemma, pair_rank = pairs // len(names), pairs % len(names)
        order = np.lexsort(
            (pair_rank, -counts, pair_lemma)
        )  # per lemma: most frequent, then code point
        best = order[np.r_[True, pair_lemma[order][1:] != pair_lemma[order][:-1]]]
        lemma_names = np.asarray(lemma.cat.categories.astype(str), dtype=object)
        index = pd.Index(lemma_names[pair_lemma[best]], dtype=object, name="lemma")
        return pd.Series(
            names[by_name][pair_rank[best]], index=index, dtype=object, name="surface"
        ).sort_index()


def _categorical(column: pd.Series) -> pd.Series:
    return column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype("category")


def lemma_label(lemma: str, form) -> str:
    """How figures and tables show a lemma: by its most frequent written base form (``form``, from
    :meth:`Tokens.usual_surfaces`: とても, not UniDic's 迚も; きっと, not 急度); the lemma when ``form``
    is missing, empty or not a string. The lemma stays the key of every table."""
    return form if isinstance(form, str) and form else lemma


def message_positions(
    table: pd.DataFrame, utterances: pd.DataFrame, *, strict: bool = True
) -> np.ndarray:
    """Row position in ``utterances`` of each token's message (``table["utterance"]``, labels of
    ``utterances.index``). A token whose message is not among ``utterances`` raises ValueError, or
    with ``strict=False`` gets -1. Arithmetic for a contiguous increasing index (the corpus's: 30 times
    faster than pandas' lookup on a RangeIndex), binary search for a sorted one, else pandas' lookup."""
    labels = table["utterance"].to_numpy().astype(np.int64, copy=False)
    index = utterances.index
    values = index.to_numpy()
    if len(labels) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(values) and index.is_monotonic_increasing and values[-1] - values[0] + 1 == len(values):
        positions = labels - int(values[0])
        missing = (positions < 0) | (positions >= len(values))
    elif index.is_monotonic_increasing and len(values):
        positions = np.minimum(np.searchsorted(values, labels), len(values) - 1)
        missing = values[positions] != labels
    else:
        positions = index.get_indexer(labels)
        missing = positions < 0
    if not missing.any():
        return positions
    if strict:
        raise ValueError(
            "tokens belong to utterances that are not in the given utterance table "
            "(restrict the tokens to the same corpus or subset)"
        )
    return np.where(missing, -1, positions)
