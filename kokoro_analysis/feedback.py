"""The client feedback: total score, the 20 items, what goes with a high score.

Every function takes tidy tables (``corpus.dialogues``, ``corpus.utterances``) or arrays and returns a
DataFrame or numbers; figures live in :mod:`kokoro_analysis.charts.feedback`.

Conventions used throughout:

* *score* is the released 0–100 total (``schema.SCORE_RULE``); *item sum* is the plain sum of the 20
  items. Reliability, item–total and factor analyses use the items (and their sum), never ``score``,
  because the flags change ``score`` without changing the answers.
* ``method`` is ``"spearman"`` (Pearson on average ranks, ties get their mean rank) or ``"pearson"``.
* Bootstrap: percentile intervals over sessions resampled with replacement. Resamples are drawn as a
  matrix of multinomial counts (one row per resample), so every statistic is computed for all
  resamples at once; Spearman ρ of a resample uses the ranks *within that resample* (mid-ranks of
  tied values), i.e. exactly what ``scipy.stats.spearmanr`` gives on the resampled rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from scipy.cluster import hierarchy
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import minimize
from scipy.spatial.distance import squareform

from . import schema
from .corpus_stats import response_times

METHODS = ("spearman", "pearson")
ITEM_KEYS: tuple[str, ...] = schema.ITEM_KEYS
HIGH_SCORE = 70
"""Sessions with score ≥ 70 ("high" 70–98 plus the "test" pool ≥ 99) against score < 70 ("low")."""


def check_method(method: str) -> str:
    """Return ``method`` if it is "spearman" or "pearson"; raise ValueError otherwise."""
    if method not in METHODS:
        raise ValueError(f"method must be 'spearman' or 'pearson', not {method!r}")
    return method


def _item_matrix(dialogues: pd.DataFrame, keys: Sequence[str] = ITEM_KEYS) -> np.ndarray:
    """The item answers as a float (sessions × items) array."""
    missing = [k for k in keys if k not in dialogues]
    if missing:
        raise KeyError(f"dialogues lacks item columns {missing}")
    return dialogues[list(keys)].to_numpy(dtype=float)


def _t_interval(mean: np.ndarray, sd: np.ndarray, n: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Student-t confidence interval of a mean (NaN when n < 2)."""
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(0.5 + confidence / 2, np.where(n > 1, n - 1, np.nan)) * sd / np.sqrt(n)
    return mean - half, mean + half


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
        ("excess_kurtosis", "G2", float(stats.kurtosis(values, bias=False)) if values.size > 3 else np.nan),
        ("min", "points", values.min()),
        *((f"p{p}", "points", float(np.percentile(values, p))) for p in percentiles),
        ("max", "points", values.max()),
    ]
    frame = pd.DataFrame(rows, columns=["statistic", "unit", "value"]).set_index("statistic")
    order = ["n", "mean", "sd", "median", "skewness", "excess_kurtosis", "min", "p5", "p10", "p25", "p75",
             "p90", "p95", "max"]
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
    ``score`` on every session of the branch. Last row: all sessions."""
    flags = dialogues[list(schema.FLAG_KEYS)].to_numpy(dtype=bool).T
    branch = pd.Series(schema.score_rule_branch(*flags), index=dialogues.index)
    item_sum = dialogues[list(ITEM_KEYS)].sum(axis=1)
    expected = pd.Series(schema.expected_score(item_sum.to_numpy(), *flags), index=dialogues.index)
    frame = pd.DataFrame({
        "branch": branch, "score": dialogues["score"], "item_sum": item_sum,
        "wrong": dialogues["score"] != item_sum, "holds": dialogues["score"] == expected,
    })
    rows = []
    for name, part in [*((b, frame[frame["branch"] == b]) for b in BRANCH_RULES), ("all", frame)]:
        rows.append({
            "branch": name,
            "rule": BRANCH_RULES.get(name, "as above, by branch"),
            "sessions": len(part),
            "share_pct": 100 * len(part) / max(len(frame), 1),
            "plain_sum_wrong": int(part["wrong"].sum()),
            "mean_item_sum": part["item_sum"].mean() if len(part) else np.nan,
            "mean_score": part["score"].mean() if len(part) else np.nan,
            "rule_holds": int(part["holds"].sum()),
        })
    return pd.DataFrame(rows).set_index("branch")


# --------------------------------------------------------------------------- 2. the items


def item_distribution(dialogues: pd.DataFrame) -> pd.DataFrame:
    """Sessions answering 0, 1, …, 5 on each item (rows: items in questionnaire order, with number,
    labels and block)."""
    answers = _item_matrix(dialogues).astype(int)
    levels = range(schema.ITEM_MIN, schema.ITEM_MAX + 1)
    counts = np.stack([(answers == level).sum(axis=0) for level in levels], axis=1)
    frame = schema.item_table()[["number", "label_ja", "label_en", "block"]].copy()
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
    return float(k / (k - 1) * (1 - matrix.var(axis=0, ddof=1).sum() / total_var))


def bootstrap_counts(n: int, n_bootstrap: int, seed: int) -> np.ndarray:
    """(n_bootstrap × n) matrix: how often each of n sessions is drawn in each resample (each row sums
    to n). Row b equals ``np.bincount(rng.integers(0, n, n), minlength=n)`` for the b-th draw of
    ``np.random.default_rng(seed)``."""
    if n < 1 or n_bootstrap < 1:
        raise ValueError("need n >= 1 and n_bootstrap >= 1")
    rng = np.random.default_rng(seed)
    counts = np.empty((n_bootstrap, n), dtype=np.int32)
    for b in range(n_bootstrap):  # one draw per resample: reproducible row by row
        counts[b] = np.bincount(rng.integers(0, n, n), minlength=n)
    return counts


def _weighted_alpha(matrix: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Cronbach's alpha of every resample given by ``weights`` (B × n counts)."""
    k = matrix.shape[1]
    total = matrix.sum(axis=1)
    n = weights.sum(axis=1, keepdims=True).astype(float)
    mean_items = weights @ matrix / n
    item_var = weights @ (matrix ** 2) / n - mean_items ** 2
    total_var = (weights @ total ** 2) / n[:, 0] - ((weights @ total) / n[:, 0]) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return k / (k - 1) * (1 - item_var.sum(axis=1) / total_var)


def alpha_table(
    dialogues: pd.DataFrame, *, n_bootstrap: int = 1000, seed: int = 0, confidence: float = 0.95
) -> pd.DataFrame:
    """Cronbach's alpha per block and over all 20 items, with percentile bootstrap CIs (sessions
    resampled), and the mean inter-item Pearson r of the block."""
    table = schema.item_table()
    groups = [(block, list(table.index[table["block"] == block])) for block in schema.BLOCKS]
    groups.append(("all", list(ITEM_KEYS)))
    weights = bootstrap_counts(len(dialogues), n_bootstrap, seed) if len(dialogues) > 1 else None
    rows = []
    for name, keys in groups:
        matrix = _item_matrix(dialogues, keys)
        alpha = cronbach_alpha(matrix)
        low = high = np.nan
        if weights is not None:
            boot = _weighted_alpha(matrix, weights)
            boot = boot[np.isfinite(boot)]
            if boot.size:
                low, high = np.quantile(boot, [(1 - confidence) / 2, (1 + confidence) / 2])
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.corrcoef(matrix, rowvar=False) if len(matrix) > 1 else np.full((len(keys),) * 2, np.nan)
        off = corr[np.triu_indices(len(keys), 1)]
        rows.append({
            "block": name,
            "block_ja": schema.BLOCKS[name][0] if name in schema.BLOCKS else "全20項目",
            "block_en": schema.BLOCKS[name][1] if name in schema.BLOCKS else "All 20 items",
            "items": len(keys), "sessions": len(matrix), "alpha": alpha, "ci_low": low, "ci_high": high,
            "mean_inter_item_r": float(np.nanmean(off)) if np.isfinite(off).any() else np.nan,
        })
    return pd.DataFrame(rows).set_index("block")


def correlation_matrix(values: np.ndarray, method: str = "spearman") -> np.ndarray:
    """Correlation matrix of the columns of ``values`` (Spearman = Pearson on average ranks).
    Constant columns give NaN rows/columns."""
    matrix = np.asarray(values, dtype=float)
    if check_method(method) == "spearman":
        matrix = stats.rankdata(matrix, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        centred = matrix - matrix.mean(axis=0)
        norms = np.sqrt((centred ** 2).sum(axis=0))
        corr = centred.T @ centred / np.outer(norms, norms)
    corr[np.isfinite(corr)] = np.clip(corr[np.isfinite(corr)], -1, 1)
    return corr


def item_correlations(dialogues: pd.DataFrame, method: str = "spearman") -> pd.DataFrame:
    """Item × item correlation matrix (``method``), indexed by item key in questionnaire order."""
    return pd.DataFrame(correlation_matrix(_item_matrix(dialogues), method), index=list(ITEM_KEYS),
                        columns=list(ITEM_KEYS))


def item_statistics(dialogues: pd.DataFrame, method: str = "spearman", confidence: float = 0.95) -> pd.DataFrame:
    """Per item: mean with Student-t CI, SD, the corrected item–total correlation (``method``; the
    item against the sum of the other 19 items) and Cronbach's alpha of the 20 items without it."""
    matrix = _item_matrix(dialogues)
    n = len(matrix)
    mean, sd = matrix.mean(axis=0), matrix.std(axis=0, ddof=1) if n > 1 else np.full(matrix.shape[1], np.nan)
    low, high = _t_interval(mean, sd, np.full_like(mean, n), confidence)
    total = matrix.sum(axis=1)
    rest_r = []
    for j in range(matrix.shape[1]):
        pair = np.column_stack([matrix[:, j], total - matrix[:, j]])
        rest_r.append(correlation_matrix(pair, method)[0, 1] if n > 2 else np.nan)
    alpha_without = [cronbach_alpha(np.delete(matrix, j, axis=1)) for j in range(matrix.shape[1])]
    frame = schema.item_table()[["number", "label_ja", "label_en", "block"]].copy()
    frame["n"] = n
    frame["mean"], frame["sd"], frame["ci_low"], frame["ci_high"] = mean, sd, low, high
    frame["r_item_rest"] = rest_r
    frame["alpha_if_deleted"] = alpha_without
    return frame


# --------------------------------------------------------------------------- factor structure


def _usable_correlation(corr: np.ndarray) -> np.ndarray:
    """A correlation matrix with NaN (constant items) replaced by 0 off the diagonal and 1 on it."""
    out = np.where(np.isfinite(corr), corr, 0.0)
    np.fill_diagonal(out, 1.0)
    return out


def eigenvalues(corr: np.ndarray) -> np.ndarray:
    """Eigenvalues of a correlation matrix, largest first (NaN entries treated as 0)."""
    return np.linalg.eigvalsh(_usable_correlation(np.asarray(corr, dtype=float)))[::-1]


def parallel_analysis(
    values: np.ndarray, method: str = "spearman", *, n_iter: int = 100, seed: int = 0, quantile: float = 0.95
) -> pd.DataFrame:
    """Horn's parallel analysis by permutation: each item column is shuffled independently (which keeps
    every item's answer distribution and destroys the correlations), and the eigenvalues of the
    shuffled data's correlation matrix are collected over ``n_iter`` shuffles. Returns per component
    the mean and the ``quantile`` of those null eigenvalues."""
    matrix = np.asarray(values, dtype=float)
    if check_method(method) == "spearman":
        matrix = stats.rankdata(matrix, axis=0)  # ranks of a shuffled column = shuffled ranks
    rng = np.random.default_rng(seed)
    null = np.empty((n_iter, matrix.shape[1]))
    for i in range(n_iter):
        null[i] = eigenvalues(correlation_matrix(rng.permuted(matrix, axis=0), "pearson"))
    columns = {"null_mean": null.mean(axis=0), f"null_q{round(quantile * 100)}": np.quantile(null, quantile, axis=0)}
    return pd.DataFrame(columns, index=pd.RangeIndex(1, matrix.shape[1] + 1, name="component"))


def eigen_table(dialogues: pd.DataFrame, method: str = "spearman", *, n_iter: int = 100, seed: int = 0) -> pd.DataFrame:
    """Eigenvalues of the item correlation matrix with explained share and cumulative share (%),
    the parallel-analysis threshold (95th percentile of permutation eigenvalues) and whether each
    component is retained by parallel analysis (all components up to the first one below the
    threshold) and by the Kaiser rule (eigenvalue > 1)."""
    matrix = _item_matrix(dialogues)
    values = eigenvalues(correlation_matrix(matrix, method))
    frame = pd.DataFrame({"eigenvalue": values}, index=pd.RangeIndex(1, len(values) + 1, name="component"))
    frame["share_pct"] = 100 * values / values.sum()
    frame["cumulative_pct"] = frame["share_pct"].cumsum()
    null = parallel_analysis(matrix, method, n_iter=n_iter, seed=seed)
    frame = frame.join(null)
    above = frame["eigenvalue"] > frame["null_q95"]
    frame["retained_parallel"] = above & above.cumprod().astype(bool)
    frame["retained_kaiser"] = frame["eigenvalue"] > 1
    return frame


def varimax(loadings: np.ndarray, *, normalize: bool = True, max_iter: int = 500, tol: float = 1e-10) -> np.ndarray:
    """Varimax rotation (Kaiser 1958) of a (items × factors) loading matrix; with ``normalize`` the
    rows are scaled to unit communality before rotating and back after (Kaiser normalisation, as R's
    ``varimax``). Returns the rotated loadings."""
    matrix = np.asarray(loadings, dtype=float)
    p, k = matrix.shape
    if k < 2:
        return matrix.copy()
    scale = np.sqrt((matrix ** 2).sum(axis=1, keepdims=True)) if normalize else np.ones((p, 1))
    scale[scale == 0] = 1
    x = matrix / scale
    rotation = np.eye(k)
    criterion = 0.0
    for _ in range(max_iter):
        rotated = x @ rotation
        u, s, vt = np.linalg.svd(x.T @ (rotated ** 3 - rotated @ np.diag((rotated ** 2).sum(axis=0)) / p))
        rotation = u @ vt
        new = s.sum()
        if new < criterion * (1 + tol):
            break
        criterion = new
    return x @ rotation * scale


def component_loadings(dialogues: pd.DataFrame, method: str = "spearman", n_components: int = 2,
                       *, rotate: bool = True) -> pd.DataFrame:
    """Loadings of the first ``n_components`` principal components of the item correlation matrix
    (eigenvector × √eigenvalue), varimax-rotated when ``rotate``. Each component's sign makes its
    loadings sum positive; rotated components are ordered by explained variance. Columns ``C1``…
    (``RC1``… when rotated) plus ``communality``; rows: items with number, labels and block."""
    corr = _usable_correlation(correlation_matrix(_item_matrix(dialogues), method))
    values, vectors = np.linalg.eigh(corr)
    order = np.argsort(values)[::-1][:n_components]
    loadings = vectors[:, order] * np.sqrt(np.clip(values[order], 0, None))
    if rotate:
        loadings = varimax(loadings)
        loadings = loadings[:, np.argsort(-(loadings ** 2).sum(axis=0), kind="stable")]
    loadings = loadings * np.where(loadings.sum(axis=0) < 0, -1, 1)
    prefix = "RC" if rotate and n_components > 1 else "C"
    frame = schema.item_table()[["number", "label_ja", "label_en", "block"]].copy()
    for j in range(loadings.shape[1]):
        frame[f"{prefix}{j + 1}"] = loadings[:, j]
    frame["communality"] = (loadings ** 2).sum(axis=1)
    return frame


def loadings_table(dialogues: pd.DataFrame, method: str = "spearman", n_rotated: int = 3) -> pd.DataFrame:
    """Unrotated loadings on the first principal component (``C1``, the general factor) next to the
    varimax-rotated loadings of the first ``n_rotated`` components (``RC1``…) and their communality."""
    first = component_loadings(dialogues, method, 1, rotate=False)
    rotated = component_loadings(dialogues, method, n_rotated, rotate=True)
    rotated.insert(4, "C1", first["C1"])
    return rotated


def cluster_order(corr: pd.DataFrame | np.ndarray, *, method: str = "average") -> tuple[np.ndarray, np.ndarray]:
    """Hierarchical clustering of items on the distance 1 − r (``method`` linkage, optimal leaf
    ordering). Returns (leaf order as positions, scipy linkage matrix)."""
    matrix = _usable_correlation(np.asarray(corr, dtype=float))
    distance = np.clip(1 - matrix, 0, 2)
    np.fill_diagonal(distance, 0)
    distance = (distance + distance.T) / 2
    link = hierarchy.linkage(squareform(distance, checks=False), method=method, optimal_ordering=True)
    return hierarchy.leaves_list(link), link


def extreme_pairs(corr: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The ``n`` most and ``n`` least correlated item pairs (upper triangle, NaN pairs dropped)."""
    keys = list(corr.index)
    rows, cols = np.triu_indices(len(keys), 1)
    values = corr.to_numpy()[rows, cols]
    table = schema.item_table()
    pairs = pd.DataFrame({
        "item_a": [table.loc[keys[i], "number"] for i in rows], "item_b": [table.loc[keys[j], "number"] for j in cols],
        "label_a_ja": [table.loc[keys[i], "label_ja"] for i in rows],
        "label_b_ja": [table.loc[keys[j], "label_ja"] for j in cols],
        "label_a_en": [table.loc[keys[i], "label_en"] for i in rows],
        "label_b_en": [table.loc[keys[j], "label_en"] for j in cols],
        "r": values,
    }).dropna(subset=["r"]).sort_values(["r", "item_a", "item_b"], ascending=[False, True, True], kind="mergesort")
    strongest = pairs.head(n).assign(which="strongest")
    weakest = pairs.tail(n).iloc[::-1].assign(which="weakest")
    out = pd.concat([strongest, weakest], ignore_index=True)
    out.insert(0, "rank", np.r_[np.arange(1, len(strongest) + 1), np.arange(1, len(weakest) + 1)])
    out.insert(0, "which", out.pop("which"))
    return out


# --------------------------------------------------------------------------- 4. dialogue features


FEATURES: dict[str, tuple[str, str, str]] = {
    "client_chars": ("クライアント総文字数", "Client characters (total)", "characters"),
    "counselor_chars": ("カウンセラー総文字数", "Counselor characters (total)", "characters"),
    "n_messages": ("メッセージ数", "Messages", "messages"),
    "n_turns": ("ターン数（連続発話を結合）", "Merged turns", "turns"),
    "duration_min": ("セッション時間（分）", "Session length (min)", "minutes"),
    "counselor_response_time_s": ("カウンセラー応答時間（秒）", "Counselor response time (s)", "seconds"),
    "client_response_time_s": ("クライアント応答時間（秒）", "Client response time (s)", "seconds"),
    "counselor_chars_per_message": ("カウンセラー文字数／メッセージ", "Counselor chars / message", "characters"),
    "client_chars_per_message": ("クライアント文字数／メッセージ", "Client chars / message", "characters"),
    "client_char_share": ("クライアント文字数の割合", "Client share of characters", "fraction"),
    "counselor_question_rate": ("カウンセラー質問率（？で終わる）", "Counselor question rate (ends with ?)", "fraction"),
}
"""Per-session features of :func:`session_features`: key → (Japanese label, English label, unit)."""

REPORTED_FEATURES = {
    "client_chars": "feedback.spearman_client_chars_score",
    "counselor_response_time_s": "feedback.spearman_counselor_response_time_score",
}
"""Features whose Spearman ρ with score the paper reports → key in reported.csv."""


def _ordered_messages(utterances: pd.DataFrame) -> pd.DataFrame:
    """Messages sorted by session and position (a no-op for corpus tables, which are in order)."""
    ids = utterances["dialogue_id"].to_numpy()
    positions = utterances["position"].to_numpy()
    if len(ids) < 2 or _grouped_in_order(ids, positions):
        return utterances
    return utterances.iloc[np.lexsort((positions, ids))]


def _grouped_in_order(ids: np.ndarray, positions: np.ndarray) -> bool:
    """Whether each session's messages are contiguous and in position order (sessions in any order)."""
    new = np.r_[True, ids[1:] != ids[:-1]]
    if len(np.unique(ids[new])) != new.sum():
        return False
    return bool(np.all(positions[1:][~new[1:]] > positions[:-1][~new[1:]]))


def response_gaps(utterances: pd.DataFrame, responder: str = "counselor") -> pd.DataFrame:
    """Every *response* by ``responder`` with its gap in seconds, as defined once for the package by
    :func:`kokoro_analysis.corpus_stats.response_times` (a message by ``responder`` whose previous message
    in the session is by the other role; the gap runs from that previous message). Rows may come in any
    order; they are put in session order first. Returns ``dialogue_id``, ``utterance`` (index label of the
    response) and ``gap_s``."""
    times = response_times(_ordered_messages(utterances), to_role=responder)
    return pd.DataFrame({"dialogue_id": times["dialogue_id"].to_numpy(), "utterance": times.index.to_numpy(),
                         "gap_s": times["seconds"].to_numpy()})


def mean_response_time(utterances: pd.DataFrame, responder: str = "counselor") -> pd.Series:
    """Mean response gap (seconds, see :func:`response_gaps`) per session, over that session's responses
    by ``responder``; sessions without one are absent."""
    gaps = response_gaps(utterances, responder)
    return gaps.groupby("dialogue_id")["gap_s"].mean().rename(f"{responder}_response_time_s")


QUESTION_ENDINGS = ("？", "?")


def session_features(corpus) -> pd.DataFrame:
    """One row per session (index ``dialogue_id``, order of ``corpus.dialogues``): ``score`` and the
    features of :data:`FEATURES`:

    * characters (``len`` of the unnormalised text) of each role, and per message;
    * ``n_messages`` (stored messages) and ``n_turns`` (maximal runs of one speaker);
    * ``duration_min``: first to last message timestamp, minutes;
    * ``counselor_response_time_s`` / ``client_response_time_s``: mean gap (s) from a message of the other
      role to the responder's next message (see :func:`response_gaps`), NaN without any;
    * ``client_char_share``: client characters / all characters;
    * ``counselor_question_rate``: share of counselor messages whose text, trailing whitespace removed,
      ends with a full-width or ASCII question mark.
    """
    dialogues = corpus.dialogues
    messages = _ordered_messages(corpus.utterances)
    index = dialogues.index
    ids = messages["dialogue_id"].to_numpy()
    session = pd.Index(index).get_indexer(ids)
    if (session < 0).any():
        raise ValueError("utterances belong to sessions missing from dialogues")
    is_client = messages["role"].astype(str).to_numpy() == "client"
    length = messages["length"].to_numpy(dtype=float)
    n = len(index)

    def per_session(values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        if mask is None:
            return np.bincount(session, weights=values, minlength=n)
        return np.bincount(session[mask], weights=values[mask], minlength=n)

    ones = np.ones(len(ids))
    client_n, counselor_n = per_session(ones, is_client), per_session(ones, ~is_client)
    client_chars, counselor_chars = per_session(length, is_client), per_session(length, ~is_client)
    codes = messages["role"].cat.codes.to_numpy()
    turn_start = np.r_[True, (ids[1:] != ids[:-1]) | (codes[1:] != codes[:-1])]
    text = messages["text"].astype(str).str.rstrip()
    question = text.str.endswith(QUESTION_ENDINGS).to_numpy(dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame = pd.DataFrame({
            "score": dialogues["score"].to_numpy(),
            "client_chars": client_chars,
            "counselor_chars": counselor_chars,
            "n_messages": client_n + counselor_n,
            "n_turns": per_session(turn_start.astype(float)),
            "duration_min": dialogues["duration_min"].to_numpy(dtype=float),
            "counselor_chars_per_message": counselor_chars / counselor_n,
            "client_chars_per_message": client_chars / client_n,
            "client_char_share": client_chars / (client_chars + counselor_chars),
            "counselor_question_rate": per_session(question.astype(float), ~is_client) / counselor_n,
        }, index=index)
    for responder in ("counselor", "client"):
        frame[f"{responder}_response_time_s"] = mean_response_time(messages, responder).reindex(index)
    return frame[["score", *FEATURES]]


def _weighted_midranks(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Ranks of ``values`` within each resample (rows of ``weights``: how often each value is drawn);
    tied values share their mean rank. Values drawn 0 times get a rank that receives no weight."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    starts = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    group = np.cumsum(starts) - 1
    ends = np.r_[np.flatnonzero(starts)[1:], len(values)] - 1
    cumulative = np.cumsum(weights[:, order], axis=1, dtype=float)[:, ends]
    before = np.concatenate([np.zeros((len(weights), 1)), cumulative[:, :-1]], axis=1)
    midrank = before + (cumulative - before + 1) / 2
    ranks = np.empty(weights.shape)
    ranks[:, order] = midrank[:, group]
    return ranks


def _weighted_pearson(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Pearson r per row of ``weights``; ``x``/``y`` are vectors or (rows × n) matrices."""
    total = weights.sum(axis=1, keepdims=True)
    mx = (weights * x).sum(axis=1, keepdims=True) / total
    my = (weights * y).sum(axis=1, keepdims=True) / total
    dx, dy = x - mx, y - my
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = (weights * dx ** 2).sum(axis=1) * (weights * dy ** 2).sum(axis=1)
        return (weights * dx * dy).sum(axis=1) / np.sqrt(spread)


def bootstrap_correlation(
    x, y, *, method: str = "spearman", n_bootstrap: int = 1000, seed: int = 0, confidence: float = 0.95,
    chunk: int = 200,
) -> dict[str, float]:
    """Correlation of x and y (pairs with a NaN dropped) with a percentile bootstrap CI over resampled
    pairs. All resamples are evaluated at once (:func:`bootstrap_counts`, in chunks of ``chunk``);
    Spearman ρ of a resample ranks the resampled values afresh. Resamples with an undefined r (a
    constant variable) are dropped. Returns ``n``, ``r``, ``ci_low``, ``ci_high``, ``p_value``
    (scipy's test of r = 0) and ``n_bootstrap`` (resamples used)."""
    check_method(method)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = len(x)
    result = {"n": n, "r": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan, "n_bootstrap": 0}
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return result
    test = stats.spearmanr(x, y) if method == "spearman" else stats.pearsonr(x, y)
    result["r"], result["p_value"] = float(test[0]), float(test[1])
    counts = bootstrap_counts(n, n_bootstrap, seed)
    boot = []
    for start in range(0, n_bootstrap, chunk):
        weights = counts[start:start + chunk].astype(float)
        if method == "spearman":
            boot.append(_weighted_pearson(_weighted_midranks(x, weights), _weighted_midranks(y, weights), weights))
        else:
            boot.append(_weighted_pearson(x, y, weights))
    values = np.concatenate(boot)
    values = values[np.isfinite(values)]
    if values.size:
        result["ci_low"], result["ci_high"] = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    result["n_bootstrap"] = int(values.size)
    return result


def feature_correlations(
    features: pd.DataFrame, *, target: str = "score", method: str = "spearman", n_bootstrap: int = 1000,
    seed: int = 0, columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Correlation (``method``) of every feature column with ``target``, with percentile bootstrap 95 %
    CIs (sessions resampled; pairs with a missing feature dropped). Rows in :data:`FEATURES` order with
    labels; ``reported_key`` names the paper's value where there is one (Spearman only)."""
    columns = [c for c in (columns or FEATURES) if c in features and c != target]
    rows = []
    for column in columns:
        result = bootstrap_correlation(features[column], features[target], method=method,
                                       n_bootstrap=n_bootstrap, seed=seed)
        label_ja, label_en, unit = FEATURES.get(column, (column, column, ""))
        rows.append({"feature": column, "label_ja": label_ja, "label_en": label_en, "unit": unit,
                     "method": method, **result,
                     "reported_key": REPORTED_FEATURES.get(column, "") if method == "spearman" else ""})
    return pd.DataFrame(rows).set_index("feature")


def reported_spearman(features: pd.DataFrame, target: str = "score") -> dict[str, float]:
    """Spearman ρ of the features the paper reports (:data:`REPORTED_FEATURES`) with ``target``,
    keyed by their reported.csv key (always Spearman, whatever method the notebook uses)."""
    out = {}
    for column, key in REPORTED_FEATURES.items():
        pair = features[[column, target]].dropna()
        out[key] = float(stats.spearmanr(pair[column], pair[target])[0]) if len(pair) > 2 else float("nan")
    return out


def response_time_definitions(corpus) -> pd.DataFrame:
    """Spearman ρ between score and the counselor response time under the candidate definitions:
    the per-session mean or median of the gaps of :func:`response_gaps` (client message → next
    counselor message). Which one the paper used is not stated; the table shows how much it matters."""
    gaps = response_gaps(corpus.utterances, "counselor").groupby("dialogue_id")["gap_s"]
    scores = corpus.dialogues["score"]
    rows = []
    for name, values in (("mean per session", gaps.mean()), ("median per session", gaps.median())):
        pair = pd.DataFrame({"x": values, "score": scores}).dropna()
        rho = stats.spearmanr(pair["x"], pair["score"])[0] if len(pair) > 2 else np.nan
        rows.append({"definition": name, "sessions": len(pair), "spearman_rho": float(rho)})
    return pd.DataFrame(rows).set_index("definition")


# --------------------------------------------------------------------------- 5. subsets

SUBSET_ORDER = ("low", "high", "full", "test", "all")


def subset_statistics(corpus, subsets: Sequence[str] = SUBSET_ORDER) -> pd.DataFrame:
    """Corpus statistics of each score subset side by side (columns: subsets; rows: sessions, messages
    per session by role, characters per message by role, merged turns per session, score mean and
    median, session length mean and median in minutes)."""
    columns = {}
    for name in subsets:
        part = corpus.subset(name)
        d, u = part.dialogues, part.utterances
        role = u["role"].astype(str)
        n = len(d)
        row = {"sessions": n}
        with np.errstate(invalid="ignore", divide="ignore"):
            row["messages_per_session"] = len(u) / n if n else np.nan
            for who in schema.ROLES:
                row[f"{who}_messages_per_session"] = (role == who).sum() / n if n else np.nan
            row["chars_per_message"] = u["length"].mean() if len(u) else np.nan
            for who in schema.ROLES:
                mine = u.loc[role == who, "length"]
                row[f"{who}_chars_per_message"] = mine.mean() if len(mine) else np.nan
        ids, codes = u["dialogue_id"].to_numpy(), u["role"].cat.codes.to_numpy()
        turns = int(np.r_[True, (ids[1:] != ids[:-1]) | (codes[1:] != codes[:-1])].sum()) if len(u) else 0
        row["turns_per_session"] = turns / n if n else np.nan
        row["score_mean"] = d["score"].mean() if n else np.nan
        row["score_median"] = d["score"].median() if n else np.nan
        row["duration_min_mean"] = d["duration_min"].mean() if n else np.nan
        row["duration_min_median"] = d["duration_min"].median() if n else np.nan
        columns[name] = row
    frame = pd.DataFrame(columns)
    frame.index.name = "statistic"
    return frame


# --------------------------------------------------------------------------- 6. who drives the score


def icc_oneway(values, groups, *, confidence: float = 0.95) -> dict[str, float]:
    """One-way random-effects intraclass correlation ICC(1) (Shrout & Fleiss 1979), ANOVA estimator:

        ICC(1) = (MSB − MSW) / (MSB + (k0 − 1) · MSW),
        k0 = (N − Σ n_g² / N) / (G − 1)   (mean group size, adjusted for unequal sizes)

    with MSB/MSW the between/within-group mean squares of G groups and N observations: the share of
    variance due to the grouping. CI from the F distribution (exact for equal group sizes, the usual
    approximation with k0 otherwise): F_L = F / F_{1−α/2}(G−1, N−G), F_U = F · F_{1−α/2}(N−G, G−1),
    bounds (F_x − 1) / (F_x + k0 − 1). Observations with a missing value are dropped."""
    frame = pd.DataFrame({"y": np.asarray(values, dtype=float), "g": np.asarray(groups)}).dropna()
    sizes = frame.groupby("g")["y"].size()
    n_obs, n_groups = len(frame), len(sizes)
    if n_groups < 2 or n_obs <= n_groups:
        raise ValueError(f"need at least 2 groups and more observations than groups (got {n_groups}, {n_obs})")
    means = frame.groupby("g")["y"].mean()
    grand = frame["y"].mean()
    ssb = float((sizes * (means - grand) ** 2).sum())
    ssw = float(((frame["y"] - frame["g"].map(means)) ** 2).sum())
    df1, df2 = n_groups - 1, n_obs - n_groups
    msb, msw = ssb / df1, ssw / df2
    k0 = (n_obs - (sizes ** 2).sum() / n_obs) / df1
    icc = (msb - msw) / (msb + (k0 - 1) * msw)
    f = msb / msw if msw > 0 else np.inf
    alpha = 1 - confidence
    f_low = f / stats.f.ppf(1 - alpha / 2, df1, df2)
    f_high = f * stats.f.ppf(1 - alpha / 2, df2, df1)
    with np.errstate(invalid="ignore", divide="ignore"):  # no within-group variance: F = ∞, no interval
        low, high = (f_low - 1) / (f_low + k0 - 1), (f_high - 1) / (f_high + k0 - 1)
    return {
        "icc": float(icc), "ci_low": float(low),
        "ci_high": float(high), "F": float(f), "df_between": df1, "df_within": df2,
        "p_value": float(stats.f.sf(f, df1, df2)), "groups": n_groups, "observations": n_obs, "k0": float(k0),
        "ms_between": msb, "ms_within": msw,
    }


GROUPINGS = {
    "client_id": ("評価者（クライアント役）", "Rater (client_id)"),
    "counselor_id": ("カウンセラー役", "Counselor (counselor_id)"),
}


def icc_table(dialogues: pd.DataFrame, value: str = "score", *, confidence: float = 0.95) -> pd.DataFrame:
    """ICC(1) of ``value`` for the rater (``client_id``) and the counselor (``counselor_id``) groupings,
    each fitted alone (one-way random effects, ANOVA estimator, F-based CI; see :func:`icc_oneway`)."""
    rows = []
    for column, (label_ja, label_en) in GROUPINGS.items():
        try:
            result = icc_oneway(dialogues[value], dialogues[column], confidence=confidence)
        except ValueError:  # too few sessions per group to estimate (e.g. a small topic)
            result = {"icc": np.nan, "ci_low": np.nan, "ci_high": np.nan, "groups": dialogues[column].nunique(),
                      "observations": len(dialogues)}
        rows.append({"grouping": column, "label_ja": label_ja, "label_en": label_en,
                     "method": "ICC(1), one-way random effects, ANOVA", **result,
                     "sessions_per_group": result["observations"] / max(result["groups"], 1)})
    return pd.DataFrame(rows).set_index("grouping")


def crossed_variance_components(values, factor_a, factor_b, *, names: tuple[str, str] = ("a", "b")) -> pd.DataFrame:
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
    component (``names`` and ``residual``) with ``variance``, ``share`` (of their sum) and ``levels``;
    ``attrs`` hold the fitted mean and whether the optimiser converged."""
    frame = pd.DataFrame({"y": np.asarray(values, dtype=float), "a": np.asarray(factor_a),
                          "b": np.asarray(factor_b)}).dropna()
    model = _CrossedModel(frame["y"].to_numpy(), pd.factorize(frame["a"], sort=True)[0],
                          pd.factorize(frame["b"], sort=True)[0])
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
    variances = {names[0]: best.x[0] ** 2 * residual, names[1]: best.x[1] ** 2 * residual, "residual": residual}
    total = sum(variances.values())
    out = pd.DataFrame({"variance": variances, "share": {k: v / total for k, v in variances.items()},
                        "levels": {names[0]: model.qa, names[1]: model.qb, "residual": model.n}})
    out.index.name = "component"
    out.attrs.update(mean=float(mean), converged=bool(best.success), reml_criterion=float(best.fun))
    return out


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
        return (y_hy - one_hy ** 2 / one_h1) / (self.n - 1), one_hy / one_h1

    def criterion(self, root_gamma: np.ndarray) -> float:
        """Profiled −2 REML log-likelihood without constants."""
        logdet, one_h1, one_hy, y_hy = self._forms(root_gamma)
        rss = y_hy - one_hy ** 2 / one_h1
        return float((self.n - 1) * np.log(rss / (self.n - 1)) + logdet + np.log(one_h1))


def score_variance_components(dialogues: pd.DataFrame, value: str = "score") -> pd.DataFrame:
    """:func:`crossed_variance_components` of ``value`` with the rater (``client_id``) and the counselor
    (``counselor_id``) as crossed random factors. When the data cannot identify the model (too few
    sessions or levels) the variances are NaN and ``attrs["note"]`` says why."""
    try:
        return crossed_variance_components(dialogues[value], dialogues["client_id"], dialogues["counselor_id"],
                                           names=("client_id", "counselor_id"))
    except ValueError as error:
        out = pd.DataFrame({"variance": np.nan, "share": np.nan,
                            "levels": [dialogues["client_id"].nunique(), dialogues["counselor_id"].nunique(),
                                       len(dialogues)]},
                           index=pd.Index(["client_id", "counselor_id", "residual"], name="component"))
        out.attrs["note"] = f"not estimable: {error}"
        return out


def counselor_experience(dialogues: pd.DataFrame) -> pd.Series:
    """For each session, the how-many-th session it is for its counselor (1 = first), by
    ``start_time`` and, for equal start times, by ``dialogue_id``. Counted within ``dialogues`` (so a
    restricted corpus counts only its own sessions)."""
    order = dialogues[["counselor_id", "start_time"]].assign(_id=dialogues.index).sort_values(
        ["counselor_id", "start_time", "_id"], kind="mergesort")
    rank = order.groupby("counselor_id").cumcount() + 1
    return rank.reindex(dialogues.index).rename("experience")


EXPERIENCE_BINS = (1, 2, 6, 11, 21, 51, 101)
"""Lower edges of the experience bins: 1, 2–5, 6–10, 11–20, 21–50, 51–100, 101+."""


def experience_bins(dialogues: pd.DataFrame, edges: Sequence[int] = EXPERIENCE_BINS,
                    confidence: float = 0.95) -> pd.DataFrame:
    """Mean score (Student-t CI) of sessions by the counselor's experience (see
    :func:`counselor_experience`), in bins starting at ``edges``; also sessions and counselors per bin."""
    experience = counselor_experience(dialogues)
    edges = list(edges)
    labels = [f"{lo}" if hi - lo == 1 else f"{lo}–{hi - 1}" for lo, hi in zip(edges, edges[1:])] + [f"{edges[-1]}+"]
    bins = pd.cut(experience, edges + [np.inf], right=False, labels=labels)
    frame = pd.DataFrame({"bin": bins, "score": dialogues["score"], "counselor": dialogues["counselor_id"]})
    grouped = frame.groupby("bin", observed=False)
    out = pd.DataFrame({
        "first": edges, "sessions": grouped.size(), "counselors": grouped["counselor"].nunique(),
        "mean_score": grouped["score"].mean(), "sd": grouped["score"].std(),
    })
    out["ci_low"], out["ci_high"] = _t_interval(out["mean_score"].to_numpy(), out["sd"].to_numpy(),
                                                out["sessions"].to_numpy(), confidence)
    out.index = out.index.astype(str)
    out.index.name = "experience"
    return out


def experience_correlation(dialogues: pd.DataFrame, *, method: str = "spearman", n_bootstrap: int = 1000,
                           seed: int = 0) -> pd.DataFrame:
    """Score against counselor experience: the pooled correlation (``method``, bootstrap CI) and the
    within-counselor Pearson r (experience and score both centred on each counselor's mean, so stable
    differences between counselors cannot create it; counselors with one session drop out). Both CIs
    resample sessions as if independent."""
    experience = counselor_experience(dialogues).astype(float)
    pooled = bootstrap_correlation(experience, dialogues["score"], method=method, n_bootstrap=n_bootstrap, seed=seed)
    groups = dialogues["counselor_id"]
    centred_x = experience - experience.groupby(groups).transform("mean")
    centred_y = dialogues["score"] - dialogues["score"].groupby(groups).transform("mean")
    several = groups.map(groups.value_counts()) > 1
    within = bootstrap_correlation(centred_x[several], centred_y[several], method="pearson",
                                   n_bootstrap=n_bootstrap, seed=seed)
    return pd.DataFrame([
        {"estimate": f"pooled ({method})", **pooled},
        {"estimate": "within counselor (pearson, centred)", **within},
    ]).set_index("estimate")


# --------------------------------------------------------------------------- 7. keyness


def counselor_lemma_counts(corpus, tokens, *, threshold: int = HIGH_SCORE) -> pd.DataFrame:
    """Content-word lemma counts of counselor messages in sessions with score ≥ ``threshold`` (column
    ``high``) and < ``threshold`` (``low``), with ``counselors`` (distinct counselor_ids using the
    lemma) and ``surface`` (its most frequent written form in these messages; UniDic lemmas can be
    spelled unusually, e.g. 迚も for とても). ``tokens``: the run's ``Tokens``; content words are
    ``Tokens.content()``."""
    utterances = corpus.utterances
    dialogues = corpus.dialogues
    columns = {"high": np.int64, "low": np.int64, "counselors": np.int64, "surface": object}
    table = tokens.content().table
    if len(utterances) == 0 or len(table) == 0:
        return pd.DataFrame({k: pd.Series(dtype=v) for k, v in columns.items()}).rename_axis("lemma")
    session_high = utterances["dialogue_id"].map(dialogues["score"] >= threshold).to_numpy(dtype=bool)
    counselor_code = pd.factorize(utterances["dialogue_id"].map(dialogues["counselor_id"]))[0]
    is_counselor = utterances["role"].astype(str).to_numpy() == "counselor"
    labels = utterances.index.to_numpy()
    size = max(int(labels.max()), int(table["utterance"].max())) + 1
    group_of = np.full(size, -1, dtype=np.int64)
    group_of[labels[is_counselor]] = session_high[is_counselor]
    speaker_of = np.zeros(size, dtype=np.int64)
    speaker_of[labels] = counselor_code
    token_utterance = table["utterance"].to_numpy()
    group = group_of[token_utterance]
    lemma_codes = table["lemma"].cat.codes.to_numpy().astype(np.int64)
    surface_codes = table["surface"].cat.codes.to_numpy().astype(np.int64)
    keep = (group >= 0) & (lemma_codes >= 0)
    if not keep.any():
        return pd.DataFrame({k: pd.Series(dtype=v) for k, v in columns.items()}).rename_axis("lemma")
    group, lemma_codes, surface_codes = group[keep], lemma_codes[keep], surface_codes[keep]
    speaker = speaker_of[token_utterance[keep]]
    lemmas = table["lemma"].cat.categories
    n_lemmas = len(lemmas)
    counts = np.bincount(lemma_codes * 2 + group, minlength=2 * n_lemmas).reshape(n_lemmas, 2)
    pairs = np.unique(lemma_codes * (speaker.max() + 1) + speaker)
    counselors = np.bincount(pairs // (speaker.max() + 1), minlength=n_lemmas)
    n_surfaces = len(table["surface"].cat.categories)
    surface_pairs, surface_counts = np.unique(lemma_codes * n_surfaces + surface_codes, return_counts=True)
    order = np.lexsort((surface_pairs, -surface_counts, surface_pairs // n_surfaces))  # most frequent first
    best = surface_pairs[order]
    first = np.r_[True, best[1:] // n_surfaces != best[:-1] // n_surfaces]
    surface = np.full(n_lemmas, None, dtype=object)
    surfaces = np.asarray(table["surface"].cat.categories, dtype=object)
    surface[best[first] // n_surfaces] = surfaces[best[first] % n_surfaces]
    frame = pd.DataFrame({"high": counts[:, 1], "low": counts[:, 0], "counselors": counselors, "surface": surface},
                         index=pd.Index(lemmas, name="lemma"))
    return frame[(frame["high"] + frame["low"]) > 0]


def counselor_keyness(counts: pd.DataFrame, *, min_count: int = 20) -> pd.DataFrame:
    """Log-odds with informative Dirichlet prior (:func:`kokoro_analysis.keyness.log_odds_dirichlet`,
    pooled counts as prior) of each lemma in high- against low-scored sessions; positive z: over-used in
    high-scored sessions. Lemmas seen fewer than ``min_count`` times in both groups together are dropped.
    ``counselors`` and ``surface`` are carried over from ``counts``."""
    from .keyness import log_odds_dirichlet

    if counts.empty or counts["high"].sum() == 0 or counts["low"].sum() == 0:
        return pd.DataFrame(columns=["delta", "z", "count_group", "count_other", "rate_group", "rate_other",
                                     "counselors", "surface"]).rename_axis("word")
    scores = log_odds_dirichlet(counts["high"], counts["low"], min_count=min_count)
    return scores.join(counts[["counselors", "surface"]])


def top_keywords(keyness: pd.DataFrame, top: int = 15, *, min_counselors: int = 1) -> pd.DataFrame:
    """The ``top`` lemmas over-used in high- and in low-scored sessions (by z, positive and negative
    respectively), counting only lemmas used by at least ``min_counselors`` distinct counselors (so one
    counselor's idiosyncrasy cannot top the list). Columns: direction, rank, lemma, surface, z, delta,
    counts and rates per 1,000 content tokens in each group, counselors."""
    usable = keyness[keyness["counselors"] >= min_counselors] if len(keyness) else keyness
    high = usable[usable["z"] > 0].head(top).assign(direction="high")
    low = usable[usable["z"] < 0].sort_values("z", kind="mergesort").head(top).assign(direction="low")
    out = pd.concat([high, low]).rename_axis("lemma").reset_index()
    out.insert(0, "rank", np.r_[np.arange(1, len(high) + 1), np.arange(1, len(low) + 1)].astype(int))
    out.insert(0, "direction", out.pop("direction"))
    out.insert(3, "surface", out.pop("surface"))
    return out.rename(columns={"count_group": "count_high", "count_other": "count_low",
                               "rate_group": "per_1000_high", "rate_other": "per_1000_low"})


def keyness_table(corpus, tokens, *, top: int = 15, min_count: int = 20, min_counselors: int | None = None,
                  threshold: int = HIGH_SCORE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counselor lemmas of high- (score ≥ ``threshold``) against low-scored sessions: returns (the
    ``top`` lemmas each way, see :func:`top_keywords`; the full log-odds table). ``min_counselors``
    defaults to 10 or a tenth of the run's counselors, whichever is smaller (at least 1)."""
    if min_counselors is None:
        min_counselors = max(1, min(10, corpus.dialogues["counselor_id"].nunique() // 10))
    scores = counselor_keyness(counselor_lemma_counts(corpus, tokens, threshold=threshold), min_count=min_count)
    table = top_keywords(scores, top, min_counselors=min_counselors)
    table.attrs["min_counselors"] = min_counselors
    return table, scores


# --------------------------------------------------------------------------- 8. check flags


def flag_table(dialogues: pd.DataFrame, *, top_topics: int = 3) -> pd.DataFrame:
    """Per check flag: Japanese and English labels, sessions with the flag, share (%), mean score, mean
    item sum, sessions where another flag is also set, and the most frequent main topics."""
    rows = []
    flags = dialogues[list(schema.FLAG_KEYS)].astype(bool)
    item_sum = dialogues[list(ITEM_KEYS)].sum(axis=1)
    for flag in schema.FLAGS:
        mask = flags[flag.key]
        others = flags.drop(columns=flag.key).any(axis=1)
        topics = dialogues.loc[mask, "topic_main_en"].value_counts().head(top_topics)
        rows.append({
            "flag": flag.key, "label_ja": flag.label_ja, "label_en": flag.label_en,
            "sessions": int(mask.sum()), "share_pct": 100 * mask.mean() if len(mask) else np.nan,
            "mean_score": dialogues.loc[mask, "score"].mean() if mask.any() else np.nan,
            "mean_item_sum": item_sum[mask].mean() if mask.any() else np.nan,
            "with_other_flag": int((mask & others).sum()),
            "top_topics": "; ".join(f"{t} ({c})" for t, c in topics.items()),
        })
    return pd.DataFrame(rows).set_index("flag")


def flag_topics(dialogues: pd.DataFrame) -> pd.DataFrame:
    """Sessions per main topic (rows, English names) with each flag set (columns), topics with none dropped."""
    flags = dialogues[list(schema.FLAG_KEYS)].astype(bool)
    table = flags.groupby(dialogues["topic_main_en"]).sum().astype(int)
    table = table[table.sum(axis=1) > 0]
    table.index.name = "topic"
    return table.sort_values(list(schema.FLAG_KEYS), ascending=False)
