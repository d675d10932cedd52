"""Every validation error on broken synthetic sessions: strict names file, message and field;
lenient skips, counts and reports; the CLI prints a summary without a traceback."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from kokoro_analysis import KokoroDataError, load_corpus
from kokoro_analysis.cli import main
from kokoro_analysis.corpus.synthetic import make_corpus, write_corpus


def break_session(session: dict, how: str) -> dict:
    """Return a copy of ``session`` broken in one way."""
    session = copy.deepcopy(session)
    review = session["review_by_client_en"]
    dialogue = session["dialogue"]
    if how == "role":
        dialogue[2]["role"] = "therapist"
    elif how == "time_format":
        dialogue[3]["time"] = "yesterday"
    elif how == "time_order":
        dialogue[4]["time"] = "2000-01-01T00:00:00"
    elif how == "empty_text":
        dialogue[1]["utterance"] = ""
    elif how == "missing_message_key":
        del dialogue[2]["utterance"]
    elif how == "item_range":
        review["felt_respected"] = 7
    elif how == "item_type":
        review["felt_respected"] = "4"
    elif how == "score_range":
        review["score"] = 140
    elif how == "score_rule":
        review["score"] += 1
        session["review_by_client_jp"]["点数"] += 1
    elif how == "id_mismatch":
        review["evaluation_id"] = 999
    elif how == "missing_review_key":
        del review["counselor_id"]
    elif how == "flag_value":
        review["unwilling_to_continue"] = "yes"
    elif how == "japanese_differs":
        session["review_by_client_jp"]["尊重されたと感じた"] = -1
    elif how == "missing_topic":
        session["topic"]["main_en"] = None
    elif how == "not_a_session":
        return {"dialog": [], "survey_score": {}}
    else:
        raise ValueError(how)
    return session


CASES = {
    # how: (field named in the message, message index or None)
    "role": ("role", 2),
    "time_format": ("time", 3),
    "time_order": ("time", 4),
    "empty_text": ("utterance", 1),
    "missing_message_key": ("utterance", 2),
    "item_range": ("review_by_client_en.felt_respected", None),
    "item_type": ("review_by_client_en.felt_respected", None),
    "score_range": ("review_by_client_en.score", None),
    "score_rule": ("review_by_client_en.score", None),
    "id_mismatch": ("review_by_client_en.evaluation_id", None),
    "missing_review_key": ("review_by_client_en.counselor_id", None),
    "flag_value": ("review_by_client_en.unwilling_to_continue", None),
    "japanese_differs": ("review_by_client_jp.尊重されたと感じた", None),
    "missing_topic": ("topic.main_en", None),
    "not_a_session": ("session", None),
}


def corpus_with(tmp_path, broken: dict[int, str], n: int = 12):
    sessions = make_corpus(n, seed=3)
    for dialogue_id, how in broken.items():
        sessions[dialogue_id] = break_session(sessions[dialogue_id], how)
    return write_corpus(tmp_path, sessions)


@pytest.mark.parametrize("how", sorted(CASES))
def test_strict_mode_names_file_message_and_field(tmp_path, how):
    folder = corpus_with(tmp_path, {5: how})
    with pytest.raises(KokoroDataError) as raised:
        load_corpus(folder, cache=False)
    field, index = CASES[how]
    message = str(raised.value)
    assert "5.json" in message
    assert f"field '{field}'" in message
    if index is not None:
        assert f"message {index}," in message
    problem = raised.value.problems[0]
    assert (
        problem.file.endswith("5.json")
        and problem.field == field
        and problem.message_index == index
    )


def test_broken_json_is_reported_with_the_file(tmp_path):
    folder = corpus_with(tmp_path, {})
    (folder / "kokorochat_dialogues" / "3.json").write_text('{"dialogue": [', encoding="utf-8")
    with pytest.raises(KokoroDataError, match=r"3\.json: field 'json': not valid JSON"):
        load_corpus(folder, cache=False)


def test_duplicate_ids_are_found(tmp_path):
    folder = corpus_with(tmp_path, {})
    data = json.loads((folder / "kokorochat_dialogues" / "4.json").read_text(encoding="utf-8"))
    (folder / "kokorochat_dialogues" / "004.json").write_text(
        json.dumps(data, ensure_ascii=False), encoding="utf-8"
    )
    with pytest.raises(KokoroDataError) as raised:
        load_corpus(folder, cache=False)
    details = [p.detail for p in raised.value.problems]
    assert any("occurs in more than one session" in d for d in details)


def test_lenient_mode_skips_counts_and_reports(tmp_path, capsys):
    broken = {2: "role", 5: "score_rule", 9: "empty_text"}
    folder = corpus_with(tmp_path, broken)
    corpus = load_corpus(folder, strict=False, cache=False)
    assert sorted(set(range(1, 13)) - set(corpus.dialogues.index)) == [2, 5, 9]
    assert not set(corpus.utterances["dialogue_id"]) & {2, 5, 9}
    report = corpus.report
    assert (report.sessions_seen, report.sessions_valid, report.sessions_skipped) == (12, 9, 3)
    frame = report.to_frame()
    assert sorted(frame["field"]) == ["review_by_client_en.score", "role", "utterance"]
    assert "3 skipped" in report.summary()
    assert "skipped 3 of 12 sessions" in capsys.readouterr().out


def test_a_folder_of_another_dataset_gets_one_message(tmp_path):
    folder = tmp_path / "other"
    folder.mkdir()
    for number in range(3):
        (folder / f"{number}.json").write_text(json.dumps({"dialog": [], "emotion_type": "x"}))
    with pytest.raises(KokoroDataError, match="none of the 3 files is a KokoroChat session"):
        load_corpus(folder, cache=False)


def test_cli_validate_ok_and_broken(tmp_path, synthetic_dir, capsys):
    assert main(["validate", str(synthetic_dir)]) == 0
    out = capsys.readouterr().out
    assert "60 valid, 0 skipped" in out and "score rule: holds on every session" in out
    folder = corpus_with(tmp_path, {4: "time_format"})
    assert main(["validate", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "1 skipped" in out and "4.json: message 3, field 'time'" in out


def test_cli_wrong_path_is_one_readable_message(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "missing")]) == 1
    captured = capsys.readouterr()
    assert "does not exist" in captured.err and "Traceback" not in captured.err


def test_messages_with_bad_values_keep_other_sessions_intact(tmp_path):
    folder = corpus_with(tmp_path, {3: "time_order"})
    corpus = load_corpus(folder, strict=False, cache=False)
    times = corpus.utterances.groupby("dialogue_id")["time"].apply(
        lambda t: t.is_monotonic_increasing
    )
    assert times.all() and 3 not in times.index
    assert np.issubdtype(corpus.utterances["time"].dtype, np.datetime64)


def test_problems_are_found_in_every_shard_of_a_parallel_parse(tmp_path, monkeypatch):
    from kokoro_analysis.corpus import parsing

    monkeypatch.setattr(parsing, "PARALLEL_MIN_FILES", 4)
    monkeypatch.setattr(parsing, "available_cores", lambda: 3)
    folder = corpus_with(tmp_path, {1: "role", 12: "time_format"})
    corpus = load_corpus(folder, strict=False, cache=False)
    assert sorted(corpus.report.skipped_files) == sorted(
        str(folder / "kokorochat_dialogues" / f"{i}.json") for i in (1, 12)
    )
    assert len(corpus.dialogues) == 10
