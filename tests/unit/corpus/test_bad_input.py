"""Bad input, edits and damage (issue 13): every bad record is rejected by file and field, lenient
loading skips and counts, and the load cache never serves stale or damaged tables."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.corpus import parsing
from kokoro_analysis.corpus.sources import source_from_path
from kokoro_analysis.corpus.synthetic import make_corpus, write_corpus
from kokoro_analysis.corpus.validation import KokoroDataError


def _folder(tmp_path: Path, n: int = 12) -> Path:
    return write_corpus(tmp_path / "data", make_corpus(n, seed=3)) / "kokorochat_dialogues"


def _edit(folder: Path, dialogue_id: int, change) -> Path:
    path = folder / f"{dialogue_id}.json"
    session = json.loads(path.read_text(encoding="utf-8"))
    change(session)
    path.write_text(json.dumps(session, ensure_ascii=False), encoding="utf-8")
    return path


def _problems(folder: Path) -> list:
    return load_corpus(folder, strict=False, cache=False).report.problems


# --- ids (item 2) -------------------------------------------------------------------------------


@pytest.mark.parametrize("bad_id", [2**63, 2**64 + 5, -1])
def test_ids_outside_the_supported_range_are_rejected_by_name(tmp_path, bad_id):
    folder = _folder(tmp_path)

    def change(session):
        session["review_by_client_en"]["evaluation_id"] = bad_id
        session["review_by_client_jp"]["評価ID"] = bad_id

    _edit(folder, 5, change)
    (folder / "5.json").rename(folder / f"{bad_id}.json")
    with pytest.raises(KokoroDataError) as raised:
        load_corpus(folder, cache=False)
    assert f"{bad_id}.json: field 'review_by_client_en.evaluation_id'" in str(raised.value)
    # JSON numbers beyond 2**64 arrive as floats: "not an integer"
    assert "outside the supported id range" in str(raised.value) or bad_id > 2**64
    corpus = load_corpus(folder, strict=False, cache=False)
    assert len(corpus.dialogues) == 11
    assert set(corpus.utterances["dialogue_id"]) == set(corpus.dialogues.index)


def test_client_id_out_of_range_is_rejected(tmp_path):
    folder = _folder(tmp_path)

    def change(session):
        session["review_by_client_en"]["client_id"] = 2**63
        session["review_by_client_jp"]["クライアント役ID"] = 2**63

    _edit(folder, 4, change)
    problems = _problems(folder)
    assert [(Path(p.file).name, p.field) for p in problems] == [
        ("4.json", "review_by_client_en.client_id")
    ]


# --- timestamps (item 5) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "now",
        "today",
        "2020",
        "2030-03-08T14:59:49+09:00",
        "2030-03-08T14:59:49.999",
        "2030-03-08 14:59:49",
        "2030-3-8T14:59:49",
        "2030-02-30T10:00:00",
        "２０３０-03-08T14:59:49",
    ],
)
def test_only_the_release_timestamp_format_is_accepted(tmp_path, bad):
    folder = _folder(tmp_path)
    _edit(folder, 3, lambda s: s["dialogue"][-1].__setitem__("time", bad))  # last: never "earlier"
    problems = _problems(folder)
    assert len(problems) == 1
    problem = problems[0]
    assert (Path(problem.file).name, problem.field) == ("3.json", "time")
    assert problem.message_index == len(json.loads((folder / "3.json").read_text())["dialogue"]) - 1
    assert "YYYY-MM-DDTHH:MM:SS" in problem.detail


def test_a_bad_timestamp_is_judged_independently_of_other_files(tmp_path):
    """A file passes or fails on its own, whatever its neighbours hold."""
    folder = _folder(tmp_path)
    _edit(folder, 3, lambda s: s["dialogue"][-1].__setitem__("time", "2030-03-08T14:59:49.5"))
    alone = [p.field for p in _problems(folder)]
    _edit(folder, 6, lambda s: s["dialogue"][-1].__setitem__("time", "now"))
    both = {Path(p.file).name: p.field for p in _problems(folder)}
    assert alone == ["time"]
    assert both == {"3.json": "time", "6.json": "time"}


@pytest.mark.parametrize("bad", ["2020", "now", "2020-03-08T14:59:49Z", "2020-02-30T00:00:00"])
def test_review_timestamp_in_another_format_is_rejected(tmp_path, bad):
    folder = _folder(tmp_path)

    def change(session):
        session["review_by_client_en"]["evaluation_created_at"] = bad
        session["review_by_client_jp"]["評価作成日時"] = bad

    _edit(folder, 2, change)
    problems = _problems(folder)
    assert [(Path(p.file).name, p.field) for p in problems] == [
        ("2.json", "review_by_client_en.evaluation_created_at")
    ]


# --- unusual structures (item 7) ----------------------------------------------------------------


def _set_item(value):
    def change(session):
        for review in ("review_by_client_en", "review_by_client_jp"):
            session[review][list(session[review])[7]] = value  # the first item

    return change


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda s: s["dialogue"][0].__setitem__("role", ["counselor"]), "role"),
        (lambda s: s["dialogue"][1].__setitem__("role", {"who": "client"}), "role"),
        (lambda s: s["topic"].__setitem__("sub", ["a", "b"]), "topic.sub"),
        (
            lambda s: s["review_by_client_en"].__setitem__("score", 50.5),
            "review_by_client_en.score",
        ),
    ],
)
def test_values_of_the_wrong_type_are_rejected_by_file_and_field(tmp_path, change, field):
    folder = _folder(tmp_path)
    _edit(folder, 4, change)
    with pytest.raises(KokoroDataError) as raised:
        load_corpus(folder, cache=False)
    assert "4.json: " in str(raised.value) and f"field '{field}'" in str(raised.value)
    corpus = load_corpus(folder, strict=False, cache=False)
    assert corpus.report.sessions_skipped == 1
    assert len(corpus.dialogues) == 11


def test_a_fractional_item_value_is_rejected_and_lenient_loading_keeps_integer_columns(tmp_path):
    folder = _folder(tmp_path)
    session = json.loads((folder / "4.json").read_text())
    item_en = list(session["review_by_client_en"])[7]
    item_ja = list(session["review_by_client_jp"])[7]

    def change(s):
        s["review_by_client_en"][item_en] = 3.5
        s["review_by_client_jp"][item_ja] = 3.5

    _edit(folder, 4, change)
    with pytest.raises(KokoroDataError, match=f"4.json: field 'review_by_client_en.{item_en}'"):
        load_corpus(folder, cache=False)
    corpus = load_corpus(folder, strict=False, cache=False)
    assert corpus.report.sessions_skipped == 1
    assert corpus.dialogues["score"].dtype == "int64"
    assert corpus.dialogues["item_sum"].notna().all()


def test_one_strange_file_does_not_abort_lenient_loading_of_many(tmp_path):
    folder = _folder(tmp_path, n=40)
    _edit(folder, 4, lambda s: s["dialogue"][0].__setitem__("role", ["counselor"]))
    _edit(folder, 9, _set_item(3.5))
    (folder / "17.json").write_text(
        '{"dialogue": 5, "topic": [], "review_by_client_jp": 1, "review_by_client_en": "x"}'
    )
    corpus = load_corpus(folder, strict=False, cache=False)
    assert corpus.report.sessions_seen == 40
    assert sorted(Path(f).name for f in corpus.report.skipped_files) == [
        "17.json",
        "4.json",
        "9.json",
    ]
    assert len(corpus.dialogues) == 37


# --- candidate files (items 8 and 12) -----------------------------------------------------------


def test_symlink_loop_is_reported_not_raised(tmp_path):
    folder = _folder(tmp_path)
    os.symlink("999.json", folder / "999.json")
    with pytest.raises(KokoroDataError, match=r"999\.json: field 'json': cannot be read"):
        load_corpus(folder, cache=False)
    corpus = load_corpus(folder, strict=False, cache=False)
    assert corpus.report.sessions_seen == 13
    assert "symbolic link loop" in corpus.report.problems[0].detail


def test_every_candidate_file_is_counted(tmp_path):
    folder = _folder(tmp_path)
    os.symlink("nowhere.json", folder / "903.json")  # dangling
    (folder / "4.json").rename(folder / "4.JSON")  # a valid session, upper-case suffix
    corpus = load_corpus(folder, strict=False, cache=False)
    assert corpus.report.sessions_seen == 13
    assert [Path(p.file).name for p in corpus.report.problems] == ["903.json"]
    assert "dangling symbolic link" in corpus.report.problems[0].detail
    assert 4 in corpus.dialogues.index


# --- encodings (item 15) ------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1", "shift_jis", "utf-8-sig"])
def test_a_file_in_another_encoding_is_reported_as_not_utf8(tmp_path, encoding):
    folder = _folder(tmp_path)
    session = json.loads((folder / "4.json").read_text(encoding="utf-8"))
    if encoding == "latin-1":
        session["topic"]["sub"] = "café"
        text = json.dumps(session, ensure_ascii=True).replace("caf\\u00e9", "café")
    else:
        text = json.dumps(session, ensure_ascii=False)
    (folder / "4.json").write_bytes(text.encode(encoding))
    problems = _problems(folder)
    assert len(problems) == 1
    assert problems[0].field == "json"
    assert "not UTF-8" in problems[0].detail
    assert "surrogates" not in problems[0].detail


# --- a folder of broken files (item 18) ---------------------------------------------------------


def test_lenient_loading_of_a_folder_of_truncated_files_returns_the_report(tmp_path, capsys):
    folder = _folder(tmp_path, n=5)
    for file in folder.iterdir():
        file.write_bytes(file.read_bytes()[:100])
    corpus = load_corpus(folder, strict=False, cache=False)
    assert corpus.report.sessions_seen == 5
    assert corpus.report.sessions_skipped == 5
    assert len(corpus.dialogues) == 0 and len(corpus.utterances) == 0
    assert "skipped 5 of 5 sessions" in capsys.readouterr().out
    with pytest.raises(KokoroDataError, match="5 problem"):
        load_corpus(folder, cache=False)


# --- the load cache (items 3, 13, 16) -----------------------------------------------------------


@pytest.fixture
def own_cache(tmp_path, monkeypatch) -> Path:
    """A cache folder of this test only (the content-keyed cache is otherwise shared by tests)."""
    monkeypatch.setenv("KOKORO_ANALYSIS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_an_edit_with_the_same_size_and_modification_time_is_seen(tmp_path, own_cache):
    folder = _folder(tmp_path)
    path = folder / "3.json"
    load_corpus(folder)  # cached
    stat = path.stat()
    text = path.read_text(encoding="utf-8")
    old = json.loads(text)["dialogue"][0]["utterance"]
    new = old[:-1] + ("！" if old[-1] != "！" else "？")  # three UTF-8 bytes each
    assert len(new.encode()) == len(old.encode())
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    corpus = load_corpus(folder)
    assert corpus.utterances.query("dialogue_id == 3")["text"].iloc[0] == new


def test_an_invalid_edit_with_restored_stamps_fails_strict_loading(tmp_path, own_cache):
    folder = _folder(tmp_path)
    path = folder / "3.json"
    load_corpus(folder)
    stat = path.stat()
    raw = path.read_bytes()
    broken = raw.replace(b'"counselor"', b'"counselox"', 1)
    assert len(broken) == len(raw)
    path.write_bytes(broken)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(KokoroDataError, match=r"3\.json: message 0, field 'role'"):
        load_corpus(folder)


def test_a_file_edited_while_loading_never_leaves_stale_tables_in_the_cache(
    tmp_path, monkeypatch, own_cache
):
    """The edit lands after the file was read: the cache is keyed on what was read, so the next load
    (which sees the new content) parses again instead of serving the old text."""
    folder = _folder(tmp_path)
    path = folder / "3.json"
    original_parse = parsing.parse_data

    def parse_then_edit(source):
        result = original_parse(source)
        _edit(folder, 3, lambda s: s["dialogue"][0].__setitem__("utterance", "編集後の文"))
        return result

    monkeypatch.setattr(parsing, "parse_data", parse_then_edit)
    first = load_corpus(folder)
    assert first.utterances.query("dialogue_id == 3")["text"].iloc[0] != "編集後の文"
    monkeypatch.setattr(parsing, "parse_data", original_parse)
    second = load_corpus(folder)
    assert second.utterances.query("dialogue_id == 3")["text"].iloc[0] == "編集後の文"
    assert path.exists()


def test_the_fingerprint_is_a_content_hash(tmp_path):
    folder = _folder(tmp_path)
    source = source_from_path(folder)
    before = source.fingerprint()
    path = folder / "3.json"
    stat = path.stat()
    raw = path.read_bytes()
    path.write_bytes(raw.replace(b"counselor", b"counseloR", 1))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert source.fingerprint() != before
    path.write_bytes(raw)
    assert source.fingerprint() == before


def _cached_table(cache_root: Path, name: str) -> Path:
    """The cache file of the corpus table ``name`` (its footer names its kind)."""
    kind = f'"kind": "corpus {name}"'.encode()
    entries = [
        p
        for p in (cache_root / "corpus").glob("*.parquet")
        if kind in pq.read_schema(p).metadata[b"kokoro_analysis.cache"]
    ]
    assert len(entries) == 1
    return entries[0]


def test_a_damaged_cached_table_is_rewritten(tmp_path, monkeypatch, own_cache):
    folder = _folder(tmp_path)
    load_corpus(folder)
    table = _cached_table(own_cache, "utterances")
    good = table.read_bytes()
    damaged = bytearray(good)
    damaged[len(damaged) // 2] ^= 0xFF  # a flipped byte inside the data
    table.write_bytes(bytes(damaged))
    calls = []
    original_parse = parsing.parse_data
    monkeypatch.setattr(
        parsing, "parse_data", lambda source: calls.append(1) or original_parse(source)
    )
    corpus = load_corpus(folder)
    assert calls == [1] and len(corpus.dialogues) == 12
    assert (_cached_table(own_cache, "utterances")).read_bytes() == good
    load_corpus(folder)
    assert calls == [1]  # served from the rewritten cache


def test_a_truncated_cached_table_is_rewritten(tmp_path, monkeypatch, own_cache):
    folder = _folder(tmp_path)
    load_corpus(folder)
    table = _cached_table(own_cache, "dialogues")
    good = table.read_bytes()
    table.write_bytes(good[:50])
    calls = []
    original_parse = parsing.parse_data
    monkeypatch.setattr(
        parsing, "parse_data", lambda source: calls.append(1) or original_parse(source)
    )
    load_corpus(folder)
    load_corpus(folder)
    assert calls == [1]
    assert (_cached_table(own_cache, "dialogues")).read_bytes() == good


# --- issue 21 -------------------------------------------------------------------------------------


def test_year_0000_is_not_a_timestamp(tmp_path):
    folder = _folder(tmp_path)
    _edit(folder, 3, lambda s: s["dialogue"][0].__setitem__("time", "0000-01-01T00:00:00"))
    (problem,) = _problems(folder)
    assert (Path(problem.file).name, problem.field, problem.message_index) == ("3.json", "time", 0)


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero link", "named .json"])
def test_a_session_file_that_cannot_be_read_whole_is_reported_never_read(tmp_path, kind):
    folder = _folder(tmp_path)
    if kind == "fifo":
        os.mkfifo(folder / "90004.json")
        bad, why = "90004.json", "a FIFO (named pipe), not a regular file"
    elif kind == "/dev/zero link":
        (folder / "90004.json").symlink_to("/dev/zero")
        bad, why = "90004.json", "a character device, not a regular file"
    else:
        (folder / ".json").write_text("{}")
        bad, why = ".json", "not a KokoroChat session"
    corpus = load_corpus(folder, strict=False, cache=False)
    assert corpus.report.sessions_seen == 13 and corpus.report.sessions_skipped == 1
    (problem,) = corpus.report.problems
    assert Path(problem.file).name == bad and why in problem.detail


def test_an_unreadable_data_folder_is_one_line(tmp_path, monkeypatch, capsys):
    from kokoro_analysis.cli import main

    folder = _folder(tmp_path)

    def refused(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "scandir", refused)
    assert main(["validate", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"kokoro-analysis validate: {folder}: Permission denied"


def test_a_file_name_that_is_not_utf8_is_named_with_escapes(tmp_path, capsys):
    from kokoro_analysis.cli import main

    folder = _folder(tmp_path)
    with open(os.fsencode(folder) + b"/\xff\xfe.json", "wb") as handle:
        handle.write(b"{}")
    assert main(["validate", str(folder)]) == 1
    captured = capsys.readouterr()
    assert f"{folder}/\\xff\\xfe.json: field 'session'" in captured.out
    assert captured.err.count("\n") <= 1 and "codec" not in captured.err
