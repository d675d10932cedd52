"""ESConv's statistics measured like KokoroChat's: by hand on the tiny ESConv of the loader's tests,
and on the real ESConv when KOKORO_PEERS_DIR is set."""

from __future__ import annotations

import os

import pytest

from kokoro_analysis.analyses import peer_comparison as peers
from kokoro_analysis.corpus.esconv import find_esconv, load_esconv
from tests.unit.corpus.test_esconv import write_esconv


def test_esconv_statistics_by_hand(tmp_path):
    stats = peers.esconv_statistics(*load_esconv(write_esconv(tmp_path / "esconv")))
    assert stats["dialogues"] == 3 and stats["utterances"] == 9
    assert stats["avg_utterances_per_dialogue"] == pytest.approx(3.0)
    # merged turns: usr | sys | usr usr -> 3; sys | usr -> 2; usr | sys sys -> 2
    assert stats["avg_turns_per_dialogue"] == pytest.approx(7 / 3)
    assert stats["utterances_counselor"] == 4 and stats["utterances_client"] == 5
    assert stats["avg_words_per_utterance_counselor"] == pytest.approx((4 + 6 + 1 + 2) / 4)
    assert stats["avg_words_per_utterance_client"] == pytest.approx((2 + 2 + 2 + 1 + 3) / 5)
    table = peers.esconv_statistics_table(stats)
    assert table.loc["total", "dialogues"] == 3 and table.loc["counselor", "utterances"] == 4
    row = peers.esconv_comparison_row(stats)
    assert row["length_unit"].startswith("words") and row["avg_length_client"] == pytest.approx(2.0)


@pytest.mark.realdata
def test_real_esconv_statistics():
    folder = find_esconv() if os.environ.get("KOKORO_PEERS_DIR") else None
    if folder is None:
        pytest.skip("KOKORO_PEERS_DIR is not set or holds no esconv/ (real ESConv test)")
    stats = peers.esconv_statistics(*load_esconv(folder))
    assert stats["dialogues"] == 1300
    assert stats["utterances"] == 38365
    assert f"{stats['avg_utterances_per_dialogue']:.2f}" == "29.51"
    assert f"{stats['avg_utterances_per_dialogue']:.1f}" == "29.5"  # as the authors print it
