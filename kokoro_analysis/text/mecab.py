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
format so our ``--node-format`` is used), and the lines are split and dictionary-encoded by Arrow, each
distinct line split into its fields once: no Python object is made per token. MeCab is called through
the C API of the libmecab fugashi ships (:class:`LibraryParser`, ctypes), UTF-8 bytes in and out;
through fugashi itself when that library cannot be loaded, with the same lines. Work is split over
processes (one MeCab per process; taggers cannot be pickled).
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import re
import shlex
import weakref
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kokoro_analysis.text.compounds import COMPOUNDS, isolate_compounds, merge_compound_columns
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


def _mecab_library_path() -> str | None:
    """The libmecab shipped in fugashi's wheel (``fugashi.libs/`` on Linux and Windows, ``.dylibs/`` on
    macOS, or beside the module); None when fugashi was built against a MeCab of the system."""
    import fugashi

    package = Path(fugashi.__file__).resolve().parent
    for folder in (package.parent / "fugashi.libs", package / ".dylibs", package):
        found = sorted(folder.glob("libmecab*"))
        if found:
            return str(found[0])
    return None


@lru_cache(maxsize=1)
def mecab_library() -> ctypes.CDLL | None:
    """The libmecab fugashi uses, loaded through ctypes with the C API's types declared; None when it
    cannot be found or loaded (the system's ``libmecab.so.2`` is tried when fugashi ships none)."""
    try:
        library = ctypes.CDLL(_mecab_library_path() or "libmecab.so.2")
        library.mecab_version.restype = ctypes.c_char_p
        library.mecab_new.restype = ctypes.c_void_p
        library.mecab_new.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
        library.mecab_strerror.restype = ctypes.c_char_p
        library.mecab_strerror.argtypes = [ctypes.c_void_p]
        library.mecab_sparse_tostr2.restype = ctypes.c_char_p
        library.mecab_sparse_tostr2.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        library.mecab_destroy.argtypes = [ctypes.c_void_p]
    except (OSError, AttributeError):
        return None
    return library


def _mecab_library_version() -> str:
    library = mecab_library()
    return library.mecab_version().decode() if library is not None else "unknown"


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


class LibraryParser:
    """MeCab with our options, called through libmecab's C API (``mecab_sparse_tostr2``, ctypes): UTF-8
    in, MeCab's UTF-8 lines out, each ending in a newline (``b""`` for a text without tokens). The
    same library and options as fugashi, so the same lines; it skips fugashi's decoding of MeCab's
    output to ``str`` and our encoding of it again for Arrow."""

    def __init__(self, library: ctypes.CDLL, arguments: str) -> None:
        self._library = library
        argv = [b"mecab", *(argument.encode() for argument in shlex.split(arguments))]  # as fugashi
        self._handle = library.mecab_new(len(argv), (ctypes.c_char_p * len(argv))(*argv))
        if not self._handle:
            reason = (library.mecab_strerror(None) or b"").decode(errors="replace")
            raise RuntimeError(f"MeCab could not start with {arguments}: {reason}")
        weakref.finalize(self, library.mecab_destroy, self._handle)

    def __call__(self, text: bytes) -> bytes:
        output = self._library.mecab_sparse_tostr2(self._handle, text, len(text))
        if output is None:
            reason = (self._library.mecab_strerror(self._handle) or b"").decode(errors="replace")
            raise RuntimeError(f"MeCab failed on a text of {len(text)} bytes: {reason}")
        return output


def fugashi_parser(tagger=None) -> Callable[[bytes], bytes]:
    """:class:`LibraryParser`'s contract through fugashi (``tagger``, default :func:`make_tagger`):
    for a MeCab that ctypes cannot load. fugashi strips the final newline; it is put back."""
    tagger = tagger or make_tagger()

    def parse(text: bytes) -> bytes:
        output = tagger.parse(text.decode())
        return (output + "\n").encode() if output else b""

    return parse


def make_parser() -> Callable[[bytes], bytes]:
    """The fastest MeCab parser available: :class:`LibraryParser`, else :func:`fugashi_parser`."""
    library = mecab_library()
    if library is None:
        return fugashi_parser()
    return LibraryParser(library, tagger_arguments())


# --- tokenizing -----------------------------------------------------------------------------------

_PARSE = None
"""This (worker) process's :func:`make_parser`."""


def init_worker() -> None:
    global _PARSE
    _PARSE = make_parser()


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


_SEPARATORS_BUT_NUL = re.compile("[" + "".join(map(chr, _SEPARATOR_CODES[1:])) + "]")


def prepare_texts(texts: Sequence[str]) -> list[str]:
    """Each text as MeCab is given it: compounds isolated (:func:`isolate_compounds`), whitespace and
    control characters as ASCII spaces. One pass of each regular expression over the texts joined by
    NUL; per text when a text holds a NUL itself."""
    joined = "\x00".join(texts)
    if not texts or joined.count("\x00") != len(texts) - 1:
        return [isolate_compounds(text).translate(SEPARATORS) for text in texts]
    return isolate_compounds(_SEPARATORS_BUT_NUL.sub(" ", joined)).split("\x00")


def _parse_all(parse: Callable[[bytes], bytes], texts: list[str]) -> list[bytes]:
    """MeCab's lines for each prepared text (UTF-8, each line ending in a newline; ``b""`` for a text
    without tokens); a text longer than :data:`MAX_PARSE_CHARS` is parsed in pieces
    (:func:`split_long_text`)."""
    if max(map(len, texts), default=0) <= MAX_PARSE_CHARS:
        return [parse(text.encode()) for text in texts]
    return [
        b"".join(parse(piece.encode()) for piece in split_long_text(text))
        if len(text) > MAX_PARSE_CHARS
        else parse(text.encode())
        for text in texts
    ]


def tokenize_chunk(texts: Sequence[str]) -> tuple[np.ndarray, pa.Table]:
    """Tokenize one chunk in a worker: tokens per text and a table of the tokens' columns.

    MeCab parses each distinct text once (a fifth of the messages repeat one said before: はい,
    よろしくお願いします); repeats get copies of its rows. The columns' values appear in the same order
    as when every text is parsed, since a repeated text adds no value not seen before."""
    distinct: dict[str, int] = {}
    positions = np.fromiter(
        (distinct.setdefault(text, len(distinct)) for text in prepare_texts(texts)),
        dtype=np.int64,
        count=len(texts),
    )
    distinct_counts, line_ids, lines = _read_outputs(_parse_all(_PARSE, list(distinct)))
    counts = distinct_counts[positions]
    if len(distinct) < len(texts):
        starts = np.concatenate([[0], np.cumsum(distinct_counts)[:-1]])[positions]
        rows = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        rows += np.arange(len(rows), dtype=np.int64)
        line_ids = line_ids[rows]
    return counts.astype(np.int32), _line_columns(line_ids, lines)


DICTIONARY_TYPE = pa.dictionary(pa.int32(), pa.string())


def _read_outputs(outputs: list[bytes]) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """MeCab's outputs (one per text, each line ending in a newline) as tokens per output, each token's
    line as a position in the distinct lines, and the distinct lines (strings) in order of first
    appearance. Each distinct line is checked as UTF-8 and split into fields once
    (:func:`_line_columns`), never each token's."""
    pieces = pc.split_pattern(pa.array(outputs, pa.binary()), "\n")
    offsets = pieces.offsets.to_numpy(zero_copy_only=False)
    keep = np.ones(offsets[-1], dtype=bool)
    keep[offsets[1:] - 1] = False  # each output's last piece: the nothing after its final newline
    encoded = pieces.flatten().filter(pa.array(keep)).dictionary_encode()
    return (
        np.diff(offsets) - 1,
        encoded.indices.to_numpy(zero_copy_only=False),
        encoded.dictionary.cast(pa.string()),
    )


def _line_columns(line_ids: np.ndarray, lines: pa.Array) -> pa.Table:
    """Dictionary-encoded :data:`COLUMNS` of the tokens whose lines are ``lines[line_ids]``: each
    column's values in order of first appearance among the tokens (small to send between processes)."""
    fields = pc.split_pattern(lines, "\t")
    widths = pc.list_value_length(fields).to_numpy(zero_copy_only=False)
    if (widths != len(COLUMNS)).any():
        line = lines[int(np.flatnonzero(widths != len(COLUMNS))[0])].as_py()
        raise ValueError(
            f"MeCab wrote a line without {len(COLUMNS)} tab-separated fields: {line!r}"
        )
    values = fields.flatten()
    columns = {}
    for number, name in enumerate(COLUMNS):
        column = values.take(np.arange(number, len(values), len(COLUMNS))).dictionary_encode()
        codes = column.indices.to_numpy(zero_copy_only=False)[line_ids]
        columns[name] = pa.DictionaryArray.from_arrays(
            pa.array(codes, pa.int32()), column.dictionary
        )
    return pa.table(columns)


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
        return np.zeros(0, np.int32), _line_columns(
            np.zeros(0, np.int32), pa.array([], pa.string())
        )
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
    values = pc.unique(stripped)
    values = values.take(pc.sort_indices(values))  # code point order: UTF-8 bytes sort alike
    inverse = pc.index_in(stripped, value_set=values).to_numpy(zero_copy_only=False)
    indices = inverse.astype(np.int32)[lemma.indices.to_numpy(zero_copy_only=False)]
    columns["lemma"] = pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), values)
    return pa.table(columns)


def finish_part(counts: np.ndarray, table: pa.Table) -> tuple[pa.Table, dict[str, int]]:
    """One part's tokens as stored: ``utterance`` = position of the utterance within the part, the text
    columns with lemmas stripped and compounds merged. Also, per column, how many categories MeCab's
    output had (the merge appends the compounds it adds after them), for :func:`_assemble`."""
    table = _finish_columns(table)
    raw_sizes = {name: len(dictionary_array(table[name]).dictionary) for name in COLUMNS}
    owners = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
    owners, columns = merge_compound_columns(
        owners, {name: dictionary_array(table[name]) for name in COLUMNS}
    )
    return pa.table({"utterance": owners, **columns}), raw_sizes


def dictionary_array(column) -> pa.DictionaryArray:
    """One dictionary array with string (not large string) values."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], DICTIONARY_TYPE)
    if column.dictionary.type != pa.string():
        column = pa.DictionaryArray.from_arrays(column.indices, column.dictionary.cast(pa.string()))
    return column
