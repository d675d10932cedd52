"""Notebook 05 (session explorer) headless under papermill on the synthetic corpus: the tables it writes
agree with the package's functions for the given query, session and filters."""

from __future__ import annotations

import pandas as pd
import pytest

from kokoro_analysis.analyses import explorer
from kokoro_analysis.corpus.loading import load_corpus

NOTEBOOK = "05_explore_sessions"
pytestmark = pytest.mark.notebook


def read(out, stem: str) -> pd.DataFrame:
    return pd.read_csv(out / "tables" / f"{stem}.csv")


def test_notebook_05_writes_the_explorer_tables(run_notebook, synthetic_dir):
    corpus = load_corpus(synthetic_dir)
    session = int(corpus.dialogues.index[corpus.dialogues["score"] < 70][2])
    out = run_notebook(
        NOTEBOOK,
        data_dir=str(synthetic_dir),
        query="思う",
        session_id=session,
        filters={"score_band": "low", "flags": ["none"]},
    )

    expected = explorer.find_sessions(
        corpus, explorer.SessionFilter(score_band="low", flags=("none",))
    )
    sessions = read(out, "explorer_sessions")
    assert sessions["dialogue_id"].tolist() == expected.index.tolist()
    assert (sessions["band"] == "low").all()

    transcript = read(out, "explorer_transcript")
    assert (
        transcript["text"].tolist()
        == corpus.utterances.loc[corpus.utterances["dialogue_id"] == session, "text"].tolist()
    )
    assert (
        read(out, "explorer_session_scores")["score"].iloc[-1]
        == corpus.dialogues.loc[session, "score"]
    )

    hits = read(out, "explorer_concordance")
    assert len(hits) > 0 and set(hits["dialogue_id"]) <= set(expected.index)
    assert ((hits["hit"] == "思う") | (hits["lemma"] == "思う")).all()
    counts = read(out, "explorer_concordance_counts")
    assert (counts.groupby("by")["hits"].sum() == len(hits)).all()
    assert read(out, "explorer_collocates")["log_dice"].le(14).all()


def test_notebook_05_with_a_subset_in_japanese(run_notebook, synthetic_dir):
    out = run_notebook(
        NOTEBOOK, data_dir=str(synthetic_dir), subset="high", lang="ja", query="不安"
    )
    sessions = read(out, "explorer_sessions_high")
    assert sessions["score"].between(70, 98).all()
    corpus = load_corpus(synthetic_dir)
    assert set(sessions["topic"]) <= set(corpus.dialogues["topic_main_jp"])
    assert read(out, "explorer_transcript_high")["role"].isin(["counselor", "client"]).all()
