"""Figures of the client-feedback notebook (03). Each function takes the tables of
:mod:`kokoro_analysis.analyses.feedback.scores`, :mod:`kokoro_analysis.analyses.feedback.item_structure`, :mod:`kokoro_analysis.analyses.feedback.score_features`
or :mod:`kokoro_analysis.analyses.feedback.raters` and ``lang`` ("en" or "ja") and returns a Figure sized for the paper."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from matplotlib import patheffects, ticker
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from scipy.cluster import hierarchy

from kokoro_analysis.charts.style import new_figure, score_limits
from kokoro_analysis.corpus import schema
from kokoro_analysis.published import headline_bounds
from kokoro_analysis.stats.distributions import reflected_kde
from kokoro_analysis.text.glossary import word_label

SHORT_LABELS_JA = {12: "相談終了のタイミング・円滑さ"}
"""Display labels for Japanese item labels too long for a figure (item number → label)."""
SUBSET_BAND_LABELS = {"low": ("低", "Low"), "high": ("高", "High"), "test": ("テスト", "Test")}
"""(Japanese, English) names of the score bands drawn over the score histogram."""
ANSWER_COLORS = ("#00204d", "#31446b", "#666970", "#958f78", "#cbba69", "#ffea46")
"""Answers 0–5, dark to light (cividis): the order survives greyscale printing."""
"""Answer 0 … 5, a red–blue diverging palette (colour-blind safe)."""
HIGH_COLOR, LOW_COLOR = "#2166ac", "#b2182b"


def _symbol(method: str) -> str:
    """ρ for Spearman, r for Pearson, as mathtext: the Japanese font draws ρ full-width, which
    reads as "( ρ )" in Latin text."""
    return r"$\rho$" if method == "spearman" else "$r$"


def item_label(row: pd.Series, *, lang: str, numbered: bool = True) -> str:
    """``Q<n> <label>`` in the chosen language (long Japanese labels shortened)."""
    number = int(row["number"])
    label = schema.pick(SHORT_LABELS_JA.get(number, row["label_ja"]), row["label_en"], lang=lang)
    return f"Q{number} {label}" if numbered else label


def _block_label(block: str, lang: str) -> str:
    ja, en = schema.BLOCKS[block]
    return schema.pick(ja, en, lang=lang)


# --------------------------------------------------------------------------- 1. total score


def score_distribution_chart(
    dialogues: pd.DataFrame, *, lang: str = "en", bin_width: int = 2
) -> Figure:
    """Density histogram of the score (sessions whose score a flag changed stacked separately, when
    there are any; ``bin_width`` points per bin, 1 when the scores span under 20 points), a Gaussian
    KDE of all scores reflected at the lowest and highest score (:func:`~kokoro_analysis.stats.distributions.reflected_kde`),
    mean and median (one line naming both when they are too close to tell apart), and the subset
    bounds (70 and 99, :data:`schema.SUBSETS`) that have scores on both sides, with the names of the
    subsets above the axes when scores fall in more than one. The score axis covers the data (:func:`score_limits`: 0–100 for the full corpus);
    the legend sits below the axes, covering no bar."""
    fig, ax = new_figure("column", 2.5)
    scores = dialogues["score"].to_numpy(dtype=float)
    flagged = dialogues["score_branch"].to_numpy() != "sum"
    lo, hi = score_limits(scores, pad=False)
    if hi - lo < 20:  # a narrow subset: one bin per score
        bin_width = 1
    # integer scores: bins of ``bin_width`` whole points centred on them (the last one narrower when
    # the range holds a number of points not divisible by it), no bin holding more points than another
    edges = np.append(np.arange(lo - 0.5, hi + 0.5, bin_width), hi + 0.5)
    parts = [(scores[~flagged], "#a6bddb", schema.pick("項目の合計", "Item sum", lang=lang))]
    if flagged.any():  # light and dark: distinct in greyscale
        label = schema.pick("フラグで減点（半減・0点）", "Changed by a flag", lang=lang)
        parts.append((scores[flagged], "#cc4c02", label))
    values, colors, labels = (list(column) for column in zip(*parts))
    ax.hist(
        values,
        bins=edges,
        density=True,  # stacked: the parts together integrate to 1
        stacked=True,
        color=colors,
        edgecolor="white",
        linewidth=0.2,
        label=labels,
    )
    if len(np.unique(scores)) >= 5:  # a density estimate needs a few distinct scores
        # reflected at the ends of the scores present: a plain KDE would fall away where the scale
        # (0, 100) or a subset (70 and 98 for High) cuts the distribution off
        first, last = scores.min() - 0.5, scores.max() + 0.5
        grid = np.linspace(first, last, 401)
        density = reflected_kde(scores, grid, low=first, high=last)
        ax.plot(grid, density, color="black", linewidth=0.8, label="KDE")
    if len(scores):
        _center_lines(ax, scores, min_gap=max(bin_width, 0.02 * (hi - lo)), lang=lang)
    for bound in (schema.HIGH_SCORE, schema.TEST_SCORE):  # between the bins of bound - 1 and bound
        if (scores < bound).any() and (scores >= bound).any():  # scores on both sides
            ax.axvline(bound - 0.5, color="0.6", linewidth=0.5)
    bands = []  # the subsets holding scores, each named at the middle of its visible part
    for subset in ("low", "high", "test"):
        low, high = max(schema.SUBSETS[subset][0], lo), min(schema.SUBSETS[subset][1], hi)
        if high >= low and ((scores >= low) & (scores <= high)).any():
            bands.append(((low + high) / 2, schema.pick(*SUBSET_BAND_LABELS[subset], lang=lang)))
    if len(bands) > 1:  # one band alone is the subset the scope note names
        above = ax.get_xaxis_transform()  # x in data, y in axes coordinates
        for x, name in bands:
            ax.text(x, 1.01, name, transform=above, ha="center", va="bottom", fontsize=6,
                    color="0.4")  # fmt: skip
    ax.set_xlim(lo - 0.5, hi + 0.5)
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.set_xlabel(schema.pick("評価点（0–100）", "Score (0–100)", lang=lang))
    ax.set_ylabel(schema.pick("密度", "Density", lang=lang))
    fig.legend(loc="outside lower center", ncols=2, fontsize=6, handlelength=1.5, columnspacing=1.0)
    return fig


def _center_lines(ax, scores: np.ndarray, *, min_gap: float, lang: str) -> None:
    """The mean (dashed) and median (dotted) as vertical lines; one dotted line naming both when
    they are closer than ``min_gap`` score points (two lines there could not be told apart)."""
    mean, median = scores.mean(), np.median(scores)
    median_label = schema.pick(f"中央値 {median:g}", f"Median {median:g}", lang=lang)
    mean_label = schema.pick(f"平均 {mean:.2f}", f"Mean {mean:.2f}", lang=lang)
    if abs(mean - median) < min_gap:
        label = schema.pick(
            f"{median_label}（{mean_label}）", f"{median_label} (mean {mean:.2f})", lang=lang
        )
        ax.axvline(median, color="black", linestyle=":", linewidth=0.9, label=label)
        return
    ax.axvline(mean, color="black", linestyle="--", linewidth=0.7, label=mean_label)
    ax.axvline(median, color="black", linestyle=":", linewidth=0.9, label=median_label)


# --------------------------------------------------------------------------- 2. items


def _items_with_gaps(table: pd.DataFrame) -> tuple[list[float], list[tuple[str, float]]]:
    """y positions (top to bottom) leaving a gap row before each block; block heading positions."""
    positions, headings, y = [], [], 0.0
    previous = None
    for block in table["block"]:
        if block != previous:
            headings.append((block, y))
            y += 1.0
            previous = block
        positions.append(y)
        y += 1.0
    return positions, headings


def _block_spans(
    positions: list[float], headings: list[tuple[str, float]]
) -> list[tuple[float, float]]:
    """(first, last) y position of the items of each block (the rows between two headings)."""
    starts = [y for _, y in headings] + [float("inf")]
    return [
        (min(inside), max(inside))
        for top, bottom in itertools.pairwise(starts)
        if (inside := [y for y in positions if top < y < bottom])
    ]


def item_distribution_chart(distribution: pd.DataFrame, *, lang: str = "en") -> Figure:
    """Diverging stacked bars of the answers 0–5 per item (percent of sessions), centred between 2
    and 3: answers 0–2 extend left, 3–5 right (the legend lists the answers given). Items grouped by
    block, in questionnaire order."""
    table = distribution.sort_values("number")
    levels = [str(v) for v in range(schema.ITEM_MIN, schema.ITEM_MAX + 1)]
    shares = table[levels].to_numpy(dtype=float)
    totals = shares.sum(axis=1, keepdims=True)
    shares = np.divide(100 * shares, totals, out=np.zeros_like(shares), where=totals > 0)
    positions, headings = _items_with_gaps(table)
    fig, ax = new_figure("full", 4.0)
    left = -shares[:, :3].sum(axis=1)
    for j, level in enumerate(levels):
        ax.barh(
            positions,
            shares[:, j],
            left=left,
            height=0.75,
            color=ANSWER_COLORS[j],
            edgecolor="white",
            linewidth=0.3,
            label=level if shares[:, j].any() else "_nolegend_",  # only answers given
        )
        for y, start, width in zip(positions, left, shares[:, j]):
            if width >= 7:
                dark = j <= 2
                ax.text(
                    start + width / 2,
                    y,
                    f"{width:.0f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if dark else "black",
                )
        left = left + shares[:, j]
    for start, end in _block_spans(positions, headings):  # not through the block headings
        ax.vlines(0, start - 0.5, end + 0.5, color="black", linewidth=0.6)
    for block, y in headings:
        ax.text(
            0.0,
            y,
            _block_label(block, lang),
            transform=ax.get_yaxis_transform(),
            ha="left",
            va="center",
            fontsize=7,
            color="0.2",
        )
    ax.set_yticks(positions, [item_label(row, lang=lang) for _, row in table.iterrows()])
    ax.set_ylim(max(positions) + 0.7, -0.7)
    # each side as far as its data (to 5 %): a subset answered 3–5 leaves no 25 % band empty
    left_end = 5 * np.ceil(max(shares[:, :3].sum(axis=1).max(), 1) / 5)
    right_end = 5 * np.ceil(max(shares[:, 3:].sum(axis=1).max(), 1) / 5)
    ax.set_xlim(-left_end, right_end)
    ax.xaxis.set_major_locator(ticker.MaxNLocator(steps=[1, 2, 2.5, 5, 10]))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{abs(v):.0f}"))
    ax.set_xlabel(
        schema.pick(
            "セッションの割合（%）：左 0–2、右 3–5",
            "Share of sessions (%): answers 0–2 left, 3–5 right",
            lang=lang,
        )
    )
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    ax.legend(
        title=schema.pick("回答", "Answer", lang=lang),
        ncols=6,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        fontsize=6,
        title_fontsize=6,
        handlelength=1.2,
        columnspacing=0.8,
    )
    return fig


def item_statistics_chart(statistics: pd.DataFrame, *, lang: str = "en") -> Figure:
    """Two panels sharing the item axis: item mean with its 95 % CI, and the corrected item–total
    correlation (item against the sum of the other 19 items)."""
    table = statistics.sort_values("number")
    positions, headings = _items_with_gaps(table)
    fig, (left, right) = new_figure(
        "full", 3.6, ncols=2, sharey=True, gridspec_kw={"width_ratios": [1.3, 1]}
    )
    fig.get_layout_engine().set(wspace=0.06)  # the panels' end tick labels (5.00, −0.2) apart
    colors = ["#1b9e77" if b == "overall_impression" else "#7570b3" for b in table["block"]]
    mean = table["mean"].to_numpy()
    low, high = headline_bounds(statistics)  # the interval the analysis calls the headline
    error = np.vstack([mean - table[low].to_numpy(), table[high].to_numpy() - mean])
    for y, m, e0, e1, c in zip(positions, mean, error[0], error[1], colors):
        left.errorbar(
            m, y, xerr=[[e0], [e1]], fmt="o", color=c, markersize=2.5, capsize=1.5, elinewidth=0.7
        )
    left.set_xlabel(
        schema.pick("平均（0–5）と95%信頼区間", "Mean answer (0–5) with 95% CI", lang=lang)
    )
    right.barh(positions, table["r_item_rest"], color=colors, height=0.7)
    lowest = float(np.nanmin(table["r_item_rest"])) if table["r_item_rest"].notna().any() else 0.0
    right.set_xlim(min(0.0, np.floor(lowest * 10) / 10), 1)  # negative correlations stay visible
    right.set_xlabel(
        schema.pick("修正済み項目–全体相関", "Corrected item–total correlation", lang=lang)
    )
    for value, y in zip(table["r_item_rest"], positions):
        if np.isfinite(value):
            right.text(max(value, 0) + 0.01, y, _signed(value), va="center", fontsize=6)
    for block, y in headings:
        left.text(
            0.01,
            y,
            _block_label(block, lang),
            transform=left.get_yaxis_transform(),
            ha="left",
            va="center",
            fontsize=7,
            color="0.2",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},  # over the grid lines
        )
    left.set_yticks(positions, [item_label(row, lang=lang) for _, row in table.iterrows()])
    left.set_ylim(max(positions) + 0.7, -0.7)
    left.tick_params(axis="y", length=0)
    lo = np.nanmin(table[low]) if table[low].notna().any() else np.nanmin(mean)
    hi = np.nanmax(table[high]) if table[high].notna().any() else np.nanmax(mean)
    pad = max(0.05, (hi - lo) * 0.08)
    left.set_xlim(max(0, lo - pad), min(5, hi + pad))
    left.xaxis.set_major_locator(ticker.MaxNLocator(nbins=4))  # narrow ranges: no crowded labels
    right.tick_params(axis="y", length=0)
    for ax in (left, right):
        ax.grid(axis="x", linewidth=0.3, color="0.85")
        ax.set_axisbelow(True)
    return fig


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
    ax.set_xlabel(schema.pick("主成分", "Component", lang=lang))
    ax.set_ylabel(schema.pick("固有値", "Eigenvalue", lang=lang))
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
            _signed(value),
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
    fig = plt.figure(figsize=(6.3, 5.6), layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=[0.8, 6], width_ratios=[40, 1])
    tree_ax, ax, bar_ax = (
        fig.add_subplot(grid[0, 0]),
        fig.add_subplot(grid[1, 0]),
        fig.add_subplot(grid[1, 1]),
    )
    fig.add_subplot(grid[0, 1]).axis("off")
    dendrogram = hierarchy.dendrogram(
        link, ax=tree_ax, no_labels=True, color_threshold=0, above_threshold_color="0.3"
    )
    order = dendrogram["leaves"]
    n = len(order)
    # the lower triangle without the diagonal: rows are the leaves but the first, columns the leaves
    # but the last; leaf i (scipy draws it at x = 10 i + 5) stands over column i, so the last leaf
    # hangs one column past the matrix, above the colour bar
    tree_ax.set_xlim(0, 10 * (n - 1))
    for artist in tree_ax.collections:
        artist.set_clip_on(False)
    tree_ax.axis("off")
    keys = list(corr.index)
    values = corr.to_numpy()[np.ix_(order[1:], order[:-1])].astype(float)
    values[np.triu_indices(n - 1, k=1)] = np.nan  # each pair once
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
    symbol = _symbol(method)
    fig.colorbar(
        image,
        cax=bar_ax,
        label=schema.pick(f"相関（{symbol}）", f"Correlation ({symbol})", lang=lang),
    )
    return fig


# --------------------------------------------------------------------------- 4. features


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
        bar = fig.colorbar(
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
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=6, borderaxespad=0.1)
    label_ja, label_en, _ = FEATURES.get(feature, (feature, feature, ""))
    if log_x:
        label_ja, label_en = f"{label_ja}・対数軸", f"{label_en} – log scale"
    ax.set_xlabel(schema.pick(label_ja, label_en, lang=lang))
    ax.set_ylabel(schema.pick("評価点", "Score", lang=lang))
    ax.set_ylim(*score_limits(data["score"]))
    ax.yaxis.set_major_locator(ticker.MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    if correlation is not None and np.isfinite(correlation["r"]):
        low, high = headline_bounds(correlation)  # the interval the analysis calls the headline
        ax.text(  # above the axes: the hexagons reach every corner
            0.0,
            1.02,
            f"{_symbol(method)} = {_signed(correlation['r'])} [{_signed(correlation[low])}, "
            f"{_signed(correlation[high])}]"
            f"\nn = {int(correlation['n']):,}",
            transform=ax.transAxes,
            ha="left",
            va="bottom",
            fontsize=6,
        )
    return fig


def _without_leading_zero(value: float) -> str:
    """A correlation in a heatmap cell: two decimals without the leading zero (.64, −.05), so it
    fits the cell; 1.00 and −1.00 whole."""
    value = round(value, 2) + 0.0  # −0.004 prints as .00, not −.00
    text = _signed(value)
    return text.replace("0.", ".", 1) if abs(value) < 1 else text


def _count_ticks(top: float) -> list[float]:
    """Ticks of a logarithmic count scale from 1 to ``top``: 1, 2, 5, 10, 20 … and ``top`` itself
    (replacing the last round tick when that is within a factor 1.5, so their labels do not crowd)."""
    top = float(top)
    decades = range(int(np.floor(np.log10(max(top, 1)))) + 1)
    ticks = [m * 10**d for d in decades for m in (1, 2, 5) if m * 10**d <= top]
    if top / ticks[-1] < 1.5 and len(ticks) > 1:
        ticks.pop()
    return [*ticks, top] if top > ticks[-1] else ticks


def _signed(value: float) -> str:
    """Two decimals with a true minus sign."""
    return f"{value:.2f}".replace("-", "\u2212")


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
    colors = [HIGH_COLOR if r > 0 else LOW_COLOR for r in table["r"]]
    # a percentile interval need not contain the estimate in tiny samples: clip the whiskers at it
    below = np.clip(table["r"] - table["ci_low"], 0, None)
    above = np.clip(table["ci_high"] - table["r"], 0, None)
    scheme = next(
        (s for s in ("two_way", "rater") if {f"ci_low_{s}", f"ci_high_{s}"} <= set(table)), None
    )
    if scheme:  # the headline interval (raters and counselors resampled) as a wide light bar behind
        rater_below = np.clip(table["r"] - table[f"ci_low_{scheme}"], 0, None)
        rater_above = np.clip(table[f"ci_high_{scheme}"] - table["r"], 0, None)
        resampled = {
            "two_way": ("評価者×カウンセラーを再抽出", "raters × counselors resampled"),
            "rater": ("評価者を再抽出", "raters resampled"),
        }[scheme]
        ax.errorbar(
            table["r"], y, xerr=[rater_below, rater_above], fmt="none", ecolor="0.75",
            elinewidth=3, capsize=0, zorder=1,
            label=schema.pick(f"95%CI（{resampled[0]}）", f"95% CI, {resampled[1]}", lang=lang),
        )  # fmt: skip
    ax.errorbar(
        table["r"], y, xerr=[below, above], fmt="none", ecolor="0.4", elinewidth=0.7, capsize=1.5,
        label=schema.pick("95%CI（セッションを再抽出）", "95% CI, sessions resampled", lang=lang),
    )  # fmt: skip
    ax.scatter(table["r"], y, color=colors, s=9, zorder=3)
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
    symbol = _symbol(method)
    ax.set_xlabel(
        schema.pick(f"評価点との相関（{symbol}）", f"Correlation with score ({symbol})", lang=lang)
    )
    ax.legend(
        loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=1, fontsize=6, borderaxespad=0.2,
        handlelength=1.5,
    )  # fmt: skip
    ax.grid(axis="x", linewidth=0.3, color="0.85")
    ax.set_axisbelow(True)
    return fig


# --------------------------------------------------------------------------- 6. counselor experience


def experience_chart(bins: pd.DataFrame, *, lang: str = "en") -> Figure:
    """Mean score with the 95 % CI the analysis names as headline (:func:`headline_bounds`) by the
    counselor's experience (the n-th session of that counselor); the number of
    sessions of each bin under its tick label, so no text sits among the error bars; bins without
    sessions left out."""
    fig, ax = new_figure("column", 2.0)
    bins = bins[bins["sessions"] > 0]  # a subset may leave the last bins empty
    x = np.arange(len(bins))
    mean = bins["mean_score"].to_numpy()
    low, high = headline_bounds(bins)
    ax.errorbar(
        x,
        mean,
        yerr=[np.clip(mean - bins[low], 0, None), np.clip(bins[high] - mean, 0, None)],
        fmt="o-",
        color="black",
        markersize=3,
        capsize=2,
        elinewidth=0.7,
        linewidth=0.7,
    )
    ticks = [f"{label}\n({n:,})" for label, n in zip(bins.index, bins["sessions"])]
    ax.set_xticks(x, ticks, fontsize=6)
    ax.set_xlim(-0.5, len(bins) - 0.5)
    ax.set_xlabel(
        schema.pick(
            "カウンセラーの何回目のセッションか（件数）",
            "Counselor's n-th session (sessions)",
            lang=lang,
        )
    )
    ax.set_ylabel(schema.pick("平均評価点（95%CI）", "Mean score (95% CI)", lang=lang))
    ax.margins(y=0.08)
    return fig


# --------------------------------------------------------------------------- 7. keyness


def keyness_chart(keywords: pd.DataFrame, *, lang: str = "en") -> Figure:
    """Diverging bars of log-odds z: lemmas over-used by counselors in low-scored sessions (left) and in
    high-scored sessions (right); labels meet in the middle."""
    fig, (left, right) = new_figure("full", 0.7 + 0.16 * max(len(keywords) // 2, 5), ncols=2)
    for ax, direction, color in ((left, "low", LOW_COLOR), (right, "high", HIGH_COLOR)):
        part = keywords[keywords["direction"] == direction].sort_values("rank")
        y = np.arange(len(part))
        ax.barh(y, part["z"], color=color, height=0.7)
        ax.set_yticks(
            y,
            [word_label(lem, form, lang=lang) for lem, form in zip(part["lemma"], part["surface"])],
        )
        ax.set_ylim(len(part) - 0.5 if len(part) else 0.5, -0.5)
        ax.tick_params(axis="y", length=0)
        ax.axvline(0, color="black", linewidth=0.5)
    limit = max(abs(keywords["z"]).max() if len(keywords) else 1, 1) * 1.05
    left.set_xlim(-limit, 0)
    right.set_xlim(0, limit)
    left.yaxis.tick_right()
    left.spines["left"].set_visible(False)
    left.spines["right"].set_visible(True)
    right.spines["left"].set_visible(True)
    left.set_title(
        schema.pick(
            f"低評価（<{schema.HIGH_SCORE}）で多い",
            f"More in low-scored sessions (< {schema.HIGH_SCORE})",
            lang=lang,
        ),
        fontsize=7,
    )
    right.set_title(
        schema.pick(
            f"高評価（≥{schema.HIGH_SCORE}）で多い",
            f"More in high-scored sessions (≥ {schema.HIGH_SCORE})",
            lang=lang,
        ),
        fontsize=7,
    )
    fig.supxlabel(
        schema.pick(
            "対数オッズ比の z 値（情報事前分布つき）",
            "Log-odds z (informative Dirichlet prior)",
            lang=lang,
        ),
        fontsize=7,
    )
    return fig


__all__ = [
    "experience_chart",
    "feature_correlation_chart",
    "hexbin_chart",
    "item_correlation_chart",
    "item_distribution_chart",
    "item_label",
    "item_statistics_chart",
    "keyness_chart",
    "loadings_chart",
    "score_distribution_chart",
    "scree_chart",
]


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
