"""How the feedback tables state uncertainty: the resampling schemes of their intervals (sessions,
whole raters, whole counselors, the two-way scheme that is the headline: :func:`cluster_labels`,
:func:`two_way_clusters`), what each interval is in a caption's words (:func:`cluster_interval`,
:func:`session_bootstrap`, :data:`STUDENT_T`) and the run's parameters a caption needs
(:func:`describe_run`)."""

from __future__ import annotations

import pandas as pd

from kokoro_analysis.published import Interval, Words, name_headline
from kokoro_analysis.stats.p_values import P_ADJUSTMENTS
from kokoro_analysis.stats.resampling import TwoWay

CLUSTERS = {"rater": "client_id", "counselor": "counselor_id"}
"""The two ways sessions cluster: name used in column suffixes → column of ``corpus.dialogues``."""


HEADLINE_CLUSTER = "two_way"
"""The headline resampling scheme (column suffix), the interval the paper tables and figure labels
print: raters and counselors resampled independently (:func:`two_way_clusters`)."""


CLUSTER_RESAMPLES = {
    "rater": Words(
        "whole raters, each with all their sessions", "評価者（各評価者の全セッション）を単位に"
    ),
    "counselor": Words(
        "whole counselors, each with all their sessions",
        "カウンセラー（各カウンセラーの全セッション）を単位に",
    ),
    "two_way": Words(
        "raters and, independently, counselors (two-way: each session weighted by the product of "
        "their draws)",
        "評価者とカウンセラーを独立に（二元：各セッションの重みは両者の抽出回数の積）",
    ),
}
"""What a cluster interval (``ci_low_<name>``) resamples, as a caption says it."""


CORRELATIONS = {
    "spearman": Words("Spearman ρ", "スピアマンの ρ"),
    "pearson": Words("Pearson r", "ピアソンの r"),
}
"""How tables name a correlation ``method``."""


CORRELATION_SYMBOLS = {"spearman": "ρ", "pearson": "r"}


def cluster_interval(name: str, n_bootstrap: int) -> Words:
    """What the percentile bootstrap interval of the resampling scheme ``name`` is, in words (the
    caption's meaning of its CI columns; :data:`CLUSTER_RESAMPLES`)."""
    unit = CLUSTER_RESAMPLES[name]
    return Words(
        f"percentile bootstrap over {n_bootstrap:,} resamples of {unit.en}",
        f"{unit.ja} {n_bootstrap:,} 回再標本化したパーセンタイル・ブートストラップ",
    )


def two_way_interval(n_bootstrap: int) -> Words:
    """What the headline two-way interval is, in words (:func:`cluster_interval`)."""
    return cluster_interval("two_way", n_bootstrap)


def describe_run(
    frame: pd.DataFrame,
    *,
    method: str | None = None,
    n_bootstrap: int | None = None,
    session_interval: Words | None = None,
) -> pd.DataFrame:
    """Record a table function's parameters in ``frame.attrs`` for its caption (``correlation``,
    ``symbol``, ``n_bootstrap``) and name its headline interval: the :data:`HEADLINE_CLUSTER`
    interval when the frame has it, else the session interval ``session_interval`` describes."""
    if method is not None:
        frame.attrs.update(correlation=CORRELATIONS[method], symbol=CORRELATION_SYMBOLS[method])
    if n_bootstrap is not None:
        frame.attrs["n_bootstrap"] = n_bootstrap
    low, high = f"ci_low_{HEADLINE_CLUSTER}", f"ci_high_{HEADLINE_CLUSTER}"
    if low in frame.columns and n_bootstrap is not None:
        name_headline(frame, Interval(low, high, cluster_interval(HEADLINE_CLUSTER, n_bootstrap)))
    elif session_interval is not None:
        name_headline(frame, Interval("ci_low", "ci_high", session_interval))
    return frame


def session_bootstrap(n_bootstrap: int) -> Words:
    """What the session bootstrap interval is, in words."""
    return Words(
        f"percentile bootstrap over {n_bootstrap:,} resamples of sessions",
        f"セッションを {n_bootstrap:,} 回再標本化したパーセンタイル・ブートストラップ",
    )


STUDENT_T = Words(
    "Student-t interval, sessions taken as independent", "t 区間（セッションを独立とみなす）"
)


def two_way_clusters(dialogues: pd.DataFrame, *, persons: bool = False) -> TwoWay:
    """The rater (``client_id``) and the counselor (``counselor_id``) of each session for the two-way
    cluster bootstrap (:func:`stats.resampling.two_way_bootstrap_counts`). The headline scheme is crossed
    (``persons=False``): the two are resampled independently, the established bootstrap for crossed
    factors; it reduces to the one-way cluster bootstrap when one factor is constant (a run of one
    counselor). The person-level scheme (``persons=True``: each person drawn once for both roles, since
    most ids play both) gives nearly the same intervals on the release (ρ of client characters:
    [0.335, 0.507] against [0.326, 0.505], 1,000 resamples) and is shown as a check."""
    return TwoWay(dialogues["client_id"], dialogues["counselor_id"], persons=persons)


def cluster_labels(dialogues: pd.DataFrame) -> dict[str, object]:
    """The resampling schemes of the notebooks' intervals, keyed by column suffix: ``two_way``
    (:data:`HEADLINE_CLUSTER`, :func:`two_way_clusters`), then the rater (``client_id``) and the counselor
    (``counselor_id``) alone, each with all its sessions."""
    return {
        HEADLINE_CLUSTER: two_way_clusters(dialogues),
        **{name: dialogues[column] for name, column in CLUSTERS.items()},
    }


def describe_family(frame: pd.DataFrame, correction: str) -> pd.DataFrame:
    """Record in ``frame.attrs`` how its p-values were adjusted (for the caption): ``correction``
    (the method's name) and ``family_size`` (the rows with a p-value: one family)."""
    size = int(frame["p_adjusted"].notna().sum()) if "p_adjusted" in frame else len(frame)
    frame.attrs.update(correction=P_ADJUSTMENTS[correction], family_size=size)
    return frame
