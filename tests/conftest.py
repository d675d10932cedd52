"""Shared fixtures: an isolated cache, synthetic corpora on disk, the real data when available, and a
papermill runner for the notebooks."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from kokoro_analysis.corpus.synthetic import write_synthetic_corpus
from kokoro_analysis.paths import PROJECT_ROOT

NOTEBOOKS = PROJECT_ROOT / "notebooks"

# Data locations may be given relative to the checkout (CI: KOKOROCHAT_DATA=../shared/kokorochat);
# make them absolute so notebooks executed with another working directory find them too.
for _variable in ("KOKOROCHAT_DATA", "KOKORO_PEERS_DIR", "KOKOROCHAT_TRANSLATIONS"):
    if os.environ.get(_variable):
        os.environ[_variable] = str(Path(os.environ[_variable]).expanduser().resolve())


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test writes caches to a temporary folder (never the user's cache); session-wide so the
    synthetic corpus is tokenized once."""
    if "KOKORO_ANALYSIS_TEST_CACHE" not in os.environ:
        os.environ["KOKORO_ANALYSIS_TEST_CACHE"] = str(tmp_path_factory.getbasetemp() / "cache")
    monkeypatch.setenv("KOKORO_ANALYSIS_CACHE", os.environ["KOKORO_ANALYSIS_TEST_CACHE"])


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory) -> Path:
    """A repository-like folder with 60 valid synthetic sessions (all score subsets populated)."""
    return write_synthetic_corpus(tmp_path_factory.mktemp("synthetic"), n_sessions=60, seed=0)


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real KokoroChat release named by ``KOKOROCHAT_DATA``; tests using it skip when unset."""
    path = os.environ.get("KOKOROCHAT_DATA")
    if not path:
        pytest.skip("KOKOROCHAT_DATA is not set (real-data test)")
    return Path(path)


@pytest.fixture(scope="session")
def real_corpus(real_data_dir):
    from kokoro_analysis import load_corpus

    return load_corpus(real_data_dir)


@pytest.fixture
def run_notebook(tmp_path, monkeypatch):
    """Execute ``notebooks/<name>.ipynb`` with papermill and the given parameters; output_dir is a fresh
    temporary folder (returned). The executed copy is written there too. ``$KOKOROCHAT_TRANSLATIONS``
    is passed on only with the real data (it would not match a synthetic corpus); other tests pass
    ``translations_dir``."""
    import papermill

    real_translations = os.environ.get("KOKOROCHAT_TRANSLATIONS")
    monkeypatch.delenv("KOKOROCHAT_TRANSLATIONS", raising=False)

    def run(name: str, **parameters) -> Path:
        real_data = os.environ.get("KOKOROCHAT_DATA")
        if real_translations and real_data and str(parameters.get("data_dir")) == real_data:
            monkeypatch.setenv("KOKOROCHAT_TRANSLATIONS", real_translations)
        output_dir = Path(parameters.pop("output_dir", tmp_path / "out"))
        output_dir.mkdir(parents=True, exist_ok=True)
        papermill.execute_notebook(
            str(NOTEBOOKS / f"{name}.ipynb"),
            str(output_dir / f"{name}.ipynb"),
            parameters={"output_dir": str(output_dir), **parameters},
            cwd=str(tmp_path),
            progress_bar=False,
            kernel_name="python3",
        )
        assert_paper_ready(output_dir)
        return output_dir

    return run


def assert_paper_ready(output_dir: Path) -> None:
    """Every LaTeX table compiles at ACL widths (pdflatex; ``_ja`` with LuaLaTeX) without errors or
    overfull boxes and its caption names exactly what it prints (:func:`caption_problems`, both
    languages), and every text in every figure PDF is at least 6 pt (measured with PyMuPDF)."""
    from kokoro_analysis.charts.checks import MIN_TEXT_PT, pdf_text_sizes
    from kokoro_analysis.publish.latex import caption_problems, check_tables

    problems = check_tables(output_dir / "tables") + caption_problems(output_dir / "tables")
    assert not problems, "tables that break in an ACL paper:\n" + "\n".join(map(str, problems))
    small = {}
    for pdf in sorted((output_dir / "figures").glob("*.pdf")):
        texts = [(size, text) for size, text in pdf_text_sizes(pdf) if size < MIN_TEXT_PT - 0.01]
        if texts:
            small[pdf.name] = texts[:3]
    assert not small, f"figure texts under {MIN_TEXT_PT:g} pt: {small}"
