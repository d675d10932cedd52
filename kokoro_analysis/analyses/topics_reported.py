"""The main-topic shares against the authors' figure: our shares next to the printed ones (rounded
half up at the printed precision), the reproduction records, and which session counts and
denominators would reproduce each printed share (exact integer arithmetic), summed up in words.

The shares come from :func:`kokoro_analysis.analyses.topics.topic_shares`.
"""

from __future__ import annotations

import math

import pandas as pd

from kokoro_analysis.corpus.schema import OTHERS
from kokoro_analysis.reported import Record, format_number, load_reported, round_half_up, topic_key

__all__ = [
    "KNOWN_ROUNDING_EXCEPTIONS",
    "common_denominators",
    "printed_share_consistency",
    "reported_share_comparison",
    "rounding_summary",
    "share_records",
]

KNOWN_ROUNDING_EXCEPTIONS: dict[str, float] = {"Interpersonal Issues": 0.1}
"""Printed shares that no plain rounding of the data gives, with the tolerance (percentage points)
used to record them: Interpersonal is 306/6,589 = 4.64 %, the figure prints 4.7 % (and no common
denominator makes all ten printed shares come out, see :func:`printed_share_consistency`)."""


def reported_share_comparison(shares: pd.DataFrame) -> pd.DataFrame:
    """Our shares next to the shares printed in the authors' figure (inner ring).

    Columns: ``main_en, label_en, sessions, total, reported_pct`` (as printed), ``share_pct``,
    ``rounded_pct`` (ours rounded half-up to the printed decimals), ``units_off`` (rounded minus
    printed, in units of the last printed digit), ``tolerance`` (from
    :data:`KNOWN_ROUNDING_EXCEPTIONS`, else NaN = the default half-unit rule), ``match`` and
    ``note``. Topics the authors do not print ("Others") are left out.
    """
    reported = load_reported()
    total = int(shares["sessions"].sum())
    rows = []
    for row in shares.itertuples(index=False):
        key = topic_key(row.main_en)
        if key not in reported.index:
            continue
        printed = float(reported.at[key, "value"])
        decimals = int(reported.at[key, "decimals"])
        rounded = float(round_half_up(row.share_pct, decimals))
        units_off = round((rounded - printed) * 10**decimals)
        tolerance = KNOWN_ROUNDING_EXCEPTIONS.get(row.main_en, math.nan)
        match = (
            units_off == 0
            if math.isnan(tolerance)
            else abs(row.share_pct - printed) <= tolerance + 1e-12
        )
        note = ""
        if units_off:
            units = "one unit" if abs(units_off) == 1 else f"{abs(units_off)} units"
            note = (
                f"figure prints {printed:.{decimals}f}; data gives {row.share_pct:.2f} "
                f"({row.sessions:,}/{total:,}); rounding differs by {units} of the last digit"
            )
        rows.append(
            {
                "main_en": row.main_en,
                "label_en": row.label_en,
                "sessions": row.sessions,
                "total": total,
                "reported_pct": printed,
                "share_pct": row.share_pct,
                "rounded_pct": rounded,
                "units_off": units_off,
                "tolerance": tolerance,
                "match": bool(match),
                "note": note,
            }
        )
    return pd.DataFrame(rows)


def share_records(comparison: pd.DataFrame, shares: pd.DataFrame) -> list[Record]:
    """The records of :func:`reported_share_comparison` (each share with its ``note``; the known
    rounding exceptions with their ``tolerance``) and the sessions of the unlabelled topic "Others"
    in :func:`~kokoro_analysis.analyses.topics.topic_shares` ``shares`` (measured)."""
    records = [
        Record(
            topic_key(row.main_en),
            float(row.share_pct),
            note=row.note,
            tolerance=None if math.isnan(row.tolerance) else float(row.tolerance),
        )
        for row in comparison.itertuples(index=False)
    ]
    others = shares.loc[shares["main_en"] == OTHERS, "sessions"]
    records.append(
        Record(
            "topics.sessions.others",
            int(others.sum()),
            expect="measured",
            unit="sessions",
            quantity='Sessions with main topic "Others" (not labelled in the authors\' figure)',
        )
    )
    return records


def printed_share_consistency(comparison: pd.DataFrame, *, decimals: int = 1) -> pd.DataFrame:
    """Which session counts and which denominators reproduce each printed share.

    ``comparison`` is :func:`reported_share_comparison`. For each reported topic: ``sessions_min``/``sessions_max``, the session counts that round
    (half-up, ``decimals``) to the printed share with the observed total, and
    ``denominator_min``/``denominator_max``, the totals N for which the observed count / N rounds
    to it (``math.inf``: any larger total). :func:`common_denominators` is the range of N that works
    for every topic. Exact integer arithmetic.
    """
    scale = 10**decimals
    rows = []
    for row in comparison.itertuples(index=False):
        printed = round(row.reported_pct * scale)  # printed share in units of the last digit
        lo_num, hi_num = 2 * printed - 1, 2 * printed + 1  # share in [lo, hi) / (2 * 100 * scale)
        denom = 200 * scale
        total, count = int(row.total), int(row.sessions)
        rows.append(
            {
                "main_en": row.main_en,
                "label_en": row.label_en,
                "sessions": count,
                "reported_pct": row.reported_pct,
                "sessions_min": -((-lo_num * total) // denom),
                "sessions_max": -((-hi_num * total) // denom) - 1,
                "denominator_min": (denom * count) // hi_num + 1,
                "denominator_max": (denom * count) // lo_num if lo_num > 0 else math.inf,
            }
        )
    return pd.DataFrame(rows)


def common_denominators(consistency: pd.DataFrame) -> tuple[int, int | float] | None:
    """The totals N (``(low, high)``, ``high`` may be ``math.inf``) for which every row of
    :func:`printed_share_consistency` rounds to its printed share; ``None`` when there is none."""
    if consistency.empty:
        return None
    low, high = consistency["denominator_min"].max(), consistency["denominator_max"].min()
    return (int(low), high if math.isinf(high) else int(high)) if low <= high else None


def rounding_summary(comparison: pd.DataFrame, consistency: pd.DataFrame) -> str:
    """Markdown text on the printed shares, built from :func:`reported_share_comparison` and
    :func:`printed_share_consistency`: how many are the plain (half-up) rounding of the data, and for
    each one that is not, the observed count and share, the counts that would give the printed share
    with the observed total, the totals for which the observed count gives it, and the range of totals
    that reproduces every printed share (if any)."""
    if comparison.empty:
        return "No topic of these sessions has a share printed in the authors' figure."
    total = int(comparison["total"].iloc[0])
    off = comparison["units_off"] != 0
    ranges = consistency.set_index("main_en")
    printed_total = int(comparison["sessions"].sum())
    sentences = [
        f"{int((~off).sum())} of the {len(comparison)} printed shares are the plain half-up rounding of "
        f"the data ({total:,} sessions)."
    ]
    sentences += [
        _rounding_exception(row, ranges.loc[row.main_en], printed_total)
        for row in comparison[off].itertuples(index=False)
    ]
    common = common_denominators(consistency)
    if common:
        sentences.append(
            f"Totals that reproduce all printed shares: {common[0]:,}–{_total_text(common[1])}."
        )
        return " ".join(sentences)
    sentences.append("No total reproduces all printed shares.")
    others = consistency[~consistency["main_en"].isin(comparison.loc[off, "main_en"])]
    agreed = common_denominators(others) if off.any() else None
    if agreed:
        sentences.append(
            f"The other {len(others)} agree with any total from {agreed[0]:,} to "
            f"{_total_text(agreed[1])}."
        )
    return " ".join(sentences)


def _rounding_exception(row, span: pd.Series, printed_total: int) -> str:
    """The :func:`rounding_summary` sentences on one printed share that is not the rounding of the data
    (``row`` of :func:`reported_share_comparison`, ``span`` of :func:`printed_share_consistency`)."""
    total = int(row.total)
    decimals = int(load_reported().at[topic_key(row.main_en), "decimals"])
    printed = f"{row.reported_pct:.{decimals}f}"
    if span.sessions_min <= span.sessions_max:
        counts = f"{int(span.sessions_min):,}–{int(span.sessions_max):,} sessions out of {total:,}"
    else:
        counts = f"no session count out of {total:,}"
    if math.isnan(row.tolerance):
        recorded = "recorded as a mismatch"
    else:
        points = "percentage point" if row.tolerance <= 1 else "percentage points"
        recorded = f"recorded with a tolerance of {format_number(row.tolerance, 1)} {points}"
    totals = f"{int(span.denominator_min):,} to {_total_text(span.denominator_max)}"
    printed_total_excluded = printed_total != total and not (
        span.denominator_min <= printed_total <= span.denominator_max
    )
    if printed_total_excluded:
        totals += f", so not for {printed_total:,}, the sessions of the printed topics alone"
    return (
        f"**{row.label_en}**: {row.sessions:,} / {total:,} = {row.share_pct:.2f} %, which rounds to "
        f"{format_number(row.share_pct, decimals)}, but the figure prints {printed} ({recorded}). "
        f"{printed} needs {counts}; {row.sessions:,} sessions give it for totals {totals}."
    )


def _total_text(total: int | float) -> str:
    """A total with thousands separators; ``math.inf`` as "any larger total"."""
    return "any larger total" if math.isinf(total) else f"{int(total):,}"
