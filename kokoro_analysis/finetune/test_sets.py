"""The test sets predictions are scored on: the test contexts of response generation with their
tokenized references (:class:`ResponseTestSet`), and the sessions of score prediction (the held-out
split or the ≥ 99 test pool, :func:`score_test_sets`; the person-disjoint split,
:func:`person_disjoint_test_set`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.loading import Corpus
from kokoro_analysis.finetune import metrics
from kokoro_analysis.finetune.data import (
    TEST_SUBSET,
    person_disjoint_split,
    sample_examples,
    sample_test_contexts,
    score_split,
)
from kokoro_analysis.finetune.prediction_files import MAX_LISTED
from kokoro_analysis.text.surfaces import surfaces


@dataclass
class ResponseTestSet:
    """The test contexts with their references, tokenized once; :meth:`score` scores responses."""

    examples: pd.DataFrame
    """``data.sample_test_contexts`` rows (``id``, ``dialogue_id``, ``turn``, ``target`` ...)."""
    reference_tokens: list[list[str]]
    test_samples: int | None = None
    seed: int = 0
    total_contexts: int = 0

    @classmethod
    def from_corpus(
        cls,
        corpus: Corpus,
        test_samples: int | None = None,
        seed: int = 0,
        *,
        turns: pd.DataFrame | None = None,
        workers: int | None = None,
    ) -> ResponseTestSet:
        """Test contexts of ``corpus`` (the whole corpus: the ≥ 99 test pool is taken from it)."""
        turns = corpus.turns() if turns is None else turns
        everything = sample_test_contexts(corpus, None, seed, turns=turns)
        if everything.empty:
            raise ValueError(
                f"the corpus has no test context (no session with score ≥ {schema.TEST_SCORE})"
            )
        examples = sample_examples(everything, test_samples, seed).reset_index(drop=True)
        tokens = surfaces(examples["target"].tolist(), workers=workers)
        return cls(examples, tokens, test_samples, seed, len(everything))

    @property
    def ids(self) -> list[str]:
        return self.examples["id"].tolist()

    def describe(self, *, lang: str = "en") -> str:
        """E.g. ``"4,631 test contexts (all) from 118 test-pool sessions (score ≥ {schema.TEST_SCORE})"``; ``lang="ja"``
        gives the same in Japanese."""
        contexts, sessions = len(self.examples), self.examples["dialogue_id"].nunique()
        if lang == "ja":
            sample = (
                "全件"
                if self.test_samples is None
                else f"全{self.total_contexts:,}件からシード{self.seed}で抽出"
            )
            return f"テスト文脈{contexts:,}件（{sample}）、テストプール{sessions:,}セッション（評価点{schema.TEST_SCORE}以上）"
        sample = (
            "all"
            if self.test_samples is None
            else f"seeded sample of {self.total_contexts:,}, seed {self.seed}"
        )
        return f"{contexts:,} test contexts ({sample}) from {sessions:,} test-pool sessions (score ≥ {schema.TEST_SCORE})"

    def score(
        self,
        responses: Sequence[str] | Mapping[str, str] | pd.Series,
        *,
        tokens: Sequence[Sequence[str]] | None = None,
        workers: int | None = None,
    ) -> dict[str, float]:
        """Generation metrics of ``responses`` (a mapping id -> text, or texts in :attr:`ids` order);
        ``tokens`` may pass already tokenized responses (same order). Keys as
        ``metrics.generation_scores`` plus ``mean_hyp_chars``."""
        texts = self._aligned(responses)
        if tokens is None:
            tokens = surfaces(texts, workers=workers)
        scores = metrics.generation_scores(tokens, self._references)
        scores["mean_hyp_chars"] = float(np.mean([len(t) for t in texts]))
        return scores

    @cached_property
    def _references(self) -> metrics.References:
        """:attr:`reference_tokens` counted once for every system scored."""
        return metrics.References(self.reference_tokens)

    def _aligned(self, responses) -> list[str]:
        if isinstance(responses, (Mapping, pd.Series)):
            missing = [i for i in self.ids if i not in responses]
            if missing:
                raise ValueError(
                    f"{len(missing):,} test contexts have no response (first: {missing[:MAX_LISTED]})"
                )
            return [str(responses[i]) for i in self.ids]
        texts = list(responses)
        if len(texts) != len(self.examples):
            raise ValueError(
                f"got {len(texts):,} responses for {len(self.examples):,} test contexts"
            )
        return texts

    def reference_scores(self) -> dict[str, float]:
        """The human reference as a system: length and Dist-n of the targets (BLEU/ROUGE would be 100)."""
        refs = self.reference_tokens
        return {
            "dist_1": metrics.distinct_n(refs, 1),
            "dist_2": metrics.distinct_n(refs, 2),
            "mean_hyp_tokens": float(np.mean([len(r) for r in refs])),
            "mean_hyp_chars": float(self.examples["target"].str.len().mean()),
            "n_responses": len(refs),
        }


@dataclass
class ScoreTestSet:
    """The sessions a score-prediction file may cover: the held-out split or the ≥ 99 test pool."""

    name: str
    description: str
    items: pd.DataFrame
    """Gold item scores (sessions x 20, columns = item keys), indexed by ``dialogue_id``."""

    def score(self, predicted: pd.DataFrame | np.ndarray) -> dict[str, float]:
        """``metrics.score_prediction_scores`` of predictions (frame indexed by dialogue id with the 20
        item columns, or an array in the order of :attr:`items`). ACC/ACC_soft are fractions."""
        if isinstance(predicted, pd.DataFrame):
            predicted = predicted.loc[self.items.index, list(schema.ITEM_KEYS)].to_numpy()
        return metrics.score_prediction_scores(predicted, self.items.to_numpy())


def score_test_sets(
    corpus: Corpus, seed: int = 0, limit: int | None = None
) -> dict[str, ScoreTestSet]:
    """``{"held_out": ..., "test_pool": ...}`` (see ``data.score_split``);
    with ``limit``, each is a seeded sample of that many sessions (:func:`sample_sessions`)."""
    dialogues = corpus.dialogues
    held_out = held_out_sessions(dialogues, seed, limit)
    pool = sample_sessions(corpus.subset_ids(TEST_SUBSET), limit, seed)
    sample = "" if limit is None else ", seeded sample"
    items = pd.DataFrame(
        schema.item_matrix(dialogues), index=dialogues.index, columns=list(schema.ITEM_KEYS)
    ).sort_index()
    return {
        "held_out": ScoreTestSet(
            "held_out",
            f"held-out split ({len(held_out):,} sessions{sample}, seed {seed})",
            items.loc[np.sort(held_out)],
        ),
        "test_pool": ScoreTestSet(
            "test_pool",
            f"test pool ({len(pool):,} sessions with score ≥ {schema.TEST_SCORE}{sample})",
            items.loc[np.sort(pool)],
        ),
    }


def person_disjoint_test_set(
    corpus: Corpus, seed: int = 0, *, split: pd.Series | None = None
) -> ScoreTestSet:
    """The test sessions of ``data.person_disjoint_split(seed)`` (no rater or counselor of theirs in
    training), sorted; ``split`` may pass that split when already computed."""
    dialogues = corpus.dialogues
    split = person_disjoint_split(dialogues, seed) if split is None else split
    persons = split.to_numpy()
    items = pd.DataFrame(
        schema.item_matrix(dialogues)[persons == "test"],
        index=dialogues.index[persons == "test"],
        columns=list(schema.ITEM_KEYS),
    ).sort_index()
    return ScoreTestSet(
        "person_disjoint",
        f"person-disjoint split ({len(items):,} sessions, {int((persons == 'excluded').sum()):,} "
        f"left out, seed {seed})",
        items,
    )


def held_out_sessions(dialogues: pd.DataFrame, seed: int = 0, limit: int | None = None) -> pd.Index:
    """The sessions of the score-prediction held-out split (``data.score_split(seed)``), all or a
    seeded sample of ``limit`` (:func:`sample_sessions`), sorted."""
    return sample_sessions(dialogues.index[score_split(dialogues, seed).to_numpy()], limit, seed)


def sample_sessions(ids: Sequence[int], limit: int | None, seed: int = 0) -> pd.Index:
    """Sorted session ids, all or a seeded sample of ``limit`` (as ``sample_examples``)."""
    frame = pd.DataFrame({"dialogue_id": np.sort(np.asarray(ids, dtype=np.int64))})
    if limit is not None and limit > len(frame):
        limit = len(frame)
    return pd.Index(
        sample_examples(frame, limit, seed)["dialogue_id"].to_numpy(), name="dialogue_id"
    )
