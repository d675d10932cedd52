"""JupyterLab's pre-save hook saves this checkout's notebooks without outputs, other notebooks as they are."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import nbformat

from kokoro_analysis.notebook import strip_outputs_before_save
from kokoro_analysis.paths import PROJECT_ROOT


def executed_model() -> dict:
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# title"),
            nbformat.v4.new_code_cell(
                "1 + 1",
                execution_count=3,
                metadata={"tags": ["parameters"]},
                outputs=[
                    nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=3)
                ],
            ),
        ]
    )
    return {"type": "notebook", "content": notebook}


def test_project_notebooks_are_saved_without_outputs():
    model = executed_model()
    strip_outputs_before_save(
        model, "notebooks/05_explore_sessions.ipynb", SimpleNamespace(root_dir=str(PROJECT_ROOT))
    )
    code = model["content"]["cells"][1]
    assert code["outputs"] == [] and code["execution_count"] is None
    assert code["metadata"]["tags"] == ["parameters"]
    assert model["content"]["cells"][0]["source"] == "# title"


def test_other_notebooks_keep_their_outputs(tmp_path):
    for root, path in (
        (tmp_path, "notebooks/05_explore_sessions.ipynb"),
        (PROJECT_ROOT, "scratch.ipynb"),
        (PROJECT_ROOT, "notebooks/my_notes.ipynb"),
    ):
        model = executed_model()
        before = copy.deepcopy(model)
        strip_outputs_before_save(model, path, SimpleNamespace(root_dir=str(root)))
        assert model == before, path
    directory = {"type": "directory", "content": None}
    strip_outputs_before_save(directory, "notebooks", SimpleNamespace(root_dir=str(PROJECT_ROOT)))
