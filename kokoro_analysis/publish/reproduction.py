"""The reproduction report: the authors' reported numbers next to ours.

Each notebook records the numbers it reproduces in a
:class:`~kokoro_analysis.publish.reproduction_log.ReproductionLog` and saves it as
``<reports>/parts/<notebook>.json``. :func:`gather_report` merges the parts into
``<reports>/reproduction.md`` and ``.html``; ``kokoro-analysis report [--output-dir DIR]`` does the same
and exits 1 when a number expected to match differs. Every key has exactly one owning notebook: a key
recorded by two parts is an error (:class:`DuplicateRecordError`). The match rule:
:mod:`kokoro_analysis.publish.reproduction_log`.
"""

from __future__ import annotations

import html
import json
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd

from kokoro_analysis.paths import output_dirs, write_atomically
from kokoro_analysis.publish.reproduction_log import (
    STATUSES,
    TABLE_COLUMNS,
    rows_frame,
    table_cells,
)
from kokoro_analysis.publish.tables import to_markdown
from kokoro_analysis.reported import _reported_values

__all__ = ["STATUS_DEFINITIONS", "DuplicateRecordError", "Report", "gather_report"]

STATUS_DEFINITIONS = {
    "match": "ours, rounded half-up to the decimals the source prints, equals the printed value, or "
    "lies within the tolerance stated in the row (shown as *match (±tolerance)*)",
    "differs": "expected to match and does not (the run fails)",
    "measured": "computed here and shown for information: a number the paper does not report, or one "
    "measured with other models, settings or subsets than the paper's; never counts as a match",
    "descriptor": "a reported label, not a number (e.g. a corpus's language): shown as reported, "
    "nothing numeric to reproduce",
    "not reproducible": "reported, but the data or models needed are not available; shown as reported",
    "not checked": "reported, but recorded by no notebook in this run",
}
"""What each status means (printed at the top of the report)."""


@dataclass
class Report:
    """The gathered reproduction report."""

    rows: pd.DataFrame
    counts: dict[str, int]
    """Rows per status, plus ``not checked`` (reported values no notebook recorded)."""
    markdown_path: Path
    html_path: Path
    parts: list[Path] = field(default_factory=list)
    parameters: dict[str, dict[str, str]] = field(default_factory=dict)
    """Non-default parameters per notebook run (runs with the defaults are absent)."""

    @property
    def parameters_line(self) -> str:
        """``non-default parameters: <notebook>: name=value, ...; ...``, or "" when every run used
        the defaults."""
        return _parameters_line(self.parameters)

    @property
    def failed(self) -> pd.DataFrame:
        """Rows expected to match whose status is ``differs``."""
        return _failed(self.rows)

    @property
    def ok(self) -> bool:
        return self.failed.empty

    @property
    def summary(self) -> str:
        """One line: rows per status, e.g. ``"39 match, 0 differs, ..."``."""
        return _summary(self.counts, self.rows)


def _failed(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows expected to match whose status is ``differs``."""
    return rows[(rows["expect"] == "match") & (rows["status"] == "differs")]


def _read_parts(folder: Path) -> tuple[list[Path], pd.DataFrame]:
    """All part files (sorted) and their rows in report order: by status (matches first, then
    differences, measured, not reproducible), then notebook and key."""
    parts = sorted(folder.glob("*.json"))
    rows = [row for p in parts for row in _part_rows(p)]
    frame = rows_frame(rows)
    _check_single_owner(frame)
    rank = frame["status"].map({status: i for i, status in enumerate(STATUSES)})
    frame = frame.assign(_rank=rank).sort_values(["_rank", "notebook", "key"], kind="stable")
    return parts, frame.drop(columns="_rank").reset_index(drop=True)


def _part_rows(path: Path) -> list[dict]:
    """The rows of one report part; a clear error naming the file when it is not one."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["rows"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"{path}: not a reproduction-report part ({error}); delete it and run its notebook again"
        ) from None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError(f'{path}: field "rows" is not a list of records; run its notebook again')
    return rows


class DuplicateRecordError(ValueError):
    """A reported key recorded by more than one notebook (every key has exactly one owner)."""


def _check_single_owner(rows: pd.DataFrame) -> None:
    """Raise :class:`DuplicateRecordError` when two notebooks record the same key. Runs of one notebook
    with other parameters (``03_feedback_scores`` and ``03_feedback_scores_high``) share an owner."""
    owner = rows["notebook"].str.extract(r"^(\d+)", expand=False).fillna(rows["notebook"])
    owners = owner.groupby(rows["key"]).unique()
    shared = owners[owners.map(len) > 1]
    if len(shared):
        listed = "; ".join(
            f"{key}: {', '.join(sorted(rows.loc[rows['key'] == key, 'notebook'].unique()))}"
            for key in shared.index
        )
        raise DuplicateRecordError(f"reported keys recorded by more than one notebook: {listed}")


def _read_parameters(parts: list[Path]) -> dict[str, dict[str, str]]:
    found = {}
    for part in parts:
        payload = json.loads(part.read_text(encoding="utf-8"))
        if payload.get("parameters"):
            found[payload["notebook"]] = payload["parameters"]
    return found


def _parameters_line(parameters: dict[str, dict[str, str]]) -> str:
    if not parameters:
        return ""
    runs = "; ".join(
        f"{notebook}: " + ", ".join(f"{name}={value}" for name, value in values.items())
        for notebook, values in sorted(parameters.items())
    )
    return f"non-default parameters: {runs}"


def _counts(rows: pd.DataFrame, not_checked: int) -> dict[str, int]:
    """Rows per status in report order, then ``not checked``."""
    counts = {status: int((rows["status"] == status).sum()) for status in STATUSES}
    counts["not checked"] = not_checked
    return counts


def gather_report(output_dir: str | os.PathLike | None = None) -> Report:
    """Merge ``<reports>/parts/*.json`` into ``<reports>/reproduction.md`` and ``.html``."""
    reports = output_dirs(output_dir).reports
    parts, rows = _read_parts(reports / "parts")
    unchecked = sorted(set(_reported_values()) - set(rows["key"]))
    counts = _counts(rows, len(unchecked))
    parameters = _read_parameters(parts)
    settings = _parameters_line(parameters)
    markdown_path, html_path = reports / "reproduction.md", reports / "reproduction.html"
    write_atomically(markdown_path, _markdown(rows, counts, unchecked, settings))
    write_atomically(html_path, _html(rows, counts, unchecked, settings))
    return Report(
        rows=rows,
        counts=counts,
        markdown_path=markdown_path,
        html_path=html_path,
        parts=parts,
        parameters=parameters,
    )


RULE_TEXT = (
    "A number **matches** when ours, rounded half-up to the decimals the source prints, equals the "
    "printed value (default tolerance: half a unit of the last printed digit), or lies within the "
    "tolerance stated in its row. *measured* rows (e.g. fine-tuning results obtained here with other "
    "models or settings) and *not reproducible* rows are shown for comparison and never count as "
    "matches. † = reported by a secondary source only (third-party summary, not verified against "
    "the paper). Shares and accuracies are shown in percent throughout (a source printing a fraction, "
    "e.g. 0.287, is shown as 28.7); ×100 marks metrics on a 0–100 scale (BLEU, ROUGE-L, Dist-n)."
)
NUMERIC_COLUMNS = {4, 5, 6}  # right-aligned
KEY_COLUMN = 10
"""The record key (an identifier, set as code) comes last: readers scan the quantity."""


def _summary(counts: dict[str, int], rows: pd.DataFrame) -> str:
    """E.g. ``39 match (39 places in the paper, 36 distinct quantities), 0 differs, ...``."""
    parts = [f"{n} {status}" for status, n in counts.items()]
    if counts.get("match"):
        places, quantities = _match_places(rows)
        parts[0] += (
            f" ({places} place{'s' * (places != 1)} in the paper, {quantities} distinct "
            f"quantit{'ies' if quantities != 1 else 'y'})"
        )
    return ", ".join(parts)


def _match_places(rows: pd.DataFrame) -> tuple[int, int]:
    """(places, distinct quantities) of the matched rows: the same reported value in the same unit
    printed in two places (6,589 dialogues in a table and in a comparison; 91.2 and 91.20) is one
    quantity."""
    values = _reported_values()
    matched = rows.loc[rows["status"] == "match", "key"]
    quantities = set()
    for key in matched:
        ref = values.get(key)
        if ref is None:
            quantities.add((key,))
        elif ref.is_numeric:
            quantities.add((ref.unit, Decimal(repr(float(ref.value))).normalize()))
        else:
            quantities.add((ref.unit, ref.printed.strip().casefold()))
    return len(matched), len(quantities)


def _markdown(
    rows: pd.DataFrame, counts: dict[str, int], unchecked: list[str], settings: str = ""
) -> str:
    lines = [
        "# KokoroChat reproduction report",
        "",
        f"**{_summary(counts, rows)}**",
        "",
        RULE_TEXT,
        "",
    ]
    lines += [f"- **{status}**: {text}" for status, text in STATUS_DEFINITIONS.items()] + [""]
    if settings:
        lines += [f"**{settings[0].upper()}{settings[1:]}**", ""]
    failed = _failed(rows)
    if len(failed):
        lines += [
            "**Differs:** " + ", ".join(f"`{r.key}` ({r.notebook})" for r in failed.itertuples()),
            "",
        ]
    if len(rows):
        numeric = [i in NUMERIC_COLUMNS for i in range(len(TABLE_COLUMNS))]
        cells = [[*row[:KEY_COLUMN], f"`{row[KEY_COLUMN]}`"] for row in table_cells(rows)]
        lines.append(to_markdown(TABLE_COLUMNS, cells, numeric))
    else:
        lines += ["No notebook has recorded any number yet.", ""]
    if unchecked:
        lines += [
            "## Reported values no notebook checked",
            "",
            ", ".join(f"`{k}`" for k in unchecked),
            "",
        ]
    return "\n".join(lines)


COLUMN_WIDTHS_PCT = (7, 8, 17, 4, 6, 7, 5, 8, 14, 14, 10)
"""Widths of the report's columns (percent of the page): the table fits any window."""
HTML_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Hiragino Sans", "Noto Sans JP", sans-serif;
       margin: 2rem; color: #222; }
table { border-collapse: collapse; font-size: 0.85rem; width: 100%; table-layout: fixed; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.4rem; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: #f4f4f4; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.counts span { display: inline-block; margin-right: 0.6rem; padding: 0.2rem 0.6rem; border-radius: 0.3rem; }
.match { background: #e3f4e6; } .differs { background: #fbe0de; font-weight: 600; }
.measured { background: #e2ecfb; }
.descriptor { background: #efe8f6; }
.not-reproducible { background: #fdf1d8; } .not-checked { background: #f7f7f7; }
code { font-size: 0.8rem; }
""".strip()


def _html(
    rows: pd.DataFrame, counts: dict[str, int], unchecked: list[str], settings: str = ""
) -> str:
    esc = html.escape
    badges = "".join(
        f'<span class="{_css(part.split(" ", 1)[1])}">{esc(part)}</span>'
        for part in _summary(counts, rows).split(", ")
    )
    head = "".join(f"<th>{esc(c)}</th>" for c in TABLE_COLUMNS)
    columns = "".join(f'<col style="width:{w}%">' for w in COLUMN_WIDTHS_PCT)
    body = []
    for cells in table_cells(rows):
        tds = "".join(
            f'<td class="num">{esc(c)}</td>'
            if i in NUMERIC_COLUMNS
            else f"<td><code>{esc(c)}</code></td>"
            if i == KEY_COLUMN
            else f"<td>{esc(c)}</td>"
            for i, c in enumerate(cells)
        )
        body.append(f'<tr class="{_css(cells[0])}">{tds}</tr>')
    table = (
        f"<table>\n<colgroup>{columns}</colgroup>\n<thead><tr>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(body)
        + "\n</tbody>\n</table>"
    )
    rule = _inline_markdown(RULE_TEXT)
    definitions = (
        "<ul>"
        + "".join(
            f"<li><strong>{esc(k)}</strong>: {_inline_markdown(v)}</li>"
            for k, v in STATUS_DEFINITIONS.items()
        )
        + "</ul>\n"
    )
    failed = _failed(rows)
    differs = ""
    if len(failed):
        items = ", ".join(
            f"<code>{esc(r.key)}</code> ({esc(r.notebook)})" for r in failed.itertuples()
        )
        differs = f'<p class="differs">Differs: {items}</p>\n'
    missing = ""
    if unchecked:
        keys = ", ".join(f"<code>{esc(k)}</code>" for k in unchecked)
        missing = f"<h2>Reported values no notebook checked</h2>\n<p>{keys}</p>\n"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>KokoroChat reproduction report</title>\n"
        f"<style>\n{HTML_STYLE}\n</style>\n</head>\n<body>\n<h1>KokoroChat reproduction report</h1>\n"
        f'<p class="counts">{badges}</p>\n<p>{rule}</p>\n{definitions}{differs}'
        + (f"<p><strong>{esc(settings)}</strong></p>\n" if settings else "")
        + f"{table if len(rows) else '<p>No notebook has recorded any number yet.</p>'}\n"
        f"{missing}</body>\n</html>\n"
    )


def _inline_markdown(text: str) -> str:
    """HTML of a line of Markdown with ``**strong**`` and ``*emphasis*`` (escaped otherwise)."""
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text))
    return re.sub(r"\*(.+?)\*", r"<em>\1</em>", text)


def _css(status: str) -> str:
    """CSS class of a status cell (``match (±0.1)`` -> ``match``)."""
    return status.split(" (")[0].replace(" ", "-")
