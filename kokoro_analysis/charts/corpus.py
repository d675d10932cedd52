"""Figures of the corpus statistics notebook (01): distributions of messages, lengths, durations, response
times, sessions per year and per person, vocabulary growth and frequent content words.

Every function takes tidy data and ``lang`` ("en"/"ja") for the labels and returns a Figure sized for the
paper (style and saving: :mod:`kokoro_analysis.charts.style`). Role colours are fixed across figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from kokoro_analysis.charts.style import label_axes, legend_above, new_figure
from kokoro_analysis.corpus.schema import ROLE_LABELS as _ROLE_NAMES
from kokoro_analysis.corpus.schema import pick
from kokoro_analysis.text.glossary import word_label

__all__ = [
    "ROLE_COLORS",
    "ROLE_LINESTYLES",
    "ROLE_MARKERS",
    "both_roles_chart",
    "distribution_chart",
    "role_label",
    "session_length_chart",
    "sessions_per_person_chart",
    "sessions_per_year_chart",
    "top_lemmas_chart",
    "type_token_chart",
]

ROLE_COLORS = {"counselor": "#0173B2", "client": "#DE8F05", "total": "#222222"}
"""Colour per role (seaborn colorblind blue and orange; near-black for all messages)."""
ROLE_LINESTYLES = {"counselor": "-", "client": (0, (4, 1.5)), "total": (0, (6, 1.5, 1.5, 1.5))}
"""Line pattern per role: colour alone does not survive greyscale printing (the counselor's blue
and the near-black of all messages print as two dark greys)."""
ROLE_MARKERS = {"counselor": "o", "client": "s", "total": "^"}
"""Marker per role, for figures whose line pattern says something else (:func:`type_token_chart`)."""
ROLE_OFFSETS = {"counselor": 0.0, "client": 0.067, "total": 0.133}
"""Where along a line (fraction of the axes) a role's markers start, so lines that run together
do not stack their markers."""
ROLE_LABELS = {**_ROLE_NAMES, "total": ("全体", "All")}
"""Display names (Japanese, English) of the roles (``schema.ROLE_LABELS``) and of all messages."""
_SHARE_LABEL = ("割合 (%)", "Share (%)")
_DECADE_LABEL = ("0.1 桁あたりの割合 (%)", "% per 0.1 decade")
"""Log-x histograms show the share per 0.1 decade (a share per whole decade reads above 100 %)."""


def role_label(role: str, *, lang: str = "en") -> str:
    """Display name of a role (``counselor``, ``client`` or ``total``)."""
    return pick(*ROLE_LABELS[role], lang=lang)


def _thousands(value: float, _pos=None) -> str:
    return f"{value:,.0f}"


def _log_bins(values: Sequence[np.ndarray], per_decade: int, low: float = 1.0) -> np.ndarray:
    """Logarithmic bin edges from ``low`` to the largest value, ``per_decade`` bins per decade. For
    integer data the edges are moved to half-integers (and merged where two would hold the same
    integers), so no bin is empty just because it contains no integer."""
    arrays = [np.asarray(v, dtype=float) for v in values if len(v)]
    top = max((float(a.max()) for a in arrays), default=low * 10)
    top = max(top, low * 10)
    count = int(np.ceil((np.log10(top) - np.log10(low)) * per_decade)) + 1
    if arrays and all(np.all(a == np.round(a)) for a in arrays) and low >= 1:
        integers = np.unique(np.floor(np.geomspace(low, top + 1, count)))
        return (
            np.append(integers - 0.5, integers[-1] + 0.5) if integers[-1] <= top else integers - 0.5
        )
    return np.geomspace(low, top * 1.0001, count)


def distribution_chart(
    values_by_role: Mapping[str, object],
    xlabel: tuple[str, str],
    *,
    lang: str = "en",
    log_x: bool = False,
    bins: int | Sequence[float] | None = None,
    per_decade: int = 12,
    clip_low: float | None = None,
    width: str = "column",
    height: float | None = None,
) -> Figure:
    """Step histograms of one quantity for several roles (each in its colour and line pattern), as the
    share (%) of each role's values per bin (so roles with different counts compare), with each role's
    median marked by a dotted line in its colour (a grey dotted "Median" key in the legend).

    ``xlabel``: (Japanese, English). ``log_x``: logarithmic bins and axis (``per_decade`` bins per
    decade; half-integer edges for integer data) and the y axis is the share per tenth of a decade
    (share of the bin / its width in tenths of a decade), so the area under the curve is the same
    whatever the bin widths and no value reads above 100 %. Values
    below ``clip_low`` (default 1 on a log axis) are counted at ``clip_low``, so e.g. 0-second response
    times are not dropped. ``bins``: explicit edges or a count (linear axis).
    """
    fig, ax = new_figure(width, height)
    arrays = {role: np.asarray(v, dtype=float) for role, v in values_by_role.items()}
    arrays = {role: a[np.isfinite(a)] for role, a in arrays.items()}
    low = 1.0 if clip_low is None else clip_low
    if log_x:
        arrays = {role: np.maximum(a, low) for role, a in arrays.items()}
    edges = _bin_edges(
        list(arrays.values()), log_x=log_x, bins=bins, per_decade=per_decade, low=low
    )
    _role_steps(ax, arrays, edges, per_tenth_decade=log_x, lang=lang)
    if log_x:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
        ax.xaxis.set_minor_formatter(_minor_log_labels(edges[0], edges[-1]))
    label_axes(ax, lang=lang, x=xlabel, y=_DECADE_LABEL if log_x else _SHARE_LABEL)
    ax.set_ylim(bottom=0)
    # round steps (0, 5, 10, 15): labels such as "12.5" were measured narrower by the constrained
    # layout than printed, and pushed the y label off the figure's left edge
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 5, 10]))
    if len(arrays) > 1:
        ax.plot(
            [],
            [],
            color="0.5",
            linestyle=":",
            linewidth=0.8,
            label=pick("中央値", "Median", lang=lang),
        )
        ax.legend(loc="upper right", handlelength=2.2)
    return fig


def _role_steps(
    ax, arrays: Mapping[str, np.ndarray], edges: np.ndarray, *, per_tenth_decade: bool, lang: str
) -> None:
    """Each role's values as a step line of the share (%) per bin, or per tenth of a decade (bins
    of unequal log width), in its colour and pattern, with its median as a dotted line."""
    for role, array in arrays.items():
        if not array.size:
            continue
        counts, _ = np.histogram(array, bins=edges)
        share = 100.0 * counts / array.size
        if per_tenth_decade:
            share = share / (10 * np.log10(edges[1:] / edges[:-1]))
        color = ROLE_COLORS.get(role)
        ax.stairs(
            share,
            edges,
            color=color,
            linestyle=ROLE_LINESTYLES.get(role, "-") if len(arrays) > 1 else "-",
            label=role_label(role, lang=lang) if role in ROLE_LABELS else role,
            linewidth=1.0,
        )
        ax.axvline(float(np.median(array)), color=color, linestyle=":", linewidth=0.8)


def _bin_edges(
    arrays: list[np.ndarray],
    *,
    log_x: bool,
    bins: int | Sequence[float] | None,
    per_decade: int,
    low: float,
) -> np.ndarray:
    """Bin edges of :func:`distribution_chart`: ``bins`` when given as edges; on a log axis
    :func:`_log_bins` from ``low``, else ``bins`` (default 40) equal bins over all the values."""
    if log_x:
        return _log_bins(arrays, per_decade, low) if bins is None else np.asarray(bins)
    everything = np.concatenate([a for a in arrays if a.size] or [np.zeros(1)])
    return np.histogram_bin_edges(everything, bins=40 if bins is None else bins)


def _minor_log_labels(low: float, high: float) -> FuncFormatter:
    """Plain labels at 2 and 5 times a power of ten when the axis spans under 1.5 decades (otherwise
    none): matplotlib's default writes them as 2×10⁰ with a superscript below 6 pt."""
    few_decades = np.log10(high / low) < 1.5

    def label(value: float, _position) -> str:
        if not few_decades or value <= 0:
            return ""
        leading = round(value / 10 ** np.floor(np.log10(value)), 6)
        return f"{value:g}" if leading in (2.0, 5.0) else ""

    return FuncFormatter(label)


def session_length_chart(minutes, *, lang: str = "en") -> Figure:
    """Histogram of session length (first to last message, minutes; 2-minute bins), median dotted."""
    minutes = np.asarray(minutes, dtype=float)
    minutes = minutes[np.isfinite(minutes)]
    top = float(np.ceil(minutes.max() / 10.0) * 10) if minutes.size else 10.0
    return distribution_chart(
        {"total": minutes},
        ("対話時間（分）", "Session length (minutes)"),
        lang=lang,
        bins=np.arange(0.0, top + 2.0, 2.0),
    )


def sessions_per_year_chart(per_year: pd.Series, *, lang: str = "en") -> Figure:
    """Bar chart of sessions per calendar year (year of the first message), counts printed on the bars."""
    fig, ax = new_figure("column")
    years = [str(y) for y in per_year.index]
    bars = ax.bar(years, per_year.to_numpy(), color=ROLE_COLORS["total"], width=0.7)
    ax.bar_label(bars, labels=[f"{v:,}" for v in per_year.to_numpy()], fontsize=6, padding=1)
    label_axes(
        ax, lang=lang, x=("年（対話開始）", "Year (session start)"), y=("対話数", "Sessions")
    )
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.set_ylim(0, per_year.max() * 1.15 if len(per_year) else 1)
    return fig


def sessions_per_person_chart(per_role: Mapping[str, pd.Series], *, lang: str = "en") -> Figure:
    """Distribution of sessions per person id, one line per role (counselor ids, client ids; n in the
    legend): share of the ids per tenth of a decade of session count (logarithmic bins), medians
    dotted."""
    fig = distribution_chart(
        per_role,
        ("1人あたりの対話数", "Sessions per person"),
        lang=lang,
        log_x=True,
        per_decade=6,
    )
    ax = fig.axes[0]
    ax.get_legend().remove()
    handles, labels = ax.get_legend_handles_labels()
    people = {role_label(role, lang=lang): len(v) for role, v in per_role.items()}
    legend_above(
        ax,
        "center",
        handles=handles,
        labels=[
            f"{label} (n = {people[label]:,})" if label in people else label for label in labels
        ],
        ncols=2,
        handlelength=2.2,
    )
    return fig


def both_roles_chart(people: pd.DataFrame, *, lang: str = "en") -> Figure:
    """Sessions as counselor vs sessions as client for the people who played both roles (log–log;
    a point per person, semi-transparent), with the diagonal."""
    both = people[(people["as_counselor"] > 0) & (people["as_client"] > 0)]
    fig, ax = new_figure("column", 2.6)
    ax.scatter(
        both["as_client"],
        both["as_counselor"],
        s=6,
        alpha=0.45,
        color=ROLE_COLORS["total"],
        linewidths=0,
    )
    top = float(max(both["as_client"].max(), both["as_counselor"].max(), 10)) if len(both) else 10.0
    ax.plot([1, top], [1, top], color="#999999", linewidth=0.6, linestyle="--")
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
    ax.set_xlim(0.8, top * 1.3)
    ax.set_ylim(0.8, top * 1.3)
    ax.set_aspect("equal")
    label_axes(
        ax,
        lang=lang,
        x=(f"{ROLE_LABELS['client'][0]}としての対話数", "Sessions as client"),
        y=(f"{ROLE_LABELS['counselor'][0]}としての対話数", "Sessions as counselor"),
    )
    return fig


def _compact(value: float) -> str:
    """A tick value as 1, 10, 100, 1k, 10k, 1M ..."""
    for factor, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{value / factor:g}{suffix}"
    return f"{value:g}"


def type_token_chart(growth: pd.DataFrame, *, lang: str = "en") -> Figure:
    """Vocabulary size vs tokens read (corpus order), log–log; role = colour and marker, solid =
    surface forms, dashed = lemmas (``growth`` from :func:`kokoro_analysis.text.lexical.type_token_growth`).
    The legend keys the roles by their markers and the units by grey line patterns."""
    fig, ax = new_figure("column", 2.4)
    styles = {"surface": "-", "lemma": "--"}
    for (role, unit), part in growth.groupby(["role", "unit"], sort=False):
        ax.plot(
            part["tokens"],
            part["types"],
            color=ROLE_COLORS.get(role),
            linestyle=styles.get(unit, ":"),
            linewidth=1.0,
            marker=ROLE_MARKERS.get(role),
            markersize=3,
            markevery=(ROLE_OFFSETS.get(role, 0.0), 0.2),  # evenly along the log axes, staggered
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):  # 1k, 1M: no superscript exponents (printed under 6 pt)
        axis.set_major_formatter(FuncFormatter(lambda value, _: _compact(value)))
        axis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_locator(LogLocator(base=10, numticks=9))
    label_axes(
        ax,
        lang=lang,
        x=("読んだトークン数", "Tokens read"),
        y=("異なり語数", "Vocabulary size (types)"),
    )
    roles = set(growth["role"])
    handles = [
        ax.plot([], [], color=ROLE_COLORS[r], linestyle="none", marker=ROLE_MARKERS[r],
                markersize=3, label=role_label(r, lang=lang))[0]
        for r in ROLE_COLORS
        if r in roles
    ]  # fmt: skip
    names = {
        "surface": pick("表層形", "Surface forms", lang=lang),
        "lemma": pick("語彙素", "Lemmas", lang=lang),
    }
    handles += [
        ax.plot([], [], color="0.45", linestyle=styles[u], label=names[u])[0]
        for u in styles
        if u in set(growth["unit"])
    ]
    ax.legend(handles=handles, loc="upper left", ncols=1)
    return fig


def top_lemmas_chart(top: pd.DataFrame, *, lang: str = "en", n: int | None = None) -> Figure:
    """Horizontal bars of the most frequent content lemmas, one panel per role (frequency per 1,000
    content tokens; ``top`` from :func:`kokoro_analysis.text.lexical.top_content_lemmas`). Lemmas are shown
    by their usual written form, with an English gloss in English
    (:func:`kokoro_analysis.text.glossary.word_label`)."""
    roles = list(dict.fromkeys(top["role"]))
    rows = int(top.groupby("role").size().max()) if n is None else n
    fig, axes = new_figure("full", 0.16 * rows + 0.7, 1, len(roles))
    axes = np.atleast_1d(axes)
    for ax, role in zip(axes, roles):
        part = top[top["role"] == role].sort_values("rank").head(rows)
        positions = np.arange(len(part))[::-1]
        ax.barh(positions, part["per_1000"], color=ROLE_COLORS.get(role), height=0.7)
        ax.set_yticks(
            positions,
            [
                word_label(lemma, form, lang=lang)
                for lemma, form in zip(part["lemma"], part["surface"])
            ],
        )
        ax.tick_params(axis="y", length=0)
        ax.set_title(role_label(role, lang=lang))
        label_axes(ax, lang=lang, x=("内容語 1,000 語あたりの頻度", "Per 1,000 content tokens"))
        ax.set_ylim(-0.6, len(part) - 0.4)
    return fig
