"""corpus_stats (with its printed and reported forms): the authors' statistics table on a hand-built
corpus (values computed by hand), merged turns and the further statistics, distributions, the
comparison table and the figure functions; on the real data (KOKOROCHAT_DATA) all 13 numbers of the
table at the printed precision."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.analyses import corpus_stats as cs
from kokoro_analysis.analyses import corpus_stats_reported as reported
from kokoro_analysis.analyses import corpus_stats_tables as tables
from kokoro_analysis.charts import corpus as charts
from kokoro_analysis.charts.fonts import check_japanese_glyphs
from kokoro_analysis.charts.style import paper_style
from kokoro_analysis.corpus import measures, schema
from kokoro_analysis.corpus.synthetic import make_session, write_corpus
from kokoro_analysis.stats.distributions import describe

# (counselor_id, client_id, [(role, seconds since start, text), ...]) per session
SESSIONS = {
    1: (
        1,
        2,
        [
            ("counselor", 0, "こんにちは"),
            ("client", 10, "はい"),
            ("client", 15, "よろしく"),
            ("counselor", 45, "どうぞ"),
        ],
    ),
    2: (2, 3, [("counselor", 0, "あ"), ("client", 0, "いいえ")]),
    3: (1, 4, [("counselor", 0, "ab"), ("counselor", 5, "cde"), ("client", 65, "f")]),
}


def _session(dialogue_id: int, counselor_id: int, client_id: int, messages) -> dict:
    session = make_session(dialogue_id, np.random.default_rng(dialogue_id))
    start = pd.Timestamp("2021-05-01 10:00:00")
    session["dialogue"] = [
        {
            "role": role,
            "time": (start + pd.Timedelta(seconds=s)).strftime(schema.TIME_FORMAT),
            "utterance": text,
        }
        for role, s, text in messages
    ]
    review_en, review_ja = session["review_by_client_en"], session["review_by_client_jp"]
    for key, value in (("counselor_id", counselor_id), ("client_id", client_id)):
        review_en[key] = value
        review_ja[schema.REVIEW_KEYS_JA[schema.REVIEW_KEYS_EN.index(key)]] = value
    return session


@pytest.fixture(scope="module")
def hand_corpus(tmp_path_factory):
    folder = write_corpus(
        tmp_path_factory.mktemp("hand"), {i: _session(i, *spec) for i, spec in SESSIONS.items()}
    )
    return load_corpus(folder, clone=False)


def test_statistics_table_by_hand(hand_corpus):
    table = cs.statistics_table(hand_corpus)
    assert list(table.index) == list(cs.STAT_ROWS) and list(table.columns) == [
        "total",
        "counselor",
        "client",
    ]
    assert table.loc["dialogues", "total"] == 3
    assert table.loc["dialogues", ["counselor", "client"]].isna().all()
    # counselors {1, 2}, clients {2, 3, 4}: id 2 played both roles, so the total is 4, not 5
    assert table.loc["speakers"].tolist() == [4, 2, 3]
    assert table.loc["utterances"].tolist() == [9, 5, 4]
    assert table.loc["avg_utterances_per_dialogue"].tolist() == pytest.approx([3.0, 5 / 3, 4 / 3])
    # characters: counselor 5+3+1+2+3 = 14, client 2+4+3+1 = 10
    assert table.loc["avg_chars_per_utterance"].tolist() == pytest.approx([24 / 9, 14 / 5, 10 / 4])


def test_statistics_records_and_paper_layout(hand_corpus):
    table = cs.statistics_table(hand_corpus)
    records = {record.key: record.value for record in reported.statistics_records(table)}
    assert len(records) == 13
    assert records["stats.speakers.total"] == 4 and isinstance(
        records["stats.utterances.client"], int
    )
    summary = tables.corpus_summary(table)
    assert summary.iloc[0].tolist() == ["# Dialogues", "3", "–", "–"]
    assert summary.iloc[4].tolist() == [
        "Avg. length / utterance (characters)",
        "2.67",
        "2.80",
        "2.50",
    ]
    assert tables.corpus_summary(table, lang="ja").columns[0] == "区分"


def test_statistics_vs_reported_has_15_cells(hand_corpus):
    versus = reported.statistics_vs_reported(cs.statistics_table(hand_corpus))
    assert len(versus) == 15
    assert versus["key"].notna().sum() == 13
    assert versus.loc[versus["key"] == "stats.dialogues.total", "reported"].item() == "6,589"
    assert not versus.loc[
        versus["key"].notna(), "same_as_printed"
    ].any()  # 3 sessions are not 6,589
    assert versus.loc[versus["key"].isna(), "same_as_printed"].all()  # the two "–" cells


def test_turns_and_additional_statistics(hand_corpus):
    turns = measures.turns_per_session(hand_corpus.utterances)
    # session 1: co | cl cl | co; session 2: co | cl; session 3: co co | cl
    assert turns.loc[[1, 2, 3], "total"].tolist() == [3, 2, 2]
    assert turns.loc[1, ["counselor", "client"]].tolist() == [2, 1]
    extra = cs.additional_statistics(hand_corpus)["value"]
    assert extra["people_both_roles"] == 1
    assert extra["people_counselor_only"] == 1 and extra["people_client_only"] == 2
    assert extra["avg_turns_per_dialogue.total"] == pytest.approx(7 / 3)
    assert extra["messages_per_turn"] == pytest.approx(9 / 7)


def test_people_and_sessions(hand_corpus):
    people = cs.people_roles(hand_corpus)
    assert people.loc[1].tolist() == [2, 0] and people.loc[2].tolist() == [1, 1]
    per_person = cs.sessions_per_person(hand_corpus)
    assert per_person["counselor"].to_dict() == {1: 2, 2: 1}
    assert per_person["client"].to_dict() == {2: 1, 3: 1, 4: 1}
    assert cs.sessions_per_year(hand_corpus).to_dict() == {2021: 3}


def test_describe():
    summary = describe([1, 2, 3, 4, 100, np.nan])
    assert summary["n"] == 5 and summary["mean"] == 22.0 and summary["median"] == 3.0
    assert summary["q1"] == 2.0 and summary["q3"] == 4.0 and summary["iqr"] == 2.0
    assert summary["sd"] == pytest.approx(np.std([1, 2, 3, 4, 100], ddof=1))
    assert summary["p5"] == pytest.approx(1.2) and summary["p95"] == pytest.approx(80.8)
    assert describe([])["n"] == 0


def test_distribution_summary(hand_corpus):
    summary = cs.distribution_summary(hand_corpus)
    assert summary.loc["messages per session (total)", "mean"] == 3.0
    assert summary.loc["counselor response time", "n"] == 1  # only session 1's last message
    assert summary.loc["counselor response time", "mean"] == 30.0
    assert summary.loc["client response time", "n"] == 3
    assert summary.loc["client response time", "mean"] == pytest.approx((10 + 0 + 60) / 3)
    assert summary.loc["session length", "max"] == pytest.approx(65 / 60)
    assert summary.loc["characters per message (client)", "n"] == 4
    assert set(summary.columns) >= {"unit", "n", "mean", "sd", "median", "iqr", "p5", "p95"}


def test_comparison_table_reported_and_measured(hand_corpus):
    reported_only = cs.comparison_table()
    assert reported_only["dataset"].tolist() == [
        "AugESC",
        "ESConv",
        "Client-Reactions",
        "KokoroChat",
    ]
    assert reported_only.set_index("dataset").loc["ESConv", "avg_utterances_per_dialogue"] == 29.5
    assert "not found" in reported_only.set_index("dataset").loc["ESConv", "source"]
    measured = cs.comparison_table(
        {
            "kokorochat": cs.kokorochat_comparison_row(
                hand_corpus, cs.statistics_table(hand_corpus), cs.additional_statistics(hand_corpus)
            )
        }
    ).set_index("dataset")
    row = measured.loc["KokoroChat"]
    assert row["dialogues"] == 3 and row["rating_items"] == 20 and row["language"] == "Japanese"
    assert row["avg_utterances_per_dialogue"] == 3.0 and row[
        "avg_turns_per_dialogue"
    ] == pytest.approx(7 / 3)
    assert row["avg_length_counselor"] == pytest.approx(2.8) and row["length_unit"] == "characters"
    assert measured.loc["AugESC", "dialogues"] == 65000
    labelled = tables.comparison_display(measured.reset_index(), lang="en").set_index("Dataset")
    assert labelled.loc["AugESC", "# Dialogues"] == "65,000"
    assert labelled.loc["AugESC", "Avg. utterances / dialogue"] == "26.7"  # reported precision
    assert labelled.loc["KokoroChat", "Avg. utterances / dialogue"] == "3.00"
    assert labelled.loc["AugESC", "Avg. length / utterance (client)"] == "–"
    assert tables.comparison_display(reported_only, lang="ja").columns[0] == "データセット"


def test_subset_table(synthetic_dir):
    corpus = load_corpus(synthetic_dir)
    high = corpus.subset("high")
    table = cs.statistics_table(high)
    assert (
        table.loc["dialogues", "total"]
        == len(high.dialogues)
        == int(schema.subset_mask(corpus.dialogues["score"], "high").sum())
    )
    assert table.loc["utterances", "total"] == len(high.utterances)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_figures_render_japanese(hand_corpus, synthetic_dir, lang):
    corpus = load_corpus(synthetic_dir)
    with paper_style():
        figures = [
            charts.distribution_chart(
                cs.messages_per_session(corpus),
                ("対話あたりのメッセージ数", "Messages"),
                lang=lang,
                bins=range(0, 50, 5),
            ),
            charts.distribution_chart(
                cs.response_times_by_role(corpus),
                ("応答時間（秒）", "Seconds"),
                lang=lang,
                log_x=True,
            ),
            charts.session_length_chart(corpus.dialogues["duration_min"], lang=lang),
            charts.sessions_per_year_chart(cs.sessions_per_year(corpus), lang=lang),
            charts.sessions_per_person_chart(cs.sessions_per_person(corpus), lang=lang),
            charts.both_roles_chart(cs.people_roles(corpus), lang=lang),
        ]
        for fig in figures:
            assert check_japanese_glyphs(fig) == []
    labels = [t.get_text() for t in figures[0].axes[0].get_legend().get_texts()]
    median = "中央値" if lang == "ja" else "Median"  # the dotted lines, one grey key
    assert labels == [charts.role_label(r, lang=lang) for r in ("total", "counselor", "client")] + [
        median
    ]


def test_log_bins_hold_integers():
    edges = charts._log_bins([np.array([1, 2, 3, 50, 700])], per_decade=12)
    assert edges[0] == 0.5 and edges[-1] >= 700
    assert np.all(np.diff(edges) >= 1)  # every bin holds at least one integer
    assert np.allclose(edges % 1, 0.5)


# --------------------------------------------------------------------------- real data


@pytest.mark.realdata
def test_statistics_table_on_real_data(real_corpus):
    table = cs.statistics_table(real_corpus)
    printed = {
        key: f"{value:,.{cs.STAT_ROWS[key.split('.')[1]][2]}f}"
        for key, value in ((r.key, r.value) for r in reported.statistics_records(table))
    }
    assert printed == {
        "stats.dialogues.total": "6,589",
        "stats.speakers.total": "480",
        "stats.speakers.counselor": "424",
        "stats.speakers.client": "463",
        "stats.utterances.total": "600,939",
        "stats.utterances.counselor": "306,495",
        "stats.utterances.client": "294,444",
        "stats.avg_utterances_per_dialogue.total": "91.20",
        "stats.avg_utterances_per_dialogue.counselor": "46.52",
        "stats.avg_utterances_per_dialogue.client": "44.69",
        "stats.avg_chars_per_utterance.total": "28.39",
        "stats.avg_chars_per_utterance.counselor": "35.84",
        "stats.avg_chars_per_utterance.client": "20.63",
    }
    assert reported.statistics_vs_reported(table)["same_as_printed"].all()
    extra = cs.additional_statistics(real_corpus)["value"]
    assert extra["people_both_roles"] == 407
    assert f"{extra['avg_turns_per_dialogue.total']:.2f}" == "71.63"


@pytest.mark.realdata
def test_statistics_table_on_real_high_subset(real_corpus):
    table = cs.statistics_table(real_corpus.subset("high"))
    assert table.loc["dialogues", "total"] == 2601
