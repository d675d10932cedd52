"""The total score, the 20 items and their reliability, and the check flags: the score's distribution
(:func:`score_summary`) and rule (:func:`score_rule_table`), answers per item
(:func:`item_distribution`), item means and item–rest correlations (:func:`item_statistics`),
Cronbach's and ordinal alpha (:func:`alpha_table`), flags and their topics (:func:`flag_table`,
:func:`flag_topics`); with their reproduction records and published tables."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from kokoro_analysis.analyses.feedback.resample_cache import cached_table
from kokoro_analysis.analyses.feedback.uncertainty import STUDENT_T, describe_run, session_bootstrap
from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.schema import ITEM_KEYS
from kokoro_analysis.published import Column, TableSpec, Words, interval_columns, register
from kokoro_analysis.reported import Record
from kokoro_analysis.stats.correlation import check_method, correlation_matrix
from kokoro_analysis.stats.distributions import t_interval
from kokoro_analysis.stats.ordinal import polychoric_matrix, standardized_alpha
from kokoro_analysis.stats.resampling import percentile_interval, resample_weights


def score_summary(scores: pd.Series) -> pd.DataFrame:
    """Distribution of the 0–100 score: n, mean, SD (ddof 1), median, skewness (adjusted
    Fisher–Pearson G1), excess kurtosis (G2), min, percentiles (linear interpolation) and max."""
    values = np.asarray(scores, dtype=float)
    if values.size == 0:
        raise ValueError("no scores")
    percentiles = (5, 10, 25, 75, 90, 95)
    rows = [
        ("n", "sessions", float(values.size)),
        ("mean", "points", values.mean()),
        ("sd", "points", values.std(ddof=1) if values.size > 1 else np.nan),
        ("median", "points", float(np.median(values))),
        ("skewness", "G1", float(stats.skew(values, bias=False)) if values.size > 2 else np.nan),
        (
            "excess_kurtosis",
            "G2",
            float(stats.kurtosis(values, bias=False)) if values.size > 3 else np.nan,
        ),
        ("min", "points", values.min()),
        *((f"p{p}", "points", float(np.percentile(values, p))) for p in percentiles),
        ("max", "points", values.max()),
    ]
    frame = pd.DataFrame(rows, columns=["statistic", "unit", "value"]).set_index("statistic")
    order = [
        "n",
        "mean",
        "sd",
        "median",
        "skewness",
        "excess_kurtosis",
        "min",
        "p5",
        "p10",
        "p25",
        "p75",
        "p90",
        "p95",
        "max",
    ]
    return frame.loc[order]


BRANCH_RULES = {
    "sum": "score = item sum (no flag set)",
    "halved": "score = floor(item sum / 2) (unwilling_to_continue set, no other flag)",
    "zeroed": "score = 0 (harmful_due_to_ignorance or other_potentially_unethical set)",
}
"""One line per branch of :data:`schema.SCORE_RULE`."""


def score_rule_table(dialogues: pd.DataFrame) -> pd.DataFrame:
    """Sessions per branch of the score rule: count, share (%), how many a plain item sum would get
    wrong (``score != item_sum``), mean item sum and mean score, and whether the rule reproduces
    ``score`` on every session of the branch (``item_sum`` and ``score_branch``: the loader's columns).
    Last row: all sessions."""
    flags = dialogues[list(schema.FLAG_KEYS)].to_numpy(dtype=bool).T
    item_sum = dialogues["item_sum"].astype(float)
    expected = pd.Series(schema.expected_score(item_sum.to_numpy(), *flags), index=dialogues.index)
    frame = pd.DataFrame(
        {
            "branch": dialogues["score_branch"],
            "score": dialogues["score"],
            "item_sum": item_sum,
            "wrong": dialogues["score"] != item_sum,
            "holds": dialogues["score"] == expected,
        }
    )
    rows = []
    for name, part in [*((b, frame[frame["branch"] == b]) for b in BRANCH_RULES), ("all", frame)]:
        rows.append(
            {
                "branch": name,
                "rule": BRANCH_RULES.get(name, "as above, by branch"),
                "sessions": len(part),
                "share_pct": 100 * len(part) / max(len(frame), 1),
                "plain_sum_wrong": int(part["wrong"].sum()),
                "mean_item_sum": part["item_sum"].mean() if len(part) else np.nan,
                "mean_score": part["score"].mean() if len(part) else np.nan,
                "rule_holds": int(part["holds"].sum()),
            }
        )
    return pd.DataFrame(rows).set_index("branch")


def item_distribution(dialogues: pd.DataFrame) -> pd.DataFrame:
    """Sessions answering 0, 1, …, 5 on each item (rows: items in questionnaire order, with number,
    labels and block)."""
    answers = schema.item_matrix(dialogues, dtype=float).astype(int)
    levels = range(schema.ITEM_MIN, schema.ITEM_MAX + 1)
    counts = np.stack([(answers == level).sum(axis=0) for level in levels], axis=1)
    frame = schema.item_frame()
    for j, level in enumerate(levels):
        frame[str(level)] = counts[:, j]
    return frame


def cronbach_alpha(items: np.ndarray) -> float:
    """Cronbach's alpha of a (sessions × k items) matrix:

        α = k / (k − 1) · (1 − Σ_i s²_i / s²_T)

    with s²_i the variance of item i and s²_T the variance of the row sums (same ddof for both, so the
    ddof cancels). Rows with a missing answer are dropped. NaN when k < 2 or s²_T = 0."""
    matrix = np.asarray(items, dtype=float)
    if matrix.ndim != 2:
        raise ValueError("items must be a 2-D (sessions × items) array")
    matrix = matrix[~np.isnan(matrix).any(axis=1)]
    k = matrix.shape[1]
    if k < 2 or len(matrix) < 2:
        return float("nan")
    total_var = matrix.sum(axis=1).var(ddof=1)
    if total_var == 0:
        return float("nan")
    return float(_alpha(k, matrix.var(axis=0, ddof=1).sum(), total_var))


def _alpha(k: int, item_var_sum, total_var):
    """The alpha formula from the summed item variances and the variance of the sums (scalars or arrays)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return k / (k - 1) * (1 - item_var_sum / total_var)


def _weighted_alpha(matrix: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Cronbach's alpha of every resample given by ``weights`` (B × n counts, best as floats: the moments
    are sums of integers, exact in any order, and a float product is a fast BLAS product):
    :func:`cronbach_alpha` with each resample's variances from weighted moments, all read from one
    product of the weights with [1, items, items², sum, sum²]."""
    k = matrix.shape[1]
    total = matrix.sum(axis=1)
    design = np.column_stack([np.ones(len(matrix)), matrix, matrix**2, total, total**2])
    moments = weights @ design  # one pass over the weights
    n = moments[:, :1]
    mean_items = moments[:, 1 : k + 1] / n
    item_var = moments[:, k + 1 : 2 * k + 1] / n - mean_items**2
    total_var = moments[:, -1] / n[:, 0] - (moments[:, -2] / n[:, 0]) ** 2
    return _alpha(k, item_var.sum(axis=1), total_var)


def alpha_table(
    dialogues: pd.DataFrame,
    *,
    method: str = "spearman",
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    clusters: Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """Cronbach's alpha per block and over all 20 items with percentile bootstrap CIs (``ci_low``/
    ``ci_high``: sessions resampled; ``ci_low_<name>``/``ci_high_<name>`` for each ``name → labels`` of
    ``clusters``: whole clusters resampled), the mean inter-item correlation (``method``), and the
    items read as ordinal: the mean inter-item polychoric correlation and *ordinal alpha*
    (standardised alpha of the polychoric matrix, :func:`stats.ordinal.standardized_alpha`).
    Cached on the answers, clusters and parameters
    (:func:`~kokoro_analysis.analyses.feedback.resample_cache.cached_table`)."""
    check_method(method)
    clusters = dict(clusters or {})
    out = cached_table(
        "alpha",
        1,
        [
            schema.item_matrix(dialogues, dtype=float),
            method,
            n_bootstrap,
            seed,
            confidence,
            clusters,
        ],
        lambda: _alpha_table(dialogues, method, n_bootstrap, seed, confidence, clusters),
    )
    return describe_run(
        out, method=method, n_bootstrap=n_bootstrap, session_interval=session_bootstrap(n_bootstrap)
    )


def _alpha_table(dialogues, method, n_bootstrap, seed, confidence, clusters) -> pd.DataFrame:
    """The table of :func:`alpha_table`, computed (without its ``attrs``)."""
    table = schema.item_table()
    groups = [(block, list(table.index[table["block"] == block])) for block in schema.BLOCKS]
    groups.append(("all", list(ITEM_KEYS)))
    schemes = {None: None, **clusters}
    weights = {  # float once: the products below are then BLAS products of exact integer sums
        name: resample_weights(len(dialogues), n_bootstrap, seed, labels).astype(float)
        for name, labels in schemes.items()
    } if len(dialogues) > 1 else {}  # fmt: skip
    polychoric = polychoric_matrix(schema.item_matrix(dialogues, dtype=float))
    position = {key: i for i, key in enumerate(ITEM_KEYS)}
    rows = []
    for name, keys in groups:
        matrix = schema.item_matrix(dialogues, keys, dtype=float)
        row = {
            "block": name,
            "block_ja": schema.BLOCKS[name][0] if name in schema.BLOCKS else "全20項目",
            "block_en": schema.BLOCKS[name][1] if name in schema.BLOCKS else "All 20 items",
            "items": len(keys),
            "sessions": len(matrix),
            "alpha": cronbach_alpha(matrix),
        }
        for scheme in schemes:
            suffix = "" if scheme is None else f"_{scheme}"
            low = high = np.nan
            if scheme in weights:
                low, high = percentile_interval(
                    _weighted_alpha(matrix, weights[scheme]), confidence
                )
            row[f"ci_low{suffix}"], row[f"ci_high{suffix}"] = low, high
        block = polychoric[np.ix_([position[k] for k in keys], [position[k] for k in keys])]
        rows.append({**row, **_inter_item_means(matrix, block, method)})
    return pd.DataFrame(rows).set_index("block")


def _inter_item_means(matrix: np.ndarray, polychoric: np.ndarray, method: str) -> dict[str, float]:
    """The mean inter-item correlation (``method``) of the answers ``matrix``, the mean of the items'
    ``polychoric`` matrix and its standardised (ordinal) alpha; NaN where undefined."""
    k = matrix.shape[1]
    corr = correlation_matrix(matrix, method) if len(matrix) > 1 else np.full((k, k), np.nan)
    off = corr[np.triu_indices(k, 1)]
    polychoric_off = polychoric[np.triu_indices(k, 1)]
    defined = np.isfinite(polychoric_off).any()
    return {
        "mean_inter_item_r": float(np.nanmean(off)) if np.isfinite(off).any() else np.nan,
        "mean_inter_item_polychoric": float(np.nanmean(polychoric_off)) if defined else np.nan,
        "ordinal_alpha": standardized_alpha(polychoric) if defined else np.nan,
    }


def item_statistics(
    dialogues: pd.DataFrame,
    method: str = "spearman",
    confidence: float = 0.95,
    *,
    clusters: Mapping[str, pd.Series] | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Per item: mean with Student-t CI (sessions independent), SD, the corrected item–total
    correlation (``method``; the item against the sum of the other 19 items) and Cronbach's alpha of
    the 20 items without it. For every ``name → labels`` of ``clusters`` the mean also gets a
    percentile bootstrap CI resampling whole clusters (``ci_low_<name>``/``ci_high_<name>``,
    ``n_bootstrap`` resamples). The declaration :data:`ITEM_STATISTICS` states the methods."""
    matrix = schema.item_matrix(dialogues, dtype=float)
    n = len(matrix)
    mean, sd = (
        matrix.mean(axis=0),
        matrix.std(axis=0, ddof=1) if n > 1 else np.full(matrix.shape[1], np.nan),
    )
    low, high = t_interval(mean, sd, np.full_like(mean, n), confidence)
    total = matrix.sum(axis=1)
    rest_r = []
    for j in range(matrix.shape[1]):
        pair = np.column_stack([matrix[:, j], total - matrix[:, j]])
        rest_r.append(correlation_matrix(pair, method)[0, 1] if n > 2 else np.nan)
    alpha_without = [cronbach_alpha(np.delete(matrix, j, axis=1)) for j in range(matrix.shape[1])]
    frame = schema.item_frame()
    frame["n"] = n
    frame["mean"], frame["sd"], frame["ci_low"], frame["ci_high"] = mean, sd, low, high
    for name, labels in (clusters or {}).items():
        weights = resample_weights(n, n_bootstrap, seed, labels).astype(float) if n > 1 else None
        bounds = np.full((2, matrix.shape[1]), np.nan)
        if weights is not None:
            means = weights @ matrix / weights.sum(axis=1, keepdims=True)
            bounds = np.quantile(means, [(1 - confidence) / 2, (1 + confidence) / 2], axis=0)
        frame[f"ci_low_{name}"], frame[f"ci_high_{name}"] = bounds
    frame["r_item_rest"] = rest_r
    frame["alpha_if_deleted"] = alpha_without
    return describe_run(frame, method=method, n_bootstrap=n_bootstrap, session_interval=STUDENT_T)


def flag_table(dialogues: pd.DataFrame, *, top_topics: int = 3) -> pd.DataFrame:
    """Per check flag: Japanese and English labels, sessions with the flag, share (%), mean score, mean
    item sum, sessions where another flag is also set, and the most frequent main topics."""
    rows = []
    flags = dialogues[list(schema.FLAG_KEYS)].astype(bool)
    item_sum = dialogues["item_sum"].astype(float)
    for flag in schema.FLAGS:
        mask = flags[flag.key]
        others = flags.drop(columns=flag.key).any(axis=1)
        topics = dialogues.loc[mask, "topic_main_en"].value_counts().head(top_topics)
        rows.append(
            {
                "flag": flag.key,
                "label_ja": flag.label_ja,
                "label_en": flag.label_en,
                "sessions": int(mask.sum()),
                "share_pct": 100 * mask.mean() if len(mask) else np.nan,
                "mean_score": dialogues.loc[mask, "score"].mean() if mask.any() else np.nan,
                "mean_item_sum": item_sum[mask].mean() if mask.any() else np.nan,
                "with_other_flag": int((mask & others).sum()),
                "top_topics": "; ".join(f"{t} ({c})" for t, c in topics.items()),
            }
        )
    return pd.DataFrame(rows).set_index("flag")


def flag_topics(dialogues: pd.DataFrame) -> pd.DataFrame:
    """Sessions per main topic (rows, English names) with each flag set (columns), topics with none dropped."""
    flags = dialogues[list(schema.FLAG_KEYS)].astype(bool)
    table = flags.groupby(dialogues["topic_main_en"]).sum().astype(int)
    table = table[table.sum(axis=1) > 0]
    table.index.name = "topic"
    return table.sort_values(list(schema.FLAG_KEYS), ascending=False)


def score_summary_records(summary: pd.DataFrame) -> list[Record]:
    """The paper's mean and median score from :func:`score_summary`."""
    return [
        Record(f"feedback.score_{statistic}", float(summary.loc[statistic, "value"]))
        for statistic in ("mean", "median")
    ]


def score_rule_records(rule: pd.DataFrame) -> list[Record]:
    """Sessions per branch of the score rule and sessions a plain item sum gets wrong, from
    :func:`score_rule_table` (not reported by the authors)."""
    branches = [
        Record(
            f"feedback.score_rule.{branch}",
            int(rule.loc[branch, "sessions"]),
            quantity=f"Sessions in score-rule branch '{branch}'",
            unit="count",
        )
        for branch in ("sum", "halved", "zeroed")
    ]
    wrong = Record(
        "feedback.score_rule.plain_sum_wrong",
        int(rule.loc["all", "plain_sum_wrong"]),
        quantity="Sessions whose score differs from the plain sum of the 20 items",
        unit="count",
    )
    return [*branches, wrong]


def alpha_records(alpha: pd.DataFrame) -> list[Record]:
    """Cronbach's alpha over all 20 items from :func:`alpha_table` (none when not estimable)."""
    value = alpha.loc["all", "alpha"]
    if pd.isna(value):
        return []
    return [
        Record(
            "feedback.items.cronbach_alpha",
            float(value),
            quantity="Cronbach's alpha of the 20 feedback items",
            unit="alpha",
        )
    ]


SCORE_SUMMARY = TableSpec(
    "feedback_score_summary",
    title=Words(
        "Distribution of the client feedback score (0–100).",
        "クライアント評価スコア（0〜100）の分布。",
    ),
    formats={"value": "{:,.2f}"},
    records=score_summary_records,
)


SCORE_RULE = TableSpec(
    "feedback_score_rule",
    title=Words("Branches of the score rule.", "スコア規則の分岐。"),
    number_format="{:.2f}",
    records=score_rule_records,
)


ITEM_DISTRIBUTION = TableSpec(
    "feedback_item_distribution",
    title=Words(
        "Sessions giving each answer (0–5) per item.", "項目ごとの各回答（0〜5）のセッション数。"
    ),
    thousands=True,
)


ITEM_NUMBER = Column("number", Words("Q", "Q"), means=Words("item number", "項目番号"))


ITEM_STATISTICS = TableSpec(
    "feedback_item_statistics",
    title=Words("The 20 client feedback items.", "クライアント評価の20項目。"),
    columns=(
        ITEM_NUMBER,
        Column(
            "label_en",
            Words("Item", "項目"),
            key_ja="label_ja",
            means=Words("short label", "短い名称"),
        ),
        Column(
            "mean",
            Words("Mean", "平均"),
            "{:.2f}",
            means=Words("mean answer (0–5)", "回答（0〜5）の平均"),
        ),
        *interval_columns("{:.2f}"),
        Column(
            "r_item_rest",
            Words("Item–rest {symbol}", "対残余 {symbol}"),
            "{:.3f}",
            means=Words(
                "{correlation} of the item with the sum of the other 19 items",
                "項目と他の19項目の合計との{correlation}",
            ),
        ),
        Column(
            "alpha_if_deleted",
            Words("α if deleted", "除外時 α"),
            "{:.3f}",
            means=Words("Cronbach's α of the other 19 items", "他の19項目の Cronbach の α"),
        ),
    ),
    width="full",
    thousands=True,
    index=False,
)


ALPHA = TableSpec(
    "feedback_alpha",
    title=Words(
        "Internal consistency of the client feedback items.",
        "クライアント評価項目の内的一貫性。",
    ),
    columns=(
        Column(
            "block_en",
            Words("Items", "項目"),
            key_ja="block_ja",
            means=Words(
                "block of the questionnaire, or all 20 items", "質問票のブロック、または全20項目"
            ),
        ),
        Column("items", Words("n", "項目数"), means=Words("number of items", "項目の数")),
        Column(
            "alpha",
            Words("α", "α"),
            "{:.3f}",
            means=Words("Cronbach's α of the items", "項目の Cronbach の α"),
        ),
        *interval_columns("{:.3f}"),
    ),
    width="full",
    thousands=True,
    index=False,
    records=alpha_records,
)


FLAGS = TableSpec(
    "feedback_flags",
    title=Words("Check flags of the client review.", "クライアント評価の確認フラグ。"),
    number_format="{:.2f}",
    thousands=True,
)


FLAG_TOPICS = TableSpec(
    "feedback_flag_topics",
    title=Words(
        "Sessions with each check flag by main topic.",
        "メイントピック別の確認フラグのセッション数。",
    ),
    thousands=True,
)
TABLES = register(
    SCORE_SUMMARY, SCORE_RULE, ITEM_DISTRIBUTION, ITEM_STATISTICS, ALPHA, FLAGS, FLAG_TOPICS
)
"""The published tables of this module by name (:class:`kokoro_analysis.published.TableSpec`)."""
