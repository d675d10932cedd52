"""Reproduction report: the authors' reported numbers next to ours.

* :mod:`kokoro_analysis.reported` reads ``data/reported.csv``: every number the authors (or
  secondary sources) report, with its printed precision and source.
* Each notebook creates a :class:`ReproductionLog`, calls :meth:`ReproductionLog.record` for every
  number it reproduces and :meth:`ReproductionLog.save` at the end
  (``<reports>/parts/<notebook>.json``).
* :func:`gather_report` merges the parts into ``<reports>/reproduction.md`` and ``.html``;
  ``kokoro-analysis report [--output-dir DIR]`` does the same and exits 1 when a number expected to
  match differs. Every key has exactly one owning notebook: a key recorded by two parts is an error
  (:class:`DuplicateRecordError`).

Match rule (``expect="match"``): our value, rounded half-up to the number of decimals the source
prints, must equal the printed value, i.e. the default tolerance is half a unit of the last printed
digit; an explicit ``tolerance`` (absolute, in the value's unit) replaces that rule.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from kokoro_analysis.paths import output_dirs, write_atomically
from kokoro_analysis.publish.tables import to_markdown
from kokoro_analysis.reported import (
    EXPECTATIONS,
    REPORTED_CSV,
    Expect,
    Record,
    ReportedValue,
    _reported_values,
    format_number,
    round_half_up,
)

__all__ = [
    "EXPECTATIONS",
    "STATUSES",
    "DuplicateRecordError",
    "Report",
    "ReproductionLog",
    "ReproductionRow",
    "gather_report",
]

STATUSES = ("match", "differs", "measured", "descriptor", "not reproducible")
"""Row statuses, in report order. ``not checked`` (reported but recorded by no notebook) is
counted separately."""
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


# --------------------------------------------------------------------------- comparison


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


def _compare(
    ref: ReportedValue, ours: Any, tolerance: float | None
) -> tuple[str, float | None, str]:
    """(status, difference ours - reported, rule text) for ``expect="match"``."""
    if not ref.is_numeric:
        same = _as_text(ours).casefold() == ref.printed.strip().casefold()
        return ("match" if same else "differs"), None, "same text"
    if isinstance(ours, bool) or not isinstance(ours, (int, float)) or not math.isfinite(ours):
        return "differs", None, "not a finite number"
    difference = _difference(ours, ref.value)
    if tolerance is not None:
        return (
            ("match" if abs(difference) <= tolerance else "differs"),
            difference,
            f"|Δ| ≤ {tolerance:g}",
        )
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

    def __init__(
        self,
        notebook: str,
        output_dir: str | os.PathLike | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        """``parameters``: the run's non-default parameters, named in the report."""
        self.notebook = Path(notebook).stem or str(notebook)
        self.output_dir = output_dir
        self.parameters = {name: repr(value) for name, value in sorted((parameters or {}).items())}
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
        ``quantity=`` and get status ``measured`` (``not reproducible`` without a value). Recording
        a key again replaces it.
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
        row = (
            self._known(key, ref, ours, tolerance, expect, note)
            if ref
            else self._unknown(key, ours, quantity, unit, expect, note)
        )
        self._rows[key] = row
        return row

    def add(self, record: Record) -> ReproductionRow:
        """:meth:`record` for a :class:`~kokoro_analysis.reported.Record`."""
        return self.record(
            record.key,
            record.value,
            tolerance=record.tolerance,
            expect=record.expect,
            note=record.note,
            quantity=record.quantity,
            unit=record.unit,
        )

    def _known(
        self,
        key: str,
        ref: ReportedValue,
        ours: Any,
        tolerance: float | None,
        expect: str,
        note: str,
    ) -> ReproductionRow:
        if expect == "match":
            status, difference, rule = _compare(ref, ours, tolerance)
        elif not ref.is_numeric and expect == "not_reproducible":
            status, difference, rule = "descriptor", None, "not compared"
        else:
            status = expect.replace("_", " ")
            numeric = (
                ref.is_numeric and isinstance(ours, (int, float)) and not isinstance(ours, bool)
            )
            difference = _difference(ours, ref.value) if numeric else None
            rule = "not compared"
        return ReproductionRow(
            notebook=self.notebook,
            key=key,
            quantity=ref.quantity,
            unit=ref.unit,
            reported=ref.display(),
            ours=ours,
            ours_display=_display_ours(ours, ref.decimals, ref.unit),
            difference=difference,
            rule=rule,
            expect=expect,
            status=status,
            source_kind=ref.source_kind,
            source=ref.source,
            note=note,
        )

    def _unknown(
        self, key: str, ours: Any, quantity: str | None, unit: str, expect: str, note: str
    ) -> ReproductionRow:
        if not quantity:
            raise KeyError(
                f"{key!r} is not in {REPORTED_CSV.name}: pass quantity= to record it (measured)"
            )
        return ReproductionRow(
            notebook=self.notebook,
            key=key,
            quantity=quantity,
            unit=unit,
            reported="",
            ours=ours,
            ours_display=_display_ours(ours, None, unit),
            difference=None,
            rule="no reported value",
            expect=expect,
            status="measured" if ours is not None else "not reproducible",
            source_kind="",
            source="",
            note=note,
        )

    @property
    def rows(self) -> list[ReproductionRow]:
        """Recorded rows sorted by key."""
        return [self._rows[k] for k in sorted(self._rows)]

    def to_frame(self) -> pd.DataFrame:
        """The recorded rows as a DataFrame indexed by key (raw values)."""
        return _rows_frame(self.rows).set_index("key")

    def to_display(self) -> pd.DataFrame:
        """The recorded rows as the report shows them (formatted text, percent for fractions, no
        notebook column), in report order, for display in the notebook."""
        frame = _rows_frame(self.rows)
        rank = frame["status"].map({status: i for i, status in enumerate(STATUSES)})
        frame = frame.assign(_rank=rank).sort_values(["_rank", "key"], kind="stable")
        shown = pd.DataFrame(_table_cells(frame), columns=TABLE_COLUMNS)
        return shown.drop(columns="Notebook").reset_index(drop=True)

    def save(self) -> Path:
        """Write ``<reports>/parts/<notebook>.json`` (sorted, no timestamps). Returns the path."""
        path = output_dirs(self.output_dir).reports / "parts" / f"{self.notebook}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"notebook": self.notebook, "rows": [asdict(r) for r in self.rows]}
        if self.parameters:
            payload["parameters"] = self.parameters
        write_atomically(
            path, json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        )
        return path


UNIT_DECIMALS = {"rho": 3, "alpha": 3, "ICC": 3, "fraction": 4, "item points": 4}
"""Decimals of a number without a reported precision, by unit (others: :data:`DEFAULT_DECIMALS`;
fractions are shown in percent, two decimals): one precision per quantity, whatever its size."""
DEFAULT_DECIMALS = 2
SMALLEST_SHOWN = 0.0001
"""Differences closer to 0 than this are shown as ``+<0.0001``."""
UNIT_LABELS = {
    "percent": "%",
    "fraction": "%",  # shown in percent (:func:`_in_percent`)
    "x100": "×100",
    "points": "points",
    "rho": "",  # dimensionless coefficients: the quantity names them
    "alpha": "",
    "ICC": "",
    "flag": "",
    "text": "",
}
"""How the report names a row's unit after its quantity (``""``: no unit label)."""


def _display_ours(ours: Any, decimals: int | None, unit: str = "") -> str:
    """Our value at the reported precision, with the unrounded value when it has more digits; without
    one, integers in full (years without separators) and other numbers with the decimals of their
    unit (:data:`UNIT_DECIMALS`), so every number of one quantity has the same precision."""
    if ours is None:
        return "—"
    if isinstance(ours, bool) or not isinstance(ours, (int, float)):
        return _as_text(ours)
    thousands = unit != "year"
    if decimals is None:
        if isinstance(ours, int):
            return format_number(ours, 0, thousands=thousands)
        places = UNIT_DECIMALS.get(unit, DEFAULT_DECIMALS)
        return format_number(float(ours), places, thousands=thousands)
    shown = format_number(float(ours), decimals, thousands=thousands)
    finer = format_number(float(ours), decimals + 2, thousands=thousands)
    if isinstance(ours, int) or Decimal(finer.replace(",", "")) == Decimal(shown.replace(",", "")):
        return shown
    return f"{shown} ({finer.rstrip('0')})"


def _decimals_for(value: float, digits: int) -> int:
    """Decimals that show ``value`` with ``digits`` significant digits (0 for large values)."""
    if value == 0 or not math.isfinite(value):
        return 0
    return max(0, digits - 1 - math.floor(math.log10(abs(value))))


def _signed(value: float) -> str:
    """A difference with its sign (true minus), 3 significant digits, no scientific notation."""
    if value == 0:
        return "0"
    if abs(value) < SMALLEST_SHOWN:
        return ("+" if value > 0 else "\u2212") + f"<{SMALLEST_SHOWN:g}"
    text = format_number(abs(value), _decimals_for(value, 3))
    return ("+" if value > 0 else "\u2212") + text


def _true_minus(text: str) -> str:
    """A number shown with the minus sign (U+2212), not a hyphen."""
    return re.sub(r"(?<![\w.])-(?=\d)", "\u2212", text)


def _unit_label(unit: str) -> str:
    """The Unit cell of a row: ``%`` (fractions too, shown in percent), ``×100``, nothing for
    coefficients the quantity names (ρ, α, ICC)."""
    return UNIT_LABELS.get(unit, unit)


def _in_percent(row: Any) -> tuple[str, str, float | None, str]:
    """(reported, ours, difference, rule) of a row whose unit is ``fraction``, in percent: the report
    shows every share and accuracy in percent (two decimals fewer than the fraction printed)."""
    reported, ours, difference, rule = row.reported, row.ours_display, row.difference, row.rule
    decimals = None
    if reported:
        printed = Decimal(reported.replace(",", ""))
        decimals = max(0, -printed.as_tuple().exponent - 2)
        reported = format_number(float(printed * 100), decimals)
    value = _plain(row.ours)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        ours = _display_ours(100 * value, decimals, "percent")
    if difference is not None and not pd.isna(difference):
        difference = _difference(100 * difference, 0)
    if rule.startswith("rounds to printed") and decimals is not None:
        rule = f"rounds to printed ({decimals} dp, in %)"
    elif rule.startswith("|Δ| ≤ "):
        rule = f"|Δ| ≤ {100 * float(rule.removeprefix('|Δ| ≤ ')):g}"
    return reported, ours, difference, rule


def _status_text(status: str, rule: str) -> str:
    """The status as the report prints it: a match within a stated tolerance says so."""
    if status == "match" and rule.startswith("|Δ| ≤ "):
        return f"match (±{rule.removeprefix('|Δ| ≤ ')})"
    return status


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
    frame = _rows_frame(rows)
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
TABLE_COLUMNS = [
    "Status",
    "Notebook",
    "Quantity",
    "Unit",
    "Reported",
    "Ours",
    "Δ",
    "Rule",
    "Source",
    "Note",
    "Key",
]
NUMERIC_COLUMNS = {4, 5, 6}  # right-aligned
KEY_COLUMN = 10
"""The record key (an identifier, set as code) comes last: readers scan the quantity."""


def _table_cells(rows: pd.DataFrame) -> list[list[str]]:
    """Report table cells, one list per row."""
    cells = []
    for row in rows.itertuples(index=False):
        reported, ours, difference, rule = (
            _in_percent(row)
            if row.unit == "fraction"
            else (row.reported, row.ours_display, row.difference, row.rule)
        )
        reported, ours = _true_minus(reported), _true_minus(ours)
        reported_text = reported + (" †" if reported and row.source_kind == "secondary" else "")
        difference = "" if difference is None or pd.isna(difference) else _signed(difference)
        source = f"{row.source_kind}: {row.source}" if row.source else ""
        cells.append(
            [
                _status_text(row.status, rule),
                row.notebook,
                row.quantity,
                _unit_label(row.unit),
                reported_text,
                ours,
                difference,
                rule,
                source,
                row.note,
                row.key,
            ]
        )
    return cells


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
        cells = [[*row[:KEY_COLUMN], f"`{row[KEY_COLUMN]}`"] for row in _table_cells(rows)]
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
    for cells in _table_cells(rows):
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
