"""Tests for kokoro_analysis.finetune.metrics: hand-worked examples, sacrebleu equality, error cases."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest
import sacrebleu

from kokoro_analysis.finetune import metrics as M


def toks(s: str) -> list[str]:
    return s.split()


JA_VOCAB = [
    "私",
    "は",
    "、",
    "。",
    "です",
    "ね",
    "気持ち",
    "辛い",
    "お話",
    "聞か",
    "せ",
    "て",
    "ください",
    "そう",
    "な",
    "ん",
    "か",
    "って",
    "思い",
    "ます",
    "相談",
    "ありがとう",
]


def random_corpus(seed: int, n: int, vocab: list[str], max_len: int = 25):
    rng = random.Random(seed)
    hyps, refs = [], []
    for _ in range(n):
        ref = [rng.choice(vocab) for _ in range(rng.randint(1, max_len))]
        # hypotheses share material with the reference so that 4-gram matches occur
        hyp = [t if rng.random() < 0.7 else rng.choice(vocab) for t in ref]
        cut = rng.randint(0, len(hyp))
        hyp = (
            hyp[:cut]
            + hyp[cut + rng.randint(0, 3) :]
            + [rng.choice(vocab) for _ in range(rng.randint(0, 4))]
        )
        hyps.append(hyp)
        refs.append(ref)
    return hyps, refs


def sacrebleu_score(hyps, refs, n: int) -> float:
    scorer = sacrebleu.metrics.BLEU(
        tokenize="none", smooth_method="none", max_ngram_order=n, effective_order=False
    )
    return scorer.corpus_score([" ".join(h) for h in hyps], [[" ".join(r) for r in refs]]).score


def lcs_dp(a, b) -> int:
    """Textbook O(nm) LCS table, as the reference for the bit-parallel version."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a, 1):
        for j, y in enumerate(b, 1):
            table[i][j] = (
                table[i - 1][j - 1] + 1 if x == y else max(table[i - 1][j], table[i][j - 1])
            )
    return table[-1][-1]


# --------------------------------------------------------------------------- BLEU


HAND_HYPS = [toks("a b c d"), toks("a a")]
HAND_REFS = [toks("a b c e"), toks("a b")]
# unigrams: hyp0 a,b,c match (d not) -> 3/4; hyp1 "a a" vs ref "a b": clipped to 1 -> 1/2; corpus 4/6
# bigrams:  hyp0 ab, bc match, cd not -> 2/3; hyp1 "a a" no match -> 0/1;        corpus 2/4
# trigrams: hyp0 abc matches, bcd not -> 1/2; 4-grams: abcd vs abce -> 0/1
# c = 6, r = 6 -> BP = exp(1 - 6/6) = 1
# BLEU-1 = 100 * 4/6; BLEU-2 = 100 * sqrt(4/6 * 2/4) = 100 / sqrt(3); BLEU-4 = 0 (p4 = 0)


def test_bleu_hand_example():
    assert M.bleu(HAND_HYPS, HAND_REFS, max_n=1) == pytest.approx(100 * 4 / 6, rel=1e-12)
    assert M.bleu_1(HAND_HYPS, HAND_REFS) == pytest.approx(100 * 4 / 6, rel=1e-12)
    assert M.bleu(HAND_HYPS, HAND_REFS, max_n=2) == pytest.approx(100 / math.sqrt(3), rel=1e-12)
    assert M.bleu(HAND_HYPS, HAND_REFS, max_n=3) == pytest.approx(
        100 * (4 / 6 * 2 / 4 * 1 / 2) ** (1 / 3), rel=1e-12
    )
    assert M.bleu_4(HAND_HYPS, HAND_REFS) == 0.0


def test_bleu_brevity_penalty():
    # hyp "a b" vs ref "a b c d": p1 = 2/2, p2 = 1/1, c = 2 < r = 4 -> BP = exp(1 - 4/2) = e^-1
    assert M.bleu([toks("a b")], [toks("a b c d")], max_n=2) == pytest.approx(
        100 * math.exp(-1), rel=1e-12
    )
    # hyp longer than ref: no penalty; p1 = 2/3, p2 = 1/2 -> 100 * sqrt(1/3)
    assert M.bleu([toks("a b x")], [toks("a b")], max_n=2) == pytest.approx(
        100 / math.sqrt(3), rel=1e-12
    )
    # identical corpora score 100
    assert M.bleu([toks("a b c d e")], [toks("a b c d e")]) == pytest.approx(100.0, rel=1e-12)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("max_n", [1, 2, 4])
def test_bleu_equals_sacrebleu(seed: int, max_n: int):
    vocab = JA_VOCAB if seed % 2 == 0 else [f"w{i}" for i in range(8)]
    hyps, refs = random_corpus(seed, n=40 + 10 * seed, vocab=vocab)
    ours = M.bleu(hyps, refs, max_n=max_n)
    theirs = sacrebleu_score(hyps, refs, max_n)
    assert theirs > 0  # the corpora are built to have matches at every order up to 4
    assert ours == pytest.approx(theirs, rel=1e-9, abs=0)


def test_bleu_equals_sacrebleu_with_brevity_penalty_and_zero():
    hyps, refs = random_corpus(123, n=50, vocab=JA_VOCAB)
    short = [h[: max(1, len(h) // 2)] for h in hyps]  # c < r -> BP < 1
    assert M.bleu_4(short, refs) == pytest.approx(sacrebleu_score(short, refs, 4), rel=1e-9)
    assert M.bleu_4(short, refs) < M.bleu_4(hyps, refs)
    # no 4-gram can match: both give exactly 0
    no4 = [toks("a b c")], [toks("a b c")]
    assert M.bleu_4(*no4) == 0.0 == sacrebleu_score(*no4, 4)


def test_bleu_accepts_numpy_and_tuples():
    hyps, refs = random_corpus(7, n=30, vocab=JA_VOCAB)
    expected = M.bleu_4(hyps, refs)
    np_hyps = pd.Series([np.array(h, dtype=str) for h in hyps])  # as pandas/Parquet delivers them
    tuple_refs = tuple(tuple(r) for r in refs)
    assert M.bleu_4(np_hyps, tuple_refs) == expected


# --------------------------------------------------------------------------- ROUGE-L


def test_rouge_l_hand_example():
    hyps = [toks("a b c d"), toks("x y"), toks("a b")]
    refs = [toks("a c d e"), toks("a b c"), toks("b a c")]
    # 1) LCS("a b c d", "a c d e") = 3 (a c d): P = 3/4, R = 3/4 -> F = 0.75
    # 2) no common token: LCS = 0 -> F = 0
    # 3) LCS = 1: P = 1/2, R = 1/3 -> F = 2 * (1/6) / (5/6) = 0.4
    assert M.rouge_l(hyps, refs) == pytest.approx(100 * (0.75 + 0 + 0.4) / 3, rel=1e-12)
    assert M.rouge_l(hyps[:1], refs[:1]) == pytest.approx(75.0, rel=1e-12)
    assert M.rouge_l([toks("a b c")], [toks("a b c")]) == pytest.approx(100.0)


def test_lcs_matches_textbook_dp():
    rng = random.Random(0)
    for _ in range(300):
        vocab = JA_VOCAB[: rng.randint(1, 6)]
        a = [rng.choice(vocab) for _ in range(rng.randint(0, 150))]  # > 64 tokens: multi-word ints
        b = [rng.choice(vocab) for _ in range(rng.randint(0, 150))]
        assert M.lcs_length(a, b) == lcs_dp(a, b)
    assert M.lcs_length(toks("a b c d"), toks("a c d e")) == 3
    assert M.lcs_length([], toks("a")) == 0


def test_rouge_l_speed():
    hyps, refs = random_corpus(1, n=2000, vocab=JA_VOCAB, max_len=120)
    import time

    start = time.perf_counter()
    M.rouge_l(hyps, refs)
    assert time.perf_counter() - start < 2.0


# --------------------------------------------------------------------------- Distinct-n


def test_distinct_n_hand_example():
    responses = [toks("a b a b"), toks("a"), toks("b a")]
    # n=1: distinct {a, b} = 2; total = 4 + 1 + 2 = 7
    assert M.distinct_n(responses, 1) == pytest.approx(100 * 2 / 7)
    # n=2: "a b a b" -> ab, ba, ab (4-2+1 = 3); "a" -> none (max(1-2+1, 0) = 0); "b a" -> ba (1)
    #      distinct {ab, ba} = 2, total 4
    assert M.distinct_n(responses, 2) == pytest.approx(50.0)


def test_distinct_n_no_boundary_crossing_and_short_responses():
    # only "a b" is a bigram; crossing the boundary would add "b c" (and give 2/2 over 2 n-grams)
    assert M.distinct_n([toks("a b"), toks("c")], 2) == pytest.approx(100.0)
    assert M.distinct_n([toks("a b"), toks("c"), toks("a b")], 2) == pytest.approx(50.0)
    # every response shorter than n: no n-grams -> 0
    assert M.distinct_n([toks("a b"), toks("c")], 3) == 0.0
    assert M.distinct_n([], 1) == 0.0


# --------------------------------------------------------------------------- generation_scores


def test_generation_scores_combines_metrics():
    hyps, refs = random_corpus(3, n=25, vocab=JA_VOCAB)
    hyps = [h or ["。"] for h in hyps]
    scores = M.generation_scores(hyps, refs)
    assert set(scores) == {
        "bleu_1",
        "bleu_4",
        "rouge_l",
        "dist_1",
        "dist_2",
        "mean_hyp_tokens",
        "n_responses",
    }
    assert scores["bleu_1"] == pytest.approx(sacrebleu_score(hyps, refs, 1), rel=1e-9)
    assert scores["bleu_4"] == pytest.approx(sacrebleu_score(hyps, refs, 4), rel=1e-9)
    assert (scores["bleu_1"], scores["bleu_4"]) == (M.bleu_1(hyps, refs), M.bleu_4(hyps, refs))
    assert scores["rouge_l"] == M.rouge_l(hyps, refs)
    assert scores["dist_2"] == M.distinct_n(hyps, 2)
    assert scores["mean_hyp_tokens"] == pytest.approx(np.mean([len(h) for h in hyps]))
    assert scores["n_responses"] == 25


def test_generation_scores_with_prepared_references_are_the_same():
    hyps, refs = random_corpus(7, n=40, vocab=JA_VOCAB)
    hyps = [h or ["。"] for h in hyps]
    prepared = M.References(refs)
    assert len(prepared) == 40
    for system in (hyps, hyps[::-1], [hyps[0]] * 40):
        assert M.generation_scores(system, prepared) == M.generation_scores(system, refs)
    with pytest.raises(ValueError, match="2 hypotheses but 40 references"):
        M.generation_scores(HAND_HYPS, prepared)
    with pytest.raises(TypeError, match=r"references\[1\].*plain string"):
        M.References([toks("a"), "b c"])


def test_generation_scores_hand_example():
    scores = M.generation_scores(HAND_HYPS, HAND_REFS)
    assert scores["bleu_1"] == pytest.approx(100 * 4 / 6)
    assert scores["bleu_4"] == 0.0
    # LCS 3 of 4/4 -> 0.75; "a a" vs "a b": LCS 1, P = R = 1/2 -> 0.5
    assert scores["rouge_l"] == pytest.approx(100 * (0.75 + 0.5) / 2)
    assert scores["dist_1"] == pytest.approx(100 * 4 / 6)  # {a, b, c, d} of 6 tokens
    assert scores["dist_2"] == pytest.approx(100 * 4 / 4)  # ab, bc, cd, aa
    assert scores["mean_hyp_tokens"] == 3.0
    assert scores["n_responses"] == 2


def test_generation_errors():
    with pytest.raises(ValueError, match="2 hypotheses but 1 references"):
        M.generation_scores(HAND_HYPS, HAND_REFS[:1])
    with pytest.raises(ValueError, match="2 hypotheses but 1 references"):
        M.bleu(HAND_HYPS, HAND_REFS[:1])
    with pytest.raises(ValueError, match="hypothesis 1 is empty"):
        M.generation_scores([toks("a"), [], toks("b")], [toks("a"), toks("b"), toks("b")])
    with pytest.raises(ValueError, match="hypothesis 0 is empty"):
        M.generation_scores([np.array([], dtype=str)], [toks("a")])
    with pytest.raises(TypeError, match=r"hypotheses\[0\].*plain string"):
        M.generation_scores(["a b c"], [toks("a b c")])  # untokenized text is not silently split
    with pytest.raises(ValueError, match="max_n"):
        M.bleu(HAND_HYPS, HAND_REFS, max_n=0)
    with pytest.raises(ValueError, match="n must be"):
        M.distinct_n(HAND_HYPS, 0)


# --------------------------------------------------------------------------- score prediction

PRED = [[5, 3, 0], [2, 2, 4], [1, 1, 1]]
TRUE = [[5, 4, 2], [2, 0, 4], [0, 0, 0]]
# |err| = [[0,1,2],[0,2,0],[1,1,1]]
# item 1: err 0,0,1 -> acc 2/3, acc_soft 1,   mae 1/3
# item 2: err 1,2,1 -> acc 0,   acc_soft 2/3, mae 4/3
# item 3: err 2,0,1 -> acc 1/3, acc_soft 2/3, mae 1
# means: acc 1/3, acc_soft 7/9, mae 8/9
# totals: pred 8, 8, 3; true 11, 6, 0 -> ranks (2.5, 2.5, 1) vs (3, 2, 1) -> rho = sqrt(3)/2


def test_per_item_scores_hand_example():
    df = M.per_item_scores(PRED, TRUE, n_items=3)
    assert list(df.index) == [1, 2, 3]
    np.testing.assert_allclose(df["acc"], [2 / 3, 0, 1 / 3])
    np.testing.assert_allclose(df["acc_soft"], [1, 2 / 3, 2 / 3])
    np.testing.assert_allclose(df["mae"], [1 / 3, 4 / 3, 1])
    assert (df["n_sessions"] == 3).all()


def test_score_prediction_scores_hand_example():
    s = M.score_prediction_scores(np.array(PRED), np.array(TRUE), n_items=3)
    assert s["acc"] == pytest.approx(1 / 3)
    assert s["acc_soft"] == pytest.approx(7 / 9)
    assert s["mae"] == pytest.approx(8 / 9)
    assert s["spearman_total"] == pytest.approx(math.sqrt(3) / 2)
    assert s["n_sessions"] == 3


def test_score_prediction_20_items_default():
    rng = np.random.default_rng(0)
    true = rng.integers(0, 6, size=(50, 20))
    pred = np.clip(true + rng.integers(-2, 3, size=true.shape), 0, 5)
    s = M.score_prediction_scores(pred, true)
    err = np.abs(pred - true)
    assert s["acc"] == pytest.approx((err == 0).mean())  # equal sessions per item: same as pooled
    assert s["acc_soft"] == pytest.approx((err <= 1).mean())
    assert s["mae"] == pytest.approx(err.mean())
    assert 0 < s["spearman_total"] <= 1
    perfect = M.score_prediction_scores(true, true)
    assert perfect["acc"] == perfect["acc_soft"] == 1.0 and perfect["mae"] == 0.0
    assert perfect["spearman_total"] == pytest.approx(1.0)
    assert len(M.per_item_scores(pred, true)) == 20


def test_spearman_nan_when_constant(recwarn):
    true = np.arange(3 * 20).reshape(3, 20) % 6
    pred = np.full((3, 20), 2)  # constant predicted total
    s = M.score_prediction_scores(pred, true)
    assert math.isnan(s["spearman_total"])
    assert math.isnan(M.score_prediction_scores(true[:1], true[:1])["spearman_total"])
    assert not [w for w in recwarn if "constant" in str(w.message).lower()]


def test_score_prediction_errors():
    good = np.zeros((4, 20), dtype=int)
    with pytest.raises(ValueError, match="20 item columns"):
        M.score_prediction_scores(np.zeros((4, 19), dtype=int), np.zeros((4, 19), dtype=int))
    with pytest.raises(ValueError, match="shape"):
        M.score_prediction_scores(good, np.zeros((5, 20), dtype=int))
    with pytest.raises(ValueError, match="2-D"):
        M.score_prediction_scores(np.zeros(20, dtype=int), np.zeros(20, dtype=int))
    bad = good.copy()
    bad[0, 0] = 6
    with pytest.raises(ValueError, match="within 0-5"):
        M.score_prediction_scores(bad, good)
    with pytest.raises(ValueError, match="within 0-5"):
        M.score_prediction_scores(good, good - 1)
    with pytest.raises(ValueError, match="integer"):
        M.score_prediction_scores(good + 0.5, good)
    nan = good.astype(float)
    nan[1, 3] = np.nan
    with pytest.raises(ValueError, match="integer"):
        M.per_item_scores(nan, good)
