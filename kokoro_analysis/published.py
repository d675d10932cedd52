"""Published tables, declared once: what each table prints, in each language, and what its caption says.

A table we publish is one :class:`TableSpec`, declared next to the analysis that makes its frame and
registered by name (:func:`register`). The writers (:mod:`kokoro_analysis.publish.tables`) and the
notebooks read everything from it: ``run.write_table(frame, SPEC)`` writes ``tables/<name>.csv``,
``.md`` and, for a paper table, ``.tex`` (``_ja`` files in Japanese), the name written once.
This module is a low layer (beside :mod:`kokoro_analysis.reported`): analyses import it, not the
writers.

How to declare a table::

    from kokoro_analysis.published import ROLE_CELLS, Column, TableSpec, Words, interval_columns, register

    ITEM_STATISTICS = TableSpec(
        "feedback_item_statistics",
        title=Words("Client feedback items.", "クライアント評価の項目。"),
        columns=(
            Column("number", Words("Q", "Q")),                              # header per language
            Column("label_en", Words("Item", "項目"), key_ja="label_ja"),    # another frame column in ja
            Column("mean", Words("Mean", "平均"), "{:.2f}",                  # format
                   means=Words("mean answer (0–5)", "回答の平均（0〜5）")),    # defined in the caption
            *interval_columns("{:.2f}"),       # the headline 95% CI the analysis names (see below)
            Column("r_item_rest", Words("Item–rest {symbol}", "対残余 {symbol}"), "{:.3f}"),  # attrs
            Column("role", Words("Role", "役割"), cells=ROLE_CELLS),         # cells shown per language
        ),
        method=Words("{correlation} throughout.", "相関はすべて{correlation}。"),
        width="full",                          # paper table: "column" (219 pt) or "full"; None: data table
        thousands=True,
        missing="–",                           # text of a missing value (default: empty)
        records=item_records,                  # frame -> [Record]: run.write_table logs them
    )
    TABLES = register(ITEM_STATISTICS, ...)    # name -> spec; a name may be declared only once

* **Columns**: ``columns`` are the columns Markdown and LaTeX print, in order (``None``: every column,
  formats from ``formats`` / ``number_format``); the CSV keeps every column at full precision. A
  :class:`Column` names its frame column (``key``; ``key_ja`` when Japanese tables print another),
  its header in both languages (``{placeholders}`` from ``frame.attrs``), its format (``"{:.2f}"``, ``".2f"`` or a callable; a unit belongs in
  the header, e.g. ``"Share (%)"``), an optional spanning ``group`` header (``\\cmidrule`` in LaTeX)
  and ``cells``: value -> :class:`Words` for text cells (roles, yes/no) so Japanese tables read
  Japanese throughout. :data:`CI95`, :data:`ROLE_CELLS`, :data:`YES_NO` are the shared vocabulary.
* **Caption** (paper tables; LaTeX only): ``title``, then ``"Header: meaning"`` for every printed
  column with a ``means``, then ``method``; so a caption can describe only printed columns. Every
  printed column's header must appear in it (the title may name a column instead of a ``means``).
  Plain words and Unicode math (ρ, α, ≥, ×, −; written as LaTeX math), no code names, no ASCII formulas.
  ``{placeholders}`` in the texts are filled from ``frame.attrs`` (the analysis records its parameters
  there, e.g. ``n_bootstrap``) and from keyword arguments of ``write_table``; a :class:`Words` value is
  picked in the table's language. ``title`` / ``method`` may instead be callables ``(values, lang) ->
  str``.
* **Headline interval**: the analysis names the interval its text calls the headline with
  :func:`name_headline` (``frame.attrs``); :func:`interval_columns` prints it and the caption says what
  it resamples. Other intervals stay in the CSV. Changing the headline is a change to the analysis.
* **Records**: ``records(frame)`` are the reproduced numbers of the table (:class:`~kokoro_analysis.reported.Record`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from kokoro_analysis.reported import Record

__all__ = [
    "CI95",
    "HEADLINE",
    "NO",
    "REGISTRY",
    "ROLE_CELLS",
    "YES",
    "YES_NO",
    "Column",
    "Interval",
    "TableSpec",
    "Words",
    "headline",
    "headline_bounds",
    "interval_columns",
    "name_headline",
    "register",
]

Formatter = str | Callable[[Any], str]
TableWidth = Literal["column", "full"]
Lang = Literal["en", "ja"]


@dataclass(frozen=True)
class Words:
    """One text in English and Japanese."""

    en: str
    ja: str

    def pick(self, lang: str) -> str:
        """The text in ``lang`` (``"en"`` or ``"ja"``)."""
        return self.ja if lang == "ja" else self.en

    def format(self, lang: str, values: Mapping[str, Any]) -> str:
        """The text in ``lang`` with ``{placeholders}`` filled from ``values`` (:class:`Words` values
        picked in ``lang`` too)."""
        picked = {k: v.pick(lang) if isinstance(v, Words) else v for k, v in values.items()}
        return self.pick(lang).format(**picked)


CI95 = Words("95% CI", "95%信頼区間")
"""Header of a 95% confidence interval (spanning its two bound columns)."""
CI_LOW = Words("low", "下限")
CI_HIGH = Words("high", "上限")
YES = Words("yes", "はい")
NO = Words("no", "いいえ")
YES_NO: Mapping[Any, Words] = {True: YES, False: NO, "yes": YES, "no": NO}
"""Cells of a yes/no column."""
ROLE_CELLS: Mapping[Any, Words] = {
    "total": Words("total", "全体"),
    "counselor": Words("counselor", "カウンセラー"),
    "client": Words("client", "クライアント"),
}
"""Cells naming a speaker role (and the total over roles)."""


@dataclass(frozen=True)
class Interval:
    """The headline interval of a frame: its bound columns and what it is, in words (``means``: e.g.
    "percentile bootstrap over 1,000 resamples of whole raters with all their sessions")."""

    low: str
    high: str
    means: Words


HEADLINE = "headline_interval"
"""``frame.attrs`` key of the frame's headline :class:`Interval`."""


def name_headline(frame: pd.DataFrame, interval: Interval) -> pd.DataFrame:
    """Name ``interval`` the headline interval of ``frame`` (in place; returns ``frame``)."""
    missing = [c for c in (interval.low, interval.high) if c not in frame.columns]
    if missing:
        raise KeyError(f"headline interval columns {missing} are not in the frame")
    frame.attrs[HEADLINE] = interval
    return frame


def headline(frame: pd.DataFrame) -> Interval:
    """The headline interval the analysis named for ``frame`` (:func:`name_headline`)."""
    interval = frame.attrs.get(HEADLINE)
    if not isinstance(interval, Interval):
        raise KeyError(
            "the frame names no headline interval (the analysis calls published.name_headline)"
        )
    return interval


def headline_bounds(data: pd.DataFrame | pd.Series) -> tuple[str, str]:
    """The columns (or Series labels) of the headline interval of ``data`` (a frame or one of its
    rows, which keeps its attrs): the one the analysis named, else ``ci_low``/``ci_high``. For
    figure labels and error bars."""
    interval = data.attrs.get(HEADLINE)
    return (
        (interval.low, interval.high) if isinstance(interval, Interval) else ("ci_low", "ci_high")
    )


Cells = Mapping[Any, Words] | Callable[[Any], "Words | None"]
"""Text cells of a column in words: value -> :class:`Words` (a mapping, or a function returning
``None`` for a value shown as it is)."""


@dataclass(frozen=True)
class Column:
    """One printed column: frame column ``key`` (``key_ja`` in Japanese tables), ``header`` per
    language, ``format``, ``means`` (its definition in the caption), a spanning ``group`` header and
    ``cells`` (value -> words, for text cells: a mapping or a function). ``bound`` (``"low"``/``"high"``) makes it a bound of
    the frame's headline interval (:func:`interval_columns`); ``key`` is then ignored."""

    key: str
    header: Words
    format: Formatter | None = None
    means: Words | None = None
    key_ja: str | None = None
    group: Words | None = None
    cells: Cells | None = None
    bound: Literal["low", "high"] | None = None

    def frame_key(self, frame: pd.DataFrame, lang: str) -> str:
        """The frame column this column prints in ``lang``."""
        if self.bound is not None:
            interval = headline(frame)
            return interval.low if self.bound == "low" else interval.high
        return self.key_ja if lang == "ja" and self.key_ja is not None else self.key

    def caption_name(self, lang: str = "en", values: Mapping[str, Any] | None = None) -> str:
        """How the caption names this column: its spanning header for an interval bound, else its
        header (``{placeholders}`` filled from ``values``)."""
        name = self.group if self.bound is not None and self.group is not None else self.header
        return name.format(lang, values or {})

    def meaning(self, frame: pd.DataFrame) -> Words | None:
        """What the caption says of this column (a headline bound: what the interval is)."""
        if self.bound == "low":
            return headline(frame).means
        return self.means


def interval_columns(format: Formatter | None = None, *, group: Words = CI95) -> tuple[Column, ...]:
    """The two bound columns of the frame's headline interval under one spanning header; the
    caption says what the interval is (:attr:`Interval.means`)."""
    return (
        Column("ci_low", CI_LOW, format, group=group, bound="low"),
        Column("ci_high", CI_HIGH, format, group=group, bound="high"),
    )


TextSource = Words | Callable[[Mapping[str, Any], str], str]


@dataclass(frozen=True)
class TableSpec:
    """One published table (see the module docstring for how to declare one).

    ``name``: file stem (``tables/<name>.csv``); ``title`` / ``method``: the caption's first and last
    sentences; ``columns``: the printed columns (``None``: all); ``width``: ``"column"`` / ``"full"``
    for a paper table (LaTeX ``table`` / ``table*``), ``None`` for a data table (CSV and Markdown);
    ``formats`` / ``headers`` / ``headers_ja``: formats and headers of columns not declared in
    ``columns`` (data tables); ``number_format``: format of every other float column; ``thousands``:
    ``,`` separators; ``index``: print the index (``None``: when it is named or not 0..n-1);
    ``records``: frame -> the reproduced numbers it holds; ``missing``: the text of a missing value
    (paper tables: ``"–"``, typeset ``--``)."""

    name: str
    title: TextSource | None = None
    columns: tuple[Column, ...] | None = None
    method: TextSource | None = None
    width: TableWidth | None = None
    formats: Mapping[Any, Formatter] = field(default_factory=dict)
    headers: Mapping[Any, str] = field(default_factory=dict)
    headers_ja: Mapping[Any, str] = field(default_factory=dict)
    number_format: Formatter | None = None
    thousands: bool = False
    index: bool | None = None
    records: Callable[[pd.DataFrame], Sequence[Record]] | None = None
    missing: str = ""

    def __post_init__(self) -> None:
        if self.width is not None and (self.title is None or self.columns is None):
            raise ValueError(f"paper table {self.name}: declare its title and printed columns")
        if self.columns is not None and (self.formats or self.headers or self.headers_ja):
            raise ValueError(
                f"table {self.name}: declared columns carry their own formats and headers"
            )

    @property
    def is_paper(self) -> bool:
        """Whether the table is written as LaTeX too."""
        return self.width is not None

    def shown_keys(self, frame: pd.DataFrame, lang: str = "en") -> list[Any]:
        """The frame columns Markdown and LaTeX print in ``lang``."""
        if self.columns is None:
            return list(frame.columns)
        return [column.frame_key(frame, lang) for column in self.columns]

    def shown(self, frame: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
        """The printed part of ``frame`` in ``lang``: declared columns by position (0, 1, ...), their
        text cells in ``lang``; undeclared tables print every column under its name."""
        keys = self.shown_keys(frame, lang)
        present = {*frame.columns, *frame.index.names}
        missing = [key for key in keys if key not in present]
        if missing:
            raise KeyError(f"table {self.name}: the frame has no column {missing}")
        if self.columns is None:
            return frame
        if any(key not in frame.columns for key in keys):  # declared index levels
            frame = frame.reset_index()
        part = frame.loc[:, keys].copy()
        part.columns = pd.RangeIndex(len(keys))
        for position, column in enumerate(self.columns):
            if column.cells is not None:
                part[position] = part[position].map(lambda v, c=column.cells: _cell(v, c, lang))
        return part

    def column_formats(self, frame: pd.DataFrame, lang: str = "en") -> dict[Any, Formatter]:
        """Printed column (position for declared columns, else name) -> format."""
        if self.columns is None:
            return dict(self.formats)
        return {i: c.format for i, c in enumerate(self.columns) if c.format is not None}

    def column_headers(
        self, lang: str = "en", values: Mapping[str, Any] | None = None
    ) -> dict[Any, str]:
        """Printed column (position or name) -> header in ``lang`` (index levels by name);
        ``{placeholders}`` filled from ``values`` (the frame's attrs)."""
        names = {**self.headers, **self.headers_ja} if lang == "ja" else dict(self.headers)
        for position, column in enumerate(self.columns or ()):
            names[position] = _text(column.header, lang, values or {}, self.name)
        return names

    def column_groups(self, lang: str = "en") -> list[str | None]:
        """The spanning header of each declared column (``None``: none)."""
        return [None if c.group is None else c.group.pick(lang) for c in self.columns or ()]

    def caption(self, frame: pd.DataFrame, lang: str = "en", **values: Any) -> str | None:
        """The caption in ``lang``: title, the meaning of each printed column that has one, method;
        ``{placeholders}`` filled from ``frame.attrs`` and ``values``."""
        if self.title is None:
            return None
        filled = {**frame.attrs, **values}
        parts = [_text(self.title, lang, filled, self.name)]
        meanings = [
            (column.caption_name(lang, filled), meaning.format(lang, filled))
            for column in self.columns or ()
            if (meaning := column.meaning(frame)) is not None
        ]
        if meanings:
            if lang == "ja":
                parts.append("；".join(f"{h}：{m}" for h, m in meanings) + "。")
            else:
                parts.append("; ".join(f"{h}: {m}" for h, m in meanings) + ".")
        if self.method is not None:
            parts.append(_text(self.method, lang, filled, self.name))
        return ("" if lang == "ja" else " ").join(p for p in parts if p)


def _text(source: TextSource, lang: str, values: Mapping[str, Any], name: str) -> str:
    if callable(source) and not isinstance(source, Words):
        return source(values, lang)
    try:
        return source.format(lang, values)
    except KeyError as missing:
        raise KeyError(
            f"table {name}: the caption needs {missing} (set it in frame.attrs or pass it)"
        ) from None


def _cell(value: Any, cells: Cells, lang: str) -> Any:
    if callable(cells):
        words = cells(value)
        return value if words is None else words.pick(lang)
    try:
        words = cells.get(value)
    except TypeError:  # unhashable
        return value
    return value if words is None else words.pick(lang)


REGISTRY: dict[str, TableSpec] = {}
"""Every declared table by name (filled as the declaring modules are imported;
:func:`kokoro_analysis.publish.tables.published_tables` imports them all)."""
_DECLARED_IN: dict[str, str] = {}


def register(*specs: TableSpec) -> dict[str, TableSpec]:
    """Register ``specs`` and return them by name (the declaring module's ``TABLES``). A name is
    declared once: another module (or the same call) declaring a taken name raises
    :class:`ValueError`; the same module registering again (a reload) replaces its tables."""
    module = sys._getframe(1).f_globals.get("__name__", "?")
    declared: dict[str, TableSpec] = {}
    for spec in specs:
        if spec.name in declared or _DECLARED_IN.get(spec.name, module) != module:
            where = _DECLARED_IN.get(spec.name, module)
            raise ValueError(f"table name {spec.name!r} is already declared (in {where})")
        declared[spec.name] = spec
    for name, spec in declared.items():
        REGISTRY[name], _DECLARED_IN[name] = spec, module
    return declared
