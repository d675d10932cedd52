"""Notebook 01 (corpus statistics) end to end: on the synthetic corpus with a tiny ESConv (the tables it
writes agree with the corpus), with a subset and Japanese labels without ESConv, and once on the real
data (skips unless KOKOROCHAT_DATA is set)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.analyses import corpus_stats as cs
from kokoro_analysis.analyses import corpus_stats_reported as reported
from kokoro_analysis.corpus import measures
from tests.unit.corpus.test_esconv import write_esconv

NOTEBOOK = "01_corpus_statistics"
pytestmark = pytest.mark.notebook

FIGURES = (
    "corpus_messages_per_session",
    "corpus_characters_per_message",
    "corpus_session_length",
    "corpus_response_times",
    "corpus_sessions_per_year",
    "corpus_sessions_per_person",
    "corpus_both_roles",
    "corpus_tokens_per_message",
    "corpus_type_token_growth",
    "corpus_top_content_lemmas",
)


def read(output_dir, stem: str, **kwargs) -> pd.DataFrame:
    return pd.read_csv(output_dir / "tables" / f"{stem}.csv", **kwargs)


def report_rows(output_dir, name: str) -> dict[str, dict]:
    part = json.loads(
        (output_dir / "reports" / "parts" / f"{name}.json").read_text(encoding="utf-8")
    )
    return {row["key"]: row for row in part["rows"]}


def test_notebook_01_on_synthetic_data(run_notebook, synthetic_dir, tmp_path):
    peers = tmp_path / "peers"
    write_esconv(peers / "esconv")
    out = run_notebook(NOTEBOOK, data_dir=str(synthetic_dir), peers_dir=str(peers))
    corpus = load_corpus(synthetic_dir)
    expected = cs.statistics_table(corpus)

    summary = read(out, "corpus_statistics", dtype=str, keep_default_na=False)
    assert summary.columns.tolist() == ["Category", "Total", "Counselor", "Client"]
    assert summary.iloc[0].tolist() == ["# Dialogues", "60", "–", "–"]
    assert summary.iloc[2, 1] == f"{len(corpus.utterances):,}"

    versus = read(out, "corpus_statistics_vs_reported")
    assert len(versus) == 15 and versus["key"].notna().sum() == 13
    ours = versus.dropna(subset=["key"]).set_index("key")["ours"]
    for record in reported.statistics_records(expected):
        assert ours[record.key] == pytest.approx(record.value)

    extra = read(out, "corpus_additional_statistics", index_col="key")["value"]
    assert extra["avg_turns_per_dialogue.total"] == pytest.approx(len(corpus.turns()) / 60)

    comparison = read(out, "corpus_comparison_values").set_index("dataset")
    assert comparison.loc["ESConv", "dialogues"] == 3  # the tiny ESConv written above
    assert comparison.loc["ESConv", "avg_utterances_per_dialogue"] == pytest.approx(3.0)
    assert comparison.loc["ESConv", "avg_turns_per_dialogue"] == pytest.approx(7 / 3)
    assert comparison.loc["KokoroChat", "dialogues"] == 60
    assert comparison.loc["AugESC", "dialogues"] == 65000
    printed = read(out, "corpus_comparison", dtype=str, keep_default_na=False).set_index("Dataset")
    assert printed.loc["AugESC", "Avg. utterances / dialogue"] == "26.7"  # the source's precision
    assert printed.loc["ESConv", "Avg. utterances / dialogue"] == "3.00"
    assert printed.loc["AugESC", "Avg. merged turns / dialogue"] == "–"
    assert read(out, "corpus_esconv_statistics", index_col="role").loc["total", "utterances"] == 9

    distributions = read(out, "corpus_distributions", index_col="distribution")
    assert distributions.loc["messages per session (total)", "n"] == 60
    assert distributions.loc["messages per session (total)", "mean"] == pytest.approx(
        len(corpus.utterances) / 60
    )
    assert distributions.loc["counselor response time", "n"] == len(
        measures.response_times(corpus.utterances)
    )

    vocabulary = read(out, "corpus_vocabulary", index_col="role")
    assert vocabulary.loc["total", "messages"] == len(corpus.utterances)
    assert (
        vocabulary.loc["counselor", "tokens"] + vocabulary.loc["client", "tokens"]
        == vocabulary.loc["total", "tokens"]
    )
    top = read(out, "corpus_top_content_lemmas")
    assert set(top["role"]) == {"counselor", "client"} and top["rank"].max() <= 20
    assert set(read(out, "corpus_heaps")["unit"]) == {"surface", "lemma"}
    marks = read(out, "corpus_paralinguistic_marks")
    assert list(marks["by"].unique()) == ["role", "topic", "band"]
    for by in ("role", "topic", "band"):  # every message is in exactly one group of each kind
        assert marks.loc[marks["by"] == by, "messages"].sum() == len(corpus.utterances)
    assert not top["surface"].isin(["笑", "A", "Ａ"]).any()

    for stem in FIGURES:
        for ext in ("pdf", "png"):
            assert (out / "figures" / f"{stem}.{ext}").stat().st_size > 0
    rows = report_rows(out, NOTEBOOK)
    assert rows["stats.dialogues.total"]["status"] == "differs"  # 60 synthetic sessions, not 6,589
    assert rows["peers.esconv.dialogues"]["status"] == "differs"  # 3 dialogues, not 1,300
    assert rows["peers.augesc.dialogues"]["status"] == "not reproducible"
    assert rows["stats.people_both_roles"]["status"] == "measured"


def test_notebook_01_subset_japanese_without_esconv(run_notebook, synthetic_dir, monkeypatch):
    monkeypatch.delenv("KOKORO_PEERS_DIR", raising=False)
    out = run_notebook(NOTEBOOK, data_dir=str(synthetic_dir), subset="high", lang="ja")
    high = load_corpus(synthetic_dir).subset("high")
    summary = read(out, "corpus_statistics_high_ja", dtype=str, keep_default_na=False)
    assert summary.columns[0] == "区分"
    assert summary.iloc[0, 1] == str(len(high.dialogues))
    comparison = read(out, "corpus_comparison_high_ja", dtype=str).set_index("データセット")
    assert "not found" in comparison.loc["ESConv", "出典"]
    assert comparison.loc["ESConv", "対話数"] == "1,300"  # as reported
    assert comparison.loc["KokoroChat", "対話数"] == f"{len(high.dialogues):,}"
    assert (out / "figures" / "corpus_top_content_lemmas_high_ja.png").exists()
    rows = report_rows(out, f"{NOTEBOOK}_high")
    assert rows["stats.dialogues.total"]["status"] == "measured"
    assert rows["peers.esconv.dialogues"]["status"] == "not reproducible"


@pytest.mark.realdata
def test_notebook_01_on_real_data(run_notebook, real_data_dir):
    out = run_notebook(NOTEBOOK, data_dir=str(real_data_dir))
    rows = report_rows(out, NOTEBOOK)
    stats = {key: row for key, row in rows.items() if key.startswith("stats.") and row["reported"]}
    assert len(stats) == 16 and all(
        row["status"] == "match" for row in stats.values()
    )  # 13 cells + years + items
    assert (
        rows["stats.collection.first_year"]["ours"],
        rows["stats.collection.last_year"]["ours"],
    ) == (2020, 2024)
    assert rows["stats.feedback_items"]["ours"] == 20
    assert rows["stats.people_both_roles"]["ours"] == 407
    assert rows["peers.kokorochat.avg_turns"]["status"] == "match"
    if rows["peers.esconv.dialogues"]["status"] != "not reproducible":  # KOKORO_PEERS_DIR set
        assert (
            rows["peers.esconv.dialogues"]["status"]
            == rows["peers.esconv.avg_turns"]["status"]
            == "match"
        )
    assert read(out, "corpus_statistics_vs_reported")["same_as_printed"].all()
