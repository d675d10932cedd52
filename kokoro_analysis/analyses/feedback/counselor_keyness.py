"""What high-rated counseling sounds like: counselor lemmas of high- against low-scored sessions by the
log-odds ratio with an informative Dirichlet prior (:func:`keyness_table`), counting only lemmas used
by enough counselors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kokoro_analysis.corpus import schema
from kokoro_analysis.published import TableSpec, Words, register
from kokoro_analysis.text.forms import display_forms
from kokoro_analysis.text.glossary import gloss_of
from kokoro_analysis.text.keyness import log_odds_dirichlet
from kokoro_analysis.text.tokens import message_positions


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
TABLES = register(COUNSELOR_KEYNESS)
"""The published tables of this module by name (:class:`kokoro_analysis.published.TableSpec`)."""
