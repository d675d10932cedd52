"""Analyses through the translations, on synthetic sessions with known gaps and lengths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.analyses import translation_stats as ts
from kokoro_analysis.charts.translations import length_ratio_chart
from kokoro_analysis.corpus import esconv
from kokoro_analysis.corpus.synthetic import make_corpus, make_translations, write_translations
from kokoro_analysis.corpus.translations import load_translations
from kokoro_analysis.stats.p_values import chi2_permutation_test

MISSING = (4, 9, 31)


@pytest.fixture(scope="module")
def frame(synthetic_dir, tmp_path_factory):
    sessions = make_corpus(60, seed=0)
    translations = make_translations(sessions, "en", missing=MISSING, empty=((2, 0),))
    root = write_translations(tmp_path_factory.mktemp("release"), translations, "en")
    corpus = load_corpus(synthetic_dir)
    return load_translations(corpus, "en", root).for_utterances(corpus.utterances)


def test_words_follow_the_esconv_rule(frame):
    mine = ts.translated_messages(frame)
    assert mine["words"].tolist() == [len(t.split()) for t in mine["translation"]]
    texts = pd.Series(["a b  c", " one,two ", ""], dtype="str")
    assert esconv.whitespace_word_counts(texts).tolist() == [3, 1, 0]
    assert (mine["ratio"] == mine["translation"].str.len() / mine["text"].str.len()).all()


def test_length_table_by_role(frame):
    table = ts.length_table(frame)
    mine = frame[frame["status"] == "translated"]
    assert table.loc["total", "messages"] == len(mine)
    assert table.loc["total", "sessions"] == 60 - len(MISSING)
    client = mine[mine["role"] == "client"]
    assert table.loc["client", "words_per_message"] == pytest.approx(
        np.mean([len(t.split()) for t in client["translation"]])
    )
    assert table.loc["counselor", "chars_ratio"] == pytest.approx(
        mine.loc[mine["role"] == "counselor", "translation"].str.len().sum()
        / mine.loc[mine["role"] == "counselor", "text"].str.len().sum()
    )


def test_english_comparison_sets_kokorochat_next_to_esconv(frame):
    stats = {
        "dialogues": 3,
        "utterances": 9,
        "avg_utterances_per_dialogue": 3.0,
        "avg_words_per_utterance": 5.0,
        "avg_words_per_utterance_counselor": 6.0,
        "avg_words_per_utterance_client": 4.0,
    }
    table = ts.english_comparison_table(frame, stats)
    assert table.index.tolist() == [ts.KOKOROCHAT_EN, "ESConv"]
    assert table.loc["ESConv", "avg_words_per_utterance_client"] == 4.0
    assert table.loc[ts.KOKOROCHAT_EN, "dialogues"] == 60 - len(MISSING)
    assert table.loc[ts.KOKOROCHAT_EN, "avg_words_per_utterance_counselor"] == pytest.approx(
        ts.length_table(frame).loc["counselor", "words_per_message"]
    )
    assert ts.english_comparison_table(frame, None).index.tolist() == [ts.KOKOROCHAT_EN]


def test_gaps_by_topic_and_tests(synthetic_dir, frame):
    corpus = load_corpus(synthetic_dir)
    gaps = ts.session_gaps(frame, corpus.dialogues)
    assert gaps.index[gaps["untranslated"]].tolist() == list(MISSING)
    assert gaps.loc[2, "empty_translations"] == 1 and gaps["empty_translations"].sum() == 1
    by_topic = ts.gaps_by_topic(gaps)
    assert by_topic["sessions"].sum() == 60 and by_topic["untranslated"].sum() == len(MISSING)
    tests = ts.gap_tests(gaps, n_permutations=200, seed=1)
    assert len(tests) == 6 and set(tests["variable"]) == {"main topic", "score", "n_messages"}
    row = tests[(tests["gap"] == "untranslated") & (tests["variable"] == "score")].iloc[0]
    assert row["n_gap"] == 3 and row["n_other"] == 57
    assert row["gap_median"] == np.median(corpus.dialogues.loc[list(MISSING), "score"])
    assert tests["p_value"].min() > 0 and tests["p_value"].max() <= 1


def test_chi2_permutation_detects_dependence_and_its_absence():
    groups = np.repeat(["a", "b"], 50)
    dependent = np.r_[np.ones(20, bool), np.zeros(80, bool)]
    statistic, p_value = chi2_permutation_test(groups, dependent, n_permutations=999, seed=0)
    assert statistic == pytest.approx(25.0) and p_value == pytest.approx(1 / 1000)
    balanced = np.tile([True, False], 50)
    assert chi2_permutation_test(groups, balanced, n_permutations=99, seed=0)[1] == 1.0
    assert np.isnan(chi2_permutation_test(groups, np.zeros(100, bool))[0])


def test_empty_translation_originals_and_examples(frame):
    empty = ts.empty_translation_originals(frame)
    assert (
        empty[["dialogue_id", "position"]].values.tolist() == [[2, 0]]
        and empty["previous"].isna().all()
    )
    examples = ts.example_messages(frame, n=5, seed=3)
    assert len(examples) == 5 and examples["translation"].notna().all()
    assert examples["role"].value_counts().to_dict() == {"counselor": 3, "client": 2}
    assert examples.index.is_monotonic_increasing


def test_ratio_summary_and_figure(frame):
    summary = ts.ratio_summary(frame)
    ratios = ts.ratios_by_role(frame)
    assert summary.loc["client", "n"] == len(ratios["client"])
    assert summary.loc["counselor", "median"] == pytest.approx(ratios["counselor"].median())
    figure = length_ratio_chart(ratios, lang="ja")
    assert figure.axes[0].get_xscale() == "log"


def test_gap_findings_name_what_is_significant():
    tests = pd.DataFrame(
        {
            "gap": ["untranslated", "empty translation"],
            "variable": ["main topic", "n_messages"],
            "test": ["permutation chi-square", "Mann-Whitney U"],
            "p_value": [0.4, 0.001],
            "gap_median": [np.nan, 114.0],
            "other_median": [np.nan, 85.0],
        }
    )
    text = ts.gap_findings(tests)
    assert text.startswith(
        "Sessions with gap 'empty translation' differ in n_messages (median 114 vs 85)"
    )
    assert "p = 0.001" in text and "other 1 test(s)" in text
    assert "look random" in ts.gap_findings(tests.assign(p_value=[0.4, 0.2]))


def test_cached_results_equal_the_computed_ones(synthetic_dir, frame, tmp_path, monkeypatch):
    """A warm call reads what the cold one computed: same values, dtypes and index; a changed input
    or parameter is computed afresh."""
    monkeypatch.setenv("KOKORO_ANALYSIS_CACHE", str(tmp_path / "cache"))
    gaps = ts.session_gaps(frame, load_corpus(synthetic_dir).dialogues)
    cold_tests = ts.gap_tests(gaps, n_permutations=200, seed=1)
    cold_messages = ts.translated_messages(frame)

    def fail(*args, **kwargs):
        raise AssertionError("computed again instead of reading the cache")

    monkeypatch.setattr(ts, "_gap_tests", fail)
    monkeypatch.setattr(ts, "whitespace_word_counts", fail)
    pd.testing.assert_frame_equal(ts.gap_tests(gaps, n_permutations=200, seed=1), cold_tests)
    pd.testing.assert_frame_equal(ts.translated_messages(frame), cold_messages)
    with pytest.raises(AssertionError, match="computed again"):
        ts.gap_tests(gaps, n_permutations=200, seed=2)
    changed = frame.copy()
    changed.loc[changed["status"] == "translated", "translation"] = "one two"
    with pytest.raises(AssertionError, match="computed again"):
        ts.translated_messages(changed)
