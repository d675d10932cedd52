"""Japanese tokenization with MeCab (through fugashi) and the unidic-lite dictionary: texts to token columns.

The token table and content words are in :mod:`kokoro_analysis.text.tokens`; the corpus's tokens, in
parts cached as Parquet, in :mod:`kokoro_analysis.text.token_cache`.

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
import os
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from kokoro_analysis.text.compounds import COMPOUNDS, isolate_all, merge_compounds
from kokoro_analysis.workers import available_cores, map_in_processes

TOKENS_FORMAT = 5
"""Bump when the token table layout changes, so old caches are not read."""

COLUMNS = ("pos", "pos2", "lemma", "base", "surface")
"""Fields of MeCab's per-token line, surface last: it is never empty, and fugashi strips trailing
whitespace, which would drop an empty last field (UniDic has no base form for some symbols)."""
NODE_FORMAT = r"%f[0]\t%f[1]\t%f[7]\t%f[10]\t%m\n"
UNKNOWN_FORMAT = r"%f[0]\t%f[1]\t%m\t%m\t%m\n"


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


def init_worker() -> None:
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


def tokenize_chunk(texts: Sequence[str]) -> tuple[np.ndarray, pa.Table]:
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


DICTIONARY_TYPE = pa.dictionary(pa.int32(), pa.string())


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
            column_types={name: DICTIONARY_TYPE for name in COLUMNS},
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
    bar = progress_bar(len(texts), progress)
    results = []
    if workers == 1 or len(chunks) <= 1:
        init_worker()
        for chunk in chunks:
            results.append(tokenize_chunk(chunk))
            bar.update(len(chunk))
    else:
        done = map_in_processes(
            tokenize_chunk, chunks, workers, what="tokenizing", initializer=init_worker
        )
        for chunk, result in zip(chunks, done):
            results.append(result)
            bar.update(len(chunk))
    bar.close()
    if not results:
        return np.zeros(0, np.int32), _read_lines("")
    counts = np.concatenate([counts for counts, _ in results])
    return counts, pa.concat_tables([table for _, table in results])


def progress_bar(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="utt", desc="MeCab", disable=not enabled, mininterval=0.5)


def _finish_columns(table: pa.Table) -> pa.Table:
    """One dictionary per column, and lemmas without UniDic's hyphenated suffix. Work is done on the
    dictionaries (tens of thousands of strings), never per token."""
    table = table.unify_dictionaries()
    columns = {name: table[name].combine_chunks() for name in COLUMNS}
    lemma = columns["lemma"]
    if isinstance(lemma, pa.ChunkedArray):  # an empty table stays chunked
        lemma = (
            pa.concat_arrays(lemma.chunks) if lemma.num_chunks else pa.array([], DICTIONARY_TYPE)
        )
    stripped = pc.replace_substring_regex(
        lemma.dictionary, pattern=r"^(.+?)-.*$", replacement=r"\1"
    )
    values, inverse = np.unique(np.asarray(stripped.to_pylist(), dtype=object), return_inverse=True)
    indices = inverse.astype(np.int32)[lemma.indices.to_numpy(zero_copy_only=False)]
    columns["lemma"] = pa.DictionaryArray.from_arrays(
        pa.array(indices, pa.int32()), pa.array(values.tolist(), pa.string())
    )
    return pa.table(columns)


def finish_part(counts: np.ndarray, table: pa.Table) -> tuple[pa.Table, dict[str, int]]:
    """One part's tokens as stored: ``utterance`` = position of the utterance within the part, the text
    columns with lemmas stripped and compounds merged. Also, per column, how many categories MeCab's
    output had (the merge appends the compounds it adds after them), for :func:`_assemble`."""
    table = _finish_columns(table)
    raw_sizes = {name: len(dictionary_array(table[name]).dictionary) for name in COLUMNS}
    owners = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
    frame = merge_compounds(table.add_column(0, "utterance", pa.array(owners)).to_pandas())
    return pa.Table.from_pandas(frame, preserve_index=False), raw_sizes


def dictionary_array(column) -> pa.DictionaryArray:
    """One dictionary array with string (not large string) values."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], DICTIONARY_TYPE)
    if column.dictionary.type != pa.string():
        column = pa.DictionaryArray.from_arrays(column.indices, column.dictionary.cast(pa.string()))
    return column
