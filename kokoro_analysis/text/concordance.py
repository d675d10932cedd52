"""Keyword in context (KWIC) over MeCab tokens, hit counts and log-Dice collocates.

A *hit* is a run of consecutive tokens of one message that the query spells. A query is tokenized like
the corpus (:func:`query_tokens`); a query of one token matches a token whose surface (as written) or
lemma (see :mod:`kokoro_analysis.text.mecab`) equals the query; a query of several tokens (発達が遅い,
教えてください) matches a run of as many tokens whose surfaces, or whose lemmas, equal the query's
tokens' (教えて下さい matches 教えてください by lemma). ``match="surface"`` or ``"lemma"`` restricts
the comparison to one of them. Hits therefore begin and end at token boundaries: a query found only
inside a longer token (不安 in 不安定) is not a hit; :func:`text_occurrences` counts every occurrence
in the texts, for the difference. Contexts and collocation windows stay inside the hit's message (one
utterance): they never cross into the next speaker's words. Japanese is written without spaces, so
contexts join the token surfaces directly.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from kokoro_analysis.paths import atomic_target

MATCH_MODES = ("either", "surface", "lemma")
"""How a query is compared with a token: its surface or its lemma, only the surface, only the lemma."""

HIT_COLUMNS = (
    "dialogue_id",
    "utterance",
    "role",
    "token",
    "tokens",
    "left",
    "hit",
    "right",
    "lemma",
    "pos",
)
"""Columns of :func:`concordance`: the session, the utterance's index label in ``corpus.utterances``,
the speaker, the 0-based position of the hit's first token in its utterance, the hit's number of
tokens, the left context, the hit as written, the right context, the hit's lemma(s) and coarse part(s)
of speech (space-separated for a hit of several tokens)."""


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

    ``tokens`` is a :class:`~kokoro_analysis.text.tokens.Tokens`; ``utterances`` is ``corpus.utterances``
    (for ``dialogue_id`` and ``role``). ``pos`` keeps hits whose first token has that coarse part of
    speech (e.g. 名詞); ``role`` keeps hits spoken by ``"counselor"`` or ``"client"``.
    """
    query = _check_query(query)
    if match not in MATCH_MODES:
        raise ValueError(f"match must be one of {', '.join(MATCH_MODES)}, not {match!r}")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 0:
        raise ValueError(f"window must be 0 or more tokens, not {window!r}")
    table = tokens.table
    pieces = query_tokens(query)
    if len(pieces) <= 1:
        positions, length = np.flatnonzero(_matches(table, query, match, pos)), 1
    else:
        positions, length = _run_matches(table, pieces, match, pos), len(pieces)
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
    after = positions + length
    right = ["".join(names[codes[p : min(b, p + window)]]) for b, p in zip(ends, after)]
    hit_owners = owners[positions]
    return pd.DataFrame(
        {
            "dialogue_id": utterances["dialogue_id"].reindex(hit_owners).to_numpy(),
            "utterance": hit_owners,
            "role": speaker,
            "token": (positions - starts).astype(np.int64),
            "tokens": np.full(len(positions), length, dtype=np.int64),
            "left": pd.Series(left, dtype="str"),
            "hit": _joined(table["surface"], positions, length, ""),
            "right": pd.Series(right, dtype="str"),
            "lemma": _joined(table["lemma"], positions, length, " "),
            "pos": _joined(table["pos"], positions, length, " "),
        },
        columns=list(HIT_COLUMNS),
    )


def query_tokens(query: str) -> list[tuple[str, str]]:
    """(surface, lemma) of each token of ``query``, tokenized as the corpus is (MeCab, unidic-lite,
    merged compounds)."""
    from kokoro_analysis.text.token_cache import tokenize_corpus

    frame = pd.DataFrame({"text": [_check_query(query)]})
    table = tokenize_corpus(frame, cache=False, progress=False, workers=1).table
    return list(zip(table["surface"].astype(str), table["lemma"].astype(str)))


def _run_matches(
    table: pd.DataFrame, pieces: list[tuple[str, str]], match: str, pos: str | None
) -> np.ndarray:
    """First positions of the runs of ``len(pieces)`` tokens of one message whose surfaces (or, unless
    ``match="surface"``, whose lemmas) equal the pieces'."""
    n = len(pieces)
    owners = table["utterance"].to_numpy()
    count = len(table) - n + 1
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    found = np.zeros(count, dtype=bool)
    for column, index in (("surface", 0), ("lemma", 1)):
        if match == ("lemma" if column == "surface" else "surface"):
            continue
        codes, names = _codes(table[column])
        wanted = [np.flatnonzero(names[:-1] == piece[index]) for piece in pieces]
        if any(len(w) == 0 for w in wanted):
            continue
        run = np.ones(count, dtype=bool)
        for k, codes_k in enumerate(wanted):
            run &= codes[k : k + count] == codes_k[0]
        found |= run
    found &= owners[:count] == owners[n - 1 : n - 1 + count]
    if pos:
        found &= (table["pos"].iloc[:count] == pos).to_numpy(dtype=bool, na_value=False)
    return np.flatnonzero(found)


def _joined(column: pd.Series, positions: np.ndarray, length: int, separator: str) -> np.ndarray:
    """The values of ``column`` at ``positions`` and the ``length - 1`` tokens after each, joined."""
    codes, names = _codes(column)
    if length == 1:
        return names[codes[positions]]
    parts = [names[codes[positions + k]] for k in range(length)]
    return np.array([separator.join(values) for values in zip(*parts)], dtype=object)


def text_occurrences(texts: pd.Series, query: str) -> int:
    """Occurrences of ``query`` in ``texts`` as written (non-overlapping, like ``str.count``), whether
    or not they begin and end at token boundaries."""
    import pyarrow as pa
    import pyarrow.compute as pc

    query = _check_query(query)
    try:
        array = pa.array(texts)  # no copy for Arrow-backed strings
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = pa.array(texts.astype(str).to_numpy(dtype=object), pa.large_string())
    return int(pc.sum(pc.count_substring(array, pattern=query)).as_py() or 0)


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes per token and the strings they stand for (no Python string per token)."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype("category")
    names = np.asarray(column.cat.categories.astype(str), dtype=object)
    return column.cat.codes.to_numpy(), np.append(names, "")  # code -1 (missing) -> ""


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
    message (before its first or after its last token, for a hit of several tokens), ``frequency`` =
    tokens of *y* in ``tokens``, and ``log_dice = 14 + log2(2 * co / (hits + frequency))`` (at most
    14; Rychlý 2008). Lemmas seen near hits fewer than ``min_count`` times are left out; the hit
    tokens themselves are not counted.
    ``content_only`` keeps content words (see ``Tokens.content``). Sorted by ``log_dice``, then ``co``,
    then lemma; at most ``top`` rows.
    """
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 0:
        raise ValueError(f"window must be 0 or more tokens, not {window!r}")
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 0:
        raise ValueError(f"top must be 0 or more rows, not {top!r}")
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
    lengths = hits["tokens"].to_numpy() if "tokens" in hits else np.ones(len(hits), dtype=np.int64)
    starts, ends = _message_bounds(owners, hit_positions)
    near = np.zeros(len(table), dtype=np.int64)
    inside = np.zeros(len(table), dtype=bool)
    for start, end, p, n in zip(starts, ends, hit_positions, lengths):
        near[max(start, p - window) : p] += 1
        near[p + n : min(end, p + n + window)] += 1
        inside[p : p + n] = True
    near[inside] = 0  # the hits themselves are not collocates
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
    with atomic_target(path) as temporary:
        frame.to_csv(temporary, index=False, encoding="utf-8", lineterminator="\n")
    return Path(path)
