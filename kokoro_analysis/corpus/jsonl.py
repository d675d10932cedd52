"""JSON lines (one JSON object per line), read with errors that name the file and the line.

Used for ESConv's split files and for prediction files. The error class is the caller's (each format
has its own), its message always ``"<where>: <what is wrong>"``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path


def read_json_lines(
    path: str | os.PathLike, error: type[Exception] = ValueError
) -> Iterator[tuple[int, dict]]:
    """``(line number, object)`` for every non-blank line of ``path`` (1-based numbers; ``"\\n"``
    ends a line). A line that is not UTF-8, not JSON or not a JSON object raises
    ``error(f"{path}, line {n}: ...")``."""
    path = Path(path)
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{path}, line {number}"
            line = decode_line(raw, where, error)
            if line.strip():
                yield number, json_object(line, where, error)


def decode_line(raw: bytes, where: str, error: type[Exception] = ValueError) -> str:
    """``raw`` as UTF-8 text; else ``error(f"{where}: not UTF-8 ...")`` naming the byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        raise error(
            f"{where}: not UTF-8 (byte 0x{raw[bad.start]:02x} at byte {bad.start + 1} of the "
            "line); save the file as UTF-8"
        ) from None


def json_object(line: str, where: str, error: type[Exception] = ValueError) -> dict:
    """``line`` parsed as one JSON object; else ``error(f"{where}: ...")`` saying why (not valid
    JSON, with the column; or another JSON value than an object)."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as bad:
        raise error(f"{where}: not valid JSON ({bad.msg} at column {bad.colno})") from None
    if not isinstance(record, dict):
        raise error(f"{where}: expected a JSON object, got {type(record).__name__}")
    return record
