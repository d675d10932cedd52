"""JSON lines: line numbers, blank lines, and errors naming file and line in the caller's class."""

from __future__ import annotations

import pytest

from kokoro_analysis.corpus.jsonl import read_json_lines


class FormatError(ValueError):
    pass


def test_objects_with_their_line_numbers(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes('{"a": 1}\n\n  \n{"b": "\u2028x"}\n'.encode())
    assert list(read_json_lines(path)) == [(1, {"a": 1}), (4, {"b": "\u2028x"})]


@pytest.mark.parametrize(
    "content, message",
    [
        (
            b'{"a": 1}\n{"a": x}\n',
            r"a\.jsonl, line 2: not valid JSON \(Expecting value at column 7\)",
        ),
        (b"[1, 2]\n", r"a\.jsonl, line 1: expected a JSON object, got list"),
        (b'{"a": "\xff"}\n', r"a\.jsonl, line 1: not UTF-8 \(byte 0xff at byte 8 of the line\)"),
    ],
)
def test_errors_name_file_and_line_in_the_given_class(tmp_path, content, message):
    path = tmp_path / "a.jsonl"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=message):
        list(read_json_lines(path, FormatError))
