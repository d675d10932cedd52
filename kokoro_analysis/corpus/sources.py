"""Finding the KokoroChat data and reading its raw records (JSON files or the Hugging Face Parquet export).

Resolution order: an explicit path, ``$KOKOROCHAT_DATA`` (a relative value is tried from the working
directory, then from the project root), ``data/KokoroChat`` in the project, then a shallow ``git clone``
of the upstream repository into ``data/KokoroChat``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from kokoro_analysis.corpus.validation import DataNotFoundError, KokoroDataError
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
        """A cheap identity of the files (names, sizes, modification times), for the load cache."""
        digest = hashlib.sha256(self.kind.encode())
        stamps = []
        for file in self.files:
            stat = os.stat(file)
            stamps.append(f"{file.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n")
        digest.update("".join(stamps).encode())
        return digest.hexdigest()[:24]


@dataclass
class RawRecord:
    """One session as read: ``file`` names it in messages, ``stem`` is the id its name implies."""

    file: str
    stem: str | None
    data: object


def _session_files(folder: Path) -> tuple[Path, ...]:
    """The ``*.json`` files of ``folder``, numeric stems first in numeric order (one directory scan)."""
    with os.scandir(folder) as entries:
        names = [e.name for e in entries if e.name.endswith(".json") and e.is_file()]
    names.sort(key=lambda n: (not n[:-5].isdigit(), int(n[:-5]) if n[:-5].isdigit() else 0, n))
    return tuple(folder / name for name in names)


def source_from_path(path: str | os.PathLike) -> DataSource:
    """Interpret ``path``: a repository clone, its dialogues folder, a Parquet file or a folder of them."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataNotFoundError(
            f"KokoroChat data not found: {path} does not exist.\n{HOW_TO_PROVIDE}"
        )
    if path.is_file():
        if path.suffix == ".parquet":
            return DataSource("parquet", path, (path,))
        raise DataNotFoundError(
            f"{path} is a file, not KokoroChat data (expected a folder or a .parquet file)."
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
        return source_from_path(env)
    if DEFAULT_DATA_DIR.exists():
        return source_from_path(DEFAULT_DATA_DIR)
    if not clone:
        raise DataNotFoundError(f"KokoroChat data not found.\n{HOW_TO_PROVIDE}")
    return source_from_path(clone_upstream())


def iter_records(source: DataSource) -> Iterator[RawRecord]:
    """Yield every session as a :class:`RawRecord`; unreadable JSON yields ``data=KokoroDataError``."""
    if source.kind == "json":
        yield from _iter_json(source)
    else:
        yield from _iter_parquet(source)


def _iter_json(source: DataSource) -> Iterator[RawRecord]:
    for file in source.files:
        try:
            data = orjson.loads(file.read_bytes())
        except orjson.JSONDecodeError as error:
            data = KokoroDataError(f"not valid JSON ({error})")
        except OSError as error:
            data = KokoroDataError(f"cannot be read ({error.strerror})")
        yield RawRecord(str(file), file.stem, data)


def _iter_parquet(source: DataSource) -> Iterator[RawRecord]:
    import pyarrow.parquet as pq

    for file in source.files:
        try:
            rows = pq.read_table(file).to_pylist()
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
