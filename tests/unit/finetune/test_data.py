"""Fine-tuning data: turn merging and examples on a hand-built corpus, the export files and manifest,
the CLI, the seeded sample and score split, and the paper's counts on the real data."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kokoro_analysis import load_corpus, merge_turns
from kokoro_analysis.cli import main
from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.synthetic import make_session, write_corpus
from kokoro_analysis.finetune.data import (
    SCORE_SYSTEM_PROMPT,
    SYSTEM_PROMPT,
    data_summary,
    person_disjoint_split,
    response_examples,
    sample_examples,
    sample_test_contexts,
    score_split,
    score_split_summary,
)
from kokoro_analysis.finetune.export import FILES, LICENCE_NOTE, export_sft
from kokoro_analysis.finetune.test_sets import person_disjoint_test_set

C, U = "counselor", "client"

# session id -> (item value for all 20 items, messages); item 3 -> score 60 (low), 4 -> 80 (high), 5 -> 100 (test)
HAND_SESSIONS = {
    1: (
        3,
        [
            (C, "こんにちは"),
            (C, "相談員です"),
            (U, "はい"),
            (U, "悩みがあって"),
            (C, "どうぞ"),
            (U, "実は"),
            (C, "そうですか"),
        ],
    ),
    2: (4, [(U, "あの"), (C, "はい"), (C, "どうされましたか"), (U, "眠れなくて")]),
    3: (4, [(C, "こんにちは"), (C, "お待ちしています")]),
    4: (5, [(C, "よろしくお願いします"), (U, "お願いします"), (C, "今日はどんなご相談ですか")]),
}


def write_hand_corpus(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    sessions = {}
    for dialogue_id, (value, messages) in HAND_SESSIONS.items():
        session = make_session(dialogue_id, rng)
        start = datetime(2022, 1, 1, 10, 0)
        session["dialogue"] = [
            {
                "role": role,
                "time": (start + timedelta(seconds=30 * i)).strftime(schema.TIME_FORMAT),
                "utterance": text,
            }
            for i, (role, text) in enumerate(messages)
        ]
        for review, keys in (
            (session["review_by_client_en"], [i.upstream_key for i in schema.ITEMS]),
            (session["review_by_client_jp"], [i.label_ja for i in schema.ITEMS]),
        ):
            for key in keys:
                review[key] = value
        for flag in schema.FLAGS:
            session["review_by_client_en"][flag.key] = session["review_by_client_jp"][
                flag.label_ja
            ] = None
        session["review_by_client_en"]["score"] = session["review_by_client_jp"]["点数"] = (
            20 * value
        )
        sessions[dialogue_id] = session
    return write_corpus(folder, sessions)


@pytest.fixture(scope="module")
def hand_corpus(tmp_path_factory):
    return load_corpus(write_hand_corpus(tmp_path_factory.mktemp("hand")))


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --------------------------------------------------------------------------- examples


def test_examples_of_hand_built_sessions(hand_corpus):
    turns = hand_corpus.turns()
    examples = response_examples(turns)
    assert examples["id"].tolist() == ["1-2", "1-4", "2-1", "4-2"]
    assert examples["target"].tolist() == [
        "どうぞ",
        "そうですか",
        "はい\nどうされましたか",
        "今日はどんなご相談ですか",
    ]
    assert examples["context_turns"].tolist() == [2, 4, 1, 2]
    contexts = [
        turns["text"].iloc[first:row].tolist()
        for first, row in zip(examples["first_row"], examples["row"])
    ]
    assert contexts[0] == ["こんにちは\n相談員です", "はい\n悩みがあって"]
    assert contexts[1] == ["こんにちは\n相談員です", "はい\n悩みがあって", "どうぞ", "実は"]
    assert contexts[2] == ["あの"]
    assert contexts[3] == ["よろしくお願いします", "お願いします"]


def test_examples_need_a_client_turn_before_them():
    utterances = pd.DataFrame(
        {
            "dialogue_id": [7, 7, 8, 8],
            "role": pd.Categorical([C, C, C, U], categories=schema.ROLES),
            "text": ["a", "b", "c", "d"],
            "time": pd.to_datetime(["2022-01-01"] * 4),
        }
    )
    turns = merge_turns(utterances)
    # session 7: one counselor turn, no client; session 8 ends with the client: no example at all
    assert response_examples(turns).empty
    assert response_examples(turns.iloc[:0]).empty


def test_data_summary_counts(hand_corpus):
    summary = data_summary(hand_corpus)
    assert summary.loc["low", ["sessions", "examples", "turns"]].tolist() == [1, 2, 5]
    assert summary.loc["high", ["sessions", "sessions_with_examples", "examples"]].tolist() == [
        2,
        1,
        1,
    ]
    assert summary.loc["full", "examples"] == 3
    assert summary.loc["test", ["sessions", "examples"]].tolist() == [1, 1]
    assert summary.loc["low", "mean_context_turns"] == pytest.approx(3.0)


# --------------------------------------------------------------------------- export


def test_export_session_layout(hand_corpus, tmp_path):
    manifest = export_sft(hand_corpus, "full", tmp_path)
    lines = read_jsonl(tmp_path / FILES["train"])
    assert [line["id"] for line in lines] == ["1", "2"]  # session 3 has no example
    first = lines[0]["messages"]
    assert first[0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert first[1:] == [
        {"role": "assistant", "content": "こんにちは\n相談員です", "weight": 0},
        {"role": "user", "content": "はい\n悩みがあって"},
        {"role": "assistant", "content": "どうぞ", "weight": 1},
        {"role": "user", "content": "実は"},
        {"role": "assistant", "content": "そうですか", "weight": 1},
    ]
    # session 2: cut after its last target (the final client turn is dropped)
    assert [m["role"] for m in lines[1]["messages"]] == ["system", "user", "assistant"]
    assert lines[1]["n_targets"] == 1
    train = manifest["files"][FILES["train"]]
    assert (train["lines"], train["sessions"], train["examples"]) == (2, 2, 3)
    assert train["lines_if_turn_layout"] == 3 and train["subset_sessions_without_examples"] == 1
    raw = (tmp_path / FILES["train"]).read_bytes()
    assert "相談員".encode() in raw  # ensure_ascii=False
    assert train["sha256"] == hashlib.sha256(raw).hexdigest() and train["bytes"] == len(raw)


def test_export_turn_layout_and_test_file(hand_corpus, tmp_path):
    manifest = export_sft(hand_corpus, "low", tmp_path, layout="turn")
    lines = read_jsonl(tmp_path / FILES["train"])
    assert [line["id"] for line in lines] == ["1-2", "1-4"]
    second = lines[1]["messages"]
    assert [m["content"] for m in second[1:]] == [
        "こんにちは\n相談員です",
        "はい\n悩みがあって",
        "どうぞ",
        "実は",
        "そうですか",
    ]
    assert [m.get("weight") for m in second[1:]] == [0, None, 0, None, 1]
    assert manifest["files"][FILES["train"]]["lines"] == 2
    test = read_jsonl(tmp_path / FILES["test"])
    assert test == [
        {
            "id": "4-2",
            "dialogue_id": 4,
            "turn": 2,
            "target": "今日はどんなご相談ですか",
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "assistant", "content": "よろしくお願いします"},
                {"role": "user", "content": "お願いします"},
            ],
        }
    ]


def test_export_score_prediction_files(hand_corpus, tmp_path):
    manifest = export_sft(hand_corpus, "full", tmp_path)
    held_out = score_split(hand_corpus.dialogues)
    train = read_jsonl(tmp_path / FILES["score_train"])
    test = read_jsonl(tmp_path / FILES["score_test"])
    assert [line["id"] for line in test] == [str(i) for i in sorted(held_out.index[held_out])]
    assert all(
        line["id"] == str(line["dialogue_id"]) for line in train + test
    )  # one id type everywhere
    full = hand_corpus.subset("full").dialogues.index
    assert [line["dialogue_id"] for line in train] == sorted(
        set(full) - set(held_out.index[held_out])
    )
    for line in train:
        value = HAND_SESSIONS[line["dialogue_id"]][0]
        assert line["items"] == [value] * 20 and line["score"] == 20 * value
        system, user, answer = line["messages"]
        assert system["content"] == SCORE_SYSTEM_PROMPT
        assert user["content"].splitlines()[0].startswith(("カウンセラー: ", "クライアント: "))
        assert json.loads(answer["content"]) == [value] * 20
    assert all(len(line["messages"]) == 2 for line in test)
    assert manifest["files"][FILES["score_test"]]["sessions"] == len(test)


def test_export_on_synthetic_data(synthetic_dir, tmp_path):
    corpus = load_corpus(synthetic_dir)
    summary = data_summary(corpus)
    manifest = export_sft(corpus, "high", tmp_path, seed=3)
    files = manifest["files"]
    assert files[FILES["train"]]["lines"] == summary.loc["high", "sessions_with_examples"]
    assert files[FILES["train"]]["examples"] == summary.loc["high", "examples"]
    test = read_jsonl(tmp_path / FILES["test"])
    assert len(test) == files[FILES["test"]]["examples"] == summary.loc["test", "examples"]
    assert len({line["id"] for line in test}) == len(test)
    for line in test:
        dialogue_id, turn = map(int, line["id"].split("-"))
        assert (dialogue_id, turn) == (line["dialogue_id"], line["turn"])
        assert corpus.dialogues.loc[dialogue_id, "score"] >= 99
        assert line["messages"][-1]["role"] == "user" and line["target"]
    for name, info in files.items():
        assert info["sha256"] == hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
        assert info["lines"] == len((tmp_path / name).read_text(encoding="utf-8").splitlines())
    saved = json.loads((tmp_path / FILES["manifest"]).read_text(encoding="utf-8"))
    assert saved == manifest
    assert saved["subset"] == {
        "name": "high",
        "definition": schema.SUBSETS["high"][2],
        "sessions": summary.loc["high", "sessions"],
    }
    assert saved["test_pool"]["sessions"] == summary.loc["test", "sessions"] and saved["seed"] == 3
    assert len(saved["corpus"]["content_sha256"]) == 64 and saved["corpus"]["sessions"] == 60
    assert files[FILES["score_train"]]["sessions"] + files[FILES["score_test"]]["sessions"] <= 60
    # deterministic: a second export writes identical files
    again = export_sft(corpus, "high", tmp_path / "again", seed=3)
    assert again == manifest


def test_seeded_test_sample(synthetic_dir, tmp_path):
    corpus = load_corpus(synthetic_dir)
    everything = sample_test_contexts(corpus)
    five = sample_test_contexts(corpus, 5, seed=1)
    assert len(five) == 5 and set(five["id"]) <= set(everything["id"])
    assert five["row"].is_monotonic_increasing  # corpus order
    assert five["id"].tolist() == sample_test_contexts(corpus, 5, seed=1)["id"].tolist()
    assert five["id"].tolist() != sample_test_contexts(corpus, 5, seed=2)["id"].tolist()
    manifest = export_sft(corpus, "low", tmp_path, test_samples=5, seed=1)
    assert [line["id"] for line in read_jsonl(tmp_path / FILES["test"])] == five["id"].tolist()
    assert manifest["files"][FILES["test"]]["test_contexts_total"] == len(everything)
    with pytest.raises(ValueError, match="exceeds"):
        sample_examples(everything, len(everything) + 1)
    with pytest.raises(ValueError, match="positive integer"):
        sample_examples(everything, 0)


def test_score_split_is_seeded_and_order_free(synthetic_dir):
    dialogues = load_corpus(synthetic_dir).dialogues
    split = score_split(dialogues, seed=0)
    assert split.sum() == 12 and split.index.equals(dialogues.index)
    shuffled = score_split(dialogues.sample(frac=1, random_state=5), seed=0)
    assert shuffled.sort_index().equals(split.sort_index())
    assert not score_split(dialogues, seed=1).equals(split)
    summary = score_split_summary(load_corpus(synthetic_dir))
    assert summary.loc["test (held-out)", "sessions"] == 12
    with pytest.raises(ValueError):
        score_split(dialogues, test_fraction=1.0)


def test_person_disjoint_split_shares_no_person_between_train_and_test(synthetic_dir):
    dialogues = load_corpus(synthetic_dir).dialogues
    split = person_disjoint_split(dialogues, seed=0)
    assert split.index.equals(dialogues.index) and (split == "test").sum() >= 12

    def people(role):
        part = dialogues[split == role]
        return set(part["client_id"].astype(str)) | set(part["counselor_id"].astype(str))

    assert people("test") and people("train") and not people("test") & people("train")
    assert (split == "excluded").sum() == len(dialogues) - (split != "excluded").sum()
    assert (
        person_disjoint_split(dialogues.sample(frac=1, random_state=1), seed=0)
        .reindex(dialogues.index)
        .equals(split)
    )
    with pytest.raises(ValueError):
        person_disjoint_split(dialogues, test_fraction=0.0)


def test_person_disjoint_test_set_holds_the_split_s_test_sessions(synthetic_dir):
    corpus = load_corpus(synthetic_dir)
    split = person_disjoint_split(corpus.dialogues, seed=3)
    test_set = person_disjoint_test_set(corpus, seed=3)
    test_ids = corpus.dialogues.index[split == "test"]
    assert test_set.name == "person_disjoint"
    assert test_set.items.index.tolist() == sorted(test_ids)
    assert test_set.items.columns.tolist() == list(schema.ITEM_KEYS)
    expected = schema.item_matrix(corpus.dialogues.loc[sorted(test_ids)])
    assert (test_set.items.to_numpy() == expected).all()
    excluded = int((split == "excluded").sum())
    assert test_set.description == (
        f"person-disjoint split ({len(test_ids):,} sessions, {excluded:,} left out, seed 3)"
    )
    given = person_disjoint_test_set(corpus, seed=3, split=split)
    assert given.items.equals(test_set.items) and given.description == test_set.description


def test_export_rejects_bad_arguments(hand_corpus, tmp_path):
    with pytest.raises(ValueError, match="subset"):
        export_sft(hand_corpus, "test", tmp_path)
    with pytest.raises(ValueError, match="layout"):
        export_sft(hand_corpus, "low", tmp_path, layout="chat")


def test_cli_export(synthetic_dir, tmp_path, capsys):
    out = tmp_path / "sft"
    assert (
        main(
            [
                "export-sft",
                "--data",
                str(synthetic_dir),
                "--subset",
                "low",
                "--out",
                str(out),
                "--test-samples",
                "4",
                "--seed",
                "2",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert LICENCE_NOTE in printed and "4 of " in printed and "seeded sample, seed 2" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES.values())
    assert (
        main(
            [
                "export-sft",
                "--data",
                str(synthetic_dir),
                "--subset",
                "low",
                "--out",
                str(out),
                "--test-samples",
                "100000",
            ]
        )
        == 1
    )
    assert "exceeds" in capsys.readouterr().err


# --------------------------------------------------------------------------- real data


@pytest.mark.realdata
def test_paper_subset_counts(real_corpus):
    summary = data_summary(real_corpus)
    assert summary["sessions"].to_dict() == {"low": 3870, "high": 2601, "full": 6471, "test": 118}
    assert (summary["sessions_with_examples"] == summary["sessions"]).all()
    assert summary["examples"].to_dict() == {
        "low": 129929,
        "high": 97209,
        "full": 227138,
        "test": 4631,
    }
    split = score_split_summary(real_corpus)["sessions"]
    assert (split["test (held-out)"], split["train (full)"]) == (1318, 5183)


@pytest.mark.realdata
def test_real_export_high(real_corpus, tmp_path):
    manifest = export_sft(real_corpus, "high", tmp_path, test_samples=100)
    files = manifest["files"]
    assert (files[FILES["train"]]["lines"], files[FILES["train"]]["examples"]) == (2601, 97209)
    assert (
        files[FILES["test"]]["lines"] == 100 and files[FILES["test"]]["test_contexts_total"] == 4631
    )
    assert manifest["test_pool"]["sessions"] == 118 and manifest["subset"]["sessions"] == 2601
    assert files[FILES["score_test"]]["sessions"] == 1318


def test_sample_and_corpus_hash_do_not_depend_on_the_table_order(tmp_path):
    """issue 21: the same sessions in another Parquet row order give the same seeded test sample
    and corpus hash."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from kokoro_analysis.corpus import schema
    from kokoro_analysis.corpus.synthetic import make_corpus
    from kokoro_analysis.finetune.export import corpus_content_hash

    rows = [
        {**s, "dialogue": {k: [m[k] for m in s["dialogue"]] for k in schema.MESSAGE_KEYS}}
        for s in make_corpus(60, seed=0).values()
    ]
    loaded = []
    for name, order in (("forward", rows), ("shuffled", rows[1::2] + rows[::2][::-1])):
        pq.write_table(pa.Table.from_pylist(order), tmp_path / f"{name}.parquet")
        loaded.append(load_corpus(tmp_path / f"{name}.parquet", cache=False))
    forward, shuffled = loaded
    assert list(forward.dialogues.index) != list(shuffled.dialogues.index)
    for seed in (0, 3):
        a, b = (sorted(sample_test_contexts(c, 10, seed)["id"]) for c in loaded)
        assert a == b
    assert corpus_content_hash(forward) == corpus_content_hash(shuffled)
