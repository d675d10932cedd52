"""Fine-tuning export from the official translations (``export-sft --language en|zh``) on synthetic
translated sessions: the same examples, the language's prompts, skipped sessions counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.cli import main
from kokoro_analysis.corpus.synthetic import make_corpus, make_translations, write_translations
from kokoro_analysis.corpus.translations import load_translations
from kokoro_analysis.finetune.data import PROMPTS
from kokoro_analysis.finetune.export import FILES, export_sft

MISSING = (10, 21)  # 10 is in the test pool (score 100), 21 in the training data


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    sessions = make_corpus(60, seed=0)
    root = tmp_path_factory.mktemp("release")
    for lang in ("en", "zh"):
        write_translations(root, make_translations(sessions, lang, missing=MISSING), lang)
    return root


@pytest.fixture(scope="module")
def japanese(synthetic_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("ja")
    export_sft(load_corpus(synthetic_dir), "full", out, layout="turn")
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_same_examples_from_the_translation(synthetic_dir, release, japanese, tmp_path, lang):
    corpus = load_corpus(synthetic_dir)
    manifest = export_sft(
        corpus,
        "full",
        tmp_path,
        layout="turn",
        translations=load_translations(corpus, lang, release),
    )
    for name in (FILES["train"], FILES["test"]):
        original = [row for row in read_jsonl(japanese / name) if row["dialogue_id"] not in MISSING]
        translated = read_jsonl(tmp_path / name)
        assert [row["id"] for row in translated] == [row["id"] for row in original]
        first = translated[0]["messages"]
        assert first[0] == {"role": "system", "content": PROMPTS[lang].system}
        assert [m["role"] for m in first] == [m["role"] for m in original[0]["messages"]]
        assert all(
            m["content"] != o["content"] for m, o in zip(first[1:], original[0]["messages"][1:])
        )
    score = read_jsonl(tmp_path / FILES["score_test"])
    original_score = [row["id"] for row in read_jsonl(japanese / FILES["score_test"])]
    assert [row["id"] for row in score] == [i for i in original_score if i not in MISSING]
    label = PROMPTS[lang].speakers["counselor"]
    assert (
        score[0]["messages"][1]["content"].startswith(f"{label}: ")
        or f"\n{label}: " in score[0]["messages"][1]["content"]
    )
    language = manifest["language"]
    assert language["lang"] == lang and language["sessions_skipped"]["no_translation"] == 2
    assert language["skipped_ids"]["no_translation"] == list(MISSING)
    assert (
        manifest["corpus"]["sessions"] == 58 and manifest["system_prompt"] == PROMPTS[lang].system
    )


def test_japanese_manifest_names_the_original(japanese):
    manifest = json.loads((japanese / FILES["manifest"]).read_text(encoding="utf-8"))
    assert manifest["language"] == {"lang": "ja", "source": "the original KokoroChat"}
    assert manifest["system_prompt"] == PROMPTS["ja"].system


def test_cli_export_in_english(synthetic_dir, release, tmp_path, capsys):
    code = main(
        [
            "export-sft",
            "--data",
            str(synthetic_dir),
            "--out",
            str(tmp_path),
            "--language",
            "en",
            "--translations",
            str(release),
            "--test-samples",
            "5",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "language en (official translations): 2 of 60 sessions skipped (no_translation: 2" in out
    test = read_jsonl(tmp_path / FILES["test"])
    assert len(test) <= 5 and all(row["dialogue_id"] not in MISSING for row in test)
    assert "Hello. I'm the counselor." in (tmp_path / FILES["train"]).read_text(encoding="utf-8")
