"""The real KokoroChat release (skipped unless KOKOROCHAT_DATA is set): every record valid, the
authors' counts from the loaded tables, the score rule on every session, tokens for every utterance."""

from __future__ import annotations

import pytest

from kokoro_analysis import load_corpus
from kokoro_analysis.cli import main
from kokoro_analysis.corpus import schema
from kokoro_analysis.text.mecab import tokenizer_identity
from kokoro_analysis.text.token_cache import tokenize_corpus


def test_every_record_is_valid(real_data_dir):
    corpus = load_corpus(real_data_dir, strict=False, cache=False)
    assert corpus.report.problems == []
    assert corpus.report.sessions_valid == 6589


def test_cli_validate_reports_all_sessions_valid(real_data_dir, capsys):
    assert main(["validate", str(real_data_dir)]) == 0
    out = capsys.readouterr().out
    assert "6589 seen, 6589 valid, 0 skipped" in out
    assert "sum: 6,374, halved: 203, zeroed: 12" in out


def test_authors_counts(real_corpus):
    dialogues, utterances = real_corpus.dialogues, real_corpus.utterances
    assert len(dialogues) == 6589
    assert utterances["role"].value_counts().to_dict() == {"counselor": 306495, "client": 294444}
    assert len(utterances) == 600939
    counselors, clients = set(dialogues["counselor_id"]), set(dialogues["client_id"])
    assert (len(counselors | clients), len(counselors), len(clients)) == (480, 424, 463)
    assert len(counselors & clients) == 407
    assert f"{len(utterances) / len(dialogues):.2f}" == "91.20"
    lengths = utterances.groupby("role", observed=True)["length"].mean()
    assert f"{utterances['length'].mean():.2f}" == "28.39"
    assert (f"{lengths['counselor']:.2f}", f"{lengths['client']:.2f}") == ("35.84", "20.63")
    assert f"{len(real_corpus.turns()) / len(dialogues):.2f}" == "71.63"


def test_score_rule_holds_on_every_session(real_corpus):
    d = real_corpus.dialogues
    expected = schema.expected_score(
        d["item_sum"].to_numpy(), *(d[k].to_numpy() for k in schema.FLAG_KEYS)
    )
    assert (d["score"].to_numpy() == expected).all()
    assert d["score_branch"].value_counts().to_dict() == {"sum": 6374, "halved": 203, "zeroed": 12}
    assert int((d["score"] != d["item_sum"]).sum()) == 215


def test_subset_sizes(real_corpus):
    sizes = {
        name: len(real_corpus.subset(name).dialogues) for name in ("low", "high", "full", "test")
    }
    assert sizes == {"low": 3870, "high": 2601, "full": 6471, "test": 118}


def test_every_utterance_has_tokens(real_corpus):
    tokens = tokenize_corpus(real_corpus, progress=False)
    per_utterance = tokens.counts_per_utterance(real_corpus.utterances.index)
    assert (per_utterance > 0).all()
    identity = tokenizer_identity()
    if (identity["mecab"], identity["unidic-lite"]) != ("0.996", "1.0.8"):
        pytest.skip(f"token total pinned for MeCab 0.996 + unidic-lite 1.0.8, not {identity}")
    # The native mecab command gives 10,651,454 nodes on the same text; 10,089 of them are whitespace
    # (full-width spaces), which this package never counts as tokens. MeCab's 10,641,365 tokens become
    # 10,639,092 after the compound rule (text.compounds) isolates and joins the split slang and domain
    # terms (リス+カ -> リスカ, 発達+障害 -> 発達障害; 10,640,595 with the six words merged before issue 25).
    assert len(tokens) == 10_639_092
