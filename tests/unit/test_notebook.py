"""NotebookRun.record_all: the paper's values apply only to the default run; a subset or topic run
logs corpus numbers as measured and leaves numbers not computed from the corpus as they are."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kokoro_analysis.corpus.loading import load_corpus
from kokoro_analysis.notebook import NotebookRun
from kokoro_analysis.paths import output_dirs
from kokoro_analysis.reported import Record

RECORDS = [
    Record("stats.dialogues.total", 60),
    Record("peers.esconv.dialogues", 1300, from_corpus=False),
    Record("peers.augesc.dialogues", None, expect="not_reproducible", note="data not obtainable"),
    Record("stats.people_both_roles", 3, quantity="People in both roles", unit="count", note="n"),
]


@pytest.fixture(scope="module")
def corpus(synthetic_dir):
    return load_corpus(synthetic_dir)


def rows(run: NotebookRun) -> dict[str, tuple[str, str]]:
    return {row.key: (row.status, row.note) for row in run.record_all(RECORDS)}


def test_default_run_compares_with_the_paper(corpus, tmp_path):
    run = NotebookRun("01_test", corpus, corpus, output_dirs(tmp_path))
    assert rows(run) == {
        "stats.dialogues.total": ("differs", ""),
        "peers.esconv.dialogues": ("match", ""),
        "peers.augesc.dialogues": ("not reproducible", "data not obtainable"),
        "stats.people_both_roles": ("measured", "n"),
    }


def test_subset_and_topic_runs_log_corpus_numbers_as_measured(corpus, tmp_path):
    high = corpus.subset("high")
    run = NotebookRun("01_test", corpus, high, output_dirs(tmp_path), subset="high", topic="X")
    scope = f"(run on {high.subset_name}, topic X)"
    assert rows(run) == {
        "stats.dialogues.total": ("measured", scope),
        "peers.esconv.dialogues": ("match", ""),
        "peers.augesc.dialogues": ("not reproducible", "data not obtainable"),
        "stats.people_both_roles": ("measured", f"n {scope}"),
    }
    assert run.record("stats.dialogues.total", 60).status == "measured"
    assert [row.key for row in run.log.rows].count("stats.dialogues.total") == 1


def test_save_figure_shows_the_saved_png_and_closes_the_figure(corpus, tmp_path, monkeypatch):
    import IPython.display
    import matplotlib
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    run = NotebookRun("01_test", corpus, corpus, output_dirs(tmp_path))
    from kokoro_analysis.charts.style import apply_paper_style, new_figure

    apply_paper_style()  # a laid-out figure: plain matplotlib defaults put tick labels off the edge
    fig, ax = new_figure("column", height=2.0)
    ax.plot([0, 1], [1, 0])
    paths = run.save_figure(fig, "line")
    assert paths["png"] == tmp_path / "figures" / "line.png"
    assert not plt.fignum_exists(fig.number)
    (image,) = shown
    assert image.data == paths["png"].read_bytes()
    assert image.width == round(3 * matplotlib.rcParams["figure.dpi"])


@pytest.fixture
def drawn(tmp_path, monkeypatch) -> list[str]:
    """The names of the figures actually drawn (rendered) while the test runs; a fresh cache."""
    import IPython.display

    from kokoro_analysis.charts import style

    monkeypatch.setenv("KOKORO_ANALYSIS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(IPython.display, "display", lambda obj: None)
    names: list[str] = []
    render = style.render_figure
    monkeypatch.setattr(
        style, "render_figure", lambda fig, name: names.append(name) or render(fig, name)
    )
    return names


def test_figure_is_drawn_once_and_its_saved_bytes_come_back_from_the_cache(corpus, tmp_path, drawn):
    import pandas as pd

    from kokoro_analysis.charts import corpus as corpus_charts

    run = NotebookRun("01_test", corpus, corpus, output_dirs(tmp_path / "out"))
    per_year = pd.Series([40, 20], index=[2023, 2024])
    chart = corpus_charts.sessions_per_year_chart

    first = {k: p.read_bytes() for k, p in run.figure("years", chart, per_year, lang="en").items()}
    for path in (tmp_path / "out" / "figures").iterdir():
        path.unlink()
    again = run.figure("years", chart, per_year, lang="en")
    assert drawn == ["years"]  # the second call wrote the first drawing's bytes
    assert {k: p.read_bytes() for k, p in again.items()} == first
    run.figure("years", chart, per_year + 1, lang="en")  # another input: drawn
    run.figure("years", chart, per_year, lang="ja")  # another argument: drawn
    assert drawn == ["years"] * 3
    subset = NotebookRun(
        "01_test", corpus, corpus.subset("high"), output_dirs(tmp_path), subset="high"
    )
    subset.figure("years", chart, per_year, lang="en")  # another name and scope note
    assert drawn[-1] == "years_high" and len(drawn) == 4


def test_figure_is_drawn_again_when_code_libraries_or_settings_change(
    corpus, tmp_path, drawn, monkeypatch
):
    import matplotlib
    import pandas as pd

    from kokoro_analysis import cache
    from kokoro_analysis.charts import corpus as corpus_charts

    run = NotebookRun("01_test", corpus, corpus, output_dirs(tmp_path))
    per_year = pd.Series([40, 20], index=[2023, 2024])

    def draw():
        run.figure("years", corpus_charts.sessions_per_year_chart, per_year, lang="en")

    draw()
    draw()
    assert len(drawn) == 1
    monkeypatch.setattr(cache, "code_digest", lambda: "edited code")
    draw()
    monkeypatch.setattr(cache, "environment_identity", lambda: "numpy==99")
    draw()
    monkeypatch.setitem(matplotlib.rcParams, "lines.linewidth", 3.0)
    draw()
    assert len(drawn) == 4


def test_figure_of_an_outside_chart_or_unpicklable_input_is_drawn_every_time(
    corpus, tmp_path, drawn
):
    import pandas as pd

    from kokoro_analysis.charts import corpus as corpus_charts

    run = NotebookRun("01_test", corpus, corpus, output_dirs(tmp_path))
    per_year = pd.Series([40, 20], index=[2023, 2024])

    def my_chart(values, *, lang):  # a user's chart: its code is not in the package's digest
        return corpus_charts.sessions_per_year_chart(values, lang=lang)

    for _ in range(2):
        run.figure("mine", my_chart, per_year, lang="en")
        run.figure("years", corpus_charts.sessions_per_year_chart, per_year, lang="en", **{})
    assert drawn.count("mine") == 2

    def unpicklable(values, *, lang, label):
        return corpus_charts.sessions_per_year_chart(values, lang=lang)

    unpicklable.__module__ = corpus_charts.__name__
    for _ in range(2):
        run.figure("odd", unpicklable, per_year, lang="en", label=lambda v: v)
    assert drawn.count("odd") == 2 and drawn.count("years") == 1


def test_cached_results_come_back_equal_and_are_keyed_on_data_parameters_and_code(
    corpus, tmp_path, monkeypatch
):
    import pandas as pd

    from kokoro_analysis import cache

    monkeypatch.setenv("KOKORO_ANALYSIS_CACHE", str(tmp_path / "cache"))
    run = NotebookRun("04_test", corpus, corpus, output_dirs(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return pd.DataFrame({"acc": [0.25, 1 / 3]}, index=pd.Index(["a", "b"], name="m")), {
            "x": [1]
        }

    first = run.cached("baselines", compute, subsets=("low", "high"))
    again = run.cached("baselines", compute, subsets=("low", "high"))
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first[0], again[0])
    assert again[1] == {"x": [1]}
    run.cached("baselines", compute, subsets=("full",))  # other parameters: computed
    NotebookRun("04_test", corpus, corpus, output_dirs(tmp_path), seed=1).cached(
        "baselines", compute, subsets=("low", "high")
    )
    fewer = corpus.subset("high") if hasattr(corpus, "subset") else corpus
    NotebookRun("04_test", corpus, fewer, output_dirs(tmp_path), subset="high").cached(
        "baselines", compute, subsets=("low", "high")
    )
    assert len(calls) == 4
    monkeypatch.setattr(cache, "code_digest", lambda: "changed code")
    run.cached("baselines", compute, subsets=("low", "high"))
    assert len(calls) == 5
    in_memory = replace(corpus, data_key=None)
    for _ in range(2):
        NotebookRun("04_test", in_memory, in_memory, output_dirs(tmp_path)).cached(
            "baselines", compute, subsets=("low", "high")
        )
    assert len(calls) == 7


def test_code_digest_covers_the_package_sources():
    from kokoro_analysis.cache import code_digest

    assert len(code_digest()) == 64 and code_digest() == code_digest()
