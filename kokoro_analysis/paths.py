"""Project paths, resolved from the package so notebooks, papermill and pytest agree."""

from __future__ import annotations

import os
import sys
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


def write_atomically(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` whole or not at all: into a hidden
    temporary file beside it, then renamed over it, so a kill or a full disk never leaves a
    half-written file (the temporary file is removed on failure)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name[:64]}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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
