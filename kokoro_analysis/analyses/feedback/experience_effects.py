"""The counselor's experience: the how-many-th session a session is for its counselor (1 = first, by
start time, within the corpus; :func:`counselor_experience`), the mean score per bin of it
(:func:`experience_bins`) and the fixed-effects regressions with cluster-robust standard errors that
test whether the score rises with it (:func:`experience_test`)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import pandas as pd

from kokoro_analysis.analyses.feedback.uncertainty import two_way_interval
from kokoro_analysis.published import (
    Interval,
    TableSpec,
    Words,
    name_headline,
    register,
)
from kokoro_analysis.stats.distributions import group_mean_intervals, t_interval
from kokoro_analysis.stats.fixed_effects import fixed_effects_slope
from kokoro_analysis.stats.p_values import p_value_text
from kokoro_analysis.stats.resampling import TwoWay


def counselor_experience(dialogues: pd.DataFrame) -> pd.Series:
    """For each session, the how-many-th session it is for its counselor (1 = first), by
    ``start_time`` and, for equal start times, by ``dialogue_id``. Counted within ``dialogues`` (so a
    restricted corpus counts only its own sessions)."""
    order = (
        dialogues[["counselor_id", "start_time"]]
        .assign(_id=dialogues.index)
        .sort_values(["counselor_id", "start_time", "_id"], kind="mergesort")
    )
    rank = order.groupby("counselor_id").cumcount() + 1
    return rank.reindex(dialogues.index).rename("experience")


EXPERIENCE_BINS = (1, 2, 6, 11, 21, 51, 101)
"""Lower edges of the experience bins: 1, 2–5, 6–10, 11–20, 21–50, 51–100, 101+."""


def experience_bins(
    dialogues: pd.DataFrame,
    edges: Sequence[int] = EXPERIENCE_BINS,
    confidence: float = 0.95,
    *,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean score of sessions by the counselor's experience (see :func:`counselor_experience`), in bins
    starting at ``edges``, with sessions and counselors per bin, the Student-t CI (``ci_low``/
    ``ci_high``, sessions independent) and percentile bootstrap CIs (``n_bootstrap`` resamples) that
    resample the bin's raters and counselors independently (``ci_low_two_way``/``ci_high_two_way``,
    the headline) or the bin's counselors alone (``ci_low_counselor``/``ci_high_counselor``)."""
    experience = counselor_experience(dialogues)
    edges = list(edges)
    labels = [f"{lo}" if hi - lo == 1 else f"{lo}–{hi - 1}" for lo, hi in pairwise(edges)] + [
        f"{edges[-1]}+"
    ]
    bins = pd.cut(experience, [*edges, np.inf], right=False, labels=labels)
    frame = pd.DataFrame(
        {"bin": bins, "score": dialogues["score"], "counselor": dialogues["counselor_id"]}
    )
    grouped = frame.groupby("bin", observed=False)
    out = pd.DataFrame(
        {
            "first": edges,
            "sessions": grouped.size(),
            "counselors": grouped["counselor"].nunique(),
            "mean_score": grouped["score"].mean(),
            "sd": grouped["score"].std(),
        }
    )
    out["ci_low"], out["ci_high"] = t_interval(
        out["mean_score"].to_numpy(), out["sd"].to_numpy(), out["sessions"].to_numpy(), confidence
    )
    schemes = {
        "two_way": TwoWay(dialogues["client_id"], dialogues["counselor_id"]),
        "counselor": frame["counselor"],
    }
    clustered = group_mean_intervals(
        frame["score"], frame["bin"].astype(str), schemes,
        n_bootstrap=n_bootstrap, seed=seed, confidence=confidence,
    )  # fmt: skip
    out.index = out.index.astype(str)
    for name in schemes:
        for column in (f"ci_low_{name}", f"ci_high_{name}"):
            out[column] = clustered[column].reindex(out.index)
    out.index.name = "experience"
    out.attrs["n_bootstrap"] = n_bootstrap
    return name_headline(
        out, Interval("ci_low_two_way", "ci_high_two_way", two_way_interval(n_bootstrap))
    )


EXPERIENCE_DEFINITION = Words(
    "Experience: the how-many-th session of the counselor within the corpus (sessions before the "
    "corpus are unknown), ordered by session start time (ties by session ID).",
    "経験：コーパス内でそのカウンセラーの何回目のセッションか（コーパス以前のセッションは不明）、開始時刻順"
    "（同時刻はセッション ID 順）。",
)


EXPERIENCE_MODELS = {
    "within counselor; SE clustered by counselor": (("counselor_id",), ("counselor_id",)),
    "within counselor; SE clustered by counselor and rater": (
        ("counselor_id",),
        ("counselor_id", "client_id"),
    ),
    "within counselor and rater; SE clustered by counselor and rater": (
        ("counselor_id", "client_id"),
        ("counselor_id", "client_id"),
    ),
}
"""The experience regressions of :func:`experience_test`: name → (fixed effects, clusters of the SE);
the first is the headline."""


def experience_test(dialogues: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Does the score rise with counselor experience (:func:`counselor_experience`)? The
    fixed-effects regression score = α_counselor (+ α_rater) + β · experience + e, one row per model
    of :data:`EXPERIENCE_MODELS`, with cluster-robust standard errors (:func:`stats.fixed_effects.fixed_effects_slope`:
    sessions of one counselor, and of one rater, are not independent; the plain fixed-effects t test
    treats them as independent and is too confident). Columns ``model``, ``slope`` (points per session),
    ``se``, ``ci_low``/``ci_high`` (t with G − 1 df), ``p_value`` (two-sided, β = 0), ``df``,
    ``clusters`` (G), ``n``, ``headline`` (the first row)."""
    experience = counselor_experience(dialogues).astype(float)
    rows = []
    for name, (absorb, clusters) in EXPERIENCE_MODELS.items():
        try:
            fit = fixed_effects_slope(
                experience, dialogues["score"], [dialogues[c] for c in absorb],
                [dialogues[c] for c in clusters], confidence=confidence,
            )  # fmt: skip
        except (ValueError, ZeroDivisionError, np.linalg.LinAlgError):  # too few sessions
            fit = dict.fromkeys(("slope", "se", "ci_low", "ci_high", "p_value", "df"), np.nan)
        rows.append({"model": name, **fit, "headline": not rows})
    return pd.DataFrame(rows).set_index("model")


EXPERIENCE_BINS_TABLE = TableSpec(
    "feedback_experience_bins",
    title=Words("Mean score by counselor experience.", "カウンセラーの経験別の平均スコア。"),
    method=Words(
        EXPERIENCE_DEFINITION.en + " Student-t interval (sessions independent); percentile "
        "bootstraps over {n_bootstrap:,} resamples of the bin's raters and counselors drawn "
        "independently (two-way, the headline) and of the bin's counselors alone.",
        EXPERIENCE_DEFINITION.ja
        + "t 区間（セッションを独立とみなす）と、区分内の評価者とカウンセラーを独立に（二元、主要な区間）、"
        "またはカウンセラーだけを {n_bootstrap:,} 回再標本化したパーセンタイル・ブートストラップ区間。",
    ),
    number_format="{:.2f}",
    thousands=True,
)


EXPERIENCE_TEST = TableSpec(
    "feedback_experience_test",
    title=Words(
        "Does the score rise with counselor experience? Fixed-effects regressions.",
        "スコアはカウンセラーの経験とともに上がるか：固定効果回帰。",
    ),
    method=Words(
        EXPERIENCE_DEFINITION.en
        + " Score regressed on experience with one intercept per counselor "
        "(and per rater where the model says so); slope in points per session; cluster-robust "
        "standard errors (two clusterings: Cameron–Gelbach–Miller) with the small-sample factor of "
        "the dummy regression; 95% interval and two-sided p from t with G − 1 degrees of freedom "
        "(G: the fewest clusters). One test (the first row, one family of one, no correction); the "
        "other rows are sensitivity checks.",
        EXPERIENCE_DEFINITION.ja
        + "カウンセラーごと（モデルによっては評価者ごとも）の切片をもつ、経験へのスコアの回帰。傾きは"
        "1セッションあたりの点数。クラスター頑健標準誤差（二元は Cameron–Gelbach–Miller）、ダミー回帰と"
        "同じ小標本補正。95% 区間と両側 p は自由度 G − 1 の t（G：最少のクラスター数）。検定は1つ（1行目、"
        "多重性の補正なし）で、他の行は感度の確認。",
    ),
    thousands=True,
    formats={
        **{c: "{:.4f}" for c in ("slope", "se", "ci_low", "ci_high")},
        "t": "{:.2f}",
        "p_value": p_value_text,
    },
)
TABLES = register(EXPERIENCE_BINS_TABLE, EXPERIENCE_TEST)
"""The published tables of this module by name (:class:`kokoro_analysis.published.TableSpec`)."""
