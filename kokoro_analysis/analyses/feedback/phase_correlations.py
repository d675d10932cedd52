"""Session phases against the score: each phase feature
(:func:`~kokoro_analysis.analyses.feedback.session_measures.phase_features`) correlated with the
session's score per phase, all phases on the same two-way resamples (:func:`phase_resamples`), as rows
(:func:`phase_correlations`) and as the change from the first to the last phase (:func:`phase_trend`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from kokoro_analysis.analyses.feedback.resample_cache import cached_table
from kokoro_analysis.analyses.feedback.session_measures import PHASE_FEATURES, PHASES
from kokoro_analysis.analyses.feedback.uncertainty import (
    describe_family,
    describe_run,
    two_way_clusters,
    two_way_interval,
)
from kokoro_analysis.published import (
    Interval,
    TableSpec,
    Words,
    name_headline,
    register,
)
from kokoro_analysis.stats.correlation import (
    bootstrap_correlation,
    check_method,
    resampled_correlations,
)
from kokoro_analysis.stats.p_values import adjust_p_values, p_value_text
from kokoro_analysis.stats.resampling import (
    bootstrap_summary,
    resample_weights,
)


def phase_resamples(
    phase_table: pd.DataFrame,
    dialogues: pd.DataFrame,
    clusters: object | None = None,
    *,
    method: str = "spearman",
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> dict[tuple[str, str], dict]:
    """Correlation of every phase feature (:func:`~kokoro_analysis.analyses.feedback.session_measures.phase_features`) with the session's score, per phase,
    with its resampled values: ``(phase, feature) → {"n", "r", "values"}``. The resample weights are
    drawn once over the sessions of ``dialogues`` (``clusters``: a labelling or
    :class:`~kokoro_analysis.stats.resampling.TwoWay` of its rows; default the headline two-way scheme,
    :func:`~kokoro_analysis.analyses.feedback.uncertainty.two_way_clusters`) and every phase uses the same
    resamples, so differences between phases (:func:`phase_trend`) have the right joint uncertainty.
    Phases in the order of ``phase_table``; sessions without the feature in a phase are dropped there.
    Cached on the phase table, the scores, the clusters and the parameters
    (:mod:`~kokoro_analysis.analyses.feedback.resample_cache`)."""
    check_method(method)
    if clusters is None:
        clusters = two_way_clusters(dialogues)
    score = dialogues["score"]
    frame = cached_table(
        "phase-resamples",
        1,
        [phase_table, score, clusters, method, n_bootstrap, seed],
        lambda: _phase_resamples(phase_table, score, clusters, method, n_bootstrap, seed),
    )
    return {
        (row["phase"], row["feature"]): {
            "n": int(row["n"]),
            "r": float(row["r"]),
            "values": np.asarray(row["values"], dtype=float),
        }
        for row in frame.to_dict("records")
    }


def _phase_resamples(phase_table, score, clusters, method, n_bootstrap, seed) -> pd.DataFrame:
    """One row per phase and feature of :func:`phase_resamples`: ``phase``, ``feature``, ``n``, ``r``
    and the resampled ``values`` (an array per row)."""
    weights = resample_weights(len(score), n_bootstrap, seed, clusters)
    y = score.to_numpy(float)
    shared: dict = {}  # the score's resample ranks, for every phase feature with all sessions
    rows = []
    for phase in pd.unique(phase_table.index.get_level_values("phase")):  # in the table's order
        part = phase_table.xs(phase, level="phase").reindex(score.index)
        for column in PHASE_FEATURES:
            x = part[column].to_numpy(float)
            keep = np.isfinite(x) & np.isfinite(y)
            point = bootstrap_correlation(x[keep], y[keep], method=method, n_bootstrap=1)
            values = (
                resampled_correlations(x, y, weights, method=method, cache=shared)
                if keep.all()
                else resampled_correlations(x[keep], y[keep], weights[:, keep], method=method)
            )
            rows.append(
                {
                    "phase": str(phase),
                    "feature": column,
                    "n": int(keep.sum()),
                    "r": point["r"],
                    "values": values,
                }
            )
    return pd.DataFrame(rows)


def phase_correlations(
    resamples: Mapping[tuple[str, str], dict],
    *,
    correction: str = "holm",
    method: str = "spearman",
    n_bootstrap: int = 1000,
) -> pd.DataFrame:
    """One row per phase and feature of :func:`phase_resamples`: ``n``, ``r``, the percentile interval
    of its resamples (``ci_low``/``ci_high``), ``se``, ``mc_se``, ``p_boot`` (Wald test of r = 0 with
    the bootstrap SE) and ``p_adjusted`` (``correction`` over all rows of the table: one family)."""
    rows = []
    for (phase, column), result in resamples.items():
        label_ja, label_en, unit = PHASE_FEATURES[column]
        summary = bootstrap_summary(result["values"], result["r"])
        rows.append(
            {
                "phase": phase,
                "feature": column,
                "label_ja": label_ja,
                "label_en": label_en,
                "unit": unit,
                "n": result["n"],
                "r": result["r"],
                **summary,
            }
        )
    out = pd.DataFrame(rows)
    out["p_adjusted"] = adjust_p_values(out["p_boot"], correction)
    out = describe_run(out, method=method, n_bootstrap=n_bootstrap)
    name_headline(out, Interval("ci_low", "ci_high", two_way_interval(n_bootstrap)))
    return describe_family(out, correction)


def phase_trend(
    resamples: Mapping[tuple[str, str], dict],
    *,
    first: str = PHASES[0],
    last: str = PHASES[-1],
    correction: str = "holm",
    method: str = "spearman",
    n_bootstrap: int = 1000,
) -> pd.DataFrame:
    """The change of each feature's correlation with the score from the ``first`` to the ``last``
    phase, tested directly: ``difference`` = r(last) − r(first), its percentile interval from the same
    resamples (:func:`phase_resamples`), ``se``, ``mc_se``, ``p_boot`` (Wald test of no change) and
    ``p_adjusted`` (``correction`` over the features: one family)."""
    rows = []
    for column in PHASE_FEATURES:
        if (first, column) not in resamples or (last, column) not in resamples:
            continue
        early, late = resamples[(first, column)], resamples[(last, column)]
        difference = late["r"] - early["r"]
        summary = bootstrap_summary(late["values"] - early["values"], difference)
        rows.append(
            {
                "feature": column,
                "label_en": PHASE_FEATURES[column][1],
                f"r_{first}": early["r"],
                f"r_{last}": late["r"],
                "difference": difference,
                **summary,
            }
        )
    out = pd.DataFrame(rows)
    if len(out):
        out["p_adjusted"] = adjust_p_values(out["p_boot"], correction)
    out = describe_run(out, method=method, n_bootstrap=n_bootstrap)
    return describe_family(out, correction)


P_VALUE_FORMATS = {"p_boot": p_value_text, "p_adjusted": p_value_text}
"""How the phase tables print their p-values."""

PHASE_CORRELATIONS = TableSpec(
    "feedback_phase_correlations",
    title=Words(
        "Session features per phase against the score.", "セッションの段階ごとの特徴量とスコア。"
    ),
    method=Words(
        "Per phase (early, middle and late third of each session's messages) the feature computed "
        "on that phase's messages against the session's score: {correlation}; 95% percentile "
        "two-way bootstrap interval over {n_bootstrap:,} resamples of raters and counselors drawn "
        "independently (the same resamples for every phase); p_boot: two-sided Wald test of zero "
        "with the bootstrap standard error; p_adjusted: {correction}-adjusted over the "
        "{family_size} phase × feature rows (one family).",
        "段階（各セッションのメッセージの前・中・後の3分の1）ごとに、その段階のメッセージで計算した特徴量と"
        "セッションのスコアとの{correlation}。95% 区間は評価者とカウンセラーを独立に {n_bootstrap:,} 回"
        "再標本化した二元パーセンタイル・ブートストラップ（全段階で同じ再標本）。p_boot：ブートストラップ"
        "標準誤差による0の両側 Wald 検定；p_adjusted：{family_size} 行（段階 × 特徴量）を1つの族として "
        "{correction} 法で調整。",
    ),
    number_format="{:.3f}",
    thousands=True,
    formats=P_VALUE_FORMATS,
)


PHASE_TREND = TableSpec(
    "feedback_phase_trend",
    title=Words(
        "Change of each feature's correlation with the score from the early to the late third.",
        "各特徴量とスコアの相関の、前半3分の1から後半3分の1への変化。",
    ),
    method=Words(
        "Late minus early {correlation} (the feature computed on the last and on the first third "
        "of each session's messages); 95% percentile two-way bootstrap interval of the difference "
        "over {n_bootstrap:,} resamples (both thirds from the same resamples); p_boot: two-sided "
        "Wald test of no change with the bootstrap standard error; p_adjusted: {correction}-adjusted "
        "over the {family_size} features (one family).",
        "後半と前半の{correlation}の差（各セッションのメッセージの最後と最初の3分の1で計算した特徴量）。"
        "95% 区間は差の二元パーセンタイル・ブートストラップ（{n_bootstrap:,} 回、両段階で同じ再標本）。"
        "p_boot：ブートストラップ標準誤差による変化なしの両側 Wald 検定；p_adjusted：{family_size} 個の"
        "特徴量を1つの族として {correction} 法で調整。",
    ),
    number_format="{:.3f}",
    thousands=True,
    formats=P_VALUE_FORMATS,
)
TABLES = register(PHASE_CORRELATIONS, PHASE_TREND)
"""The published tables of this module by name (:class:`kokoro_analysis.published.TableSpec`)."""
