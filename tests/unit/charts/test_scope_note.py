"""A figure of a subset or topic run says which sessions it shows, in a note that covers no data."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from kokoro_analysis.charts import checks, style
from kokoro_analysis.corpus.loading import load_corpus
from kokoro_analysis.notebook import NotebookRun
from kokoro_analysis.paths import output_dirs


@pytest.fixture(autouse=True)
def _paper_style():
    with style.paper_style():
        yield
    plt.close("all")


def _full_figure():
    fig, ax = style.new_figure("column")
    ax.bar(["a", "b"], [3, 5])
    ax.set_ylim(0, 5)  # the bar reaches the top of the axes
    return fig, ax


def _notes(fig) -> list[str]:
    return [t.get_text() for t in fig.texts if t.get_gid() == style.SCOPE_NOTE_GID]


def test_scope_note_text():
    assert style.scope_note("all", 6589) == ""
    assert style.scope_note("high", 2601) == "Subset: high (score 70–98), 2,601 sessions"
    assert style.scope_note("test", 118) == "Subset: test (score 99–100), 118 sessions"
    assert style.scope_note("all", 812, topic="Family") == "Topic Family, 812 sessions"
    assert style.scope_note("low", 5, topic="Work") == (
        "Subset: low (score 0–69), topic Work, 5 sessions"
    )
    assert style.scope_note("high", 2601, lang="ja") == (
        "サブセット high（評価点 70–98）、2,601セッション"
    )


def test_note_is_outside_the_axes_and_printed_at_least_6pt(tmp_path):
    fig, ax = _full_figure()
    style.add_scope_note(fig, style.scope_note("high", 2601))
    paths = style.save_figure(fig, "noted", tmp_path)
    renderer = fig.canvas.get_renderer()
    note = next(t for t in fig.texts if t.get_gid() == style.SCOPE_NOTE_GID)
    box, axes_box = note.get_window_extent(renderer), ax.get_window_extent(renderer)
    assert box.y0 >= axes_box.y1  # above the data area, so it covers no bar
    assert fig.bbox.contains(box.x1 - 0.5, box.y1 - 0.5)  # and inside the page
    sizes = dict((text, size) for size, text in checks.pdf_text_sizes(paths["pdf"]))
    assert sizes["Subset: high (score 70–98), 2,601 sessions"] >= checks.MIN_TEXT_PT


def test_note_is_replaced_not_repeated_and_titles_are_refused():
    fig, _ = _full_figure()
    style.add_scope_note(fig, "Subset: low")
    style.add_scope_note(fig, "Subset: high")
    assert _notes(fig) == ["Subset: high"]
    style.add_scope_note(fig, "")
    assert _notes(fig) == [] and not fig.get_suptitle()
    fig.suptitle("A title")
    with pytest.raises(ValueError, match="captions carry titles"):
        style.add_scope_note(fig, "Subset: high")


def test_run_save_figure_notes_subset_and_topic_runs_only(synthetic_dir, tmp_path):
    corpus = load_corpus(synthetic_dir)
    high = corpus.subset("high")
    default = NotebookRun("03_test", corpus, corpus, output_dirs(tmp_path))
    subset = NotebookRun("03_test", corpus, high, output_dirs(tmp_path), subset="high")
    fig, _ = _full_figure()
    default.save_figure(fig, "plain")
    assert _notes(fig) == []
    subset.save_figure(fig, "plain")
    expected = f"Subset: high (score 70–98), {len(high.dialogues):,} sessions"
    assert _notes(fig) == [expected]
    assert (tmp_path / "figures" / "plain_high.pdf").is_file()
    topic = NotebookRun("03_test", corpus, corpus, output_dirs(tmp_path), topic="Family")
    assert topic.scope_note == f"Topic Family, {len(corpus.dialogues):,} sessions"
