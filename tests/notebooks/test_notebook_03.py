"""Notebook 03 (client feedback) run end to end with papermill: synthetic data (tables and figures
written, topic restriction honoured) and, when available, the real data (every reproduced number
matches)."""

from __future__ import annotations

import json

import nbformat
import pandas as pd
import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.corpus import schema
from kokoro_analysis.paths import PROJECT_ROOT

NOTEBOOK = "03_feedback_scores"
TABLES = [
    "feedback_score_summary",
    "feedback_score_rule",
    "feedback_item_distribution",
    "feedback_item_statistics",
    "feedback_alpha",
    "feedback_eigenvalues",
    "feedback_loadings",
    "feedback_item_correlations",
    "feedback_item_pairs",
    "feedback_feature_correlations",
    "feedback_response_time_definitions",
    "feedback_subset_statistics",
    "feedback_icc",
    "feedback_variance_components",
    "feedback_experience_bins",
    "feedback_experience_test",
    "feedback_cluster_sizes",
    "feedback_rater_influence",
    "feedback_correlation_sensitivity",
    "feedback_counselor_keyness",
    "feedback_flags",
    "feedback_flag_topics",
    "feedback_retention_comparison",
    "feedback_correlation_robustness",
    "feedback_rater_effects_by_outcome",
    "feedback_score_means",
    "feedback_phase_correlations",
    "feedback_phase_trend",
]
PAPER_TABLES = {
    "feedback_item_statistics",
    "feedback_alpha",
    "feedback_feature_correlations",
    "feedback_icc",
}
FIGURES = [
    "feedback_score_histogram",
    "feedback_item_distribution",
    "feedback_item_statistics",
    "feedback_scree",
    "feedback_loadings",
    "feedback_item_correlation_heatmap",
    "feedback_feature_correlations",
    "feedback_hexbin_client_chars",
    "feedback_hexbin_counselor_response_time_s",
    "feedback_experience",
    "feedback_counselor_keyness",
]


def _table(out, stem: str, **kwargs) -> pd.DataFrame:
    return pd.read_csv(out / "tables" / f"{stem}.csv", **kwargs)


def test_notebook_is_committed_clean():
    notebook = nbformat.read(PROJECT_ROOT / "notebooks" / f"{NOTEBOOK}.ipynb", as_version=4)
    assert notebook.metadata["kernelspec"] == {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.get("outputs") and cell.get("execution_count") is None for cell in code)
    tagged = [
        i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])
    ]
    assert len(tagged) == 1
    parameters = notebook.cells[tagged[0]].source
    for name in (
        "data_dir",
        "output_dir",
        "subset",
        "lang",
        "seed",
        "topic",
        "method",
        "n_bootstrap",
        "correction",
    ):
        assert f"{name} =" in parameters
    assert "run = start(" in notebook.cells[tagged[0] + 1].source


@pytest.mark.notebook
def test_notebook_on_synthetic_data(run_notebook, synthetic_dir):
    out = run_notebook(NOTEBOOK, data_dir=str(synthetic_dir), n_bootstrap=50, lang="ja")
    corpus = load_corpus(synthetic_dir)
    dialogues = corpus.dialogues
    for stem in TABLES:  # lang="ja": every table gets the _ja suffix, paper tables a LuaLaTeX .tex
        kinds = ("csv", "md", "tex") if stem in PAPER_TABLES else ("csv", "md")
        for suffix in kinds:
            assert (out / "tables" / f"{stem}_ja.{suffix}").exists(), stem
        assert not (out / "tables" / f"{stem}.csv").exists(), stem
    for stem in FIGURES:
        for suffix in ("pdf", "png"):
            assert (out / "figures" / f"{stem}_ja.{suffix}").exists(), stem

    summary = _table(out, "feedback_score_summary_ja", index_col="statistic")["value"]
    assert summary["n"] == len(dialogues)
    assert summary["mean"] == pytest.approx(dialogues["score"].mean())
    assert summary["median"] == pytest.approx(dialogues["score"].median())

    rule = _table(out, "feedback_score_rule_ja", index_col="branch")
    assert rule.loc["all", "sessions"] == len(dialogues) == rule.loc["all", "rule_holds"]
    assert rule.loc[["sum", "halved", "zeroed"], "sessions"].sum() == len(dialogues)
    assert rule.loc["all", "plain_sum_wrong"] == int(
        (dialogues["score"] != dialogues["item_sum"]).sum()
    )

    distribution = _table(out, "feedback_item_distribution_ja", index_col="key")
    assert len(distribution) == 20
    assert (distribution[[str(v) for v in range(6)]].sum(axis=1) == len(dialogues)).all()

    statistics = _table(out, "feedback_item_statistics_ja", index_col="key")
    assert statistics["mean"].to_dict() == pytest.approx(
        dialogues[list(schema.ITEM_KEYS)].mean().to_dict()
    )
    alpha = _table(out, "feedback_alpha_ja", index_col="block")
    assert set(alpha.index) == {"overall_impression", "counseling_skills", "all"}
    assert (alpha["ci_low"] <= alpha["alpha"]).all() and (alpha["alpha"] <= alpha["ci_high"]).all()

    eigen = _table(out, "feedback_eigenvalues_ja", index_col="component")
    assert eigen["eigenvalue"].sum() == pytest.approx(20)
    pairs = _table(out, "feedback_item_pairs_ja")
    assert pairs["which"].value_counts().to_dict() == {"strongest": 5, "weakest": 5}

    features = _table(out, "feedback_feature_correlations_ja", index_col="feature")
    assert {
        "client_chars",
        "counselor_response_time_s",
        "n_turns",
        "counselor_question_rate",
    } <= set(features.index)
    assert (features["n_bootstrap"] == 50).all()
    finite = features.dropna(subset=["r"])
    assert (
        (finite["ci_low"] <= finite["r"] + 1e-9) & (finite["r"] <= finite["ci_high"] + 1e-9)
    ).all()
    for unit in ("two_way", "rater"):  # clustered intervals next to the session ones
        assert finite[[f"ci_low_{unit}", f"ci_high_{unit}"]].notna().all().all()
    assert "r_within_rater" in features
    assert (features["p_adjusted"].dropna() >= features["p_two_way"].dropna()).all()
    tex = (out / "tables" / "feedback_feature_correlations_ja.tex").read_text(encoding="utf-8")
    assert (
        "評価者とカウンセラーを独立に（二元：各セッションの重みは両者の抽出回数の積） 50 回再標本化"
        in tex
    )  # the caption says what the printed interval resamples
    assert "Holm" in tex  # and names the correction of the printed p-values
    robustness = _table(out, "feedback_correlation_robustness_ja")
    assert set(robustness["resampled"]) == {
        "sessions",
        "raters and counselors",
        "raters",
        "counselors",
        "persons (both roles)",
    }
    experience_test = _table(out, "feedback_experience_test_ja", index_col="model")
    assert experience_test["headline"].sum() == 1
    means = _table(out, "feedback_score_means_ja")
    assert set(means["kind"]) == {"subset", "tier", "topic"}
    outcomes = _table(out, "feedback_rater_effects_by_outcome_ja", index_col="outcome")
    assert list(outcomes.index) == ["score", "item_sum"]
    retention = _table(out, "feedback_retention_comparison_ja", index_col="method")
    assert list(retention.index) == ["spearman", "pearson", "polychoric"]
    phases = _table(out, "feedback_phase_correlations_ja")
    assert set(phases["phase"]) <= {"early", "middle", "late"}

    subsets = _table(out, "feedback_subset_statistics_ja", index_col="statistic")
    sessions = subsets.loc["sessions"]
    assert sessions["low"] + sessions["high"] == sessions["full"]
    assert sessions["full"] + sessions["test"] == sessions["all"] == len(dialogues)
    assert sessions["test"] == int((dialogues["score"] >= 99).sum())

    icc = _table(out, "feedback_icc_ja", index_col="grouping")
    assert set(icc.index) == {"client_id", "counselor_id"}
    experience = _table(out, "feedback_experience_bins_ja", index_col="experience")
    assert experience["sessions"].sum() == len(dialogues)
    flags = _table(out, "feedback_flags_ja", index_col="flag")
    for flag in schema.FLAG_KEYS:
        assert flags.loc[flag, "sessions"] == int(dialogues[flag].sum())
    keyness = _table(out, "feedback_counselor_keyness_ja")
    assert set(keyness["direction"]) <= {"high", "low"}

    log = json.loads((out / "reports" / "parts" / f"{NOTEBOOK}.json").read_text(encoding="utf-8"))
    rows = {row["key"]: row for row in log["rows"]}
    assert "subsets.test.dialogues" not in rows  # owned by notebook 04 (one owner per reported key)
    assert sessions["test"] == int((dialogues["score"] >= 99).sum())
    assert rows["feedback.score_rule.sum"]["status"] == "measured"
    assert rows["feedback.score_median"]["ours"] == pytest.approx(dialogues["score"].median())


@pytest.mark.notebook
def test_notebook_topic_restricts_every_table(run_notebook, synthetic_dir):
    topic = "School Issues"
    out = run_notebook(
        NOTEBOOK, data_dir=str(synthetic_dir), n_bootstrap=20, topic=topic, method="pearson"
    )
    dialogues = load_corpus(synthetic_dir).dialogues
    in_topic = dialogues[dialogues["topic_main_en"] == topic]
    assert 0 < len(in_topic) < len(dialogues)
    suffix = "_topic-school-issues"
    summary = _table(out, f"feedback_score_summary{suffix}", index_col="statistic")["value"]
    assert summary["n"] == len(in_topic)
    assert summary["mean"] == pytest.approx(in_topic["score"].mean())
    rule = _table(out, f"feedback_score_rule{suffix}", index_col="branch")
    assert rule.loc["all", "sessions"] == len(in_topic)
    subsets = _table(out, f"feedback_subset_statistics{suffix}", index_col="statistic")
    assert subsets.loc["sessions", "all"] == len(in_topic)
    distribution = _table(out, f"feedback_item_distribution{suffix}", index_col="key")
    assert (distribution[[str(v) for v in range(6)]].sum(axis=1) == len(in_topic)).all()
    features = _table(out, f"feedback_feature_correlations{suffix}", index_col="feature")
    assert (features["n"] <= len(in_topic)).all() and (features["method"] == "pearson").all()
    flags = _table(out, f"feedback_flags{suffix}", index_col="flag")
    assert flags["sessions"].sum() == int(in_topic[list(schema.FLAG_KEYS)].to_numpy().sum())
    log = json.loads(
        (out / "reports" / "parts" / f"{NOTEBOOK}{suffix}.json").read_text(encoding="utf-8")
    )
    statuses = {row["key"]: row["status"] for row in log["rows"]}
    assert statuses["feedback.score_mean"] == "measured"
    assert (out / "figures" / f"feedback_score_histogram{suffix}.png").exists()


@pytest.mark.realdata
@pytest.mark.notebook
def test_notebook_reproduces_the_paper_on_real_data(run_notebook, real_data_dir):
    out = run_notebook(NOTEBOOK, data_dir=str(real_data_dir), n_bootstrap=200)
    log = json.loads((out / "reports" / "parts" / f"{NOTEBOOK}.json").read_text(encoding="utf-8"))
    rows = {row["key"]: row for row in log["rows"]}
    for key in (
        "feedback.score_mean",
        "feedback.score_median",
        "feedback.spearman_client_chars_score",
        "feedback.spearman_counselor_response_time_score",
    ):
        assert rows[key]["status"] == "match", (key, rows[key]["ours"])
    assert rows["feedback.score_rule.sum"]["ours"] == 6374
    assert rows["feedback.score_rule.halved"]["ours"] == 203
    assert rows["feedback.score_rule.zeroed"]["ours"] == 12
    assert rows["feedback.score_rule.plain_sum_wrong"]["ours"] == 215
