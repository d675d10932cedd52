"""Project paths, resolved from the package so notebooks, papermill and pytest agree."""

from __future__ import annotations

import os
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


def cache_dir() -> Path:
    """The package's cache folder: ``$KOKORO_ANALYSIS_CACHE``, else ``$XDG_CACHE_HOME/kokoro-analysis``
    (``~/.cache/kokoro-analysis``). Never inside the data folder."""
    explicit = os.environ.get("KOKORO_ANALYSIS_CACHE")
    if explicit:
        path = Path(explicit).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(xdg).expanduser() / "kokoro-analysis"
    path.mkdir(parents=True, exist_ok=True)
    return path
