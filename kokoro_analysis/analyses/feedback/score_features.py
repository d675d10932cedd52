"""Dialogue features (:mod:`~kokoro_analysis.analyses.feedback.session_measures`) against the client's
score.

* :func:`feature_correlations`: Spearman ρ or Pearson r of each feature with ``score`` and percentile
  bootstrap CIs resampling sessions and, next to them, whole raters and whole counselors
  (:func:`kokoro_analysis.stats.correlation.bootstrap_correlation`), and the within-rater
  correlation; :func:`correlation_robustness` lays these out as rows for chosen features and
  :func:`correlation_sensitivity` varies the choices behind them.
* :func:`reported_spearman`: the paper's two Spearman ρ (:data:`REPORTED_FEATURES`), always Spearman."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from kokoro_analysis.analyses.feedback.resample_cache import (
    cached_table,
    inputs_digest,
    recall,
    remember,
)
from kokoro_analysis.analyses.feedback.session_measures import FEATURES
from kokoro_analysis.analyses.feedback.uncertainty import (
    HEADLINE_CLUSTER,
    describe_family,
    describe_run,
    session_bootstrap,
    two_way_clusters,
)
from kokoro_analysis.corpus.measures import response_gaps
from kokoro_analysis.published import (
    Column,
    TableSpec,
    Words,
    interval_columns,
    register,
)
from kokoro_analysis.reported import Record
from kokoro_analysis.stats.correlation import (
    bootstrap_correlation,
    check_method,
    partial_correlation,
    resampled_partial_correlations,
    within_cluster_correlation,
)
from kokoro_analysis.stats.fixed_effects import within_correlation_definitions
from kokoro_analysis.stats.p_values import adjust_p_values, p_value_text
from kokoro_analysis.stats.resampling import (
    TwoWay,
    bootstrap_summary,
    resample_weights,
)

REPORTED_FEATURES = {
    "client_chars": "feedback.spearman_client_chars_score",
    "counselor_response_time_s": "feedback.spearman_counselor_response_time_score",
}
"""Features whose Spearman ρ with score the paper reports → key in reported.csv."""


REPORTED_NOTES = {
    "client_chars": "Spearman",
    "counselor_response_time_s": "Spearman; counselor response time = mean per session of the gaps "
    "client message → next counselor message",
}
"""The note recorded with each reported ρ (feature key → note)."""


def feature_correlations(
    features: pd.DataFrame,
    *,
    target: str = "score",
    method: str = "spearman",
    n_bootstrap: int = 1000,
    seed: int = 0,
    columns: Sequence[str] | None = None,
    clusters: Mapping[str, object] | None = None,
    within: str | None = "rater",
    headline: str = HEADLINE_CLUSTER,
    correction: str = "holm",
    bca: Iterable[str] = tuple(REPORTED_FEATURES),
) -> pd.DataFrame:
    """Correlation (``method``) of every feature column with ``target``, with percentile bootstrap 95 %
    CIs: ``ci_low``/``ci_high`` resample sessions; for every ``name → labels`` of ``clusters`` (e.g.
    :func:`~kokoro_analysis.analyses.feedback.uncertainty.cluster_labels`: two-way, rater, counselor)
    ``ci_low_<name>``/``ci_high_<name>`` resample that scheme's clusters. For the ``headline`` scheme
    (when in ``clusters``): ``se_<headline>`` (bootstrap SE), ``mc_se_<headline>`` (Monte Carlo error of
    its ends), ``p_<headline>`` (Wald test of r = 0 with that SE) and ``p_adjusted`` (``correction``,
    :func:`stats.p_values.adjust_p_values`, over this table's features: one family), and for the features in
    ``bca`` its BCa interval (``bca_low``/``bca_high``; NaN for the others). ``r_within_<within>``: the
    correlation within the clusters named ``within`` (:func:`stats.correlation.within_cluster_correlation`).
    Pairs with a missing feature are dropped. Rows in :data:`~kokoro_analysis.analyses.feedback.session_measures.FEATURES` order with labels;
    ``reported_key`` names the paper's value where there is one (Spearman only). Each resampling scheme
    draws its resample weights once and ranks ``target`` once (same numbers as separate
    :func:`stats.correlation.bootstrap_correlation` calls). ``frame.attrs``: ``n_bootstrap``, ``headline``,
    ``correction``, ``family_size``. Cached on the features, clusters and parameters
    (:func:`~kokoro_analysis.analyses.feedback.resample_cache.cached_table`)."""
    check_method(method)
    columns = [c for c in (columns or FEATURES) if c in features and c != target]
    clusters = dict(clusters or {})
    options = dict(method=method, n_bootstrap=n_bootstrap, seed=seed)
    plan = dict(within=within, headline=headline, correction=correction, bca=sorted(set(bca)))
    table = cached_table(
        "feature-correlations",
        1,
        [features[[*columns, target]], target, columns, clusters, options, plan],
        lambda: _feature_correlations(features, target, columns, clusters, options, **plan),
    )
    describe_run(
        table,
        method=method,
        n_bootstrap=n_bootstrap,
        session_interval=session_bootstrap(n_bootstrap),
    )
    return describe_family(table, correction)


def _feature_correlations(
    features, target, columns, clusters, options, *, within, headline, correction, bca
) -> pd.DataFrame:
    """The table of :func:`feature_correlations`, computed (without its ``attrs``)."""
    schemes = {None: _scheme(None), **{name: _scheme(labels) for name, labels in clusters.items()}}
    caches: dict[str | None, dict] = {name: {} for name in schemes}
    rows = []
    for column in columns:
        x, y = features[column].to_numpy(float), features[target].to_numpy(float)
        result = _bootstrap(x, y, schemes[None], options, cache=caches[None])
        result = {key: result[key] for key in ("n", "r", "ci_low", "ci_high", "n_bootstrap")}
        result.update(
            _cluster_intervals(x, y, schemes, caches, options, headline, with_bca=column in bca)
        )
        if within in clusters:
            result[f"r_within_{within}"] = within_cluster_correlation(
                x, y, clusters[within], options["method"]
            )
        rows.append(_labelled(column, options["method"], result))
    table = pd.DataFrame(rows).set_index("feature")
    if f"p_{headline}" in table:
        table["p_adjusted"] = adjust_p_values(table[f"p_{headline}"], correction)
    return table


def _labelled(column: str, method: str, result: dict) -> dict:
    """One row of :func:`feature_correlations`: the feature's labels and unit around ``result``."""
    label_ja, label_en, unit = FEATURES.get(column, (column, column, ""))
    return {
        "feature": column,
        "label_ja": label_ja,
        "label_en": label_en,
        "unit": unit,
        "method": method,
        **result,
        "reported_key": REPORTED_FEATURES.get(column, "") if method == "spearman" else "",
    }


def _cluster_intervals(
    x, y, schemes: Mapping, caches: dict, options: dict, headline: str, *, with_bca
) -> dict:
    """The interval columns of one feature row of :func:`feature_correlations`: for every cluster
    scheme of ``schemes`` (:func:`_scheme`; None, the sessions, is skipped) its bounds, and for the
    ``headline`` scheme its SE, Monte Carlo error, Wald p and (``with_bca``) BCa interval (NaN
    without)."""
    result = {}
    for name, scheme in schemes.items():
        if name is None:
            continue
        clustered = _bootstrap(
            x, y, scheme, options, cache=caches[name], bca=name == headline and with_bca
        )
        result[f"ci_low_{name}"], result[f"ci_high_{name}"] = (
            clustered["ci_low"],
            clustered["ci_high"],
        )
        if name == headline:
            result[f"se_{name}"] = clustered["se"]
            result[f"mc_se_{name}"] = clustered["mc_se"]
            result[f"p_{name}"] = clustered["p_boot"]
            result["bca_low"] = clustered.get("bca_low", np.nan)
            result["bca_high"] = clustered.get("bca_high", np.nan)
    return result


def _scheme(labels, within=None) -> tuple[bytes, object, object]:
    """A resampling scheme for :func:`_bootstrap`: the digest of its cluster ``labels`` (None:
    sessions; one labelling; a :class:`~kokoro_analysis.stats.resampling.TwoWay`) and ``within``
    labels, and the two (a labelling as an object array, so equal labels give one digest whatever
    holds them)."""
    if labels is not None and not isinstance(labels, TwoWay):
        labels = np.asarray(labels, dtype=object)
    within = None if within is None else np.asarray(within, dtype=object)
    return inputs_digest(labels, within), labels, within


def _bootstrap(x, y, scheme, options: dict, *, cache: dict, bca: bool = False) -> dict:
    """:func:`stats.correlation.bootstrap_correlation` of the float vectors x and y under ``scheme``
    (:func:`_scheme`) with ``options`` (method, n_bootstrap, seed), computed once per process for the
    same inputs (:func:`~kokoro_analysis.analyses.feedback.resample_cache.recall`): the tables of this
    module, cached apart, print some intervals more than once. ``bca`` adds the BCa interval; ``cache``
    is the function's (shared by calls with one ``y`` and one scheme)."""
    digest, labels, within = scheme
    base = inputs_digest("correlation-bootstrap", x, y, digest, options)
    found = recall(inputs_digest(base, True))
    if found is None and not bca:
        found = recall(inputs_digest(base, False))
    if found is None:
        found = bootstrap_correlation(
            x, y, **options, clusters=labels, within=within, cache=cache, bca=bca
        )
        remember(inputs_digest(base, bca), found)
    return {key: value for key, value in found.items() if bca or not key.startswith("bca_")}


def correlation_robustness(
    features: pd.DataFrame,
    clusters: Mapping[str, object],
    *,
    columns: Sequence[str] = tuple(REPORTED_FEATURES),
    target: str = "score",
    method: str = "spearman",
    n_bootstrap: int = 1000,
    seed: int = 0,
    within: str = "rater",
    persons: object | None = None,
) -> pd.DataFrame:
    """For each feature of ``columns``, the same correlation with ``target`` under each uncertainty
    model, one row each: sessions resampled; each scheme of ``clusters`` resampled (and ``persons``, a
    person-level :class:`~kokoro_analysis.stats.resampling.TwoWay`, when given); and the correlation within the
    ``within`` clusters (:func:`stats.correlation.within_cluster_correlation`) with the headline scheme resampled
    (the ``within`` clusters when there is none). Columns ``feature``, ``estimate``, ``resampled``,
    ``n``, ``r``, ``ci_low``, ``ci_high``, ``mc_se``, ``n_bootstrap``. Cached on the features,
    clusters and parameters (:mod:`~kokoro_analysis.analyses.feedback.resample_cache`)."""
    check_method(method)
    options = dict(method=method, n_bootstrap=n_bootstrap, seed=seed)
    clusters = dict(clusters)
    schemes = {**clusters, **({"persons": persons} if persons is not None else {})}
    columns = [c for c in columns if c in features]
    out = cached_table(
        "correlation-robustness",
        1,
        [features[[*columns, target]], target, columns, clusters, schemes, options, within],
        lambda: _correlation_robustness(
            features, target, columns, clusters, schemes, options, within
        ),
    )
    return describe_run(out, method=method, n_bootstrap=n_bootstrap)


def _correlation_robustness(
    features, target, columns, clusters, schemes, options, within
) -> pd.DataFrame:
    """The table of :func:`correlation_robustness`, computed (without its ``attrs``)."""
    plans = [("pooled", "sessions", None, _scheme(None))]
    plans += [
        ("pooled", _scheme_noun(name), name, _scheme(labels)) for name, labels in schemes.items()
    ]
    if within in clusters:
        unit = HEADLINE_CLUSTER if HEADLINE_CLUSTER in clusters else within
        plans.append(
            (
                f"within {within}",
                _scheme_noun(unit),
                unit,
                _scheme(clusters[unit], clusters[within]),
            )
        )
    caches: dict[str | None, dict] = {}  # by resampled unit: its weights serve both estimates
    rows = []
    for column in columns:
        x, y = features[column].to_numpy(float), features[target].to_numpy(float)
        for estimate, resampled, unit, scheme in plans:
            result = _bootstrap(x, y, scheme, options, cache=caches.setdefault(unit, {}))
            rows.append(
                {
                    "feature": column,
                    "estimate": estimate,
                    "resampled": resampled,
                    **{k: result[k] for k in ("n", "r", "ci_low", "ci_high", "mc_se")},
                    "n_bootstrap": result["n_bootstrap"],
                }
            )
    return pd.DataFrame(rows)


def _scheme_noun(name: str) -> str:
    """How the robustness table names what a scheme resamples."""
    return {"two_way": "raters and counselors", "persons": "persons (both roles)"}.get(
        name, f"{name}s"
    )


SENSITIVITY_ROWS = {
    "all sessions": "the headline: all sessions with the feature",
    "unflagged sessions": "sessions no check flag changed (score = item sum)",
    "plain item sum": "the plain sum of the 20 items instead of the score",
    "partial | messages": "partial correlation given the number of stored messages",
    "within rater (rank, then centre)": "ranks over all sessions centred on each rater's mean "
    "(the headline within-rater definition)",
    "within rater (rank within rater)": "ranks within each rater",
    "within rater and counselor": "ranks over all sessions, rater and counselor effects removed "
    "(two-way fixed effects)",
}
"""The rows of :func:`correlation_sensitivity`: name → what changes."""


def correlation_sensitivity(
    features: pd.DataFrame,
    dialogues: pd.DataFrame,
    *,
    columns: Sequence[str] = tuple(REPORTED_FEATURES),
    method: str = "spearman",
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """How much each correlation of ``columns`` with the score depends on choices, one row per
    :data:`SENSITIVITY_ROWS` entry: the score is halved or zeroed by check flags (unflagged sessions:
    ``score_branch == "sum"``; the plain ``item_sum``), long sessions have more of everything (partial
    correlation given ``n_messages``, :func:`stats.correlation.partial_correlation`), and the within-rater
    correlation has three definitions (:func:`stats.fixed_effects.within_correlation_definitions`). The first four
    rows and the headline within-rater row carry the two-way interval (raters and counselors of the
    rows used resampled, ``n_bootstrap`` resamples); the two alternative within definitions are point
    estimates. Columns ``feature``, ``label_en``, ``variant``, ``n``, ``r``, ``ci_low``, ``ci_high``,
    ``mc_se``, ``headline`` (the row the notebook reports). Cached on the features, the sessions'
    raters, counselors, flags, item sums and message counts, and the parameters
    (:mod:`~kokoro_analysis.analyses.feedback.resample_cache`)."""
    check_method(method)
    columns = [c for c in columns if c in features]
    used = dialogues[["client_id", "counselor_id", "score_branch", "item_sum", "n_messages"]]
    options = dict(method=method, n_bootstrap=n_bootstrap, seed=seed)
    out = cached_table(
        "correlation-sensitivity",
        1,
        [features[[*columns, "score"]], used, columns, options],
        lambda: _correlation_sensitivity(features, dialogues, columns, options),
    )
    return describe_run(out, method=method, n_bootstrap=n_bootstrap)


def _correlation_sensitivity(features, dialogues, columns, options) -> pd.DataFrame:
    """The table of :func:`correlation_sensitivity`, computed (without its ``attrs``)."""
    clusters = two_way_clusters(dialogues)
    unflagged = (dialogues["score_branch"] == "sum").to_numpy()
    pooled, within = _scheme(clusters), _scheme(clusters, clusters.first)
    unflagged_scheme = _scheme(clusters.take(unflagged))
    weights = resample_weights(len(dialogues), options["n_bootstrap"], options["seed"], clusters)
    caches = {"score": {"weights": weights}, "item_sum": {"weights": weights}, "unflagged": {}}
    score, item_sum = features["score"].to_numpy(float), dialogues["item_sum"].to_numpy(float)
    rows = []
    for column in columns:
        x = features[column].to_numpy(float)
        results = {
            "all sessions": _bootstrap(x, score, pooled, options, cache=caches["score"]),
            "unflagged sessions": _bootstrap(
                x[unflagged], score[unflagged], unflagged_scheme, options,
                cache=caches["unflagged"],
            ),
            "plain item sum": _bootstrap(x, item_sum, pooled, options, cache=caches["item_sum"]),
            "partial | messages": _partial_row(
                x, score, dialogues["n_messages"].to_numpy(float), clusters, weights, **options
            ),
            "within rater (rank, then centre)": _bootstrap(
                x, score, within, options, cache=caches["score"]
            ),
        }  # fmt: skip
        definitions = within_correlation_definitions(
            x, score, clusters.first, clusters.second, options["method"]
        )
        results["within rater (rank within rater)"] = {"r": definitions["rank_within"]}
        results["within rater and counselor"] = {"r": definitions["both_removed"]}
        for variant, result in results.items():
            rows.append(
                {
                    "feature": column,
                    "label_en": FEATURES[column][1],
                    "variant": variant,
                    "n": result.get("n", int(np.isfinite(x).sum())),
                    "r": result["r"],
                    **{k: result.get(k, np.nan) for k in ("ci_low", "ci_high", "mc_se")},
                    "headline": variant in ("all sessions", "within rater (rank, then centre)"),
                }
            )
    return pd.DataFrame(rows)


def _partial_row(x, y, z, clusters, weights, *, method, n_bootstrap, seed) -> dict:
    """Partial correlation of x and y given z with its two-way bootstrap summary (``weights``: the
    resamples of all rows, used when no row is dropped)."""
    keep = np.isfinite(x) & np.isfinite(y) & np.isfinite(z)
    r = partial_correlation(x[keep], y[keep], z[keep], method)
    if not keep.all():
        weights = resample_weights(int(keep.sum()), n_bootstrap, seed, clusters.take(keep))
    values = resampled_partial_correlations(x[keep], y[keep], z[keep], weights, method=method)
    return {"n": int(keep.sum()), "r": r, **bootstrap_summary(values, r)}


def reported_spearman(
    features: pd.DataFrame, target: str = "score", correlations: pd.DataFrame | None = None
) -> dict[str, float]:
    """Spearman ρ of the features the paper reports (:data:`REPORTED_FEATURES`) with ``target``,
    keyed by their reported.csv key (always Spearman, whatever method the notebook uses). Pass the
    :func:`feature_correlations` table as ``correlations`` to take ρ from it when it is Spearman."""
    if (
        correlations is not None
        and (correlations["method"] == "spearman").all()
        and set(REPORTED_FEATURES) <= set(correlations.index)
    ):
        return {
            key: float(correlations.loc[column, "r"]) for column, key in REPORTED_FEATURES.items()
        }
    out = {}
    for column, key in REPORTED_FEATURES.items():
        pair = features[[column, target]].dropna()
        out[key] = (
            float(stats.spearmanr(pair[column], pair[target])[0]) if len(pair) > 2 else float("nan")
        )
    return out


def response_time_definitions(corpus) -> pd.DataFrame:
    """Spearman ρ between score and the counselor response time under the candidate definitions:
    the per-session mean or median of the gaps of :func:`~kokoro_analysis.corpus.measures.response_gaps` (client message → next
    counselor message). Which one the paper used is not stated; the table shows how much it matters."""
    gaps = response_gaps(corpus.utterances, "counselor").groupby("dialogue_id")["gap_s"]
    scores = corpus.dialogues["score"]
    rows = []
    for name, values in (("mean per session", gaps.mean()), ("median per session", gaps.median())):
        pair = pd.DataFrame({"x": values, "score": scores}).dropna()
        rho = stats.spearmanr(pair["x"], pair["score"])[0] if len(pair) > 2 else np.nan
        rows.append({"definition": name, "sessions": len(pair), "spearman_rho": float(rho)})
    return pd.DataFrame(rows).set_index("definition")


def spearman_records(reported: dict[str, float]) -> list[Record]:
    """The paper's Spearman ρ from :func:`reported_spearman` (the estimable ones), each with its note
    (:data:`REPORTED_NOTES`)."""
    return [
        Record(key, reported[key], note=REPORTED_NOTES[feature])
        for feature, key in REPORTED_FEATURES.items()
        if pd.notna(reported[key])
    ]


ADJUSTED_P = Words(
    "two-sided Wald test of zero with the two-way bootstrap standard error, {correction}-adjusted "
    "within the table's family",
    "二元ブートストラップ標準誤差による0の両側 Wald 検定、表内の族で {correction} 法により調整",
)
"""What an adjusted p column is (its family size and correction come from ``frame.attrs``)."""


UNIT_CELLS = {
    "characters": Words("characters", "文字"),
    "messages": Words("messages", "メッセージ"),
    "turns": Words("turns", "ターン"),
    "minutes": Words("minutes", "分"),
    "seconds": Words("seconds", "秒"),
    "fraction": Words("fraction", "割合"),
}
"""The units of :data:`~kokoro_analysis.analyses.feedback.session_measures.FEATURES` as table cells."""


FEATURE_CORRELATIONS = TableSpec(
    "feedback_feature_correlations",
    title=Words(
        "Session features against the client score (0–100).",
        "セッションの特徴量とクライアント評価スコア（0〜100）。",
    ),
    columns=(
        Column(
            "label_en",
            Words("Feature", "特徴量"),
            key_ja="label_ja",
            means=Words("a measure of each session", "セッションごとの量"),
        ),
        Column(
            "unit", Words("Unit", "単位"), cells=UNIT_CELLS, means=Words("its unit", "その単位")
        ),
        Column(
            "n",
            Words("Sessions", "セッション数"),
            means=Words("sessions with a value", "値のあるセッション"),
        ),
        Column(
            "r",
            Words("{correlation}", "{correlation}"),
            "{:.3f}",
            means=Words("correlation with the score", "スコアとの相関"),
        ),
        *interval_columns("{:.3f}"),
        Column("p_adjusted", Words("p", "p"), p_value_text, means=ADJUSTED_P),
    ),
    method=Words(
        "Rows: one family of {family_size} tests.", "行：{family_size} 個の検定で1つの族。"
    ),
    width="full",
    index=False,
    thousands=True,
)


CORRELATION_ROBUSTNESS = TableSpec(
    "feedback_correlation_robustness",
    title=Words(
        "The reported correlations under each uncertainty model.",
        "報告された相関の、不確かさのモデルごとの区間。",
    ),
    method=Words(
        "{correlation} with the score; 95% percentile bootstrap interval over {n_bootstrap:,} "
        "resamples of the unit named: sessions; a rater or counselor with all its sessions; raters "
        "and counselors drawn independently, a session weighted by the product of their draws "
        "(two-way, the headline); persons drawn once for both roles. mc_se: Monte Carlo error of the "
        "interval's ends. Within rater: the values centred on each rater's mean (Spearman: ranked "
        "over all sessions first).",
        "スコアとの{correlation}。95% 区間は示した単位を {n_bootstrap:,} 回再標本化したパーセンタイル・"
        "ブートストラップ：セッション；評価者またはカウンセラーとその全セッション；評価者とカウンセラーを独立に"
        "抽出し、各セッションを両者の抽出回数の積で重み付け（二元、主要な区間）；両方の役割で1回抽出する人。"
        "mc_se：区間の端のモンテカルロ誤差。評価者内：各評価者の平均を引いた値（スピアマンでは全セッションで"
        "順位化してから）。",
    ),
)


CORRELATION_SENSITIVITY = TableSpec(
    "feedback_correlation_sensitivity",
    title=Words(
        "The reported correlations under alternative choices.",
        "報告された相関の、別の選択のもとでの値。",
    ),
    method=Words(
        "{correlation} with the score: on all sessions (headline); on the sessions no check flag "
        "changed; with the plain sum of the 20 items; partial given the number of messages; within "
        "raters as ranks over all sessions centred on each rater's mean (headline definition), as "
        "ranks within each rater, and with rater and counselor effects both removed. 95% percentile "
        "two-way bootstrap over {n_bootstrap:,} resamples where given; the two alternative "
        "within-rater definitions are point estimates.",
        "スコアとの{correlation}：全セッション（主要）；確認フラグで変わらなかったセッション；20項目の単純"
        "合計；メッセージ数を与えた偏相関；評価者内は全セッションの順位を各評価者の平均で中心化（主要な定義）、"
        "評価者内での順位、評価者とカウンセラーの効果を両方除いたもの。95% 区間は {n_bootstrap:,} 回の"
        "二元パーセンタイル・ブートストラップ（ある行のみ）；評価者内の2つの別定義は点推定。",
    ),
    number_format="{:.3f}",
    thousands=True,
)


RESPONSE_TIME_DEFINITIONS = TableSpec(
    "feedback_response_time_definitions",
    title=Words(
        "Counselor response time against the score under two per-session aggregations "
        "(Spearman ρ).",
        "セッションごとの2つの集計によるカウンセラー応答時間とスコア（スピアマンの ρ）。",
    ),
    number_format="{:.4f}",
    thousands=True,
)
TABLES = register(
    FEATURE_CORRELATIONS, CORRELATION_ROBUSTNESS, CORRELATION_SENSITIVITY, RESPONSE_TIME_DEFINITIONS
)
"""The published tables of this module by name (:class:`kokoro_analysis.published.TableSpec`)."""
