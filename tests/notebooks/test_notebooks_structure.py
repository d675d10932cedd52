"""Every notebook is committed runnable by papermill: one parameters cell with the common parameters,
a portable kernelspec, the complete metadata JupyterLab would otherwise add on opening, no outputs, and
nothing but calls into the package. The checks read what git would commit: the working copy passed
through the repository's clean filter (nbstripout, installed by ``./run_all.sh``) when one is set."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from kokoro_analysis.paths import PROJECT_ROOT

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("[0-9]*.ipynb"))
COMMON_PARAMETERS = {"data_dir", "output_dir", "subset", "lang", "seed", "lenient"}
LANGUAGE_INFO_KEYS = {
    "codemirror_mode",
    "file_extension",
    "mimetype",
    "name",
    "nbconvert_exporter",
    "pygments_lexer",
    "version",
}
"""What the IPython kernel reports as ``language_info``; JupyterLab writes it into a notebook whose
metadata lacks any of it, marking the notebook modified the moment it opens."""


def _git(*args: str) -> str | None:
    if shutil.which("git") is None:
        return None
    done = subprocess.run(["git", "-C", str(PROJECT_ROOT), *args], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def committed_text(path: Path) -> str:
    """The notebook as git would commit it: through the clean filter when the repository has one for
    this file (``git check-attr filter``, ``git config filter.<name>.clean``), else the file itself."""
    text = path.read_text(encoding="utf-8")
    attribute = _git("check-attr", "filter", "--", str(path.relative_to(PROJECT_ROOT)))
    name = attribute.rsplit(": ", 1)[-1] if attribute else "unspecified"
    command = (
        _git("config", "--get", f"filter.{name}.clean")
        if name not in ("unspecified", "unset")
        else None
    )
    if not command:
        return text
    cleaned = subprocess.run(
        command, shell=True, input=text, capture_output=True, text=True, cwd=PROJECT_ROOT
    )
    assert cleaned.returncode == 0, (
        f"git's clean filter {command!r} failed on {path.name}: {cleaned.stderr[-500:]}"
    )
    return cleaned.stdout


STRIP_HINT = (
    "run `./run_all.sh --test` once (it installs the nbstripout git filter, so outputs never "
    "reach git) or strip this copy: `.venv/bin/python -m nbstripout --keep-id {path}`"
)


def test_there_are_notebooks():
    assert [nb.stem[:2] for nb in NOTEBOOKS] == sorted({nb.stem[:2] for nb in NOTEBOOKS})
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_papermill_ready(path):
    notebook = nbformat.reads(committed_text(path), as_version=4)
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
    executed = [
        i
        for i, cell in enumerate(code)
        if cell.get("outputs") or cell.get("execution_count") is not None
    ]
    hint = STRIP_HINT.format(path=path.relative_to(PROJECT_ROOT))
    assert not executed, (
        f"{path.name}: code cells {executed} have outputs or execution counts; {hint}"
    )
    assert all(
        re.search(rf"\b{name}={name}\b", "\n".join(c.source for c in code)) for name in ("lenient",)
    ), f"{path.name}: pass lenient=lenient to start()"
    calls = re.findall(r'start\(\s*"([^"]+)"', "\n".join(cell.source for cell in code))
    assert calls == [path.stem]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_opens_unmodified_in_jupyterlab(path):
    """Complete ``language_info`` (the same in every notebook) and the current nbformat: nothing for
    JupyterLab to add when it opens the notebook and the kernel starts."""
    metadata = json.loads(committed_text(path))["metadata"]
    missing = LANGUAGE_INFO_KEYS - set(metadata.get("language_info", {}))
    assert not missing, (
        f"{path.name}: language_info lacks {sorted(missing)}; copy it from another notebook"
    )
    first = json.loads(committed_text(NOTEBOOKS[0]))["metadata"]["language_info"]
    assert metadata["language_info"] == first, (
        f"{path.name}: language_info differs from {NOTEBOOKS[0].name}"
    )
    assert (
        nbformat.reads(committed_text(path), as_version=4).nbformat_minor
        == nbformat.current_nbformat_minor
    )


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


def test_the_readme_says_run_all_creates_the_environment_for_jupyterlab():
    """issue 21: the JupyterLab section starts from ./run_all.sh (which creates .venv and enables
    the save hook), not from the test suite."""
    from kokoro_analysis.paths import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Notebooks in JupyterLab", 1)[1].split("\n## ", 1)[0]
    first_command = section.split("```bash\n", 1)[1].splitlines()[0]
    assert first_command.startswith("./run_all.sh ") and "--test" not in first_command
    assert "creates .venv" in first_command
