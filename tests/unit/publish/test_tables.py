from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis.publish.tables import escape_latex, format_frame, write_table


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


def test_write_table_writes_three_files(tmp_path, stats):
    paths = write_table(stats, "corpus_stats", tmp_path)
    assert set(paths) == {"csv", "tex", "md"}
    for fmt, path in paths.items():
        assert path == tmp_path / "tables" / f"corpus_stats.{fmt}"
        assert path.read_text(encoding="utf-8")
    round_trip = pd.read_csv(paths["csv"])
    assert list(round_trip.columns) == ["Category", "Total", "Counselor", "n_items"]
    assert round_trip["Total"].tolist() == [6589.0, 91.2, 28.39]  # full precision
    assert round_trip["Category"][2] == "家族問題 & 職場 (50%)"


def test_latex_booktabs_and_escaping(tmp_path, stats):
    tex = write_table(stats, "t", tmp_path, caption="KokoroChat の統計", label="tab:stats")["tex"]
    text = tex.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines.index(r"\toprule") < lines.index(r"\midrule") < lines.index(r"\bottomrule")
    assert r"\begin{tabular}{lrrr}" in text
    assert r"\caption{KokoroChat の統計}" in text and r"\label{tab:stats}" in text
    assert r"\# Dialogues" in text
    assert r"家族問題 \& 職場 (50\%)" in text  # Japanese unchanged, specials escaped
    assert r"n\_items" in text  # header escaped
    assert r"6589.00 &  & 6589 \\" in text  # one precision per column, NaN blank
    body = lines[lines.index(r"\midrule") + 1 : lines.index(r"\bottomrule")]
    assert len(body) == 3 and all(line.count(" & ") == 3 for line in body)


def test_escape_latex_all_specials():
    assert escape_latex(r"a_b %c &d #e $f {g} ~h ^i \j") == (
        r"a\_b \%c \&d \#e \$f \{g\} \textasciitilde{}h \textasciicircum{}i \textbackslash{}j"
    )
    assert escape_latex("心理的問題") == "心理的問題"


def test_latex_without_caption_is_bare_tabular(tmp_path, stats):
    text = write_table(stats, "t", tmp_path)["tex"].read_text(encoding="utf-8")
    assert text.startswith(r"\begin{tabular}") and r"\begin{table}" not in text


def test_markdown_table_shape(tmp_path, stats):
    text = write_table(stats, "t", tmp_path, float_format="{:.1f}", thousands=True)["md"].read_text(
        encoding="utf-8"
    )
    rows = _md_rows(text)
    assert len(rows) == 2 + len(stats)
    assert all(len(row) == 4 for row in rows)
    assert rows[0] == ["Category", "Total", "Counselor", "n_items"]
    assert rows[1] == [":---", "---:", "---:", "---:"]
    assert rows[2] == ["# Dialogues", "6,589.0", "", "6,589"]
    assert rows[4][0] == "家族問題 & 職場 (50%)"


def test_markdown_escapes_pipes(tmp_path):
    df = pd.DataFrame({"a|b": ["x|y"], "c": ["line1\nline2"]})
    text = write_table(df, "p", tmp_path)["md"].read_text(encoding="utf-8")
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
    first = {k: p.read_bytes() for k, p in write_table(stats, "d", tmp_path).items()}
    second = {k: p.read_bytes() for k, p in write_table(stats.copy(), "d", tmp_path).items()}
    assert first == second
    assert all(b"\r\n" not in content for content in first.values())


def test_caption_is_escaped_unless_marked_as_latex(tmp_path, stats):
    text = write_table(stats, "c", tmp_path, caption="Share (%) of A & B")["tex"].read_text(
        encoding="utf-8"
    )
    assert r"\caption{Share (\%) of A \& B}" in text
    raw = write_table(stats, "r", tmp_path, caption=r"$\rho$ 0--100", caption_is_latex=True)["tex"]
    assert r"\caption{$\rho$ 0--100}" in raw.read_text(encoding="utf-8")
