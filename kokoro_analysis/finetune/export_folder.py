"""Writing an export folder safely: atomically, never over a user's files, never into the data.

An export is written into a temporary folder beside the target and then moved into place. The target is
checked before writing and again at the moment of moving (the commit point), so files that appear in the
meantime are never overwritten:

* a new or empty folder becomes the export with one rename (a kill leaves nothing or the whole export);
* a folder holding only an unchanged export of ours is swapped with the new one in one atomic exchange;
* a folder holding other files too (or the same without the exchange) is written file by file under a
  journal, ``.kokoro-export-pending.json``, placed first and removed last. It lists for each of our file
  names the SHA-256 of the earlier export's version and of the new one, so a folder left by a kill at any
  moment is still recognised as ours and the next export completes it without ``--force``. The
  ``manifest.json`` is removed first and written last; a file name that was free at the commit point is
  created without replacing anything that appeared since.

``manifest.json`` identifies our exports (format line, SHA-256 and size of every file). A folder holding
other files, or an export whose files were changed since, is refused unless forced (then only our file
names are replaced, no other file is touched); a folder inside the data folder is always refused (a
``manifest.json`` among the sessions would break every later load); so is one of our file names taken by
a folder or another non-file.
"""

from __future__ import annotations

import ctypes
import glob
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
JOURNAL = ".kokoro-export-pending.json"
"""Present only while (or after a kill during) a file-by-file install: see the module docstring."""
FORMAT = "kokoro-analysis SFT export, version 1"
"""The manifest's ``format`` line: what marks a folder as an export of ours."""
STAGING_MARK = ".kokoro-export-"
_OPTION_HINT = "--force"


class ExportFolderError(ValueError):
    """The output folder cannot be used; the message says why and what to do."""


def verify_manifest(folder: Path) -> tuple[dict | None, list[str]]:
    """The export manifest of ``folder`` (None when there is none of ours) and the problems found
    checking every listed file against it (missing, other size, other SHA-256, malformed entries)."""
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, []
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return None, []
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(isinstance(e, dict) for e in files.values()):
        return manifest, [
            f'{path}: field "files" is not a map of file names to their size and SHA-256'
        ]
    problems = []
    for name, entry in files.items():
        file = folder / name
        if not file.is_file():
            problems.append(f"{file}: listed in {MANIFEST} but missing")
        elif _entry(file) != (entry.get("bytes"), entry.get("sha256")):
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


def _entry(file: Path) -> tuple[int, str]:
    """(size in bytes, SHA-256) of a regular file."""
    return file.stat().st_size, _sha256(file)


def _read_journal(folder: Path) -> dict[str, list[list]] | None:
    """The journal of an interrupted install in ``folder``: each file name -> the accepted
    ``[bytes, sha256]`` pairs; None when there is none (or it is not ours)."""
    try:
        journal = json.loads((folder / JOURNAL).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(journal, dict) or journal.get("format") != FORMAT:
        return None
    accepted = journal.get("accepted")
    return accepted if isinstance(accepted, dict) else None


def _interrupted_problems(folder: Path, accepted: dict[str, list[list]]) -> list[str]:
    """Files of an interrupted install that are neither the earlier export's nor the new one's."""
    problems = []
    for name, pairs in accepted.items():
        file = folder / name
        if file.is_file() and list(_entry(file)) not in pairs:
            problems.append(f"{file}: changed since an interrupted export")
    return problems


def _non_files(out: Path, names: Iterable[str]) -> list[Path]:
    """Our file names in ``out`` taken by something that is not a regular file (a folder, a FIFO, a
    dangling link): no export may replace those."""
    return [
        out / name
        for name in names
        if (out / name).is_symlink() or (out / name).exists()
        if not (out / name).is_file()
    ]


def check_output_folder(
    out: Path, names: Iterable[str], *, data_folders: Iterable[Path] = (), force: bool = False
) -> str:
    """Whether ``out`` may receive an export of the files ``names`` (manifest included): returns
    ``"new"``, ``"empty"``, ``"ours"`` (an unchanged export of ours and nothing else) or ``"shared"``
    (other files present: only ours are replaced); raises :class:`ExportFolderError` otherwise."""
    out = out.absolute()
    names = list(names)
    for data in data_folders:
        data = data.resolve()
        if out.resolve() == data or data in out.resolve().parents:
            raise ExportFolderError(
                f"{out} is inside the data folder {data}; choose an output folder outside the data "
                "(files written among the sessions would break every later load)"
            )
    if out.is_symlink() and not out.exists():
        raise ExportFolderError(
            f"{out} is a link to {os.readlink(out)}, which does not exist; choose a folder for the "
            "export (or create the link's target)"
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
    taken = _non_files(out, names)
    if taken:
        raise ExportFolderError(
            f"{taken[0]} is not a file (a folder, link to nothing or device) but the export writes a "
            "file of that name; move it away or choose another folder (it is never replaced)"
        )
    ours = set(names) | {JOURNAL}
    journal = _read_journal(out)
    if journal is not None:
        problems = _interrupted_problems(out, journal)
        if not problems:
            return "ours" if set(present) <= ours else "shared"
    else:
        manifest, problems = verify_manifest(out)
        if manifest is not None and not problems:
            return "ours" if set(present) <= ours else "shared"
    if force:
        return "shared"
    if problems:
        raise ExportFolderError(
            "refusing to replace an export whose files were changed since:\n  "
            + "\n  ".join(problems)
            + f"\nUse {_OPTION_HINT} to replace them."
        )
    colliding = [name for name in present if name in set(names)]
    raise ExportFolderError(
        f"{out} is not empty and holds no export of ours (no {MANIFEST} written by kokoro-analysis)"
        + (f"; it has files of the same names: {', '.join(colliding)}" if colliding else "")
        + f". Choose a new or empty folder, or use {_OPTION_HINT} to write the export files "
        "into it (other files are never touched)."
    )


@contextmanager
def staging_folder(out: Path) -> Iterator[Path]:
    """A new temporary folder beside ``out`` (same file system, so moving it is a rename), removed
    when the block ends (after a successful install it holds nothing of value). Leftovers of killed
    runs (their process gone) are removed first."""
    out = out.absolute()
    tmp = out.parent / f"{_staging_prefix(out)}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_staging(out)
        tmp.mkdir()
    except OSError as error:
        raise ExportFolderError(
            f"{out}: cannot write there ({error.strerror or error}: the export is first written "
            f"into a temporary folder in {out.parent})"
        ) from None
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _staging_prefix(out: Path) -> str:
    """Hidden, and short enough that a long folder name still leaves room (names <= 255 bytes)."""
    return f".{out.name[:64]}{STAGING_MARK}"


def _remove_stale_staging(out: Path) -> None:
    prefix = _staging_prefix(out)
    for entry in out.parent.glob(f"{glob.escape(prefix)}*"):
        pid = entry.name[len(prefix) :].split("-")[0]
        if pid.isdigit() and not process_running(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def install(
    tmp: Path,
    out: Path,
    names: Iterable[str],
    *,
    data_folders: Iterable[Path] = (),
    force: bool = False,
) -> None:
    """Move the finished export in ``tmp`` (every file of ``names``, the manifest among them) to
    ``out``, checking ``out`` again first (:func:`check_output_folder`): one rename for a new or empty
    folder, an atomic exchange for a folder holding only our earlier export, else file by file under
    the journal (module docstring)."""
    out, names = out.absolute(), list(names)
    state = check_output_folder(out, names, data_folders=data_folders, force=force)
    if state in ("new", "empty"):
        try:
            os.rename(tmp, out)  # creates it, or replaces an empty folder, atomically (POSIX)
            return
        except OSError:  # something appeared meanwhile: check again
            state = check_output_folder(out, names, data_folders=data_folders, force=force)
    if state == "ours" and _exchange(tmp, out):
        _return_foreign_entries(tmp, out, names)
        return
    _install_file_by_file(tmp, out, names)


def _return_foreign_entries(old: Path, out: Path, names: list[str]) -> None:
    """After an exchange, move back into ``out`` whatever appeared in the old folder just before it."""
    for entry in os.scandir(old):
        if entry.name not in names and entry.name != JOURNAL:
            os.rename(entry.path, out / entry.name)


def _install_file_by_file(tmp: Path, out: Path, names: list[str]) -> None:
    out.mkdir(exist_ok=True)
    present = {name for name in names if (out / name).is_symlink() or (out / name).exists()}
    accepted = {name: [list(_entry(tmp / name))] for name in names}
    earlier = _read_journal(out)
    if earlier is None:
        manifest, problems = verify_manifest(out)
        if manifest is not None and not problems:
            earlier = {n: [[e["bytes"], e["sha256"]]] for n, e in manifest["files"].items()}
            earlier[MANIFEST] = [list(_entry(out / MANIFEST))]
    for name, pairs in (earlier or {}).items():
        if name in accepted:
            accepted[name] += [pair for pair in pairs if pair not in accepted[name]]
    (tmp / JOURNAL).write_text(
        json.dumps({"format": FORMAT, "accepted": accepted}) + "\n", encoding="utf-8"
    )
    os.replace(tmp / JOURNAL, out / JOURNAL)
    (out / MANIFEST).unlink(missing_ok=True)
    for name in names:
        if name != MANIFEST:
            _place(tmp / name, out / name, replace=name in present)
    _place(tmp / MANIFEST, out / MANIFEST, replace=False)  # removed above
    (out / JOURNAL).unlink()


def _place(source: Path, target: Path, *, replace: bool) -> None:
    """Move ``source`` to ``target``; unless ``replace`` (the name held our file at the check), the
    name is created without replacing anything that appeared there since."""
    if replace:
        os.replace(source, target)
        return
    try:
        os.link(source, target)  # fails if the name was taken meanwhile
    except FileExistsError:
        raise ExportFolderError(
            f"{target} appeared while the export was being written and was left untouched; "
            "the export is incomplete: run it again (the files written so far are recognised)"
        ) from None
    except OSError:  # no hard links on this file system
        os.replace(source, target)
        return
    source.unlink()


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
