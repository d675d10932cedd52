"""The package's shape: no module named like a standard-library module, one-way layers, argparse only
in the CLI."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from kokoro_analysis.paths import PACKAGE_DIR

MODULES = sorted(p for p in PACKAGE_DIR.rglob("*.py"))

LAYERS = [
    {"paths", "cache", "workers", "stats", "reported", "published"},  # foundation: knows no corpus
    {"corpus"},
    {"text"},
    {"analyses"},
    {"finetune"},
    {"charts"},
    {"publish"},
    {"notebook", "cli", "__init__", "explorer_ui"},
]
"""Each room may import only from its own layer and the layers above it in this list."""


def _room(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR).with_suffix("").parts
    return parts[0]


def _layer(room: str) -> int:
    return next(i for i, rooms in enumerate(LAYERS) if room in rooms)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "kokoro_analysis":
                found.update(f"kokoro_analysis.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_module_shadows_the_standard_library():
    clashes = [str(p) for p in MODULES if p.stem in sys.stdlib_module_names]
    assert clashes == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_imports_go_one_way(path):
    own = _layer(_room(path))
    upward = []
    for module in _imports(path):
        parts = module.split(".")
        if parts[0] != "kokoro_analysis" or len(parts) < 2 or parts[1] == "__version__":
            continue
        if _layer(parts[1]) > own:
            upward.append(module)
    assert upward == [], f"{path.name} imports from a later layer: {upward}"


def test_argparse_only_in_the_cli():
    users = [p.name for p in MODULES if "argparse" in _imports(p) and p.name != "cli.py"]
    assert users == []
