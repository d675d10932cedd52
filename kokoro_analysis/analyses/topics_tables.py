"""The published tables of notebook 02 (:class:`kokoro_analysis.published.TableSpec`): headers,
captions and formats of the topic shares, their comparison with the authors' figure, the sub-topic
rules, the score, year and length by topic and the distinguishing words.
"""

from __future__ import annotations

from kokoro_analysis.analyses.topics import rule_coverage_records
from kokoro_analysis.published import Column, TableSpec, Words, interval_columns, register

__all__ = [
    "DISTINGUISHING_WORDS",
    "LENGTH",
    "RULE_COVERAGE",
    "SCORE_CI",
    "SESSIONS",
    "SHARES",
    "SHARES_VS_REPORTED",
    "SHARE_BY_YEAR",
    "SHARE_DENOMINATORS",
    "SUBTOPIC_COUNTS",
    "TABLES",
    "TOPIC",
]

TOPIC = Column("label_en", Words("Main topic", "メイントピック"), key_ja="label_ja")
SESSIONS = Column("sessions", Words("Sessions", "セッション数"))

SHARES = TableSpec(
    "topic_shares",
    title=Words(
        "Sessions per main topic and share of all sessions.",
        "メイントピック別のセッション数と、全セッションに占める割合。",
    ),
    columns=(
        TOPIC,
        SESSIONS,
        Column(
            "share_pct",
            Words("Share (%)", "割合（%）"),
            "{:.2f}",
            means=Words("percent of all sessions", "全セッションに対する百分率"),
        ),
    ),
    width="column",
    index=False,
    thousands=True,
)
SHARES_VS_REPORTED = TableSpec(
    "topic_shares_vs_reported",
    title=Words(
        "Main-topic shares against the authors' figure (inner ring).",
        "著者の図（内側の輪）との比較。",
    ),
    index=False,
    thousands=True,
    formats={
        "share_pct": "{:.2f}",
        "reported_pct": "{:.1f}",
        "rounded_pct": "{:.1f}",
        "tolerance": "{:.1f}",
    },
)
SHARE_DENOMINATORS = TableSpec(
    "topic_share_denominators",
    title=Words(
        "Session counts and denominators that reproduce each printed share.",
        "印字された割合を再現するセッション数と分母。",
    ),
    index=False,
    thousands=True,
)
RULE_COVERAGE = TableSpec(
    "subtopic_rule_coverage",
    title=Words(
        "Share of sessions the keyword rules assign to a sub-topic label.",
        "キーワード規則が下位トピックを割り当てたセッションの割合。",
    ),
    index=False,
    thousands=True,
    formats={"assigned_pct": "{:.1f}"},
    records=rule_coverage_records,
)
SUBTOPIC_COUNTS = TableSpec(
    "subtopic_counts",
    title=Words(
        "Sessions per sub-topic (keyword-rule approximation).",
        "下位トピック（キーワード規則による近似）別のセッション数。",
    ),
    index=False,
    thousands=True,
    formats={"share_of_topic_pct": "{:.1f}", "share_pct": "{:.2f}"},
)
SCORE_CI = TableSpec(
    "topic_score_ci",
    title=Words(
        "Client feedback score (0–100) per main topic, sorted by median, then mean.",
        "メイントピック別のクライアント評価スコア（0〜100）。中央値、次に平均の降順。",
    ),
    columns=(
        TOPIC,
        Column(
            "sessions",
            Words("Sessions", "セッション数"),
            means=Words("sessions of the topic", "そのトピックのセッションの数"),
        ),
        Column("median", Words("Median", "中央値"), "{:.2f}"),
        Column("mean", Words("Mean", "平均"), "{:.2f}"),
        *interval_columns("{:.2f}"),
    ),
    width="full",
    index=False,
    thousands=True,
)
SHARE_BY_YEAR = TableSpec(
    "topic_share_by_year",
    title=Words(
        "Topic shares per year (% of the year's sessions).",
        "年ごとのトピック構成（その年のセッションに占める%）。",
    ),
    number_format="{:.1f}",
)
LENGTH = TableSpec(
    "topic_length",
    title=Words(
        "Session duration (min) and messages per session by topic.",
        "トピック別のセッション時間（分）とメッセージ数。",
    ),
    index=False,
    thousands=True,
    number_format="{:.1f}",
)
DISTINGUISHING_WORDS = TableSpec(
    "topic_distinguishing_words",
    title=Words(
        "Words distinguishing each topic ({role} utterances, content-word lemmas, log-odds ratio "
        "with informative Dirichlet prior).",
        "各トピックを特徴づける語（{role} の発話、内容語の見出し語、情報事前分布つき対数オッズ比）。",
    ),
    index=False,
    thousands=True,
    formats={
        "z": "{:.2f}",
        "delta": "{:.3f}",
        "rate_topic": "{:.2f}",
        "rate_other": "{:.2f}",
    },
)
TABLES = register(
    SHARES,
    SHARES_VS_REPORTED,
    SHARE_DENOMINATORS,
    RULE_COVERAGE,
    SUBTOPIC_COUNTS,
    SCORE_CI,
    SHARE_BY_YEAR,
    LENGTH,
    DISTINGUISHING_WORDS,
)
"""The published tables of this module by name (:class:`kokoro_analysis.published.TableSpec`)."""
