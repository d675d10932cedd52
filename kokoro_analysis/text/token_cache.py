"""The corpus's tokens: utterances tokenized in parts of whole sessions, each part cached as Parquet
(:mod:`kokoro_analysis.cache`), and assembled into one :class:`~kokoro_analysis.text.tokens.Tokens`
table identical to one tokenization of the whole."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kokoro_analysis.cache import (
    CacheEntry,
    cache_key,
    check_entry,
    large_string_array,
    read_entry,
    read_mapped_entry,
    texts_digest,
    write_entry,
    write_mapped_entry,
)
from kokoro_analysis.paths import usable_cache_dir
from kokoro_analysis.text.mecab import (
    COLUMNS,
    DICTIONARY_TYPE,
    TOKENS_FORMAT,
    dictionary_array,
    finish_part,
    init_worker,
    progress_bar,
    tokenize_chunk,
    tokenizer_identity,
)
from kokoro_analysis.text.tokens import Tokens, message_positions
from kokoro_analysis.workers import available_cores, map_in_processes


def tokenize_corpus(
    corpus, *, workers: int | None = None, cache: bool = True, progress: bool = True
) -> Tokens:
    """Tokens of every utterance of ``corpus``, from the cache when the texts and tokenizer are unchanged.

    The utterances are tokenized in parts of whole sessions (:func:`utterance_parts`), each cached
    under a SHA-256 of its texts and :func:`tokenizer_identity` (:func:`token_cache_key`), so a changed
    input or tokenizer never returns stale tokens, and a changed or skipped session re-tokenizes only
    its part. The assembled table is cached too, under the parts' keys and the utterance labels, so a
    warm call maps one file (:func:`~kokoro_analysis.cache.read_mapped_entry`). Entries are verified when read (:mod:`kokoro_analysis.cache`). Files live
    in ``<cache>/tokens/``; an unusable cache folder is reported in one line and the tokens are
    computed without it. The table is the same, category order included, however it was assembled.
    """
    utterances = corpus.utterances if hasattr(corpus, "utterances") else corpus
    texts, bounds, entries = _plan(utterances, cache)
    whole = None
    if entries[0] is not None:
        labels = utterances.index.to_numpy(dtype=np.int64)
        key = cache_key("table", *(entry.key for entry in entries), labels.tobytes())
        whole = CacheEntry(entries[0].folder, "token table", TOKENS_FORMAT, key, ".arrow")
        found = read_mapped_entry(whole, {"utterances": len(labels)})
        if found is not None:
            return _with_dialogue_ids(found[0].to_pandas(), utterances, key)
    parts: list[tuple[pa.Table, dict] | None] = [None] * len(bounds)
    for number, ((a, b), entry) in enumerate(zip(bounds, entries)):
        if entry is not None:
            found = read_entry(entry, {"utterances": b - a})
            parts[number] = (found[0], found[1]["raw categories"]) if found else None
    missing = [number for number, part in enumerate(parts) if part is None]
    for number, part in _tokenize_missing(texts, bounds, entries, missing, workers, progress):
        parts[number] = part
    table = _assemble(parts, bounds, utterances.index)
    if whole is not None:
        write_mapped_entry(whole, pa.Table.from_pandas(table), {"utterances": len(utterances)})
    return _with_dialogue_ids(table, utterances, whole.key if whole is not None else None)


@dataclass
class CacheWarmed:
    """What :func:`warm_token_cache` did: tokens in all, parts, parts tokenized (the others were
    cached), the cache folder (None when it was not usable)."""

    tokens: int
    parts: int
    tokenized: int
    folder: Path | None


def warm_token_cache(corpus, *, workers: int | None = None, progress: bool = True) -> CacheWarmed:
    """Tokenize and cache the parts of ``corpus`` the token cache lacks (as :func:`tokenize_corpus`,
    whose cache it fills) without assembling the token table; cached parts are verified from their
    footers only."""
    utterances = corpus.utterances if hasattr(corpus, "utterances") else corpus
    texts, bounds, entries = _plan(utterances, cache=True)
    rows: list[int | None] = [None] * len(bounds)
    for number, ((a, b), entry) in enumerate(zip(bounds, entries)):
        if entry is not None:
            found = check_entry(entry, {"utterances": b - a})
            rows[number] = found["rows"] if found else None
    missing = [number for number, count in enumerate(rows) if count is None]
    tokenized = _tokenize_missing(texts, bounds, entries, missing, workers, progress, tables=False)
    for number, count in tokenized:
        rows[number] = count
    folder = entries[0].folder if entries[0] is not None else None
    return CacheWarmed(sum(rows), len(bounds), len(missing), folder)


def _plan(utterances: pd.DataFrame, cache: bool):
    """The texts as one Arrow array, the parts' row ranges and their cache entries (None without a
    usable cache)."""
    texts = large_string_array(utterances["text"])
    bounds = utterance_parts(utterances) or [(0, 0)]
    folder = usable_cache_dir("tokens") if cache else None
    entries = [
        CacheEntry(folder, "tokens", TOKENS_FORMAT, token_cache_key(texts[a:b])) if folder else None
        for a, b in bounds
    ]
    return texts, bounds, entries


def _tokenize_missing(texts, bounds, entries, missing, workers, progress, *, tables=True):
    """(number, (part, raw category counts)) of each part in ``missing``, tokenized and cached;
    (number, tokens) without ``tables``."""
    if not missing:
        return
    parts = [(*bounds[number], entries[number]) for number in missing]
    yield from zip(
        missing, tokenize_parts(texts, parts, workers=workers, progress=progress, tables=tables)
    )


PART_COMPRESSION = "none"
"""Parquet compression of the cached parts: none (their integer codes are small anyway, 74 MB for the
corpus against 54 MB with zstd) writes in 0.6 CPU s instead of 1.0, in the tokenizing workers."""
PART_SESSIONS = 64
"""Sessions per cached part, on average: a part ends after a session whose id hashes to 0 modulo this,
so parts do not move when a session is added, changed or skipped (only its own part is redone)."""
PART_UTTERANCES = 4000
"""Utterances per part for a table without ``dialogue_id``."""
PART_SESSION_UTTERANCES = 16000
"""The most utterances a part of sessions holds (a longer run of sessions is cut every so many rows)."""


def utterance_parts(utterances: pd.DataFrame) -> list[tuple[int, int]]:
    """(start, stop) row ranges that cover ``utterances`` in order: runs of whole sessions chosen by
    session id (:data:`PART_SESSIONS`, at most :data:`PART_SESSION_UTTERANCES` rows); without ``dialogue_id``,
    runs of :data:`PART_UTTERANCES` rows."""
    n = len(utterances)
    if "dialogue_id" not in utterances.columns:
        return [(a, min(a + PART_UTTERANCES, n)) for a in range(0, n, PART_UTTERANCES)]
    ids = pd.factorize(utterances["dialogue_id"])[0] if n else np.zeros(0, np.int64)
    ends = np.flatnonzero(np.diff(ids) != 0) + 1  # first row of each next session
    session_ids = utterances["dialogue_id"].to_numpy()[ends - 1]
    hashed = pd.util.hash_array(np.asarray(session_ids, dtype=object).astype(str)) % PART_SESSIONS
    cuts = [0, *ends[hashed == 0].tolist(), n] if n else [0]
    bounds = []
    for a, b in itertools.pairwise(cuts):
        bounds += [
            (s, min(s + PART_SESSION_UTTERANCES, b)) for s in range(a, b, PART_SESSION_UTTERANCES)
        ]
    return bounds


def token_cache_key(texts) -> str:
    """SHA-256 over the tokenizer identity and the texts (:func:`kokoro_analysis.cache.texts_digest`)."""
    return cache_key(repr(sorted(tokenizer_identity().items())), texts_digest(texts))


def tokenize_parts(
    texts: pa.Array,
    parts: Sequence[tuple[int, int, CacheEntry | None]],
    *,
    workers: int | None = None,
    progress: bool = True,
    tables: bool = True,
) -> Iterable[tuple[pa.Table, dict[str, int]] | int]:
    """Tokenize each part's texts, ``texts[start:stop]`` (Arrow strings), into a finished part table
    and its raw category counts (:func:`finish_part`), written to its cache entry (when given) by the
    worker that made it; yields them in order. The workers get ``texts`` once, when they start (a
    part is sent as its bounds). Without ``tables``, yields each part's number of tokens only
    (nothing else is sent back between processes)."""
    workers = min(workers or available_cores(), len(parts))
    bar = progress_bar(sum(stop - start for start, stop, _ in parts), progress)
    function = _tokenize_part if tables else _count_part
    # longest parts (in bytes) first, so the workers finish together: the last part given out is short
    ends = np.cumsum([0, *pc.binary_length(texts).to_numpy(zero_copy_only=False)])
    order = sorted(range(len(parts)), key=lambda n: ends[parts[n][0]] - ends[parts[n][1]])
    ordered = [parts[n] for n in order]
    try:
        if workers <= 1:
            _start_worker(texts)
            done = map(function, ordered)
        else:
            done = map_in_processes(
                function,
                ordered,
                workers,
                what="tokenizing",
                initializer=_start_worker,
                initargs=(texts,),
            )
        finished, following = {}, 0
        for number, part in zip(order, done):
            bar.update(parts[number][1] - parts[number][0])
            finished[number] = part
            while following in finished:
                yield finished.pop(following)
                following += 1
    finally:
        _start_worker(None)
        bar.close()


_TEXTS = None
"""The texts :func:`tokenize_parts` tokenizes, in this (worker) process."""


def _start_worker(texts) -> None:
    global _TEXTS
    _TEXTS = texts
    if texts is not None:
        init_worker()


def _tokenize_part(part: tuple[int, int, CacheEntry | None]) -> tuple[pa.Table, dict[str, int]]:
    start, stop, entry = part
    texts = _TEXTS[start:stop].to_pylist()
    table, raw_sizes = finish_part(*tokenize_chunk(texts))
    if entry is not None:
        extra = {"utterances": len(texts), "raw categories": raw_sizes}
        write_entry(entry, table, extra, compression=PART_COMPRESSION)
    return table, raw_sizes


def _count_part(part: tuple[int, int, CacheEntry | None]) -> int:
    """:func:`_tokenize_part`, returning the part's number of tokens only."""
    return len(_tokenize_part(part)[0])


def _assemble(
    parts: list[tuple[pa.Table, dict]], bounds: list[tuple[int, int]], index: pd.Index
) -> pd.DataFrame:
    """The token table of all parts in order, with the categories in the order one tokenization of the
    whole would give: MeCab's values in order of first appearance (lemmas: sorted by code point), then
    the values only the compound merge produced, sorted."""
    parts, sizes = [part for part, _ in parts], [size for _, size in parts]
    labels = index.to_numpy(dtype=np.int64)
    owners = [labels[a + part["utterance"].to_numpy()] for part, (a, _) in zip(parts, bounds)]
    owners = np.concatenate(owners) if owners else np.zeros(0, np.int64)
    if len(labels) and labels.max() < 2**31 and labels.min() >= 0:
        owners = owners.astype(np.int32)
    columns = {"utterance": owners}
    for name in COLUMNS:
        arrays = [dictionary_array(part[name]) for part in parts]
        dictionaries = [a.dictionary for a in arrays]
        first_seen = _unified_dictionary([d[: size[name]] for d, size in zip(dictionaries, sizes)])
        if name == "lemma":
            first_seen = first_seen.take(pc.sort_indices(first_seen))
        every = pa.concat_arrays(dictionaries) if dictionaries else pa.array([], pa.string())
        added = pc.unique(every.filter(pc.invert(pc.is_in(every, first_seen))))
        categories = pa.concat_arrays([first_seen, added.take(pc.sort_indices(added))])
        # each part's codes -> positions in categories: one hash lookup of all part dictionaries
        positions = pc.index_in(every, value_set=categories).to_numpy(zero_copy_only=False)
        starts = np.cumsum([0, *(len(d) for d in dictionaries)])
        codes = [
            positions[start:end].take(a.indices.to_numpy(zero_copy_only=False))
            for start, end, a in zip(starts, starts[1:], arrays)
        ]
        codes = np.concatenate(codes) if codes else np.zeros(0, np.int32)
        columns[name] = pa.DictionaryArray.from_arrays(codes, categories)
    return pa.table(columns).to_pandas()


def _unified_dictionary(dictionaries: list[pa.Array]) -> pa.Array:
    """The values of ``dictionaries`` in order of first appearance (Arrow's dictionary unification)."""
    empty = pa.array([], pa.int32())
    arrays = [pa.DictionaryArray.from_arrays(empty, d.cast(pa.string())) for d in dictionaries]
    if not arrays:
        return pa.array([], pa.string())
    unified = pa.table({"c": pa.chunked_array(arrays, DICTIONARY_TYPE)}).unify_dictionaries()["c"]
    return unified.chunk(0).dictionary


def _with_dialogue_ids(table: pd.DataFrame, utterances: pd.DataFrame, key: str | None) -> Tokens:
    """Add each token's ``dialogue_id`` (after ``utterance``) from ``utterances``. Not cached: the cache
    key covers the texts only. ``key``: the assembled table's cache key (:attr:`Tokens.key`)."""
    if "dialogue_id" in utterances.columns:
        rows = message_positions(table, utterances)
        table.insert(1, "dialogue_id", utterances["dialogue_id"].to_numpy()[rows])
    return Tokens(table, key)
