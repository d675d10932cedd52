"""Paper tables compile in an ACL-sized two-column document (column 219.09 pt, text 455.24 pt):
English ones under pdflatex, ``_ja`` ones under LuaLaTeX with luatexja, with no error and no overfull
box over 1 pt. The notebook tests run the same check on every table the notebooks write
(``tests/conftest.py``: ``run_notebook``)."""

from __future__ import annotations

import pandas as pd
import pytest

from kokoro_analysis.publish.latex import LatexProblem, acl_document, check_tables, parse_log
from kokoro_analysis.publish.tables import write_table
from kokoro_analysis.published import Column, TableSpec, Words


@pytest.fixture
def correlations() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "feature": ["Client characters", "Response time ≥ 5 s"],
            "rho": [0.1234, -0.0456],
            "sessions": [6589, 1200],
        }
    )


SPEC = TableSpec(
    "correlations",
    title=Words("Correlations (ρ).", "相関（ρ）。"),
    columns=(
        Column("feature", Words("Feature", "特徴量")),
        Column("rho", Words("ρ", "ρ"), "{:.3f}"),
        Column("sessions", Words("Sessions", "セッション数")),
    ),
    width="column",
    thousands=True,
)


def every_column(name, frame, width):
    columns = tuple(Column(c, Words(c, c)) for c in frame.columns)
    return TableSpec(name, title=Words("Caption.", "Caption."), columns=columns, width=width)


def test_column_table_compiles_with_pdflatex(tmp_path, correlations):
    paths = write_table(correlations, SPEC, tmp_path)
    assert check_tables(paths["tex"].parent) == []


def test_wide_table_is_reported_as_overfull(tmp_path):
    wide = pd.DataFrame({f"a long column header {i}": [1.5] for i in range(12)})
    write_table(wide, every_column("wide", wide, "column"), tmp_path)
    problems = check_tables(tmp_path / "tables")
    assert [(p.table, p.kind) for p in problems] == [("wide", "overfull")]


def test_full_width_table_uses_table_star_and_fits(tmp_path):
    frame = pd.DataFrame({f"Column {i}": [1.25, -2.5] for i in range(8)})
    tex = write_table(frame, every_column("full", frame, "full"), tmp_path)["tex"]
    assert r"\begin{table*}[t]" in tex.read_text(encoding="utf-8")
    assert check_tables(tex.parent) == []


def test_japanese_table_compiles_with_lualatex(tmp_path, correlations):
    japanese = correlations.assign(feature=["クライアントの文字数", "応答時間 ≥ 5 秒"])
    tex = write_table(japanese, SPEC, tmp_path, name="correlations_ja", lang="ja")["tex"]
    assert tex.read_text(encoding="utf-8").startswith("% Japanese table: compile with LuaLaTeX")
    assert check_tables(tex.parent) == []


def test_errors_are_attributed_to_their_table(tmp_path):
    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "good.tex").write_text("\\begin{tabular}{r}1\\\\\\end{tabular}\n", encoding="utf-8")
    (folder / "broken.tex").write_text(
        "\\begin{tabular}{r}\\undefinedmacro\\end{tabular}\n", encoding="utf-8"
    )
    problems = check_tables(folder)
    assert problems and {p.table for p in problems} == {"broken"}
    assert problems[0].kind == "error" and "Undefined control sequence" in problems[0].message


def test_document_has_acl_geometry(tmp_path):
    document = acl_document([tmp_path / "t.tex"], "pdflatex")
    assert r"\documentclass[10pt,twocolumn]{article}" in document
    assert "textwidth=455.24pt,columnsep=17.07pt" in document  # (455.24 - 17.07) / 2 = 219.085 pt


def test_small_overfull_boxes_are_tolerated():
    log = "KOKORO-TABLE:t\nOverfull \\hbox (0.5pt too wide) in paragraph\nOverfull \\hbox (3.2pt too wide)\n"
    assert [(p.table, p.message) for p in parse_log(log)] == [("t", "3.2 pt too wide")]


def test_caption_check_finds_unnamed_columns_code_names_formulas_and_english(tmp_path):
    from kokoro_analysis.publish.latex import caption_problems

    frame = pd.DataFrame({"feature": ["a"], "rho": [0.1], "sessions": [3], "k0": [1.5]})
    write_table(frame, SPEC, tmp_path)
    assert caption_problems(tmp_path / "tables") == [
        LatexProblem("correlations", "caption", "column 'Feature' not named"),
        LatexProblem("correlations", "caption", "column 'Sessions' not named"),
    ]
    bad = TableSpec(
        "bad",
        title=Words("Feature, ρ, k0 and Sessions: (MSB-MSW), ci_low x 100.", "特徴量 ρ sessions"),
        columns=SPEC.columns,
        width="column",
    )
    write_table(frame, bad, tmp_path)
    write_table(frame, bad, tmp_path, name="bad_ja", lang="ja")
    found = {(p.table, p.message) for p in caption_problems(tmp_path / "tables")}
    assert {
        ("bad", "unprinted column 'k0'"),
        ("bad", "code name or formula '(MSB-MSW)'"),
        ("bad", r"code name or formula 'ci\\_low'"),
        ("bad", "code name or formula 'x 100'"),
        ("bad_ja", "English caption 'sessions'"),
        ("bad_ja", ["caption", "column 'セッション数' not named"][1]),
    } <= found
