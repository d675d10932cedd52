"""The published-table declaration: printed columns per language, the caption built from them, the
headline interval the analysis names, shared cell vocabulary and the registry."""

from __future__ import annotations

import pandas as pd
import pytest

from kokoro_analysis import published
from kokoro_analysis.publish.tables import formatted, write_table
from kokoro_analysis.published import (
    ROLE_CELLS,
    YES_NO,
    Column,
    Interval,
    TableSpec,
    Words,
    headline,
    interval_columns,
    name_headline,
    register,
)


@pytest.fixture
def means() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "role": ["counselor", "client"],
            "mean": [3.456, 2.5],
            "ci_low": [3.4, 2.4],
            "ci_high": [3.5, 2.6],
            "ci_low_rater": [3.2, 2.1],
            "ci_high_rater": [3.7, 2.9],
            "flagged": [True, False],
        }
    )
    frame.attrs["n_bootstrap"] = 1000
    frame.attrs["statistic"] = Words("Mean", "平均")
    return name_headline(
        frame,
        Interval(
            "ci_low_rater",
            "ci_high_rater",
            Words(
                "percentile bootstrap over {n_bootstrap:,} resamples of whole raters",
                "評価者ごとの再標本化 {n_bootstrap:,} 回のパーセンタイル・ブートストラップ",
            ),
        ),
    )


SPEC = TableSpec(
    "role_means",
    title=Words("{statistic} answer by role.", "役割別の{statistic}回答。"),
    columns=(
        Column("role", Words("Role", "役割"), cells=ROLE_CELLS),
        Column("mean", Words("Mean", "平均"), "{:.2f}", means=Words("mean answer", "回答の平均")),
        *interval_columns("{:.2f}"),
        Column("flagged", Words("Flagged", "フラグ"), cells=YES_NO),
    ),
    method=Words("Flagged: any check flag set.", "フラグ：確認フラグのいずれかが立つ。"),
    width="column",
)


def test_caption_names_printed_columns_and_what_the_interval_resamples(means):
    assert SPEC.caption(means) == (
        "Mean answer by role. Mean: mean answer; 95% CI: percentile bootstrap over 1,000 "
        "resamples of whole raters. Flagged: any check flag set."
    )
    assert SPEC.caption(means, "ja") == (
        "役割別の平均回答。平均：回答の平均；95%信頼区間：評価者ごとの再標本化 1,000 回の"
        "パーセンタイル・ブートストラップ。フラグ：確認フラグのいずれかが立つ。"
    )


def test_the_headline_interval_is_printed_and_others_stay_in_the_csv(tmp_path, means):
    paths = write_table(means, SPEC, tmp_path)
    md = paths["md"].read_text(encoding="utf-8")
    assert md.splitlines()[0] == "| Role | Mean | 95% CI low | 95% CI high | Flagged |"
    assert "| counselor | 3.46 | 3.20 | 3.70 | yes |" in md
    assert "ci_low_rater" in paths["csv"].read_text(encoding="utf-8").splitlines()[0]
    tex = paths["tex"].read_text(encoding="utf-8")
    assert r" &  & \multicolumn{2}{c}{95\% CI} &  \\" in tex
    assert r"\cmidrule(lr){3-4}" in tex and r"Role & Mean & low & high & Flagged \\" in tex


def test_japanese_table_translates_text_cells(means):
    view = formatted(means, SPEC, lang="ja")
    assert list(view.columns) == [
        "役割",
        "平均",
        "95%信頼区間 下限",
        "95%信頼区間 上限",
        "フラグ",
    ]
    assert view["役割"].tolist() == ["カウンセラー", "クライアント"]
    assert view["フラグ"].tolist() == ["はい", "いいえ"]


def test_a_frame_without_a_headline_or_a_placeholder_value_is_refused(means):
    bare = means.drop(columns=["flagged"]).copy()
    bare.attrs = {}
    with pytest.raises(KeyError, match="names no headline interval"):
        headline(bare)
    with pytest.raises(KeyError, match=r"role_means.*statistic"):
        SPEC.caption(name_headline(bare, Interval("ci_low", "ci_high", Words("t", "t"))))
    with pytest.raises(KeyError, match="not in the frame"):
        name_headline(bare, Interval("lo", "hi", Words("", "")))


def test_paper_table_needs_title_and_columns_which_carry_their_formats():
    with pytest.raises(ValueError, match="paper table x"):
        TableSpec("x", width="column")
    with pytest.raises(ValueError, match="declared columns carry their own formats"):
        TableSpec("y", columns=SPEC.columns, formats={"sd": "{:.2f}"})


def test_a_name_is_declared_once():
    first = TableSpec("test_published_once")
    assert register(first) == {"test_published_once": first}
    assert published.REGISTRY["test_published_once"] is first
    register(TableSpec("test_published_once", thousands=True))  # same module: a reload
    with pytest.raises(ValueError, match="already declared"):
        register(TableSpec("test_published_twice"), TableSpec("test_published_twice"))
    for name in ("test_published_once", "test_published_twice"):
        published.REGISTRY.pop(name, None)
        published._DECLARED_IN.pop(name, None)


PAPER_TABLES = {
    "corpus_statistics",
    "corpus_vocabulary",
    "corpus_comparison_paper",
    "topic_shares",
    "topic_score_ci",
    "feedback_item_statistics",
    "feedback_alpha",
    "feedback_feature_correlations",
    "feedback_icc",
    "finetuning_generation",
}


def test_every_published_table_is_declared_once_with_both_languages():
    from kokoro_analysis.publish.tables import published_tables

    tables = published_tables()
    assert {name for name, spec in tables.items() if spec.is_paper} == PAPER_TABLES
    assert all(name == spec.name for name, spec in tables.items())
    for spec in tables.values():
        if spec.is_paper:
            assert spec.title.en and spec.title.ja and spec.title.en != spec.title.ja
            for column in spec.columns:
                assert column.header.en and column.header.ja, (spec.name, column.key)
                if column.means is not None:
                    assert column.means.en != column.means.ja, (spec.name, column.key)
