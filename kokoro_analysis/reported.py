"""The numbers the paper and its authors report, as data (``data/reported.csv``: every number with its
printed precision and its source), and the rounding used to compare with them.

The sources are transcribed from the paper, the dataset README and secondary summaries; each row of
``reported.csv`` names its source (``source_kind`` "authors" or "secondary").
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any, Literal

import pandas as pd

from kokoro_analysis.paths import PACKAGE_DATA_DIR

REPORTED_CSV = PACKAGE_DATA_DIR / "reported.csv"
REPORTED_COLUMNS = [
    "key",
    "quantity",
    "label",
    "value",
    "decimals",
    "unit",
    "source_kind",
    "source",
]
SOURCE_KINDS = ("authors", "secondary")
EXPECTATIONS = ("match", "measured", "not_reproducible")
Expect = Literal["match", "measured", "not_reproducible"]


@dataclass(frozen=True)
class Record:
    """One number an analysis reproduces or measures, for the reproduction log.

    ``expect``: ``"match"`` (compared with the reported value of ``key``), ``"measured"`` (shown for
    comparison, e.g. results obtained here with other models) or ``"not_reproducible"`` (``value``
    ``None``). ``quantity`` and ``unit`` describe keys that are not in ``reported.csv``;
    ``tolerance`` (absolute, in the reported unit) replaces the printed-precision rule.
    ``from_corpus=False`` marks numbers not computed from the KokoroChat corpus (e.g. ESConv), which
    a run on a subset or a topic leaves as they are.
    """

    key: str
    value: Any
    expect: Expect = "match"
    quantity: str | None = None
    unit: str = ""
    note: str = ""
    tolerance: float | None = None
    from_corpus: bool = True


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
    return frame[
        ["quantity", "label", "value", "printed", "decimals", "unit", "source_kind", "source"]
    ]


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


def format_number(value: float, decimals: int, thousands: bool = True) -> str:
    """Half-up rounding to ``decimals``, with thousands separators unless ``thousands=False``."""
    return f"{round_half_up(value, decimals):{',' if thousands else ''}.{decimals}f}"


def round_half_up(value: float, decimals: int) -> Decimal:
    """``value`` rounded half-up (as people print numbers) to ``decimals``."""
    return Decimal(repr(float(value))).quantize(
        Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP
    )
