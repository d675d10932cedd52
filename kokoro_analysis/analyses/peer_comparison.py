"""KokoroChat's peers measured like KokoroChat: ESConv's corpus statistics (utterances, turns, words
and characters per utterance, by role), its row of the cross-corpus comparison and its table.

ESConv is read by :mod:`kokoro_analysis.corpus.esconv` (lengths in whitespace words and characters).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kokoro_analysis.corpus.loading import turn_starts
from kokoro_analysis.published import TableSpec, Words, register

__all__ = [
    "ESCONV_STATISTICS",
    "TABLES",
    "esconv_comparison_row",
    "esconv_statistics",
    "esconv_statistics_table",
]


def esconv_statistics(dialogues: pd.DataFrame, utterances: pd.DataFrame) -> dict[str, float]:
    """Corpus statistics of ESConv, defined as for KokoroChat.

    Keys: ``dialogues``, ``utterances`` (total / ``_counselor`` / ``_client``),
    ``avg_utterances_per_dialogue`` (stored utterances / dialogues: the authors' "avg. turns"),
    ``avg_turns_per_dialogue`` (consecutive messages of one speaker merged), ``avg_words_per_utterance``
    and ``avg_chars_per_utterance`` (total / ``_counselor`` / ``_client``; words = whitespace tokens),
    ``speakers`` (ESConv has no speaker ids: NaN).
    """
    n_dialogues = len(dialogues)
    roles = utterances["role"]
    stats: dict[str, float] = {
        "dialogues": n_dialogues,
        "utterances": len(utterances),
        "avg_utterances_per_dialogue": len(utterances) / n_dialogues,
        "avg_turns_per_dialogue": int(turn_starts(utterances).sum()) / n_dialogues,
        "avg_words_per_utterance": float(utterances["n_words"].mean()),
        "avg_chars_per_utterance": float(utterances["n_chars"].mean()),
    }
    for role in ("counselor", "client"):
        mine = utterances[roles == role]
        stats[f"utterances_{role}"] = len(mine)
        stats[f"avg_utterances_per_dialogue_{role}"] = len(mine) / n_dialogues
        stats[f"avg_words_per_utterance_{role}"] = float(mine["n_words"].mean())
        stats[f"avg_chars_per_utterance_{role}"] = float(mine["n_chars"].mean())
    return stats


def esconv_statistics_table(stats: dict[str, float]) -> pd.DataFrame:
    """:func:`esconv_statistics` as a table: index ``total``, ``counselor`` (supporter, ``sys``),
    ``client`` (seeker, ``usr``); columns ``dialogues``, ``utterances`` (nullable ints),
    ``avg_utterances_per_dialogue``, ``avg_turns_per_dialogue`` (total only),
    ``avg_words_per_utterance``, ``avg_chars_per_utterance``; missing where a cell does not apply."""
    columns = (
        "dialogues",
        "utterances",
        "avg_utterances_per_dialogue",
        "avg_turns_per_dialogue",
        "avg_words_per_utterance",
        "avg_chars_per_utterance",
    )
    rows = {"total": {c: stats[c] for c in columns}}
    for role in ("counselor", "client"):
        rows[role] = {c: stats.get(f"{c}_{role}", np.nan) for c in columns}
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(columns)).astype(float)
    for column in ("dialogues", "utterances"):
        frame[column] = frame[column].round().astype("Int64")
    frame.index.name = "role"
    return frame


def esconv_comparison_row(stats: dict[str, float]) -> dict[str, object]:
    """ESConv's measured cells of :func:`kokoro_analysis.analyses.corpus_stats.comparison_table` (lengths in
    whitespace words), from :func:`esconv_statistics`."""
    return {
        "dialogues": stats["dialogues"],
        "avg_utterances_per_dialogue": stats["avg_utterances_per_dialogue"],
        "avg_turns_per_dialogue": stats["avg_turns_per_dialogue"],
        "length_unit": "words (whitespace tokens)",
        "avg_length_counselor": stats["avg_words_per_utterance_counselor"],
        "avg_length_client": stats["avg_words_per_utterance_client"],
    }


ESCONV_STATISTICS = TableSpec(
    "corpus_esconv_statistics",
    title=Words("ESConv statistics computed from its data.", "データから算出した ESConv の統計。"),
    thousands=True,
    number_format="{:.2f}",
)
TABLES = register(ESCONV_STATISTICS)
"""The published tables of this module by name (:class:`kokoro_analysis.published.TableSpec`)."""
