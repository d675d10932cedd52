"""Measured baselines: lemma counts per turn, echo / most-frequent / retrieval by hand, the grouped
retrieval against brute force, the tables on synthetic data and the score-prediction models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer

from kokoro_analysis import load_corpus, tokenize_corpus
from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.loading import turn_numbers
from kokoro_analysis.finetune import metrics
from kokoro_analysis.finetune.baselines import (
    RidgeScoreModel,
    _column_argmax,
    dialogue_features,
    echo_responses,
    first_distinct_rows,
    generation_baselines,
    most_frequent_turn,
    retrieval_responses,
    score_prediction_baselines,
    session_lemma_counts,
    subset_note,
    training_subsets,
    turn_lemma_counts,
)
from kokoro_analysis.finetune.data import TRAIN_SUBSETS, person_disjoint_split, response_examples
from kokoro_analysis.finetune.test_sets import ResponseTestSet
from kokoro_analysis.text.surfaces import surfaces


@pytest.fixture(scope="module")
def synthetic(synthetic_dir):
    corpus = load_corpus(synthetic_dir)
    return corpus, tokenize_corpus(corpus, progress=False), corpus.turns()


def test_utterances_map_to_their_turns(synthetic):
    corpus, tokens, turns = synthetic
    turn_of = turn_numbers(corpus.utterances)
    joined = corpus.utterances.groupby(turn_of, sort=True)["text"].agg("\n".join)
    assert joined.tolist() == turns["text"].tolist()
    counts = turn_lemma_counts(corpus, tokens)
    assert counts.shape[0] == len(turns)
    per_utterance = tokens.counts_per_utterance(corpus.utterances.index).to_numpy()
    assert (
        np.asarray(counts.sum(axis=1)).ravel().tolist()
        == np.bincount(turn_of, weights=per_utterance).tolist()
    )


def test_session_lemma_counts_split_by_role(synthetic):
    corpus, tokens, _ = synthetic
    client = session_lemma_counts(corpus, tokens, "client")
    counselor = session_lemma_counts(corpus, tokens, "counselor")
    assert client.shape[0] == counselor.shape[0] == len(corpus.dialogues)
    assert client.sum() + counselor.sum() == len(tokens)
    first = corpus.dialogues.index[0]
    mine = corpus.utterances[
        (corpus.utterances["dialogue_id"] == first) & (corpus.utterances["role"] == "client")
    ]
    assert client[0].sum() == tokens.counts_per_utterance(mine.index).sum()
    given = session_lemma_counts(
        corpus,
        tokens,
        "client",
        turn_counts=turn_lemma_counts(corpus, tokens),
        turns=corpus.turns(),
    )
    assert given.has_canonical_format and (given != client).nnz == 0
    lemma = tokens.table["lemma"].cat.codes.to_numpy()
    of_first = tokens.table["utterance"].isin(mine.index).to_numpy()
    assert (
        np.bincount(lemma[of_first], minlength=client.shape[1]).tolist()
        == client[0].toarray()[0].tolist()
    )


def hand_turns() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dialogue_id": [1, 1, 1, 1, 2, 2, 3, 3],
            "turn": [0, 1, 2, 3, 0, 1, 0, 1],
            "role": pd.Categorical(
                [
                    "client",
                    "counselor",
                    "client",
                    "counselor",
                    "client",
                    "counselor",
                    "client",
                    "counselor",
                ],
                categories=schema.ROLES,
            ),
            "text": [
                "眠れない",
                "つらいですね",
                "仕事が",
                "お仕事ですか",
                "眠れない",
                "大変ですね",
                "眠れない仕事",
                "target",
            ],
        }
    )


def hand_split(counts: list[list[int]]) -> tuple[sparse.csr_matrix, pd.DataFrame, pd.DataFrame]:
    """Lemma counts per turn of :func:`hand_turns` and its examples: train = sessions 1-2, test = 3."""
    examples = response_examples(hand_turns())
    train, test = examples[examples["dialogue_id"] < 3], examples[examples["dialogue_id"] == 3]
    return sparse.csr_matrix(np.array(counts, dtype=float)), train, test


def test_retrieval_by_hand():
    # lemma columns: 0 = 眠れない, 1 = 仕事, 2 = unused; one row per turn
    counts, train, test = hand_split(
        [[1, 0, 0], [0, 0, 0], [0, 1, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0], [1, 1, 0], [0, 0, 0]]
    )
    result = retrieval_responses(
        counts, {"a": train, "b": train.iloc[[0, 2]]}, test, idf_keys=train
    )
    # query {眠れない, 仕事}; smoothed idf ln((1 + 3) / (1 + df)) + 1 over the 3 keys: 仕事 (df 1) weighs more
    idf_sleep, idf_work = np.log(4 / 3) + 1, np.log(4 / 2) + 1
    norm = np.hypot(idf_sleep, idf_work)
    assert result["a"].responses == ["お仕事ですか"]
    assert result["a"].mean_similarity == pytest.approx(idf_work / norm)
    assert result["a"].keys == 3 and result["a"].no_match == 0
    # pool b: two identical "眠れない" keys tie; the earliest training example wins
    assert result["b"].responses == ["つらいですね"]
    assert result["b"].mean_similarity == pytest.approx(idf_sleep / norm)


def test_retrieval_falls_back_without_a_shared_lemma():
    counts, train, test = hand_split(
        [[1, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0], [0, 0, 1], [0, 0, 0]]
    )
    result = retrieval_responses(
        counts, {"a": train}, test, idf_keys=train, fallbacks={"a": "はい"}
    )
    assert result["a"].responses == ["はい"] and result["a"].no_match == 1


def test_echo_and_most_frequent():
    turns = hand_turns()
    examples = response_examples(turns)
    assert echo_responses(examples, turns) == ["眠れない", "仕事が", "眠れない", "眠れない仕事"]
    tie = pd.DataFrame({"target": ["ええ", "はい", "はい", "ええ", "うん"]})
    assert most_frequent_turn(tie) == "ええ"  # tie broken alphabetically
    with pytest.raises(ValueError):
        echo_responses(examples.assign(row=examples["row"] + 1), turns)


def test_grouped_retrieval_equals_brute_force(synthetic):
    corpus, tokens, turns = synthetic
    counts = turn_lemma_counts(corpus, tokens)
    examples = response_examples(turns)
    scores = corpus.dialogues["score"]
    train = {
        name: examples[examples["dialogue_id"].isin(corpus.subset_ids(name))]
        for name in TRAIN_SUBSETS
    }
    test = examples[examples["dialogue_id"].isin(scores.index[scores >= 99])]
    result = retrieval_responses(counts, train, test, idf_keys=train["full"], block=7)
    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts[train["full"]["row"].to_numpy() - 1])
    queries = tfidf.transform(counts[test["row"].to_numpy() - 1]).toarray()
    for name, pool in train.items():
        keys = tfidf.transform(counts[pool["row"].to_numpy() - 1]).toarray()
        sims = queries @ keys.T
        best = []
        for row in sims:
            top = np.flatnonzero(np.isclose(row, row.max(), rtol=0, atol=1e-6))[
                0
            ]  # earliest of the ties
            best.append(pool["target"].iloc[top])
        assert result[name].responses == best, name


@pytest.mark.parametrize("chunk", [1, 4, 7, 50, 4096])
def test_column_argmax_equals_numpy_argmax_with_ties_and_empty_columns(chunk):
    rng = np.random.default_rng(0)
    sims = rng.integers(0, 4, size=(50, 9)).astype(np.float32) / 3  # many ties
    sims[:, 3] = 0  # a context with no match
    sims[[5, 40], 6] = 2.0  # a tie at the maximum across chunks: the first row wins
    top, top_sim = _column_argmax(sims, chunk=chunk)
    assert top.tolist() == sims.argmax(axis=0).tolist()
    assert top[3] == 0 and top[6] == 5
    assert top_sim.dtype == np.float64
    assert top_sim.tolist() == sims.max(axis=0).astype(np.float64).tolist()


def test_first_distinct_rows_keeps_the_first_of_equal_rows():
    rows = [
        [0, 2, 0],
        [1, 0, 0],
        [0, 2, 0],
        [0, 0, 0],
        [0, 0, 0],
        [0, 2.5, 0],
        [1, 0, 0],
        [2, 0, 1],
    ]
    matrix = sparse.csr_matrix(np.array(rows, dtype=np.float64))
    assert first_distinct_rows(matrix).tolist() == [0, 1, 3, 5, 7]
    assert first_distinct_rows(matrix[:0]).tolist() == []
    unsorted = sparse.csr_matrix(
        (np.array([1.0, 2.0, 2.0, 1.0]), np.array([0, 2, 2, 0]), np.array([0, 2, 4])), shape=(2, 3)
    )
    assert first_distinct_rows(unsorted).tolist() == [0]  # the same row, entries in another order


def test_first_distinct_rows_keeps_rows_whose_hashes_collide(monkeypatch):
    matrix = sparse.csr_matrix(np.array([[1, 0], [0, 1], [1, 0], [0, 1]], dtype=np.float64))
    real_unique = np.unique

    def colliding_unique(values, **options):  # every row gets the same hash
        return real_unique(np.zeros_like(values), **options)

    monkeypatch.setattr(np, "unique", colliding_unique)
    assert first_distinct_rows(matrix).tolist() == [0, 1, 3]  # row 1 and 3 differ from row 0: kept


def test_retrieval_with_repeated_keys_equals_brute_force():
    counts = sparse.csr_matrix(
        np.array(
            [
                [1, 1, 0],
                [0, 0, 0],
                [1, 1, 0],
                [0, 0, 0],
                [0, 1, 1],
                [0, 0, 0],
                [1, 1, 0],
                [0, 0, 0],
            ],
            dtype=np.float64,
        )
    )
    pool = pd.DataFrame({"row": [1, 3, 5, 7], "target": ["a", "b", "c", "d"]})
    test = pd.DataFrame({"row": [1, 5]})
    result = retrieval_responses(counts, {"full": pool}, test, idf_keys=pool)
    assert result["full"].responses == [
        "a",
        "c",
    ]  # rows 0, 2 and 6 are the same key: the first wins


def test_generation_baselines_on_synthetic_data(synthetic):
    corpus, tokens, turns = synthetic
    test_set = ResponseTestSet.from_corpus(corpus, turns=turns)
    rows, responses = generation_baselines(corpus, tokens, test_set, turns=turns)
    rows = rows.set_index("model")
    assert rows.index.tolist() == [
        "Human reference (test targets)",
        "Echo last client turn",
        *[
            f"{kind} ({s})"
            for s in TRAIN_SUBSETS
            for kind in ("Most frequent counselor turn", "TF-IDF retrieval")
        ],
    ]
    human = rows.loc["Human reference (test targets)"]
    assert human["dist_1"] == pytest.approx(metrics.distinct_n(test_set.reference_tokens, 1))
    assert np.isnan(human["bleu_1"]) and human["n_responses"] == len(test_set.ids)
    echo = rows.loc["Echo last client turn"]
    expected = metrics.generation_scores(surfaces(responses["echo"]), test_set.reference_tokens)
    assert echo["bleu_4"] == pytest.approx(expected["bleu_4"]) and echo["rouge_l"] == pytest.approx(
        expected["rouge_l"]
    )
    frequent = rows.loc["Most frequent counselor turn (high)"]
    answer = most_frequent_turn(
        response_examples(turns)[lambda e: e["dialogue_id"].isin(corpus.subset_ids("high"))]
    )
    frequent_tokens = surfaces([answer])[0]
    assert set(responses["most_frequent_high"]) == {answer} and "response" not in rows
    assert frequent["dist_1"] == pytest.approx(
        100 * len(set(frequent_tokens)) / (len(test_set.ids) * len(frequent_tokens))
    )
    assert (
        rows.loc["TF-IDF retrieval (full)", "keys"]
        == rows.loc["TF-IDF retrieval (low)", "keys"] + rows.loc["TF-IDF retrieval (high)", "keys"]
    )
    only_high, _ = generation_baselines(corpus, tokens, test_set, subsets=("high",), turns=turns)
    same = only_high.set_index("model").loc["TF-IDF retrieval (high)", ["bleu_1", "rouge_l"]]
    assert same.tolist() == pytest.approx(
        rows.loc["TF-IDF retrieval (high)", ["bleu_1", "rouge_l"]].tolist()
    )


def test_training_subsets():
    assert training_subsets(None, "all") == TRAIN_SUBSETS
    assert training_subsets(None, "low") == ("low",)
    assert subset_note("all") == subset_note("high") == ""
    # the test pool is no training subset: the run compares all three and says so in one line
    assert training_subsets(None, "test") == TRAIN_SUBSETS
    assert "'test' does not apply here" in subset_note("test") and "\n" not in subset_note("test")
    with pytest.raises(ValueError, match="subset must be one of"):
        training_subsets(None, "middle")


def test_compared_subsets_are_their_own_choice():
    # the corpus subset decides only when no compared subsets are given
    assert training_subsets("all", "low") == TRAIN_SUBSETS
    assert training_subsets(["full", "low"], "high") == ("low", "full")  # in TRAIN_SUBSETS order
    assert training_subsets("high", "test") == ("high",) and subset_note("test", "high") == ""
    for wrong in ("test", ["low", "middle"], []):
        with pytest.raises(ValueError, match="compared subsets must be"):
            training_subsets(wrong)


def test_score_prediction_baselines_on_synthetic_data(synthetic):
    corpus, tokens, turns = synthetic
    rows, predictions = score_prediction_baselines(corpus, tokens, turns=turns)
    assert set(rows["split"]) == {"held-out", "person-disjoint", "test pool"} and len(rows) == 12
    persons = rows[rows["split"] == "person-disjoint"].iloc[0]
    split = person_disjoint_split(corpus.dialogues)
    assert persons["test_sessions"] == (split == "test").sum()
    assert (
        persons["train_sessions"] == ((split == "train") & (corpus.dialogues["score"] <= 98)).sum()
    )
    mode = rows[rows["model"] == "Most common answer (training)"]
    assert len(mode) == 3
    pool = corpus.dialogues[corpus.dialogues["score"] >= 99]
    fives = rows[(rows["model"] == "Constant 5 (maximum)") & (rows["split"] == "test pool")].iloc[0]
    assert fives["acc"] == pytest.approx((pool[list(schema.ITEM_KEYS)] == 5).to_numpy().mean())
    assert (
        fives["test_sessions"] == len(pool)
        and fives["train_sessions"] == (corpus.dialogues["score"] <= 98).sum()
    )
    held = rows[rows["split"] == "held-out"]
    assert (held["test_sessions"] == 12).all()
    for frame in predictions.values():
        values = frame.to_numpy()
        assert values.dtype.kind == "i" and values.min() >= 0 and values.max() <= 5
        assert frame.columns.tolist() == list(schema.ITEM_KEYS)


def test_dialogue_features_by_hand(synthetic):
    corpus, _, turns = synthetic
    features = dialogue_features(corpus, turns)
    first = corpus.dialogues.index[0]
    utterances = corpus.utterances[corpus.utterances["dialogue_id"] == first]
    client = utterances.loc[utterances["role"] == "client", "length"].sum()
    assert features.loc[first, "log_client_chars"] == pytest.approx(np.log1p(client))
    assert features.loc[first, "client_share"] == pytest.approx(client / utterances["length"].sum())
    assert features.loc[first, "log_turns"] == pytest.approx(
        np.log1p((turns["dialogue_id"] == first).sum())
    )
    mine = turns[turns["dialogue_id"] == first].reset_index(drop=True)
    gaps = [
        (mine["start_time"][i] - mine["end_time"][i - 1]).total_seconds()
        for i in range(1, len(mine))
        if mine["role"][i] == "counselor" and mine["role"][i - 1] == "client"
    ]
    assert features.loc[first, "log_response_s"] == pytest.approx(
        np.log1p(np.median(gaps)) if gaps else 0.0
    )
    assert not features.isna().any().any()


def test_ridge_learns_a_clear_signal():
    rng = np.random.default_rng(0)
    n = 200
    signal = rng.uniform(0, 5, n)
    items = np.clip(np.rint(np.tile(signal[:, None], (1, 20))), 0, 5).astype(int)
    features = pd.DataFrame({"signal": signal, "noise": rng.normal(size=n)})
    blocks = [sparse.csr_matrix(rng.poisson(1.0, size=(n, 30)).astype(float)) for _ in range(2)]
    model = RidgeScoreModel(top_lemmas=10).fit(
        [b[:150] for b in blocks], features.iloc[:150], items[:150]
    )
    predicted = model.predict([b[150:] for b in blocks], features.iloc[150:])
    assert predicted.shape == (50, 20) and predicted.min() >= 0 and predicted.max() <= 5
    assert np.abs(predicted - items[150:]).mean() < 0.5
    assert model.alpha in (0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0)
