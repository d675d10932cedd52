"""Notebook 01's translation section (4b) on synthetic sessions with synthetic English translations:
the coverage, the English-words comparison with ESConv, the length ratio and the gap tables agree with
the package's functions."""

from __future__ import annotations

import pandas as pd
import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.analyses import translation_stats as ts
from kokoro_analysis.corpus.synthetic import make_corpus, make_translations, write_translations
from kokoro_analysis.corpus.translations import load_translations
from tests.unit.corpus.test_esconv import write_esconv

pytestmark = pytest.mark.notebook
MISSING = (6, 33)


def test_notebook_01_with_translations(run_notebook, synthetic_dir, tmp_path):
    release = write_translations(
        tmp_path / "release",
        make_translations(make_corpus(60, seed=0), "en", missing=MISSING),
        "en",
    )
    write_esconv(tmp_path / "peers" / "esconv")
    out = run_notebook(
        "01_corpus_statistics",
        data_dir=str(synthetic_dir),
        peers_dir=str(tmp_path / "peers"),
        translations_dir=str(release),
    )
    corpus = load_corpus(synthetic_dir)
    english = load_translations(corpus, "en", release).for_utterances(corpus.utterances)
    words = pd.read_csv(out / "tables" / "corpus_english_words_vs_esconv.csv", index_col=0)
    assert words.index.tolist() == [ts.KOKOROCHAT_EN, "ESConv"]
    assert words.loc[ts.KOKOROCHAT_EN, "dialogues"] == 58
    assert words.loc["ESConv", "dialogues"] == 3
    expected = ts.english_comparison_table(english, None)
    assert words.loc[
        ts.KOKOROCHAT_EN, ts.TABLE_LABELS["avg_words_per_utterance_client"]
    ] == pytest.approx(expected.loc[ts.KOKOROCHAT_EN, "avg_words_per_utterance_client"], abs=0.005)
    gaps = pd.read_csv(out / "tables" / "corpus_translation_gaps_by_topic.csv", index_col=0)
    assert gaps["untranslated"].sum() == len(MISSING) and gaps["sessions"].sum() == 60
    tests = pd.read_csv(out / "tables" / "corpus_translation_gap_tests.csv")
    assert len(tests) == 6
    assert (out / "figures" / "corpus_translation_length_ratio.pdf").is_file()
    executed = (out / "01_corpus_statistics.ipynb").read_text(encoding="utf-8")
    assert "2 without a translation (ids 6, 33)" in executed
