"""Token-based statistics of KokoroChat from the MeCab (unidic-lite) tokens of :mod:`kokoro_analysis.text.mecab`.

All functions work on a :class:`~kokoro_analysis.text.tokens.Tokens` table (10.6 M tokens for the whole
corpus) through categorical codes, ``np.bincount`` and hashing: no Python loop per token or message.
The role of a token is the role of its message (looked up in ``corpus.utterances``).

Definitions:

* *tokens per message*: MeCab tokens of one stored message (punctuation and symbols included;
  ``Tokens.counts_per_utterance``);
* *vocabulary*: distinct ``surface`` forms and distinct ``lemma`` (UniDic 語彙素) values;
* *Dist-n* (0–100, corpus level, as :func:`kokoro_analysis.finetune.metrics.distinct_n`): distinct n-grams /
  all n-grams over the messages of a role; n-grams never cross a message boundary, so a message of L
  tokens contributes max(L − n + 1, 0) n-grams. Computed on surfaces;
* *type–token growth*: vocabulary size after the first t tokens, reading the messages in corpus order
  (sessions in load order, messages in session order).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.schema import ROLE_COLUMNS
from kokoro_analysis.text.forms import display_forms
from kokoro_analysis.text.glossary import gloss_of
from kokoro_analysis.text.token_results import cached_by_tokens
from kokoro_analysis.text.tokens import Tokens, message_positions

__all__ = [
    "distinct_n_codes",
    "heaps_fit",
    "ngram_ids",
    "token_roles",
    "top_content_lemmas",
    "type_token_growth",
    "vocabulary_table",
]

# --------------------------------------------------------------------------- tokens ↔ messages


def token_roles(tokens: Tokens, utterances: pd.DataFrame) -> np.ndarray:
    """Role code of each token (index into ``schema.ROLES``: 0 counselor, 1 client), from its message."""
    codes = utterances["role"].cat.codes.to_numpy()
    return codes[message_positions(tokens.table, utterances)]


# --------------------------------------------------------------------------- Dist-n


def ngram_ids(codes, message_ids, n: int) -> np.ndarray:
    """One int64 id per n-gram of the token sequence ``codes`` (non-negative ints, e.g. categorical codes),
    where ``message_ids`` marks each token's message and each message's tokens are contiguous.

    Ids are equal exactly when the n-grams are equal. An n-gram is kept only when its first and last
    tokens lie in the same message (contiguity makes the tokens in between lie there too).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    codes = np.asarray(codes, dtype=np.int64)
    message_ids = np.asarray(message_ids)
    if codes.shape != message_ids.shape:
        raise ValueError("codes and message_ids must have the same length")
    if codes.size and codes.min() < 0:
        raise ValueError("codes must be non-negative (missing tokens?)")
    count = codes.size - n + 1
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    base = int(codes.max()) + 1
    ids = codes[:count].copy()
    for k in range(1, n):
        if (
            ids.size and int(ids.max()) > (np.iinfo(np.int64).max - base) // base
        ):  # re-code before overflow
            ids = np.unique(ids, return_inverse=True)[1].astype(np.int64).ravel()
        ids = ids * base + codes[k : k + count]
    same_message = message_ids[:count] == message_ids[n - 1 : n - 1 + count]
    return ids[same_message]


def distinct_n_codes(codes, message_ids, n: int) -> float:
    """Dist-n (0–100) of a token-code sequence split into messages (see :func:`ngram_ids`); 0 when
    there are no n-grams. Equals :func:`kokoro_analysis.finetune.metrics.distinct_n` on the messages' token lists."""
    ids = ngram_ids(codes, message_ids, n)
    if ids.size == 0:
        return 0.0
    distinct = (
        _n_distinct(ids) if n == 1 else len(pd.unique(ids))
    )  # unigram ids are the codes: count them
    return 100.0 * distinct / ids.size


def _codes(column: pd.Series) -> np.ndarray:
    """Non-negative integer codes of a token column (categorical codes, else factorised)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy().astype(np.int64)
    return pd.factorize(column)[0].astype(np.int64)


# --------------------------------------------------------------------------- vocabulary


@cached_by_tokens(uses=("role",))
def vocabulary_table(tokens: Tokens, utterances: pd.DataFrame) -> pd.DataFrame:
    """Per role and in total (index :data:`~kokoro_analysis.corpus.schema.ROLE_COLUMNS`): ``messages``, ``tokens``, ``tokens_per_message``
    (mean), ``surfaces`` and ``lemmas`` (distinct values used), ``dist_1`` and ``dist_2`` (surfaces,
    0–100, see the module docstring)."""
    table = tokens.table
    roles = token_roles(tokens, utterances)
    surface, lemma = _codes(table["surface"]), _codes(table["lemma"])
    messages = table["utterance"].to_numpy()
    role_of_message = utterances["role"].cat.codes.to_numpy()
    rows = {}
    for group in ROLE_COLUMNS:
        mask = slice(None) if group == "total" else roles == schema.ROLES.index(group)
        n_messages = (
            len(utterances)
            if group == "total"
            else int(np.sum(role_of_message == schema.ROLES.index(group)))
        )
        n_tokens = int(surface[mask].size)
        rows[group] = {
            "messages": n_messages,
            "tokens": n_tokens,
            "tokens_per_message": n_tokens / n_messages if n_messages else np.nan,
            "surfaces": _n_distinct(surface[mask]),
            "lemmas": _n_distinct(lemma[mask]),
            "dist_1": distinct_n_codes(surface[mask], messages[mask], 1),
            "dist_2": distinct_n_codes(surface[mask], messages[mask], 2),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "role"
    return frame


def _n_distinct(codes: np.ndarray) -> int:
    return int(np.count_nonzero(np.bincount(codes))) if codes.size else 0


# --------------------------------------------------------------------------- growth


@cached_by_tokens(uses=("role",))
def type_token_growth(
    tokens: Tokens,
    utterances: pd.DataFrame,
    *,
    points: int = 120,
    columns: tuple[str, ...] = ("surface", "lemma"),
) -> pd.DataFrame:
    """Vocabulary size after the first ``t`` tokens, in corpus order, per role and in total.

    Long frame: ``role`` (:data:`~kokoro_analysis.corpus.schema.ROLE_COLUMNS`), ``unit`` (the token column), ``tokens`` (t, about ``points``
    log-spaced values from 1 to the role's token count, the last one included), ``types``.
    """
    table = tokens.table
    roles = token_roles(tokens, utterances)
    frames = []
    for column in columns:
        codes = _codes(table[column])
        for group in ROLE_COLUMNS:
            mine = codes if group == "total" else codes[roles == schema.ROLES.index(group)]
            if mine.size == 0:
                continue
            types = np.cumsum(~pd.Series(mine).duplicated().to_numpy())
            at = np.unique(np.geomspace(1, mine.size, points).round().astype(np.int64))
            frames.append(
                pd.DataFrame({"role": group, "unit": column, "tokens": at, "types": types[at - 1]})
            )
    columns_out = ["role", "unit", "tokens", "types"]
    return (
        pd.concat(frames, ignore_index=True)[columns_out]
        if frames
        else pd.DataFrame(columns=columns_out)
    )


def heaps_fit(growth: pd.DataFrame, min_tokens: int = 10_000) -> pd.DataFrame:
    """Heaps' law V = K·t^β fitted by least squares on log10 V vs log10 t over the growth curve's points
    with t ≥ ``min_tokens`` (log-spaced, so each decade weighs the same). Index (role, unit); columns
    ``K``, ``beta``, ``points``."""
    rows = []
    for (role, unit), group in growth.groupby(["role", "unit"], sort=False):
        part = group[group["tokens"] >= min_tokens]
        if len(part) < 2:
            rows.append((role, unit, np.nan, np.nan, len(part)))
            continue
        beta, intercept = np.polyfit(np.log10(part["tokens"]), np.log10(part["types"]), 1)
        rows.append((role, unit, 10.0**intercept, beta, len(part)))
    return pd.DataFrame(rows, columns=["role", "unit", "K", "beta", "points"]).set_index(
        ["role", "unit"]
    )


# --------------------------------------------------------------------------- frequent words


@cached_by_tokens(uses=("role",))
def top_content_lemmas(
    tokens: Tokens, utterances: pd.DataFrame, top: int = 20, *, forms: pd.Series | None = None
) -> pd.DataFrame:
    """The ``top`` most frequent content lemmas of each role (content words: ``Tokens.content()``).

    Long frame: ``role``, ``rank`` (1 = most frequent), ``lemma``, ``surface`` (how it is shown: its
    display form in ``forms``, default :func:`~kokoro_analysis.text.forms.display_forms` of ``tokens``;
    pass the whole corpus's so a lemma is written the same in every role and subset; UniDic lemmas can
    be unusual spellings, e.g. 迚も for とても), ``count``, ``per_1000`` (per 1,000 content tokens of the role), ``messages_share`` (% of the
    role's messages that contain it). Ties in count are broken by lemma code (stable).
    """
    content = tokens.content().table
    roles = token_roles(Tokens(content), utterances)
    lemma = _codes(content["lemma"])
    messages = content["utterance"].to_numpy()
    role_of_message = utterances["role"].cat.codes.to_numpy()
    lemma_names = np.asarray(content["lemma"].cat.categories, dtype=object)
    if forms is None:
        forms = display_forms(tokens)
    frames = []
    for code, role in enumerate(schema.ROLES):
        mask = roles == code
        counts = np.bincount(lemma[mask], minlength=len(lemma_names))
        order = np.argsort(-counts, kind="stable")[:top]
        order = order[counts[order] > 0]
        in_top = mask & np.isin(lemma, order)
        pairs = pd.DataFrame({"lemma": lemma[in_top], "message": messages[in_top]})
        n_messages = pairs.drop_duplicates(["lemma", "message"]).groupby("lemma").size()
        role_messages = int(np.sum(role_of_message == code))
        frames.append(
            pd.DataFrame(
                {
                    "role": role,
                    "rank": np.arange(1, len(order) + 1),
                    "lemma": lemma_names[order],
                    "surface": forms.reindex(lemma_names[order].astype(str)).to_numpy(dtype=object),
                    "count": counts[order].astype(np.int64),
                    "per_1000": 1000.0 * counts[order] / max(int(mask.sum()), 1),
                    "messages_share": 100.0
                    * n_messages.reindex(order).to_numpy()
                    / max(role_messages, 1),
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    table["gloss_en"] = [gloss_of(str(w), f) for w, f in zip(table["lemma"], table["surface"])]
    return table
