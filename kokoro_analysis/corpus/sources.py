"""Finding the KokoroChat data and reading its raw records (JSON files or the Hugging Face Parquet export).

Resolution order: an explicit path, ``$KOKOROCHAT_DATA`` (a relative value is tried from the working
directory, then from the project root), ``data/KokoroChat`` in the project, then a shallow ``git clone``
of the upstream repository into ``data/KokoroChat``.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import xxhash

from kokoro_analysis.corpus.validation import DataNotFoundError, KokoroDataError, printable
from kokoro_analysis.paths import PROJECT_ROOT

UPSTREAM_URL = "https://github.com/UEC-InabaLab/KokoroChat"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data" / "KokoroChat"
DIALOGUES_FOLDER = "kokorochat_dialogues"

HOW_TO_PROVIDE = f"""\
Provide the KokoroChat data in one of these ways:
  * pass a path (Python: load_corpus("/path/to/KokoroChat"); CLI: --data PATH),
  * set KOKOROCHAT_DATA=/path/to/KokoroChat,
  * or clone it yourself: git clone --depth 1 {UPSTREAM_URL} {DEFAULT_DATA_DIR}
A clone of the repository, its {DIALOGUES_FOLDER}/ folder, or the Hugging Face Parquet export all work."""


@dataclass(frozen=True)
class DataSource:
    """Where the sessions are: ``kind`` is ``"json"`` (a folder of ``<id>.json``) or ``"parquet"``."""

    kind: str
    path: Path
    files: tuple[Path, ...]

    def fingerprint(self) -> str:
        """The identity of the data, the load cache's key: XXH3-128 over the kind and, for every file,
        its name and the XXH3-64 of its bytes. A content hash: any edit changes it, whatever the file's
        size and modification time (about 0.15 s for the 126 MB release, mostly reading the files)."""
        return self.key({self.label(file): file_digest(file) for file in self.files})

    def key(self, digests: dict[str, str]) -> str:
        """Combine per-file digests (:meth:`label` -> :func:`content_digest`) as :meth:`fingerprint` does."""
        combined = xxhash.xxh3_128(self.kind.encode())
        for file in self.files:
            label = self.label(file)
            line = f"{label}\0{digests.get(label, 'missing')}\n"
            combined.update(line.encode("utf-8", "surrogateescape"))  # names need not be UTF-8
        return combined.hexdigest()[:24]

    def label(self, file: Path) -> str:
        """``file`` relative to the data folder (its name for a folder of JSON files)."""
        if self.kind == "json" or file == self.path:
            return file.name
        return str(file.relative_to(self.path))


def content_digest(data: bytes) -> str:
    """XXH3-64 of a file's bytes (hex): the unit of :meth:`DataSource.fingerprint`."""
    return xxhash.xxh3_64_hexdigest(data)


def file_digest(file: Path) -> str:
    """:func:`content_digest` of ``file``, or a marker naming the error when it cannot be read (the
    reader reports that file; the marker keeps the fingerprint from raising)."""
    try:
        return content_digest(read_bytes(file))
    except OSError as error:
        return f"unreadable:{error.errno}"


class NotRegularFileError(OSError):
    """A path that is a FIFO, a device (``/dev/zero``), a socket or a folder: never read, as reading
    it could block or never end."""


def read_bytes(file: Path) -> bytes:
    """All bytes of ``file``, with as few system calls as possible (size, one read, end of file).
    Raises :class:`NotRegularFileError` for anything but a regular file (opened without blocking, so
    a FIFO cannot hang the reader)."""
    fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise NotRegularFileError(errno.EINVAL, _kind(status.st_mode), str(file))
        size = status.st_size
        chunks = []
        while chunk := os.read(fd, size + 1 if not chunks else 1 << 20):
            chunks.append(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


@dataclass
class RawRecord:
    """One session as read: ``file`` names it in messages, ``stem`` is the id its name implies."""

    file: str
    stem: str | None
    data: object


def is_session_name(name: str) -> bool:
    """A candidate session file: a name ending in ``.json`` in any letter case (``48.JSON`` counts)."""
    return len(name) >= 5 and name[-5:].lower() == ".json"


def _session_files(folder: Path) -> tuple[Path, ...]:
    """Every candidate session file of ``folder`` (:func:`is_session_name`), numeric stems first in
    numeric order (one directory scan). Dangling symlinks, symlink loops and folders with such a name
    are candidates too, so that reading counts and reports them."""
    with os.scandir(folder) as entries:
        names = [e.name for e in entries if is_session_name(e.name)]
    names.sort(key=lambda n: (not n[:-5].isdigit(), int(n[:-5]) if n[:-5].isdigit() else 0, n))
    return tuple(folder / name for name in names)


def source_from_path(path: str | os.PathLike) -> DataSource:
    """Interpret ``path``: a repository clone, its dialogues folder, a Parquet file or a folder of them."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataNotFoundError(f"KokoroChat data not found: {path} does not exist")
    if path.is_file():
        if path.suffix == ".parquet":
            return DataSource("parquet", path, (path,))
        raise DataNotFoundError(
            f"{path} is a file, not KokoroChat data (expected a folder or a .parquet file)."
        )
    if not path.is_dir():
        raise DataNotFoundError(
            f"KokoroChat data not found: {path} is neither a folder nor a file (a device, FIFO or "
            "socket); expected a folder or a .parquet file"
        )
    if (path / DIALOGUES_FOLDER).is_dir():
        path = path / DIALOGUES_FOLDER
    json_files = _session_files(path)
    if json_files:
        return DataSource("json", path.resolve(), json_files)
    parquet_files = tuple(sorted(path.rglob("*.parquet")))
    if parquet_files:
        return DataSource("parquet", path.resolve(), parquet_files)
    raise DataNotFoundError(
        f"{path} holds no KokoroChat sessions (no {DIALOGUES_FOLDER}/ folder, no *.json, no *.parquet).\n"
        f"{HOW_TO_PROVIDE}"
    )


def clone_upstream(
    target: Path = DEFAULT_DATA_DIR,
    *,
    url: str = UPSTREAM_URL,
    what: str = "KokoroChat data",
    how_to: str = HOW_TO_PROVIDE,
) -> Path:
    """Shallow-clone ``url`` (default: the KokoroChat repository) into ``target``; raise a readable
    error naming ``what`` and ``how_to`` when it fails."""
    if shutil.which("git") is None:
        raise DataNotFoundError(
            f"{what} not found, and git is not installed to fetch it.\n{how_to}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    print(f"{what} not found; cloning {url} into {target} ...", flush=True)
    result = subprocess.run(
        ["git", "clone", "--depth", "1", "--quiet", url, str(target)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        raise DataNotFoundError(
            f"{what} not found, and cloning {url} failed:\n  {result.stderr.strip()}\n{how_to}"
        )
    return target


def find_data(path: str | os.PathLike | None = None, *, clone: bool = True) -> DataSource:
    """Resolve the data location (see the module docstring for the order)."""
    if path is not None:
        return source_from_path(path)
    env = os.environ.get("KOKOROCHAT_DATA")
    if env:
        relative_to_project = PROJECT_ROOT / env
        if (
            not Path(env).expanduser().exists()
            and not Path(env).is_absolute()
            and relative_to_project.exists()
        ):
            env = str(
                relative_to_project
            )  # a path relative to the checkout, used from another folder
        try:
            return source_from_path(env)
        except DataNotFoundError as error:  # name the setting the wrong path came from
            raise DataNotFoundError(
                f"KOKOROCHAT_DATA={os.environ['KOKOROCHAT_DATA']} (set in the environment): {error}; "
                "correct it or unset it"
            ) from None
    if DEFAULT_DATA_DIR.exists():
        return source_from_path(DEFAULT_DATA_DIR)
    if not clone:
        raise DataNotFoundError(f"KokoroChat data not found.\n{HOW_TO_PROVIDE}")
    return source_from_path(clone_upstream())


def iter_records(source: DataSource, digests: dict[str, str] | None = None) -> Iterator[RawRecord]:
    """Yield every session as a :class:`RawRecord`; a file that cannot be read or parsed yields
    ``data=KokoroDataError`` saying why. ``digests``, when given, receives each file's
    :func:`content_digest` of the bytes actually read (so a cache can be keyed on what was parsed)."""
    digests = {} if digests is None else digests
    if source.kind == "json":
        yield from _iter_json(source, digests)
    else:
        yield from _iter_parquet(source, digests)


def _iter_json(source: DataSource, digests: dict[str, str]) -> Iterator[RawRecord]:
    for file in source.files:
        name = printable(str(file))  # a file name that is not UTF-8 is shown with \x escapes
        try:
            raw = read_bytes(file)
        except OSError as error:
            digests[file.name] = f"unreadable:{error.errno}"
            data = KokoroDataError(f"cannot be read ({read_error_reason(error)})")
            yield RawRecord(name, file.stem, data)
            continue
        digests[file.name] = content_digest(raw)
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            data = KokoroDataError(not_utf8_reason(raw) or f"not valid JSON ({error})")
        yield RawRecord(name, file.stem, data)


def _kind(mode: int) -> str:
    """What a path that is not a regular file is, in words."""
    kinds = {
        stat.S_ISFIFO: "a FIFO (named pipe)",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISSOCK: "a socket",
        stat.S_ISDIR: "a folder",
    }
    what = next((name for test, name in kinds.items() if test(mode)), "not a regular file")
    return f"{what}, not a regular file"


def read_error_reason(error: OSError) -> str:
    """Why a path cannot be read, in words (a dangling symlink, a loop, a folder, permissions)."""
    reasons = {
        errno.ENOENT: "it does not exist: a dangling symbolic link?",
        errno.ELOOP: "a symbolic link loop",
        errno.EISDIR: "it is a folder",
    }
    if isinstance(error, NotRegularFileError):
        return error.strerror
    return reasons.get(error.errno, error.strerror or str(error))


def not_utf8_reason(raw: bytes) -> str | None:
    """Why ``raw`` is not UTF-8 text, or None when it is (the release is UTF-8 without BOM)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "not UTF-8: the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8"
    if raw.startswith(b"\xef\xbb\xbf"):
        return "not UTF-8 without BOM: the file starts with a byte-order mark; save it without"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return (
            f"not UTF-8: byte 0x{raw[error.start]:02x} at offset {error.start} is not valid UTF-8 "
            "(Latin-1, Shift-JIS or UTF-16?); save the file as UTF-8"
        )
    return None


def _iter_parquet(source: DataSource, digests: dict[str, str]) -> Iterator[RawRecord]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    for file in source.files:
        try:
            raw = read_bytes(file)
            digests[source.label(file)] = content_digest(raw)
            rows = pq.read_table(pa.BufferReader(raw)).to_pylist()
        except Exception as error:  # pyarrow raises several types for a broken file
            raise KokoroDataError(f"{file}: cannot be read as Parquet ({error})") from None
        for number, row in enumerate(rows):
            yield RawRecord(f"{file}#row{number}", None, _session_from_parquet_row(row))


def _session_from_parquet_row(row: dict) -> dict:
    """The Hugging Face export stores ``dialogue`` as a struct of lists; turn it into a list of messages."""
    dialogue = row.get("dialogue")
    if isinstance(dialogue, dict) and all(isinstance(v, list) for v in dialogue.values()):
        keys = list(dialogue)
        row = dict(row)
        row["dialogue"] = [dict(zip(keys, values)) for values in zip(*dialogue.values())]
    return row
