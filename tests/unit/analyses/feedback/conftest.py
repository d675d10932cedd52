"""Fixtures of the feedback tests."""

from __future__ import annotations

import pytest

from kokoro_analysis import load_corpus


@pytest.fixture(scope="module")
def corpus(synthetic_dir):
    """The synthetic corpus of the session fixture ``synthetic_dir``, loaded once per module."""
    return load_corpus(synthetic_dir)
