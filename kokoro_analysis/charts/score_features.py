"""Figures of the per-session features against the score (notebook 03): one feature's hexbin density
and every feature's correlation with its intervals, from the tables of
:mod:`kokoro_analysis.analyses.feedback.score_features`. Each function takes ``lang`` ("en" or "ja")
for the labels and returns a Figure sized for the paper."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import patheffects, ticker
from matplotlib.figure import Figure

from kokoro_analysis.charts.feedback import HIGH_COLOR, LOW_COLOR
from kokoro_analysis.charts.style import (
    coefficient_symbol,
    interval_errors,
    label_axes,
    legend_above,
    new_figure,
    score_limits,
    signed,
)
from kokoro_analysis.corpus import schema
from kokoro_analysis.published import headline_bounds

__all__ = ["feature_correlation_chart", "hexbin_chart"]

RESAMPLED = {
    "two_way": ("評価者×カウンセラーを再抽出", "raters × counselors resampled"),
    "rater": ("評価者を再抽出", "raters resampled"),
}
"""(Japanese, English) of what a headline interval resamples, by its scheme (the column suffix)."""


def hexbin_chart(
    features: pd.DataFrame,
    feature: str,
    correlation: pd.Series | None,
    *,
    lang: str = "en",
    log_x: bool = True,
    method: str = "spearman",
) -> Figure:
    """Hexbin density of one per-session feature (x, log scale by default) against the score (axis
    limited to the scores present, :func:`score_limits`) with the binned median as a black line
    outlined in white; the correlation with its headline interval (:func:`headline_bounds`) and the
    legend above the axes."""
    from kokoro_analysis.analyses.feedback.session_measures import FEATURES

    data = features[[feature, "score"]].dropna()
    if log_x:
        data = data[data[feature] > 0]
    fig, ax = new_figure("column", 2.3)
    if len(data):
        _density(ax, data, feature, log_x=log_x, lang=lang)
    label_ja, label_en, _ = FEATURES.get(feature, (feature, feature, ""))
    if log_x:
        label_ja, label_en = f"{label_ja}・対数軸", f"{label_en} – log scale"
    label_axes(ax, lang=lang, x=(label_ja, label_en), y=("評価点", "Score"))
    ax.set_ylim(*score_limits(data["score"]))
    ax.yaxis.set_major_locator(ticker.MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    if correlation is not None and np.isfinite(correlation["r"]):
        low, high = headline_bounds(correlation)  # the interval the analysis calls the headline
        ax.text(  # above the axes: the hexagons reach every corner
            0.0,
            1.02,
            f"{coefficient_symbol(method)} = {signed(correlation['r'])} "
            f"[{signed(correlation[low])}, {signed(correlation[high])}]"
            f"\nn = {int(correlation['n']):,}",
            transform=ax.transAxes,
            ha="left",
            va="bottom",
            fontsize=6,
        )
    return fig


def _density(ax, data: pd.DataFrame, feature: str, *, log_x: bool, lang: str) -> None:
    """The hexagons (sessions per hexagon, log colour scale with its bar), the binned median line and
    the legend naming it."""
    hexes = ax.hexbin(
        data[feature],
        data["score"],
        gridsize=(32, 18),
        xscale="log" if log_x else "linear",
        cmap="Blues",
        mincnt=1,
        linewidths=0.1,
        bins="log",
    )
    bar = ax.figure.colorbar(
        hexes, ax=ax, label=schema.pick("セッション数", "Sessions", lang=lang), pad=0.01
    )
    bar.set_ticks(_count_ticks(hexes.norm.vmax))  # 1-2-5 steps, the top end labelled
    bar.ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    bar.ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    if log_x:
        ax.xaxis.set_major_locator(ticker.LogLocator(subs=(1, 2, 5)))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    medians = _binned_medians(data[feature].to_numpy(), data["score"].to_numpy())
    ax.plot(  # black with a white outline: stands out of any blue, in colour and in grey
        *medians,
        color="black",
        linewidth=1.1,
        marker="o",
        markersize=2.2,
        path_effects=[patheffects.withStroke(linewidth=2.6, foreground="white")],
        label=schema.pick("区間ごとの中央値", "Binned median", lang=lang),
    )
    legend_above(ax, fontsize=6, borderaxespad=0.1)


def _count_ticks(top: float) -> list[float]:
    """Ticks of a logarithmic count scale from 1 to ``top``: 1, 2, 5, 10, 20 … and ``top`` itself
    (replacing the last round tick when that is within a factor 1.5, so their labels do not crowd)."""
    top = float(top)
    decades = range(int(np.floor(np.log10(max(top, 1)))) + 1)
    ticks = [m * 10**d for d in decades for m in (1, 2, 5) if m * 10**d <= top]
    if top / ticks[-1] < 1.5 and len(ticks) > 1:
        ticks.pop()
    return [*ticks, top] if top > ticks[-1] else ticks


def _binned_medians(
    x: np.ndarray, y: np.ndarray, n_bins: int = 12
) -> tuple[np.ndarray, np.ndarray]:
    """Median y in quantile bins of x (at the bins' median x)."""
    edges = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1)))
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    xs = np.array([np.median(x[which == b]) for b in range(len(edges) - 1) if (which == b).any()])
    ys = np.array([np.median(y[which == b]) for b in range(len(edges) - 1) if (which == b).any()])
    return xs, ys


def feature_correlation_chart(
    correlations: pd.DataFrame, *, lang: str = "en", method: str = "spearman"
) -> Figure:
    """Correlation of each per-session feature with the score, with bootstrap 95 % CIs, sorted: the
    session interval as a thin line and, when the table has it, the headline interval (two-way,
    ``ci_low_two_way``/``ci_high_two_way``; else the rater interval) as a wide grey bar behind it;
    the legend above the axes names both. Features the paper reports are marked * (the caption
    says so)."""
    table = correlations.dropna(subset=["r"]).sort_values("r")
    labels = table["label_" + schema.pick("ja", "en", lang=lang)]
    ticks = [
        _wrap_label(label, lang) + (" *" if key else "")
        for label, key in zip(labels, table["reported_key"])
    ]
    lines = max((tick.count("\n") + 1 for tick in ticks), default=1)
    fig, ax = new_figure("column", 0.75 + (0.05 + 0.1 * lines) * max(len(table), 1))
    y = np.arange(len(table))
    _interval_bars(ax, table, y, lang=lang)
    ax.scatter(
        table["r"], y, color=[HIGH_COLOR if r > 0 else LOW_COLOR for r in table["r"]], s=9, zorder=3
    )
    ax.axvline(0, color="black", linewidth=0.5)
    ax.set_yticks(
        y, ticks, fontsize=6.5
    )  # wrapped, so the labels leave the plot most of the column
    ax.set_ylim(-0.6, len(table) - 0.4)
    ax.tick_params(axis="y", length=0)
    low = min(0.0, float(table["ci_low"].min())) if len(table) else -0.1
    high = max(0.0, float(table["ci_high"].max())) if len(table) else 0.1
    step = 0.2 if high - low <= 1.2 else 0.5
    ax.set_xticks(np.arange(np.floor(low / step) * step, high + step, step))  # ticks span the data
    ax.xaxis.set_major_formatter(
        ticker.FuncFormatter(lambda v, _: f"{v:.1f}".replace("-", "\u2212"))
    )
    symbol = coefficient_symbol(method)
    label_axes(
        ax, lang=lang, x=(f"評価点との相関（{symbol}）", f"Correlation with score ({symbol})")
    )
    legend_above(ax, ncols=1, fontsize=6, borderaxespad=0.2, handlelength=1.5)
    ax.grid(axis="x", linewidth=0.3, color="0.85")
    ax.set_axisbelow(True)
    return fig


def _interval_bars(ax, table: pd.DataFrame, y: np.ndarray, *, lang: str) -> None:
    """The headline interval (raters and counselors resampled, else raters), when the table has it,
    as a wide light bar, and the session interval as a thin line in front; each whisker clipped at
    the estimate (a percentile interval need not contain it in tiny samples)."""
    scheme = next(
        (s for s in ("two_way", "rater") if {f"ci_low_{s}", f"ci_high_{s}"} <= set(table)), None
    )
    if scheme:
        resampled = RESAMPLED[scheme]
        ax.errorbar(
            table["r"], y, xerr=_whiskers(table, f"_{scheme}"), fmt="none", ecolor="0.75",
            elinewidth=3, capsize=0, zorder=1,
            label=schema.pick(f"95%CI（{resampled[0]}）", f"95% CI, {resampled[1]}", lang=lang),
        )  # fmt: skip
    ax.errorbar(
        table["r"], y, xerr=_whiskers(table, ""), fmt="none", ecolor="0.4", elinewidth=0.7,
        capsize=1.5,
        label=schema.pick("95%CI（セッションを再抽出）", "95% CI, sessions resampled", lang=lang),
    )  # fmt: skip


def _whiskers(table: pd.DataFrame, suffix: str) -> list[pd.Series]:
    """Whiskers of the interval ``ci_low<suffix>``–``ci_high<suffix>`` around ``r``, clipped at it."""
    low, high = table[f"ci_low{suffix}"], table[f"ci_high{suffix}"]
    return interval_errors(table["r"], low, high, clip=True)


def _wrap_label(label: str, lang: str) -> str:
    """A tick label on up to two balanced lines (no word or bracket left alone on the second):
    English longer than 24 characters at the space nearest the middle, Japanese longer than 12
    before a bracket or slash nearest the middle, else at the middle."""
    width = 12 if lang == "ja" else 24
    if len(label) <= width:
        return label
    middle = len(label) // 2
    if lang != "ja":
        spaces = [i for i, char in enumerate(label) if char == " "]
        if not spaces:
            return label
        cut = min(spaces, key=lambda i: abs(i - middle))
        return label[:cut] + "\n" + label[cut + 1 :]
    breaks = [i for i, char in enumerate(label) if char in "（／(" and 0 < i < len(label) - 1]
    cut = min(breaks, key=lambda i: abs(i - middle)) if breaks else middle
    return label[:cut] + "\n" + label[cut:]
