"""What a notebook records for the reproduction report: each number it reproduces next to the one the
authors (or secondary sources) report, compared, and how a recorded row is shown.

* :mod:`kokoro_analysis.reported` reads ``data/reported.csv``: every number the authors (or
  secondary sources) report, with its printed precision and source.
* Each notebook creates a :class:`ReproductionLog`, calls :meth:`ReproductionLog.record` for every
  number it reproduces and :meth:`ReproductionLog.save` at the end
  (``<reports>/parts/<notebook>.json``); :mod:`kokoro_analysis.publish.reproduction` gathers the
  parts into the report.

Match rule (``expect="match"``): our value, rounded half-up to the number of decimals the source
prints, must equal the printed value, i.e. the default tolerance is half a unit of the last printed
digit; an explicit ``tolerance`` (absolute, in the value's unit) replaces that rule.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from kokoro_analysis.paths import output_dirs, write_atomically
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
    "TABLE_COLUMNS",
    "ReproductionLog",
    "ReproductionRow",
    "rows_frame",
    "table_cells",
]

STATUSES = ("match", "differs", "measured", "descriptor", "not reproducible")
"""Row statuses, in report order. ``not checked`` (reported but recorded by no notebook) is
counted separately."""


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


RECORD_OPTIONS = ("tolerance", "expect", "note", "quantity", "unit")
"""The fields of a :class:`~kokoro_analysis.reported.Record` that are options of
:meth:`ReproductionLog.record`."""


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
        if ref is None and not quantity:
            raise KeyError(
                f"{key!r} is not in {REPORTED_CSV.name}: pass quantity= to record it (measured)"
            )
        described = _described(ref, quantity, unit)
        status, difference, rule = _judged(ref, ours, tolerance, expect)
        row = ReproductionRow(
            notebook=self.notebook,
            key=key,
            ours=ours,
            ours_display=_display_ours(ours, ref.decimals if ref else None, described["unit"]),
            difference=difference,
            rule=rule,
            expect=expect,
            status=status,
            note=note,
            **described,
        )
        self._rows[key] = row
        return row

    def add(self, record: Record) -> ReproductionRow:
        """:meth:`record` for a :class:`~kokoro_analysis.reported.Record`."""
        options = {name: getattr(record, name) for name in RECORD_OPTIONS}
        return self.record(record.key, record.value, **options)

    @property
    def rows(self) -> list[ReproductionRow]:
        """Recorded rows sorted by key."""
        return [self._rows[k] for k in sorted(self._rows)]

    def to_frame(self) -> pd.DataFrame:
        """The recorded rows as a DataFrame indexed by key (raw values)."""
        return rows_frame(self.rows).set_index("key")

    def to_display(self) -> pd.DataFrame:
        """The recorded rows as the report shows them (formatted text, percent for fractions, no
        notebook column), in report order, for display in the notebook."""
        frame = rows_frame(self.rows)
        rank = frame["status"].map({status: i for i, status in enumerate(STATUSES)})
        frame = frame.assign(_rank=rank).sort_values(["_rank", "key"], kind="stable")
        shown = pd.DataFrame(table_cells(frame), columns=TABLE_COLUMNS)
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


def _described(ref: ReportedValue | None, quantity: str | None, unit: str) -> dict[str, str]:
    """The fields of a row that describe its number: from the reported value, else (a number the
    paper does not report) the caller's quantity and unit."""
    if ref is None:
        return {"quantity": quantity, "unit": unit, "reported": "", "source_kind": "", "source": ""}
    return {
        "quantity": ref.quantity,
        "unit": ref.unit,
        "reported": ref.display(),
        "source_kind": ref.source_kind,
        "source": ref.source,
    }


def _judged(
    ref: ReportedValue | None, ours: Any, tolerance: float | None, expect: str
) -> tuple[str, float | None, str]:
    """(status, difference ours − reported, rule text) of a recorded number: compared when it is
    expected to match a reported one (:func:`_compare`); a reported label not reproducible is a
    descriptor; else the expectation is the status (a number the paper does not report: measured,
    or not reproducible without a value)."""
    if ref is None:
        return ("measured" if ours is not None else "not reproducible"), None, "no reported value"
    if expect == "match":
        return _compare(ref, ours, tolerance)
    if not ref.is_numeric and expect == "not_reproducible":
        return "descriptor", None, "not compared"
    numeric = ref.is_numeric and isinstance(ours, (int, float)) and not isinstance(ours, bool)
    difference = _difference(ours, ref.value) if numeric else None
    return expect.replace("_", " "), difference, "not compared"


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


# --------------------------------------------------------------------------- rows as shown

ROW_FIELDS = [f.name for f in fields(ReproductionRow)]


def rows_frame(rows: Sequence[ReproductionRow | dict[str, Any]]) -> pd.DataFrame:
    """Rows -> DataFrame with the ReproductionRow columns (also when empty)."""
    records = [asdict(r) if isinstance(r, ReproductionRow) else r for r in rows]
    return pd.DataFrame.from_records(records, columns=ROW_FIELDS)


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
"""Columns of the report table (:func:`table_cells`); the record key (an identifier) comes last:
readers scan the quantity."""


def table_cells(rows: pd.DataFrame) -> list[list[str]]:
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
