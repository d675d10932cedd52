"""A wrong data path names where it was configured."""

from __future__ import annotations

import pytest

from kokoro_analysis.corpus.sources import find_data
from kokoro_analysis.corpus.validation import DataNotFoundError


def test_a_mistyped_environment_variable_is_named(tmp_path, monkeypatch):
    wrong = tmp_path / "KokoroCaht"
    monkeypatch.setenv("KOKOROCHAT_DATA", str(wrong))
    with pytest.raises(
        DataNotFoundError,
        match=rf"^KOKOROCHAT_DATA={wrong} \(set in the environment\): .*does not exist",
    ):
        find_data()


def test_an_explicit_path_is_not_blamed_on_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KOKOROCHAT_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError) as error:
        find_data(tmp_path / "missing")
    assert "KOKOROCHAT_DATA" not in str(error.value).splitlines()[0]
