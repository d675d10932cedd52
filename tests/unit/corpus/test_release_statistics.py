"""The release README's statistics against its files, and a README that cannot be read named in one
line."""

from __future__ import annotations

import os

import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.cli import main
from kokoro_analysis.corpus import release_statistics as rs


def test_release_readme_check(synthetic_dir, release):
    corpus = load_corpus(synthetic_dir)
    check = rs.release_statistics_check(release, corpus)
    assert check.loc["ja", "agrees"] and check.loc["en", "files_dialogues"] == 58
    assert check.loc["en", "agrees"] is False or not check.loc["en", "agrees"]
    assert "prints 57 dialogues, the files hold 58" in check.loc["en", "note"]
    assert check.loc["zh", "agrees"]
    claimed = rs.release_readme_statistics(release / "README.md")
    assert claimed["dialogues"].to_dict() == {"ja": 60, "en": 57, "zh": 58}
    assert rs.release_readme_statistics(release / "absent.md").empty


@pytest.mark.parametrize(
    "readme, message",
    [
        (b"| English | 57 | 9\xff.1 |\n", r"README\.md: not UTF-8 \(byte 0xff at offset 18\)"),
        (
            b"## Dataset Statistics\n| English | many | 9.1 |\n",
            r"README\.md:2: statistics row not understood .*\| English \| many \| 9\.1 \|",
        ),
        (b"FIFO", r"README\.md: cannot be read \(a FIFO \(named pipe\), not a regular file\)"),
    ],
)
def test_a_release_readme_that_cannot_be_read_is_named(
    synthetic_dir, release, tmp_path, capsys, readme, message
):
    import shutil

    copy = tmp_path / "release"
    shutil.copytree(release, copy)
    if readme == b"FIFO":
        (copy / "README.md").unlink()
        os.mkfifo(copy / "README.md")
    else:
        (copy / "README.md").write_bytes(readme)
    with pytest.raises(ValueError, match=message):
        rs.release_readme_statistics(copy / "README.md")
    assert main(["translations", str(copy), "--data", str(synthetic_dir)]) == 0
    out = capsys.readouterr().out
    assert "release README check skipped: " in out and "README.md" in out


def test_release_file_counts_are_cached_and_recounted_after_a_file_changes(release, tmp_path):
    import json
    import shutil

    copy = tmp_path / "release"
    shutil.copytree(release, copy)
    before = rs.release_file_statistics(copy)
    assert rs.release_file_statistics(copy).equals(before)  # read back from the cache
    first = sorted((copy / "English").glob("*.json"))[0]
    session = json.loads(first.read_text(encoding="utf-8"))
    session["dialogue"] = session["dialogue"][:1]  # same file name, fewer messages
    first.write_text(json.dumps(session, ensure_ascii=False), encoding="utf-8")
    after = rs.release_file_statistics(copy)
    assert after.loc["en", "messages"] < before.loc["en", "messages"]
    assert after.loc["zh"].equals(before.loc["zh"])
