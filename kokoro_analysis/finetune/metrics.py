"""Metrics for counselor-response generation and counseling-score prediction.

Generation metrics take *tokenized* text: each response is a sequence of token strings
(list, tuple or NumPy array of ``str``); a corpus is a sequence of responses. Tokens are
compared as whole strings; no further tokenization, lower-casing or normalisation is done.
Generation metrics are on a 0-100 scale (x 100).

Score-prediction metrics take 2-D arrays (sessions x items) of integer item scores 0-5.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from kokoro_analysis.corpus import schema

Tokens = Sequence[str]

N_ITEMS = len(schema.ITEMS)
"""Number of items in the counseling-evaluation questionnaire."""


# --------------------------------------------------------------------------- input handling


def _as_tokens(seq: object, where: str) -> tuple[str, ...]:
    """One response as a tuple of ``str``; rejects a bare string (characters are not tokens)."""
    if isinstance(seq, (str, bytes)):
        raise TypeError(f"{where}: expected a sequence of tokens, got a plain string {seq!r:.40}")
    if isinstance(seq, np.ndarray):
        if seq.ndim != 1:
            raise TypeError(f"{where}: expected a 1-D token array, got shape {seq.shape}")
        seq = seq.tolist()
    try:
        toks = tuple(seq)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"{where}: expected a sequence of tokens, got {type(seq).__name__}"
        ) from None
    for tok in toks:
        if not isinstance(tok, str):
            raise TypeError(f"{where}: tokens must be str, got {type(tok).__name__} ({tok!r:.40})")
    return toks


def _as_corpus(responses: Iterable[Tokens], name: str) -> list[tuple[str, ...]]:
    if isinstance(responses, (str, bytes)):
        raise TypeError(f"{name}: expected a sequence of token sequences, got a plain string")
    return [_as_tokens(r, f"{name}[{i}]") for i, r in enumerate(responses)]


BLEU_MAX_N = 4
"""The highest n-gram order of :func:`generation_scores` (BLEU-4)."""


class References:
    """Tokenized references checked and counted once (tokens as tuples, n-gram counts of orders
    1-4), for scoring several systems against the same references: :func:`generation_scores` takes
    one wherever it takes references, with the same result."""

    def __init__(self, references: Iterable[Tokens]) -> None:
        self.tokens = _as_corpus(references, "references")
        self.ngram_counts = [
            [Counter(_ngrams(ref, n)) for n in range(1, BLEU_MAX_N + 1)] for ref in self.tokens
        ]

    def __len__(self) -> int:
        return len(self.tokens)


def _as_pairs(
    hypotheses: Iterable[Tokens], references: Iterable[Tokens] | References
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    hyps = _as_corpus(hypotheses, "hypotheses")
    if isinstance(references, References):
        refs = references.tokens
    else:
        refs = _as_corpus(references, "references")
    if len(hyps) != len(refs):
        raise ValueError(
            f"got {len(hyps)} hypotheses but {len(refs)} references (need one reference per hypothesis)"
        )
    return hyps, refs


def _ngrams(tokens: tuple[str, ...], n: int) -> Iterable[tuple[str, ...]]:
    """The ``max(len(tokens) - n + 1, 0)`` contiguous n-grams of one response."""
    return zip(*(tokens[i:] for i in range(n)))


def _check_order(n: int, name: str) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {n!r}")


# --------------------------------------------------------------------------- BLEU


def bleu(hypotheses: Iterable[Tokens], references: Iterable[Tokens], max_n: int = 4) -> float:
    """Corpus-level BLEU (0-100), one reference per hypothesis.

    Clipped n-gram precisions p_n summed over the corpus for n = 1..max_n
    (p_n = sum of min(hyp count, ref count) over n-grams / total hypothesis n-grams),
    geometric mean with uniform weights 1/max_n, brevity penalty over the corpus
    (BP = 1 if c > r else exp(1 - r/c); c = total hypothesis length, r = total reference
    length, in tokens), no smoothing: if any p_n is 0 the score is 0 (as sacrebleu with
    ``tokenize="none", smooth_method="none", effective_order=False``).
    BLEU = 100 * BP * exp(sum_n log(p_n) / max_n). BLEU-1 is ``max_n=1``, BLEU-4 ``max_n=4``.
    """
    _check_order(max_n, "max_n")
    hyps, refs = _as_pairs(hypotheses, references)
    return _bleu(hyps, refs, *_clipped_counts(hyps, refs, max_n))


def _clipped_counts(
    hyps: list[tuple[str, ...]],
    refs: list[tuple[str, ...]],
    max_n: int,
    ref_ngram_counts: list[list[Counter]] | None = None,
) -> tuple[list[int], list[int]]:
    """Per order n = 1..max_n: clipped n-gram matches and hypothesis n-grams, summed over the corpus
    (the counts of order n do not depend on ``max_n``). ``ref_ngram_counts``: the n-gram counts of
    each reference, orders 1..max_n or more (:class:`References`), else counted here."""
    matches = [0] * max_n
    totals = [0] * max_n
    for i, (hyp, ref) in enumerate(zip(hyps, refs)):
        for n in range(1, max_n + 1):
            hyp_counts = Counter(_ngrams(hyp, n))
            if not hyp_counts:
                break  # hypothesis shorter than n: no n-grams of this or any higher order
            if ref_ngram_counts is None:
                ref_counts = Counter(_ngrams(ref, n))
            else:
                ref_counts = ref_ngram_counts[i][n - 1]
            matches[n - 1] += sum(min(c, ref_counts[g]) for g, c in hyp_counts.items())
            totals[n - 1] += max(len(hyp) - n + 1, 0)
    return matches, totals


def _bleu(
    hyps: list[tuple[str, ...]], refs: list[tuple[str, ...]], matches: list[int], totals: list[int]
) -> float:
    """BLEU (0-100) from the clipped counts of orders 1..len(matches) (see :func:`bleu`)."""
    if min(matches) == 0:  # also covers totals == 0
        return 0.0
    c = sum(map(len, hyps))
    r = sum(map(len, refs))
    bp = 1.0 if c > r else math.exp(1.0 - r / c)
    log_p = sum(math.log(m / t) for m, t in zip(matches, totals)) / len(matches)
    return 100.0 * bp * math.exp(log_p)


def bleu_1(hypotheses: Iterable[Tokens], references: Iterable[Tokens]) -> float:
    """Corpus BLEU-1 (0-100): :func:`bleu` with ``max_n=1``."""
    return bleu(hypotheses, references, max_n=1)


def bleu_4(hypotheses: Iterable[Tokens], references: Iterable[Tokens]) -> float:
    """Corpus BLEU-4 (0-100): :func:`bleu` with ``max_n=4``."""
    return bleu(hypotheses, references, max_n=4)


# --------------------------------------------------------------------------- ROUGE-L


def lcs_length(a: Tokens, b: Tokens) -> int:
    """Length of the longest common subsequence of two token sequences.

    Bit-parallel dynamic programming (Crochemore et al. 2001), O(len(b)) big-integer
    operations of len(a) bits; equal to the classic O(nm) DP.
    """
    a_toks = _as_tokens(a, "a")
    b_toks = _as_tokens(b, "b")
    return _lcs(a_toks, b_toks)


def _lcs(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    if len(a) < len(b):
        a, b = b, a  # fewer iterations over the shorter sequence
    if not b:
        return 0
    masks: dict[str, int] = {}
    for i, tok in enumerate(a):
        masks[tok] = masks.get(tok, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for tok in b:
        m = masks.get(tok)
        if m:
            u = v & m
            v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def rouge_l(hypotheses: Iterable[Tokens], references: Iterable[Tokens]) -> float:
    """ROUGE-L (0-100): mean over responses of the token-LCS F1 (beta = 1).

    Per response: P = LCS/len(hyp), R = LCS/len(ref), F = 2PR/(P+R), and F = 0 when LCS = 0.
    Returns the unweighted mean of F over responses, x 100 (0 for an empty corpus).
    """
    return _rouge_l(*_as_pairs(hypotheses, references))


def _rouge_l(hyps: list[tuple[str, ...]], refs: list[tuple[str, ...]]) -> float:
    if not hyps:
        return 0.0
    total = 0.0
    for hyp, ref in zip(hyps, refs):
        lcs = _lcs(hyp, ref)
        if lcs:
            # 2PR/(P+R) with P = lcs/|h|, R = lcs/|r| simplifies to 2*lcs/(|h|+|r|)
            total += 2.0 * lcs / (len(hyp) + len(ref))
    return 100.0 * total / len(hyps)


# --------------------------------------------------------------------------- Distinct-n


def distinct_n(responses: Iterable[Tokens], n: int) -> float:
    """Dist-n (0-100): distinct n-grams over all responses / total n-grams over all responses.

    A response of L tokens contributes max(L - n + 1, 0) n-grams; n-grams never cross
    response boundaries. 0 when there are no n-grams.
    """
    _check_order(n, "n")
    return _distinct_n(_as_corpus(responses, "responses"), n)


def _distinct_n(corpus: list[tuple[str, ...]], n: int) -> float:
    distinct: set[tuple[str, ...]] = set()
    total = 0
    for toks in corpus:
        distinct.update(_ngrams(toks, n))
        total += max(len(toks) - n + 1, 0)
    return 100.0 * len(distinct) / total if total else 0.0


# --------------------------------------------------------------------------- all generation metrics


def generation_scores(
    hypotheses: Iterable[Tokens], references: Iterable[Tokens] | References
) -> dict[str, float]:
    """All generation metrics for one system, one reference per hypothesis (``references`` may be a
    :class:`References`, prepared once for several systems).

    Keys: ``bleu_1``, ``bleu_4`` (corpus BLEU, 0-100), ``rouge_l`` (mean LCS-F1, 0-100),
    ``dist_1``, ``dist_2`` (Dist-n of the hypotheses, 0-100), ``mean_hyp_tokens`` (mean
    hypothesis length in tokens) and ``n_responses``.
    Raises ValueError if the counts differ, the corpus is empty or a hypothesis is empty.
    """
    hyps, refs = _as_pairs(hypotheses, references)
    if not hyps:
        raise ValueError("no responses to score")
    for i, hyp in enumerate(hyps):
        if not hyp:
            raise ValueError(f"hypothesis {i} is empty (0 tokens)")
    counted = references.ngram_counts if isinstance(references, References) else None
    matches, totals = _clipped_counts(hyps, refs, BLEU_MAX_N, counted)
    return {
        "bleu_1": _bleu(hyps, refs, matches[:1], totals[:1]),
        "bleu_4": _bleu(hyps, refs, matches, totals),
        "rouge_l": _rouge_l(hyps, refs),
        "dist_1": _distinct_n(hyps, 1),
        "dist_2": _distinct_n(hyps, 2),
        "mean_hyp_tokens": sum(map(len, hyps)) / len(hyps),
        "n_responses": len(hyps),
    }


# --------------------------------------------------------------------------- score prediction


def _as_score_matrix(x: object, name: str, n_items: int) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (sessions x {n_items} items), got shape {arr.shape}")
    if arr.shape[1] != n_items:
        raise ValueError(f"{name} must have {n_items} item columns, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has no sessions")
    if arr.dtype.kind not in "iufO":
        raise ValueError(f"{name} must hold integer scores, got dtype {arr.dtype}")
    try:
        values = arr.astype(float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold integer scores (no missing values)") from None
    if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
        raise ValueError(f"{name} must hold integer scores (no NaN or fractions)")
    if values.min() < schema.ITEM_MIN or values.max() > schema.ITEM_MAX:
        raise ValueError(
            f"{name} scores must be within {schema.ITEM_MIN}-{schema.ITEM_MAX}, "
            f"got range {values.min():g}-{values.max():g}"
        )
    return values.astype(np.int64)


def _score_pair(predicted: object, true: object, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    pred = _as_score_matrix(predicted, "predicted", n_items)
    gold = _as_score_matrix(true, "true", n_items)
    if pred.shape != gold.shape:
        raise ValueError(f"predicted has shape {pred.shape} but true has shape {gold.shape}")
    return pred, gold


def per_item_scores(predicted: object, true: object, n_items: int = N_ITEMS) -> pd.DataFrame:
    """Per-item metrics, one row per item (index ``item`` = 1..n_items).

    Columns: ``acc`` (share of sessions with exact match, fraction 0-1), ``acc_soft``
    (share with |pred - true| <= 1, fraction 0-1), ``mae`` (mean |pred - true|, score points)
    and ``n_sessions``. Inputs: arrays (sessions x n_items) of integer scores 0-5.
    """
    pred, gold = _score_pair(predicted, true, n_items)
    return _per_item(pred, gold)


def _per_item(pred: np.ndarray, gold: np.ndarray) -> pd.DataFrame:
    err = np.abs(pred - gold)
    return pd.DataFrame(
        {
            "acc": (err == 0).mean(axis=0),
            "acc_soft": (err <= 1).mean(axis=0),
            "mae": err.mean(axis=0),
            "n_sessions": pred.shape[0],
        },
        index=pd.RangeIndex(1, pred.shape[1] + 1, name="item"),
    )


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rho, NaN (no warning) with fewer than 2 points or a constant input."""
    if len(x) < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    from scipy import stats  # slow to import (about 1 s); only needed here

    return float(stats.spearmanr(x, y).statistic)


def score_prediction_scores(
    predicted: object, true: object, n_items: int = N_ITEMS
) -> dict[str, float]:
    """Score-prediction metrics for arrays (sessions x n_items) of integer item scores 0-5.

    Keys: ``acc`` (exact-match share, fraction 0-1), ``acc_soft`` (share with
    |pred - true| <= 1, fraction 0-1), ``mae`` (mean absolute error, score points), each
    computed per item and averaged over the items with equal weights;
    ``spearman_total`` (Spearman rho between predicted and true session totals, i.e. row
    sums; NaN if either total is constant); ``n_sessions``.
    """
    pred, gold = _score_pair(predicted, true, n_items)
    items = _per_item(pred, gold)
    return {
        "acc": float(items["acc"].mean()),
        "acc_soft": float(items["acc_soft"].mean()),
        "mae": float(items["mae"].mean()),
        "spearman_total": _spearman(pred.sum(axis=1), gold.sum(axis=1)),
        "n_sessions": int(pred.shape[0]),
    }


def strict_score_prediction_scores(
    predicted: object, true: object, parsed: object, n_items: int = N_ITEMS
) -> dict[str, float]:
    """Score-prediction metrics over *every* session, an unparseable answer counted as wrong.

    ``predicted`` and ``true`` are (sessions x n_items) arrays (rows of unparsed sessions in
    ``predicted`` are ignored), ``parsed`` a boolean per session. An unparsed session scores 0 on
    ``acc_strict`` and ``acc_soft_strict`` and the largest absolute error its true score allows
    (``max(true - 0, 5 - true)``) on ``mae_strict``. Averaged per item, then over the items as
    :func:`score_prediction_scores`; ``parse_rate`` is the share of sessions parsed (fractions 0-1).
    """
    parsed = np.asarray(parsed, dtype=bool)
    gold = np.asarray(true, dtype=np.int64)
    pred = np.where(parsed[:, None], np.asarray(predicted, dtype=np.int64), 0)
    pred, gold = _score_pair(pred, gold, n_items)
    error = np.abs(pred - gold)
    worst = np.maximum(gold - schema.ITEM_MIN, schema.ITEM_MAX - gold)
    keep = parsed[:, None]
    return {
        "acc_strict": float(((error == 0) & keep).mean(axis=0).mean()),
        "acc_soft_strict": float(((error <= 1) & keep).mean(axis=0).mean()),
        "mae_strict": float(np.where(keep, error, worst).mean(axis=0).mean()),
        "parse_rate": float(parsed.mean()),
    }
