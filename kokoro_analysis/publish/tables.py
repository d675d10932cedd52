"""Tables of two kinds, written from one DataFrame and its :class:`TableSpec`.

* *Paper tables* (``spec.width`` set): CSV, Markdown and a LaTeX ``table`` (fits the ACL column,
  219 pt) or ``table*`` (fits the text width, 455 pt) float that compiles as-is under pdflatex with
  ``booktabs``: caption below the tabular, ``\\label{tab:...}``, readable headers, numbers
  right-aligned with one format per column and a true minus sign, symbols as math (``$\\rho$``,
  ``$\\geq$``). English paper tables hold no Japanese; Japanese ones (``lang="ja"``, ``_ja`` files)
  compile with LuaLaTeX and ``luatexja``, as their first line says.
* *Data tables* (no width): CSV and Markdown only.

The writers are small and local (no jinja2 / tabulate), so output is identical across pandas versions.
"""

from __future__ import annotations

import math
import numbers
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from kokoro_analysis.paths import output_dirs, write_atomically
from kokoro_analysis.published import REGISTRY, Formatter, TableSpec, TableWidth

__all__ = [
    "TableSpec",
    "escape_latex",
    "escape_markdown",
    "format_frame",
    "formatted",
    "published_tables",
    "to_latex",
    "to_markdown",
    "write_table",
]

FloatFormat = Formatter | Mapping[Any, Formatter] | None


MAX_AUTO_DECIMALS = 4
"""Most decimals the automatic float formatting uses."""

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


_LATEX_SYMBOLS = {
    "\u2212": "$-$",
    "\u2013": "--",
    "\u2014": "---",
    "\u2026": r"\ldots{}",
    "\u00b1": r"$\pm$",
    "\u00d7": r"$\times$",
    "\u2264": r"$\leq$",
    "\u2265": r"$\geq$",
    "\u2260": r"$\neq$",
    "\u2248": r"$\approx$",
    "\u03b1": r"$\alpha$",
    "\u03b2": r"$\beta$",
    "\u03c1": r"$\rho$",
    "\u03c3": r"$\sigma$",
    "\u03ba": r"$\kappa$",
    "\u00b2": r"$^2$",
    "\u2192": r"$\rightarrow$",
}
"""Unicode symbols written as LaTeX that pdflatex typesets without extra packages."""
_LATEX_RE = re.compile("|".join(re.escape(ch) for ch in [*_LATEX_SPECIAL, *_LATEX_SYMBOLS]))
_PDFLATEX_LAST_CHAR = 0x24F
"""Highest code point (Latin Extended-B) an English table may hold: pdflatex stops on CJK text."""


def escape_latex(text: str) -> str:
    """Escape LaTeX special characters (``\\ & % $ # _ { } ~ ^``) and write Unicode symbols as
    LaTeX (``ρ`` -> ``$\\rho$``, ``≥`` -> ``$\\geq$``, ``−`` -> ``$-$``); other text, including
    Japanese, is unchanged."""
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIAL.get(m.group()) or _LATEX_SYMBOLS[m.group()], text)


def _latex_number(text: str) -> str:
    """A formatted number with a true minus sign (``-0.12`` -> ``$-$0.12``)."""
    return (
        "$-$" + escape_latex(text[1:]) if text.startswith(("-", "\u2212")) else escape_latex(text)
    )


def escape_markdown(text: str) -> str:
    """Make text safe inside a Markdown pipe-table cell (escape ``|``, join lines)."""
    text = text.replace("\\", "\\\\").replace("|", r"\|")
    return " ".join(text.splitlines())


# --------------------------------------------------------------------------- formatting


def _is_missing(value: Any) -> bool:
    """None / NaN / NA (scalars only)."""
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _apply_format(value: Any, fmt: Formatter, thousands: bool) -> str:
    """Format one value with ``"{:.2f}"``-style template, ``".2f"`` spec or callable."""
    if callable(fmt):
        return str(fmt(value))
    whole = re.fullmatch(r"\{:([^{}]*)\}", fmt)
    if whole:  # "{:.2f}" -> ".2f", so ``thousands`` can apply
        fmt = whole.group(1)
    elif "{" in fmt:  # other templates, e.g. "{:.1f}%", are used as given
        return fmt.format(value)
    if thousands and "," not in fmt and isinstance(value, numbers.Real):
        fmt = re.sub(r"^([^.\d]*)(\d*)", lambda m: m.group(1) + m.group(2) + ",", fmt, count=1)
    return format(value, fmt)


def _auto_decimals(values: Sequence[float]) -> int:
    """Fewest decimals (<= MAX_AUTO_DECIMALS) that show every value of a column exactly at
    MAX_AUTO_DECIMALS precision, so a column shares one precision."""
    needed = 0
    for value in values:
        if not math.isfinite(value):
            continue
        target = round(value, MAX_AUTO_DECIMALS)
        while needed < MAX_AUTO_DECIMALS and round(value, needed) != target:
            needed += 1
    return needed


def _column_formatter(
    column: pd.Series, fmt: Formatter | None, thousands: bool, missing: str = ""
) -> Callable[[Any], str]:
    """A value -> text function for one column."""
    sep = "," if thousands else ""
    if fmt is None and pd.api.types.is_float_dtype(column.dtype):
        fmt = f"{sep}.{_auto_decimals([float(v) for v in column.dropna()])}f"
    elif fmt is None and pd.api.types.is_integer_dtype(column.dtype):
        fmt = f"{sep}d"

    def render(value: Any) -> str:
        if _is_missing(value):
            return missing
        if isinstance(value, bool) or not isinstance(value, numbers.Number):
            return str(value)
        return _true_minus(number(value))

    def number(value: Any) -> str:
        if fmt is None:  # numbers in an object column
            return (
                format(value, f"{sep}d")
                if isinstance(value, numbers.Integral)
                else format(value, f"{sep}g")
            )
        return _apply_format(value, fmt, thousands)

    return render


def _true_minus(text: str) -> str:
    """A formatted number with the minus sign (U+2212) instead of a hyphen."""
    return "\u2212" + text[1:] if text.startswith("-") else text


def _label(value: Any) -> str:
    """Header text of a (possibly multi-level) column or index name."""
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value if not _is_missing(v) and str(v))
    return "" if _is_missing(value) else str(value)


def _include_index(df: pd.DataFrame, index: bool | None) -> bool:
    """Auto: keep the index when it is named or not a default 0..n-1 RangeIndex."""
    if index is not None:
        return index
    default = isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1
    return not default or any(name is not None for name in df.index.names)


def format_frame(
    df: pd.DataFrame,
    float_format: FloatFormat = None,
    *,
    thousands: bool = False,
    index: bool | None = None,
    missing: str = "",
) -> tuple[list[str], list[list[str]], list[bool]]:
    """Render a frame to text: ``(header, rows, numeric)`` where ``numeric[j]`` says whether
    column ``j`` holds numbers (right-aligned). ``float_format`` is one format for all float
    columns (``"{:.2f}"``, ``".2f"`` or a callable) or a dict column name -> format (any dtype);
    columns without one get a consistent automatic precision (floats: fewest decimals, at most
    4, that show every value; integers as is). ``thousands`` adds ``,`` separators; ``missing`` is
    the text of a missing value."""
    columns: list[tuple[Any, pd.Series]] = []
    if _include_index(df, index):
        for level in range(df.index.nlevels):
            columns.append((df.index.names[level], pd.Series(df.index.get_level_values(level))))
    columns += [(name, df.iloc[:, j]) for j, name in enumerate(df.columns)]
    header, cells, numeric = [], [], []
    for name, column in columns:
        render = _column_formatter(
            column, _pick_format(float_format, name, column), thousands, missing
        )
        header.append(_label(name))
        cells.append([render(v) for v in column.tolist()])
        numeric.append(_is_numeric(column))
    rows = [list(r) for r in zip(*cells)] if len(df) else []
    return header, rows, numeric


def _pick_format(float_format: FloatFormat, name: Any, column: pd.Series) -> Formatter | None:
    """The format for one column: its dict entry, or the global one for number columns."""
    if isinstance(float_format, Mapping):
        return float_format.get(name)
    if float_format is not None and pd.api.types.is_float_dtype(column.dtype):
        return float_format
    return None


def _is_numeric(column: pd.Series) -> bool:
    """Whether a column holds numbers, or only numbers already formatted as text (bools excluded)."""
    if pd.api.types.is_bool_dtype(column.dtype):
        return False
    if pd.api.types.is_numeric_dtype(column.dtype):
        return True
    values = [v for v in column.tolist() if not _is_missing(v)]
    if values and all(isinstance(v, str) for v in values):  # numbers already formatted as text
        return any(any(c.isdigit() for c in v) for v in values) and all(
            _NUMBER_TEXT.fullmatch(v.strip()) for v in values
        )
    return bool(values) and all(
        isinstance(v, numbers.Number) and not isinstance(v, bool) for v in values
    )


_NUMBER_TEXT = re.compile(r"[-\u2212]?[\d,]+(\.\d+)?\s?%?|[-\u2013\u2014]*")
"""A number formatted as text (``6,589``, ``91.20``, ``−0.21``, ``12 %``) or a dash for none."""


# --------------------------------------------------------------------------- writers


def to_latex(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[bool],
    *,
    caption: str | None = None,
    label: str | None = None,
    width: TableWidth | None = None,
    lang: str = "en",
    groups: Sequence[str | None] | None = None,
) -> str:
    """A booktabs ``tabular``; with ``width`` a ``table`` (``"column"``) or ``table*`` (``"full"``)
    float with the caption below and the label after it. ``groups`` (one per column, ``None`` for
    none) are spanning headers over runs of adjacent columns, ruled with ``\\cmidrule``. Cells,
    headers and the caption are escaped (:func:`escape_latex`), numbers get a true minus sign.
    English tables (``lang="en"``) must hold no character pdflatex cannot typeset (Japanese):
    :class:`ValueError` names the first one; a Japanese table starts with a comment asking for
    LuaLaTeX and ``luatexja``."""
    columns = "".join("r" if is_num else "l" for is_num in numeric)
    body = [r"\begin{tabular}{@{}" + columns + "@{}}", r"\toprule"]
    body += _latex_group_rows(groups or [None] * len(header))
    body.append(" & ".join(escape_latex(h) for h in header) + r" \\")
    body.append(r"\midrule")
    for row in rows:
        cells = [_latex_number(c) if is_num else escape_latex(c) for c, is_num in zip(row, numeric)]
        body.append(" & ".join(cells) + r" \\")
    body += [r"\bottomrule", r"\end{tabular}"]
    if width is not None:
        float_name = "table" if width == "column" else "table*"
        tail = []
        if caption is not None:
            tail.append(r"\caption{" + escape_latex(caption) + "}")
        if label is not None:
            tail.append(r"\label{" + label + "}")
        body = [rf"\begin{{{float_name}}}[t]", r"\centering", r"\small", *body, *tail]
        body.append(rf"\end{{{float_name}}}")
    if lang == "ja":
        head = [
            "% Japanese table: compile with LuaLaTeX and \\usepackage{luatexja}; needs booktabs."
        ]
    else:
        head = ["% Compiles with pdflatex; needs \\usepackage{booktabs}."]
        _check_pdflatex_text("\n".join(body), label or "table")
    return "\n".join(head + body) + "\n"


def _latex_group_rows(groups: Sequence[str | None]) -> list[str]:
    """The spanning header row and its ``\\cmidrule``s (none without groups)."""
    runs: list[tuple[str | None, int, int]] = []  # (group, first column, last column), 1-based
    for position, group in enumerate(groups, 1):
        if runs and group is not None and runs[-1][0] == group:
            runs[-1] = (group, runs[-1][1], position)
        else:
            runs.append((group, position, position))
    if all(group is None for group, _, _ in runs):
        return []
    cells = [
        ""
        if group is None
        else rf"\multicolumn{{{last - first + 1}}}{{c}}{{{escape_latex(group)}}}"
        for group, first, last in runs
        for _ in range(1 if group is not None else last - first + 1)
    ]
    rules = [
        rf"\cmidrule(lr){{{first}-{last}}}" for group, first, last in runs if group is not None
    ]
    return [" & ".join(cells) + r" \\", " ".join(rules)]


def _check_pdflatex_text(text: str, name: str) -> None:
    """Raise when ``text`` holds a character pdflatex cannot typeset without extra packages."""
    for line_number, line in enumerate(text.splitlines(), 1):
        for char in line:
            if ord(char) > _PDFLATEX_LAST_CHAR:
                raise ValueError(
                    f"English LaTeX table {name}, line {line_number}: character {char!r} "
                    f"(U+{ord(char):04X}) cannot be typeset by pdflatex; gloss or romanise it, or "
                    "write the table with lang='ja' (LuaLaTeX)"
                )


def to_markdown(
    header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool]
) -> str:
    """A GitHub-flavoured Markdown pipe table (numbers right-aligned)."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(escape_markdown(c) for c in cells) + " |"

    rule = "| " + " | ".join("---:" if is_num else ":---" for is_num in numeric) + " |"
    return "\n".join([line(header), rule, *(line(r) for r in rows)]) + "\n"


def write_table(
    frame: pd.DataFrame,
    spec: TableSpec,
    output_dir: str | os.PathLike | None = None,
    *,
    name: str | None = None,
    lang: str = "en",
    **values: Any,
) -> dict[str, Path]:
    """Write ``<tables>/<name>.csv`` and ``.md`` and, for a paper table (``spec.width`` set), ``.tex``
    (``name``: ``spec.name`` unless given, e.g. with a run's suffix).

    CSV keeps full precision, every column, a named index and the column names (machine-readable,
    UTF-8, ``\\n`` line ends); Markdown and LaTeX print the spec's columns, formats and headers in
    ``lang`` (see :func:`format_frame`). The LaTeX caption is :meth:`TableSpec.caption` (``values``
    fill its placeholders), the label ``tab:<name>``. ``lang="ja"`` tables are LuaLaTeX tables (see
    :func:`to_latex`); callers give them a ``_ja`` name so they never overwrite the English ones.
    Returns ``{"csv"|"md"[|"tex"]: path}``.
    """
    name = name or spec.name
    folder = output_dirs(output_dir).tables
    header, rows, numeric, groups = _render(frame, spec, lang)
    kinds = ("csv", "md", "tex") if spec.is_paper else ("csv", "md")
    paths = {kind: folder / f"{name}.{kind}" for kind in kinds}
    paths["csv"].parent.mkdir(parents=True, exist_ok=True)
    latex = None
    if spec.is_paper:  # built first: an English table with Japanese text fails before any file
        latex = to_latex(
            header,
            rows,
            numeric,
            caption=spec.caption(frame, lang, **values),
            label=f"tab:{name}",
            width=spec.width,
            lang=lang,
            groups=groups,
        )
    # the CSV keeps a named index whatever the spec shows: it is the machine-readable copy
    write_atomically(
        paths["csv"], frame.to_csv(index=_include_index(frame, None), lineterminator="\n")
    )
    write_atomically(paths["md"], to_markdown(_grouped_header(header, groups), rows, numeric))
    if latex is not None:
        write_atomically(paths["tex"], latex)
    return paths


def formatted(
    frame: pd.DataFrame, spec: TableSpec | None = None, *, lang: str = "en"
) -> pd.DataFrame:
    """The table as the Markdown and LaTeX files show it, for display in a notebook: the printed
    columns under readable headers, every cell formatted text (numbers by the spec's formats,
    missing values empty)."""
    header, rows, _, groups = _render(frame, spec or TableSpec("table"), lang)
    return pd.DataFrame(rows, columns=pd.Index(_grouped_header(header, groups), dtype=object))


def published_tables() -> dict[str, TableSpec]:
    """Every declared table by name (imports the modules that declare them)."""
    from kokoro_analysis.analyses import (  # noqa: F401
        corpus_stats_tables,
        peer_comparison,
        topics_tables,
        translation_stats,
    )
    from kokoro_analysis.analyses.feedback import (  # noqa: F401
        counselor_keyness,
        experience_effects,
        item_structure,
        phase_correlations,
        raters,
        score_features,
        score_subsets,
        scores,
        variance_components,
    )
    from kokoro_analysis.finetune import results  # noqa: F401
    from kokoro_analysis.text import lexical  # noqa: F401

    return dict(REGISTRY)


def _grouped_header(header: Sequence[str], groups: Sequence[str | None]) -> list[str]:
    """Headers with their spanning header in front (Markdown has no spanning header)."""
    return [h if g is None else f"{g} {h}" for h, g in zip(header, groups)]


def _render(
    frame: pd.DataFrame, spec: TableSpec, lang: str
) -> tuple[list[str], list[list[str]], list[bool], list[str | None]]:
    """Header, formatted rows, numeric flags and spanning headers of the printed part of
    ``frame``."""
    shown = spec.shown(frame, lang)
    formats = spec.column_formats(frame, lang)
    if spec.number_format is not None:
        for key in shown.columns:
            if key not in formats and pd.api.types.is_float_dtype(shown[key].dtype):
                formats[key] = spec.number_format
    header, rows, numeric = format_frame(
        shown, formats, thousands=spec.thousands, index=spec.index, missing=spec.missing
    )
    keys = list(shown.index.names) if _include_index(shown, spec.index) else []
    n_index = len(keys)
    keys += list(shown.columns)
    headers = spec.column_headers(lang, frame.attrs)
    groups = [None] * n_index + (spec.column_groups(lang) or [None] * len(shown.columns))
    return [headers.get(k, text) for k, text in zip(keys, header)], rows, numeric, groups
