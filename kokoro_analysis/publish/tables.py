"""Paper tables: one DataFrame written as CSV, LaTeX (booktabs) and GitHub Markdown.

The LaTeX and Markdown writers are small and local (no jinja2 / tabulate needed), so output is
identical across pandas versions. LaTeX needs ``\\usepackage{booktabs}``; Japanese text is passed
through unchanged (compile with LuaLaTeX/XeLaTeX or pLaTeX + CJK support).
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

from kokoro_analysis.paths import output_dirs

__all__ = [
    "escape_latex",
    "escape_markdown",
    "format_frame",
    "to_latex",
    "to_markdown",
    "write_table",
]

Formatter = str | Callable[[Any], str]
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
_LATEX_RE = re.compile("|".join(re.escape(ch) for ch in _LATEX_SPECIAL))


def escape_latex(text: str) -> str:
    """Escape LaTeX special characters (``\\ & % $ # _ { } ~ ^``); other text, including
    Japanese, is unchanged."""
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIAL[m.group()], text)


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
    column: pd.Series, fmt: Formatter | None, thousands: bool
) -> Callable[[Any], str]:
    """A value -> text function for one column."""
    sep = "," if thousands else ""
    if fmt is None and pd.api.types.is_float_dtype(column.dtype):
        fmt = f"{sep}.{_auto_decimals([float(v) for v in column.dropna()])}f"
    elif fmt is None and pd.api.types.is_integer_dtype(column.dtype):
        fmt = f"{sep}d"

    def render(value: Any) -> str:
        if _is_missing(value):
            return ""
        if isinstance(value, bool) or not isinstance(value, numbers.Number):
            return str(value)
        if fmt is None:  # numbers in an object column
            return (
                format(value, f"{sep}d")
                if isinstance(value, numbers.Integral)
                else format(value, f"{sep}g")
            )
        return _apply_format(value, fmt, thousands)

    return render


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
) -> tuple[list[str], list[list[str]], list[bool]]:
    """Render a frame to text: ``(header, rows, numeric)`` where ``numeric[j]`` says whether
    column ``j`` holds numbers (right-aligned). ``float_format`` is one format for all float
    columns (``"{:.2f}"``, ``".2f"`` or a callable) or a dict column name -> format (any dtype);
    columns without one get a consistent automatic precision (floats: fewest decimals, at most
    4, that show every value; integers as is). ``thousands`` adds ``,`` separators."""
    columns: list[tuple[Any, pd.Series]] = []
    if _include_index(df, index):
        for level in range(df.index.nlevels):
            columns.append((df.index.names[level], pd.Series(df.index.get_level_values(level))))
    columns += [(name, df.iloc[:, j]) for j, name in enumerate(df.columns)]
    header, cells, numeric = [], [], []
    for name, column in columns:
        render = _column_formatter(column, _pick_format(float_format, name, column), thousands)
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
    """Whether a column holds numbers (bools excluded)."""
    if pd.api.types.is_bool_dtype(column.dtype):
        return False
    if pd.api.types.is_numeric_dtype(column.dtype):
        return True
    values = [v for v in column.tolist() if not _is_missing(v)]
    return bool(values) and all(
        isinstance(v, numbers.Number) and not isinstance(v, bool) for v in values
    )


# --------------------------------------------------------------------------- writers


def to_latex(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[bool],
    *,
    caption: str | None = None,
    label: str | None = None,
    caption_is_latex: bool = False,
) -> str:
    """A booktabs ``tabular`` (wrapped in a ``table`` float when caption or label is given).
    Cells, headers and the caption are LaTeX-escaped (``%`` in a caption would otherwise comment out
    its closing brace); pass ``caption_is_latex=True`` for a caption that already holds markup."""
    spec = "".join("r" if is_num else "l" for is_num in numeric)
    body = [r"\begin{tabular}{" + spec + "}", r"\toprule"]
    body.append(" & ".join(escape_latex(h) for h in header) + r" \\")
    body.append(r"\midrule")
    body.extend(" & ".join(escape_latex(c) for c in row) + r" \\" for row in rows)
    body += [r"\bottomrule", r"\end{tabular}"]
    if caption is None and label is None:
        return "\n".join(body) + "\n"
    head = [r"\begin{table}[t]", r"\centering", r"\small"]
    if caption is not None:
        head.append(r"\caption{" + (caption if caption_is_latex else escape_latex(caption)) + "}")
    if label is not None:
        head.append(r"\label{" + label + "}")
    return "\n".join(head + body + [r"\end{table}"]) + "\n"


def to_markdown(
    header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool]
) -> str:
    """A GitHub-flavoured Markdown pipe table (numbers right-aligned)."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(escape_markdown(c) for c in cells) + " |"

    rule = "| " + " | ".join("---:" if is_num else ":---" for is_num in numeric) + " |"
    return "\n".join([line(header), rule, *(line(r) for r in rows)]) + "\n"


def write_table(
    df: pd.DataFrame,
    name: str,
    output_dir: str | os.PathLike | None = None,
    *,
    caption: str | None = None,
    label: str | None = None,
    float_format: FloatFormat = None,
    thousands: bool = False,
    index: bool | None = None,
    caption_is_latex: bool = False,
) -> dict[str, Path]:
    """Write ``<tables>/<name>.csv``, ``.tex`` (booktabs) and ``.md`` (pipe table).

    CSV keeps full precision (machine-readable, UTF-8, ``\\n`` line ends); TeX and Markdown
    use the formatted numbers (see :func:`format_frame` for ``float_format``/``thousands``).
    ``index``: include the index (default: only when it is named or not 0..n-1).
    ``caption``/``label`` wrap the LaTeX in a ``table`` float; the caption is escaped like the cells
    unless ``caption_is_latex``. Returns ``{"csv"|"tex"|"md": path}``.
    """
    folder = output_dirs(output_dir).tables
    header, rows, numeric = format_frame(df, float_format, thousands=thousands, index=index)
    paths = {fmt: folder / f"{name}.{fmt}" for fmt in ("csv", "tex", "md")}
    paths["csv"].parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(paths["csv"], index=_include_index(df, index), lineterminator="\n", encoding="utf-8")
    _write_text(
        paths["tex"],
        to_latex(
            header, rows, numeric, caption=caption, label=label, caption_is_latex=caption_is_latex
        ),
    )
    _write_text(paths["md"], to_markdown(header, rows, numeric))
    return paths


def _write_text(path: Path, text: str) -> None:
    """UTF-8 with ``\\n`` line ends on every platform."""
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
