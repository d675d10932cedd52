"""The score subsets of the paper (Low, High, Full, the test pool) side by side
(:func:`subset_statistics`), score tiers at percentiles (:func:`score_tiers`) and the mean score per
subset, tier and main topic with Student-t and cluster-bootstrap intervals (:func:`score_means`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kokoro_analysis.analyses.feedback.resample_cache import cached_table
from kokoro_analysis.analyses.feedback.uncertainty import cluster_labels
from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.measures import turns_per_session
from kokoro_analysis.published import TableSpec, Words, register
from kokoro_analysis.stats.distributions import group_mean_intervals
from kokoro_analysis.stats.resampling import take_clusters

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
    independent) and percentile cluster-bootstrap intervals of every scheme of :func:`~kokoro_analysis.analyses.feedback.uncertainty.cluster_labels`
    (two-way, the headline; raters; counselors) over the raters and counselors *of the group*
    (:func:`stats.distributions.group_mean_intervals`), with their numbers (``raters``, ``counselors``). Topics are
    sorted by mean; the declaration :data:`SCORE_MEANS` states the methods and the
    tier cut-offs (:func:`tier_cutoffs`). Cached on the sessions' scores, raters, counselors, topics
    and subsets and the parameters (:mod:`~kokoro_analysis.analyses.feedback.resample_cache`)."""
    dialogues = corpus.dialogues
    subsets = {name: dialogues.index.isin(corpus.subset_ids(name)) for name in SUBSET_ORDER}
    options = dict(n_bootstrap=n_bootstrap, seed=seed, confidence=confidence)
    used = dialogues[["score", "client_id", "counselor_id", "topic_main_en"]]
    out = cached_table(
        "score-means", 1, [used, subsets, options], lambda: _score_means(used, subsets, options)
    )
    out.attrs.update(
        n_bootstrap=n_bootstrap,
        cutoffs=", ".join(f"{c:g}" for c in tier_cutoffs(dialogues["score"]).values()),
    )
    return out


def _score_means(dialogues: pd.DataFrame, subsets: dict, options: dict) -> pd.DataFrame:
    """The table of :func:`score_means`, computed (without its ``attrs``)."""
    clusters = cluster_labels(dialogues)
    parts = []
    for name, mask in subsets.items():
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
    return out


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
TABLES = register(SUBSET_STATISTICS, SCORE_MEANS)
"""The published tables of this module by name (:class:`kokoro_analysis.published.TableSpec`)."""
