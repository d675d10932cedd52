"""The pinned install of ``./run_all.sh``: ``requirements-lock.txt``, made from ``pyproject.toml``.

    python scripts/lock_requirements.py           write requirements-lock.txt again (uv, PyPI; network)
    python scripts/lock_requirements.py --check   exit 0 when it matches pyproject.toml, 1 when stale

The lock pins every package of the default install and the test extra, for every platform and every
Python the project supports (``uv pip compile --universal``), so ``./run_all.sh`` installs it with
``--no-deps`` and resolves nothing: the same versions on every machine, in half the time of a
resolving install. Its first lines hold the digest of the dependency declarations it was made from
(``requires-python``, ``dependencies``, the ``test`` extra); ``./run_all.sh`` falls back to a
resolving install when they differ. Standard library only: it runs before the package is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements-lock.txt"
LOCKED_EXTRAS = ("test",)
"""Optional extras pinned with the default install: the ones ``./run_all.sh`` installs."""
DIGEST_LINE = re.compile(r"^# dependencies-sha256: ([0-9a-f]{64})$", re.MULTILINE)


def dependency_digest(pyproject: Path = PYPROJECT) -> str:
    """SHA-256 (hex) of the dependency declarations the lock is made from."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    declared = {
        "requires-python": project.get("requires-python", ""),
        "dependencies": project.get("dependencies", []),
        "extras": {name: extras.get(name, []) for name in LOCKED_EXTRAS},
    }
    return hashlib.sha256(json.dumps(declared, sort_keys=True).encode()).hexdigest()


def recorded_digest(lock: Path = LOCK) -> str | None:
    """The digest written at the top of ``lock``; None when the file or the line is missing."""
    try:
        match = DIGEST_LINE.search(lock.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return match.group(1) if match else None


def lock_is_current(pyproject: Path = PYPROJECT, lock: Path = LOCK) -> bool:
    """Whether ``lock`` was made from ``pyproject``'s present dependency declarations."""
    return recorded_digest(lock) == dependency_digest(pyproject)


def minimum_python(pyproject: Path = PYPROJECT) -> str:
    """The lowest Python version ``requires-python`` allows (``>=3.11`` -> ``3.11``)."""
    spec = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["requires-python"]
    match = re.search(r">=\s*(\d+\.\d+)", spec)
    if not match:
        raise SystemExit(f"{pyproject}: requires-python {spec!r} has no lower bound (>=X.Y)")
    return match.group(1)


def compile_lock(pyproject: Path = PYPROJECT) -> str:
    """The pinned requirements, from PyPI alone (find-links and extra indexes of this machine unset)."""
    if importlib.util.find_spec("uv") is None:
        raise SystemExit("uv is needed to make the lock: pip install uv")
    command = [sys.executable, "-m", "uv", "pip", "compile", str(pyproject), "--universal"]
    command += ["--python-version", minimum_python(pyproject), "--no-header", "--no-annotate"]
    command += [arg for extra in LOCKED_EXTRAS for arg in ("--extra", extra)]
    local = ("UV_FIND_LINKS", "UV_EXTRA_INDEX_URL", "UV_INDEX_URL", "UV_INDEX", "UV_CONSTRAINT")
    environment = {key: value for key, value in os.environ.items() if key not in local}
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"uv pip compile failed:\n{result.stderr}")
    return result.stdout


def lock_text(pinned: str, digest: str) -> str:
    """The lock file: a header (how it is made, the digest) and the pinned requirements."""
    header = (
        "# Pinned install of ./run_all.sh (uv pip install --no-deps -r requirements-lock.txt):\n"
        "# every package of the default install and the test extra, for every platform and Python.\n"
        "# Made by: python scripts/lock_requirements.py (after any change to the dependencies)\n"
        f"# dependencies-sha256: {digest}\n"
    )
    return header + pinned


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder: never half-written."""
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as tmp:
        tmp.write(text)
    os.replace(tmp.name, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the lock is stale")
    args = parser.parse_args(argv)
    if args.check:
        if lock_is_current(PYPROJECT, LOCK):
            return 0
        print(
            f"{LOCK.name} does not match {PYPROJECT.name}: run python scripts/lock_requirements.py"
        )
        return 1
    write_atomically(LOCK, lock_text(compile_lock(PYPROJECT), dependency_digest(PYPROJECT)))
    print(f"wrote {LOCK}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
