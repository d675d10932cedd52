"""Dialogue features of each session against the client's score.

* :func:`session_features`: one row per session with ``score`` and the features of :data:`FEATURES`
  (key → Japanese label, English label, unit): characters (``len`` of the unnormalised text) per role and
  per message, stored messages, merged turns, session length (minutes), the client's share of characters
  and the counselor's question rate (fractions), and the mean response times (seconds).
* A *response* is a message whose previous message in the session is by the other role; its gap runs
  from that previous message (one definition for the package:
  :func:`kokoro_analysis.analyses.corpus_stats.response_times`); :func:`response_gaps` lists them.
* :func:`feature_correlations`: Spearman ρ or Pearson r of each feature with ``score`` and percentile
  bootstrap CIs resampling sessions and, next to them, whole raters and whole counselors
  (:func:`kokoro_analysis.stats.bootstrap_correlation`), and the within-rater correlation;
  :func:`correlation_robustness` lays these out as rows for chosen features.
* :func:`reported_spearman`: the paper's two Spearman ρ (:data:`REPORTED_FEATURES`), always Spearman.

Conventions as in :mod:`kokoro_analysis.analyses.feedback.scores`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from kokoro_analysis.analyses.corpus_stats import response_times
from kokoro_analysis.analyses.feedback.scores import describe_run, session_bootstrap
from kokoro_analysis.corpus.loading import turn_starts
from kokoro_analysis.published import Column, TableSpec, Words, interval_columns, register
from kokoro_analysis.reported import Record
from kokoro_analysis.stats import (
    bootstrap_correlation,
    check_method,
    within_cluster_correlation,
)

# --------------------------------------------------------------------------- 4. dialogue features


FEATURES: dict[str, tuple[str, str, str]] = {
    "client_chars": ("クライアント総文字数", "Client characters (total)", "characters"),
    "counselor_chars": ("カウンセラー総文字数", "Counselor characters (total)", "characters"),
    "n_messages": ("メッセージ数", "Messages", "messages"),
    "n_turns": ("ターン数（連続発話を結合）", "Merged turns", "turns"),
    "duration_min": ("セッション時間（分）", "Session length (min)", "minutes"),
    "counselor_response_time_s": (
        "カウンセラー応答時間（秒）",
        "Counselor response time (s)",
        "seconds",
    ),
    "client_response_time_s": ("クライアント応答時間（秒）", "Client response time (s)", "seconds"),
    "counselor_chars_per_message": (
        "カウンセラー文字数／メッセージ",
        "Counselor chars / message",
        "characters",
    ),
    "client_chars_per_message": (
        "クライアント文字数／メッセージ",
        "Client chars / message",
        "characters",
    ),
    "client_char_share": ("クライアント文字数の割合", "Client share of characters", "fraction"),
    "counselor_question_rate": (
        "カウンセラー質問率（？で終わる）",
        "Counselor question rate (ends with ?)",
        "fraction",
    ),
}
"""Per-session features of :func:`session_features`: key → (Japanese label, English label, unit)."""

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


def _session_ordered(utterances: pd.DataFrame) -> pd.DataFrame:
    """``utterances`` in session order: corpus tables already are (their index ascends) and are returned
    as they are; any other row order (e.g. shuffled rows) is sorted once by session and position."""
    if utterances.index.is_monotonic_increasing:
        return utterances
    return utterances.iloc[
        np.lexsort((utterances["position"].to_numpy(), utterances["dialogue_id"].to_numpy()))
    ]


def response_gaps(utterances: pd.DataFrame, responder: str = "counselor") -> pd.DataFrame:
    """Every *response* by ``responder`` with its gap in seconds, as defined once for the package by
    :func:`kokoro_analysis.analyses.corpus_stats.response_times` (a message by ``responder`` whose previous message
    in the session is by the other role; the gap runs from that previous message). Rows may come in any
    order; they are put in session order first. Returns ``dialogue_id``, ``utterance`` (index label of the
    response) and ``gap_s``."""
    times = response_times(_session_ordered(utterances), to_role=responder)
    return pd.DataFrame(
        {
            "dialogue_id": times["dialogue_id"].to_numpy(),
            "utterance": times.index.to_numpy(),
            "gap_s": times["seconds"].to_numpy(),
        }
    )


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
    messages = _session_ordered(corpus.utterances)
    index = dialogues.index
    session = pd.Index(index).get_indexer(messages["dialogue_id"].to_numpy())
    if (session < 0).any():
        raise ValueError("utterances belong to sessions missing from dialogues")
    is_client = messages["role"].astype(str).to_numpy() == "client"
    length = messages["length"].to_numpy(dtype=float)
    n = len(index)

    def per_session(values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        if mask is None:
            return np.bincount(session, weights=values, minlength=n)
        return np.bincount(session[mask], weights=values[mask], minlength=n)

    client_n = dialogues["n_client_messages"].to_numpy(dtype=float)
    counselor_n = dialogues["n_counselor_messages"].to_numpy(dtype=float)
    client_chars, counselor_chars = per_session(length, is_client), per_session(length, ~is_client)
    text = messages["text"].astype(str).str.rstrip()
    question = text.str.endswith(QUESTION_ENDINGS).to_numpy(dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame = pd.DataFrame(
            {
                "score": dialogues["score"].to_numpy(),
                "client_chars": client_chars,
                "counselor_chars": counselor_chars,
                "n_messages": dialogues["n_messages"].to_numpy(dtype=float),
                "n_turns": per_session(turn_starts(messages).astype(float)),
                "duration_min": dialogues["duration_min"].to_numpy(dtype=float),
                "counselor_chars_per_message": counselor_chars / counselor_n,
                "client_chars_per_message": client_chars / client_n,
                "client_char_share": client_chars / (client_chars + counselor_chars),
                "counselor_question_rate": per_session(question.astype(float), ~is_client)
                / counselor_n,
            },
            index=index,
        )
    for responder in ("counselor", "client"):
        frame[f"{responder}_response_time_s"] = mean_response_time(messages, responder).reindex(
            index
        )
    return frame[["score", *FEATURES]]


def feature_correlations(
    features: pd.DataFrame,
    *,
    target: str = "score",
    method: str = "spearman",
    n_bootstrap: int = 1000,
    seed: int = 0,
    columns: Sequence[str] | None = None,
    clusters: Mapping[str, pd.Series] | None = None,
    within: str | None = "rater",
) -> pd.DataFrame:
    """Correlation (``method``) of every feature column with ``target``, with percentile bootstrap 95 %
    CIs: ``ci_low``/``ci_high`` resample sessions; for every ``name → labels`` of ``clusters`` (e.g.
    :func:`~kokoro_analysis.analyses.feedback.scores.cluster_labels`: rater and counselor of each
    row) ``ci_low_<name>``/``ci_high_<name>`` resample whole clusters. ``r_within_<within>``: the
    correlation within the clusters named ``within`` (:func:`stats.within_cluster_correlation`).
    Pairs with a missing feature are dropped; ``p_value`` assumes independent sessions. Rows in
    :data:`FEATURES` order with labels; ``reported_key`` names the paper's value where there is one
    (Spearman only); the table's declaration (:data:`FEATURE_CORRELATIONS`) states the methods. Each resampling scheme
    draws its resample weights once and ranks ``target`` once (same numbers as separate
    :func:`stats.bootstrap_correlation` calls)."""
    check_method(method)
    columns = [c for c in (columns or FEATURES) if c in features and c != target]
    clusters = dict(clusters or {})
    caches: dict[str | None, dict] = {name: {} for name in [None, *clusters]}
    rows = []
    for column in columns:
        x, y = features[column], features[target]
        options = dict(method=method, n_bootstrap=n_bootstrap, seed=seed)
        result = bootstrap_correlation(x, y, **options, cache=caches[None])
        for name, labels in clusters.items():
            clustered = bootstrap_correlation(x, y, **options, clusters=labels, cache=caches[name])
            result[f"ci_low_{name}"], result[f"ci_high_{name}"] = (
                clustered["ci_low"],
                clustered["ci_high"],
            )
        if within in clusters:
            result[f"r_within_{within}"] = within_cluster_correlation(
                x, y, clusters[within], method
            )
        label_ja, label_en, unit = FEATURES.get(column, (column, column, ""))
        rows.append(
            {
                "feature": column,
                "label_ja": label_ja,
                "label_en": label_en,
                "unit": unit,
                "method": method,
                **result,
                "reported_key": REPORTED_FEATURES.get(column, "") if method == "spearman" else "",
            }
        )
    table = pd.DataFrame(rows).set_index("feature")
    return describe_run(
        table,
        method=method,
        n_bootstrap=n_bootstrap,
        session_interval=session_bootstrap(n_bootstrap),
    )


def correlation_robustness(
    features: pd.DataFrame,
    clusters: Mapping[str, pd.Series],
    *,
    columns: Sequence[str] = tuple(REPORTED_FEATURES),
    target: str = "score",
    method: str = "spearman",
    n_bootstrap: int = 1000,
    seed: int = 0,
    within: str = "rater",
) -> pd.DataFrame:
    """For each feature of ``columns``, the same correlation with ``target`` under each uncertainty
    model, one row each: sessions resampled; each cluster kind of ``clusters`` resampled; and the
    correlation within the ``within`` clusters (:func:`stats.within_cluster_correlation`) with those
    clusters resampled. Columns ``feature``, ``estimate``, ``resampled``, ``n``, ``r``, ``ci_low``,
    ``ci_high``, ``n_bootstrap``."""
    check_method(method)
    options = dict(method=method, n_bootstrap=n_bootstrap, seed=seed)
    rows = []
    for column in [c for c in columns if c in features]:
        x, y = features[column], features[target]
        plans = [("pooled", "sessions", None, None)]
        plans += [("pooled", f"{name}s", labels, None) for name, labels in clusters.items()]
        if within in clusters:
            plans.append((f"within {within}", f"{within}s", clusters[within], clusters[within]))
        for estimate, resampled, labels, within_labels in plans:
            result = bootstrap_correlation(x, y, **options, clusters=labels, within=within_labels)
            result.pop("p_value")
            rows.append({"feature": column, "estimate": estimate, "resampled": resampled, **result})
    out = pd.DataFrame(rows)
    return describe_run(out, method=method, n_bootstrap=n_bootstrap)


# --------------------------------------------------------------------------- phases of a session

PHASES = ("early", "middle", "late")
"""Thirds of a session by message position (Inaba, EMNLP 2026 Findings, "Beyond Reflection")."""

PHASE_FEATURES: dict[str, tuple[str, str, str]] = {
    key: FEATURES[key]
    for key in (
        "client_chars",
        "counselor_chars",
        "client_char_share",
        "counselor_question_rate",
        "counselor_response_time_s",
        "client_response_time_s",
    )
}
"""Features of :func:`phase_features` (key → Japanese label, English label, unit)."""


def message_phases(utterances: pd.DataFrame, phases: Sequence[str] = PHASES) -> pd.Series:
    """The phase of every message (index of ``utterances``): with the session's n stored messages in
    order, message i (0-based) is in phase ⌊len(phases) · i / n⌋, so each phase holds a third of the
    messages (±1). Categorical with ``phases`` as categories."""
    messages = _session_ordered(utterances)
    sessions = messages["dialogue_id"]
    order = sessions.groupby(sessions, sort=False).cumcount().to_numpy()
    size = sessions.map(sessions.value_counts()).to_numpy()
    codes = len(phases) * order // size
    phase = pd.Categorical.from_codes(codes, categories=list(phases))
    return pd.Series(phase, index=messages.index, name="phase").reindex(utterances.index)


def phase_features(corpus, phases: Sequence[str] = PHASES) -> pd.DataFrame:
    """The features of :data:`PHASE_FEATURES` computed on each phase of each session
    (:func:`message_phases`), as in :func:`session_features` but over the phase's messages; a response
    time belongs to the phase of the response message. Index (``dialogue_id``, ``phase``); NaN where a
    phase has no counselor message or no response."""
    messages = _session_ordered(corpus.utterances)
    phase = message_phases(messages, phases)
    is_client = messages["role"].astype(str).to_numpy() == "client"
    length = messages["length"].to_numpy(dtype=float)
    text = messages["text"].astype(str).str.rstrip()
    question = text.str.endswith(QUESTION_ENDINGS).to_numpy(dtype=bool)
    keys = [messages["dialogue_id"].to_numpy(), phase.array]  # categorical: phases in order
    parts = pd.DataFrame(
        {
            "client_chars": np.where(is_client, length, 0.0),
            "counselor_chars": np.where(is_client, 0.0, length),
            "counselor_messages": (~is_client).astype(float),
            "counselor_questions": (~is_client & question).astype(float),
        }
    )
    sums = parts.groupby(keys, observed=True).sum().rename_axis(["dialogue_id", "phase"])
    out = sums[["client_chars", "counselor_chars"]].copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["client_char_share"] = sums["client_chars"] / (
            sums["client_chars"] + sums["counselor_chars"]
        )
        out["counselor_question_rate"] = sums["counselor_questions"] / sums["counselor_messages"]
    for responder in ("counselor", "client"):
        gaps = response_gaps(messages, responder)
        gap_phase = phase.loc[gaps["utterance"].to_numpy()].array
        means = gaps.groupby([gaps["dialogue_id"].to_numpy(), gap_phase], observed=True)["gap_s"]
        out[f"{responder}_response_time_s"] = means.mean().reindex(out.index)
    return out[list(PHASE_FEATURES)]


def phase_correlations(
    phase_table: pd.DataFrame,
    dialogues: pd.DataFrame,
    clusters: Mapping[str, pd.Series] | None = None,
    *,
    method: str = "spearman",
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Correlation of every phase feature (:func:`phase_features`) with the session's score, per phase:
    :func:`feature_correlations` on the rows of each phase (session and cluster bootstrap CIs), phases
    in the order of ``phase_table`` (:func:`phase_features`: early, middle, late).
    Columns ``phase``, ``feature``, labels, ``n``, ``r`` and the intervals."""
    parts = []
    for phase in pd.unique(phase_table.index.get_level_values("phase")):  # in the table's order
        part = phase_table.xs(phase, level="phase", drop_level=False)
        ids = part.index.get_level_values("dialogue_id")
        frame = part.droplevel("phase").assign(score=dialogues["score"].reindex(ids).to_numpy())
        labels = {name: values.reindex(ids).to_numpy() for name, values in (clusters or {}).items()}
        table = feature_correlations(
            frame, method=method, n_bootstrap=n_bootstrap, seed=seed, clusters=labels,
            columns=list(PHASE_FEATURES), within=None,
        )  # fmt: skip
        parts.append(table.reset_index().assign(phase=phase))
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "phase", out.pop("phase"))
    out = out.drop(columns=["reported_key", "p_value"])
    return describe_run(out, method=method, n_bootstrap=n_bootstrap)


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


# --------------------------------------------------------------------------- reproduction records


def spearman_records(reported: dict[str, float]) -> list[Record]:
    """The paper's Spearman ρ from :func:`reported_spearman` (the estimable ones), each with its note
    (:data:`REPORTED_NOTES`)."""
    return [
        Record(key, reported[key], note=REPORTED_NOTES[feature])
        for feature, key in REPORTED_FEATURES.items()
        if pd.notna(reported[key])
    ]


UNIT_CELLS = {
    "characters": Words("characters", "文字"),
    "messages": Words("messages", "メッセージ"),
    "turns": Words("turns", "ターン"),
    "minutes": Words("minutes", "分"),
    "seconds": Words("seconds", "秒"),
    "fraction": Words("fraction", "割合"),
}
"""The units of :data:`FEATURES` as table cells."""

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
        "resamples of the unit named (sessions, or a rater or counselor with all its sessions). "
        "Within rater: the values centred on each rater's mean (Spearman: ranked over all sessions "
        "first).",
        "スコアとの{correlation}。95% 区間は示した単位（セッション、または評価者・カウンセラーとその全"
        "セッション）を {n_bootstrap:,} 回再標本化したパーセンタイル・ブートストラップ。評価者内：各評価者の"
        "平均を引いた値（スピアマンでは全セッションで順位化してから）。",
    ),
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
PHASE_CORRELATIONS = TableSpec(
    "feedback_phase_correlations",
    title=Words(
        "Session features per phase against the score.", "セッションの段階ごとの特徴量とスコア。"
    ),
    method=Words(
        "Per phase (early, middle and late third of each session's messages) the feature computed "
        "on that phase's messages against the session's score: {correlation}, 95% percentile "
        "bootstrap intervals over {n_bootstrap:,} resamples of sessions and of whole raters.",
        "段階（各セッションのメッセージの前・中・後の3分の1）ごとに、その段階のメッセージで計算した特徴量と"
        "セッションのスコアとの{correlation}。95% 区間はセッション、および評価者全体を単位とする "
        "{n_bootstrap:,} 回のパーセンタイル・ブートストラップ。",
    ),
)
TABLES = register(
    FEATURE_CORRELATIONS, CORRELATION_ROBUSTNESS, RESPONSE_TIME_DEFINITIONS, PHASE_CORRELATIONS
)
"""The published tables of this module by name (:class:`kokoro_analysis.published.TableSpec`)."""
