"""Measured baselines that run on a CPU, on the paper's test contexts and with the same metrics.

Response generation (test contexts of ``data.sample_test_contexts``, metrics of ``test_sets.ResponseTestSet``):

* **human reference**: the targets themselves (their length and Dist-n; BLEU/ROUGE would be 100);
* **echo**: answer with the last client turn (the turn right before the target);
* **most frequent turn**: the most frequent target counselor turn of the training subset, every time;
* **TF-IDF retrieval**: a context is represented by its last client turn (the turn right before the
  target): MeCab lemma counts, sublinear tf, smoothed idf, l2-normalised. The idf is fitted on the
  keys of the *full* subset (= low ∪ high) and shared, so the Low / High / Full rows differ only in
  their candidate answers. The answer is the counselor turn that followed the most cosine-similar
  training key (exact search over all keys; ties: the earliest training example in corpus order; no
  lemma in common with any key: the most frequent turn). Trained on low, high and full separately,
  so the subsets can be compared with a model that runs here.

Score prediction (``metrics.score_prediction_scores``), on three splits:

* **held-out** (main, paper-compatible): train = *full* sessions outside the held-out split, test = the
  held-out 20 % of all sessions (``data.score_split(seed)``); the same files ``export-sft --subset full``
  writes. The same raters and counselors are on both sides, and the rater alone explains about 30 % of
  score variance, so this split flatters any model that learns who is rating;
* **person-disjoint**: no rater or counselor of a test session appears in training
  (``data.person_disjoint_split(seed)``: about 20 % of sessions for test; sessions that mix a test and
  a training person, about half of all, are left out of both); train = its *full* training sessions;
* **test pool**: train = all *full* sessions, test = the 118 sessions with score ≥ 99. Nearly all of
  their items are 5, so this split rewards predicting "5" and says little; shown for completeness.

Models: every item 5 (the maximum; shows how much a split rewards optimism); the training mean of
each item, rounded; the most common training answer of each item; and a multi-output ridge regression
(:class:`RidgeScoreModel`) on TF-IDF of the client's and the counselor's lemmas (separately, the
:data:`TOP_LEMMAS` lemmas found in most training sessions of each role) plus standardised dialogue
features (:func:`dialogue_features`), one alpha chosen by generalised cross-validation on the training
sessions, predictions rounded and clipped to 0-5.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.loading import Corpus, turn_numbers
from kokoro_analysis.corpus.measures import response_times, session_features
from kokoro_analysis.finetune.data import TRAIN_SUBSETS, person_disjoint_split, response_examples
from kokoro_analysis.finetune.test_sets import (
    ResponseTestSet,
    ScoreTestSet,
    person_disjoint_test_set,
    score_test_sets,
)
from kokoro_analysis.text.surfaces import surfaces
from kokoro_analysis.text.tokens import Tokens, message_positions

QUERY_BLOCK = 128
"""Test contexts per block of the similarity product (a block needs 4 bytes x keys x block)."""
ARGMAX_CHUNK = 1024
"""Rows per chunk of the best-key search (a chunk of a block stays in the CPU cache)."""
RIDGE_ALPHAS = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0)
TOP_LEMMAS = 500
"""Lemmas per role in the ridge features (those in most training sessions)."""


# --------------------------------------------------------------------------- lemma counts


def _lemma_counts(
    tokens: Tokens, utterances: pd.DataFrame, row_of_utterance: np.ndarray, n_rows: int
) -> sparse.csr_matrix:
    """Sparse counts (rows x lemma categories) of the tokens of ``utterances`` grouped by row."""
    table = tokens.table
    position = message_positions(table, utterances, strict=False)
    keep = position >= 0
    lemma = table["lemma"].cat.codes.to_numpy()[keep]
    rows = row_of_utterance[position[keep]]
    n_lemmas = len(table["lemma"].cat.categories)
    data = np.ones(len(rows), dtype=np.float64)
    return sparse.csr_matrix((data, (rows, lemma)), shape=(n_rows, n_lemmas))


def turn_lemma_counts(corpus: Corpus, tokens: Tokens) -> sparse.csr_matrix:
    """Lemma counts per turn: rows aligned with ``corpus.turns()`` (a turn's tokens are those of its
    messages), columns = categories of ``tokens.table["lemma"]``."""
    turn_of = turn_numbers(corpus.utterances)
    n_turns = int(turn_of[-1]) + 1 if len(turn_of) else 0
    return _lemma_counts(tokens, corpus.utterances, turn_of, n_turns)


# --------------------------------------------------------------------------- response baselines


def most_frequent_turn(train_examples: pd.DataFrame) -> str:
    """The most frequent target text (ties: the alphabetically first)."""
    counts = train_examples["target"].value_counts()
    best = counts[counts == counts.max()].index
    return str(min(best))


def echo_responses(test: pd.DataFrame, turns: pd.DataFrame) -> list[str]:
    """The last client turn before each test target (``test.row`` indexes ``turns``)."""
    previous = test["row"].to_numpy() - 1
    if not (turns["role"].to_numpy()[previous] == "client").all():
        raise ValueError("the turn before a target must be a client turn")
    return turns["text"].to_numpy()[previous].tolist()


@dataclass
class Retrieval:
    """Responses of one retrieval baseline and facts about it."""

    responses: list[str]
    keys: int
    """Training examples (candidate answers)."""
    no_match: int
    """Test contexts sharing no lemma with any key (answered with the fallback)."""
    mean_similarity: float
    """Mean cosine similarity of the chosen key (matched contexts only)."""


def retrieval_responses(
    counts: sparse.csr_matrix,
    train: Mapping[str, pd.DataFrame],
    test: pd.DataFrame,
    *,
    idf_keys: pd.DataFrame,
    fallbacks: Mapping[str, str] | None = None,
    block: int = QUERY_BLOCK,
) -> dict[str, Retrieval]:
    """TF-IDF nearest-neighbour responses for several training pools at once (module docstring).

    ``counts``: lemma counts per turn; ``train``: name -> training examples, ``test``: test examples
    (their ``row`` indexes the turns of ``counts``; the key of an example is the turn before it, its
    last client turn). ``idf_keys``: the examples whose keys fit the idf (the *full* subset, so the
    pools differ only in their candidates). Exact: every key is scored for every test context. Keys are
    grouped by the pools they belong to, each group is scored once per block of test contexts, and a
    pool's answer is the best of its groups (ties: the earliest example in corpus order).
    """
    from sklearn.feature_extraction.text import TfidfTransformer  # slow to import; only used here

    fallbacks = dict(fallbacks or {})
    idf_counts = counts[idf_keys["row"].to_numpy() - 1]
    lemmas = np.flatnonzero(idf_counts.getnnz(axis=0))
    tfidf = TfidfTransformer(sublinear_tf=True).fit(idf_counts[:, lemmas])
    names = list(train)
    groups = []
    for owners, rows in _key_groups({name: train[name]["row"].to_numpy() for name in names}):
        key_counts = counts[rows - 1][:, lemmas]
        first = first_distinct_rows(key_counts)  # a repeated key scores as its first occurrence
        keys = tfidf.transform(key_counts[first]).astype(np.float32).tocsr()
        groups.append((owners, rows[first], keys))
    queries = (
        tfidf.transform(counts[test["row"].to_numpy() - 1][:, lemmas]).astype(np.float32).tocsr()
    )
    n = queries.shape[0]
    best_row = {name: np.zeros(n, dtype=np.int64) for name in names}
    best_sim = {name: np.full(n, -1.0) for name in names}
    for start in range(0, n, block):
        dense = np.asfortranarray(queries[start : start + block].toarray().T)  # lemmas x block
        window = slice(start, start + dense.shape[1])
        for owners, rows, keys in groups:
            sims = keys @ dense  # keys x block
            top, top_sim = _column_argmax(sims)  # ties: the first = earliest row of the group
            for name in owners:
                _keep_better(best_sim[name][window], best_row[name][window], top_sim, rows[top])
    result = {}
    for name in names:
        examples = train[name].set_index("row")["target"]
        fallback = fallbacks.get(name) or most_frequent_turn(train[name])
        matched = best_sim[name] > 0
        responses = np.where(
            matched, examples.reindex(best_row[name]).to_numpy(), fallback
        ).tolist()
        result[name] = Retrieval(
            responses,
            len(train[name]),
            int((~matched).sum()),
            float(best_sim[name][matched].mean()) if matched.any() else float("nan"),
        )
    return result


def _column_argmax(sims: np.ndarray, chunk: int = ARGMAX_CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """Per column of ``sims`` (keys x queries, no NaN): the first row holding the column's maximum,
    and that maximum (float64). Same as ``sims.argmax(axis=0)``, but several times faster on a
    C-ordered array (numpy's argmax along axis 0 copies the array): chunks of ``chunk`` rows are
    reduced by a max, and only the columns whose maximum a chunk raises are searched in it (a tie
    with an earlier chunk keeps the earlier row)."""
    top = np.zeros(sims.shape[1], dtype=np.int64)
    top_sim = np.full(sims.shape[1], -np.inf, dtype=sims.dtype)
    for start in range(0, sims.shape[0], chunk):
        part = sims[start : start + chunk]
        part_max = part.max(axis=0)
        raised = np.flatnonzero(part_max > top_sim)
        if raised.size:
            top[raised] = start + part[:, raised].argmax(axis=0)
            top_sim[raised] = part_max[raised]
    return top, top_sim.astype(np.float64)


def first_distinct_rows(matrix: sparse.csr_matrix) -> np.ndarray:
    """Positions, ascending, of the first occurrence of every distinct row of ``matrix`` (canonical
    CSR). Rows are grouped by a hash of their entries, then compared exactly with their group's first
    row: a row that differs from it (a hash collision) is kept, and so are its own repeats, so a few
    repeated rows may be kept too (harmless to a search whose ties go to the earliest row)."""
    matrix = sparse.csr_matrix(matrix)
    matrix.sum_duplicates()  # canonical: sorted indices, no duplicates (a no-op when already so)
    n = matrix.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    entry = matrix.indices.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    entry ^= matrix.data.astype(np.float64).view(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
    entry ^= entry >> np.uint64(29)
    entry *= np.uint64(0x94D049BB133111EB)
    starts = matrix.indptr[:-1]
    filled = np.diff(matrix.indptr) > 0
    digest = np.zeros(n, dtype=np.uint64)
    if entry.size:
        digest[filled] = np.add.reduceat(entry, starts[filled])
    digest += np.diff(matrix.indptr).astype(np.uint64) * np.uint64(0xFF51AFD7ED558CCD)
    _, first, group = np.unique(digest, return_index=True, return_inverse=True)
    same = (matrix[first[group]] != matrix).getnnz(axis=1) == 0
    return np.flatnonzero((first[group] == np.arange(n)) | ~same)


def _key_groups(pools: Mapping[str, np.ndarray]) -> list[tuple[list[str], np.ndarray]]:
    """Split the key rows of all pools (name -> rows) into groups of rows that belong to the same
    pools: ``(names of those pools, rows in corpus order)``, so each key is scored once."""
    names = list(pools)
    rows = np.unique(np.concatenate(list(pools.values())))
    member = np.column_stack([np.isin(rows, pools[name]) for name in names])  # rows x pools
    groups = []
    for pattern in np.unique(member, axis=0):
        owners = [name for name, inside in zip(names, pattern) if inside]
        groups.append((owners, rows[(member == pattern).all(axis=1)]))
    return groups


def _keep_better(
    best_sim: np.ndarray, best_row: np.ndarray, sim: np.ndarray, row: np.ndarray
) -> None:
    """Update the best (similarity, row) per test context in place: a higher similarity wins, a tie
    goes to the earlier row."""
    better = (sim > best_sim) | ((sim == best_sim) & (row < best_row))
    best_sim[better] = sim[better]
    best_row[better] = row[better]


def generation_baselines(
    corpus: Corpus,
    tokens: Tokens,
    test_set: ResponseTestSet,
    *,
    subsets=TRAIN_SUBSETS,
    turns: pd.DataFrame | None = None,
    workers: int | None = None,
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Score every response baseline on ``test_set``.

    ``corpus`` and ``tokens`` are the whole corpus and its tokens; ``test_set`` must have been built
    from ``corpus`` with the same ``turns``. Returns a table (one row per baseline: ``model``,
    ``training`` subset, the metrics of ``ResponseTestSet.score``, ``mean_hyp_tokens``,
    ``mean_hyp_chars``, ``n_responses`` and retrieval facts) and the responses of each baseline.
    """
    turns = corpus.turns() if turns is None else turns
    test = test_set.examples
    examples = response_examples(turns)
    echo = echo_responses(test, turns)
    rows: list[dict] = [
        {"model": "Human reference (test targets)", "training": "", **test_set.reference_scores()},
        {"model": "Echo last client turn", "training": "", **test_set.score(echo, workers=workers)},
    ]
    responses: dict[str, list[str]] = {"echo": echo}
    train = {
        subset: examples[examples["dialogue_id"].isin(corpus.subset_ids(subset))]
        for subset in subsets
    }
    frequent = {subset: most_frequent_turn(train[subset]) for subset in subsets}
    retrieved = retrieval_responses(
        turn_lemma_counts(corpus, tokens),
        train,
        test,
        fallbacks=frequent,
        idf_keys=examples[examples["dialogue_id"].isin(corpus.subset_ids("full"))],
    )
    # the subsets' retrieved turns overlap (full's answers are low's or high's): tokenized once
    texts = sorted({text for subset in subsets for text in retrieved[subset].responses})
    surfaces_of = dict(zip(texts, surfaces(texts, workers=workers)))
    for subset in subsets:
        responses[f"most_frequent_{subset}"] = [frequent[subset]] * len(test)
        responses[f"retrieval_{subset}"] = retrieved[subset].responses
        rows += _subset_rows(test_set, subset, frequent[subset], retrieved[subset], surfaces_of)
    return pd.DataFrame(rows), responses


def _subset_rows(
    test_set: ResponseTestSet,
    subset: str,
    frequent: str,
    retrieved: Retrieval,
    surfaces_of: Mapping[str, list[str]],
) -> list[dict]:
    """The rows of the most-frequent-turn and the retrieval baseline trained on ``subset``
    (``surfaces_of``: the MeCab surfaces of every retrieved text)."""
    n = len(test_set.examples)
    frequent_tokens = surfaces([frequent], workers=1)[0]
    return [
        {
            "model": f"Most frequent counselor turn ({subset})",
            "training": subset,
            **test_set.score([frequent] * n, tokens=[frequent_tokens] * n),
        },
        {
            "model": f"TF-IDF retrieval ({subset})",
            "training": subset,
            **test_set.score(
                retrieved.responses, tokens=[surfaces_of[text] for text in retrieved.responses]
            ),
            "keys": retrieved.keys,
            "no_match": retrieved.no_match,
            "mean_similarity": retrieved.mean_similarity,
        },
    ]


# --------------------------------------------------------------------------- score prediction


def dialogue_features(corpus: Corpus, turns: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-session numbers for the score model, indexed like ``corpus.dialogues``:
    ``log_client_chars``, ``log_counselor_chars`` (log1p of total characters), ``client_share`` (client
    characters / all; 0 without any), ``log_turns``, ``log_duration_min`` (the characters, turns and
    duration of ``measures.session_features``), ``log_response_s`` (log1p of the median counselor
    response time of ``measures.response_times``, negative gaps counted as 0; 0 when there is none)
    and ``mean_client_turn_chars``."""
    turns = corpus.turns() if turns is None else turns
    index = corpus.dialogues.index
    session = session_features(corpus)
    response = (
        response_times(corpus.utterances).groupby("dialogue_id")["seconds"].median().clip(lower=0)
    )
    client_turns = turns[turns["role"] == "client"].groupby("dialogue_id")["length"].mean()
    return pd.DataFrame(
        {
            "log_client_chars": np.log1p(session["client_chars"]),
            "log_counselor_chars": np.log1p(session["counselor_chars"]),
            "client_share": session["client_char_share"].fillna(0),
            "log_turns": np.log1p(session["n_turns"]),
            "log_duration_min": np.log1p(session["duration_min"].clip(lower=0).fillna(0)),
            "log_response_s": np.log1p(response.reindex(index).fillna(0)),
            "mean_client_turn_chars": client_turns.reindex(index).fillna(0),
        },
        index=index,
    )


def session_lemma_counts(
    corpus: Corpus,
    tokens: Tokens,
    role: str,
    *,
    turn_counts: sparse.csr_matrix | None = None,
    turns: pd.DataFrame | None = None,
) -> sparse.csr_matrix:
    """Lemma counts of one role's messages per session (rows aligned with ``corpus.dialogues``).

    ``turn_counts`` (:func:`turn_lemma_counts`) and ``turns`` (``corpus.turns()``) may be passed when
    already at hand: the counts are then summed over the role's turns instead of recounted from the
    tokens (the same integers, so the same matrix)."""
    if turn_counts is None:
        turn_counts = turn_lemma_counts(corpus, tokens)
    turns = corpus.turns() if turns is None else turns
    mine = np.flatnonzero((turns["role"] == role).to_numpy())
    session = corpus.dialogues.index.get_indexer(turns["dialogue_id"].to_numpy()[mine])
    if (session < 0).any():
        raise ValueError("a turn belongs to no session of corpus.dialogues")
    return _sum_rows(turn_counts, mine, session, len(corpus.dialogues))


def _sum_rows(
    counts: sparse.csr_matrix, rows: np.ndarray, groups: np.ndarray, n_groups: int
) -> sparse.csr_matrix:
    """Row ``g`` of the result = the sum of the rows ``rows[groups == g]`` of ``counts`` (integer
    counts, so exact in any order), in canonical CSR form (sorted indices, as ``_lemma_counts``)."""
    data = np.ones(len(rows), dtype=np.float64)
    members = sparse.csr_matrix((data, (groups, rows)), shape=(n_groups, counts.shape[0]))
    summed = sparse.csr_matrix(members @ counts)
    summed.sort_indices()
    return summed


class RidgeScoreModel:
    """Multi-output ridge on TF-IDF lemmas (client, counselor) + standardised dialogue features.

    Per role, the ``top_lemmas`` lemmas occurring in most training sessions (ties: lemma order) enter
    as sublinear TF-IDF (idf fitted on the training sessions, rows l2-normalised); one alpha for all
    20 items, chosen from ``alphas`` by generalised cross-validation (``RidgeCV``)."""

    def __init__(self, alphas=RIDGE_ALPHAS, top_lemmas: int = TOP_LEMMAS) -> None:
        self.alphas = alphas
        self.top_lemmas = top_lemmas

    def _design(
        self, blocks: list[sparse.csr_matrix], features: pd.DataFrame, fit: bool = False
    ) -> np.ndarray:
        from sklearn.feature_extraction.text import TfidfTransformer
        from sklearn.preprocessing import StandardScaler

        if fit:
            self.columns_ = [
                np.argsort(-(b > 0).sum(axis=0).A1, kind="stable")[: self.top_lemmas]
                for b in blocks
            ]
            self.tfidf_ = [
                TfidfTransformer(sublinear_tf=True).fit(b[:, c])
                for b, c in zip(blocks, self.columns_)
            ]
            self.scaler_ = StandardScaler().fit(features.to_numpy())
        parts = [
            t.transform(b[:, c]).toarray() for t, b, c in zip(self.tfidf_, blocks, self.columns_)
        ]
        return np.hstack([*parts, self.scaler_.transform(features.to_numpy())])

    def fit(
        self, blocks: list[sparse.csr_matrix], features: pd.DataFrame, items: np.ndarray
    ) -> RidgeScoreModel:
        from sklearn.linear_model import RidgeCV

        self.ridge_ = RidgeCV(alphas=self.alphas).fit(
            self._design(blocks, features, fit=True), items
        )
        return self

    def predict(self, blocks: list[sparse.csr_matrix], features: pd.DataFrame) -> np.ndarray:
        """Integer item scores 0-5 (sessions x 20): the ridge output rounded and clipped."""
        raw = self.ridge_.predict(self._design(blocks, features))
        return np.clip(np.rint(raw), schema.ITEM_MIN, schema.ITEM_MAX).astype(np.int64)

    @property
    def alpha(self) -> float:
        return float(self.ridge_.alpha_)


SCORE_SPLITS = ("held-out", "person-disjoint", "test pool")
"""The score-prediction splits of :func:`score_prediction_baselines`."""


def score_prediction_baselines(
    corpus: Corpus, tokens: Tokens, *, seed: int = 0, turns: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The score-prediction baselines on every split of :data:`SCORE_SPLITS` (see the module
    docstring): the paper-compatible held-out split of sessions, the person-disjoint split
    (:func:`~kokoro_analysis.finetune.data.person_disjoint_split`: no rater or counselor of a test
    session in training; sessions that would leak a person are left out of both) and the test pool.

    Returns a table (``model``, ``split``, ``test_set``, ``train_sessions``, ``test_sessions``, ``acc``, ``acc_soft``
    (fractions), ``mae``, ``spearman_total``, ``alpha``) and the predictions per (model, split) as
    frames indexed by dialogue id with the 20 item columns.
    """
    dialogues = corpus.dialogues
    turns = corpus.turns() if turns is None else turns
    features = dialogue_features(corpus, turns)
    counts = turn_lemma_counts(corpus, tokens)
    blocks = [
        session_lemma_counts(corpus, tokens, role, turn_counts=counts, turns=turns)
        for role in ("client", "counselor")
    ]
    items = schema.item_matrix(dialogues)
    rows, predictions = [], {}
    for split, (test_set, train_mask) in _score_splits(corpus, seed).items():
        train_rows = np.flatnonzero(train_mask)
        test_rows = dialogues.index.get_indexer(test_set.items.index)
        outputs = _score_models(items[train_rows], len(test_rows))
        model = RidgeScoreModel().fit(
            [b[train_rows] for b in blocks], features.iloc[train_rows], items[train_rows]
        )
        outputs["Ridge (TF-IDF lemmas + dialogue features)"] = (
            model.predict([b[test_rows] for b in blocks], features.iloc[test_rows]),
            model.alpha,
        )
        for name, (predicted, alpha) in outputs.items():
            frame = pd.DataFrame(
                predicted, index=dialogues.index[test_rows], columns=list(schema.ITEM_KEYS)
            )
            predictions[(name, split)] = frame
            rows.append(
                {
                    "model": name,
                    "split": split,
                    "test_set": test_set.description,
                    "train_sessions": len(train_rows),
                    "test_sessions": len(test_rows),
                    **_score(test_set, frame),
                    "alpha": alpha,
                }
            )
    return pd.DataFrame(rows), predictions


def _score_splits(corpus: Corpus, seed: int) -> dict[str, tuple[ScoreTestSet, np.ndarray]]:
    """Each split of :data:`SCORE_SPLITS`: its test set and the mask of its training sessions (rows of
    ``corpus.dialogues``)."""
    dialogues = corpus.dialogues
    full = schema.subset_mask(dialogues["score"], "full")
    tests = score_test_sets(corpus, seed)
    split = person_disjoint_split(dialogues, seed)
    persons = split.to_numpy()
    person_test = person_disjoint_test_set(corpus, seed, split=split)
    return {
        "held-out": (
            tests["held_out"],
            full & ~dialogues.index.isin(tests["held_out"].items.index),
        ),
        "person-disjoint": (person_test, full & (persons == "train")),
        "test pool": (tests["test_pool"], full),  # the test pool (≥ 99) lies outside full anyway
    }


def _score_models(train_items: np.ndarray, n_test: int) -> dict[str, tuple[np.ndarray, float]]:
    """The constant predictions (every test session alike) learnt from the training items: every item
    5, each item's rounded training mean, each item's most common training answer (ties: the lower)."""
    shape = (n_test, len(schema.ITEMS))
    mean = np.clip(np.rint(train_items.mean(axis=0)), schema.ITEM_MIN, schema.ITEM_MAX)
    levels = np.arange(schema.ITEM_MIN, schema.ITEM_MAX + 1)
    counts = (train_items[:, :, None] == levels).sum(axis=0)
    mode = levels[counts.argmax(axis=1)]
    return {
        "Constant 5 (maximum)": (np.full(shape, schema.ITEM_MAX), float("nan")),
        "Training mean (rounded)": (np.tile(mean.astype(np.int64), (n_test, 1)), float("nan")),
        "Most common answer (training)": (
            np.tile(mode.astype(np.int64), (n_test, 1)),
            float("nan"),
        ),
    }


def _score(test_set: ScoreTestSet, frame: pd.DataFrame) -> dict:
    scores = test_set.score(frame)
    scores.pop("n_sessions")
    return scores


def training_subsets(compared: str | Sequence[str] | None, subset: str = "all") -> tuple[str, ...]:
    """The training subsets a run compares (in :data:`TRAIN_SUBSETS` order). ``compared``: ``"all"``
    (the three), one training subset or several; ``None`` follows the corpus ``subset`` of the run:
    the training subset it names, else all three (for ``"all"``, and for a subset of the corpus that
    is no training subset, such as the test pool: :func:`subset_note`)."""
    if subset not in schema.SUBSETS:
        raise ValueError(f"subset must be one of {', '.join(schema.SUBSETS)}, not {subset!r}")
    if compared is None:
        return (subset,) if subset in TRAIN_SUBSETS else TRAIN_SUBSETS
    if compared == "all":
        return TRAIN_SUBSETS
    names = [compared] if isinstance(compared, str) else list(compared)
    unknown = [name for name in names if name not in TRAIN_SUBSETS]
    if unknown or not names:
        raise ValueError(
            f"compared subsets must be 'all' or training subsets ({', '.join(TRAIN_SUBSETS)}), "
            f"not {compared!r}"
        )
    return tuple(name for name in TRAIN_SUBSETS if name in names)


def subset_note(subset: str, compared: str | Sequence[str] | None = None) -> str:
    """The line a run prints when its corpus ``subset`` would choose the compared training subsets
    (``compared`` not given) but is no training subset (e.g. the test pool); empty otherwise."""
    if compared is not None or subset == "all" or subset in TRAIN_SUBSETS:
        return ""
    return (
        f"subset {subset!r} does not apply here (the training subsets are "
        f"{', '.join(TRAIN_SUBSETS)}): all three are compared, as without a subset"
    )
