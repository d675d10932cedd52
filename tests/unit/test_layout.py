"""The package's shape: no module named like a standard-library module, one-way layers, argparse only
in the cli package."""

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
    users = [p.name for p in MODULES if "argparse" in _imports(p) and _room(p) != "cli"]
    assert users == []


MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60


def _docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""


def _reason_given(path: Path, label: str) -> bool:
    """A line ``Length: ...`` (the module) or ``Length of NAME: ...`` (a function) in the module
    docstring says why a longer one reads better."""
    return any(line.strip().startswith(f"{label}:") for line in _docstring(path).splitlines())


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_modules_and_functions_are_short_or_say_why(path):
    text = path.read_text(encoding="utf-8")
    long = []
    if text.count("\n") > MAX_MODULE_LINES and not _reason_given(path, "Length"):
        long.append(f"module: {text.count(chr(10))} lines")
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            size = node.end_lineno - node.lineno + 1
            if size > MAX_FUNCTION_LINES and not _reason_given(path, f"Length of {node.name}"):
                long.append(f"{node.name}: {size} lines")
    assert long == []


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_graph() -> dict[str, set[str]]:
    """Module → the package modules it imports anywhere (function-level imports included)."""
    names = {_module_name(p) for p in MODULES}
    graph = {}
    for path in MODULES:
        targets = set()
        for module in _imports(path):
            while module and module not in names:
                module = module.rpartition(".")[0]
            if module and module != "kokoro_analysis":
                targets.add(module)
        graph[_module_name(path)] = targets - {_module_name(path)}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles():
    assert _cycles(_package_graph()) == []


def test_the_circle_check_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
