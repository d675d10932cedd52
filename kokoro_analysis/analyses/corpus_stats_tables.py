"""How notebook 01 prints the corpus statistics: the statistics table and the cross-corpus
comparison with labels and formatted cells, and the declarations of the notebook's published tables
(:class:`kokoro_analysis.published.TableSpec`; the vocabulary tables of
:mod:`kokoro_analysis.text.lexical` too).

The numbers come from :mod:`kokoro_analysis.analyses.corpus_stats`, the records from
:mod:`kokoro_analysis.analyses.corpus_stats_reported`.
"""

from __future__ import annotations

import pandas as pd

from kokoro_analysis.analyses.corpus_stats import PEERS, STAT_ROWS
from kokoro_analysis.analyses.corpus_stats_reported import additional_records, vocabulary_records
from kokoro_analysis.corpus import schema
from kokoro_analysis.published import ROLE_CELLS, YES_NO, Column, TableSpec, Words, register
from kokoro_analysis.reported import load_reported

__all__ = [
    "ADDITIONAL_STATISTICS",
    "COMPARISON",
    "COMPARISON_LABELS",
    "COMPARISON_PAPER",
    "COMPARISON_VALUES",
    "DISTRIBUTIONS",
    "HEAPS",
    "LANGUAGE_CELLS",
    "LENGTH_UNIT_CELLS",
    "SESSIONS_PER_YEAR",
    "STATISTICS",
    "STATISTICS_VS_REPORTED",
    "TABLES",
    "TOKENS_PER_MESSAGE",
    "TOP_CONTENT_LEMMAS",
    "VOCABULARY",
    "comparison_display",
    "comparison_paper",
    "corpus_summary",
]


def corpus_summary(table: pd.DataFrame, *, lang: str = "en") -> pd.DataFrame:
    """The statistics table as the paper prints it: labelled rows, counts with thousands separators,
    averages with two decimals, "–" for cells the authors leave empty (text cells)."""
    rows = []
    for key, values in table.iterrows():
        label_ja, label_en, decimals = STAT_ROWS[str(key)]
        cells = ["–" if pd.isna(v) else f"{v:,.{decimals}f}" for v in values]
        rows.append([schema.pick(label_ja, label_en, lang=lang), *cells])
    header = [
        schema.pick("区分", "Category", lang=lang),
        schema.pick("全体", "Total", lang=lang),
        *(schema.pick(*schema.ROLE_LABELS[role], lang=lang) for role in schema.ROLE_COLUMNS[1:]),
    ]
    return pd.DataFrame(rows, columns=header)


COMPARISON_LABELS = {
    "dataset": ("データセット", "Dataset"),
    "manual": ("人手収集", "Manual"),
    "rating_items": ("評価項目数", "# Rating items"),
    "language": ("言語", "Language"),
    "dialogues": ("対話数", "# Dialogues"),
    "avg_utterances_per_dialogue": ("平均発話数／対話", "Avg. utterances / dialogue"),
    "avg_turns_per_dialogue": (
        "平均ターン数（連続発話を結合）／対話",
        "Avg. merged turns / dialogue",
    ),
    "length_unit": ("長さの単位", "Length unit"),
    **{
        f"avg_length_{role}": (
            f"平均長／発話（{schema.ROLE_LABELS[role][0]}）",
            f"Avg. length / utterance ({role})",
        )
        for role in schema.ROLES
    },
    "source": ("出典", "Source"),
}
"""Display labels (Japanese, English) of the
:func:`~kokoro_analysis.analyses.corpus_stats.comparison_table` columns."""


def comparison_display(table: pd.DataFrame, *, lang: str = "en") -> pd.DataFrame:
    """:func:`~kokoro_analysis.analyses.corpus_stats.comparison_table` for the paper: labelled
    columns and numbers as text, reported cells at the precision the source prints (e.g. 26.7),
    measured averages with two decimals, "–" where there is no value."""
    reported = load_reported()
    names = {v: k for k, v in PEERS.items()}
    rows = []
    for _, record in table.iterrows():
        key = f"peers.{names.get(record['dataset'], '')}.avg_turns"
        measured = str(record["source"]).startswith("computed")
        decimals = (
            2 if measured or key not in reported.index else int(reported.loc[key, "decimals"])
        )
        row = record.to_dict()
        row.update({column: _cell(record[column], 0) for column in ("dialogues", "rating_items")})
        row["avg_utterances_per_dialogue"] = _cell(record["avg_utterances_per_dialogue"], decimals)
        row.update(
            {
                column: _cell(record[column], 2)
                for column in (
                    "avg_turns_per_dialogue",
                    "avg_length_counselor",
                    "avg_length_client",
                )
            }
        )
        row["length_unit"] = record["length_unit"] or "–"
        rows.append(row)
    frame = pd.DataFrame(rows, columns=table.columns)
    return frame.rename(
        columns={k: schema.pick(*v, lang=lang) for k, v in COMPARISON_LABELS.items()}
    )


def comparison_paper(table: pd.DataFrame) -> pd.DataFrame:
    """The corpus comparison as a paper table (:data:`COMPARISON_PAPER`, fits the text width of an ACL
    paper): one row per dataset, numbers as numbers (one format per column), each row's length unit
    next to its lengths; ``attrs["reported_rows"]`` names the rows reported rather than computed."""
    out = table.loc[:, [column.key for column in COMPARISON_PAPER.columns]].copy()
    out["length_unit"] = out["length_unit"].where(out["length_unit"].astype(bool), None)
    reported = [d for d, s in zip(table["dataset"], table["source"]) if s.startswith("reported")]
    out.attrs["reported_rows"] = Words(
        f" Rows {', '.join(reported)}: as reported by a secondary source." if reported else "",
        f"{'、'.join(reported)} の行は二次資料の報告値。" if reported else "",
    )
    return out


def _cell(value: object, decimals: int) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):,.{decimals}f}"


# --------------------------------------------------------------------------- published tables


def _role_column(role: str) -> Column:
    label_ja, label_en = schema.ROLE_LABELS[role]
    return Column(label_en, Words(label_en, label_ja), key_ja=label_ja)


STATISTICS = TableSpec(
    "corpus_statistics",
    title=Words(
        "KokoroChat corpus statistics computed from the data: each category in total and per role "
        "(counselor, client); –: not applicable.",
        "データから算出した KokoroChat のコーパス統計：区分ごとの全体と役割別（カウンセラー、"
        "クライアント）の値。–：該当なし。",
    ),
    columns=(
        Column("Category", Words("Category", "区分"), key_ja="区分"),
        Column("Total", Words("Total", "全体"), key_ja="全体"),
        *(_role_column(role) for role in schema.ROLES),
    ),
    width="full",  # 284 pt: the row labels are the paper's own
)
STATISTICS_VS_REPORTED = TableSpec(
    "corpus_statistics_vs_reported",
    title=Words(
        "The corpus statistics against the values the authors print.",
        "コーパス統計と著者の印字値の比較。",
    ),
    formats={"ours": "{:,.6g}"},  # counts as 6,589, not 6589.0000
)
ADDITIONAL_STATISTICS = TableSpec(
    "corpus_additional_statistics",
    title=Words("Further corpus statistics.", "その他のコーパス統計。"),
    formats={"value": "{:,.2f}"},
    records=additional_records,
)
COMPARISON_VALUES = TableSpec(
    "corpus_comparison_values",
    title=Words(
        "Dialogue datasets compared, full precision.", "対話データセットの比較（全精度）。"
    ),
    thousands=True,
    number_format="{:.2f}",
)
COMPARISON = TableSpec(
    "corpus_comparison",
    title=Words("Dialogue datasets compared.", "対話データセットの比較。"),
)
LANGUAGE_CELLS = {
    "English": Words("English", "英語"),
    "Chinese": Words("Chinese", "中国語"),
    "Japanese": Words("Japanese", "日本語"),
}
LENGTH_UNIT_CELLS = {
    "characters": Words("chars", "文字"),
    "words (whitespace tokens)": Words("words", "語"),
}
COMPARISON_PAPER = TableSpec(
    "corpus_comparison_paper",
    title=Words("Dialogue datasets compared.", "対話データセットの比較。"),
    columns=(
        Column("dataset", Words("Dataset", "データセット")),
        Column(
            "language",
            Words("Lang.", "言語"),
            cells=LANGUAGE_CELLS,
            means=Words("language of the dialogues", "対話の言語"),
        ),
        Column(
            "manual",
            Words("Manual", "人手"),
            cells=YES_NO,
            means=Words("collected from people, not generated", "人が作成（生成ではない）"),
        ),
        Column(
            "rating_items",
            Words("Items", "項目"),
            "{:,.0f}",
            means=Words("rating items per dialogue", "対話ごとの評価項目の数"),
        ),
        Column(
            "dialogues",
            Words("Dial.", "対話数"),
            "{:,.0f}",
            means=Words("number of dialogues", "対話の数"),
        ),
        Column(
            "avg_utterances_per_dialogue",
            Words("Utts.", "発話数"),
            "{:.1f}",
            means=Words("stored utterances per dialogue", "対話あたりの保存発話数"),
        ),
        Column(
            "avg_turns_per_dialogue",
            Words("Turns", "ターン数"),
            "{:.1f}",
            means=Words(
                "turns per dialogue, consecutive messages of one speaker merged",
                "同じ話者の連続発話を結合した対話あたりのターン数",
            ),
        ),
        Column(
            "length_unit",
            Words("Unit", "単位"),
            cells=LENGTH_UNIT_CELLS,
            means=Words(
                "unit of the two lengths (chars: characters; words: whitespace-separated)",
                "2つの長さの単位（語：空白区切り）",
            ),
        ),
        Column(
            "avg_length_counselor",
            Words("Len. co.", "長さ（カ）"),
            "{:.1f}",
            means=Words("mean length of a counselor utterance", "カウンセラーの発話の平均長"),
        ),
        Column(
            "avg_length_client",
            Words("Len. cl.", "長さ（ク）"),
            "{:.1f}",
            means=Words("mean length of a client utterance", "クライアントの発話の平均長"),
        ),
    ),
    method=Words(
        "Language, manual and items are as reported.{reported_rows} –: not available.",
        "言語・人手・評価項目は報告値。{reported_rows}–：値なし。",
    ),
    width="full",
    index=False,
    missing="–",
)
DISTRIBUTIONS = TableSpec(
    "corpus_distributions",
    title=Words(
        "Distributions of session and message sizes.", "セッションとメッセージの大きさの分布。"
    ),
    number_format="{:,.2f}",
)
TOKENS_PER_MESSAGE = TableSpec(
    "corpus_tokens_per_message",
    title=Words(
        "MeCab tokens per message, in total and by role.",
        "メッセージあたりの MeCab トークン数（全体と役割別）。",
    ),
    number_format="{:,.2f}",
)
SESSIONS_PER_YEAR = TableSpec(
    "corpus_sessions_per_year",
    title=Words("Sessions per year.", "年ごとのセッション数。"),
    formats={"year": "{:d}"},
)
VOCABULARY = TableSpec(
    "corpus_vocabulary",
    title=Words(
        "Vocabulary of KokoroChat by role (MeCab with UniDic-lite): messages and tokens in total "
        "and by role (counselor, client).",
        "役割別の KokoroChat の語彙（MeCab、UniDic-lite）：全体と役割別（カウンセラー、クライアント）の"
        "メッセージ数とトークン数。",
    ),
    columns=(
        Column("role", Words("Role", "役割"), cells=ROLE_CELLS),
        Column("messages", Words("Messages", "メッセージ数")),
        Column("tokens", Words("Tokens", "トークン数")),
        Column(
            "tokens_per_message",
            Words("Tokens/message", "トークン／発話"),
            "{:.2f}",
            means=Words("mean tokens per message", "メッセージあたりの平均トークン数"),
        ),
        Column(
            "surfaces",
            Words("Surface types", "表層形数"),
            means=Words("distinct surface forms", "異なる表層形の数"),
        ),
        Column(
            "lemmas",
            Words("Lemma types", "見出し語数"),
            means=Words("distinct lemmas", "異なる見出し語の数"),
        ),
        Column(
            "dist_1",
            Words("Dist-1", "Dist-1"),
            "{:.3f}",
            means=Words(
                "distinct surface unigrams per 100 unigrams",
                "100 ユニグラムあたりの異なり表層ユニグラム数",
            ),
        ),
        Column(
            "dist_2",
            Words("Dist-2", "Dist-2"),
            "{:.3f}",
            means=Words(
                "distinct surface bigrams per 100 bigrams",
                "100 バイグラムあたりの異なり表層バイグラム数",
            ),
        ),
    ),
    width="full",
    index=False,
    thousands=True,
    records=vocabulary_records,
)
HEAPS = TableSpec(
    "corpus_heaps",
    title=Words(
        "Heaps' law fits of the vocabulary growth.", "語彙の増え方への Heaps の法則の当てはめ。"
    ),
    formats={"K": "{:.2f}", "beta": "{:.3f}"},
)
TOP_CONTENT_LEMMAS = TableSpec(
    "corpus_top_content_lemmas",
    title=Words("Most frequent content lemmas by role.", "役割別の高頻度の内容語見出し語。"),
    thousands=True,
    formats={"per_1000": "{:.2f}", "messages_share": "{:.2f}"},
)
TABLES = register(
    STATISTICS,
    STATISTICS_VS_REPORTED,
    ADDITIONAL_STATISTICS,
    COMPARISON_VALUES,
    COMPARISON,
    COMPARISON_PAPER,
    DISTRIBUTIONS,
    TOKENS_PER_MESSAGE,
    SESSIONS_PER_YEAR,
    VOCABULARY,
    HEAPS,
    TOP_CONTENT_LEMMAS,
)
"""The published tables of notebook 01 by name (:class:`kokoro_analysis.published.TableSpec`; the
vocabulary tables of :mod:`kokoro_analysis.text.lexical` too)."""
