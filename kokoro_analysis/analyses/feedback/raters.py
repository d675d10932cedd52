"""Who drives the score: the rater (``client_id``) and the counselor (``counselor_id``).

* :func:`icc_table`: one-way random-effects ICC(1) per grouping (ANOVA estimator with F-based CI, and
  REML): the share (0–1) of score variance between raters, or between counselors, each grouping fitted
  alone; :func:`rater_effects_by_outcome` repeats the results, with the crossed model
  (:mod:`~kokoro_analysis.analyses.feedback.variance_components`), on the plain item sum.
* :func:`rater_influence`: leave-one-rater-out influence on a correlation; :func:`cluster_sizes`:
  sessions per rater and per counselor."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kokoro_analysis.analyses.feedback.resample_cache import cached_table
from kokoro_analysis.analyses.feedback.uncertainty import CORRELATIONS
from kokoro_analysis.analyses.feedback.variance_components import (
    GROUPING_NOUNS,
    score_variance_components,
)
from kokoro_analysis.published import (
    Column,
    Interval,
    TableSpec,
    Words,
    interval_columns,
    name_headline,
    register,
)
from kokoro_analysis.reported import Record
from kokoro_analysis.stats.correlation import cluster_jackknife, correlation_matrix
from kokoro_analysis.stats.distributions import describe_many
from kokoro_analysis.stats.icc import icc_cluster_bootstrap, icc_oneway, icc_oneway_reml

GROUPINGS = {
    "client_id": ("評価者（クライアント役）", "Rater (client_id)"),
    "counselor_id": ("カウンセラー役", "Counselor (counselor_id)"),
}


def icc_table(
    dialogues: pd.DataFrame,
    value: str = "score",
    *,
    confidence: float = 0.95,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """ICC(1) of ``value`` for the rater (``client_id``) and the counselor (``counselor_id``) groupings,
    each fitted alone (one-way random effects): ``icc`` by the ANOVA estimator
    (:func:`stats.icc.icc_oneway`) and ``icc_reml`` by REML (:func:`stats.icc.icc_oneway_reml`; the two differ
    when group sizes are unequal), each with a percentile interval from ``n_bootstrap`` resamples of
    whole groups (``ci_low``/``ci_high`` and ``ci_low_reml``/``ci_high_reml``,
    :func:`stats.icc.icc_cluster_bootstrap`; ``mc_se``: Monte Carlo error of the ends). The F-based interval
    of the ANOVA estimator is kept as ``ci_low_f``/``ci_high_f`` (approximate for unequal groups: on the
    release it excludes the REML estimate). Cached on the values, groupings and parameters
    (:mod:`~kokoro_analysis.analyses.feedback.resample_cache`)."""
    used = dialogues[[value, *GROUPINGS]]
    out = cached_table(
        "icc",
        1,
        [used, value, confidence, n_bootstrap, seed],
        lambda: _icc_table(used, value, confidence, n_bootstrap, seed),
    )
    out.attrs["n_bootstrap"] = n_bootstrap
    out.attrs["outcome"] = OUTCOMES.get(value, Words(value, value))
    means = Words(
        f"percentile bootstrap over {n_bootstrap:,} resamples of whole groups (raters for the rater "
        "row, counselors for the counselor row)",
        f"グループ（評価者の行は評価者、カウンセラーの行はカウンセラー）を単位に {n_bootstrap:,} 回"
        "再標本化したパーセンタイル・ブートストラップ",
    )
    return name_headline(out, Interval("ci_low", "ci_high", means))


def _icc_table(dialogues, value, confidence, n_bootstrap, seed) -> pd.DataFrame:
    """The table of :func:`icc_table`, computed (without its ``attrs``)."""
    rows = []
    for column, (label_ja, label_en) in GROUPINGS.items():
        try:
            anova = icc_oneway(dialogues[value], dialogues[column], confidence=confidence)
            result = {
                **{k: anova[k] for k in ("F", "df_between", "df_within", "groups", "k0")},
                "observations": anova["observations"],
                "ci_low_f": anova["ci_low"],
                "ci_high_f": anova["ci_high"],
                **icc_cluster_bootstrap(
                    dialogues[value], dialogues[column], n_bootstrap=n_bootstrap, seed=seed,
                    confidence=confidence,
                ),
            }  # fmt: skip
        except ValueError:  # too few sessions per group to estimate (e.g. a small topic)
            result = {
                **dict.fromkeys(
                    ("icc", "ci_low", "ci_high", "icc_reml", "ci_low_reml", "ci_high_reml"), np.nan
                ),
                "groups": dialogues[column].nunique(),
                "observations": len(dialogues),
            }
        rows.append(
            {
                "grouping": column,
                "label_ja": label_ja,
                "label_en": label_en,
                **result,
                "sessions_per_group": result["observations"] / max(result["groups"], 1),
            }
        )
    return pd.DataFrame(rows).set_index("grouping")


OUTCOMES = {
    "score": Words("client score", "クライアント評価スコア"),
    "item_sum": Words("item sum", "項目合計"),
}
"""How tables name an outcome of :func:`icc_table`."""


def rater_effects_by_outcome(
    dialogues: pd.DataFrame, values: Sequence[str] = ("score", "item_sum")
) -> pd.DataFrame:
    """The rater and counselor variance results for each outcome of ``values`` (the flag-driven
    ``score`` and the plain ``item_sum``): one-way ICC(1) by ANOVA and by REML per grouping
    (:func:`icc_table`) and the crossed REML shares (:func:`~kokoro_analysis.analyses.feedback.variance_components.score_variance_components`). Cached on
    the values and groupings (:mod:`~kokoro_analysis.analyses.feedback.resample_cache`)."""
    used = dialogues[[*values, *GROUPINGS]]
    values = list(values)
    return cached_table(
        "rater-effects-by-outcome", 1, [used, values], lambda: _rater_effects(used, values)
    )


def _rater_effects(dialogues: pd.DataFrame, values: list[str]) -> pd.DataFrame:
    """The table of :func:`rater_effects_by_outcome`, computed."""
    rows = []
    for value in values:
        icc = icc_table(dialogues, value, n_bootstrap=1)
        components = score_variance_components(dialogues, value).table
        row = {"outcome": value}
        for grouping, name in (("client_id", "rater"), ("counselor_id", "counselor")):
            row[f"icc_anova_{name}"] = icc.loc[grouping, "icc"]
            row[f"icc_reml_{name}"] = icc.loc[grouping, "icc_reml"]
            row[f"crossed_share_{name}"] = components.loc[grouping, "share"]
        row["crossed_share_residual"] = components.loc["residual", "share"]
        rows.append(row)
    return pd.DataFrame(rows).set_index("outcome")


def rater_influence(
    dialogues: pd.DataFrame,
    features: pd.DataFrame,
    *,
    feature: str = "client_chars",
    method: str = "spearman",
    top: int = 5,
) -> pd.DataFrame:
    """Leave-one-rater-out influence on the correlation of ``feature`` with the score (the
    rater-cluster jackknife, :func:`stats.correlation.cluster_jackknife`) for the ``top`` raters whose removal
    changes it most, each with its sessions, mean score and mean ``feature``, the correlation without
    it (``r_without``, ``change``) and the rater ICC(1) without it (ANOVA and REML). First row
    ``(all raters)``: the values on all sessions."""
    frame = pd.DataFrame(
        {"x": features[feature], "y": dialogues["score"], "rater": dialogues["client_id"]}
    ).dropna()
    leave_out = cluster_jackknife(
        frame["x"].to_numpy(), frame["y"].to_numpy(), frame["rater"], method=method
    )["clusters"]
    r_all = float(correlation_matrix(frame[["x", "y"]].to_numpy(), method)[0, 1])
    change = leave_out - r_all
    chosen = change.abs().sort_values(ascending=False, kind="mergesort").index[:top]
    rows = [_influence_row("(all raters)", frame, dialogues, r_all, r_all, len(frame))]
    for rater in chosen:
        kept = dialogues["client_id"] != rater
        rows.append(
            _influence_row(
                rater, frame[frame["rater"] == rater], dialogues[kept], leave_out[rater], r_all,
                len(frame),
            )
        )  # fmt: skip
    out = pd.DataFrame(rows).set_index("rater")
    out.attrs.update(feature=feature, raters=len(leave_out), correlation=CORRELATIONS[method])
    return out


def _influence_row(name, removed, kept, r, r_all, total) -> dict:
    """One row of :func:`rater_influence`: the ``removed`` sessions' description and the values on the
    ``kept`` dialogues."""
    return {
        "rater": str(name),
        "sessions": len(removed),
        "share_pct": 100 * len(removed) / max(total, 1),
        "mean_score": float(removed["y"].mean()),
        "mean_feature": float(removed["x"].mean()),
        "r_without": r,
        "change": r - r_all,
        **_rater_icc(kept, "without"),
    }


def _rater_icc(dialogues: pd.DataFrame, suffix: str) -> dict[str, float]:
    """Rater ICC(1) of the score by ANOVA and REML (NaN when too few sessions per rater)."""
    try:
        anova = icc_oneway(dialogues["score"], dialogues["client_id"])["icc"]
        reml = icc_oneway_reml(dialogues["score"], dialogues["client_id"])["icc"]
    except ValueError:
        anova = reml = np.nan
    return {f"icc_anova_{suffix}": anova, f"icc_reml_{suffix}": reml}


def cluster_sizes(dialogues: pd.DataFrame) -> pd.DataFrame:
    """Distribution of sessions per rater and per counselor (:func:`stats.distributions.describe_many`), with the
    largest cluster's share of all sessions (``largest_share_pct``) and the ids playing both roles
    (``both_roles``)."""
    sizes = {
        "sessions per rater": dialogues["client_id"].value_counts(),
        "sessions per counselor": dialogues["counselor_id"].value_counts(),
    }
    out = describe_many({k: v.to_numpy() for k, v in sizes.items()}, {k: "sessions" for k in sizes})
    out["largest_share_pct"] = [100 * v.max() / len(dialogues) for v in sizes.values()]
    out["largest_id"] = [str(v.idxmax()) for v in sizes.values()]
    both = set(dialogues["client_id"]) & set(dialogues["counselor_id"])
    out["both_roles"] = len(both)
    return out


def icc_records(icc: pd.DataFrame) -> list[Record]:
    """ICC(1) of the score per grouping from :func:`icc_table` (the estimable ones; not reported by
    the authors)."""
    return [
        Record(
            f"feedback.icc1.{grouping}",
            float(value),
            quantity=f"ICC(1) of the score grouped by {GROUPING_NOUNS.get(grouping, grouping)} "
            "(one-way random effects, ANOVA)",
            unit="ICC",
        )
        for grouping, value in icc["icc"].items()
        if pd.notna(value)
    ]


ICC = TableSpec(
    "feedback_icc",
    title=Words(
        "Intraclass correlation ICC(1) of the {outcome} within raters and within counselors, each "
        "grouping fitted alone (one-way random effects).",
        "評価者内・カウンセラー内の{outcome}の級内相関 ICC(1)（一元配置変量効果モデル、グループ分けごとに"
        "別々に推定）。",
    ),
    columns=(
        Column(
            "label_en",
            Words("Grouping", "グループ"),
            key_ja="label_ja",
            means=Words("what the sessions are grouped by", "セッションのまとめ方"),
        ),
        Column(
            "icc",
            Words("ICC(1)", "ICC(1)"),
            "{:.3f}",
            means=Words(
                "share of the variance between groups, ANOVA estimator with the size-adjusted "
                "group size",
                "グループ間分散の割合（グループの大きさを調整した ANOVA 推定量）",
            ),
        ),
        *interval_columns("{:.3f}"),
        Column(
            "icc_reml",
            Words("REML", "REML"),
            "{:.3f}",
            means=Words(
                "the same variance share estimated by REML (its bootstrap interval is in the CSV)",
                "同じ分散の割合の REML 推定値（ブートストラップ区間は CSV に）",
            ),
        ),
        Column(
            "groups", Words("Groups", "グループ数"), means=Words("number of groups", "グループの数")
        ),
        Column(
            "observations",
            Words("Sessions", "セッション数"),
            means=Words("sessions analysed", "分析したセッションの数"),
        ),
    ),
    width="full",
    index=False,
    thousands=True,
    records=icc_records,
)


RATER_EFFECTS_BY_OUTCOME = TableSpec(
    "feedback_rater_effects_by_outcome",
    title=Words(
        "Rater and counselor effects on the score and on the plain item sum.",
        "スコアと項目の単純合計に対する評価者・カウンセラーの効果。",
    ),
    method=Words(
        "One-way ICC(1) by ANOVA and by REML (each grouping alone) and the variance shares of the "
        "crossed REML model (rater and counselor random, the mean the only fixed effect). Score: the "
        "released total (the check flags halve or zero it); item sum: the plain sum of the 20 items.",
        "一元配置の ICC(1)（ANOVA と REML、グループ分けごとに別々）と、交差 REML モデル（評価者と"
        "カウンセラーが変量効果、固定効果は平均のみ）の分散の割合。スコア：公開された合計（確認フラグで半減"
        "または0）；項目合計：20項目の単純合計。",
    ),
)


RATER_INFLUENCE = TableSpec(
    "feedback_rater_influence",
    title=Words(
        "Leave-one-rater-out influence on the client-characters correlation.",
        "評価者を1人除いたときのクライアント文字数の相関への影響。",
    ),
    method=Words(
        "The raters whose removal changes the {correlation} of client characters with the score "
        "most (rater jackknife): their sessions, share of all sessions (%), mean score and mean "
        "client characters; the correlation without them and its change; the rater ICC(1) of the "
        "score without them (ANOVA and REML). First row: all raters.",
        "除くとクライアント文字数とスコアの{correlation}が最も変わる評価者（評価者ジャックナイフ）："
        "そのセッション数、全体に占める割合（%）、平均スコア、平均クライアント文字数；除いたときの相関と"
        "その変化；除いたときのスコアの評価者 ICC(1)（ANOVA と REML）。1行目：全評価者。",
    ),
    number_format="{:.3f}",
    thousands=True,
)


CLUSTER_SIZES = TableSpec(
    "feedback_cluster_sizes",
    title=Words(
        "Sessions per rater and per counselor.", "評価者ごと・カウンセラーごとのセッション数。"
    ),
    number_format="{:.2f}",
    thousands=True,
)
TABLES = register(ICC, RATER_EFFECTS_BY_OUTCOME, RATER_INFLUENCE, CLUSTER_SIZES)
"""The published tables of this module by name (:class:`kokoro_analysis.published.TableSpec`)."""
