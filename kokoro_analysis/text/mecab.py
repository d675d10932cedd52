"""Japanese tokenization with MeCab (through fugashi) and the unidic-lite dictionary, cached as Parquet.

Per token we keep:

* ``surface``: the text span as written (MeCab ``%m``);
* ``lemma``: UniDic's *lemma* (語彙素, feature 7) without the disambiguating suffix UniDic appends after
  a hyphen (the English gloss of loanwords, ``コンピューター-computer`` → ``コンピューター``, or a sense
  label, ``私-代名詞`` → ``私``). We use it, not the written base form (書字形基本形,
  feature 10), because it merges orthographic variants (分かる / わかる / 解る → 分かる), which is what
  vocabulary counts and keyword statistics need. Its spelling can be unusual (とても → 迚も);
  unknown words use their surface;
* ``base``: the written base form (書字形基本形, feature 10) as the text spells it (とても where the
  lemma is 迚も, いう where it is 言う): the most frequent one per lemma is how a lemma is shown;
* ``pos``: the coarse part of speech (品詞大分類, feature 0, e.g. 名詞, 動詞, 助詞) and ``pos2`` (feature 1).

Whitespace (every Unicode space, the full-width 　 included) and control characters separate tokens and
are never tokens themselves: they are replaced by an ASCII space, which MeCab skips, before parsing.

The dictionary is unidic-lite, chosen explicitly (``fugashi.Tagger()`` would prefer the full ``unidic``
package if installed). MeCab writes one compact line per token (``-O ""`` overrides unidic-lite's output
format so our ``--node-format`` is used), and the lines are parsed by Arrow's CSV reader: no Python object
is made per token. Work is split over processes (one tagger per process; taggers cannot be pickled).
"""

from __future__ import annotations

import ctypes
import glob
import importlib.metadata
import io
import itertools
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from kokoro_analysis.cache import (
    CacheEntry,
    cache_key,
    check_entry,
    large_string_array,
    read_entry,
    texts_digest,
    write_entry,
)
from kokoro_analysis.paths import usable_cache_dir
from kokoro_analysis.text.compounds import COMPOUNDS, isolate_all, merge_compounds
from kokoro_analysis.text.marks import non_word_mask
from kokoro_analysis.workers import available_cores, map_in_processes

TOKENS_FORMAT = 5
"""Bump when the token table layout changes, so old caches are not read."""

COLUMNS = ("pos", "pos2", "lemma", "base", "surface")
"""Fields of MeCab's per-token line, surface last: it is never empty, and fugashi strips trailing
whitespace, which would drop an empty last field (UniDic has no base form for some symbols)."""
NODE_FORMAT = r"%f[0]\t%f[1]\t%f[7]\t%f[10]\t%m\n"
UNKNOWN_FORMAT = r"%f[0]\t%f[1]\t%m\t%m\t%m\n"
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


_SEPARATOR_CODES = [
    *range(0x00, 0x20),
    0x7F,
    *range(0x80, 0xA1),
    0x1680,
    *range(0x2000, 0x200B),
    0x2028,
    0x2029,
    0x202F,
    0x205F,
    0x3000,
]
SEPARATORS = str.maketrans({code: " " for code in _SEPARATOR_CODES})
"""Translation table: whitespace other than the ASCII space (str.isspace) and control characters → " "."""


def _dictionary_dir() -> str:
    import unidic_lite

    return unidic_lite.DICDIR


def tagger_arguments() -> str:
    """The MeCab options used: unidic-lite, no user rc file, our compact per-token format."""
    return (
        f'-d "{_dictionary_dir()}" -r /dev/null -O "" '
        f'-F "{NODE_FORMAT}" -U "{UNKNOWN_FORMAT}" -B "" -E ""'
    )


def _mecab_library_version() -> str:
    import fugashi

    libs = glob.glob(
        os.path.join(os.path.dirname(fugashi.__file__), "..", "fugashi.libs", "libmecab*")
    )
    try:
        library = ctypes.CDLL(libs[0]) if libs else ctypes.CDLL("libmecab.so.2")
        library.mecab_version.restype = ctypes.c_char_p
        return library.mecab_version().decode()
    except (OSError, AttributeError):
        return "unknown"


@lru_cache(maxsize=1)
def tokenizer_identity() -> dict[str, str]:
    """Everything that can change the tokens: fugashi, MeCab and dictionary versions, options, format."""
    dictionary = Path(_dictionary_dir())
    version_file = dictionary / "version"
    return {
        "fugashi": importlib.metadata.version("fugashi"),
        "mecab": _mecab_library_version(),
        "unidic-lite": importlib.metadata.version("unidic-lite"),
        "dictionary": version_file.read_text().strip() if version_file.exists() else "unknown",
        "sys.dic bytes": str((dictionary / "sys.dic").stat().st_size),
        "options": f"-O '' -F {NODE_FORMAT} -U {UNKNOWN_FORMAT}; whitespace and controls as ASCII space",
        "compounds": "isolated, merged: " + ",".join(sorted(COMPOUNDS)),
        "format": str(TOKENS_FORMAT),
    }


def make_tagger():
    """A fugashi ``GenericTagger`` on unidic-lite whose ``parse`` returns our compact format."""
    import fugashi

    return fugashi.GenericTagger(tagger_arguments())


# --- tokenizing -----------------------------------------------------------------------------------

_TAGGER = None


def _init_worker() -> None:
    global _TAGGER
    _TAGGER = make_tagger()


MAX_PARSE_CHARS = 4096
"""Longest text MeCab is given in one call. MeCab 0.996 crashes (segmentation fault) on one text of
about 1.5 M characters, and on far shorter runs without spaces (200,000 ASCII letters), so longer texts
are cut by :func:`split_long_text`. The longest message of the release has 686 characters."""

SENTENCE_ENDS = "。！？!?"


def split_long_text(text: str, limit: int = MAX_PARSE_CHARS) -> list[str]:
    """``text`` (whitespace already replaced by ASCII spaces) in pieces of at most ``limit`` characters,
    cut after the last space of each window (MeCab never makes a token across a space, so the tokens
    are unchanged), else after the last sentence end (:data:`SENTENCE_ENDS`), else at the limit."""
    pieces = []
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        cut = window.rfind(" ") + 1 or max(window.rfind(end) for end in SENTENCE_ENDS) + 1 or limit
        pieces.append(window[:cut])
        start += cut
    pieces.append(text[start:])
    return pieces


_SEPARATOR_PATTERN = re.compile("[" + "".join(map(chr, _SEPARATOR_CODES)) + "]")


def _parse(parse, text: str) -> str:
    """MeCab's lines for one text, each ending in a newline ("" for a text without tokens)."""
    if _SEPARATOR_PATTERN.search(text):
        text = text.translate(SEPARATORS)
    pieces = [text] if len(text) <= MAX_PARSE_CHARS else split_long_text(text)
    # fugashi strips the final newline of MeCab's output; put it back on non-empty results
    return "".join(out + "\n" if out else out for out in map(parse, pieces))


def _tokenize_chunk(texts: Sequence[str]) -> tuple[np.ndarray, pa.Table]:
    """Tokenize one chunk in a worker: tokens per text and a table of the tokens' columns.

    MeCab parses each distinct text once (a fifth of the messages repeat one said before: はい,
    よろしくお願いします); repeats get copies of its rows. The columns' values appear in the same order
    as when every text is parsed, since a repeated text adds no value not seen before."""
    distinct: dict[str, int] = {}
    positions = np.fromiter(
        (distinct.setdefault(text, len(distinct)) for text in isolate_all(texts)),
        dtype=np.int64,
        count=len(texts),
    )
    parse = _TAGGER.parse
    outputs = [_parse(parse, text) for text in distinct]
    distinct_counts = np.fromiter(
        (out.count("\n") for out in outputs), dtype=np.int64, count=len(outputs)
    )
    table = _read_lines("".join(outputs))
    counts = distinct_counts[positions]
    if len(distinct) == len(texts):
        return counts.astype(np.int32), table
    starts = np.concatenate([[0], np.cumsum(distinct_counts)[:-1]])[positions]
    rows = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    rows += np.arange(len(rows), dtype=np.int64)
    return counts.astype(np.int32), table.take(pa.array(rows))


_DICTIONARY = pa.dictionary(pa.int32(), pa.string())


def _read_lines(lines: str) -> pa.Table:
    """Parse MeCab's tab-separated lines into dictionary-encoded columns (small to send between processes)."""
    if not lines:
        return pa.table({name: pa.array([], pa.string()).dictionary_encode() for name in COLUMNS})
    return pacsv.read_csv(
        io.BytesIO(lines.encode("utf-8")),
        read_options=pacsv.ReadOptions(
            column_names=list(COLUMNS), use_threads=False, block_size=1 << 26
        ),
        parse_options=pacsv.ParseOptions(
            delimiter="\t",
            quote_char=False,
            escape_char=False,
            newlines_in_values=False,
            ignore_empty_lines=False,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={name: _DICTIONARY for name in COLUMNS},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _chunks(texts: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(texts), size):
        yield texts[start : start + size]


def tokenize_texts(
    texts: Sequence[str],
    *,
    workers: int | None = None,
    progress: bool = True,
    chunk_size: int = 4000,
) -> tuple[np.ndarray, pa.Table]:
    """Tokenize ``texts``; return tokens per text and one Arrow table of all tokens in order."""
    texts = list(texts)
    workers = workers or available_cores()
    chunks = list(_chunks(texts, chunk_size))
    bar = _progress_bar(len(texts), progress)
    results = []
    if workers == 1 or len(chunks) <= 1:
        _init_worker()
        for chunk in chunks:
            results.append(_tokenize_chunk(chunk))
            bar.update(len(chunk))
    else:
        done = map_in_processes(
            _tokenize_chunk, chunks, workers, what="tokenizing", initializer=_init_worker
        )
        for chunk, result in zip(chunks, done):
            results.append(result)
            bar.update(len(chunk))
    bar.close()
    if not results:
        return np.zeros(0, np.int32), _read_lines("")
    counts = np.concatenate([counts for counts, _ in results])
    return counts, pa.concat_tables([table for _, table in results])


def _progress_bar(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="utt", desc="MeCab", disable=not enabled, mininterval=0.5)


def _finish_columns(table: pa.Table) -> pa.Table:
    """One dictionary per column, and lemmas without UniDic's hyphenated suffix. Work is done on the
    dictionaries (tens of thousands of strings), never per token."""
    table = table.unify_dictionaries()
    columns = {name: table[name].combine_chunks() for name in COLUMNS}
    lemma = columns["lemma"]
    if isinstance(lemma, pa.ChunkedArray):  # an empty table stays chunked
        lemma = pa.concat_arrays(lemma.chunks) if lemma.num_chunks else pa.array([], _DICTIONARY)
    stripped = pc.replace_substring_regex(
        lemma.dictionary, pattern=r"^(.+?)-.*$", replacement=r"\1"
    )
    values, inverse = np.unique(np.asarray(stripped.to_pylist(), dtype=object), return_inverse=True)
    indices = inverse.astype(np.int32)[lemma.indices.to_numpy(zero_copy_only=False)]
    columns["lemma"] = pa.DictionaryArray.from_arrays(
        pa.array(indices, pa.int32()), pa.array(values.tolist(), pa.string())
    )
    return pa.table(columns)


# --- the token table ---------------------------------------------------------------------------------


@dataclass
class Tokens:
    """MeCab tokens of a set of utterances.

    ``table`` has one row per token, in text order: ``utterance`` (the index label of the utterance in
    ``corpus.utterances``), ``dialogue_id`` (its session, to join on ``corpus.dialogues``; present when
    the utterances had one) and the categorical columns ``surface``, ``pos``, ``pos2``, ``lemma``.
    """

    table: pd.DataFrame

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
        mask = (
            table["pos"].isin(CONTENT_POS)
            & ~table["pos2"].isin(NON_CONTENT_POS2)
            & ~table["lemma"].isin(STOP_LEMMAS)
        )
        return mask.to_numpy(dtype=bool) & ~non_word_mask(table)

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


def tokenize_corpus(
    corpus, *, workers: int | None = None, cache: bool = True, progress: bool = True
) -> Tokens:
    """Tokens of every utterance of ``corpus``, from the cache when the texts and tokenizer are unchanged.

    The utterances are tokenized in parts of whole sessions (:func:`utterance_parts`), each cached
    under a SHA-256 of its texts and :func:`tokenizer_identity` (:func:`token_cache_key`), so a changed
    input or tokenizer never returns stale tokens, and a changed or skipped session re-tokenizes only
    its part. The assembled table is cached too, under the parts' keys and the utterance labels, so a
    warm call reads one file. Entries are verified when read (:mod:`kokoro_analysis.cache`). Files live
    in ``<cache>/tokens/``; an unusable cache folder is reported in one line and the tokens are
    computed without it. The table is the same, category order included, however it was assembled.
    """
    utterances = corpus.utterances if hasattr(corpus, "utterances") else corpus
    texts, bounds, entries = _plan(utterances, cache)
    whole = None
    if entries[0] is not None:
        labels = utterances.index.to_numpy(dtype=np.int64)
        key = cache_key("table", *(entry.key for entry in entries), labels.tobytes())
        whole = CacheEntry(entries[0].folder, "token table", TOKENS_FORMAT, key)
        found = read_entry(whole, {"utterances": len(labels)})
        if found is not None:
            return _with_dialogue_ids(found[0].to_pandas(), utterances)
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
        write_entry(whole, pa.Table.from_pandas(table), {"utterances": len(utterances)})
    return _with_dialogue_ids(table, utterances)


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
    for number, (part, _) in _tokenize_missing(texts, bounds, entries, missing, workers, progress):
        rows[number] = len(part)
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


def _tokenize_missing(texts, bounds, entries, missing, workers, progress):
    """(number, (part, raw category counts)) of each part in ``missing``, tokenized and cached."""
    if not missing:
        return
    jobs = [(texts[bounds[n][0] : bounds[n][1]].to_pylist(), entries[n]) for n in missing]
    yield from zip(missing, tokenize_parts(jobs, workers=workers, progress=progress))


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
    jobs: Sequence[tuple[list[str], CacheEntry | None]],
    *,
    workers: int | None = None,
    progress: bool = True,
) -> Iterable[tuple[pa.Table, dict[str, int]]]:
    """Tokenize each part's texts into a finished part table and its raw category counts
    (:func:`_finish_part`), written to its cache entry (when given) by the worker that made it; yields
    them in order."""
    workers = min(workers or available_cores(), len(jobs))
    bar = _progress_bar(sum(len(texts) for texts, _ in jobs), progress)
    if workers <= 1:
        _init_worker()
        done = map(_tokenize_part, jobs)
    else:
        done = map_in_processes(
            _tokenize_part, jobs, workers, what="tokenizing", initializer=_init_worker
        )
    for (texts, _), part in zip(jobs, done):
        bar.update(len(texts))
        yield part
    bar.close()


def _tokenize_part(job: tuple[list[str], CacheEntry | None]) -> tuple[pa.Table, dict[str, int]]:
    texts, entry = job
    part, raw_sizes = _finish_part(*_tokenize_chunk(texts))
    if entry is not None:
        write_entry(entry, part, {"utterances": len(texts), "raw categories": raw_sizes})
    return part, raw_sizes


def _finish_part(counts: np.ndarray, table: pa.Table) -> tuple[pa.Table, dict[str, int]]:
    """One part's tokens as stored: ``utterance`` = position of the utterance within the part, the text
    columns with lemmas stripped and compounds merged. Also, per column, how many categories MeCab's
    output had (the merge appends the compounds it adds after them), for :func:`_assemble`."""
    table = _finish_columns(table)
    raw_sizes = {name: len(_dictionary_array(table[name]).dictionary) for name in COLUMNS}
    owners = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
    frame = merge_compounds(table.add_column(0, "utterance", pa.array(owners)).to_pandas())
    return pa.Table.from_pandas(frame, preserve_index=False), raw_sizes


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
        arrays = [_dictionary_array(part[name]) for part in parts]
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


def _dictionary_array(column) -> pa.DictionaryArray:
    """One dictionary array with string (not large string) values."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], _DICTIONARY)
    if column.dictionary.type != pa.string():
        column = pa.DictionaryArray.from_arrays(column.indices, column.dictionary.cast(pa.string()))
    return column


def _unified_dictionary(dictionaries: list[pa.Array]) -> pa.Array:
    """The values of ``dictionaries`` in order of first appearance (Arrow's dictionary unification)."""
    empty = pa.array([], pa.int32())
    arrays = [pa.DictionaryArray.from_arrays(empty, d.cast(pa.string())) for d in dictionaries]
    if not arrays:
        return pa.array([], pa.string())
    unified = pa.table({"c": pa.chunked_array(arrays, _DICTIONARY)}).unify_dictionaries()["c"]
    return unified.chunk(0).dictionary


def _with_dialogue_ids(table: pd.DataFrame, utterances: pd.DataFrame) -> Tokens:
    """Add each token's ``dialogue_id`` (after ``utterance``) from ``utterances``. Not cached: the cache
    key covers the texts only."""
    if "dialogue_id" in utterances.columns:
        owners = table["utterance"].to_numpy()
        index = utterances.index
        if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
            rows = owners
        else:
            rows = index.get_indexer(owners)
        table.insert(1, "dialogue_id", utterances["dialogue_id"].to_numpy()[rows])
    return Tokens(table)
