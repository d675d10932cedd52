"""Figures of the topic distribution notebook (02): the sunburst, topics against score, year and
length, and the distinguishing words per topic. Each function takes the tables computed by
:mod:`kokoro_analysis.analyses.topics` and returns a matplotlib Figure (style: :mod:`kokoro_analysis.charts.style`)."""

from __future__ import annotations

import math
import textwrap

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Wedge

from kokoro_analysis.analyses.topics import MAIN_TOPICS, OTHER_SUBTOPIC, OTHERS, topic_label
from kokoro_analysis.charts.style import new_figure
from kokoro_analysis.corpus.schema import pick

__all__ = [
    "TOPIC_COLORS",
    "distinguishing_words_chart",
    "length_by_topic_chart",
    "score_by_topic_chart",
    "share_by_year_chart",
    "sunburst_caption",
    "sunburst_chart",
    "topic_color",
]

TOPIC_COLORS: dict[str, str] = dict(
    zip(
        [t.main_en for t in MAIN_TOPICS],
        [
            "#636EFA",
            "#EF553B",
            "#00CC96",
            "#AB63FA",
            "#FFA15A",
            "#19D3F3",
            "#FF6692",
            "#B6E880",
            "#FF97FF",
            "#FECB52",
            "#BBBBBB",
        ],
    )
)
"""One colour per main topic, as in the authors' sunburst (Plotly's qualitative palette); Others grey."""


def topic_color(main_en: str) -> str:
    """The colour of a main topic (grey for unknown topics)."""
    return TOPIC_COLORS.get(main_en, "#BBBBBB")


def _tint(color: str, amount: float) -> tuple[float, float, float]:
    """``color`` mixed with white (``amount`` 0 = unchanged, 1 = white)."""
    rgb = np.array(mcolors.to_rgb(color))
    return tuple(rgb + (1 - rgb) * amount)


# --------------------------------------------------------------------------- sunburst

INNER_RADIUS, MIDDLE_RADIUS, OUTER_RADIUS = 0.30, 0.62, 1.0


def sunburst_chart(
    shares: pd.DataFrame,
    subtopics: pd.DataFrame,
    *,
    lang: str = "en",
    caption: str | None = None,
    center: str = "KokoroChat",
    min_label_deg: float = 1.3,
    width: str | float = "full",
    height: float | None = None,
) -> Figure:
    """Two-ring sunburst: inner ring = main topics (share of sessions, exact), outer ring =
    sub-topics (``subtopics`` from :func:`kokoro_analysis.analyses.topics.subtopic_counts`; arcs proportional
    to sessions, the unmatched ``other`` part of each topic pale and hatched).

    Slices start at 3 o'clock and run counter-clockwise in table order (as in the authors' figure).
    Outer labels narrower than ``min_label_deg`` degrees are left out; ``caption`` is printed
    under the plot.
    """
    total = float(shares["sessions"].sum())
    fig, ax = new_figure(width, height or (6.65 if width == "full" else 3.5))
    ax.set_aspect("equal")
    ax.set_xlim(-1.02, 1.02)
    ax.set_ylim(-1.02, 1.02)
    ax.axis("off")
    scale = 1.0 if width == "full" else 0.55  # font scale for a column-wide version
    start = 0.0
    for row in shares.itertuples(index=False):
        sweep = 360.0 * row.sessions / total
        color = topic_color(row.main_en)
        ax.add_patch(
            Wedge(
                (0, 0),
                MIDDLE_RADIUS,
                start,
                start + sweep,
                width=MIDDLE_RADIUS - INNER_RADIUS,
                facecolor=color,
                edgecolor="white",
                linewidth=0.8,
            )
        )
        if row.main_en != OTHERS:
            label = topic_label(row.main_en, lang=lang)
            _inner_label(ax, label, row.share_pct, start, sweep, scale)
        _outer_ring(
            ax,
            subtopics[subtopics["main_en"] == row.main_en],
            start,
            sweep,
            row.sessions,
            color,
            lang,
            min_label_deg,
            scale,
        )
        start += sweep
    ax.text(0, 0, center, ha="center", va="center", fontsize=14 * scale)
    if caption:
        fig.supxlabel(
            caption, fontsize=6.5 * scale, linespacing=1.25
        )  # constrained layout reserves its space
    return fig


def sunburst_caption(
    n_sessions: int, assigned_pct: float, *, lang: str = "en", min_label_deg: float = 1.3
) -> str:
    """The text printed under the sunburst (three lines): what each ring is and how approximate the
    outer one is."""
    return pick(
        f"内側: topic.main_en（全{n_sessions:,}セッションに占める割合）。\n"
        f"外側: topic.sub へのキーワード規則がセッションの{assigned_pct:.1f}%に下位トピックを割り当てた近似\n"
        f"（斜線 = 該当規則なし、{min_label_deg:g}°未満の弧はラベル省略）。",
        f"Inner ring: topic.main_en, share of {n_sessions:,} sessions.\n"
        f"Outer ring: keyword rules over topic.sub assign {assigned_pct:.1f} % of sessions; "
        f"an approximation of the authors' sub-topics\n"
        f"(hatched = no rule matched; arcs < {min_label_deg:g}° unlabelled).",
        lang=lang,
    )


def _inner_label(
    ax, label: str, share_pct: float, start: float, sweep: float, scale: float
) -> None:
    """Main-topic label with its share: horizontal inside wide slices, radial in narrow ones."""
    mid = math.radians(start + sweep / 2)
    radius = (INNER_RADIUS + MIDDLE_RADIUS) / 2
    x, y = radius * math.cos(mid), radius * math.sin(mid)
    share = f"{share_pct:.1f}%"
    if sweep >= 40:
        ax.text(
            x,
            y,
            _wrap(label, 12) + "\n" + share,
            ha="center",
            va="center",
            fontsize=9 * scale,
            linespacing=1.1,
        )
    elif sweep >= 14:
        _radial_text(ax, x, y, math.degrees(mid), _wrap(label, 14) + "\n" + share, 7.5 * scale)
    else:
        fontsize = max(3.2, min(6.5, sweep * 0.9)) * scale
        _radial_text(ax, x, y, math.degrees(mid), f"{label} {share}", fontsize)


def _wrap(label: str, width: int) -> str:
    """Break an English label at spaces only (never inside "Non-Spousal"); Japanese labels stay whole."""
    return (
        "\n".join(textwrap.wrap(label, width, break_on_hyphens=False, break_long_words=False))
        or label
    )


def _outer_ring(
    ax,
    subs: pd.DataFrame,
    start: float,
    sweep: float,
    sessions: int,
    color: str,
    lang: str,
    min_label_deg: float,
    scale: float,
) -> None:
    """Sub-topic arcs of one main topic, proportional to their sessions; labels radial."""
    angle = start
    for sub in subs.itertuples(index=False):
        if sub.sessions == 0:
            continue
        arc = sweep * sub.sessions / sessions
        other = sub.subtopic_en == OTHER_SUBTOPIC
        face = _tint(color, 0.75 if other else 0.35)
        ax.add_patch(
            Wedge(
                (0, 0),
                OUTER_RADIUS,
                angle,
                angle + arc,
                width=OUTER_RADIUS - MIDDLE_RADIUS,
                facecolor=face,
                edgecolor="white",
                linewidth=0.5,
                hatch="////" if other else None,
            )
        )
        if arc >= min_label_deg:
            label = pick(sub.subtopic_ja, sub.subtopic_en, lang=lang)
            mid = math.radians(angle + arc / 2)
            radius = (MIDDLE_RADIUS + OUTER_RADIUS) / 2
            fontsize = max(4.0, min(7.0, 2.2 + arc * 0.35)) * scale
            _radial_text(
                ax,
                radius * math.cos(mid),
                radius * math.sin(mid),
                math.degrees(mid),
                label,
                fontsize,
                italic=other,
                color="#444444" if other else "black",
            )
        angle += arc


def _radial_text(
    ax,
    x: float,
    y: float,
    angle_deg: float,
    text: str,
    fontsize: float,
    *,
    italic: bool = False,
    color: str = "black",
) -> None:
    """Text along the radius, kept upright (flipped on the left half)."""
    rotation = angle_deg % 360
    if 90 < rotation < 270:
        rotation -= 180
    ax.text(
        x,
        y,
        text,
        ha="center",
        va="center",
        rotation=rotation,
        rotation_mode="anchor",
        fontsize=fontsize,
        fontstyle="italic" if italic else "normal",
        color=color,
        linespacing=1.0,
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
    (:func:`kokoro_analysis.analyses.topics.score_by_topic`, by median), with the mean and its CI."""
    order = list(score_table["main_en"])
    fig, ax = new_figure(width, height or 2.9)
    positions = _topic_boxes(ax, dialogues, "score", order)
    ax.errorbar(
        score_table["mean"],
        positions,
        xerr=[
            score_table["mean"] - score_table["ci_low"],
            score_table["ci_high"] - score_table["mean"],
        ],
        fmt="D",
        color="black",
        markersize=2.2,
        elinewidth=0.8,
        capsize=1.5,
        zorder=5,
        label=pick("平均（95% CI）", "mean (95% CI)", lang=lang),
    )
    ax.set_yticks(
        positions,
        [f"{topic_label(t, lang=lang)} ({n:,})" for t, n in zip(order, score_table["sessions"])],
    )
    ax.set_xlabel(
        pick("クライアント評価スコア（0–100）", "Client feedback score (0–100)", lang=lang)
    )
    ax.set_xlim(-2, 102)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=1, borderaxespad=0.2)
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
    for patch, topic in zip(boxes["boxes"], order):
        patch.set_facecolor(_tint(topic_color(topic), 0.3))
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
    ax.set_xlabel(pick("年（セッション数）", "year (sessions)", lang=lang))
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
                fontsize=5.5,
                color="white" if values[i, j] > threshold else "black",
            )
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    colorbar = fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    colorbar.set_label(
        pick("その年のセッションに占める割合（%）", "share of the year's sessions (%)", lang=lang)
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
        ("duration_min", pick("セッション時間（分）", "Session duration (min)", lang=lang)),
        ("n_messages", pick("セッションあたりのメッセージ数", "Messages per session", lang=lang)),
    )
    for ax, (column, xlabel) in zip(axes, panels):
        positions = _topic_boxes(ax, dialogues, column, order)
        ax.set_xlabel(xlabel)
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
    """Small multiples: one panel per topic with its ``top`` lemmas as horizontal bars of z
    (``words`` from :func:`kokoro_analysis.analyses.topics.distinguishing_words_by_topic`), labelled by its ``display``
    column (:func:`kokoro_analysis.text.mecab.lemma_label`, e.g. 栗鼠（リス）), else by the lemma."""
    topics = list(dict.fromkeys(words["main_en"]))
    nrows = max(1, math.ceil(len(topics) / ncols))
    fig, axes = new_figure(width, height or 1.75 * nrows, nrows=nrows, ncols=ncols, squeeze=False)
    for ax in axes.flat[len(topics) :]:
        ax.set_visible(False)
    for ax, topic in zip(axes.flat, topics):
        best = words[words["main_en"] == topic].nsmallest(top, "rank")
        positions = np.arange(len(best))[::-1]
        ax.barh(
            positions,
            best["z"],
            color=_tint(topic_color(topic), 0.15),
            edgecolor="#333333",
            linewidth=0.3,
            height=0.7,
        )
        labels = best["display"] if "display" in best else best["lemma"]
        ax.set_yticks(positions, labels.tolist(), fontsize=6.5)
        # wrapped: constrained layout ignores a title's width, and the lemma labels (栗鼠（リス）) narrow the panels
        ax.set_title(_wrap(topic_label(topic, lang=lang), 16), fontsize=6.5, pad=2)
        ax.tick_params(axis="x", labelsize=5.5)
        ax.tick_params(axis="y", length=0, pad=1)
        ax.set_xlim(0, max(1.0, float(best["z"].max()) * 1.08) if len(best) else 1.0)
    fig.supxlabel(
        pick(
            "z値（情報事前分布つき対数オッズ比）",
            "z (log-odds ratio, informative Dirichlet prior)",
            lang=lang,
        ),
        fontsize=7,
    )
    return fig
