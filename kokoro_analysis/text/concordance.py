"""Keyword in context (KWIC) over MeCab tokens, hit counts and log-Dice collocates.

A *hit* is one token whose surface (as written) or lemma (see :mod:`kokoro_analysis.text.mecab`) equals
the query; ``match="surface"`` or ``"lemma"`` restricts the comparison to one of them. Contexts and
collocation windows stay inside the hit's message (one utterance): they never cross into the next
speaker's words. Japanese is written without spaces, so contexts join the token surfaces directly.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

MATCH_MODES = ("either", "surface", "lemma")
"""How a query is compared with a token: its surface or its lemma, only the surface, only the lemma."""

HIT_COLUMNS = ("dialogue_id", "utterance", "role", "token", "left", "hit", "right", "lemma", "pos")
"""Columns of :func:`concordance`: the session, the utterance's index label in ``corpus.utterances``,
the speaker, the token's 0-based position in its utterance, the left context, the hit as written, the
right context, the hit's lemma and its coarse part of speech."""


def concordance(
    tokens,
    utterances: pd.DataFrame,
    query: str,
    *,
    match: str = "either",
    pos: str | None = None,
    role: str | None = None,
    window: int = 8,
) -> pd.DataFrame:
    """Every token matching ``query`` with ``window`` tokens of context on each side (fewer at the
    start or end of its message), in corpus order; columns :data:`HIT_COLUMNS`.

    ``tokens`` is a :class:`~kokoro_analysis.text.mecab.Tokens`; ``utterances`` is ``corpus.utterances``
    (for ``dialogue_id`` and ``role``). ``pos`` keeps hits of that coarse part of speech (e.g. 名詞);
    ``role`` keeps hits spoken by ``"counselor"`` or ``"client"``.
    """
    query = _check_query(query)
    if match not in MATCH_MODES:
        raise ValueError(f"match must be one of {', '.join(MATCH_MODES)}, not {match!r}")
    if window < 0:
        raise ValueError(f"window must be 0 or more tokens, not {window}")
    table = tokens.table
    positions = np.flatnonzero(_matches(table, query, match, pos))
    owners = table["utterance"].to_numpy()
    speaker = utterances["role"].reindex(owners[positions]).astype(str).to_numpy()
    if role is not None:
        if role not in ("counselor", "client"):
            raise ValueError(f"role must be 'counselor' or 'client', not {role!r}")
        positions = positions[speaker == role]
        speaker = speaker[speaker == role]
    starts, ends = _message_bounds(owners, positions)
    codes, names = _codes(table["surface"])
    left = ["".join(names[codes[max(a, p - window) : p]]) for a, p in zip(starts, positions)]
    right = ["".join(names[codes[p + 1 : min(b, p + 1 + window)]]) for b, p in zip(ends, positions)]
    hit_owners = owners[positions]
    return pd.DataFrame(
        {
            "dialogue_id": utterances["dialogue_id"].reindex(hit_owners).to_numpy(),
            "utterance": hit_owners,
            "role": speaker,
            "token": (positions - starts).astype(np.int64),
            "left": pd.Series(left, dtype="str"),
            "hit": _strings(table["surface"], positions),
            "right": pd.Series(right, dtype="str"),
            "lemma": _strings(table["lemma"], positions),
            "pos": _strings(table["pos"], positions),
        },
        columns=list(HIT_COLUMNS),
    )


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes per token and the strings they stand for (no Python string per token)."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype("category")
    names = np.asarray(column.cat.categories.astype(str), dtype=object)
    return column.cat.codes.to_numpy(), np.append(names, "")  # code -1 (missing) -> ""


def _strings(column: pd.Series, positions: np.ndarray) -> np.ndarray:
    """The values of ``column`` at ``positions`` as strings."""
    codes, names = _codes(column)
    return names[codes[positions]]


def _check_query(query) -> str:
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"the query must be a non-empty word, not {query!r}")
    return query.strip()


def _matches(table: pd.DataFrame, query: str, match: str, pos: str | None) -> np.ndarray:
    mask = np.zeros(len(table), dtype=bool)
    if match in ("either", "surface"):
        mask |= (table["surface"] == query).to_numpy(dtype=bool, na_value=False)
    if match in ("either", "lemma"):
        mask |= (table["lemma"] == query).to_numpy(dtype=bool, na_value=False)
    if pos:
        mask &= (table["pos"] == pos).to_numpy(dtype=bool, na_value=False)
    return mask


def _message_bounds(owners: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First position and one past the last position of each hit's message (tokens are in text order,
    so a message's tokens are contiguous)."""
    change = np.flatnonzero(np.diff(owners)) + 1
    first = np.concatenate([[0], change])
    last = np.concatenate([change, [len(owners)]])
    run = np.searchsorted(first, positions, side="right") - 1
    return first[run].astype(np.int64), last[run].astype(np.int64)


def hit_counts(hits: pd.DataFrame, by: str, groups: pd.Series | None = None) -> pd.DataFrame:
    """Hits and sessions with at least one hit per group, sorted by hits (then group name).

    ``by`` is a column of ``hits`` (e.g. ``role``) or, with ``groups``, a name for the session
    attribute ``groups`` gives (a Series indexed by ``dialogue_id``, e.g. the main topic or score band).
    Columns: ``by``, ``hits``, ``sessions``, ``share`` (of all hits, 0–1).
    """
    keys = hits[by] if groups is None else hits["dialogue_id"].map(groups)
    frame = pd.DataFrame(
        {by: keys.astype(str).to_numpy(), "dialogue_id": hits["dialogue_id"].to_numpy()}
    )
    counts = frame.groupby(by, sort=True).agg(
        hits=("dialogue_id", "size"), sessions=("dialogue_id", "nunique")
    )
    counts["share"] = counts["hits"] / max(len(hits), 1)
    counts = counts.reset_index().sort_values(["hits", by], ascending=[False, True], kind="stable")
    return counts.reset_index(drop=True)


def collocates(
    tokens,
    hits: pd.DataFrame,
    *,
    window: int = 5,
    top: int = 20,
    min_count: int = 2,
    content_only: bool = True,
) -> pd.DataFrame:
    """The lemmas that occur most strongly near the hits, by log-Dice.

    For a collocate lemma *y*: ``co`` = tokens of *y* within ``window`` tokens of a hit in the same
    message, ``frequency`` = tokens of *y* in ``tokens``, and
    ``log_dice = 14 + log2(2 * co / (hits + frequency))`` (at most 14; Rychlý 2008). Lemmas seen near
    hits fewer than ``min_count`` times are left out; the hit tokens themselves are not counted.
    ``content_only`` keeps content words (see ``Tokens.content``). Sorted by ``log_dice``, then ``co``,
    then lemma; at most ``top`` rows.
    """
    table = tokens.table
    eligible = tokens.content_mask() if content_only else np.ones(len(table), dtype=bool)
    owners = table["utterance"].to_numpy()
    # the hits' row positions: first row of their message + position in the message
    first = np.r_[True, owners[1:] != owners[:-1]] if len(owners) else np.zeros(0, dtype=bool)
    starts_of = pd.Series(np.flatnonzero(first), index=owners[first])
    hit_positions = (
        starts_of.reindex(hits["utterance"].to_numpy()).to_numpy(dtype=np.int64)
        + hits["token"].to_numpy()
    )
    starts, ends = _message_bounds(owners, hit_positions)
    near = np.zeros(len(table), dtype=np.int64)
    for start, end, p in zip(starts, ends, hit_positions):
        near[max(start, p - window) : p] += 1
        near[p + 1 : min(end, p + 1 + window)] += 1
    near[hit_positions] = 0  # the hits themselves are not collocates
    codes, names = _codes(table["lemma"])
    keep = eligible & (near > 0) & (codes >= 0)
    co = np.bincount(codes[keep], weights=near[keep], minlength=len(names)).astype(np.int64)
    frequency = np.bincount(codes[eligible & (codes >= 0)], minlength=len(names))
    chosen = np.flatnonzero(co >= max(min_count, 1))
    result = pd.DataFrame(
        {
            "lemma": pd.Series(names[chosen], dtype="str"),
            "co": co[chosen],
            "frequency": frequency[chosen].astype(np.int64),
        }
    )
    result["log_dice"] = 14 + np.log2(2 * result["co"] / (len(hits) + result["frequency"]))
    result = result.sort_values(
        ["log_dice", "co", "lemma"], ascending=[False, False, True], kind="stable"
    )
    return result.head(top).reset_index(drop=True)


def write_csv(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``frame`` as UTF-8 CSV without the index, atomically (a temporary file renamed into place,
    so an interrupted export never leaves a half-written file). Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        frame.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
