"""How the 20 feedback items hang together: their inter-correlations and the structure behind them.

* :func:`item_correlation_matrix`, :func:`item_correlations`: item × item correlations (``method`` of
  :data:`ITEM_METHODS`: Spearman = Pearson on average ranks, Pearson, or polychoric = the items read as
  ordinal cuts of correlated normal variables, :func:`kokoro_analysis.stats.ordinal.polychoric_matrix`); a
  constant item gives NaN.
* :func:`eigen_table`: eigenvalues of the item correlation matrix (NaN entries as 0), their share of the
  total variance and cumulative share (%), Horn's parallel analysis (each item column shuffled
  independently; threshold = 95th percentile of the null eigenvalues) and the Kaiser rule (eigenvalue > 1);
  :func:`retention_comparison` sets these side by side for the three correlation types.
* :func:`loadings_table`: principal-component loadings (eigenvector × √eigenvalue; correlations of item and
  component), unrotated and varimax-rotated with Kaiser normalisation; communality = sum of squared loadings.
* :func:`cluster_order`, :func:`extreme_pairs`: average-linkage clustering of the items on the distance
  1 − r, and the most and least correlated item pairs.

These use the item answers (0–5), never ``score``; conventions as in :mod:`kokoro_analysis.analyses.feedback.scores`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform

from kokoro_analysis.analyses.feedback.resample_cache import cached_table
from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.schema import ITEM_KEYS
from kokoro_analysis.published import TableSpec, Words, register
from kokoro_analysis.reported import Record
from kokoro_analysis.stats.correlation import check_method, correlation_matrix
from kokoro_analysis.stats.ordinal import (
    polychoric_matrices,
    polychoric_matrix,
    standardized_alpha,
)

# --------------------------------------------------------------------------- inter-item correlations

ITEM_METHODS = ("spearman", "pearson", "polychoric")
"""Correlation types of the item analyses."""
ITEM_CORRELATIONS = {
    "spearman": Words("Spearman ρ", "スピアマンの ρ"),
    "pearson": Words("Pearson r", "ピアソンの r"),
    "polychoric": Words("polychoric r", "ポリコリック相関"),
}


def item_correlation_matrix(values: np.ndarray, method: str = "spearman") -> np.ndarray:
    """Correlation matrix of the item columns of ``values`` by ``method`` (:data:`ITEM_METHODS`)."""
    if method == "polychoric":
        return polychoric_matrix(values)
    return correlation_matrix(values, check_method(method))


def item_correlations(dialogues: pd.DataFrame, method: str = "spearman") -> pd.DataFrame:
    """Item × item correlation matrix (``method``), indexed by item key in questionnaire order."""
    frame = pd.DataFrame(
        item_correlation_matrix(schema.item_matrix(dialogues, dtype=float), method),
        index=list(ITEM_KEYS),
        columns=list(ITEM_KEYS),
    )
    frame.attrs["correlation"] = ITEM_CORRELATIONS[method]
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
    values: np.ndarray,
    method: str = "spearman",
    *,
    n_iter: int = 100,
    seed: int = 0,
    quantile: float = 0.95,
) -> pd.DataFrame:
    """Horn's parallel analysis by permutation: each item column is shuffled independently (which keeps
    every item's answer distribution and destroys the correlations), and the eigenvalues of the
    shuffled data's correlation matrix (``method`` of :data:`ITEM_METHODS`; the same type as the
    observed matrix) are collected over ``n_iter`` shuffles. Returns per component the mean and the
    ``quantile`` of those null eigenvalues."""
    matrix = np.asarray(values, dtype=float)
    if method == "spearman":
        matrix = stats.rankdata(matrix, axis=0)  # ranks of a shuffled column = shuffled ranks
    elif method not in ITEM_METHODS:
        raise ValueError(f"method must be one of {ITEM_METHODS}, not {method!r}")
    rng = np.random.default_rng(seed)
    shuffles = (rng.permuted(matrix, axis=0) for _ in range(n_iter))
    if method == "polychoric":  # the shuffles keep the thresholds: searched together
        matrices = polychoric_matrices(shuffles)
    else:
        matrices = (correlation_matrix(shuffled, "pearson") for shuffled in shuffles)
    null = np.empty((n_iter, matrix.shape[1]))
    for i, corr in enumerate(matrices):
        null[i] = eigenvalues(corr)
    columns = {
        "null_mean": null.mean(axis=0),
        f"null_q{round(quantile * 100)}": np.quantile(null, quantile, axis=0),
    }
    return pd.DataFrame(columns, index=pd.RangeIndex(1, matrix.shape[1] + 1, name="component"))


def eigen_table(
    dialogues: pd.DataFrame, method: str = "spearman", *, n_iter: int = 100, seed: int = 0
) -> pd.DataFrame:
    """Eigenvalues of the item correlation matrix with explained share and cumulative share (%),
    the parallel-analysis threshold (95th percentile of permutation eigenvalues) and whether each
    component is retained by parallel analysis (all components up to the first one below the
    threshold) and by the Kaiser rule (eigenvalue > 1). ``method``: :data:`ITEM_METHODS`."""
    matrix = schema.item_matrix(dialogues, dtype=float)
    values = eigenvalues(item_correlation_matrix(matrix, method))
    frame = pd.DataFrame(
        {"eigenvalue": values}, index=pd.RangeIndex(1, len(values) + 1, name="component")
    )
    frame["share_pct"] = 100 * values / values.sum()
    frame["cumulative_pct"] = frame["share_pct"].cumsum()
    null = parallel_analysis(matrix, method, n_iter=n_iter, seed=seed)
    frame = frame.join(null)
    above = frame["eigenvalue"] > frame["null_q95"]
    frame["retained_parallel"] = above & above.cumprod().astype(bool)
    frame["retained_kaiser"] = frame["eigenvalue"] > 1
    frame.attrs.update(correlation=ITEM_CORRELATIONS[method], n_iter=n_iter)
    return frame


def retention_comparison(
    dialogues: pd.DataFrame,
    methods=ITEM_METHODS,
    *,
    n_iter: int = 100,
    seed: int = 0,
    shown: int = 3,
) -> pd.DataFrame:
    """One row per correlation type (``methods``): the first ``shown`` eigenvalues and their
    parallel-analysis thresholds (:func:`eigen_table`), the first component's share (%), the number of
    components retained by parallel analysis and by the Kaiser rule, and the standardised alpha of the
    matrix (ordinal alpha for polychoric). Cached on the answers and parameters (the polychoric
    parallel analysis takes seconds; :mod:`~kokoro_analysis.analyses.feedback.resample_cache`)."""
    matrix = schema.item_matrix(dialogues, dtype=float)
    out = cached_table(
        "retention-comparison",
        1,
        [matrix, list(methods), n_iter, seed, shown],
        lambda: _retention_comparison(dialogues, matrix, methods, n_iter, seed, shown),
    )
    out.attrs["n_iter"] = n_iter
    return out


def _retention_comparison(dialogues, matrix, methods, n_iter, seed, shown) -> pd.DataFrame:
    """The table of :func:`retention_comparison`, computed (without its ``attrs``)."""
    rows = []
    for method in methods:
        eigen = eigen_table(dialogues, method, n_iter=n_iter, seed=seed)
        row = {"method": method, "pc1_share_pct": float(eigen.loc[1, "share_pct"])}
        for c in range(1, min(shown, len(eigen)) + 1):
            row[f"eigenvalue_{c}"] = float(eigen.loc[c, "eigenvalue"])
            row[f"null_q95_{c}"] = float(eigen.loc[c, "null_q95"])
        row["retained_parallel"] = int(eigen["retained_parallel"].sum())
        row["retained_kaiser"] = int(eigen["retained_kaiser"].sum())
        row["standardized_alpha"] = standardized_alpha(item_correlation_matrix(matrix, method))
        rows.append(row)
    return pd.DataFrame(rows).set_index("method")


def varimax(
    loadings: np.ndarray, *, normalize: bool = True, max_iter: int = 500, tol: float = 1e-10
) -> np.ndarray:
    """Varimax rotation (Kaiser 1958) of a (items × factors) loading matrix; with ``normalize`` the
    rows are scaled to unit communality before rotating and back after (Kaiser normalisation, as R's
    ``varimax``). Returns the rotated loadings."""
    matrix = np.asarray(loadings, dtype=float)
    p, k = matrix.shape
    if k < 2:
        return matrix.copy()
    scale = np.sqrt((matrix**2).sum(axis=1, keepdims=True)) if normalize else np.ones((p, 1))
    scale[scale == 0] = 1
    x = matrix / scale
    rotation = np.eye(k)
    criterion = 0.0
    for _ in range(max_iter):
        rotated = x @ rotation
        u, s, vt = np.linalg.svd(
            x.T @ (rotated**3 - rotated @ np.diag((rotated**2).sum(axis=0)) / p)
        )
        rotation = u @ vt
        new = s.sum()
        if new < criterion * (1 + tol):
            break
        criterion = new
    return x @ rotation * scale


def component_loadings(
    dialogues: pd.DataFrame, method: str = "spearman", n_components: int = 2, *, rotate: bool = True
) -> pd.DataFrame:
    """Loadings of the first ``n_components`` principal components of the item correlation matrix
    (eigenvector × √eigenvalue), varimax-rotated when ``rotate``. Each component's sign makes its
    loadings sum positive; rotated components are ordered by explained variance. Columns ``C1``…
    (``RC1``… when rotated) plus ``communality``; rows: items with number, labels and block."""
    corr = _usable_correlation(
        item_correlation_matrix(schema.item_matrix(dialogues, dtype=float), method)
    )
    values, vectors = np.linalg.eigh(corr)
    order = np.argsort(values)[::-1][:n_components]
    loadings = vectors[:, order] * np.sqrt(np.clip(values[order], 0, None))
    if rotate:
        loadings = varimax(loadings)
        loadings = loadings[:, np.argsort(-(loadings**2).sum(axis=0), kind="stable")]
    loadings = loadings * np.where(loadings.sum(axis=0) < 0, -1, 1)
    prefix = "RC" if rotate and n_components > 1 else "C"
    frame = schema.item_frame()
    for j in range(loadings.shape[1]):
        frame[f"{prefix}{j + 1}"] = loadings[:, j]
    frame["communality"] = (loadings**2).sum(axis=1)
    return frame


def loadings_table(
    dialogues: pd.DataFrame, method: str = "spearman", n_rotated: int = 3
) -> pd.DataFrame:
    """Unrotated loadings on the first principal component (``C1``, the general factor) next to the
    varimax-rotated loadings of the first ``n_rotated`` components (``RC1``…) and their communality.
    The table's declaration (:data:`LOADINGS`) states the correlation type and the rotation."""
    first = component_loadings(dialogues, method, 1, rotate=False)
    rotated = component_loadings(dialogues, method, n_rotated, rotate=True)
    rotated.insert(4, "C1", first["C1"])
    rotated.attrs.update(correlation=ITEM_CORRELATIONS[method], n_rotated=n_rotated)
    return rotated


def cluster_order(
    corr: pd.DataFrame | np.ndarray, *, method: str = "average"
) -> tuple[np.ndarray, np.ndarray]:
    """Hierarchical clustering of items on the distance 1 − r (``method`` linkage, optimal leaf
    ordering). Returns (leaf order as positions, scipy linkage matrix)."""
    matrix = _usable_correlation(np.asarray(corr, dtype=float))
    distance = np.clip(1 - matrix, 0, 2)
    np.fill_diagonal(distance, 0)
    distance = (distance + distance.T) / 2
    link = hierarchy.linkage(
        squareform(distance, checks=False), method=method, optimal_ordering=True
    )
    return hierarchy.leaves_list(link), link


def extreme_pairs(corr: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The ``n`` most and ``n`` least correlated item pairs (upper triangle, NaN pairs dropped)."""
    keys = list(corr.index)
    rows, cols = np.triu_indices(len(keys), 1)
    values = corr.to_numpy()[rows, cols]
    table = schema.item_table()
    pairs = (
        pd.DataFrame(
            {
                "item_a": [table.loc[keys[i], "number"] for i in rows],
                "item_b": [table.loc[keys[j], "number"] for j in cols],
                "label_a_ja": [table.loc[keys[i], "label_ja"] for i in rows],
                "label_b_ja": [table.loc[keys[j], "label_ja"] for j in cols],
                "label_a_en": [table.loc[keys[i], "label_en"] for i in rows],
                "label_b_en": [table.loc[keys[j], "label_en"] for j in cols],
                "r": values,
            }
        )
        .dropna(subset=["r"])
        .sort_values(["r", "item_a", "item_b"], ascending=[False, True, True], kind="mergesort")
    )
    strongest = pairs.head(n).assign(which="strongest")
    weakest = pairs.tail(n).iloc[::-1].assign(which="weakest")
    out = pd.concat([strongest, weakest], ignore_index=True)
    out.insert(0, "rank", np.r_[np.arange(1, len(strongest) + 1), np.arange(1, len(weakest) + 1)])
    out.insert(0, "which", out.pop("which"))
    return out


# --------------------------------------------------------------------------- reproduction records


def eigen_records(eigen: pd.DataFrame) -> list[Record]:
    """The first component's share of item variance and the components parallel analysis retains,
    from :func:`eigen_table` (not reported by the authors)."""
    return [
        Record(
            "feedback.items.pc1_share_pct",
            float(eigen.loc[1, "share_pct"]),
            quantity="Share of item variance on the first principal component",
            unit="percent",
        ),
        Record(
            "feedback.items.components_parallel_analysis",
            int(eigen["retained_parallel"].sum()),
            quantity="Components retained by parallel analysis (95th percentile)",
            unit="count",
        ),
    ]


def retention_records(retention: pd.DataFrame) -> list[Record]:
    """The ordinal (polychoric) standardized alpha from :func:`retention_comparison` (not reported by
    the authors)."""
    return [
        Record(
            "feedback.items.ordinal_alpha",
            float(retention.loc["polychoric", "standardized_alpha"]),
            quantity="Ordinal alpha of the 20 feedback items (polychoric)",
            unit="alpha",
        )
    ]


EIGENVALUES = TableSpec(
    "feedback_eigenvalues",
    title=Words(
        "Eigenvalues of the {correlation} item correlation matrix.",
        "項目間{correlation}行列の固有値。",
    ),
    method=Words(
        "Parallel analysis: each item column shuffled independently ({n_iter} shuffles, same "
        "correlation type), threshold the 95th percentile of the shuffled eigenvalues; Kaiser rule: "
        "eigenvalue above 1.",
        "平行分析：各項目の列を独立にシャッフル（{n_iter} 回、同じ相関）し、その固有値の95パーセンタイルを"
        "閾値とする。カイザー基準：固有値が1を超える。",
    ),
    number_format="{:.3f}",
    records=eigen_records,
)
LOADINGS = TableSpec(
    "feedback_loadings",
    title=Words(
        "Principal components of the {correlation} item correlation matrix.",
        "項目間{correlation}行列の主成分。",
    ),
    method=Words(
        "C1 unrotated; RC1 to RC{n_rotated} varimax-rotated (Kaiser normalisation), shown "
        "descriptively (parallel analysis gives the number of components to retain).",
        "C1 は回転なし、RC1〜RC{n_rotated} はバリマックス回転（カイザーの正規化）。記述のための表示で、"
        "保持する成分数は平行分析による。",
    ),
    number_format="{:.3f}",
)
RETENTION_COMPARISON = TableSpec(
    "feedback_retention_comparison",
    title=Words("Components retained by correlation type.", "相関の種類ごとに保持される成分数。"),
    method=Words(
        "Eigenvalues of the item correlation matrix and the 95th percentile of the eigenvalues of "
        "{n_iter} data sets with each item column shuffled independently; retained: components "
        "above that threshold (parallel analysis) or above 1 (Kaiser); standardised α of the "
        "matrix (ordinal α for the polychoric one).",
        "項目相関行列の固有値と、各項目の列を独立にシャッフルした {n_iter} 個のデータの固有値の95"
        "パーセンタイル。保持数：それを超える成分（平行分析）または1を超える成分（カイザー）。行列の標準化 α"
        "（ポリコリック相関では順序 α）。",
    ),
    records=retention_records,
)
ITEM_CORRELATION_TABLE = TableSpec(
    "feedback_item_correlations",
    title=Words(
        "Inter-item correlations ({correlation}), 20 × 20 items in questionnaire order.",
        "項目間の相関（{correlation}）、質問票順の20 × 20項目。",
    ),
    method=Words(
        "A data table: too wide for a paper page; the lower-triangle heatmap is the paper version.",
        "データ表（論文には広すぎる）。論文用は下三角のヒートマップ。",
    ),
    number_format="{:.3f}",
)
ITEM_PAIRS = TableSpec(
    "feedback_item_pairs",
    title=Words("Strongest and weakest item pairs.", "相関の最も強い・弱い項目の組。"),
    number_format="{:.3f}",
)
TABLES = register(EIGENVALUES, LOADINGS, RETENTION_COMPARISON, ITEM_CORRELATION_TABLE, ITEM_PAIRS)
"""The published tables of this module by name (:class:`kokoro_analysis.published.TableSpec`)."""
