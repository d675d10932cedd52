"""The one atomic-write helper: whole or nothing, files and folders."""

import pytest

from kokoro_analysis.paths import atomic_target, write_atomically


def test_write_atomically_text_and_bytes(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    write_atomically(target, "一\r\n二\n")
    assert target.read_bytes() == "一\r\n二\n".encode()
    write_atomically(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert [p.name for p in target.parent.iterdir()] == ["a.txt"]


def test_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_target(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_a_folder_is_built_then_renamed_into_place(tmp_path):
    target = tmp_path / "cache"
    with atomic_target(target) as temporary:
        temporary.mkdir()
        (temporary / "part.parquet").write_bytes(b"x")
        assert not target.exists()
    assert (target / "part.parquet").read_bytes() == b"x"
    with pytest.raises(ValueError), atomic_target(tmp_path / "other") as temporary:
        temporary.mkdir()
        (temporary / "f").write_text("y")
        raise ValueError
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]
