"""REML variance components (points²) and their shares of the crossed model score = μ + rater +
counselor + residual, both factors random (:func:`crossed_variance_components`,
:func:`score_variance_components`)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import minimize

from kokoro_analysis.analyses.feedback.resample_cache import inputs_digest, recall, remember
from kokoro_analysis.published import (
    TableSpec,
    Words,
    register,
)
from kokoro_analysis.reported import Record
from kokoro_analysis.stats.icc import icc_oneway

GROUPING_NOUNS = {"client_id": "client", "counselor_id": "counselor"}
"""How the reproduction report names a grouping column."""


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
    # small dense matrices: BLAS threads cost more than they save, and one thread gives the same
    # last digits whatever the machine's core count
    with _single_blas_thread():
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
    declaration (:data:`VARIANCE_COMPONENTS`) states the model. Fitted once per process for the same
    values, raters and counselors (notebook 03 shows the fit and, in another table, its shares;
    :func:`~kokoro_analysis.analyses.feedback.resample_cache.recall`); each call gets its own table."""
    used = dialogues[[value, "client_id", "counselor_id"]]
    key = inputs_digest("score-variance-components", used)
    fit = recall(key)
    if fit is None:
        fit = _score_variance_components(used, value)
        remember(key, fit)
    return replace(fit, table=fit.table.copy())


def _score_variance_components(dialogues: pd.DataFrame, value: str) -> VarianceComponents:
    """:func:`score_variance_components`, fitted."""
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
            quantity=f"Share of score variance due to the {GROUPING_NOUNS.get(name, name)} "
            "(crossed REML)",
            unit="fraction",
        )
        for name, share in shares.items()
    ]


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
TABLES = register(VARIANCE_COMPONENTS)
"""The published tables of this module by name (:class:`kokoro_analysis.published.TableSpec`)."""
