"""corpus_stats_tables: the cross-corpus comparison as a paper table (one format per column, compiles at
ACL text width in both languages, caption from the printed columns)."""

from __future__ import annotations

from kokoro_analysis.analyses import corpus_stats as cs
from kokoro_analysis.analyses import corpus_stats_tables as tables


def test_comparison_paper_table_fits_an_acl_page(tmp_path):
    from kokoro_analysis.publish.latex import caption_problems, check_tables
    from kokoro_analysis.publish.tables import formatted, write_table

    measured = {
        "kokorochat": {
            "dialogues": 6589,
            "avg_utterances_per_dialogue": 91.2034,
            "avg_turns_per_dialogue": 71.63,
            "length_unit": "characters",
            "avg_length_counselor": 35.84,
            "avg_length_client": 20.63,
            "rating_items": 20,
        }
    }
    table = cs.comparison_table(measured)
    paper = tables.comparison_paper(table)
    spec = tables.COMPARISON_PAPER
    shown = formatted(paper, spec).set_index("Dataset")
    assert list(shown.columns)[:3] == ["Lang.", "Manual", "Items"]
    assert shown.loc["KokoroChat", "Dial."] == "6,589"
    assert shown.loc["KokoroChat", "Unit"] == "chars"
    # one format per column, whatever precision a source printed; "–" where there is no value
    assert shown["Utts."].tolist() == ["26.7", "29.5", "78.5", "91.2"]
    assert shown.loc["AugESC", "Len. co."] == "–"
    caption = spec.caption(paper)
    assert "Unit: unit of the two lengths" in caption
    assert "Rows AugESC, ESConv, Client-Reactions: as reported" in caption
    paths = write_table(paper, spec, tmp_path)
    write_table(paper, spec, tmp_path, name=f"{spec.name}_ja", lang="ja")
    assert check_tables(paths["tex"].parent) == []  # both languages, table*, no overfull box
    assert caption_problems(paths["tex"].parent) == []
    tex = paths["tex"].read_text(encoding="utf-8")
    assert r"\begin{table*}" in tex and r"\label{tab:" in tex
    assert "{@{}lllrrrrlrr@{}}" in tex  # numbers right-aligned
    japanese = formatted(paper, spec, lang="ja").set_index("データセット")
    assert (
        japanese.loc["KokoroChat", "言語"] == "日本語"
        and japanese.loc["AugESC", "人手"] == "いいえ"
    )
    assert "二次資料" in spec.caption(paper, "ja")
