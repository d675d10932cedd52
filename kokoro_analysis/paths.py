"""Project paths, resolved from the package so notebooks, papermill and pytest agree."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
PACKAGE_DATA_DIR = PACKAGE_DIR / "data"


@dataclass(frozen=True)
class OutputDirs:
    """Where a notebook run writes: ``figures/``, ``tables/`` and ``reports/`` under one root."""

    root: Path

    @property
    def figures(self) -> Path:
        return self.root / "figures"

    @property
    def tables(self) -> Path:
        return self.root / "tables"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def create(self) -> OutputDirs:
        for folder in (self.figures, self.tables, self.reports):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def output_dirs(output_dir: str | os.PathLike | None = None) -> OutputDirs:
    """Output folders under ``output_dir`` (default: the project root), created if missing."""
    root = Path(output_dir).expanduser().resolve() if output_dir else PROJECT_ROOT
    return OutputDirs(root).create()


@contextmanager
def atomic_target(path: str | os.PathLike) -> Iterator[Path]:
    """A hidden temporary path beside ``path`` to write a file or build a folder into; on leaving the
    block it is renamed over ``path`` in one step, so a kill or a full disk never leaves a half-written
    result. On an exception the temporary is removed and ``path`` stays as it was. A folder replaces
    only a missing or empty folder at ``path`` (POSIX ``rename``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name[:64]}.{os.getpid()}.tmp")
    discard(temporary)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        discard(temporary)


def write_atomically(path: str | os.PathLike, content: str | bytes) -> Path:
    """Write ``content`` to ``path`` whole or not at all (see :func:`atomic_target`): text as UTF-8
    with ``\\n`` line ends, bytes as they are. Returns the path."""
    with atomic_target(path) as temporary:
        if isinstance(content, bytes):
            temporary.write_bytes(content)
        else:
            with open(temporary, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(content)
    return Path(path)


def discard(path: Path) -> None:
    """Remove a file, link or folder tree if present; never raises (what cannot be removed now is
    removed or replaced by the next writer), so it cannot hide the error that made it run."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


def cache_dir() -> Path:
    """The package's cache folder: ``$KOKORO_ANALYSIS_CACHE``, else ``$XDG_CACHE_HOME/kokoro-analysis``
    (``~/.cache/kokoro-analysis``). Never inside the data folder. Not created here: see
    :func:`usable_cache_dir`."""
    explicit = os.environ.get("KOKORO_ANALYSIS_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg).expanduser() / "kokoro-analysis"


_REPORTED_UNUSABLE: set[Path] = set()


def usable_cache_dir(subfolder: str) -> Path | None:
    """``cache_dir() / subfolder``, created and checked writable; None when it cannot be used (a path
    under a file, no permission, read-only disk). Then one line on stderr says which folder and why
    (once per folder and process), and the caller runs without the cache."""
    path = cache_dir() / subfolder
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as error:
        report_unusable_cache(path, error)
        return None
    return path


def report_unusable_cache(path: Path, error: OSError) -> None:
    """Say once, in one line, that the cache folder ``path`` cannot be used and why."""
    if path in _REPORTED_UNUSABLE:
        return
    _REPORTED_UNUSABLE.add(path)
    reason = error.strerror or str(error)
    print(
        f"kokoro_analysis: cache folder {path} is not usable ({reason}); running without the cache "
        "(set KOKORO_ANALYSIS_CACHE to a writable folder)",
        file=sys.stderr,
        flush=True,
    )
