"""The explorer's widgets driven without a browser (the browser test drives them in JupyterLab) and its
HTML transcript (synthetic corpus)."""

from __future__ import annotations

import pandas as pd
import pytest

from kokoro_analysis.analyses import explorer
from kokoro_analysis.corpus.loading import load_corpus
from kokoro_analysis.explorer_ui import Explorer, export_name, transcript_html
from kokoro_analysis.text.token_cache import tokenize_corpus


@pytest.fixture(scope="module")
def corpus(synthetic_dir):
    return load_corpus(synthetic_dir)


def test_transcript_html_sets_the_roles_apart_and_shows_translations(corpus):
    session = int(corpus.dialogues.index[3])
    translations = pd.Series("EN " + corpus.utterances["text"], index=corpus.utterances.index)
    frame = explorer.transcript(corpus, session, translations)
    html = transcript_html(frame)
    assert html.count('class="ka-msg ka-counselor"') == (frame["role"] == "counselor").sum()
    assert html.count('class="ka-msg ka-client"') == (frame["role"] == "client").sum()
    assert html.count('class="ka-translation"') == len(frame)
    assert "Counselor" in html and "カウンセラー" in transcript_html(frame, lang="ja")


def test_the_widgets_filter_read_search_and_export(corpus, tmp_path):
    tokens = tokenize_corpus(corpus, progress=False)
    ui = Explorer(corpus, tokens, export_dir=tmp_path, query="思う")
    assert "60</b> matching sessions" in ui.matches.value
    assert "hits for 思う" in ui.results.value
    ui.band.value = "low"
    low = explorer.find_sessions(corpus, explorer.SessionFilter(score_band="low"))
    assert f"{len(low)}</b> matching sessions" in ui.matches.value
    assert ui.session.options == tuple(low.index) and ui.session.value == low.index[0]
    assert "ka-counselor" in ui.transcript.value and "Felt respected" in ui.scores.value
    ui.role.value = "client"
    ui.query.value = "不安"  # typing a word and pressing Enter runs the search
    assert set(ui.hits["dialogue_id"]) <= set(low.index) and (ui.hits["role"] == "client").all()
    ui.export.click()
    exported = pd.read_csv(tmp_path / export_name("不安"))
    assert len(exported) == len(ui.hits)
    ui.query.value = " "
    assert "non-empty" in ui.results.value


def test_export_names_keep_letters_only():
    assert export_name("不安") == "concordance_不安.csv"
    assert export_name("../x y") == "concordance_xy.csv"
    assert export_name("..") == "concordance_query.csv"


def test_results_follow_the_filters_changed_after_a_query(corpus, tmp_path):
    tokens = tokenize_corpus(corpus, progress=False)
    ui = Explorer(corpus, tokens, export_dir=tmp_path, query="不安")
    everywhere = len(ui.hits)
    assert everywhere > 0 and f"{everywhere:,} hits for 不安" in ui.results.value
    ui.band.value = "high"  # a filter changed after the query
    high = explorer.find_sessions(corpus, explorer.SessionFilter(score_band="high"))
    assert set(ui.hits["dialogue_id"]) <= set(high.index)
    expected = explorer.search(corpus, tokens, "不安", high.index)
    assert len(ui.hits) == len(expected.hits) < everywhere
    assert f"{len(expected.hits):,} hits for 不安" in ui.results.value
    assert f"of the {len(high):,} matching sessions" in ui.results.value
    ui.export.click()
    exported = pd.read_csv(tmp_path / export_name("不安"))
    assert len(exported) == len(expected.hits)
    assert set(exported["dialogue_id"]) <= set(high.index)
    ui.role.value = "client"  # so does a search option
    assert (ui.hits["role"] == "client").all()


def test_widget_tables_are_formatted_like_the_notebooks(corpus, tmp_path):
    tokens = tokenize_corpus(corpus, progress=False)
    ui = Explorer(corpus, tokens, export_dir=tmp_path, query="思う")
    results = ui.results.value
    assert "Share of hits" in results and " %</td>" in results and "English gloss" in results
    assert "<th>share</th>" not in results and "log_dice" not in results
    assert "<th>Session</th>" in ui.matches.value  # the dialogue id is a column, not an index
    assert ui.years.style.description_width == "6em"
    transcript_box, scores_box = ui.widget.children[1].children[1].children
    assert transcript_box.children == (ui.transcript,) and transcript_box.layout.overflow == "auto"
    assert scores_box.children == (ui.scores,) and scores_box.layout.flex == "0 0 24em"


def test_a_phrase_query_and_occurrences_inside_longer_tokens(corpus):
    tokens = tokenize_corpus(corpus, progress=False)
    result = explorer.search(corpus, tokens, "不", corpus.dialogues.index)
    texts = corpus.utterances["text"]
    assert result.in_text == sum(t.count("不") for t in texts)
    assert result.inside_tokens == result.in_text - (result.hits["hit"] == "不").sum()
    assert "inside longer tokens" in result.summary(len(corpus.dialogues))
