"""Finding Multilingual KokoroChat: by path, environment and default, and what was tried when not
found."""

from __future__ import annotations

import pytest

from kokoro_analysis.corpus import translation_sources as sources
from kokoro_analysis.corpus.validation import DataNotFoundError


def test_finding_by_path_environment_and_default(release, monkeypatch, tmp_path, no_default):
    assert sources.find_translations(release, "en").folder == (release / "English").resolve()
    assert (
        sources.find_translations(release / "Chinese", "zh").folder
        == (release / "Chinese").resolve()
    )
    monkeypatch.setenv(sources.ENV, str(release))
    assert sources.find_translations(translation="zh").root == release.resolve()
    monkeypatch.delenv(sources.ENV)
    monkeypatch.setattr(sources, "DEFAULT_DIR", release)
    assert len(sources.find_translations(translation="en").files) == 58


def test_not_found_names_what_was_tried(no_default, tmp_path):
    with pytest.raises(DataNotFoundError) as raised:
        sources.find_translations(translation="en", clone=False)
    message = str(raised.value)
    assert sources.ENV in message and "absent" in message and "git clone --depth 1" in message
    (tmp_path / "only" / "Chinese").mkdir(parents=True)
    with pytest.raises(DataNotFoundError, match=r"no English/ folder .*found: Chinese/"):
        sources.find_translations(tmp_path / "only", "en")
    with pytest.raises(DataNotFoundError, match="does not exist"):
        sources.find_translations(tmp_path / "nowhere", "en")
    with pytest.raises(ValueError, match="must be one of en, zh"):
        sources.find_translations(tmp_path, "fr")
