"""Fixtures of the translation tests: the synthetic corpus's sessions and their release."""

from __future__ import annotations

import pytest

from kokoro_analysis.corpus import translation_sources as sources
from kokoro_analysis.corpus.synthetic import make_corpus, make_translations, write_translations
from tests.unit.corpus.synthetic_release import EMPTY, MISSING, average


@pytest.fixture(scope="module")
def sessions():
    return make_corpus(60, seed=0)


@pytest.fixture(scope="module")
def release(tmp_path_factory, sessions):
    """English and Chinese translations of the synthetic corpus: two sessions missing, two empty
    translations, and a release README like the upstream one."""
    root = tmp_path_factory.mktemp("release")
    for translation in ("en", "zh"):
        write_translations(
            root,
            make_translations(sessions, translation, missing=MISSING, empty=EMPTY),
            translation,
        )
    (root / "README.md").write_text(
        "## Dataset Statistics\n| Language | Dialogues | Avg. utterances/dialogue |\n| --- | --- | --- |\n"
        f"| Japanese (KokoroChat) | 60 | {average(sessions, ()):.1f} |\n"
        f"| English  | 57     | {average(sessions, MISSING):.1f} |\n"
        f"| Chinese  | 58     | {average(sessions, MISSING):.1f} |\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture
def no_default(monkeypatch, tmp_path):
    monkeypatch.delenv(sources.ENV, raising=False)
    monkeypatch.setattr(sources, "DEFAULT_DIR", tmp_path / "absent")
