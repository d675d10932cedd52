"""Reproduction report: the authors' reported numbers next to ours.

* ``data/reported.csv`` holds every number the authors (or secondary sources) report, with its
  printed precision and source. :func:`load_reported` / :func:`reported` read it.
* Each notebook creates a :class:`ReproductionLog`, calls :meth:`ReproductionLog.record` for every
  number it reproduces and :meth:`ReproductionLog.save` at the end
  (``<reports>/parts/<notebook>.json``).
* :func:`gather_report` merges the parts into ``<reports>/reproduction.md`` and ``.html``;
  ``python -m kokoro_analysis.reporting [--output-dir DIR]`` does the same and exits 1 when a
  number expected to match differs.

Match rule (``expect="match"``): our value, rounded half-up to the number of decimals the source
prints, must equal the printed value, i.e. the default tolerance is half a unit of the last printed
digit; an explicit ``tolerance`` (absolute, in the value's unit) replaces that rule.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from kokoro_analysis.paths import PACKAGE_DATA_DIR, output_dirs
from kokoro_analysis.tables import to_markdown

__all__ = [
    "EXPECTATIONS",
    "REPORTED_CSV",
    "STATUSES",
    "Report",
    "ReportedValue",
    "ReproductionLog",
    "ReproductionRow",
    "gather_report",
    "gather_report_cli",
    "load_reported",
    "main",
    "reported",
    "snake_key",
    "topic_key",
]

REPORTED_CSV = PACKAGE_DATA_DIR / "reported.csv"
REPORTED_COLUMNS = ["key", "quantity", "label", "value", "decimals", "unit", "source_kind", "source"]
SOURCE_KINDS = ("authors", "secondary")
EXPECTATIONS = ("match", "measured", "not_reproducible")
STATUSES = ("match", "differs", "not reported", "measured", "not reproducible")
"""Row statuses, in report order. ``not checked`` (reported but recorded by no notebook) is
counted separately."""
Expect = Literal["match", "measured", "not_reproducible"]


# --------------------------------------------------------------------------- reported values


@dataclass(frozen=True)
class ReportedValue:
    """One reported number (or text cell) with its printed precision and source."""

    key: str
    quantity: str
    label: str
    value: float | str
    """Numeric value, or text for non-numeric cells (e.g. a language)."""
    printed: str
    """The value as the source prints it (without thousands separators)."""
    decimals: int | None
    """Printed decimals (``None`` for text)."""
    unit: str
    source_kind: str
    """``"authors"`` (primary) or ``"secondary"`` (third-party, not verified)."""
    source: str

    @property
    def is_numeric(self) -> bool:
        return not isinstance(self.value, str)

    @property
    def default_tolerance(self) -> float | None:
        """Half a unit of the last printed digit (``None`` for text)."""
        return None if self.decimals is None else 0.5 * 10.0 ** (-self.decimals)

    def display(self) -> str:
        """The printed value with thousands separators, e.g. ``6,589`` or ``91.20``."""
        if not self.is_numeric:
            return self.printed
        return format_number(float(self.value), self.decimals or 0, thousands=self.unit != "year")


def snake_key(text: str) -> str:
    """``"Family Issues (Non-Spousal)"`` -> ``"family_issues_non_spousal"``."""
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def topic_key(main_en: str) -> str:
    """Reported-value key of a topic share from the data's ``topic.main_en`` label."""
    return f"topics.share.{snake_key(main_en)}"


def load_reported(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """The reported values indexed by ``key``: columns ``quantity, label, value`` (float, NaN for
    text), ``printed`` (as printed), ``decimals`` (Int64), ``unit, source_kind, source``."""
    table = _read_reported(str(path or REPORTED_CSV))
    frame = table.set_index("key")
    frame["printed"] = frame["value"]
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    frame["decimals"] = pd.to_numeric(frame["decimals"], errors="coerce").astype("Int64")
    return frame[["quantity", "label", "value", "printed", "decimals", "unit", "source_kind", "source"]]


@lru_cache(maxsize=4)
def _read_reported(path: str) -> pd.DataFrame:
    """Read and validate reported.csv (cached; callers get a copy)."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if list(table.columns) != REPORTED_COLUMNS:
        raise ValueError(f"{path}: columns must be {REPORTED_COLUMNS}, got {list(table.columns)}")
    duplicated = table["key"][table["key"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"{path}: duplicate keys {duplicated}")
    bad = table[~table["source_kind"].isin(SOURCE_KINDS) | (table["source"].str.strip() == "")]
    if len(bad):
        raise ValueError(f"{path}: rows without a valid source: {bad['key'].tolist()}")
    return table.copy()


def _reported_values(path: str | os.PathLike | None = None) -> dict[str, ReportedValue]:
    """All reported values by key."""
    frame = load_reported(path)
    values = {}
    for key, row in frame.iterrows():
        numeric = not pd.isna(row["value"])
        values[str(key)] = ReportedValue(
            key=str(key),
            quantity=row["quantity"],
            label=row["label"],
            value=float(row["value"]) if numeric else row["printed"],
            printed=row["printed"],
            decimals=int(row["decimals"]) if numeric and not pd.isna(row["decimals"]) else None,
            unit=row["unit"],
            source_kind=row["source_kind"],
            source=row["source"],
        )
    return values


def reported(key: str) -> ReportedValue:
    """The reported value for ``key`` (KeyError if the authors report no such number)."""
    values = _reported_values()
    if key not in values:
        raise KeyError(f"{key!r} is not in {REPORTED_CSV.name}")
    return values[key]


# --------------------------------------------------------------------------- comparison


def format_number(value: float, decimals: int, thousands: bool = True) -> str:
    """Half-up rounding to ``decimals``, with thousands separators unless ``thousands=False``."""
    return f"{round_half_up(value, decimals):{',' if thousands else ''}.{decimals}f}"


def round_half_up(value: float, decimals: int) -> Decimal:
    """``value`` rounded half-up (as people print numbers) to ``decimals``."""
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _plain(value: Any) -> Any:
    """numpy / pandas scalars -> Python scalars; NaN -> None."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _as_text(value: Any) -> str:
    """Text form for comparing text cells (bools as yes/no)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


def _difference(ours: float, value: float | str) -> float:
    """ours - reported, without binary floating-point noise (12 significant digits)."""
    return float(f"{float(ours) - float(value):.12g}")


def _compare(ref: ReportedValue, ours: Any, tolerance: float | None) -> tuple[str, float | None, str]:
    """(status, difference ours - reported, rule text) for ``expect="match"``."""
    if not ref.is_numeric:
        same = _as_text(ours).casefold() == ref.printed.strip().casefold()
        return ("match" if same else "differs"), None, "same text"
    if isinstance(ours, bool) or not isinstance(ours, (int, float)) or not math.isfinite(ours):
        return "differs", None, "not a finite number"
    difference = _difference(ours, ref.value)
    if tolerance is not None:
        return ("match" if abs(difference) <= tolerance else "differs"), difference, f"|Δ| ≤ {tolerance:g}"
    decimals = ref.decimals or 0
    same = round_half_up(ours, decimals) == Decimal(ref.printed.replace(",", "")).quantize(
        Decimal(1).scaleb(-decimals)
    )
    return ("match" if same else "differs"), difference, f"rounds to printed ({decimals} dp)"


# --------------------------------------------------------------------------- the log


@dataclass(frozen=True)
class ReproductionRow:
    """One reproduced number: ours next to the reported one."""

    notebook: str
    key: str
    quantity: str
    unit: str
    reported: str
    """The reported value as printed (``""`` when not reported)."""
    ours: float | int | str | None
    ours_display: str
    difference: float | None
    """ours - reported (numbers only)."""
    rule: str
    expect: str
    status: str
    source_kind: str
    source: str
    note: str = ""


class ReproductionLog:
    """Collects one notebook's reproduced numbers; :meth:`save` writes its report part."""

    def __init__(self, notebook: str, output_dir: str | os.PathLike | None = None) -> None:
        self.notebook = Path(notebook).stem or str(notebook)
        self.output_dir = output_dir
        self._rows: dict[str, ReproductionRow] = {}
        self._reported = _reported_values()

    def record(
        self,
        key: str,
        ours: Any,
        *,
        tolerance: float | None = None,
        expect: Expect = "match",
        note: str = "",
        quantity: str | None = None,
        unit: str = "",
    ) -> ReproductionRow:
        """Record our value for ``key`` and compare it with the reported one.

        ``expect="match"``: status ``match``/``differs`` (see the module docstring; ``tolerance``
        is absolute, in the reported unit — give percentages as percent, not fractions).
        ``"measured"`` (e.g. fine-tuning numbers measured here with other models) and
        ``"not_reproducible"`` never count as matches. Keys not in reported.csv need
        ``quantity=`` and get status ``not reported``. Recording a key again replaces it.
        """
        if expect not in EXPECTATIONS:
            raise ValueError(f"expect must be one of {EXPECTATIONS}, not {expect!r}")
        if tolerance is not None and not tolerance >= 0:
            raise ValueError("tolerance must be >= 0")
        ours = _plain(ours)
        if isinstance(ours, float) and not math.isfinite(ours):
            raise ValueError(f"{key}: ours must be finite, got {ours}")
        if ours is None and expect != "not_reproducible":
            raise ValueError(f"{key}: ours is missing; use expect='not_reproducible'")
        ref = self._reported.get(key)
        row = self._known(key, ref, ours, tolerance, expect, note) if ref else self._unknown(
            key, ours, quantity, unit, expect, note
        )
        self._rows[key] = row
        return row

    def _known(
        self, key: str, ref: ReportedValue, ours: Any, tolerance: float | None, expect: str, note: str
    ) -> ReproductionRow:
        if expect == "match":
            status, difference, rule = _compare(ref, ours, tolerance)
        else:
            status = expect.replace("_", " ")
            numeric = ref.is_numeric and isinstance(ours, (int, float)) and not isinstance(ours, bool)
            difference = _difference(ours, ref.value) if numeric else None
            rule = "not compared"
        return ReproductionRow(
            notebook=self.notebook, key=key, quantity=ref.quantity, unit=ref.unit, reported=ref.display(),
            ours=ours, ours_display=_display_ours(ours, ref.decimals), difference=difference, rule=rule,
            expect=expect, status=status, source_kind=ref.source_kind, source=ref.source, note=note,
        )

    def _unknown(
        self, key: str, ours: Any, quantity: str | None, unit: str, expect: str, note: str
    ) -> ReproductionRow:
        if not quantity:
            raise KeyError(f"{key!r} is not in {REPORTED_CSV.name}: pass quantity= to record it (not reported)")
        return ReproductionRow(
            notebook=self.notebook, key=key, quantity=quantity, unit=unit, reported="", ours=ours,
            ours_display=_display_ours(ours, None), difference=None, rule="not compared", expect=expect,
            status="not reported", source_kind="", source="", note=note,
        )

    @property
    def rows(self) -> list[ReproductionRow]:
        """Recorded rows sorted by key."""
        return [self._rows[k] for k in sorted(self._rows)]

    def to_frame(self) -> pd.DataFrame:
        """The recorded rows as a DataFrame indexed by key (for display in the notebook)."""
        return _rows_frame(self.rows).set_index("key")

    def save(self) -> Path:
        """Write ``<reports>/parts/<notebook>.json`` (sorted, no timestamps). Returns the path."""
        path = output_dirs(self.output_dir).reports / "parts" / f"{self.notebook}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"notebook": self.notebook, "rows": [asdict(r) for r in self.rows]}
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        return path


def _display_ours(ours: Any, decimals: int | None) -> str:
    """Our value at the reported precision, with the unrounded value when it has more digits."""
    if ours is None:
        return "—"
    if isinstance(ours, bool) or not isinstance(ours, (int, float)):
        return _as_text(ours)
    if decimals is None:
        return f"{ours:,}" if isinstance(ours, int) else f"{ours:,.6g}"
    shown = format_number(float(ours), decimals)
    finer = format_number(float(ours), decimals + 2)
    if isinstance(ours, int) or Decimal(finer.replace(",", "")) == Decimal(shown.replace(",", "")):
        return shown
    return f"{shown} ({finer.rstrip('0')})"


# --------------------------------------------------------------------------- the report

ROW_FIELDS = [f.name for f in fields(ReproductionRow)]


def _rows_frame(rows: Sequence[ReproductionRow | dict[str, Any]]) -> pd.DataFrame:
    """Rows -> DataFrame with the ReproductionRow columns (also when empty)."""
    records = [asdict(r) if isinstance(r, ReproductionRow) else r for r in rows]
    return pd.DataFrame.from_records(records, columns=ROW_FIELDS)


@dataclass
class Report:
    """The gathered reproduction report."""

    rows: pd.DataFrame
    counts: dict[str, int]
    """Rows per status, plus ``not checked`` (reported values no notebook recorded)."""
    markdown_path: Path
    html_path: Path
    parts: list[Path] = field(default_factory=list)

    @property
    def failed(self) -> pd.DataFrame:
        """Rows expected to match whose status is ``differs``."""
        return _failed(self.rows)

    @property
    def ok(self) -> bool:
        return self.failed.empty


def _failed(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows expected to match whose status is ``differs``."""
    return rows[(rows["expect"] == "match") & (rows["status"] == "differs")]


def _read_parts(folder: Path) -> tuple[list[Path], pd.DataFrame]:
    """All part files (sorted) and their rows sorted by notebook, key."""
    parts = sorted(folder.glob("*.json"))
    rows = [row for p in parts for row in json.loads(p.read_text(encoding="utf-8"))["rows"]]
    frame = _rows_frame(rows)
    return parts, frame.sort_values(["notebook", "key"], kind="stable").reset_index(drop=True)


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
    markdown_path, html_path = reports / "reproduction.md", reports / "reproduction.html"
    _write(markdown_path, _markdown(rows, counts, unchecked))
    _write(html_path, _html(rows, counts, unchecked))
    return Report(rows=rows, counts=counts, markdown_path=markdown_path, html_path=html_path, parts=parts)


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


RULE_TEXT = (
    "A number **matches** when ours, rounded half-up to the decimals the source prints, equals the "
    "printed value (default tolerance: half a unit of the last printed digit), or lies within the "
    "tolerance stated in its row. *measured* rows (e.g. fine-tuning results obtained here with other "
    "models or settings) and *not reproducible* rows are shown for comparison and never count as "
    "matches. † = reported by a secondary source only (third-party summary, not verified against "
    "the paper)."
)
TABLE_COLUMNS = ["Status", "Notebook", "Key", "Quantity", "Reported", "Ours", "Δ", "Rule", "Source", "Note"]
NUMERIC_COLUMNS = {4, 5, 6}  # right-aligned


def _table_cells(rows: pd.DataFrame) -> list[list[str]]:
    """Report table cells, one list per row."""
    cells = []
    for row in rows.itertuples(index=False):
        reported_text = row.reported + (" †" if row.source_kind == "secondary" else "")
        difference = "" if row.difference is None or pd.isna(row.difference) else f"{row.difference:+.4g}"
        source = f"{row.source_kind}: {row.source}" if row.source else ""
        quantity = f"{row.quantity} ({row.unit})" if row.unit else row.quantity
        cells.append([row.status, row.notebook, row.key, quantity, reported_text, row.ours_display,
                      difference, row.rule, source, row.note])
    return cells


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in counts.items())


def _markdown(rows: pd.DataFrame, counts: dict[str, int], unchecked: list[str]) -> str:
    lines = ["# KokoroChat reproduction report", "", f"**{_summary(counts)}**", "", RULE_TEXT, ""]
    failed = _failed(rows)
    if len(failed):
        lines += ["**Differs:** " + ", ".join(f"`{r.key}` ({r.notebook})" for r in failed.itertuples()), ""]
    if len(rows):
        numeric = [i in NUMERIC_COLUMNS for i in range(len(TABLE_COLUMNS))]
        lines.append(to_markdown(TABLE_COLUMNS, _table_cells(rows), numeric))
    else:
        lines += ["No notebook has recorded any number yet.", ""]
    if unchecked:
        lines += ["## Reported values no notebook checked", "", ", ".join(f"`{k}`" for k in unchecked), ""]
    return "\n".join(lines)


HTML_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Hiragino Sans", "Noto Sans JP", sans-serif;
       margin: 2rem; color: #222; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.counts span { display: inline-block; margin-right: 0.6rem; padding: 0.2rem 0.6rem; border-radius: 0.3rem; }
.match { background: #e3f4e6; } .differs { background: #fbe0de; font-weight: 600; }
.not-reported { background: #eeeeee; } .measured { background: #e2ecfb; }
.not-reproducible { background: #fdf1d8; } .not-checked { background: #f7f7f7; }
code { font-size: 0.8rem; }
""".strip()


def _html(rows: pd.DataFrame, counts: dict[str, int], unchecked: list[str]) -> str:
    esc = html.escape
    badges = "".join(f'<span class="{_css(s)}">{n} {esc(s)}</span>' for s, n in counts.items())
    head = "".join(f"<th>{esc(c)}</th>" for c in TABLE_COLUMNS)
    body = []
    for cells in _table_cells(rows):
        tds = "".join(
            f'<td class="num">{esc(c)}</td>' if i in NUMERIC_COLUMNS else f"<td>{esc(c)}</td>"
            for i, c in enumerate(cells)
        )
        body.append(f'<tr class="{_css(cells[0])}">{tds}</tr>')
    table = f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>"
    rule = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", esc(RULE_TEXT))
    rule = re.sub(r"\*(.+?)\*", r"<em>\1</em>", rule)
    failed = _failed(rows)
    differs = ""
    if len(failed):
        items = ", ".join(f"<code>{esc(r.key)}</code> ({esc(r.notebook)})" for r in failed.itertuples())
        differs = f'<p class="differs">Differs: {items}</p>\n'
    missing = ""
    if unchecked:
        keys = ", ".join(f"<code>{esc(k)}</code>" for k in unchecked)
        missing = f"<h2>Reported values no notebook checked</h2>\n<p>{keys}</p>\n"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>KokoroChat reproduction report</title>\n"
        f"<style>\n{HTML_STYLE}\n</style>\n</head>\n<body>\n<h1>KokoroChat reproduction report</h1>\n"
        f'<p class="counts">{badges}</p>\n<p>{rule}</p>\n{differs}'
        f"{table if len(rows) else '<p>No notebook has recorded any number yet.</p>'}\n"
        f"{missing}</body>\n</html>\n"
    )


def _css(status: str) -> str:
    return status.replace(" ", "-")


# --------------------------------------------------------------------------- command line


def gather_report_cli(output_dir: str | os.PathLike | None = None) -> int:
    """Gather the report, print a summary; exit code 1 if a number expected to match differs,
    2 if no notebook wrote a part, else 0."""
    report = gather_report(output_dir)
    print(f"reproduction report: {_summary(report.counts)}")
    print(f"  {report.markdown_path}\n  {report.html_path}")
    if not report.parts:
        print("no report parts found: run the notebooks first", file=sys.stderr)
        return 2
    if not report.ok:
        print(f"{len(report.failed)} reproduced number(s) differ from the reported value:", file=sys.stderr)
        for row in report.failed.itertuples(index=False):
            print(
                f"  {row.key} ({row.notebook}): reported {row.reported}, ours {row.ours_display} — {row.quantity}",
                file=sys.stderr,
            )
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kokoro_analysis.reporting [--output-dir DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m kokoro_analysis.reporting",
        description="Gather the reproduction report from <output-dir>/reports/parts/*.json.",
    )
    parser.add_argument("--output-dir", default=None, help="output root holding reports/parts (default: project root)")
    args = parser.parse_args(argv)
    return gather_report_cli(args.output_dir)


if __name__ == "__main__":
    sys.exit(main())
