"""Dialogue features of each session against the client's score.

* :func:`session_features`: one row per session with ``score`` and the features of :data:`FEATURES`
  (key → Japanese label, English label, unit): characters (``len`` of the unnormalised text) per role and
  per message, stored messages, merged turns, session length (minutes), the client's share of characters
  and the counselor's question rate (fractions), and the mean response times (seconds).
* A *response* is a message whose previous message in the session is by the other role; its gap runs
  from that previous message (one definition for the package:
  :func:`kokoro_analysis.analyses.corpus_stats.response_times`); :func:`response_gaps` lists them.
* :func:`bootstrap_correlation`, :func:`feature_correlations`: Spearman ρ or Pearson r of each feature with
  ``score`` and percentile bootstrap CIs over sessions (all resamples at once; a Spearman resample is
  ranked afresh). The intervals treat sessions as independent.
* :func:`reported_spearman`: the paper's two Spearman ρ (:data:`REPORTED_FEATURES`), always Spearman.

Conventions as in :mod:`kokoro_analysis.analyses.feedback.scores`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from kokoro_analysis.analyses.corpus_stats import response_times
from kokoro_analysis.corpus.loading import turn_starts
from kokoro_analysis.reported import Record
from kokoro_analysis.stats import bootstrap_counts, check_method

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
    "client message -> next counselor message",
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
        spread = (weights * dx**2).sum(axis=1) * (weights * dy**2).sum(axis=1)
        return (weights * dx * dy).sum(axis=1) / np.sqrt(spread)


def bootstrap_correlation(
    x,
    y,
    *,
    method: str = "spearman",
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    chunk: int = 200,
) -> dict[str, float]:
    """Correlation of x and y (pairs with a NaN dropped) with a percentile bootstrap CI over resampled
    pairs. All resamples are evaluated at once (:func:`bootstrap_counts`, in chunks of ``chunk``);
    Spearman ρ of a resample ranks the resampled values afresh. Resamples with an undefined r (a
    constant variable) are dropped. Returns ``n``, ``r``, ``ci_low``, ``ci_high``, ``p_value``
    (scipy's test of r = 0) and ``n_bootstrap`` (resamples used)."""
    check_method(method)
    return _bootstrap_correlation(x, y, method, n_bootstrap, seed, confidence, chunk, {})


def _bootstrap_correlation(
    x, y, method, n_bootstrap, seed, confidence, chunk, shared: dict
) -> dict[str, float]:
    """:func:`bootstrap_correlation`; ``shared`` keeps what several calls with the same ``y`` can reuse:
    the resample counts of each sample size (the same seed draws the same counts) and, when no pair is
    dropped, the within-resample ranks of ``y``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    complete = bool(keep.all())
    x, y = x[keep], y[keep]
    n = len(x)
    result = {
        "n": n,
        "r": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "p_value": np.nan,
        "n_bootstrap": 0,
    }
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return result
    test = stats.spearmanr(x, y) if method == "spearman" else stats.pearsonr(x, y)
    result["r"], result["p_value"] = float(test[0]), float(test[1])
    counts = shared.get(("counts", n))
    if counts is None:
        counts = shared[("counts", n)] = bootstrap_counts(n, n_bootstrap, seed)
    boot = []
    for start in range(0, n_bootstrap, chunk):
        weights = counts[start : start + chunk].astype(float)
        if method == "spearman":
            y_ranks = shared.get(("y_ranks", start)) if complete else None
            if y_ranks is None:
                y_ranks = _weighted_midranks(y, weights)
                if complete:
                    shared[("y_ranks", start)] = y_ranks
            boot.append(_weighted_pearson(_weighted_midranks(x, weights), y_ranks, weights))
        else:
            boot.append(_weighted_pearson(x, y, weights))
    values = np.concatenate(boot)
    values = values[np.isfinite(values)]
    if values.size:
        result["ci_low"], result["ci_high"] = np.quantile(
            values, [(1 - confidence) / 2, (1 + confidence) / 2]
        )
    result["n_bootstrap"] = int(values.size)
    return result


def feature_correlations(
    features: pd.DataFrame,
    *,
    target: str = "score",
    method: str = "spearman",
    n_bootstrap: int = 1000,
    seed: int = 0,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Correlation (``method``) of every feature column with ``target``, with percentile bootstrap 95 %
    CIs (sessions resampled; pairs with a missing feature dropped). Rows in :data:`FEATURES` order with
    labels; ``reported_key`` names the paper's value where there is one (Spearman only). The resample
    counts are drawn once per sample size and ``target`` ranked once (same numbers as separate
    :func:`bootstrap_correlation` calls)."""
    check_method(method)
    columns = [c for c in (columns or FEATURES) if c in features and c != target]
    shared: dict = {}
    rows = []
    for column in columns:
        result = _bootstrap_correlation(
            features[column], features[target], method, n_bootstrap, seed, 0.95, 200, shared
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
    return pd.DataFrame(rows).set_index("feature")


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
