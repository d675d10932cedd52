"""Unit tests of kokoro_analysis.analyses.feedback.item_structure (item correlations and factor
structure)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis.analyses.feedback import (
    item_structure,
)
from kokoro_analysis.corpus import schema


def _varimax_objective(loadings: np.ndarray) -> float:
    squared = loadings**2
    return float(((squared - squared.mean(axis=0)) ** 2).sum())


@pytest.mark.parametrize("normalize", [False, True])
def test_varimax_finds_the_best_rotation(normalize):
    rng = np.random.default_rng(2)
    simple = np.array([[0.8, 0.1], [0.7, 0.05], [0.75, 0.2], [0.1, 0.9], [0.15, 0.6], [0.05, 0.7]])
    rotation = np.array([[np.cos(0.4), -np.sin(0.4)], [np.sin(0.4), np.cos(0.4)]])
    loadings = simple @ rotation + rng.normal(0, 0.01, (6, 2))
    rotated = item_structure.varimax(loadings, normalize=normalize)
    assert np.allclose((rotated**2).sum(axis=1), (loadings**2).sum(axis=1))  # communalities kept
    scale = np.sqrt((loadings**2).sum(axis=1, keepdims=True)) if normalize else 1.0
    best = max(
        _varimax_objective(
            loadings / scale @ np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        )
        for t in np.linspace(0, np.pi / 2, 20001)
    )
    assert _varimax_objective(rotated / scale) == pytest.approx(best, rel=1e-6)
    recovered = np.abs(rotated)
    recovered = recovered if recovered[0, 0] > recovered[0, 1] else recovered[:, ::-1]
    assert np.allclose(recovered, simple, atol=0.05)


def test_parallel_analysis_is_reproducible_and_near_one_for_noise():
    rng = np.random.default_rng(5)
    noise = rng.integers(0, 6, size=(400, 6))
    first = item_structure.parallel_analysis(noise, n_iter=30, seed=2)
    assert first.equals(item_structure.parallel_analysis(noise, n_iter=30, seed=2))
    assert not first.equals(item_structure.parallel_analysis(noise, n_iter=30, seed=3))
    assert first["null_mean"].between(0.7, 1.3).all()


def test_extreme_pairs_and_cluster_order():
    keys = list(schema.ITEM_KEYS[:4])
    corr = pd.DataFrame(
        [[1, 0.9, 0.1, 0.2], [0.9, 1, 0.3, 0.25], [0.1, 0.3, 1, 0.8], [0.2, 0.25, 0.8, 1]],
        index=keys,
        columns=keys,
    )
    pairs = item_structure.extreme_pairs(corr, n=2)
    strongest = pairs[pairs["which"] == "strongest"]
    weakest = pairs[pairs["which"] == "weakest"]
    assert strongest[["item_a", "item_b"]].values.tolist() == [[1, 2], [3, 4]]
    assert weakest[["item_a", "item_b"]].values.tolist() == [[1, 3], [1, 4]]
    order, _ = item_structure.cluster_order(corr)
    positions = {int(k): i for i, k in enumerate(order)}
    assert abs(positions[0] - positions[1]) == 1 and abs(positions[2] - positions[3]) == 1


def test_retention_comparison_has_every_correlation_type(corpus):
    table = item_structure.retention_comparison(corpus.dialogues, n_iter=3)
    assert list(table.index) == ["spearman", "pearson", "polychoric"]
    eigen = item_structure.eigen_table(corpus.dialogues, "polychoric", n_iter=3)
    assert table.loc["polychoric", "eigenvalue_1"] == pytest.approx(eigen.loc[1, "eigenvalue"])
    assert eigen["eigenvalue"].sum() == pytest.approx(20)
    with pytest.raises(ValueError):
        item_structure.parallel_analysis(np.ones((5, 3)), "kendall")


def test_item_correlations_caption_names_the_method_and_says_data_table():
    from kokoro_analysis.analyses.feedback import item_structure

    spec = item_structure.ITEM_CORRELATION_TABLE
    correlation = item_structure.ITEM_CORRELATIONS["spearman"]
    caption = spec.caption(pd.DataFrame(), correlation=correlation)
    assert "Spearman ρ" in caption and "A data table" in caption
    assert "spearman" not in caption  # no code name
    assert not spec.is_paper
