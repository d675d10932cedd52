"""Every notebook is committed runnable by papermill: one parameters cell with the common parameters,
a portable kernelspec, no outputs, and nothing but calls into the package."""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

from kokoro_analysis.paths import PROJECT_ROOT

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("[0-9]*.ipynb"))
COMMON_PARAMETERS = {"data_dir", "output_dir", "subset", "lang", "seed"}


def test_there_are_notebooks():
    assert [nb.stem[:2] for nb in NOTEBOOKS] == sorted({nb.stem[:2] for nb in NOTEBOOKS})
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_papermill_ready(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    kernelspec = notebook.metadata.get("kernelspec", {})
    assert kernelspec.get("name") == "python3" and kernelspec.get("language") == "python"
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assigned = {
        target.id
        for node in ast.parse(tagged[0].source).body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert assigned >= COMMON_PARAMETERS
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.get("outputs") and cell.get("execution_count") is None for cell in code)
    calls = re.findall(r'start\(\s*"([^"]+)"', "\n".join(cell.source for cell in code))
    assert calls == [path.stem]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_stays_thin(path):
    """Reusable logic belongs in the package: no function or class definitions in notebooks."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            tree = ast.parse(cell.source)
            defined = [
                n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))
            ]
            assert not defined, f"{path.name} defines {defined}; move them into kokoro_analysis"
