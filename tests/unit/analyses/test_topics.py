"""Topic distribution analysis: shares, sub-topic rules, confidence intervals, word × topic counts.
Hand-built frames with hand-computed expectations; the real-data checks skip unless KOKOROCHAT_DATA
is set."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis.analyses import topics
from kokoro_analysis.charts import topics as topic_charts
from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.synthetic import TOPICS
from kokoro_analysis.text.tokens import Tokens

JP = {en: jp for jp, en, _ in TOPICS}
# sessions per topic in the released corpus (6,589 sessions); only counts, no data
RELEASED_COUNTS = {
    "Family Issues (Non-Spousal)": 1330,
    "Workplace Issues": 1123,
    "Mental Health Issues": 966,
    "School Issues": 928,
    "Career and Educational Issues": 848,
    "Romantic Issues": 454,
    "Family Issues (Spouse)": 438,
    "Interpersonal Issues": 306,
    "Financial Issues": 140,
    "Physical Health Issues": 49,
    "Others": 7,
}


def dialogues_from_counts(counts: dict[str, int]) -> pd.DataFrame:
    labels = [en for en, n in counts.items() for _ in range(n)]
    frame = pd.DataFrame({"topic_main_en": labels, "topic_main_jp": [JP[en] for en in labels]})
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="dialogue_id")
    return frame


def sessions(rows: list[tuple[str, str]]) -> pd.DataFrame:
    """Dialogues with (topic_main_en, topic_sub)."""
    frame = pd.DataFrame(rows, columns=["topic_main_en", "topic_sub"])
    frame["topic_main_jp"] = frame["topic_main_en"].map(JP)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="dialogue_id")
    return frame


# --------------------------------------------------------------------------- shares


def test_topic_shares_counts_order_and_percentages():
    frame = dialogues_from_counts({"Others": 1, "School Issues": 2, "Workplace Issues": 3})
    shares = topics.topic_shares(frame)
    assert shares["main_en"].tolist() == [
        "Workplace Issues",
        "School Issues",
        "Others",
    ]  # figure order, Others last
    assert shares["sessions"].tolist() == [3, 2, 1]
    assert shares["share_pct"].tolist() == pytest.approx([50.0, 100 / 3, 100 / 6])
    assert shares["share_pct"].sum() == pytest.approx(100.0)
    assert shares["label_en"].tolist() == ["Workplace", "School", "Others"]
    assert shares["label_ja"].tolist() == ["職場", "学校", "その他"]
    assert shares["main_jp"].tolist() == ["職場問題", "学校問題", "その他"]


def test_topic_shares_rejects_bad_input():
    with pytest.raises(ValueError, match="no sessions"):
        topics.topic_shares(
            dialogues_from_counts({}).reindex(columns=["topic_main_en", "topic_main_jp"])
        )
    frame = dialogues_from_counts({"School Issues": 2})
    frame.loc[2, "topic_main_jp"] = "学校"
    with pytest.raises(ValueError, match="several topic_main_jp"):
        topics.topic_shares(frame)
    with pytest.raises(KeyError, match="topic_main_jp"):
        topics.topic_shares(frame.drop(columns="topic_main_jp"))


# --------------------------------------------------------------------------- sub-topic rules


@pytest.mark.parametrize(
    "main_en, sub, expected",
    [
        (
            "Workplace Issues",
            "上司からのパワハラ問題",
            "Harassment",
        ),  # first matching rule wins over Hierarchy
        ("Workplace Issues", "上司とのコミュニケーション問題", "Hierarchy"),
        ("Workplace Issues", "同僚との人間関係のストレス", "Office Politics"),
        ("School Issues", "いじめによる登校拒否問題", "Bullying"),
        ("School Issues", "子どもの不登校問題", "School Refusal"),
        ("Mental Health Issues", "希死念慮の強さ", "Self-Harm"),
        ("Mental Health Issues", "睡眠障害による不安感", "Sleep Disorders"),
        ("Career and Educational Issues", "進学か就職かの選択に関する悩み", "Future Uncertainty"),
        ("Career and Educational Issues", "転職活動の不安と焦り", "Job Search"),
        ("Family Issues (Spouse)", "夫からのＤＶ問題", "DV"),  # full-width letters: NFKC-normalised
        (
            "Family Issues (Spouse)",
            "夫の言動による精神的ストレス",
            schema.OTHER_SUBTOPIC,
        ),  # ストレス is not レス
        ("Financial Issues", "パチンコによる借金問題", "Gambling"),
        ("Financial Issues", "生活費の不安", schema.OTHER_SUBTOPIC),
        ("Others", "趣味の釣りを辞めるかどうかの決心", schema.OTHER_SUBTOPIC),
    ],
)
def test_assign_subtopics_hand_examples(main_en, sub, expected):
    assignment = topics.assign_subtopics(sessions([(main_en, sub)]))
    assert assignment.loc[1, "subtopic_en"] == expected
    assert (assignment.loc[1, "rule"] == 0) == (expected == schema.OTHER_SUBTOPIC)


def test_rules_apply_only_within_their_main_topic_and_in_file_order(tmp_path):
    path = tmp_path / "rules.csv"
    path.write_text(
        "main_en,subtopic_en,subtopic_ja,keywords\n"
        "School Issues,Late,遅い,遅刻\n"
        "School Issues,Teacher,先生,先生|教師\n"
        "School Issues,Late,遅い,寝坊\n"
        "Workplace Issues,Boss,上司,上司\n",
        encoding="utf-8",
    )
    rules = topics.load_subtopic_rules(path)
    assert rules["rule"].tolist() == [1, 2, 3, 4] and rules.loc[0, "keywords"] == ("遅刻",)
    frame = sessions(
        [
            ("School Issues", "先生に遅刻を怒られた"),
            ("School Issues", "寝坊"),
            ("School Issues", "上司"),
            ("Workplace Issues", "上司と先生"),
            ("Others", "先生"),
        ]
    )
    assignment = topics.assign_subtopics(frame, rules)
    assert assignment["subtopic_en"].tolist() == ["Late", "Late", "other", "Boss", "other"]
    assert assignment["rule"].tolist() == [1, 3, 0, 4, 0]
    assert assignment["subtopic_ja"].tolist() == ["遅い", "遅い", "その他", "上司", "その他"]

    counts = topics.subtopic_counts(assignment, rules)
    school = counts[counts["main_en"] == "School Issues"]
    assert school["subtopic_en"].tolist() == ["Late", "Teacher", "other"]  # by sessions, other last
    assert school["sessions"].tolist() == [2, 0, 1]
    assert school["share_of_topic_pct"].tolist() == pytest.approx([200 / 3, 0, 100 / 3])
    assert counts["sessions"].sum() == len(frame)
    assert counts["share_pct"].sum() == pytest.approx(100.0)

    coverage = topics.rule_coverage(assignment).set_index("main_en")
    assert coverage.loc["School Issues", ["sessions", "assigned"]].tolist() == [3, 2]
    assert coverage.loc["Others", "assigned_pct"] == 0
    assert coverage.loc["All", ["sessions", "assigned"]].tolist() == [5, 3]
    assert coverage.loc["All", "assigned_pct"] == pytest.approx(60.0)


@pytest.mark.parametrize(
    "text, message",
    [
        ("main_en,label,keywords\nSchool Issues,A,x\n", "columns"),
        ("main_en,subtopic_en,subtopic_ja,keywords\nSchool Issues,A,あ, | \n", "without keywords"),
        ("main_en,subtopic_en,subtopic_ja,keywords\nSchool Issues,other,他,x\n", "reserved"),
        (
            "main_en,subtopic_en,subtopic_ja,keywords\nSchool Issues,A,あ,x\nSchool Issues,A,い,y\n",
            "Japanese labels",
        ),
    ],
)
def test_bad_rule_files_are_rejected(tmp_path, text, message):
    path = tmp_path / "rules.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        topics.load_subtopic_rules(path)


def test_shipped_rules_use_the_figures_labels():
    rules = topics.load_subtopic_rules()
    labels = rules.groupby("main_en")["subtopic_en"].apply(set)
    assert labels["Financial Issues"] == {"Bankruptcy", "Debt", "Gambling"}
    assert labels["Physical Health Issues"] == {"Post-COVID Symptoms", "Health Maintenance"}
    assert len(labels["Family Issues (Non-Spousal)"]) == 10 and len(labels["Workplace Issues"]) == 9
    assert set(labels.index) == {t.main_en for t in schema.MAIN_TOPICS} - {"Others"}


# --------------------------------------------------------------------------- confidence intervals


def test_mean_ci_t_interval_hand_computed():
    mean, low, high = topics.mean_ci([1, 2, 3, 4, 5])
    # s = sqrt(2.5), se = s / sqrt(5) = 0.70711, t(0.975, 4) = 2.776445
    assert mean == 3.0
    assert low == pytest.approx(3 - 2.776445 * 0.7071068, abs=1e-5)
    assert high == pytest.approx(3 + 2.776445 * 0.7071068, abs=1e-5)
    _, low90, high90 = topics.mean_ci([1, 2, 3, 4, 5], level=0.90)  # t(0.95, 4) = 2.131847
    assert high90 - low90 == pytest.approx(2 * 2.131847 * 0.7071068, abs=1e-5)


def test_mean_ci_bootstrap_is_seeded_and_sensible():
    values = np.arange(50, dtype=float)
    first = topics.mean_ci(values, method="bootstrap", seed=3, n_boot=2000)
    assert first == topics.mean_ci(values, method="bootstrap", seed=3, n_boot=2000)
    assert first != topics.mean_ci(values, method="bootstrap", seed=4, n_boot=2000)
    mean, low, high = first
    t_mean, t_low, t_high = topics.mean_ci(values)
    assert mean == t_mean and low < mean < high
    assert low == pytest.approx(t_low, abs=1.0) and high == pytest.approx(t_high, abs=1.0)
    assert topics.mean_ci([7, 7, 7], method="bootstrap", n_boot=100) == (7.0, 7.0, 7.0)


def test_mean_ci_edge_cases():
    mean, low, high = topics.mean_ci([4.0])
    assert mean == 4.0 and math.isnan(low) and math.isnan(high)
    assert all(math.isnan(v) for v in topics.mean_ci([]))
    with pytest.raises(ValueError, match="method"):
        topics.mean_ci([1, 2], method="normal")
    with pytest.raises(ValueError, match="level"):
        topics.mean_ci([1, 2], level=95)


def test_score_by_topic_orders_by_median():
    frame = sessions([("School Issues", "")] * 3 + [("Workplace Issues", "")] * 2)
    frame["score"] = [10, 20, 90, 50, 60]
    table = topics.score_by_topic(frame, method="t")
    assert table["main_en"].tolist() == ["Workplace Issues", "School Issues"]  # medians 55 > 20
    school = table.set_index("main_en").loc["School Issues"]
    assert (
        school["sessions"] == 3 and school["mean"] == pytest.approx(40.0) and school["median"] == 20
    )
    assert school["ci_low"] < 40 < school["ci_high"]


def test_score_by_topic_two_way_interval_resamples_the_topic_raters_and_counselors():
    from kokoro_analysis.stats.resampling import percentile_interval, two_way_bootstrap_counts

    frame = sessions([("School Issues", "")] * 6 + [("Workplace Issues", "")] * 4)
    frame["score"] = [10.0, 20, 90, 40, 70, 30, 50, 60, 55, 65]
    frame["client_id"] = [1, 1, 2, 2, 3, 3, 1, 4, 4, 5]
    frame["counselor_id"] = [7, 8, 7, 9, 8, 9, 7, 7, 8, 8]
    table = topics.score_by_topic(frame, n_boot=500, seed=2).set_index("main_en")
    school = frame.iloc[:6]
    weights = two_way_bootstrap_counts(school["client_id"], school["counselor_id"], 500, 2).astype(
        float
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        means = weights @ school["score"].to_numpy() / weights.sum(axis=1)
    expected = percentile_interval(means)
    row = table.loc["School Issues"]
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(expected)
    assert table.attrs["ci_method"] == "two_way"
    with pytest.raises(ValueError, match="method"):
        topics.mean_ci([1.0, 2.0], method="two_way")


def test_share_by_year_and_length_tables():
    frame = sessions(
        [("School Issues", ""), ("School Issues", ""), ("Workplace Issues", ""), ("Others", "")]
    )
    frame["year"] = pd.array([2020, 2021, 2021, 2021], dtype="Int64")
    frame["duration_min"] = [60.0, 70.0, 80.0, 90.0]
    frame["n_messages"] = [50, 70, 90, 100]
    by_year, per_year = topics.topic_share_by_year(frame)
    assert by_year.index.tolist() == ["Workplace Issues", "School Issues", "Others"]
    assert by_year.sum(axis=0).tolist() == pytest.approx([100.0, 100.0])
    assert by_year.loc["School Issues", 2021] == pytest.approx(100 / 3)
    assert per_year.to_dict() == {2020: 1, 2021: 3}
    heatmap = topic_charts.share_by_year_chart(by_year, per_year)
    assert [t.get_text() for t in heatmap.axes[0].get_xticklabels()] == ["2020\n1", "2021\n3"]
    lengths = topics.length_by_topic(frame).set_index("main_en")
    assert lengths.loc["School Issues", "duration_min_median"] == 65.0
    assert lengths.loc["School Issues", "messages_mean"] == 60.0


# --------------------------------------------------------------------------- words


@pytest.fixture
def tiny_corpus():
    dialogues = sessions([("School Issues", ""), ("Workplace Issues", ""), ("Others", "")])
    dialogues.index = pd.Index([10, 20, 30], name="dialogue_id")
    utterances = pd.DataFrame(
        {
            "dialogue_id": [10, 10, 20, 20, 30],
            "role": pd.Categorical(["client", "counselor", "client", "client", "client"]),
        },
        index=pd.Index([100, 101, 102, 103, 104]),
    )
    tokens = pd.DataFrame(
        {
            "utterance": [100, 100, 101, 102, 103, 103, 104, 999],
            "lemma": pd.Categorical(
                ["学校", "先生", "学校", "上司", "上司", "学校", "趣味", "上司"]
            ),
            "surface": pd.Categorical(
                ["学校", "先生", "学校", "上司", "上司", "学校", "趣味", "上司"]
            ),
        }
    )
    return tokens, utterances, dialogues


def test_word_topic_counts_by_role(tiny_corpus):
    tokens, utterances, dialogues = tiny_corpus
    client = topics.word_topic_counts(tokens, utterances, dialogues, role="client")
    assert client.columns.tolist() == ["Workplace Issues", "School Issues", "Others"]
    expected = pd.DataFrame(
        {"Workplace Issues": [2, 1, 0, 0], "School Issues": [0, 1, 1, 0], "Others": [0, 0, 0, 1]},
        index=["上司", "学校", "先生", "趣味"],
    )
    pd.testing.assert_frame_equal(
        client.loc[expected.index], expected, check_names=False, check_dtype=False
    )
    assert len(client) == 4  # the utterance 999 is not in the corpus
    counselor = topics.word_topic_counts(tokens, utterances, dialogues, role="counselor")
    assert counselor.to_dict() == {
        "Workplace Issues": {"学校": 0},
        "School Issues": {"学校": 1},
        "Others": {"学校": 0},
    }
    both = topics.word_topic_counts(tokens, utterances, dialogues, role="both")
    assert both.to_numpy().sum() == 7
    with pytest.raises(ValueError, match="role"):
        topics.word_topic_counts(tokens, utterances, dialogues, role="user")


def test_word_topic_counts_ignores_sessions_outside_the_dialogues(tiny_corpus):
    tokens, utterances, dialogues = tiny_corpus
    counts = topics.word_topic_counts(tokens, utterances, dialogues.loc[[20]], role="both")
    assert counts.columns.tolist() == ["Workplace Issues"] and counts.to_numpy().sum() == 3


def test_distinguishing_words_by_topic_rows_per_topic():
    counts = pd.DataFrame(
        {
            "Workplace Issues": [50, 5, 20, 1],
            "School Issues": [5, 60, 20, 1],
            "Mental Health Issues": [5, 5, 20, 40],
            "Others": [0, 0, 3, 0],
        },
        index=pd.Index(["上司", "学校", "思う", "栗鼠"], name="lemma"),
    )
    surfaces = pd.Series({"上司": "上司", "学校": "学校", "思う": "思う", "栗鼠": "リス"})
    words = topics.distinguishing_words_by_topic(counts, top=2, min_count=1, surfaces=surfaces)
    assert set(words["main_en"]) == {
        "Workplace Issues",
        "School Issues",
        "Mental Health Issues",
    }  # no Others
    assert words.groupby("main_en").size().tolist() == [2, 2, 2]
    best = words[words["rank"] == 1].set_index("main_en")["lemma"].to_dict()
    assert best == {
        "Workplace Issues": "上司",
        "School Issues": "学校",
        "Mental Health Issues": "栗鼠",
    }
    assert words.set_index("lemma").loc["栗鼠", "display"] == "リス"  # the usual written form
    assert words.set_index("lemma").loc["上司", "display"] == "上司"
    row = words[(words["main_en"] == "Workplace Issues") & (words["rank"] == 1)].iloc[0]
    assert (row["count_topic"], row["count_other"]) == (50, 10)
    with pytest.raises(ValueError, match="two topics"):
        topics.distinguishing_words_by_topic(counts[["School Issues", "Others"]])


def test_distinguishing_words_display_from_usual_surfaces():
    tokens = Tokens(
        pd.DataFrame(
            {
                "utterance": range(6),
                "lemma": pd.Categorical(["迚も", "迚も", "迚も", "死ぬ", "死ぬ", "上司"]),
                "surface": pd.Categorical(["とても", "とても", "迚も", "死に", "死ん", "上司"]),
                "base": pd.Categorical(["とても", "とても", "迚も", "死ぬ", "死ぬ", "上司"]),
            }
        )
    )
    counts = pd.DataFrame(
        {"Workplace Issues": [1, 1, 30], "School Issues": [30, 30, 1]},
        index=pd.Index(["迚も", "死ぬ", "上司"], name="lemma"),
    )
    words = topics.distinguishing_words_by_topic(
        counts, top=3, min_count=1, surfaces=tokens.usual_surfaces(counts.index)
    )
    display = words.drop_duplicates("lemma").set_index("lemma")["display"].to_dict()
    assert display == {"迚も": "とても", "死ぬ": "死ぬ", "上司": "上司"}  # base forms, not 死に
    assert (
        topics.distinguishing_words_by_topic(counts, top=3, min_count=1)["display"].tolist()
        == words["lemma"].tolist()
    )  # without surfaces: the lemmas


# --------------------------------------------------------------------------- real data


@pytest.mark.realdata
def test_real_high_subset_and_rule_coverage(real_corpus):
    high = real_corpus.subset("high").dialogues
    shares = topics.topic_shares(high)
    assert shares["sessions"].sum() == 2601 and shares["share_pct"].sum() == pytest.approx(100)
    coverage = topics.rule_coverage(topics.assign_subtopics(real_corpus.dialogues)).set_index(
        "main_en"
    )
    assert coverage.loc["All", "sessions"] == 6589
    assert 70 <= coverage.loc["All", "assigned_pct"] <= 85  # 75.7 % with the shipped rules
