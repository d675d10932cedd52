"""Loading synthetic sessions: tables, definitions, subsets, turns, the cache, data resolution."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis import load_corpus, merge_turns
from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.sources import find_data, source_from_path
from kokoro_analysis.corpus.synthetic import make_corpus, make_session, write_corpus
from kokoro_analysis.corpus.validation import DataNotFoundError


def test_tables_have_one_row_per_session_and_per_message(synthetic_dir):
    sessions = make_corpus(60, seed=0)
    corpus = load_corpus(synthetic_dir)
    assert len(corpus.dialogues) == 60
    assert len(corpus.utterances) == sum(len(s["dialogue"]) for s in sessions.values())
    assert corpus.dialogues.index.name == "dialogue_id"
    first = sessions[1]
    rows = corpus.utterances[corpus.utterances["dialogue_id"] == 1]
    assert rows["text"].tolist() == [m["utterance"] for m in first["dialogue"]]
    assert rows["position"].tolist() == list(range(len(first["dialogue"])))
    assert rows["length"].tolist() == [len(m["utterance"]) for m in first["dialogue"]]


def test_dialogue_columns_follow_the_review(synthetic_dir):
    corpus = load_corpus(synthetic_dir)
    session = make_corpus(60, seed=0)[7]
    row = corpus.dialogues.loc[7]
    review = session["review_by_client_en"]
    assert row["score"] == review["score"]
    assert row["client_id"] == review["client_id"]
    assert (
        row["clarified_issues_clearly"] == review["clarified_issues_cleraly"]
    )  # upstream typo fixed
    assert row["topic_main_en"] == session["topic"]["main_en"]
    assert row["n_messages"] == len(session["dialogue"])
    assert row["n_counselor_messages"] + row["n_client_messages"] == row["n_messages"]
    times = pd.to_datetime([m["time"] for m in session["dialogue"]])
    assert row["duration_min"] == pytest.approx((times.max() - times.min()).total_seconds() / 60)
    assert corpus.dialogues[list(schema.FLAG_KEYS)].dtypes.eq(bool).all()


def test_item_table_has_twenty_items_in_two_blocks():
    items = schema.item_table()
    assert len(items) == 20
    assert items["block"].value_counts().to_dict() == {
        "overall_impression": 10,
        "counseling_skills": 10,
    }
    assert "clarified_issues_clearly" in items.index
    assert items.loc["felt_respected", "label_ja"] == "尊重されたと感じた"


@pytest.mark.parametrize(
    "items_sum,flags,expected",
    [
        (37, (False, False, False), 37),
        (37, (False, False, True), 18),  # halved, rounded down
        (36, (False, False, True), 18),
        (44, (False, True, False), 0),
        (36, (True, False, True), 0),  # zeroing wins over halving
    ],
)
def test_score_rule(items_sum, flags, expected):
    assert schema.expected_score(items_sum, *flags) == expected


def test_subsets_partition_the_scores(synthetic_dir):
    corpus = load_corpus(synthetic_dir)
    sizes = {name: len(corpus.subset(name).dialogues) for name in schema.SUBSETS}
    assert sizes["low"] + sizes["high"] == sizes["full"]
    assert sizes["full"] + sizes["test"] == sizes["all"] == 60
    assert min(sizes.values()) > 0
    high = corpus.subset("high")
    assert high.dialogues["score"].between(70, 98).all()
    assert set(high.utterances["dialogue_id"]) == set(high.dialogues.index)
    with pytest.raises(ValueError, match="unknown subset"):
        corpus.subset("medium")


def test_turns_merge_consecutive_messages_of_one_speaker():
    utterances = pd.DataFrame(
        {
            "dialogue_id": [1, 1, 1, 1, 2, 2],
            "position": [0, 1, 2, 3, 0, 1],
            "role": pd.Categorical(
                ["counselor", "client", "client", "counselor", "counselor", "counselor"],
                categories=schema.ROLES,
            ),
            "time": pd.to_datetime(
                [
                    "2020-01-01 10:00:00",
                    "2020-01-01 10:01:00",
                    "2020-01-01 10:02:00",
                    "2020-01-01 10:03:00",
                    "2021-01-01 09:00:00",
                    "2021-01-01 09:00:30",
                ]
            ),
            "text": ["こんにちは", "はい", "お願いします", "どうぞ", "a", "b"],
        }
    )
    turns = merge_turns(utterances, sep="\n")
    assert turns["text"].tolist() == ["こんにちは", "はい\nお願いします", "どうぞ", "a\nb"]
    assert turns["turn"].tolist() == [0, 1, 2, 0]
    assert turns["n_messages"].tolist() == [1, 2, 1, 2]
    assert turns["role"].tolist() == ["counselor", "client", "counselor", "counselor"]
    assert turns["end_time"].iloc[1] == pd.Timestamp("2020-01-01 10:02:00")
    assert turns["length"].tolist() == [5, 9, 3, 3]


def test_warm_load_from_cache_equals_cold_load(synthetic_dir):
    cold = load_corpus(synthetic_dir, cache=False)
    load_corpus(synthetic_dir)  # writes the cache
    warm = load_corpus(synthetic_dir)
    pd.testing.assert_frame_equal(cold.dialogues, warm.dialogues)
    pd.testing.assert_frame_equal(cold.utterances, warm.utterances)


def test_cache_is_invalidated_when_a_file_changes(tmp_path):
    sessions = {
        1: make_session(1, np.random.default_rng(1)),
        2: make_session(2, np.random.default_rng(2)),
    }
    write_corpus(tmp_path, sessions)
    assert (
        load_corpus(tmp_path).utterances["text"].iloc[0] == sessions[1]["dialogue"][0]["utterance"]
    )
    sessions[1]["dialogue"][0]["utterance"] = "変更した発話です"
    write_corpus(tmp_path, {1: sessions[1]})
    assert load_corpus(tmp_path).utterances["text"].iloc[0] == "変更した発話です"


def test_data_resolution_accepts_clone_or_dialogue_folder(synthetic_dir):
    by_clone = source_from_path(synthetic_dir)
    by_folder = source_from_path(Path(synthetic_dir) / "kokorochat_dialogues")
    assert by_clone.files == by_folder.files and by_clone.kind == "json"
    assert [f.stem for f in by_clone.files[:3]] == ["1", "2", "3"]  # numeric order


def test_environment_variable_is_used(synthetic_dir, monkeypatch):
    monkeypatch.setenv("KOKOROCHAT_DATA", str(synthetic_dir))
    assert find_data().path == (Path(synthetic_dir) / "kokorochat_dialogues").resolve()


def test_missing_data_says_how_to_provide_it(tmp_path, monkeypatch):
    monkeypatch.delenv("KOKOROCHAT_DATA", raising=False)
    with pytest.raises(DataNotFoundError, match="KOKOROCHAT_DATA"):
        find_data(clone=False)
    with pytest.raises(DataNotFoundError) as mistyped:  # a wrong path: one line naming it
        load_corpus(tmp_path / "nowhere")
    assert (
        str(mistyped.value) == f"KokoroChat data not found: {tmp_path / 'nowhere'} does not exist"
    )
    with pytest.raises(DataNotFoundError, match="holds no KokoroChat sessions"):
        load_corpus(tmp_path)


def test_hugging_face_parquet_export_loads_like_json(tmp_path, synthetic_dir):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    sessions = make_corpus(60, seed=0)
    rows = []
    for session in sessions.values():  # the export stores the dialogue as a struct of lists
        dialogue = {key: [m[key] for m in session["dialogue"]] for key in schema.MESSAGE_KEYS}
        rows.append({**session, "dialogue": dialogue})
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "train.parquet")
    from_parquet = load_corpus(tmp_path / "train.parquet", cache=False)
    from_json = load_corpus(synthetic_dir, cache=False)
    pd.testing.assert_frame_equal(from_parquet.dialogues, from_json.dialogues)
    pd.testing.assert_frame_equal(from_parquet.utterances, from_json.utterances)


def test_json_written_by_synthetic_module_is_upstream_schema(synthetic_dir):
    data = json.loads(
        (Path(synthetic_dir) / "kokorochat_dialogues" / "1.json").read_text(encoding="utf-8")
    )
    assert list(data) == list(schema.TOP_KEYS)
    assert list(data["review_by_client_en"]) == list(schema.REVIEW_KEYS_EN)
    assert list(data["review_by_client_jp"]) == list(schema.REVIEW_KEYS_JA)


def test_parallel_parse_equals_serial(synthetic_dir, monkeypatch):
    from kokoro_analysis.corpus import parsing

    serial = load_corpus(synthetic_dir, cache=False)
    monkeypatch.setattr(parsing, "PARALLEL_MIN_FILES", 10)
    monkeypatch.setattr(parsing, "available_cores", lambda: 3)
    parallel = load_corpus(synthetic_dir, cache=False)
    pd.testing.assert_frame_equal(serial.dialogues, parallel.dialogues)
    pd.testing.assert_frame_equal(serial.utterances, parallel.utterances)


def test_turn_starts_numbers_and_subset_ids(synthetic_dir):
    from kokoro_analysis.corpus.loading import turn_numbers, turn_starts

    corpus = load_corpus(synthetic_dir)
    starts = turn_starts(corpus.utterances)
    turns = corpus.turns()
    assert starts.sum() == len(turns)
    numbers = turn_numbers(corpus.utterances)
    assert (turns["dialogue_id"].to_numpy()[numbers] == corpus.utterances["dialogue_id"]).all()
    assert (turns["n_messages"].to_numpy() == np.bincount(numbers)).all()
    assert list(corpus.subset_ids("high")) == list(corpus.subset("high").dialogues.index)
    assert (
        schema.pick("はい", "yes", lang="ja") == "はい"
        and schema.pick("はい", "yes", lang="en") == "yes"
    )
    with pytest.raises(ValueError, match="lang"):
        schema.pick("はい", "yes", lang="fr")
