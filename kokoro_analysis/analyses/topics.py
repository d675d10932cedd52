"""Topic distribution: main-topic shares, sub-topic approximation, topics against score, year and
length, and the words that distinguish each topic.

* Main topics are the data's ``topic_main_en`` / ``topic_main_jp`` labels (GPT-4o-mini annotations;
  their figure labels and order are schema data, :data:`kokoro_analysis.corpus.schema.MAIN_TOPICS`);
  shares are percentages of all sessions analysed (6,589 in the full corpus). Their comparison with
  the authors' figure is :mod:`kokoro_analysis.analyses.topics_reported`, the published tables
  :mod:`kokoro_analysis.analyses.topics_tables`.
* The authors' sunburst also shows short English sub-topic labels that are not fields of the data
  (``topic_sub`` is free Japanese text, 5,421 distinct values). :func:`assign_subtopics` rebuilds
  them approximately with keyword rules (``data/subtopic_rules.csv``); unmatched sessions get
  :data:`~kokoro_analysis.corpus.schema.OTHER_SUBTOPIC`.
* :func:`word_topic_counts` and :func:`distinguishing_words_by_topic` find the lemmas that
  distinguish each topic (log-odds ratio with an informative Dirichlet prior, Monroe et al. 2008).
"""

from __future__ import annotations

import math
import os
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from kokoro_analysis.corpus.schema import (
    OTHER_SUBTOPIC,
    OTHER_SUBTOPIC_JA,
    OTHERS,
    topic_label,
    topic_order,
)
from kokoro_analysis.paths import PACKAGE_DATA_DIR
from kokoro_analysis.published import Interval, Words, name_headline
from kokoro_analysis.reported import Record
from kokoro_analysis.stats.distributions import describe, group_mean_intervals, t_interval
from kokoro_analysis.stats.resampling import TwoWay
from kokoro_analysis.text import keyness
from kokoro_analysis.text.glossary import gloss_of
from kokoro_analysis.text.tokens import lemma_label, message_positions

__all__ = [
    "CI_METHODS",
    "SCORE_CI_METHODS",
    "SUBTOPIC_RULES_CSV",
    "WORD_ROLES",
    "assign_subtopics",
    "distinguishing_words_by_topic",
    "length_by_topic",
    "load_subtopic_rules",
    "mean_ci",
    "rule_coverage",
    "rule_coverage_records",
    "score_by_topic",
    "subtopic_counts",
    "topic_share_by_year",
    "topic_shares",
    "word_topic_counts",
]

SUBTOPIC_RULES_CSV = PACKAGE_DATA_DIR / "subtopic_rules.csv"

WORD_ROLES = ("client", "counselor", "both")
"""Whose utterances :func:`word_topic_counts` counts."""
CI_METHODS = ("t", "bootstrap")
"""Intervals of :func:`mean_ci` (values treated as independent)."""
SCORE_CI_METHODS = ("two_way", *CI_METHODS)
"""Intervals of :func:`score_by_topic`: the two-way cluster bootstrap (headline) or :data:`CI_METHODS`."""


# --------------------------------------------------------------------------- main-topic shares


def topic_shares(dialogues: pd.DataFrame) -> pd.DataFrame:
    """Sessions and share of sessions per main topic.

    One row per (``topic_main_jp``, ``topic_main_en``) pair, in figure order ("Others" last):
    ``main_jp, main_en, label_en, label_ja, sessions, share_pct`` where ``share_pct`` = sessions /
    all sessions in ``dialogues`` × 100 (so the column sums to 100).
    """
    _require(dialogues, ["topic_main_jp", "topic_main_en"])
    if dialogues.empty:
        raise ValueError("no sessions")
    counts = dialogues.groupby(["topic_main_en", "topic_main_jp"], sort=False).size()
    if counts.index.get_level_values(0).duplicated().any():
        raise ValueError("a topic_main_en label has several topic_main_jp labels")
    counts = counts.reset_index(level=1)
    order = topic_order(counts.index)
    counts = counts.loc[order]
    table = pd.DataFrame(
        {
            "main_jp": counts["topic_main_jp"].to_numpy(),
            "main_en": order,
            "label_en": [topic_label(t, lang="en") for t in order],
            "label_ja": [topic_label(t, lang="ja") for t in order],
            "sessions": counts[0].to_numpy(dtype=np.int64),
        }
    )
    table["share_pct"] = table["sessions"] / len(dialogues) * 100
    return table


# --------------------------------------------------------------------------- sub-topic rules


def load_subtopic_rules(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Keyword rules mapping free-text ``topic_sub`` to the figure's sub-topic labels.

    CSV columns ``main_en, subtopic_en, subtopic_ja, keywords`` (keywords separated by ``|``).
    Rules are tried in file order within a main topic; the first rule with a keyword that occurs
    in the (NFKC-normalised) ``topic_sub`` wins. A label may have several rows (e.g. a specific
    rule early, a broad one late). Returns the rules with ``keywords`` as tuples and a ``rule``
    number (file order).
    """
    path = Path(path) if path is not None else SUBTOPIC_RULES_CSV
    rules = pd.read_csv(path, dtype=str, keep_default_na=False)
    expected = ["main_en", "subtopic_en", "subtopic_ja", "keywords"]
    if list(rules.columns) != expected:
        raise ValueError(f"{path}: columns must be {expected}, got {list(rules.columns)}")
    rules["keywords"] = [
        tuple(unicodedata.normalize("NFKC", k).strip() for k in cell.split("|") if k.strip())
        for cell in rules["keywords"]
    ]
    empty = rules.loc[[not k for k in rules["keywords"]], "subtopic_en"].tolist()
    if empty:
        raise ValueError(f"{path}: rules without keywords: {empty}")
    labels = rules.groupby(["main_en", "subtopic_en"])["subtopic_ja"].nunique()
    if (labels > 1).any():
        raise ValueError(
            f"{path}: a sub-topic has several Japanese labels: {labels[labels > 1].index.tolist()}"
        )
    if (rules["subtopic_en"] == OTHER_SUBTOPIC).any():
        raise ValueError(f"{path}: {OTHER_SUBTOPIC!r} is reserved for unmatched sessions")
    rules.insert(0, "rule", np.arange(1, len(rules) + 1))
    return rules


def assign_subtopics(dialogues: pd.DataFrame, rules: pd.DataFrame | None = None) -> pd.DataFrame:
    """Sub-topic label of every session by the first matching keyword rule of its main topic.

    Returns a frame indexed like ``dialogues`` with ``main_en``, ``subtopic_en``, ``subtopic_ja``
    (:data:`~kokoro_analysis.corpus.schema.OTHER_SUBTOPIC` / その他 when no rule matches) and
    ``rule`` (the rule number, 0 for none).
    Matching is substring search in the NFKC-normalised ``topic_sub`` (surface keywords).
    """
    _require(dialogues, ["topic_main_en", "topic_sub"])
    rules = load_subtopic_rules() if rules is None else rules
    text = (
        dialogues["topic_sub"]
        .fillna("")
        .astype(str)
        .map(lambda s: unicodedata.normalize("NFKC", s))
    )
    main = dialogues["topic_main_en"].astype(str)
    rule_of = pd.Series(0, index=dialogues.index, dtype=np.int64)
    for rule in rules.itertuples(index=False):
        open_rows = (rule_of == 0) & (main == rule.main_en)
        if not open_rows.any():
            continue
        hit = text[open_rows].map(lambda s, kws=rule.keywords: any(k in s for k in kws))
        rule_of.loc[hit.index[hit.to_numpy()]] = rule.rule
    by_rule = rules.set_index("rule")
    matched = rule_of > 0
    result = pd.DataFrame({"main_en": main, "rule": rule_of}, index=dialogues.index)
    result["subtopic_en"] = OTHER_SUBTOPIC
    result["subtopic_ja"] = OTHER_SUBTOPIC_JA
    result.loc[matched, "subtopic_en"] = by_rule.loc[rule_of[matched], "subtopic_en"].to_numpy()
    result.loc[matched, "subtopic_ja"] = by_rule.loc[rule_of[matched], "subtopic_ja"].to_numpy()
    return result[["main_en", "subtopic_en", "subtopic_ja", "rule"]]


def subtopic_counts(assignment: pd.DataFrame, rules: pd.DataFrame | None = None) -> pd.DataFrame:
    """Sessions per (main topic, sub-topic), for the outer ring.

    Rows in figure order of main topics; within a main topic the rule labels by sessions
    (descending; ties in rule order; labels with no session kept with 0), then ``other``. Columns:
    ``main_en, subtopic_en, subtopic_ja, sessions, share_of_topic_pct, share_pct`` (of all sessions).
    """
    rules = load_subtopic_rules() if rules is None else rules
    counts = assignment.groupby(["main_en", "subtopic_en"], sort=False).size()
    totals = assignment.groupby("main_en").size()
    ja_of = dict(zip(zip(rules["main_en"], rules["subtopic_en"]), rules["subtopic_ja"]))
    rows = []
    for main in topic_order(assignment["main_en"]):
        labels = list(dict.fromkeys(rules.loc[rules["main_en"] == main, "subtopic_en"]))
        by_count = sorted(labels, key=lambda label: -int(counts.get((main, label), 0)))
        labels = [*by_count, OTHER_SUBTOPIC]
        for label in labels:
            n = int(counts.get((main, label), 0))
            if label == OTHER_SUBTOPIC and n == 0:
                continue
            rows.append(
                {
                    "main_en": main,
                    "subtopic_en": label,
                    "subtopic_ja": OTHER_SUBTOPIC_JA
                    if label == OTHER_SUBTOPIC
                    else ja_of[(main, label)],
                    "sessions": n,
                    "share_of_topic_pct": n / totals[main] * 100,
                    "share_pct": n / len(assignment) * 100,
                }
            )
    return pd.DataFrame(rows)


def rule_coverage(assignment: pd.DataFrame) -> pd.DataFrame:
    """Share of sessions the keyword rules assign to a named sub-topic, per main topic and overall.

    Columns ``main_en, sessions, assigned, assigned_pct``; the last row is ``All`` (all sessions).
    """
    assigned = assignment["subtopic_en"] != OTHER_SUBTOPIC
    grouped = pd.DataFrame({"main_en": assignment["main_en"], "assigned": assigned})
    per_topic = grouped.groupby("main_en").agg(
        sessions=("assigned", "size"), assigned=("assigned", "sum")
    )
    per_topic = per_topic.loc[topic_order(per_topic.index)].reset_index()
    overall = pd.DataFrame(
        {"main_en": ["All"], "sessions": [len(grouped)], "assigned": [int(assigned.sum())]}
    )
    table = pd.concat([per_topic, overall], ignore_index=True)
    table["assigned"] = table["assigned"].astype(np.int64)
    table["assigned_pct"] = table["assigned"] / table["sessions"] * 100
    return table


def rule_coverage_records(coverage: pd.DataFrame) -> list[Record]:
    """The overall share of :func:`rule_coverage` (measured: the rules approximate ``topic.sub``)."""
    return [
        Record(
            "topics.subtopic_rules.assigned_pct",
            float(coverage.iloc[-1]["assigned_pct"]),
            expect="measured",
            unit="percent",
            quantity="Sessions assigned a sub-topic label by the keyword rules over the sub-topic text "
            "(approximation)",
        )
    ]


# --------------------------------------------------------------------------- score, year, length


def mean_ci(
    values, *, level: float = 0.95, method: str = "t", seed: int = 0, n_boot: int = 10_000
) -> tuple[float, float, float]:
    """Mean of ``values`` with a two-sided ``level`` confidence interval.

    ``method="t"``: mean ± t_{(1+level)/2, n−1} · s/√n (s = sample SD, ddof 1).
    ``method="bootstrap"``: percentile interval of ``n_boot`` resampled means
    (``numpy.random.default_rng(seed)``). Returns ``(mean, low, high)``; the bounds are NaN for
    fewer than two values.
    """
    if method not in CI_METHODS:
        raise ValueError(f"method must be one of {CI_METHODS}, not {method!r}")
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    array = np.asarray(values, dtype=float)
    array = array[~np.isnan(array)]
    if array.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(array.mean())
    if array.size < 2:
        return mean, math.nan, math.nan
    if method == "t":
        low, high = t_interval(mean, array.std(ddof=1), array.size, level)
        return mean, float(low), float(high)
    rng = np.random.default_rng(seed)
    means = array[rng.integers(0, array.size, size=(n_boot, array.size))].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return mean, float(low), float(high)


def score_by_topic(
    dialogues: pd.DataFrame,
    *,
    level: float = 0.95,
    method: str = "two_way",
    seed: int = 0,
    n_boot: int = 10_000,
) -> pd.DataFrame:
    """Client feedback score (0–100) per main topic, sorted by median then mean (descending).

    Columns ``main_en, label_en, label_ja, sessions, mean, ci_low, ci_high, sd, median, q1, q3``.
    The interval: ``method="two_way"`` (the default and headline) is the percentile two-way cluster
    bootstrap of the topic's mean (``n_boot`` resamples, ``seed``): the raters (``client_id``) and the
    counselors (``counselor_id``) of the topic's sessions resampled independently, a session weighted
    by the product of its rater's and its counselor's draws
    (:func:`kokoro_analysis.stats.resampling.two_way_bootstrap_counts`), since a topic's sessions share raters and
    counselors; ``"t"`` and ``"bootstrap"`` treat sessions as independent (:func:`mean_ci`; the
    bootstrap seed is ``seed`` + topic rank). ``frame.attrs``: ``ci_method``, ``n_boot``.
    """
    if method not in SCORE_CI_METHODS:
        raise ValueError(f"method must be one of {SCORE_CI_METHODS}, not {method!r}")
    _require(
        dialogues,
        ["topic_main_en", "score"] + (["client_id", "counselor_id"] if method == "two_way" else []),
    )
    rows = []
    for rank, (main, scores) in enumerate(_groups(dialogues, "score")):
        if method == "two_way":
            mean, low, high = _two_way_mean_ci(
                dialogues[dialogues["topic_main_en"] == main], level=level, seed=seed, n_boot=n_boot
            )
        else:
            mean, low, high = mean_ci(
                scores, level=level, method=method, seed=seed + rank, n_boot=n_boot
            )
        summary = describe(scores)
        rows.append(
            {
                "main_en": main,
                "label_en": topic_label(main, lang="en"),
                "label_ja": topic_label(main, lang="ja"),
                "sessions": int(scores.size),
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                **{k: float(summary[k]) for k in ("sd", "median", "q1", "q3")},
            }
        )
    table = pd.DataFrame(rows)
    table = table.sort_values(["median", "mean"], ascending=False, kind="mergesort")
    table = table.reset_index(drop=True)
    table.attrs.update(ci_method=method, n_boot=n_boot)
    return name_headline(table, _score_interval(method, n_boot, seed))


def _two_way_mean_ci(
    part: pd.DataFrame, *, level: float, seed: int, n_boot: int
) -> tuple[float, float, float]:
    """Mean score of the sessions ``part`` with its percentile two-way cluster bootstrap interval
    (raters ``client_id`` and counselors ``counselor_id`` resampled independently)."""
    clusters = {"two_way": TwoWay(part["client_id"], part["counselor_id"])}
    interval = group_mean_intervals(
        part["score"], np.zeros(len(part)), clusters, n_bootstrap=n_boot, seed=seed,
        confidence=level,
    ).iloc[0]  # fmt: skip
    return interval["mean"], interval["ci_low_two_way"], interval["ci_high_two_way"]


def _score_interval(method: str, n_boot: int, seed: int) -> Interval:
    """What the interval of :func:`score_by_topic` is, in words."""
    if method == "two_way":
        means = Words(
            f"percentile two-way cluster bootstrap over {n_boot:,} resamples of the topic's raters "
            f"and, independently, its counselors (seed {seed})",
            f"トピックの評価者とカウンセラーを独立に {n_boot:,} 回再標本化したパーセンタイル二元"
            f"クラスター・ブートストラップ（seed {seed}）",
        )
    elif method == "t":
        means = Words(
            "Student-t interval of the mean, sessions taken as independent",
            "平均の t 区間（セッションを独立とみなす）",
        )
    else:
        means = Words(
            f"percentile bootstrap interval over {n_boot:,} resamples of the topic's sessions "
            f"(seed {seed})",
            f"トピックのセッションを {n_boot:,} 回再標本化したパーセンタイル・ブートストラップ区間"
            f"（seed {seed}）",
        )
    return Interval("ci_low", "ci_high", means)


def topic_share_by_year(dialogues: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Share of each year's sessions per main topic (percent; each year column sums to 100).

    Returns the shares (rows: main topics in figure order, columns: years of the session start) and
    the sessions per year they are shares of (Series indexed by year).
    """
    _require(dialogues, ["topic_main_en", "year"])
    counts = pd.crosstab(dialogues["topic_main_en"], dialogues["year"])
    counts = counts.loc[topic_order(counts.index)]
    counts.columns = [int(c) for c in counts.columns]
    shares = counts / counts.sum(axis=0) * 100
    shares.index.name, shares.columns.name = "main_en", "year"
    sessions = counts.sum(axis=0).rename("sessions")
    sessions.index.name = "year"
    return shares, sessions


def length_by_topic(dialogues: pd.DataFrame) -> pd.DataFrame:
    """Session length per main topic: duration in minutes (first to last message) and stored
    messages per session. Columns ``main_en, label_en, label_ja, sessions``, then
    ``duration_min_{median,mean,q1,q3}`` and ``messages_{median,mean,q1,q3}``; figure order."""
    _require(dialogues, ["topic_main_en", "duration_min", "n_messages"])
    rows = []
    for main, group in dialogues.groupby("topic_main_en", sort=False):
        row = {
            "main_en": main,
            "label_en": topic_label(main, lang="en"),
            "label_ja": topic_label(main, lang="ja"),
            "sessions": len(group),
        }
        for column, name in (("duration_min", "duration_min"), ("n_messages", "messages")):
            summary = describe(group[column])
            row.update({f"{name}_{k}": float(summary[k]) for k in ("median", "mean", "q1", "q3")})
        rows.append(row)
    table = pd.DataFrame(rows).set_index("main_en")
    return table.loc[topic_order(table.index)].reset_index()


def _groups(dialogues: pd.DataFrame, column: str):
    """(topic, values as float array) in figure order."""
    for main in topic_order(dialogues["topic_main_en"]):
        yield main, dialogues.loc[dialogues["topic_main_en"] == main, column].to_numpy(dtype=float)


# --------------------------------------------------------------------------- distinguishing words


def word_topic_counts(
    tokens,
    utterances: pd.DataFrame,
    dialogues: pd.DataFrame,
    *,
    role: str = "client",
    column: str = "lemma",
) -> pd.DataFrame:
    """Word × main-topic token counts (vectorised: utterance → session → topic via index lookups,
    then one ``np.bincount`` over category codes).

    ``tokens``: a :class:`~kokoro_analysis.text.tokens.Tokens` (e.g. ``run.tokens.content()``) or its
    table; ``role``: "client", "counselor" or "both" (whose utterances count). Tokens of utterances
    not in ``utterances`` (or of sessions not in ``dialogues``) are ignored. Returns a frame indexed by
    word (only words seen at least once), one int64 column per topic in figure order.
    """
    if role not in WORD_ROLES:
        raise ValueError(f"role must be one of {WORD_ROLES}, not {role!r}")
    table = getattr(tokens, "table", tokens)
    _require(table, ["utterance", column])
    words = table[column]
    if not isinstance(words.dtype, pd.CategoricalDtype):
        words = words.astype("category")
    topics = topic_order(dialogues["topic_main_en"])
    topic_codes = pd.Categorical(dialogues["topic_main_en"], categories=topics).codes
    # utterance -> topic code (-1 when the utterance or its session is not analysed or has the other role)
    session_row = pd.Index(dialogues.index).get_indexer(utterances["dialogue_id"].to_numpy())
    utterance_topic = np.where(session_row >= 0, topic_codes[session_row], -1)
    if role != "both":
        utterance_topic = np.where(
            utterances["role"].astype(str).to_numpy() == role, utterance_topic, -1
        )
    utterance_row = message_positions(table, utterances, strict=False)
    token_topic = np.where(utterance_row >= 0, utterance_topic[utterance_row], -1)
    word_codes = words.cat.codes.to_numpy().astype(np.int64)
    keep = (token_topic >= 0) & (word_codes >= 0)
    n_words, n_topics = len(words.cat.categories), len(topics)
    flat = np.bincount(
        word_codes[keep] * n_topics + token_topic[keep], minlength=n_words * n_topics
    )
    counts = pd.DataFrame(
        flat.reshape(n_words, n_topics), index=words.cat.categories.astype(str), columns=topics
    )
    counts = counts[counts.sum(axis=1) > 0]
    counts.index.name = column
    return counts


def distinguishing_words_by_topic(
    counts: pd.DataFrame,
    *,
    top: int = 10,
    min_count: int = 20,
    prior_total: float | None = None,
    exclude: tuple[str, ...] = (OTHERS,),
    surfaces: pd.Series | None = None,
) -> pd.DataFrame:
    """The ``top`` words of each topic against all other topics pooled (log-odds ratio with an
    informative Dirichlet prior, :func:`kokoro_analysis.text.keyness.distinguishing_words`).

    Topics in ``exclude`` (default "Others", 7 sessions) are dropped before the comparison. Words
    with fewer than ``min_count`` tokens in all topics together are ignored. Long format:
    ``main_en, label_en, label_ja, rank, lemma, display, z, delta, count_topic, count_other,
    rate_topic, rate_other`` (rates per 1,000 tokens); ``display`` is
    :func:`kokoro_analysis.text.tokens.lemma_label` of the lemma and its usual surface in ``surfaces``
    (e.g. ``tokens.usual_surfaces(counts.index)``, :meth:`kokoro_analysis.text.tokens.Tokens.usual_surfaces`):
    ``栗鼠（リス）``, or the lemma alone.
    """
    kept = counts.drop(columns=[c for c in exclude if c in counts.columns])
    kept = kept.loc[:, kept.sum(axis=0) > 0]
    if kept.shape[1] < 2:
        raise ValueError("need at least two topics with tokens to compare")
    table = keyness.distinguishing_words(
        kept, top=top, min_count=min_count, prior_total=prior_total
    )
    table = table.rename(
        columns={
            "group": "main_en",
            "word": "lemma",
            "count_group": "count_topic",
            "rate_group": "rate_topic",
        }
    )
    table.insert(1, "label_en", table["main_en"].map(lambda t: topic_label(t, lang="en")))
    table.insert(2, "label_ja", table["main_en"].map(lambda t: topic_label(t, lang="ja")))
    surface_of = surfaces if surfaces is not None else pd.Series(dtype=object)
    table["display"] = [lemma_label(str(w), surface_of.get(w)) for w in table["lemma"]]
    table["gloss_en"] = [gloss_of(str(w), d) for w, d in zip(table["lemma"], table["display"])]
    return table[
        [
            "main_en",
            "label_en",
            "label_ja",
            "rank",
            "lemma",
            "display",
            "gloss_en",
            "z",
            "delta",
            "count_topic",
            "count_other",
            "rate_topic",
            "rate_other",
        ]
    ]


# --------------------------------------------------------------------------- helpers


def _require(frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"missing column(s): {', '.join(missing)}")
