"""Unit tests of kokoro_analysis.analyses.feedback.variance_components: crossed REML against ANOVA
and the dense formula."""

from __future__ import annotations

import numpy as np
import pytest

from kokoro_analysis.analyses.feedback import (
    resample_cache,
    variance_components,
)

from .test_scores import _dialogues


def test_crossed_reml_equals_anova_on_balanced_design():
    rng = np.random.default_rng(7)
    n_a, n_b = 8, 6
    a_effect, b_effect = rng.normal(0, 3, n_a), rng.normal(0, 2, n_b)
    y = 50 + a_effect[:, None] + b_effect[None, :] + rng.normal(0, 1.5, (n_a, n_b))
    grand = y.mean()
    ms_a = n_b * ((y.mean(axis=1) - grand) ** 2).sum() / (n_a - 1)
    ms_b = n_a * ((y.mean(axis=0) - grand) ** 2).sum() / (n_b - 1)
    resid = y - y.mean(axis=1, keepdims=True) - y.mean(axis=0, keepdims=True) + grand
    ms_e = (resid**2).sum() / ((n_a - 1) * (n_b - 1))
    a_codes, b_codes = np.meshgrid(np.arange(n_a), np.arange(n_b), indexing="ij")
    fit = variance_components.crossed_variance_components(
        y.ravel(), a_codes.ravel(), b_codes.ravel(), names=("a", "b")
    )
    table = fit.table
    assert table.loc["residual", "variance"] == pytest.approx(ms_e, rel=1e-4)
    assert table.loc["a", "variance"] == pytest.approx((ms_a - ms_e) / n_b, rel=1e-3)
    assert table.loc["b", "variance"] == pytest.approx((ms_b - ms_e) / n_a, rel=1e-3)
    assert table["share"].sum() == pytest.approx(1)
    assert fit.mean == pytest.approx(grand) and fit.converged and fit.note == ""


def test_crossed_reml_criterion_matches_dense_formula():
    rng = np.random.default_rng(1)
    n = 70
    a, b = rng.integers(0, 7, n), rng.integers(0, 5, n)
    y = rng.normal(size=n) + rng.normal(size=7)[a]
    model = variance_components._CrossedModel(y, a, b)
    za, zb = np.eye(7)[a], np.eye(5)[b]
    for root in ([0.5, 0.3], [0.0, 1.2], [2.0, 0.0]):
        h = np.eye(n) + root[0] ** 2 * za @ za.T + root[1] ** 2 * zb @ zb.T
        h_inv, one = np.linalg.inv(h), np.ones(n)
        mu = one @ h_inv @ y / (one @ h_inv @ one)
        sigma2 = (y - mu) @ h_inv @ (y - mu) / (n - 1)
        dense = (n - 1) * np.log(sigma2) + np.linalg.slogdet(h)[1] + np.log(one @ h_inv @ one)
        assert model.criterion(np.array(root)) == pytest.approx(dense, rel=1e-10)


def test_score_variance_components_reports_unidentifiable_data():
    dialogues = _dialogues([1, 2, 3], [10, 20, 30], client_id=[1, 2, 3], counselor_id=[1, 2, 1])
    fit = variance_components.score_variance_components(dialogues)
    assert fit.table["variance"].isna().all() and fit.note.startswith("not estimable")
    assert variance_components.variance_component_records(fit) == []


def test_score_variance_components_fits_once_and_hands_out_copies(corpus, monkeypatch):
    monkeypatch.setattr(resample_cache, "_MEMO", type(resample_cache._MEMO)())  # nothing fitted yet
    first = variance_components.score_variance_components(corpus.dialogues)
    monkeypatch.setattr(variance_components, "_score_variance_components", _refuse)
    second = variance_components.score_variance_components(corpus.dialogues)
    assert second.table.equals(first.table) and second.mean == first.mean
    first.table.loc[:, "share"] = 0.0  # a caller's change stays its own
    assert variance_components.score_variance_components(corpus.dialogues).table.equals(
        second.table
    )
    with pytest.raises(AssertionError, match="fitted again"):  # other values: another fit
        variance_components.score_variance_components(corpus.dialogues, "item_sum")


def _refuse(*args, **kwargs):
    raise AssertionError("fitted again")
