"""Figures of the questionnaire's structure (notebook 03): the scree plot, the component loadings and
the inter-item correlation heatmap, from the tables of
:mod:`kokoro_analysis.analyses.feedback.item_structure`. Each function takes ``lang`` ("en" or "ja")
for the labels and returns a Figure sized for the paper."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt
from matplotlib import ticker
from matplotlib.figure import Figure
from scipy.cluster import hierarchy

from kokoro_analysis.charts.feedback import item_label
from kokoro_analysis.charts.style import (
    FULL_WIDTH_IN,
    coefficient_symbol,
    label_axes,
    new_figure,
    signed,
)
from kokoro_analysis.corpus import schema

__all__ = ["item_correlation_chart", "loadings_chart", "scree_chart"]


def scree_chart(eigen: pd.DataFrame, *, lang: str = "en") -> Figure:
    """Eigenvalues of the item correlation matrix (log scale) against the parallel-analysis threshold
    (95th percentile of eigenvalues of column-permuted data) and the Kaiser line at 1."""
    fig, ax = new_figure("column", 2.0)
    components = eigen.index.to_numpy()
    ax.plot(
        components,
        eigen["eigenvalue"],
        "o-",
        color="black",
        markersize=3,
        label=schema.pick("観測データ", "Observed", lang=lang),
    )
    threshold = next(c for c in eigen.columns if c.startswith("null_q"))
    ax.plot(
        components,
        eigen[threshold],
        "s--",
        color="#d95f02",
        markersize=2.5,
        label=schema.pick(
            "並行分析（95パーセンタイル）", "Parallel analysis (95th pct.)", lang=lang
        ),
    )
    ax.axhline(1, color="0.6", linewidth=0.5, linestyle=":")
    ax.set_yscale("log")
    # 1-2-5 ticks labelled plainly: a subset's eigenvalues may span less than a decade, where the
    # default minor labels (10^-1 as mathtext) would be printed under 6 pt
    ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1, 2, 5)))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_xticks(components[::2] if len(components) > 10 else components)
    label_axes(ax, lang=lang, x=("主成分", "Component"), y=("固有値", "Eigenvalue"))
    first = eigen.iloc[0]
    ax.text(  # above the axes: where the first eigenvalue lies depends on the data
        1.0,
        1.02,
        schema.pick(
            f"第1主成分 {first['share_pct']:.1f}%",
            f"PC1: {first['share_pct']:.1f}% of variance",
            lang=lang,
        ),
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=6,
    )
    ax.legend(loc="lower left", fontsize=6)
    return fig


def loadings_chart(loadings: pd.DataFrame, *, lang: str = "en") -> Figure:
    """Heatmap of component loadings (items × components, values printed); sequential colours when
    every loading is ≥ 0, diverging otherwise."""
    table = loadings.sort_values("number")
    columns = [c for c in table.columns if c.startswith(("C", "RC")) and c[-1].isdigit()]
    values = table[columns].to_numpy(dtype=float)
    fig, ax = new_figure("full", 3.6)
    negative = bool((values < 0).any())
    cmap, vmin = ("RdBu_r", -1.0) if negative else ("Blues", 0.0)
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=1, aspect="auto")
    for (i, j), value in np.ndenumerate(values):
        ax.text(
            j,
            i,
            signed(value),
            ha="center",
            va="center",
            fontsize=6,
            color="white" if abs(value) > 0.6 else "black",
        )
    names = {
        c: (
            schema.pick("第1主成分\n（回転なし）", "PC1\n(unrotated)", lang=lang)
            if c == "C1"
            else schema.pick(f"バリマックス\n{c}", f"Varimax\n{c}", lang=lang)
        )
        for c in columns
    }
    ax.set_xticks(range(len(columns)), [names[c] for c in columns], fontsize=6.5)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(table)), [item_label(row, lang=lang) for _, row in table.iterrows()])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    boundary = (table["block"].to_numpy()[1:] != table["block"].to_numpy()[:-1]).nonzero()[0]
    for b in boundary:
        ax.axhline(b + 0.5, color="black", linewidth=0.6)
    if "C1" in columns and len(columns) > 1:
        ax.axvline(columns.index("C1") + 0.5, color="white", linewidth=2)
    fig.colorbar(image, ax=ax, shrink=0.6, label=schema.pick("負荷量", "Loading", lang=lang))
    return fig


def item_correlation_chart(
    corr: pd.DataFrame,
    link: np.ndarray,
    items: pd.DataFrame,
    *,
    lang: str = "en",
    method: str = "spearman",
) -> Figure:
    """Inter-item correlation matrix in hierarchical-clustering order (dendrogram on top, its leaves
    over the columns): the lower triangle without the diagonal, each pair once with its value
    printed (6 pt); so the first item has no row and the last no column."""
    fig = plt.figure(figsize=(FULL_WIDTH_IN, 5.6), layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=[0.8, 6], width_ratios=[40, 1])
    tree_ax, ax, bar_ax = (
        fig.add_subplot(grid[0, 0]),
        fig.add_subplot(grid[1, 0]),
        fig.add_subplot(grid[1, 1]),
    )
    fig.add_subplot(grid[0, 1]).axis("off")
    order = _dendrogram(tree_ax, link)
    n = len(order)
    keys = list(corr.index)
    values = corr.to_numpy()[np.ix_(order[1:], order[:-1])].astype(float)
    values[np.triu_indices(n - 1, k=1)] = np.nan  # each pair once
    image = _correlation_cells(ax, values)
    ax.set_xlim(-0.5, n - 1.5)
    rows = items.loc[[keys[i] for i in order]]
    ax.set_yticks(
        range(n - 1),
        [item_label(row, lang=lang) for _, row in rows.iloc[1:].iterrows()],
        fontsize=6,
    )
    ax.set_xticks(
        range(n - 1), [f"Q{int(k)}" for k in rows["number"].iloc[:-1]], fontsize=6, rotation=90
    )
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    symbol = coefficient_symbol(method)
    fig.colorbar(
        image,
        cax=bar_ax,
        label=schema.pick(f"相関（{symbol}）", f"Correlation ({symbol})", lang=lang),
    )
    return fig


def _dendrogram(tree_ax, link: np.ndarray) -> list[int]:
    """Draw the clustering tree over the heatmap's columns; returns the leaves in drawn order. The
    heatmap is the lower triangle without the diagonal: rows are the leaves but the first, columns
    the leaves but the last; leaf i (scipy draws it at x = 10 i + 5) stands over column i, so the last
    leaf hangs one column past the matrix, above the colour bar."""
    dendrogram = hierarchy.dendrogram(
        link, ax=tree_ax, no_labels=True, color_threshold=0, above_threshold_color="0.3"
    )
    order = dendrogram["leaves"]
    tree_ax.set_xlim(0, 10 * (len(order) - 1))
    for artist in tree_ax.collections:
        artist.set_clip_on(False)
    tree_ax.axis("off")
    return order


def _correlation_cells(ax, values: np.ndarray):
    """The correlations as coloured cells (viridis over the range of the values, in tenths; missing
    cells white), each with its value printed; returns the image (for the colour bar)."""
    finite = values[np.isfinite(values)]
    low = np.floor(finite.min() * 10) / 10 if finite.size else 0.0
    high = np.ceil(finite.max() * 10) / 10 if finite.size else 1.0
    cmap = plt.get_cmap("viridis").with_extremes(bad="white")
    image = ax.imshow(values, cmap=cmap, vmin=low, vmax=max(high, low + 0.1), aspect="auto")
    for (i, j), value in np.ndenumerate(values):
        if np.isfinite(value):
            text = _without_leading_zero(value)
            light = value > low + 0.6 * (high - low)
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=6,
                color="black" if light else "white",
            )
    return image


def _without_leading_zero(value: float) -> str:
    """A correlation in a heatmap cell: two decimals without the leading zero (.64, −.05), so it
    fits the cell; 1.00 and −1.00 whole."""
    value = round(value, 2) + 0.0  # −0.004 prints as .00, not −.00
    text = signed(value)
    return text.replace("0.", ".", 1) if abs(value) < 1 else text
