"""Figures of the topic distribution notebook (02): the two topic levels, topics against score, year and
length, and the distinguishing words per topic. Each function takes the tables computed by
:mod:`kokoro_analysis.analyses.topics` and returns a matplotlib Figure (style: :mod:`kokoro_analysis.charts.style`)."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from kokoro_analysis.charts.style import (
    label_axes,
    legend_above,
    mean_with_interval,
    new_figure,
    score_limits,
)
from kokoro_analysis.corpus.schema import OTHER_SUBTOPIC, pick, topic_label
from kokoro_analysis.text.glossary import gloss_label

__all__ = [
    "BOX_COLOR",
    "distinguishing_words_chart",
    "length_by_topic_chart",
    "score_by_topic_chart",
    "share_by_year_chart",
    "topic_levels_chart",
]

BOX_COLOR = "0.85"
"""Fill of the per-topic boxes and bars: one grey (a colour per topic would carry no information the
axis labels do not already give, and is lost in greyscale print)."""


# --------------------------------------------------------------------------- the two levels

MAIN_BAR_COLOR, SUB_BAR_COLOR = "0.25", "0.72"
"""Grey levels of main-topic and sub-topic bars: the two levels differ in lightness, not hue."""


def topic_levels_chart(
    shares: pd.DataFrame,
    subtopics: pd.DataFrame,
    *,
    lang: str = "en",
    per_topic: int = 3,
    width: str | float = "full",
    height: float | None = None,
) -> Figure:
    """The two topic levels as bars on one scale (percent of the run's sessions), in two panels side by side
    (the topics split where the rows balance): each main topic (``shares`` from
    :func:`kokoro_analysis.analyses.topics.topic_shares`, dark bar) followed by its ``per_topic``
    largest keyword-rule sub-topics (``subtopics`` from
    :func:`kokoro_analysis.analyses.topics.subtopic_counts`, light bars, indented; sessions no rule
    matches are not drawn), the share printed at each bar ("<0.1" for a share under 0.05 %); a legend
    above names the two levels. Replaces the authors' sunburst, whose small arcs cannot carry
    readable labels."""
    panels = _balanced_panels(_level_rows(shares, subtopics, per_topic=per_topic, lang=lang))
    rows = max(len(rows) for rows in panels) if panels else 1
    fig, axes = new_figure(
        width,
        height or max(1.6, 0.75 + 0.11 * rows),
        ncols=len(panels) or 1,
        sharex=True,
        squeeze=False,
    )
    top = max((value for rows_ in panels for _, value, _ in rows_), default=1.0)
    for ax, panel in zip(axes.flat, panels):
        labels, values, is_main = (list(column) for column in zip(*panel))
        positions = np.arange(len(values))
        colors = [MAIN_BAR_COLOR if main else SUB_BAR_COLOR for main in is_main]
        ax.barh(positions, values, color=colors, height=0.75, linewidth=0)
        for y, value in zip(positions, values):
            ax.text(value, y, " " + _share_text(value), va="center", ha="left", fontsize=6)
        ax.set_yticks(positions, labels, fontsize=6)  # sub-topics indented under their topic
        ax.set_ylim(rows - 0.4, -0.6)  # both panels on one row pitch
        ax.tick_params(axis="y", length=0)
        ax.set_xlim(0, top * 1.15)
        label_axes(ax, lang=lang, x=("セッションに占める割合（%）", "Share of sessions (%)"))
    keys = [
        Patch(color=MAIN_BAR_COLOR, label=pick("メイントピック", "Main topic", lang=lang)),
        Patch(
            color=SUB_BAR_COLOR,
            label=pick("サブトピック（キーワード規則）", "Sub-topic (keyword rules)", lang=lang),
        ),
    ]
    legend_above(axes.flat[-1], handles=keys, ncols=2)
    return fig


Row = tuple[str, float, bool]
"""A bar of :func:`topic_levels_chart`: (label, share in percent, whether it is a main topic)."""


def _level_rows(
    shares: pd.DataFrame, subtopics: pd.DataFrame, *, per_topic: int, lang: str
) -> list[list[Row]]:
    """Per main topic, its bar followed by those of its ``per_topic`` largest sub-topics (indented;
    the rest category and sub-topics without sessions left out)."""
    groups = []
    for row in shares.itertuples(index=False):
        group = [(topic_label(row.main_en, lang=lang), float(row.share_pct), True)]
        subs = subtopics[
            (subtopics["main_en"] == row.main_en)
            & (subtopics["subtopic_en"] != OTHER_SUBTOPIC)
            & (subtopics["sessions"] > 0)  # a subset may hold none of a sub-topic
        ].nlargest(per_topic, "sessions")
        for sub in subs.itertuples(index=False):
            label = "   " + pick(sub.subtopic_ja, sub.subtopic_en, lang=lang)
            group.append((label, float(sub.share_pct), False))
        groups.append(group)
    return groups


def _balanced_panels(groups: list[list[Row]]) -> list[list[Row]]:
    """The topic groups in two panels, split between groups where the numbers of rows balance best
    (one panel for a single group, none for none)."""
    sizes = np.cumsum([len(group) for group in groups])
    split = int(np.argmin(np.abs(sizes - sizes[-1] / 2))) + 1 if len(groups) > 1 else 1
    halves = (groups[:split], groups[split:])
    return [[row for group in half for row in group] for half in halves if half]


def _share_text(value: float) -> str:
    """A share in percent with one decimal; "<0.1" for a share that would print as 0.0 but is not."""
    return "<0.1" if 0 < value < 0.05 else f"{value:.1f}"


def _wrap(label: str, width: int) -> str:
    """Break an English label at spaces only (never inside "Non-Spousal"); Japanese labels stay whole."""
    return (
        "\n".join(textwrap.wrap(label, width, break_on_hyphens=False, break_long_words=False))
        or label
    )


# --------------------------------------------------------------------------- score, year, length

_FLIERS = {
    "marker": "o",
    "markersize": 1.2,
    "markerfacecolor": "#555555",
    "markeredgewidth": 0,
    "alpha": 0.5,
}


def score_by_topic_chart(
    dialogues: pd.DataFrame,
    score_table: pd.DataFrame,
    *,
    lang: str = "en",
    width: str | float = "column",
    height: float | None = None,
) -> Figure:
    """Horizontal box plots of the client score per topic, in the order of ``score_table``
    (:func:`kokoro_analysis.analyses.topics.score_by_topic`, by median), with the mean and its headline
    interval (:func:`kokoro_analysis.published.headline_bounds`)."""
    order = list(score_table["main_en"])
    fig, ax = new_figure(width, height or 2.9)
    positions = _topic_boxes(ax, dialogues, "score", order)
    mean_with_interval(
        ax,
        positions,
        score_table,
        horizontal=True,
        fmt="D",
        markersize=2.2,
        elinewidth=0.8,
        capsize=1.5,
        zorder=5,
        label=pick("平均（95% CI）", "Mean (95% CI)", lang=lang),
    )
    ax.set_yticks(
        positions,
        [f"{topic_label(t, lang=lang)} ({n:,})" for t, n in zip(order, score_table["sessions"])],
    )
    label_axes(
        ax, lang=lang, x=("クライアント評価スコア（0–100）", "Client feedback score (0–100)")
    )
    ax.set_xlim(*score_limits(dialogues["score"]))  # 0–100 for the corpus, the range of a subset
    legend_above(ax, "left", ncol=1, borderaxespad=0.2)
    return fig


def _topic_boxes(ax, dialogues: pd.DataFrame, column: str, order: list[str]) -> np.ndarray:
    """Horizontal box plots of ``column`` per topic (``order``, top to bottom) in the topics' colours;
    returns the y positions."""
    data = [dialogues.loc[dialogues["topic_main_en"] == t, column].to_numpy(float) for t in order]
    positions = np.arange(len(order))[::-1]
    boxes = ax.boxplot(
        data,
        positions=positions,
        vert=False,
        widths=0.6,
        patch_artist=True,
        showfliers=True,
        flierprops=_FLIERS,
        medianprops={"color": "black", "linewidth": 0.9},
    )
    for patch in boxes["boxes"]:
        patch.set_facecolor(BOX_COLOR)
        patch.set_edgecolor("#333333")
    return positions


def share_by_year_chart(
    shares_by_year: pd.DataFrame,
    sessions_per_year: pd.Series | None = None,
    *,
    lang: str = "en",
    width: str | float = "column",
    height: float | None = None,
) -> Figure:
    """Heatmap of each topic's share of a year's sessions (percent, columns sum to 100), annotated;
    ``sessions_per_year`` (both from :func:`kokoro_analysis.analyses.topics.topic_share_by_year`) is
    shown under each year."""
    fig, ax = new_figure(width, height or 2.8)
    values = shares_by_year.to_numpy(float)
    image = ax.imshow(
        values, aspect="auto", cmap="Blues", vmin=0, vmax=max(25.0, float(np.nanmax(values)))
    )
    sessions = {} if sessions_per_year is None else sessions_per_year.to_dict()
    years = list(shares_by_year.columns)
    ax.set_xticks(
        range(len(years)),
        [f"{y}\n{sessions[y]:,}" if y in sessions else str(y) for y in years],
        fontsize=6,
    )
    label_axes(ax, lang=lang, x=("年（セッション数）", "Year (sessions)"))
    ax.set_yticks(
        range(len(shares_by_year.index)), [topic_label(t, lang=lang) for t in shares_by_year.index]
    )
    threshold = image.norm.vmax * 0.6
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            ax.text(
                j,
                i,
                f"{values[i, j]:.1f}",
                ha="center",
                va="center",
                fontsize=6,
                color="white" if values[i, j] > threshold else "black",
            )
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    colorbar = fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    colorbar.set_label(
        pick("その年のセッションに占める割合（%）", "Share of the year's sessions (%)", lang=lang)
    )
    colorbar.ax.tick_params(labelsize=6)
    return fig


def length_by_topic_chart(
    dialogues: pd.DataFrame,
    order: list[str],
    *,
    lang: str = "en",
    width: str | float = "full",
    height: float | None = None,
) -> Figure:
    """Two panels of horizontal box plots per topic (``order``, top to bottom): session duration in
    minutes and stored messages per session."""
    fig, axes = new_figure(width, height or 2.6, ncols=2, sharey=True)
    panels = (
        ("duration_min", ("セッション時間（分）", "Session duration (min)")),
        ("n_messages", ("セッションあたりのメッセージ数", "Messages per session")),
    )
    for ax, (column, xlabel) in zip(axes, panels):
        positions = _topic_boxes(ax, dialogues, column, order)
        label_axes(ax, lang=lang, x=xlabel)
    axes[0].set_yticks(positions, [topic_label(t, lang=lang) for t in order])
    return fig


# --------------------------------------------------------------------------- distinguishing words


def distinguishing_words_chart(
    words: pd.DataFrame,
    *,
    lang: str = "en",
    top: int = 8,
    ncols: int = 5,
    width: str | float = "full",
    height: float | None = None,
) -> Figure:
    """Small multiples, each panel on its own z axis (a small topic's bars stay readable): one panel
    per topic with its ``top`` lemmas as horizontal bars of z (``words`` from :func:`kokoro_analysis.analyses.topics.distinguishing_words_by_topic`), labelled
    by its ``display`` column (the usual written form), else by the lemma; in English each word gets
    its JMdict gloss on a second line (:func:`kokoro_analysis.text.glossary.english_gloss`)."""
    topics = list(dict.fromkeys(words["main_en"]))
    nrows = max(1, math.ceil(len(topics) / ncols))
    row_height = 2.3 if lang == "en" else 1.75  # English labels take two lines (word and gloss)
    fig, axes = new_figure(
        width, height or row_height * nrows, nrows=nrows, ncols=ncols, squeeze=False
    )
    for ax in axes.flat[len(topics) :]:
        ax.set_visible(False)
    for ax, topic in zip(axes.flat, topics):
        best = words[words["main_en"] == topic].nsmallest(top, "rank")
        positions = np.arange(len(best))[::-1]
        ax.barh(
            positions,
            best["z"],
            color=BOX_COLOR,
            edgecolor="#333333",
            linewidth=0.3,
            height=0.7,
        )
        labels = (best["display"] if "display" in best else best["lemma"]).tolist()
        if lang == "en":
            labels = [gloss_label(word, lemma) for word, lemma in zip(labels, best["lemma"])]
        ax.set_yticks(positions, labels, fontsize=6)
        # wrapped: constrained layout ignores a title's width, and the lemma labels (栗鼠（リス）) narrow the panels
        ax.set_title(_wrap(topic_label(topic, lang=lang), 12), fontsize=6.5, pad=2)
        ax.tick_params(axis="x", labelsize=6)
        ax.tick_params(axis="y", length=0, pad=1)
        ax.set_xlim(0, max(1.0, float(best["z"].max()) * 1.08) if len(best) else 1.0)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
    fig.supxlabel(
        pick(
            "z値（情報事前分布つき対数オッズ比）",
            "z (log-odds ratio, informative Dirichlet prior)",
            lang=lang,
        ),
        fontsize=7,
    )
    return fig
