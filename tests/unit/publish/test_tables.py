from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis.publish.tables import (
    escape_latex,
    format_frame,
    formatted,
    write_table,
)
from kokoro_analysis.published import Column, TableSpec, Words


def paper(name, frame, *, caption="Caption.", headers=None, formats=None, **fields):
    """A paper table printing every column of ``frame``."""
    headers, formats = headers or {}, formats or {}
    columns = tuple(
        Column(c, Words(headers.get(c, c), headers.get(c, c)), formats.get(c))
        for c in frame.columns
    )
    return TableSpec(
        name, title=Words(caption, caption), columns=columns, **{"width": "column", **fields}
    )


@pytest.fixture
def stats() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Category": ["# Dialogues", "Avg. utterances/dialogue", "家族問題 & 職場 (50%)"],
            "Total": [6589.0, 91.2, 28.39],
            "Counselor": [np.nan, 46.52, 35.84],
            "n_items": [6589, 20, 600939],
        }
    )


def _md_rows(text: str) -> list[list[str]]:
    lines = text.rstrip("\n").split("\n")
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


def paper_stats(name, frame, **fields):
    return paper(name, frame, formats={"Total": "{:,.2f}"}, headers={"n_items": "Items"}, **fields)


def test_data_table_is_csv_and_markdown_only(tmp_path, stats):
    paths = write_table(stats, TableSpec("corpus_stats"), tmp_path)
    assert set(paths) == {"csv", "md"}
    assert not (tmp_path / "tables" / "corpus_stats.tex").exists()
    for fmt, path in paths.items():
        assert path == tmp_path / "tables" / f"corpus_stats.{fmt}"
    round_trip = pd.read_csv(paths["csv"])
    assert list(round_trip.columns) == ["Category", "Total", "Counselor", "n_items"]
    assert round_trip["Total"].tolist() == [6589.0, 91.2, 28.39]  # full precision
    assert round_trip["Category"][2] == "家族問題 & 職場 (50%)"


def test_paper_table_latex_caption_below_label_and_booktabs(tmp_path, stats):
    english = stats.iloc[:2]
    paths = write_table(english, paper_stats("t", english, caption="Counts (%) & shares"), tmp_path)
    assert set(paths) == {"csv", "md", "tex"}
    lines = paths["tex"].read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("% Compiles with pdflatex")
    assert lines[1] == r"\begin{table}[t]" and lines[-1] == r"\end{table}"
    assert lines.index(r"\toprule") < lines.index(r"\midrule") < lines.index(r"\bottomrule")
    assert lines.index(r"\end{tabular}") < lines.index(r"\caption{Counts (\%) \& shares}")
    assert lines[-2] == r"\label{tab:t}"
    assert r"\begin{tabular}{@{}lrrr@{}}" in lines
    assert r"Category & Total & Counselor & Items \\" in lines  # readable header from the spec
    assert r"\# Dialogues & 6,589.00 &  & 6589 \\" in lines  # one format per column, NaN blank


def test_full_width_table_is_a_table_star(tmp_path, stats):
    spec = paper("w", stats, width="full")
    text = write_table(stats.iloc[:2], spec, tmp_path)["tex"].read_text(encoding="utf-8")
    assert r"\begin{table*}[t]" in text and r"\end{table*}" in text


def test_english_paper_table_refuses_japanese_and_writes_nothing(tmp_path, stats):
    with pytest.raises(ValueError, match=r"U\+5BB6.*pdflatex"):
        write_table(stats, paper_stats("ja_in_en", stats), tmp_path)
    assert not (tmp_path / "tables" / "ja_in_en.csv").exists()


def test_japanese_paper_table_says_lualatex(tmp_path, stats):
    paths = write_table(stats, paper_stats("t", stats), tmp_path, name="t_ja", lang="ja")
    text = paths["tex"].read_text(encoding="utf-8")
    assert text.startswith("% Japanese table: compile with LuaLaTeX and \\usepackage{luatexja}")
    assert r"家族問題 \& 職場 (50\%)" in text


def test_true_minus_and_symbols(tmp_path):
    frame = pd.DataFrame({"feature": ["gap ≥ 5 s"], "ρ": [-0.21]})
    paths = write_table(frame, paper("m", frame, formats={"ρ": "{:.2f}"}), tmp_path)
    tex = paths["tex"].read_text(encoding="utf-8")
    assert r"gap $\geq$ 5 s & $-$0.21 \\" in tex and r"feature & $\rho$ \\" in tex
    assert "| gap ≥ 5 s | \u22120.21 |" in paths["md"].read_text(encoding="utf-8")


def test_columns_per_language_and_formatted_view(stats):
    spec = TableSpec(
        "v",
        columns=(
            Column("Category", Words("Category", "区分")),
            Column("Total", Words("All", "全体"), "{:.1f}", key_ja="Counselor"),
        ),
    )
    view = formatted(stats, spec)
    assert list(view.columns) == ["Category", "All"]
    assert view["All"].tolist() == ["6589.0", "91.2", "28.4"]
    japanese = formatted(stats, spec, lang="ja")
    assert list(japanese.columns) == ["区分", "全体"]
    assert japanese["全体"].tolist() == ["", "46.5", "35.8"]
    rounded = formatted(stats, TableSpec("r", number_format="{:.0f}"))
    assert rounded["Counselor"].tolist() == ["", "47", "36"]


def test_escape_latex_all_specials():
    assert escape_latex(r"a_b %c &d #e $f {g} ~h ^i \j") == (
        r"a\_b \%c \&d \#e \$f \{g\} \textasciitilde{}h \textasciicircum{}i \textbackslash{}j"
    )
    assert escape_latex("心理的問題") == "心理的問題"


def test_markdown_table_shape(tmp_path, stats):
    spec = TableSpec("t", number_format="{:.1f}", thousands=True)
    text = write_table(stats, spec, tmp_path)["md"].read_text(encoding="utf-8")
    rows = _md_rows(text)
    assert len(rows) == 2 + len(stats)
    assert all(len(row) == 4 for row in rows)
    assert rows[0] == ["Category", "Total", "Counselor", "n_items"]
    assert rows[1] == [":---", "---:", "---:", "---:"]
    assert rows[2] == ["# Dialogues", "6,589.0", "", "6,589"]
    assert rows[4][0] == "家族問題 & 職場 (50%)"


def test_markdown_escapes_pipes(tmp_path):
    df = pd.DataFrame({"a|b": ["x|y"], "c": ["line1\nline2"]})
    text = write_table(df, TableSpec("p"), tmp_path)["md"].read_text(encoding="utf-8")
    assert r"a\|b" in text and r"x\|y" in text and "line1 line2" in text
    assert len(text.splitlines()) == 3


def test_formats_per_column_and_index(stats):
    frame = stats.set_index("Category")
    header, rows, numeric = format_frame(frame, {"Total": ".1f", "Counselor": "{:.3f}"})
    assert header == ["Category", "Total", "Counselor", "n_items"]
    assert numeric == [False, True, True, True]
    assert rows[1] == ["Avg. utterances/dialogue", "91.2", "46.520", "20"]
    # default RangeIndex is dropped; explicit index=True keeps it with a blank header
    assert format_frame(stats)[0][0] == "Category"
    assert format_frame(stats, index=True)[0][:2] == ["", "Category"]


def test_auto_precision_is_consistent_per_column():
    df = pd.DataFrame({"x": [1.5, 2.25, 3.0], "y": [1 / 3, 0.5, 1.0]})
    _, rows, _ = format_frame(df)
    assert [r[0] for r in rows] == ["1.50", "2.25", "3.00"]
    assert [r[1] for r in rows] == ["0.3333", "0.5000", "1.0000"]


def test_output_is_deterministic(tmp_path, stats):
    spec = TableSpec("d")
    first = {k: p.read_bytes() for k, p in write_table(stats, spec, tmp_path).items()}
    second = {k: p.read_bytes() for k, p in write_table(stats.copy(), spec, tmp_path).items()}
    assert first == second
    assert all(b"\r\n" not in content for content in first.values())


def test_caption_is_escaped(tmp_path, stats):
    english = stats.iloc[:2]
    spec = paper_stats("c", english, caption="Share (%) of A & B, ρ ≥ 0.1")
    text = write_table(english, spec, tmp_path)["tex"].read_text(encoding="utf-8")
    assert r"\caption{Share (\%) of A \& B, $\rho$ $\geq$ 0.1}" in text


def test_japanese_headers_fall_back_to_the_english_ones(stats):
    spec = TableSpec(
        "h", headers={"Total": "All", "n_items": "Items"}, headers_ja={"Total": "全体"}
    )
    assert list(formatted(stats, spec, lang="ja").columns) == [
        "Category",
        "全体",
        "Counselor",
        "Items",
    ]
    assert list(formatted(stats, spec).columns) == ["Category", "All", "Counselor", "Items"]


def test_numbers_formatted_as_text_are_right_aligned():
    frame = pd.DataFrame(
        {
            "Category": ["# Dialogues", "Avg."],
            "Total": ["6,589", "91.20"],
            "Client": ["–", "44.69"],
            "Note": ["a", "2 items"],
        }
    )
    assert format_frame(frame)[2] == [False, True, True, False]
