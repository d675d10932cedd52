"""The session explorer's logic: filters, the session table, transcripts with gaps and translations,
item scores and hit counts (synthetic corpus)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis.analyses import explorer
from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.loading import load_corpus
from kokoro_analysis.corpus.synthetic import (
    make_corpus,
    make_translations,
    write_corpus,
    write_translations,
)
from kokoro_analysis.text.concordance import concordance
from kokoro_analysis.text.token_cache import tokenize_corpus


@pytest.fixture(scope="module")
def corpus(synthetic_dir):
    return load_corpus(synthetic_dir)


def test_each_criterion_filters(corpus):
    d = corpus.dialogues
    topic = d["topic_main_en"].iloc[0]
    cases = {
        "topics": (dict(topics=(topic,)), d["topic_main_en"] == topic),
        "japanese topic": (dict(topics=(d["topic_main_jp"].iloc[0],)), d["topic_main_en"] == topic),
        "band": (dict(score_band="high"), d["score"].between(70, 98)),
        "range": (dict(score_min=40, score_max=80), d["score"].between(40, 80)),
        "years": (dict(year_min=2021, year_max=2022), d["year"].between(2021, 2022)),
        "length": (dict(messages_min=20), d["n_messages"] >= 20),
        "no flag": (dict(flags=("none",)), ~d[list(schema.FLAG_KEYS)].any(axis=1)),
    }
    for name, (criteria, expected) in cases.items():
        mask = explorer.filter_mask(d, explorer.SessionFilter(**criteria))
        assert mask.tolist() == expected.to_numpy(dtype=bool).tolist(), name
        assert 0 < mask.sum() < len(d), name
    assert explorer.filter_mask(d, explorer.SessionFilter()).all()


def test_filters_from_a_notebook_parameter(corpus):
    criteria = explorer.SessionFilter.from_mapping(
        {"topics": "Workplace Issues", "flags": ["none"]}
    )
    assert criteria.topics == ("Workplace Issues",) and criteria.flags == ("none",)
    assert explorer.SessionFilter.from_mapping(None).is_empty()
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['scor'\]"):
        explorer.SessionFilter.from_mapping({"scor": 3})
    with pytest.raises(ValueError, match="score_band must be one of low, high, test"):
        explorer.SessionFilter(score_band="medium")
    with pytest.raises(ValueError, match="unknown flag"):
        explorer.SessionFilter(flags=("rude",))
    with pytest.raises(ValueError, match="no session has topic"):
        explorer.find_sessions(corpus, explorer.SessionFilter(topics=("Astrology",)))
    with pytest.raises(ValueError, match="score_min must be an integer or None, not '50'"):
        explorer.SessionFilter.from_mapping({"score_min": "50"})
    with pytest.raises(ValueError, match="year_max must be an integer or None"):
        explorer.SessionFilter(year_max=2021.5)


def test_session_table(corpus):
    table = explorer.find_sessions(corpus, explorer.SessionFilter(score_band="low"), lang="ja")
    assert table.index.name == "dialogue_id" and (table["band"] == "low").all()
    assert table.columns.tolist() == [
        "start_time",
        "year",
        "topic",
        "score",
        "band",
        "messages",
        "duration_min",
        "flags",
    ]
    assert set(table["topic"]) <= set(corpus.dialogues["topic_main_jp"])
    assert (table["messages"] == corpus.dialogues.loc[table.index, "n_messages"]).all()


def test_transcript_gaps_and_translations(corpus):
    session = int(corpus.dialogues.index[3])
    messages = corpus.utterances[corpus.utterances["dialogue_id"] == session]
    frame = explorer.transcript(corpus, session)
    assert frame["text"].tolist() == messages["text"].tolist()
    assert np.isnan(frame["gap_s"].iloc[0])
    assert (
        frame["gap_s"].iloc[1]
        == (messages["time"].iloc[1] - messages["time"].iloc[0]).total_seconds()
    )
    translations = pd.Series("EN " + corpus.utterances["text"], index=corpus.utterances.index)
    with_english = explorer.transcript(corpus, str(session), translations.to_frame("text_en"))
    assert (with_english["translation"] == "EN " + frame["text"]).all()
    with pytest.raises(ValueError, match="no session with dialogue_id 999999"):
        explorer.transcript(corpus, 999999)
    with pytest.raises(ValueError, match="must be a dialogue id"):
        explorer.transcript(corpus, "first")


def test_session_scores(corpus):
    session = int(corpus.dialogues.index[0])
    scores = explorer.session_scores(corpus, session)
    assert len(scores) == 20 + 3 + 1
    assert scores["score"].iloc[:20].sum() == corpus.dialogues.loc[session, "item_sum"]
    assert scores["score"].iloc[-1] == corpus.dialogues.loc[session, "score"]


def test_choose_session(corpus):
    sessions = explorer.find_sessions(corpus, explorer.SessionFilter(score_band="test"))
    assert explorer.choose_session(corpus, sessions) == sessions.index[0]
    assert (
        explorer.choose_session(corpus, sessions, corpus.dialogues.index[5])
        == corpus.dialogues.index[5]
    )
    assert explorer.choose_session(corpus, sessions.iloc[:0]) is None


def test_concordance_counts_add_up(corpus):

    tokens = tokenize_corpus(corpus, progress=False)
    hits = concordance(tokens, corpus.utterances, "思う")
    counts = explorer.concordance_counts(hits, corpus.dialogues)
    assert counts["by"].unique().tolist() == ["role", "topic", "band"]
    assert (counts.groupby("by")["hits"].sum() == len(hits)).all()
    assert set(counts.loc[counts["by"] == "band", "group"]) <= {"low", "high", "test"}


def test_english_translations_are_optional(corpus, monkeypatch, tmp_path):
    monkeypatch.delenv("KOKOROCHAT_TRANSLATIONS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert explorer.english_translations(corpus) is None  # nothing configured: no error, no clone


def test_english_translations_under_each_message(tmp_path, monkeypatch):
    sessions = make_corpus(6, seed=1)
    data = write_corpus(tmp_path / "data", sessions)
    translated = write_translations(tmp_path / "translations", make_translations(sessions, "en"))
    monkeypatch.setenv("KOKOROCHAT_TRANSLATIONS", str(translated))
    corpus = load_corpus(data)
    english = explorer.english_translations(corpus)
    frame = explorer.transcript(corpus, int(corpus.dialogues.index[0]), english)
    assert frame["translation"].notna().all()
    assert frame["translation"].tolist() == english.loc[frame.index, "translation"].tolist()
