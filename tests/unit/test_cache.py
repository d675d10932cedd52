"""Mapped cache entries (the assembled token table's layout) are served only when every byte of
their data is the one written: a flipped byte, a cut file, a missing trailer or another entry's file
under the key is removed and reported as missing, like a Parquet entry."""

from __future__ import annotations

import pyarrow as pa
import pytest

from kokoro_analysis.cache import CacheEntry, read_mapped_entry, write_mapped_entry

TABLE = pa.table(
    {
        "utterance": pa.array([0, 0, 1, 2], pa.int32()),
        "surface": pa.array(["今日", "は", "寒い", "。"]).dictionary_encode(),
    }
)


@pytest.fixture
def entry(tmp_path) -> CacheEntry:
    tmp_path.joinpath("tokens").mkdir()
    return CacheEntry(tmp_path / "tokens", "token table", 5, "0123abcd", ".arrow")


def test_a_mapped_entry_reads_back_equal_with_its_metadata(entry):
    assert write_mapped_entry(entry, TABLE, {"utterances": 3})
    table, stored = read_mapped_entry(entry, {"utterances": 3})
    assert table.equals(TABLE)
    assert stored["kind"] == "token table" and stored["utterances"] == 3
    assert entry.path.name == "0123abcd.arrow"
    assert read_mapped_entry(entry, {"utterances": 4}) is None  # other expectations: not served
    assert not entry.path.exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:100] + bytes([data[100] ^ 1]) + data[101:],  # a flipped data byte
        lambda data: data[: len(data) // 2],  # cut
        lambda data: data[: data.rindex(b"{")],  # trailer gone
        lambda data: b"",
    ],
    ids=["flipped byte", "cut", "no trailer", "empty"],
)
def test_a_damaged_mapped_entry_is_removed_not_served(entry, damage):
    write_mapped_entry(entry, TABLE)
    entry.path.write_bytes(damage(entry.path.read_bytes()))
    assert read_mapped_entry(entry) is None
    assert not entry.path.exists()


def test_another_entrys_file_under_the_key_is_not_served(entry):
    other = CacheEntry(entry.folder, "token table", 5, "4567cdef", ".arrow")
    write_mapped_entry(other, TABLE.slice(0, 2))
    entry.path.write_bytes(other.path.read_bytes())
    assert read_mapped_entry(entry) is None
    write_mapped_entry(entry, TABLE)
    assert read_mapped_entry(entry)[0].equals(TABLE)
