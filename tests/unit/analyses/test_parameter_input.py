"""Notebook parameters as papermill passes them (issue 21): ``-p seed abc`` and ``-p filters '{...}'``
arrive as text; a wrong value is refused naming the parameter, a JSON object is accepted."""

from __future__ import annotations

import pytest

from kokoro_analysis.analyses.explorer import SessionFilter
from kokoro_analysis.notebook import start


@pytest.mark.parametrize("seed", ["abc", -1, 1.5, True])
def test_a_seed_that_is_not_a_non_negative_integer_names_the_parameter(synthetic_dir, seed):
    with pytest.raises(ValueError, match=r"^parameter seed must be an integer, 0 or more"):
        start("01_test", data_dir=synthetic_dir, seed=seed)


def test_filters_given_as_json_text_are_read():
    text = '{"score_band": "high", "topics": "Workplace Issues", "score_min": 80}'
    assert SessionFilter.from_mapping(text) == SessionFilter(
        topics=("Workplace Issues",), score_band="high", score_min=80
    )
    assert SessionFilter.from_mapping("") == SessionFilter()


@pytest.mark.parametrize(
    "value, message",
    [
        ("{score_band: high}", r"filters: not a JSON object"),
        ("[1, 2]", r"filters: must be a mapping"),
        ({"score_min": "50"}, r"filters: score_min must be an integer or None, not '50'"),
        ({"year_max": 2020.5}, r"filters: year_max must be an integer"),
    ],
)
def test_filters_of_the_wrong_shape_or_type_are_named(value, message):
    with pytest.raises(ValueError, match=message):
        SessionFilter.from_mapping(value)


@pytest.mark.parametrize("session_id", [1.5, 1.0, True])
def test_a_session_id_that_is_not_an_integer_is_refused(synthetic_dir, session_id):
    from kokoro_analysis import load_corpus
    from kokoro_analysis.analyses.explorer import transcript

    corpus = load_corpus(synthetic_dir)
    assert len(transcript(corpus, 1)) == len(transcript(corpus, "1"))
    with pytest.raises(ValueError, match="session_id must be a dialogue id"):
        transcript(corpus, session_id)
