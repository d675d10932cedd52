"""Dialogue features of each session against the client's score.

* :func:`session_features`: one row per session with ``score`` and the features of :data:`FEATURES`
  (key → Japanese label, English label, unit): characters (``len`` of the unnormalised text) per role and
  per message, stored messages, merged turns, session length (minutes), the client's share of characters
  and the counselor's question rate (fractions), and the mean response times (seconds).
* A *response* is a message whose previous message in the session is by the other role; its gap runs
  from that previous message (one definition for the package:
  :func:`kokoro_analysis.corpus.measures.response_times`); :func:`response_gaps` lists them.
* :func:`feature_correlations`: Spearman ρ or Pearson r of each feature with ``score`` and percentile
  bootstrap CIs resampling sessions and, next to them, whole raters and whole counselors
  (:func:`kokoro_analysis.stats.bootstrap_correlation`), and the within-rater correlation;
  :func:`correlation_robustness` lays these out as rows for chosen features.
* :func:`reported_spearman`: the paper's two Spearman ρ (:data:`REPORTED_FEATURES`), always Spearman.

Conventions as in :mod:`kokoro_analysis.analyses.feedback.scores`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from kokoro_analysis.analyses.feedback.scores import (
    HEADLINE_CLUSTER,
    describe_run,
    session_bootstrap,
    two_way_clusters,
    two_way_interval,
)
from kokoro_analysis.corpus.loading import turn_starts
from kokoro_analysis.corpus.measures import response_times
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
    P_ADJUSTMENTS,
    adjust_p_values,
    bootstrap_correlation,
    bootstrap_summary,
    check_method,
    p_value_text,
    partial_correlation,
    resample_weights,
    resampled_correlations,
    resampled_partial_correlations,
    within_cluster_correlation,
    within_correlation_definitions,
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
    :func:`kokoro_analysis.corpus.measures.response_times` (a message by ``responder`` whose previous message
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
    clusters: Mapping[str, object] | None = None,
    within: str | None = "rater",
    headline: str = HEADLINE_CLUSTER,
    correction: str = "holm",
    bca: Iterable[str] = tuple(REPORTED_FEATURES),
) -> pd.DataFrame:
    """Correlation (``method``) of every feature column with ``target``, with percentile bootstrap 95 %
    CIs: ``ci_low``/``ci_high`` resample sessions; for every ``name → labels`` of ``clusters`` (e.g.
    :func:`~kokoro_analysis.analyses.feedback.scores.cluster_labels`: two-way, rater, counselor)
    ``ci_low_<name>``/``ci_high_<name>`` resample that scheme's clusters. For the ``headline`` scheme
    (when in ``clusters``): ``se_<headline>`` (bootstrap SE), ``mc_se_<headline>`` (Monte Carlo error of
    its ends), ``p_<headline>`` (Wald test of r = 0 with that SE) and ``p_adjusted`` (``correction``,
    :func:`stats.adjust_p_values`, over this table's features: one family), and for the features in
    ``bca`` its BCa interval (``bca_low``/``bca_high``; NaN for the others). ``r_within_<within>``: the
    correlation within the clusters named ``within`` (:func:`stats.within_cluster_correlation`).
    Pairs with a missing feature are dropped. Rows in :data:`FEATURES` order with labels;
    ``reported_key`` names the paper's value where there is one (Spearman only). Each resampling scheme
    draws its resample weights once and ranks ``target`` once (same numbers as separate
    :func:`stats.bootstrap_correlation` calls). ``frame.attrs``: ``n_bootstrap``, ``headline``,
    ``correction``, ``family_size``."""
    check_method(method)
    columns = [c for c in (columns or FEATURES) if c in features and c != target]
    clusters = dict(clusters or {})
    caches: dict[str | None, dict] = {name: {} for name in [None, *clusters]}
    bca = set(bca)
    rows = []
    for column in columns:
        x, y = features[column], features[target]
        options = dict(method=method, n_bootstrap=n_bootstrap, seed=seed)
        result = bootstrap_correlation(x, y, **options, cache=caches[None])
        result = {key: result[key] for key in ("n", "r", "ci_low", "ci_high", "n_bootstrap")}
        for name, labels in clusters.items():
            clustered = bootstrap_correlation(
                x, y, **options, clusters=labels, cache=caches[name],
                bca=name == headline and column in bca,
            )  # fmt: skip
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
    if f"p_{headline}" in table:
        table["p_adjusted"] = adjust_p_values(table[f"p_{headline}"], correction)
    describe_run(
        table,
        method=method,
        n_bootstrap=n_bootstrap,
        session_interval=session_bootstrap(n_bootstrap),
    )
    return describe_family(table, correction)


def describe_family(frame: pd.DataFrame, correction: str) -> pd.DataFrame:
    """Record in ``frame.attrs`` how its p-values were adjusted (for the caption): ``correction``
    (the method's name) and ``family_size`` (the rows with a p-value: one family)."""
    size = int(frame["p_adjusted"].notna().sum()) if "p_adjusted" in frame else len(frame)
    frame.attrs.update(correction=P_ADJUSTMENTS[correction], family_size=size)
    return frame


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
    person-level :class:`~kokoro_analysis.stats.TwoWay`, when given); and the correlation within the
    ``within`` clusters (:func:`stats.within_cluster_correlation`) with the headline scheme resampled
    (the ``within`` clusters when there is none). Columns ``feature``, ``estimate``, ``resampled``,
    ``n``, ``r``, ``ci_low``, ``ci_high``, ``mc_se``, ``n_bootstrap``."""
    check_method(method)
    options = dict(method=method, n_bootstrap=n_bootstrap, seed=seed)
    schemes = dict(clusters)
    if persons is not None:
        schemes["persons"] = persons
    rows = []
    for column in [c for c in columns if c in features]:
        x, y = features[column], features[target]
        plans = [("pooled", "sessions", None, None)]
        plans += [("pooled", _scheme_noun(name), labels, None) for name, labels in schemes.items()]
        if within in clusters:
            unit = HEADLINE_CLUSTER if HEADLINE_CLUSTER in clusters else within
            plans.append((f"within {within}", _scheme_noun(unit), clusters[unit], clusters[within]))
        for estimate, resampled, labels, within_labels in plans:
            result = bootstrap_correlation(x, y, **options, clusters=labels, within=within_labels)
            rows.append(
                {
                    "feature": column,
                    "estimate": estimate,
                    "resampled": resampled,
                    **{k: result[k] for k in ("n", "r", "ci_low", "ci_high", "mc_se")},
                    "n_bootstrap": result["n_bootstrap"],
                }
            )
    out = pd.DataFrame(rows)
    return describe_run(out, method=method, n_bootstrap=n_bootstrap)


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
    correlation given ``n_messages``, :func:`stats.partial_correlation`), and the within-rater
    correlation has three definitions (:func:`stats.within_correlation_definitions`). The first four
    rows and the headline within-rater row carry the two-way interval (raters and counselors of the
    rows used resampled, ``n_bootstrap`` resamples); the two alternative within definitions are point
    estimates. Columns ``feature``, ``label_en``, ``variant``, ``n``, ``r``, ``ci_low``, ``ci_high``,
    ``mc_se``, ``headline`` (the row the notebook reports)."""
    check_method(method)
    clusters = two_way_clusters(dialogues)
    unflagged = (dialogues["score_branch"] == "sum").to_numpy()
    options = dict(method=method, n_bootstrap=n_bootstrap, seed=seed)
    rows = []
    for column in [c for c in columns if c in features]:
        x, score = features[column].to_numpy(float), features["score"].to_numpy(float)
        item_sum = dialogues["item_sum"].to_numpy(float)
        results = {
            "all sessions": bootstrap_correlation(x, score, clusters=clusters, **options),
            "unflagged sessions": bootstrap_correlation(
                x[unflagged], score[unflagged], clusters=clusters.take(unflagged), **options
            ),
            "plain item sum": bootstrap_correlation(x, item_sum, clusters=clusters, **options),
            "partial | messages": _partial_row(
                x, score, dialogues["n_messages"].to_numpy(float), clusters, **options
            ),
            "within rater (rank, then centre)": bootstrap_correlation(
                x, score, clusters=clusters, within=clusters.first, **options
            ),
        }
        definitions = within_correlation_definitions(
            x, score, clusters.first, clusters.second, method
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
    out = pd.DataFrame(rows)
    return describe_run(out, method=method, n_bootstrap=n_bootstrap)


def _partial_row(x, y, z, clusters, *, method, n_bootstrap, seed) -> dict:
    """Partial correlation of x and y given z with its two-way bootstrap summary."""
    keep = np.isfinite(x) & np.isfinite(y) & np.isfinite(z)
    r = partial_correlation(x[keep], y[keep], z[keep], method)
    weights = resample_weights(int(keep.sum()), n_bootstrap, seed, clusters.take(keep))
    values = resampled_partial_correlations(x[keep], y[keep], z[keep], weights, method=method)
    return {"n": int(keep.sum()), "r": r, **bootstrap_summary(values, r)}


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


def phase_resamples(
    phase_table: pd.DataFrame,
    dialogues: pd.DataFrame,
    clusters: object | None = None,
    *,
    method: str = "spearman",
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> dict[tuple[str, str], dict]:
    """Correlation of every phase feature (:func:`phase_features`) with the session's score, per phase,
    with its resampled values: ``(phase, feature) → {"n", "r", "values"}``. The resample weights are
    drawn once over the sessions of ``dialogues`` (``clusters``: a labelling or
    :class:`~kokoro_analysis.stats.TwoWay` of its rows; default the headline two-way scheme,
    :func:`~kokoro_analysis.analyses.feedback.scores.two_way_clusters`) and every phase uses the same
    resamples, so differences between phases (:func:`phase_trend`) have the right joint uncertainty.
    Phases in the order of ``phase_table``; sessions without the feature in a phase are dropped there."""
    check_method(method)
    if clusters is None:
        clusters = two_way_clusters(dialogues)
    weights = resample_weights(len(dialogues), n_bootstrap, seed, clusters)
    score = dialogues["score"].to_numpy(float)
    out = {}
    for phase in pd.unique(phase_table.index.get_level_values("phase")):  # in the table's order
        part = phase_table.xs(phase, level="phase").reindex(dialogues.index)
        for column in PHASE_FEATURES:
            x = part[column].to_numpy(float)
            keep = np.isfinite(x) & np.isfinite(score)
            point = bootstrap_correlation(x[keep], score[keep], method=method, n_bootstrap=1)
            values = resampled_correlations(x[keep], score[keep], weights[:, keep], method=method)
            out[(str(phase), column)] = {"n": int(keep.sum()), "r": point["r"], "values": values}
    return out


def phase_correlations(
    resamples: Mapping[tuple[str, str], dict],
    *,
    correction: str = "holm",
    method: str = "spearman",
    n_bootstrap: int = 1000,
) -> pd.DataFrame:
    """One row per phase and feature of :func:`phase_resamples`: ``n``, ``r``, the percentile interval
    of its resamples (``ci_low``/``ci_high``), ``se``, ``mc_se``, ``p_boot`` (Wald test of r = 0 with
    the bootstrap SE) and ``p_adjusted`` (``correction`` over all rows of the table: one family)."""
    rows = []
    for (phase, column), result in resamples.items():
        label_ja, label_en, unit = PHASE_FEATURES[column]
        summary = bootstrap_summary(result["values"], result["r"])
        rows.append(
            {
                "phase": phase,
                "feature": column,
                "label_ja": label_ja,
                "label_en": label_en,
                "unit": unit,
                "n": result["n"],
                "r": result["r"],
                **summary,
            }
        )
    out = pd.DataFrame(rows)
    out["p_adjusted"] = adjust_p_values(out["p_boot"], correction)
    out = describe_run(out, method=method, n_bootstrap=n_bootstrap)
    name_headline(out, Interval("ci_low", "ci_high", two_way_interval(n_bootstrap)))
    return describe_family(out, correction)


def phase_trend(
    resamples: Mapping[tuple[str, str], dict],
    *,
    first: str = PHASES[0],
    last: str = PHASES[-1],
    correction: str = "holm",
    method: str = "spearman",
    n_bootstrap: int = 1000,
) -> pd.DataFrame:
    """The change of each feature's correlation with the score from the ``first`` to the ``last``
    phase, tested directly: ``difference`` = r(last) − r(first), its percentile interval from the same
    resamples (:func:`phase_resamples`), ``se``, ``mc_se``, ``p_boot`` (Wald test of no change) and
    ``p_adjusted`` (``correction`` over the features: one family)."""
    rows = []
    for column in PHASE_FEATURES:
        if (first, column) not in resamples or (last, column) not in resamples:
            continue
        early, late = resamples[(first, column)], resamples[(last, column)]
        difference = late["r"] - early["r"]
        summary = bootstrap_summary(late["values"] - early["values"], difference)
        rows.append(
            {
                "feature": column,
                "label_en": PHASE_FEATURES[column][1],
                f"r_{first}": early["r"],
                f"r_{last}": late["r"],
                "difference": difference,
                **summary,
            }
        )
    out = pd.DataFrame(rows)
    if len(out):
        out["p_adjusted"] = adjust_p_values(out["p_boot"], correction)
    out = describe_run(out, method=method, n_bootstrap=n_bootstrap)
    return describe_family(out, correction)


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
PHASE_CORRELATIONS = TableSpec(
    "feedback_phase_correlations",
    title=Words(
        "Session features per phase against the score.", "セッションの段階ごとの特徴量とスコア。"
    ),
    method=Words(
        "Per phase (early, middle and late third of each session's messages) the feature computed "
        "on that phase's messages against the session's score: {correlation}; 95% percentile "
        "two-way bootstrap interval over {n_bootstrap:,} resamples of raters and counselors drawn "
        "independently (the same resamples for every phase); p_boot: two-sided Wald test of zero "
        "with the bootstrap standard error; p_adjusted: {correction}-adjusted over the "
        "{family_size} phase × feature rows (one family).",
        "段階（各セッションのメッセージの前・中・後の3分の1）ごとに、その段階のメッセージで計算した特徴量と"
        "セッションのスコアとの{correlation}。95% 区間は評価者とカウンセラーを独立に {n_bootstrap:,} 回"
        "再標本化した二元パーセンタイル・ブートストラップ（全段階で同じ再標本）。p_boot：ブートストラップ"
        "標準誤差による0の両側 Wald 検定；p_adjusted：{family_size} 行（段階 × 特徴量）を1つの族として "
        "{correction} 法で調整。",
    ),
    number_format="{:.3f}",
    thousands=True,
    formats={"p_boot": p_value_text, "p_adjusted": p_value_text},
)
PHASE_TREND = TableSpec(
    "feedback_phase_trend",
    title=Words(
        "Change of each feature's correlation with the score from the early to the late third.",
        "各特徴量とスコアの相関の、前半3分の1から後半3分の1への変化。",
    ),
    method=Words(
        "Late minus early {correlation} (the feature computed on the last and on the first third "
        "of each session's messages); 95% percentile two-way bootstrap interval of the difference "
        "over {n_bootstrap:,} resamples (both thirds from the same resamples); p_boot: two-sided "
        "Wald test of no change with the bootstrap standard error; p_adjusted: {correction}-adjusted "
        "over the {family_size} features (one family).",
        "後半と前半の{correlation}の差（各セッションのメッセージの最後と最初の3分の1で計算した特徴量）。"
        "95% 区間は差の二元パーセンタイル・ブートストラップ（{n_bootstrap:,} 回、両段階で同じ再標本）。"
        "p_boot：ブートストラップ標準誤差による変化なしの両側 Wald 検定；p_adjusted：{family_size} 個の"
        "特徴量を1つの族として {correction} 法で調整。",
    ),
    number_format="{:.3f}",
    thousands=True,
    formats={"p_boot": p_value_text, "p_adjusted": p_value_text},
)
TABLES = register(
    FEATURE_CORRELATIONS,
    CORRELATION_ROBUSTNESS,
    CORRELATION_SENSITIVITY,
    RESPONSE_TIME_DEFINITIONS,
    PHASE_CORRELATIONS,
    PHASE_TREND,
)
"""The published tables of this module by name (:class:`kokoro_analysis.published.TableSpec`)."""
