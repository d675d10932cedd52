"""Writing an export folder safely: atomically, never over a user's files, never into the data.

An export is written into a temporary folder beside the target and then moved into place, so a kill
at any moment leaves either the earlier export or the new one, never a mix or a file cut short. The
``manifest.json`` written last identifies our exports (format line, SHA-256 and size of every file):

* a new or empty folder, or one holding an unchanged export of ours, is written without asking;
* a folder holding other files, or an export whose files were changed since, is refused unless
  ``force``; then only our file names are replaced (the manifest removed first and written last) and
  no other file is touched;
* a folder inside the data folder is always refused (a ``manifest.json`` among the sessions would
  break every later load).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kokoro_analysis.workers import process_running

MANIFEST = "manifest.json"
FORMAT = "kokoro-analysis SFT export, version 1"
"""The manifest's ``format`` line: what marks a folder as an export of ours."""
STAGING_MARK = ".kokoro-export-"


class ExportFolderError(ValueError):
    """The output folder cannot be used; the message says why and what to do."""


def verify_manifest(folder: Path) -> tuple[dict | None, list[str]]:
    """The export manifest of ``folder`` (None when there is none of ours) and the problems found
    checking every listed file against it (missing, other size, other SHA-256)."""
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, []
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return None, []
    problems = []
    for name, entry in (manifest.get("files") or {}).items():
        file = folder / name
        if not file.is_file():
            problems.append(f"{file}: listed in {MANIFEST} but missing")
        elif file.stat().st_size != entry.get("bytes") or _sha256(file) != entry.get("sha256"):
            problems.append(
                f"{file}: changed since the export (size or SHA-256 differs from {MANIFEST})"
            )
    return manifest, problems


def holds_export(folder: Path) -> bool:
    """Whether ``folder`` has a manifest of ours (not whether its files still match it)."""
    return verify_manifest(folder)[0] is not None if (folder / MANIFEST).is_file() else False


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_output_folder(
    out: Path, names: Iterable[str], *, data_folders: Iterable[Path] = (), force: bool = False
) -> str:
    """Whether ``out`` may receive an export of the files ``names`` (manifest included): returns
    ``"new"``, ``"empty"``, ``"ours"`` (an unchanged export of ours and nothing else) or ``"shared"``
    (other files present: only ours are replaced); raises :class:`ExportFolderError` otherwise."""
    out = out.absolute()
    for data in data_folders:
        data = data.resolve()
        if out.resolve() == data or data in out.resolve().parents:
            raise ExportFolderError(
                f"{out} is inside the data folder {data}; choose an output folder outside the data "
                "(files written among the sessions would break every later load)"
            )
    blocker = next((p for p in [out, *out.parents] if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        what = "is a file" if blocker == out else f"cannot be created: {blocker} is a file"
        raise ExportFolderError(f"{out} {what}, not a folder; choose a folder for the export")
    if not out.exists():
        return "new"
    present = sorted(entry.name for entry in os.scandir(out))
    if not present:
        return "empty"
    manifest, problems = verify_manifest(out)
    if manifest is not None and not problems:
        return "ours" if set(present) <= set(names) else "shared"
    if force:
        return "shared"
    if manifest is not None:
        raise ExportFolderError(
            "refusing to replace an export whose files were changed since:\n  "
            + "\n  ".join(problems)
            + "\nUse --force (force=True) to replace them."
        )
    colliding = [name for name in present if name in set(names)]
    raise ExportFolderError(
        f"{out} is not empty and holds no export of ours (no {MANIFEST} written by kokoro-analysis)"
        + (f"; it has files of the same names: {', '.join(colliding)}" if colliding else "")
        + ". Choose a new or empty folder, or use --force (force=True) to write the export files "
        "into it (other files are never touched)."
    )


@contextmanager
def staging_folder(out: Path) -> Iterator[Path]:
    """A new temporary folder beside ``out`` (same file system, so moving it is a rename), removed
    when the block fails. Leftovers of killed runs (their process gone) are removed first."""
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(out)
    tmp = out.parent / f".{out.name}{STAGING_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _remove_stale_staging(out: Path) -> None:
    prefix = f".{out.name}{STAGING_MARK}"
    for entry in out.parent.glob(f"{prefix}*"):
        pid = entry.name[len(prefix) :].split("-")[0]
        if pid.isdigit() and not process_running(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def install(tmp: Path, out: Path, state: str, names: Iterable[str]) -> None:
    """Move the finished export in ``tmp`` to ``out`` (``state`` from :func:`check_output_folder`):
    one rename for a new or empty folder, an atomic exchange for a folder holding only our earlier
    export, else file by file with the manifest removed first and written last."""
    out = out.absolute()
    if state in ("new", "empty"):
        try:
            os.rename(tmp, out)  # replaces an empty folder atomically on POSIX
            return
        except OSError:
            pass  # a file appeared meanwhile: fall back to file by file
    if state == "ours" and _exchange(tmp, out):
        return  # tmp now holds the earlier export and is removed by staging_folder
    out.mkdir(exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)
    for name in names:
        if name != MANIFEST:
            os.replace(tmp / name, out / name)
    os.replace(tmp / MANIFEST, out / MANIFEST)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where unavailable."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0
