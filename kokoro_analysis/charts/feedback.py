"""Figures of the client-feedback notebook (03): the score distribution, the answers to the 20 items,
the score by counselor experience and the keyness of counselors' words, from the tables of
:mod:`kokoro_analysis.analyses.feedback.scores` and :mod:`kokoro_analysis.analyses.feedback.raters`.
The questionnaire's structure is drawn by :mod:`kokoro_analysis.charts.item_structure`, the session
features by :mod:`kokoro_analysis.charts.score_features`. Each function takes ``lang`` ("en" or "ja")
for the labels and returns a Figure sized for the paper."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure

from kokoro_analysis.charts.style import (
    interval_errors,
    label_axes,
    legend_above,
    mean_with_interval,
    new_figure,
    score_limits,
    signed,
)
from kokoro_analysis.corpus import schema
from kokoro_analysis.published import headline_bounds
from kokoro_analysis.stats.distributions import reflected_kde
from kokoro_analysis.text.glossary import word_label

__all__ = [
    "experience_chart",
    "item_distribution_chart",
    "item_label",
    "item_statistics_chart",
    "keyness_chart",
    "score_distribution_chart",
]

SHORT_LABELS_JA = {12: "相談終了のタイミング・円滑さ"}
"""Display labels for Japanese item labels too long for a figure (item number → label)."""
SUBSET_BAND_LABELS = {"low": ("低", "Low"), "high": ("高", "High"), "test": ("テスト", "Test")}
"""(Japanese, English) names of the score bands drawn over the score histogram."""
ANSWER_COLORS = ("#00204d", "#31446b", "#666970", "#958f78", "#cbba69", "#ffea46")
"""Answers 0–5, dark to light (cividis): the order survives greyscale printing."""
HIGH_COLOR, LOW_COLOR = "#2166ac", "#b2182b"
"""Colours of what goes with a high and with a low score (blue and red, colour-blind safe)."""


def item_label(row: pd.Series, *, lang: str, numbered: bool = True) -> str:
    """``Q<n> <label>`` in the chosen language (long Japanese labels shortened)."""
    number = int(row["number"])
    label = schema.pick(SHORT_LABELS_JA.get(number, row["label_ja"]), row["label_en"], lang=lang)
    return f"Q{number} {label}" if numbered else label


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
    _score_density(ax, scores, flagged, edges, lang=lang)
    if len(scores):
        _center_lines(ax, scores, min_gap=max(bin_width, 0.02 * (hi - lo)), lang=lang)
    _subset_bands(ax, scores, lo, hi, lang=lang)
    ax.set_xlim(lo - 0.5, hi + 0.5)
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    label_axes(ax, lang=lang, x=("評価点（0–100）", "Score (0–100)"), y=("密度", "Density"))
    fig.legend(loc="outside lower center", ncols=2, fontsize=6, handlelength=1.5, columnspacing=1.0)
    return fig


def _score_density(
    ax, scores: np.ndarray, flagged: np.ndarray, edges: np.ndarray, *, lang: str
) -> None:
    """The histogram (density; the sessions a flag changed stacked in a dark colour) and, with five
    or more distinct scores, the reflected KDE of all scores."""
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


def _subset_bands(ax, scores: np.ndarray, lo: float, hi: float, *, lang: str) -> None:
    """The subset bounds with scores on both sides as grey lines (between the bins of bound − 1 and
    bound) and, when the scores fall in more than one subset, each subset's name above the middle of
    its visible part (one subset alone is the one the scope note names)."""
    for bound in (schema.HIGH_SCORE, schema.TEST_SCORE):
        if (scores < bound).any() and (scores >= bound).any():
            ax.axvline(bound - 0.5, color="0.6", linewidth=0.5)
    bands = []
    for subset, names in SUBSET_BAND_LABELS.items():
        low, high = max(schema.SUBSETS[subset][0], lo), min(schema.SUBSETS[subset][1], hi)
        if high >= low and ((scores >= low) & (scores <= high)).any():
            bands.append(((low + high) / 2, schema.pick(*names, lang=lang)))
    if len(bands) > 1:
        above = ax.get_xaxis_transform()  # x in data, y in axes coordinates
        for x, name in bands:
            ax.text(x, 1.01, name, transform=above, ha="center", va="bottom", fontsize=6,
                    color="0.4")  # fmt: skip


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


def _block_headings(
    ax, headings: list[tuple[str, float]], *, x: float, lang: str, **options
) -> None:
    """Each block's name in its gap row, from ``x`` (fraction of the axes' width) rightwards;
    ``options`` go to ``ax.text`` (e.g. a background box)."""
    for block, y in headings:
        ax.text(
            x,
            y,
            schema.pick(*schema.BLOCKS[block], lang=lang),
            transform=ax.get_yaxis_transform(),
            ha="left",
            va="center",
            fontsize=7,
            color="0.2",
            **options,
        )


def _item_axis(ax, table: pd.DataFrame, positions: list[float], *, lang: str) -> None:
    """The items as y tick labels (no tick marks), top to bottom, gap rows included."""
    ax.set_yticks(positions, [item_label(row, lang=lang) for _, row in table.iterrows()])
    ax.set_ylim(max(positions) + 0.7, -0.7)
    ax.tick_params(axis="y", length=0)


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
    _answer_bars(ax, positions, shares, levels)
    for start, end in _block_spans(positions, headings):  # not through the block headings
        ax.vlines(0, start - 0.5, end + 0.5, color="black", linewidth=0.6)
    _block_headings(ax, headings, x=0.0, lang=lang)
    _item_axis(ax, table, positions, lang=lang)
    # each side as far as its data (to 5 %): a subset answered 3–5 leaves no 25 % band empty
    left_end = 5 * np.ceil(max(shares[:, :3].sum(axis=1).max(), 1) / 5)
    right_end = 5 * np.ceil(max(shares[:, 3:].sum(axis=1).max(), 1) / 5)
    ax.set_xlim(-left_end, right_end)
    ax.xaxis.set_major_locator(ticker.MaxNLocator(steps=[1, 2, 2.5, 5, 10]))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{abs(v):.0f}"))
    label_axes(
        ax,
        lang=lang,
        x=(
            "セッションの割合（%）：左 0–2、右 3–5",
            "Share of sessions (%): answers 0–2 left, 3–5 right",
        ),
    )
    ax.spines["left"].set_visible(False)
    legend_above(
        ax,
        "center",
        title=schema.pick("回答", "Answer", lang=lang),
        ncols=6,
        fontsize=6,
        title_fontsize=6,
        handlelength=1.2,
        columnspacing=0.8,
    )
    return fig


def _answer_bars(ax, positions: list[float], shares: np.ndarray, levels: list[str]) -> None:
    """One stacked bar per item, answers 0–2 left of zero and 3–5 right, each share of 7 % or more
    printed in its segment (white on the dark answers 0–2)."""
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
                ax.text(start + width / 2, y, f"{width:.0f}", ha="center", va="center",
                        fontsize=6, color="white" if j <= 2 else "black")  # fmt: skip
        left = left + shares[:, j]


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
    error = np.vstack(interval_errors(mean, table[low].to_numpy(), table[high].to_numpy()))
    for y, m, e0, e1, c in zip(positions, mean, error[0], error[1], colors):
        left.errorbar(
            m, y, xerr=[[e0], [e1]], fmt="o", color=c, markersize=2.5, capsize=1.5, elinewidth=0.7
        )
    label_axes(left, lang=lang, x=("平均（0–5）と95%信頼区間", "Mean answer (0–5) with 95% CI"))
    _item_rest_bars(right, table, positions, colors, lang=lang)
    _block_headings(  # a white box over the grid lines
        left,
        headings,
        x=0.01,
        lang=lang,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},
    )
    _item_axis(left, table, positions, lang=lang)
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


def _item_rest_bars(ax, table: pd.DataFrame, positions, colors, *, lang: str) -> None:
    """The corrected item–total correlations as bars, each value printed at its bar's end; the axis
    from 0 (or the lowest correlation, rounded down to a tenth) to 1."""
    ax.barh(positions, table["r_item_rest"], color=colors, height=0.7)
    lowest = float(np.nanmin(table["r_item_rest"])) if table["r_item_rest"].notna().any() else 0.0
    ax.set_xlim(min(0.0, np.floor(lowest * 10) / 10), 1)  # negative correlations stay visible
    label_axes(ax, lang=lang, x=("修正済み項目–全体相関", "Corrected item–total correlation"))
    for value, y in zip(table["r_item_rest"], positions):
        if np.isfinite(value):
            ax.text(max(value, 0) + 0.01, y, signed(value), va="center", fontsize=6)


# --------------------------------------------------------------------------- 6. counselor experience


def experience_chart(bins: pd.DataFrame, *, lang: str = "en") -> Figure:
    """Mean score with the 95 % CI the analysis names as headline (:func:`headline_bounds`) by the
    counselor's experience (the n-th session of that counselor); the number of
    sessions of each bin under its tick label, so no text sits among the error bars; bins without
    sessions left out."""
    fig, ax = new_figure("column", 2.0)
    bins = bins[bins["sessions"] > 0]  # a subset may leave the last bins empty
    x = np.arange(len(bins))
    # clipped: a percentile interval of a small bin need not hold the mean
    mean_with_interval(
        ax,
        x,
        bins,
        "mean_score",
        clip=True,
        fmt="o-",
        markersize=3,
        capsize=2,
        elinewidth=0.7,
        linewidth=0.7,
    )
    ticks = [f"{label}\n({n:,})" for label, n in zip(bins.index, bins["sessions"])]
    ax.set_xticks(x, ticks, fontsize=6)
    ax.set_xlim(-0.5, len(bins) - 0.5)
    label_axes(
        ax,
        lang=lang,
        x=("カウンセラーの何回目のセッションか（件数）", "Counselor's n-th session (sessions)"),
        y=("平均評価点（95%CI）", "Mean score (95% CI)"),
    )
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
