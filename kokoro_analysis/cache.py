"""Cache entries that cannot lie: a key, a format version and a verified write, shared by the caches
(the corpus tables, the aligned translations, the MeCab tokens, :func:`cached_frame` results).

An entry is one Parquet file ``<folder>/<key>.parquet`` whose footer metadata names what it holds
(``kind``, format ``version``, ``key``, and whatever the cache adds, e.g. row counts), and whose data
pages carry CRC checksums; or, for a large table read on every run (the assembled token table), one
uncompressed Arrow IPC file ``<folder>/<key>.arrow`` followed by a trailer holding the same metadata
and a SHA-256 of the IPC bytes (:func:`write_mapped_entry`): it is read memory-mapped, without
decoding, and verified by that digest. Reading verifies all of it, so a file of other inputs put under the key, a
file whose metadata was removed, a damaged or truncated file or a folder in its place is never served:
it is removed and :func:`read_entry` returns None, and the caller computes and writes the entry again.
Writing goes through :func:`kokoro_analysis.paths.atomic_target` (a temporary file named with the
writer's process id, renamed into place), so a reader never sees half a file; temporary files left by
killed writers (their process is gone) are removed by the next write in that folder.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kokoro_analysis.paths import (
    PACKAGE_DIR,
    atomic_target,
    discard,
    report_unusable_cache,
    usable_cache_dir,
)
from kokoro_analysis.workers import process_running

METADATA_KEY = b"kokoro_analysis.cache"
TEMPORARY_NAME = re.compile(r"\..+\.(\d+)\.tmp")
"""The name :func:`kokoro_analysis.paths.atomic_target` gives a temporary (``.<name>.<pid>.tmp``)."""


def cache_key(*parts: bytes | str) -> str:
    """A 32-hex-digit SHA-256 of ``parts`` (each length-prefixed, so parts cannot run together)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else bytes(part)
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()[:32]


@dataclass(frozen=True)
class CacheEntry:
    """One cache file: ``folder/<key>.parquet`` holding a table of ``kind`` in format ``version``."""

    folder: Path
    kind: str
    version: int
    key: str
    suffix: str = ".parquet"
    """``.parquet``, or ``.arrow`` for :func:`write_mapped_entry`'s layout."""

    @property
    def path(self) -> Path:
        return self.folder / f"{self.key}{self.suffix}"

    def identity(self) -> dict:
        return {"kind": self.kind, "version": self.version, "key": self.key}


def read_entry(entry: CacheEntry, expected: dict | None = None):
    """The entry's Arrow table and its metadata, or None when it is missing or does not verify (kind,
    version, key and every item of ``expected`` must match what the file says; then the file, or a
    folder in its place, is removed so that it is written again)."""
    import pyarrow.parquet as pq

    return _verified(
        entry, expected, lambda path: pq.ParquetFile(path, page_checksum_verification=True).read()
    )


def check_entry(entry: CacheEntry, expected: dict | None = None) -> dict | None:
    """As :func:`read_entry`, from the file's footer only (its data is not read): the metadata, with
    the table's row count under ``"rows"``, or None."""
    import pyarrow.parquet as pq

    def footer(path: Path):
        metadata = pq.read_metadata(path)
        return metadata.num_rows, metadata.metadata

    found = _verified(entry, expected, footer)
    return {**found[1], "rows": found[0][0]} if found else None


TRAILER_MAGIC = b"KOKOROC1"
"""The last 8 bytes of a mapped entry: ``<IPC file><metadata JSON><its length, 8 bytes LE><magic>``."""


def read_mapped_entry(entry: CacheEntry, expected: dict | None = None):
    """As :func:`read_entry` for an entry written by :func:`write_mapped_entry`: the table's columns
    are views of the memory-mapped file (no copy, no decoding), after the IPC bytes' SHA-256 matched
    the one in the trailer."""
    return _verified(entry, expected, _read_mapped)


def _read_mapped(path: Path):
    import pyarrow as pa

    with pa.memory_map(str(path)) as source:
        whole = source.read_buffer()
    if whole.size < 16 or whole[-8:].to_pybytes() != TRAILER_MAGIC:
        raise ValueError("no trailer")
    length = int.from_bytes(whole[-16:-8].to_pybytes(), "little")
    end = whole.size - 16 - length
    if end < 0:
        raise ValueError("trailer longer than the file")
    stored = json.loads(whole[end : end + length].to_pybytes())
    if hashlib.sha256(memoryview(whole)[:end]).hexdigest() != stored.get("sha256"):
        raise ValueError("checksum")
    table = pa.ipc.open_file(whole.slice(0, end)).read_all()
    return table.replace_schema_metadata(
        {**(table.schema.metadata or {}), METADATA_KEY: json.dumps(stored).encode()}
    )


def write_mapped_entry(entry: CacheEntry, table, extra: dict | None = None) -> bool:
    """Write ``table`` as an uncompressed Arrow IPC file followed by a trailer (its identity,
    ``extra`` and the SHA-256 of the IPC bytes), atomically, for :func:`read_mapped_entry`. Failures
    as :func:`write_entry`."""
    import pyarrow as pa

    remove_stale_temporaries(entry.folder)
    try:
        if entry.path.is_dir() and not entry.path.is_symlink():
            discard(entry.path)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        data = sink.getvalue()
        stored = {**entry.identity(), **(extra or {}), "sha256": hashlib.sha256(data).hexdigest()}
        trailer = json.dumps(stored).encode()
        with atomic_target(entry.path) as temporary, open(temporary, "wb") as file:
            file.write(data)
            file.write(trailer + len(trailer).to_bytes(8, "little") + TRAILER_MAGIC)
    except OSError as error:
        report_unusable_cache(entry.folder, error)
        return False
    return True


def _verified(entry: CacheEntry, expected: dict | None, read):
    path = entry.path
    if not path.is_file():
        if path.exists() or path.is_symlink():
            discard(path)
        return None
    try:
        content = read(path)
        metadata = content.schema.metadata if hasattr(content, "schema") else content[1]
        stored = json.loads((metadata or {})[METADATA_KEY])
    except Exception:  # damaged, truncated, no metadata, not ours: rebuilt
        stored = None
    wanted = {**entry.identity(), **(expected or {})}
    if not isinstance(stored, dict) or any(stored.get(k) != v for k, v in wanted.items()):
        discard(path)
        return None
    if hasattr(content, "schema"):  # the table's own metadata (pandas') is kept
        kept = {k: v for k, v in content.schema.metadata.items() if k != METADATA_KEY}
        content = content.replace_schema_metadata(kept or None)
    return content, stored


def write_entry(
    entry: CacheEntry, table, extra: dict | None = None, *, compression: str = "zstd"
) -> bool:
    """Write ``table`` as the entry, with its identity and ``extra`` in the footer, atomically (a
    temporary file renamed into place). ``compression``: Parquet's (``"none"`` writes and reads
    fastest, for entries written on a first run's critical path). A failure (disk full, folder gone)
    is reported once, not raised; returns whether the entry was written."""
    import pyarrow.parquet as pq

    metadata = json.dumps({**entry.identity(), **(extra or {})}).encode()
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), METADATA_KEY: metadata})
    remove_stale_temporaries(entry.folder)
    try:
        if entry.path.is_dir() and not entry.path.is_symlink():
            discard(entry.path)
        with atomic_target(entry.path) as temporary:
            pq.write_table(
                table,
                temporary,
                compression=compression,
                write_statistics=False,
                write_page_checksum=True,
            )
    except OSError as error:
        report_unusable_cache(entry.folder, error)
        return False
    return True


def texts_digest(texts) -> bytes:
    """SHA-256 of a sequence of strings (a pandas or Arrow string column, a list), from their Arrow
    buffers: offsets rebased to 0, then the UTF-8 bytes, so no Python string is made. Missing values
    are refused."""
    import numpy as np

    texts = large_string_array(texts)
    _, offsets_buffer, data = texts.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[
        texts.offset : texts.offset + len(texts) + 1
    ]
    digest = hashlib.sha256((offsets - offsets[0]).tobytes())
    if data is not None:
        digest.update(memoryview(data)[offsets[0] : offsets[-1]])
    return digest.digest()


def value_digest(*values) -> bytes | None:
    """SHA-256 of ``values`` pickled (every attribute of a frame, array or dataclass, not only its
    repr), for keys of results computed from them; None when one of them cannot be pickled (a lambda,
    an open file): such a result is not cached. A value whose pickle varies between processes (a set of
    strings) only makes a key miss, never hit the wrong entry."""
    import pickle

    try:
        return hashlib.sha256(pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL)).digest()
    except (pickle.PicklingError, TypeError, AttributeError):
        return None


def large_string_array(texts):
    """``texts`` (pandas or Arrow strings, a list) as one Arrow large-string array; missing values are
    refused."""
    import pyarrow as pa

    if isinstance(texts, pa.LargeStringArray):
        array = texts
    else:
        try:
            array = pa.array(texts)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            array = pa.array(list(texts), pa.large_string())
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks() if array.num_chunks else pa.array([], pa.large_string())
    if array.null_count:
        raise ValueError("texts must not contain missing values")
    return array.cast(pa.large_string())


def cached_frame(kind: str, version: int, key_parts, compute):
    """``compute()`` (a pandas DataFrame), kept in ``<cache>/<kind>/`` under a key of ``version``,
    ``key_parts`` (bytes or strings: digests of the inputs, the parameters), the package's code
    (:func:`code_digest`) and the installed libraries (:func:`environment_identity`): a warm call reads it back (index and dtypes as pandas stores them in
    Parquet). Without a usable cache folder it is computed. For results that are slow to compute and
    the same on every run of the same data."""
    import pyarrow as pa

    return _cached(kind, version, key_parts, compute, pa.Table.from_pandas, lambda t: t.to_pandas())


def cached_value(kind: str, version: int, key_parts, compute):
    """Like :func:`cached_frame` for any picklable result (tuples of frames, dicts of lists): stored
    pickled, read back equal to what ``compute()`` returned. The cache folder is the user's own, so
    its pickles are trusted like the rest of it."""
    import pickle

    import pyarrow as pa

    def to_table(value):
        blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        return pa.table({"pickle": pa.array([blob], pa.large_binary())})

    def from_table(table):
        return pickle.loads(table.column("pickle")[0].as_py())

    return _cached(kind, version, key_parts, compute, to_table, from_table)


def _cached(kind: str, version: int, key_parts, compute, to_table, from_table):
    """The result of ``compute()`` from its entry under ``kind``, ``version``, ``key_parts`` and the
    code, else computed and written there (see :func:`cached_frame`)."""
    folder = usable_cache_dir(kind)
    key = (
        cache_key(kind, str(version), code_digest(), environment_identity(), *key_parts)
        if folder
        else None
    )
    entry = CacheEntry(folder, kind, version, key) if folder else None
    found = read_entry(entry) if entry else None
    if found is not None:
        return from_table(found[0])
    value = compute()
    if entry is not None:
        write_entry(entry, to_table(value))
    return value


@cache
def environment_identity() -> str:
    """Every installed distribution's name and version, sorted: part of every result's key (with
    :func:`code_digest`), so a result is never read back after a library it may depend on changed
    (MeCab's dictionary, JMdict's glosses, a numeric or drawing library). About 0.1 s, once a process."""
    import importlib.metadata

    installed = {f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()}
    return "\n".join(sorted(installed))


@cache
def code_digest() -> str:
    """SHA-256 of the package's source and data files (paths and bytes): part of every result's key,
    so a changed analysis never reads a result computed by the code before it."""
    digest = hashlib.sha256()
    files = sorted(p for p in PACKAGE_DIR.rglob("*") if p.suffix in {".py", ".csv"} and p.is_file())
    for path in files:
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def remove_stale_temporaries(folder: Path) -> None:
    """Remove the temporary files in ``folder`` whose writing process no longer runs (killed writers)."""
    try:
        names = [p.name for p in folder.iterdir()]
    except OSError:
        return
    for name in names:
        match = TEMPORARY_NAME.fullmatch(name)
        if match and not process_running(int(match.group(1))):
            discard(folder / name)
