"""The client feedback: total score, the 20 items and their reliability, the score subsets, the counselor
words that go with a high score, and the check flags.

Every function takes tidy tables (``corpus.dialogues``, ``corpus.utterances``) or arrays and returns a
DataFrame or numbers; figures live in :mod:`kokoro_analysis.charts.feedback`. The rest of the feedback
analysis lives in :mod:`kokoro_analysis.analyses.feedback.item_structure` (item inter-correlations and factor structure),
:mod:`kokoro_analysis.analyses.feedback.score_features` (dialogue features against the score) and
:mod:`kokoro_analysis.analyses.feedback.raters` (rater, counselor and experience effects).

Conventions used throughout (in all four modules):

* *score* is the released 0–100 total (``schema.SCORE_RULE``); *item sum* is the plain sum of the 20
  items. Reliability, item–total and factor analyses use the items (and their sum), never ``score``,
  because the flags change ``score`` without changing the answers.
* ``method`` is ``"spearman"`` (Pearson on average ranks, ties get their mean rank) or ``"pearson"``.
* Bootstrap: percentile intervals. Sessions are nested in raters (``client_id``) and counselors
  (``counselor_id``), so next to the interval that resamples sessions (``ci_low``/``ci_high``) the
  tables give intervals that resample whole raters or whole counselors with all their sessions
  (``ci_low_rater``, ``ci_low_counselor``, …; :data:`CLUSTERS`). Resamples are drawn as a matrix of
  counts (one row per resample), so every statistic is computed for all resamples at once; Spearman ρ of
  a resample uses the ranks *within that resample* (mid-ranks of tied values), i.e. exactly what
  ``scipy.stats.spearmanr`` gives on the resampled rows. Each table function records its parameters
  in ``frame.attrs`` (:func:`describe_run`: correlation, resamples, the headline interval), and each
  published table is declared once at the end of its module (:class:`kokoro_analysis.published.TableSpec`,
  caption and method statement included).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.measures import turns_per_session
from kokoro_analysis.corpus.schema import ITEM_KEYS
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
    check_method,
    correlation_matrix,
    group_mean_intervals,
    percentile_interval,
    polychoric_matrix,
    resample_weights,
    standardized_alpha,
    t_interval,
    take_clusters,
)
from kokoro_analysis.text.forms import display_forms
from kokoro_analysis.text.glossary import gloss_of
from kokoro_analysis.text.keyness import log_odds_dirichlet
from kokoro_analysis.text.lexical import message_positions

CLUSTERS = {"rater": "client_id", "counselor": "counselor_id"}
"""The two ways sessions cluster: name used in column suffixes → column of ``corpus.dialogues``."""
HEADLINE_CLUSTER = "two_way"
"""The headline resampling scheme (column suffix), the interval the paper tables and figure labels
print: raters and counselors resampled independently (:func:`two_way_clusters`)."""
CLUSTER_NOUNS = {
    "rater": "whole raters",
    "counselor": "whole counselors",
    "two_way": "raters and counselors drawn independently (two-way; the headline)",
    "persons": "persons, each drawn once for both roles",
}
"""What a method statement says each resampling scheme of :func:`cluster_labels` resamples."""
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
    cluster bootstrap (:func:`stats.two_way_bootstrap_counts`). The headline scheme is crossed
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


# --------------------------------------------------------------------------- 1. total score


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


# --------------------------------------------------------------------------- 2. the items


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
    """Cronbach's alpha of every resample given by ``weights`` (B × n counts): :func:`cronbach_alpha` with
    each resample's variances from weighted moments."""
    k = matrix.shape[1]
    total = matrix.sum(axis=1)
    n = weights.sum(axis=1, keepdims=True).astype(float)
    mean_items = weights @ matrix / n
    item_var = weights @ (matrix**2) / n - mean_items**2
    total_var = (weights @ total**2) / n[:, 0] - ((weights @ total) / n[:, 0]) ** 2
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
    (standardised alpha of the polychoric matrix, :func:`stats.standardized_alpha`).
    :func:`alpha_table_method` states the methods."""
    check_method(method)
    table = schema.item_table()
    groups = [(block, list(table.index[table["block"] == block])) for block in schema.BLOCKS]
    groups.append(("all", list(ITEM_KEYS)))
    schemes = {None: None, **dict(clusters or {})}
    weights = {
        name: resample_weights(len(dialogues), n_bootstrap, seed, labels)
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
        corr = (
            correlation_matrix(matrix, method)
            if len(matrix) > 1
            else np.full((len(keys),) * 2, np.nan)
        )
        off = corr[np.triu_indices(len(keys), 1)]
        row["mean_inter_item_r"] = float(np.nanmean(off)) if np.isfinite(off).any() else np.nan
        block = polychoric[np.ix_([position[k] for k in keys], [position[k] for k in keys])]
        block_off = block[np.triu_indices(len(keys), 1)]
        row["mean_inter_item_polychoric"] = (
            float(np.nanmean(block_off)) if np.isfinite(block_off).any() else np.nan
        )
        row["ordinal_alpha"] = standardized_alpha(block) if np.isfinite(block_off).any() else np.nan
        rows.append(row)
    out = pd.DataFrame(rows).set_index("block")
    return describe_run(
        out, method=method, n_bootstrap=n_bootstrap, session_interval=session_bootstrap(n_bootstrap)
    )


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
    ``n_bootstrap`` resamples). :func:`item_statistics_method` states the methods."""
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


# --------------------------------------------------------------------------- 5. subsets

SUBSET_ORDER = ("low", "high", "full", "test", "all")


def subset_statistics(corpus, subsets: Sequence[str] = SUBSET_ORDER) -> pd.DataFrame:
    """Corpus statistics of each score subset side by side (columns: subsets; rows: sessions, messages
    per session by role, characters per message by role, merged turns per session, score mean and
    median, session length mean and median in minutes)."""
    dialogues, utterances = corpus.dialogues, corpus.utterances
    chars = (
        utterances.groupby(["dialogue_id", "role"], observed=True)["length"]
        .sum()
        .unstack(fill_value=0)
        .reindex(index=dialogues.index, columns=list(schema.ROLES), fill_value=0)
    )
    turns = turns_per_session(utterances)["total"].reindex(dialogues.index, fill_value=0)
    columns = {}
    for name in subsets:
        ids = corpus.subset_ids(name)
        d = dialogues.loc[ids]
        n = len(d)
        messages = {who: int(d[f"n_{who}_messages"].sum()) for who in schema.ROLES}
        role_chars = {who: int(chars.loc[ids, who].sum()) for who in schema.ROLES}
        total = int(d["n_messages"].sum())
        row = {"sessions": n}
        row["messages_per_session"] = total / n if n else np.nan
        for who in schema.ROLES:
            row[f"{who}_messages_per_session"] = messages[who] / n if n else np.nan
        row["chars_per_message"] = sum(role_chars.values()) / total if total else np.nan
        for who in schema.ROLES:
            row[f"{who}_chars_per_message"] = (
                role_chars[who] / messages[who] if messages[who] else np.nan
            )
        row["turns_per_session"] = int(turns.loc[ids].sum()) / n if n else np.nan
        row["score_mean"] = d["score"].mean() if n else np.nan
        row["score_median"] = d["score"].median() if n else np.nan
        row["duration_min_mean"] = d["duration_min"].mean() if n else np.nan
        row["duration_min_median"] = d["duration_min"].median() if n else np.nan
        columns[name] = row
    frame = pd.DataFrame(columns)
    frame.index.name = "statistic"
    return frame


def whole_or_two_decimals(value: float) -> str:
    """Table format of :func:`subset_statistics`: whole numbers without decimals, others with two
    (thousands separated)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


TIER_PERCENTILES = (33, 67)
TIER_LABELS = ("low", "middle", "high")
"""Score tiers of follow-up work on the corpus (Inaba, EMNLP 2026 Findings, "Beyond Reflection"):
sessions split at the 33rd and 67th score percentiles."""


def tier_cutoffs(scores, percentiles: Sequence[float] = TIER_PERCENTILES) -> dict[float, float]:
    """Percentile → cut-off: the ``percentiles`` of the scores (linear interpolation,
    ``numpy.percentile``; missing scores ignored)."""
    values = pd.Series(scores, dtype=float).dropna()
    if values.empty:
        raise ValueError("no scores to split into tiers")
    return {float(p): float(c) for p, c in zip(percentiles, np.percentile(values, percentiles))}


def score_tiers(
    scores, percentiles: Sequence[float] = TIER_PERCENTILES, labels: Sequence[str] = TIER_LABELS
) -> pd.Series:
    """The tier of each score: cut-offs at the ``percentiles`` of the scores (:func:`tier_cutoffs`); a
    session is in the first tier below the first cut-off and a cut-off belongs to the tier above it
    (tiers [min, c₁), [c₁, c₂), [c₂, max]). Returns an ordered categorical (index of ``scores``)."""
    values = pd.Series(scores, dtype=float)
    if len(labels) != len(percentiles) + 1:
        raise ValueError(f"need {len(percentiles) + 1} tier labels, got {len(labels)}")
    cuts = list(tier_cutoffs(values, percentiles).values())
    tiers = pd.cut(values, [-np.inf, *cuts, np.inf], right=False, labels=list(labels))
    return tiers.rename("tier")


def score_means(
    corpus, *, n_bootstrap: int = 1000, seed: int = 0, confidence: float = 0.95
) -> pd.DataFrame:
    """Mean score of every subset (:data:`SUBSET_ORDER`), tier (:func:`score_tiers`) and main topic
    (``kind``, ``group``) with ``n``, ``sd``, the Student-t interval (``ci_low``/``ci_high``: sessions
    independent) and percentile cluster-bootstrap intervals of every scheme of :func:`cluster_labels`
    (two-way, the headline; raters; counselors) over the raters and counselors *of the group*
    (:func:`stats.group_mean_intervals`), with their numbers (``raters``, ``counselors``). Topics are
    sorted by mean; the declaration :data:`SCORE_MEANS` states the methods and the
    tier cut-offs (:func:`tier_cutoffs`)."""
    dialogues = corpus.dialogues
    clusters = cluster_labels(dialogues)
    options = dict(n_bootstrap=n_bootstrap, seed=seed, confidence=confidence)
    parts = []
    for name in SUBSET_ORDER:
        mask = dialogues.index.isin(corpus.subset_ids(name))
        if mask.any():
            part = {k: take_clusters(v, mask) for k, v in clusters.items()}
            labels = np.full(int(mask.sum()), name, dtype=object)
            table = group_mean_intervals(dialogues.loc[mask, "score"], labels, part, **options)
            parts.append(table.assign(kind="subset"))
    tiers = score_tiers(dialogues["score"])
    table = group_mean_intervals(dialogues["score"], tiers.astype(str), clusters, **options)
    parts.append(table.reindex([t for t in TIER_LABELS if t in table.index]).assign(kind="tier"))
    table = group_mean_intervals(
        dialogues["score"], dialogues["topic_main_en"], clusters, **options
    )
    parts.append(table.sort_values("mean", ascending=False, kind="mergesort").assign(kind="topic"))
    out = pd.concat(parts).rename_axis("group").reset_index()
    out.insert(0, "kind", out.pop("kind"))
    out.attrs.update(
        n_bootstrap=n_bootstrap,
        cutoffs=", ".join(f"{c:g}" for c in tier_cutoffs(dialogues["score"]).values()),
    )
    return out


# --------------------------------------------------------------------------- 7. keyness


def counselor_lemma_counts(
    corpus, tokens, *, threshold: int = schema.HIGH_SCORE, forms: pd.Series | None = None
) -> pd.DataFrame:
    """Content-word lemma counts of counselor messages in sessions with score ≥ ``threshold`` (column
    ``high``) and < ``threshold`` (``low``), with ``counselors`` (distinct counselor_ids using the
    lemma) and ``surface`` (how it is shown: its display form in ``forms``, default
    :func:`~kokoro_analysis.text.forms.display_forms` of ``tokens``; UniDic lemmas can be spelled
    unusually, e.g. 迚も for とても). ``tokens``: the run's ``Tokens``; content words are
    ``Tokens.content()``."""
    utterances = corpus.utterances
    dialogues = corpus.dialogues
    columns = {"high": np.int64, "low": np.int64, "counselors": np.int64, "surface": object}
    table = tokens.content().table
    if len(utterances) == 0 or len(table) == 0:
        return pd.DataFrame({k: pd.Series(dtype=v) for k, v in columns.items()}).rename_axis(
            "lemma"
        )
    message = message_positions(table, utterances)
    session_high = (
        utterances["dialogue_id"].map(dialogues["score"] >= threshold).to_numpy(dtype=bool)[message]
    )
    counselor_code = pd.factorize(utterances["dialogue_id"].map(dialogues["counselor_id"]))[0][
        message
    ]
    is_counselor = utterances["role"].astype(str).to_numpy()[message] == "counselor"
    lemma_codes = table["lemma"].cat.codes.to_numpy().astype(np.int64)
    keep = is_counselor & (lemma_codes >= 0)
    if not keep.any():
        return pd.DataFrame({k: pd.Series(dtype=v) for k, v in columns.items()}).rename_axis(
            "lemma"
        )
    if forms is None:
        forms = display_forms(tokens)
    group, lemma_codes = session_high[keep].astype(np.int64), lemma_codes[keep]
    speaker = counselor_code[keep]
    lemmas = table["lemma"].cat.categories
    n_lemmas = len(lemmas)
    counts = np.bincount(lemma_codes * 2 + group, minlength=2 * n_lemmas).reshape(n_lemmas, 2)
    pairs = np.unique(lemma_codes * (speaker.max() + 1) + speaker)
    counselors = np.bincount(pairs // (speaker.max() + 1), minlength=n_lemmas)
    frame = pd.DataFrame(
        {
            "high": counts[:, 1],
            "low": counts[:, 0],
            "counselors": counselors,
            "surface": forms.reindex(lemmas.astype(str)).to_numpy(dtype=object),
        },
        index=pd.Index(lemmas, name="lemma"),
    )
    return frame[(frame["high"] + frame["low"]) > 0]


def counselor_keyness(counts: pd.DataFrame, *, min_count: int = 20) -> pd.DataFrame:
    """Log-odds with informative Dirichlet prior (:func:`kokoro_analysis.text.keyness.log_odds_dirichlet`,
    pooled counts as prior) of each lemma in high- against low-scored sessions; positive z: over-used in
    high-scored sessions. Lemmas seen fewer than ``min_count`` times in both groups together are dropped.
    ``counselors`` and ``surface`` are carried over from ``counts``."""
    if counts.empty or counts["high"].sum() == 0 or counts["low"].sum() == 0:
        return pd.DataFrame(
            columns=[
                "delta",
                "z",
                "count_group",
                "count_other",
                "rate_group",
                "rate_other",
                "counselors",
                "surface",
            ]
        ).rename_axis("word")
    scores = log_odds_dirichlet(counts["high"], counts["low"], min_count=min_count)
    return scores.join(counts[["counselors", "surface"]])


def top_keywords(keyness: pd.DataFrame, top: int = 15, *, min_counselors: int = 1) -> pd.DataFrame:
    """The ``top`` lemmas over-used in high- and in low-scored sessions (by z, positive and negative
    respectively), counting only lemmas used by at least ``min_counselors`` distinct counselors (so one
    counselor's idiosyncrasy cannot top the list). Columns: direction, rank, lemma, surface, z, delta,
    counts and rates per 1,000 content tokens in each group, counselors."""
    usable = keyness[keyness["counselors"] >= min_counselors] if len(keyness) else keyness
    high = usable[usable["z"] > 0].head(top).assign(direction="high")
    low = (
        usable[usable["z"] < 0].sort_values("z", kind="mergesort").head(top).assign(direction="low")
    )
    out = pd.concat([high, low]).rename_axis("lemma").reset_index()
    out.insert(
        0, "rank", np.r_[np.arange(1, len(high) + 1), np.arange(1, len(low) + 1)].astype(int)
    )
    out.insert(0, "direction", out.pop("direction"))
    out.insert(3, "surface", out.pop("surface"))
    return out.rename(
        columns={
            "count_group": "count_high",
            "count_other": "count_low",
            "rate_group": "per_1000_high",
            "rate_other": "per_1000_low",
        }
    )


def keyness_table(
    corpus,
    tokens,
    *,
    top: int = 15,
    min_count: int = 20,
    min_counselors: int | None = None,
    threshold: int = schema.HIGH_SCORE,
    forms: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counselor lemmas of high- (score ≥ ``threshold``) against low-scored sessions: returns (the
    ``top`` lemmas each way, see :func:`top_keywords`; the full log-odds table). ``min_counselors``
    defaults to 10 or a tenth of the run's counselors, whichever is smaller (at least 1); ``forms``:
    display forms (:func:`counselor_lemma_counts`)."""
    if min_counselors is None:
        min_counselors = max(1, min(10, corpus.dialogues["counselor_id"].nunique() // 10))
    scores = counselor_keyness(
        counselor_lemma_counts(corpus, tokens, threshold=threshold, forms=forms),
        min_count=min_count,
    )
    table = top_keywords(scores, top, min_counselors=min_counselors)
    table["gloss_en"] = [gloss_of(str(w), f) for w, f in zip(table["lemma"], table["surface"])]
    return table, scores


# --------------------------------------------------------------------------- 8. check flags


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


# --------------------------------------------------------------------------- reproduction records


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
SUBSET_STATISTICS = TableSpec(
    "feedback_subset_statistics",
    title=Words("Corpus statistics of the score subsets.", "スコアによる部分集合のコーパス統計。"),
    formats={name: whole_or_two_decimals for name in SUBSET_ORDER},
)
SCORE_MEANS = TableSpec(
    "feedback_score_means",
    title=Words(
        "Mean score (0–100) by subset, tier and main topic.",
        "部分集合・層・メイントピック別の平均スコア（0〜100）。",
    ),
    method=Words(
        "The Student-t interval takes sessions as independent; the two-way interval (headline) is "
        "a percentile bootstrap over {n_bootstrap:,} resamples drawing the group's raters and, "
        "independently, its counselors (a session weighted by the product of their draws); the "
        "rater and counselor intervals resample only one of them, each with all its sessions in "
        "the group. Tiers: cut-offs {cutoffs} (33rd and 67th percentiles); a cut-off belongs to the "
        "upper tier.",
        "t 区間はセッションを独立とみなす。二元区間（主要な区間）は、グループ内の評価者とカウンセラーを"
        "独立に {n_bootstrap:,} 回再標本化したパーセンタイル・ブートストラップ（各セッションの重みは両者の"
        "抽出回数の積）。評価者・カウンセラーの区間はその一方だけを再標本化する。層の"
        "区切りは {cutoffs}（33・67 パーセンタイル）で、区切りの値は上の層に属する。",
    ),
)
COUNSELOR_KEYNESS = TableSpec(
    "feedback_counselor_keyness",
    title=Words(
        f"Counselor lemmas over-used in high- (≥ {schema.HIGH_SCORE}) and low-scored "
        f"(< {schema.HIGH_SCORE}) sessions.",
        f"高スコア（{schema.HIGH_SCORE} 以上）と低スコア（{schema.HIGH_SCORE} 未満）のセッションで"
        "カウンセラーが多用する見出し語。",
    ),
    number_format="{:.3f}",
    thousands=True,
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
    SCORE_SUMMARY,
    SCORE_RULE,
    ITEM_DISTRIBUTION,
    ITEM_STATISTICS,
    ALPHA,
    SUBSET_STATISTICS,
    SCORE_MEANS,
    COUNSELOR_KEYNESS,
    FLAGS,
    FLAG_TOPICS,
)
"""The published tables of this module by name (:class:`kokoro_analysis.published.TableSpec`)."""
