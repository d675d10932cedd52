"""Who drives the score: the rater (``client_id``), the counselor (``counselor_id``) and the counselor's
experience.

* :func:`icc_table`: one-way random-effects ICC(1) per grouping (ANOVA estimator with F-based CI, and
  REML): the share (0–1) of score variance between raters, or between counselors, each grouping fitted
  alone; :func:`rater_effects_by_outcome` repeats the results on the plain item sum.
* :func:`score_variance_components`: REML variance components (points²) and their shares of the crossed
  model score = μ + rater + counselor + residual, both factors random.
* :func:`counselor_experience`: the how-many-th session a session is for its counselor (1 = first, by start
  time, within the corpus); :func:`experience_bins` gives the mean score per bin of it and
  :func:`experience_correlation` the pooled correlation and the within-counselor fixed-effects
  regression, with session and counselor bootstrap CIs.

Conventions as in :mod:`kokoro_analysis.analyses.feedback.scores`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import minimize

from kokoro_analysis.analyses.feedback.scores import CORRELATIONS, two_way_interval
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
from kokoro_analysis.stats import (
    TwoWay,
    cluster_jackknife,
    correlation_matrix,
    describe_many,
    fixed_effects_slope,
    group_mean_intervals,
    icc_cluster_bootstrap,
    icc_oneway,
    icc_oneway_reml,
    p_value_text,
    t_interval,
)

# --------------------------------------------------------------------------- 6. who drives the score


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
    (:func:`stats.icc_oneway`) and ``icc_reml`` by REML (:func:`stats.icc_oneway_reml`; the two differ
    when group sizes are unequal), each with a percentile interval from ``n_bootstrap`` resamples of
    whole groups (``ci_low``/``ci_high`` and ``ci_low_reml``/``ci_high_reml``,
    :func:`stats.icc_cluster_bootstrap`; ``mc_se``: Monte Carlo error of the ends). The F-based interval
    of the ANOVA estimator is kept as ``ci_low_f``/``ci_high_f`` (approximate for unequal groups: on the
    release it excludes the REML estimate)."""
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
    out = pd.DataFrame(rows).set_index("grouping")
    out.attrs["n_bootstrap"] = n_bootstrap
    out.attrs["outcome"] = OUTCOMES.get(value, Words(value, value))
    means = Words(
        f"percentile bootstrap over {n_bootstrap:,} resamples of whole groups (raters for the rater "
        "row, counselors for the counselor row)",
        f"グループ（評価者の行は評価者、カウンセラーの行はカウンセラー）を単位に {n_bootstrap:,} 回"
        "再標本化したパーセンタイル・ブートストラップ",
    )
    return name_headline(out, Interval("ci_low", "ci_high", means))


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
    (:func:`icc_table`) and the crossed REML shares (:func:`score_variance_components`)."""
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
    out = pd.DataFrame(rows).set_index("outcome")
    return out


@dataclass(frozen=True)
class VarianceComponents:
    """A crossed random-effects fit (:func:`crossed_variance_components`)."""

    table: pd.DataFrame
    """One row per component (the two factors, then ``residual``): ``variance``, ``share`` (of their
    sum), ``levels``; NaN variances when the model is not estimable."""
    mean: float
    """Fitted (GLS) mean of the values (NaN when not estimable)."""
    converged: bool
    reml_criterion: float
    """Profiled −2 REML log-likelihood without constants at the optimum."""
    note: str = ""
    """Why the model is not estimable (``""`` when it is)."""


def crossed_variance_components(
    values, factor_a, factor_b, *, names: tuple[str, str] = ("a", "b")
) -> VarianceComponents:
    """REML variance components of the crossed random-effects model

        y = μ + a_(factor_a) + b_(factor_b) + e,   a ~ N(0, σ²_a), b ~ N(0, σ²_b), e ~ N(0, σ²_e)

    for unbalanced data (each observation has one level of each factor). With γ = σ² / σ²_e, the
    random-effects design Z = [Z_a Z_b], Γ = diag(γ_a I, γ_b I) and H = I + Z Γ Z' (so Var y = σ²_e H),
    the profiled REML criterion

        −2 ℓ_R = (N − 1) log σ̂²_e + log |H| + log(1' H⁻¹ 1) + const,   σ̂²_e = r' H⁻¹ r / (N − 1),

    r = y − μ̂ (GLS mean), is evaluated without any N × N matrix: |H| = |M| with
    M = I + Γ^½ Z'Z Γ^½ (determinant lemma), u' H⁻¹ v = u'v − (Γ^½ Z'u)' M⁻¹ (Γ^½ Z'v) (Woodbury),
    and M is split into its diagonal block (factor a) and the Schur complement of the other block.
    The criterion is minimised over √γ_a, √γ_b ≥ 0 (L-BFGS-B, so a zero component is allowed). For a
    balanced design with positive ANOVA estimates REML equals the ANOVA estimator. Returns one row per
    component (``names`` and ``residual``) with ``variance``, ``share`` (of their sum) and ``levels``,
    with the fitted mean and whether the optimiser converged (:class:`VarianceComponents`)."""
    frame = pd.DataFrame(
        {"y": np.asarray(values, dtype=float), "a": np.asarray(factor_a), "b": np.asarray(factor_b)}
    ).dropna()
    model = _CrossedModel(
        frame["y"].to_numpy(),
        pd.factorize(frame["a"], sort=True)[0],
        pd.factorize(frame["b"], sort=True)[0],
    )
    start = []
    for codes in (model.a, model.b):
        icc = icc_oneway(model.y, codes)["icc"]
        start.append(np.sqrt(min(max(icc, 0.01), 0.9) / (1 - min(max(icc, 0.01), 0.9))))
    best = None
    with _single_blas_thread():  # small dense matrices: BLAS threads cost more than they save
        for x0 in (np.array(start), np.array([0.3, 0.3])):
            fit = minimize(model.criterion, x0, method="L-BFGS-B", bounds=[(0, 50), (0, 50)])
            if best is None or fit.fun < best.fun:
                best = fit
    residual, mean = model.residual_variance(best.x)
    variances = {
        names[0]: best.x[0] ** 2 * residual,
        names[1]: best.x[1] ** 2 * residual,
        "residual": residual,
    }
    total = sum(variances.values())
    out = pd.DataFrame(
        {
            "variance": variances,
            "share": {k: v / total for k, v in variances.items()},
            "levels": {names[0]: model.qa, names[1]: model.qb, "residual": model.n},
        }
    )
    out.index.name = "component"
    return VarianceComponents(out, float(mean), bool(best.success), float(best.fun))


def _single_blas_thread():
    """Limit BLAS to one thread when threadpoolctl (installed with scikit-learn) is available."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn always brings it
        return contextlib.nullcontext()
    return threadpool_limits(1)


class _CrossedModel:
    """Sufficient statistics of y = μ + a + b + e and its profiled REML criterion (see
    :func:`crossed_variance_components`)."""

    def __init__(self, y: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        self.y, self.a, self.b, self.n = y, a, b, len(y)
        self.qa, self.qb = int(a.max()) + 1, int(b.max()) + 1
        if self.qa < 2 or self.qb < 2 or self.n <= self.qa + self.qb:
            raise ValueError("need at least 2 levels per factor and more observations than levels")
        self.na = np.bincount(a, minlength=self.qa).astype(float)  # diagonal of Z_a'Z_a
        self.nb = np.bincount(b, minlength=self.qb).astype(float)
        self.cross = np.zeros((self.qa, self.qb))  # Z_a'Z_b: sessions per (a, b) pair
        np.add.at(self.cross, (a, b), 1)
        self.sum_a = np.bincount(a, weights=y, minlength=self.qa)  # Z_a'y
        self.sum_b = np.bincount(b, weights=y, minlength=self.qb)
        self.yy, self.sum_y = float(y @ y), float(y.sum())

    def _forms(self, root_gamma: np.ndarray) -> tuple[float, float, float, float]:
        """log|M|, 1'H⁻¹1, 1'H⁻¹y, y'H⁻¹y at √γ = ``root_gamma``."""
        sa, sb = float(root_gamma[0]), float(root_gamma[1])
        diag_a = 1 + sa * sa * self.na  # M_aa (diagonal)
        off = sa * sb * self.cross  # M_ab
        schur = np.eye(self.qb) + np.diag(sb * sb * self.nb) - off.T @ (off / diag_a[:, None])
        chol = cho_factor(schur, lower=True)
        logdet = float(np.log(diag_a).sum() + 2 * np.log(np.diag(chol[0])).sum())
        va = np.column_stack([sa * self.na, sa * self.sum_a])  # Γ^½ Z_a' [1, y]
        vb = np.column_stack([sb * self.nb, sb * self.sum_b])
        scaled = va / diag_a[:, None]
        rest = vb - off.T @ scaled
        quad = va.T @ scaled + rest.T @ cho_solve(chol, rest)  # [1, y]' Z Γ^½ M⁻¹ Γ^½ Z' [1, y]
        return logdet, self.n - quad[0, 0], self.sum_y - quad[0, 1], self.yy - quad[1, 1]

    def residual_variance(self, root_gamma: np.ndarray) -> tuple[float, float]:
        """σ̂²_e and the GLS mean μ̂ at √γ = ``root_gamma``."""
        _, one_h1, one_hy, y_hy = self._forms(root_gamma)
        return (y_hy - one_hy**2 / one_h1) / (self.n - 1), one_hy / one_h1

    def criterion(self, root_gamma: np.ndarray) -> float:
        """Profiled −2 REML log-likelihood without constants."""
        logdet, one_h1, one_hy, y_hy = self._forms(root_gamma)
        rss = y_hy - one_hy**2 / one_h1
        return float((self.n - 1) * np.log(rss / (self.n - 1)) + logdet + np.log(one_h1))


def score_variance_components(dialogues: pd.DataFrame, value: str = "score") -> VarianceComponents:
    """:func:`crossed_variance_components` of ``value`` with the rater (``client_id``) and the counselor
    (``counselor_id``) as crossed random factors. When the data cannot identify the model (too few
    sessions or levels) the variances are NaN and ``note`` says why; the table's
    declaration (:data:`VARIANCE_COMPONENTS`) states the model."""
    try:
        fit = crossed_variance_components(
            dialogues[value],
            dialogues["client_id"],
            dialogues["counselor_id"],
            names=("client_id", "counselor_id"),
        )
        return fit
    except ValueError as error:
        out = pd.DataFrame(
            {
                "variance": np.nan,
                "share": np.nan,
                "levels": [
                    dialogues["client_id"].nunique(),
                    dialogues["counselor_id"].nunique(),
                    len(dialogues),
                ],
            },
            index=pd.Index(["client_id", "counselor_id", "residual"], name="component"),
        )
        return VarianceComponents(
            out, np.nan, converged=False, reml_criterion=np.nan, note=f"not estimable: {error}"
        )


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
    of :data:`EXPERIENCE_MODELS`, with cluster-robust standard errors (:func:`stats.fixed_effects_slope`:
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


# --------------------------------------------------------------------------- influence


def rater_influence(
    dialogues: pd.DataFrame,
    features: pd.DataFrame,
    *,
    feature: str = "client_chars",
    method: str = "spearman",
    top: int = 5,
) -> pd.DataFrame:
    """Leave-one-rater-out influence on the correlation of ``feature`` with the score (the
    rater-cluster jackknife, :func:`stats.cluster_jackknife`) for the ``top`` raters whose removal
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
    """Distribution of sessions per rater and per counselor (:func:`stats.describe_many`), with the
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


# --------------------------------------------------------------------------- reproduction records


_READER_NAMES = {"client_id": "client", "counselor_id": "counselor"}
_METHOD_LABELS = {"spearman": "Spearman ρ", "pearson": "Pearson r"}


"""How the report names a grouping column."""


def icc_records(icc: pd.DataFrame) -> list[Record]:
    """ICC(1) of the score per grouping from :func:`icc_table` (the estimable ones; not reported by
    the authors)."""
    return [
        Record(
            f"feedback.icc1.{grouping}",
            float(value),
            quantity=f"ICC(1) of the score grouped by {_READER_NAMES.get(grouping, grouping)} "
            "(one-way random effects, ANOVA)",
            unit="ICC",
        )
        for grouping, value in icc["icc"].items()
        if pd.notna(value)
    ]


def variance_component_records(components: VarianceComponents) -> list[Record]:
    """The rater's and the counselor's share of score variance from :func:`score_variance_components`
    (none when the model is not estimable; not reported by the authors)."""
    if components.note:
        return []
    shares = components.table.loc[["client_id", "counselor_id"], "share"]
    return [
        Record(
            f"feedback.reml_share.{name}",
            float(share),
            quantity=f"Share of score variance due to the {_READER_NAMES.get(name, name)} "
            "(crossed REML)",
            unit="fraction",
        )
        for name, share in shares.items()
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
VARIANCE_COMPONENTS = TableSpec(
    "feedback_variance_components",
    title=Words(
        "Variance components of the client score: rater, counselor and residual.",
        "クライアント評価スコアの分散成分：評価者、カウンセラー、残差。",
    ),
    method=Words(
        "REML fit of the crossed model score = μ + rater + counselor + residual (the mean the only "
        "fixed effect, both factors random, residuals independent); share: the component over the "
        "sum of the three. No interval.",
        "交差モデル スコア = μ + 評価者 + カウンセラー + 残差 の REML 推定（固定効果は平均のみ、"
        "両因子は変量効果、残差は独立）。割合：3成分の合計に対する各成分。区間なし。",
    ),
    number_format="{:.3f}",
    thousands=True,
)
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
TABLES = register(
    ICC,
    RATER_EFFECTS_BY_OUTCOME,
    VARIANCE_COMPONENTS,
    EXPERIENCE_BINS_TABLE,
    EXPERIENCE_TEST,
    RATER_INFLUENCE,
    CLUSTER_SIZES,
)
"""The published tables of this module by name (:class:`kokoro_analysis.published.TableSpec`)."""
