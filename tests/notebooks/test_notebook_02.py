"""Notebook 02 (topic distribution) end to end: on the synthetic corpus (tables agree with the corpus),
and once on the real data with the "high" subset (skips unless KOKOROCHAT_DATA is set)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from kokoro_analysis import load_corpus

NOTEBOOK = "02_topic_distribution"
pytestmark = pytest.mark.notebook


def read(output_dir, stem: str) -> pd.DataFrame:
    return pd.read_csv(output_dir / "tables" / f"{stem}.csv")


def test_notebook_02_on_synthetic_data(run_notebook, synthetic_dir):
    out = run_notebook(NOTEBOOK, data_dir=str(synthetic_dir), min_count=1, top_words=5)
    corpus = load_corpus(synthetic_dir)
    expected = corpus.dialogues["topic_main_en"].value_counts()

    shares = read(out, "topic_shares")
    assert shares["share_pct"].sum() == pytest.approx(100.0)
    assert shares.set_index("main_en")["sessions"].to_dict() == expected.to_dict()
    assert shares["sessions"].sum() == len(corpus.dialogues) == 60

    comparison = read(out, "topic_shares_vs_reported")
    assert set(comparison["main_en"]) == set(expected.index) - {"Others"}
    assert (comparison["total"] == 60).all()

    coverage = read(out, "subtopic_rule_coverage").set_index("main_en")
    assert coverage.loc["All", "sessions"] == 60
    subtopics = read(out, "subtopic_counts")
    assert subtopics["sessions"].sum() == 60
    assert subtopics.groupby("main_en")["sessions"].sum().to_dict() == expected.to_dict()

    scores = read(out, "topic_score_ci").set_index("main_en")
    assert scores["sessions"].sum() == 60
    mean_scores = corpus.dialogues.groupby("topic_main_en")["score"].mean()
    assert scores["mean"].to_dict() == pytest.approx(mean_scores.to_dict())
    by_year = read(out, "topic_share_by_year").set_index("main_en")
    assert by_year.sum(axis=0).to_numpy() == pytest.approx(100.0)
    assert read(out, "topic_length")["sessions"].sum() == 60

    words = read(out, "topic_distinguishing_words")
    topics_with_words = set(words["main_en"])
    assert topics_with_words == set(expected.index) - {"Others"}
    assert (words.groupby("main_en")["rank"].max() <= 5).all()
    assert words.groupby("main_en").size().min() >= 1

    for stem in ("topic_levels", "topic_score", "topic_year", "topic_length", "topic_words"):
        for ext in ("pdf", "png"):
            assert (out / "figures" / f"{stem}.{ext}").stat().st_size > 0
    part = json.loads((out / "reports" / "parts" / f"{NOTEBOOK}.json").read_text(encoding="utf-8"))
    keys = {row["key"] for row in part["rows"]}
    assert {"topics.share.workplace_issues", "topics.subtopic_rules.assigned_pct"} <= keys


def test_notebook_02_options_on_synthetic_data(run_notebook, synthetic_dir):
    """Japanese labels, a score subset, the bootstrap and both roles: outputs get their own names."""
    out = run_notebook(
        NOTEBOOK,
        data_dir=str(synthetic_dir),
        lang="ja",
        subset="high",
        ci_method="bootstrap",
        n_boot=200,
        role="both",
        min_count=1,
    )
    high = load_corpus(synthetic_dir).subset("high").dialogues
    shares = read(out, "topic_shares_high_ja")
    assert shares["sessions"].sum() == len(high) > 0
    assert read(out, "topic_score_ci_bootstrap_high_ja")["sessions"].sum() == len(high)
    assert len(read(out, "topic_distinguishing_words_both_high_ja")) > 0
    assert (out / "figures" / "topic_levels_high_ja.png").exists()
    assert (out / "figures" / "topic_words_both_high_ja.png").exists()
    part = json.loads(
        (out / "reports" / "parts" / f"{NOTEBOOK}_high.json").read_text(encoding="utf-8")
    )
    assert {row["status"] for row in part["rows"]} <= {"measured"}


@pytest.mark.realdata
def test_notebook_02_high_subset_on_real_data(run_notebook, real_data_dir):
    out = run_notebook(NOTEBOOK, data_dir=str(real_data_dir), subset="high")
    assert read(out, "topic_shares_high")["sessions"].sum() == 2601
    assert (
        read(out, "subtopic_rule_coverage_high").set_index("main_en").loc["All", "sessions"] == 2601
    )
    assert read(out, "topic_score_ci_high")["sessions"].sum() == 2601
    assert read(out, "topic_length_high")["sessions"].sum() == 2601
    words = read(out, "topic_distinguishing_words_high")
    assert words.groupby("main_en").size().eq(10).all() and words["main_en"].nunique() == 10
