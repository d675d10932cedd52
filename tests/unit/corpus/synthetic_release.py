"""The synthetic Multilingual KokoroChat release of the translation tests: which sessions have no
file, which messages an empty translation, and tampered copies."""

from __future__ import annotations

from kokoro_analysis.corpus.synthetic import (
    make_corpus,
    make_translations,
    tamper_translation,
    write_translations,
)

MISSING = (5, 17)


def inside_a_turn(dialogue_id: int) -> tuple[int, int]:
    """(session, index) of a message followed by one of the same speaker: emptying it leaves its turn
    translated."""
    dialogue = make_corpus(60, seed=0)[dialogue_id]["dialogue"]
    index = next(
        i for i in range(len(dialogue) - 1) if dialogue[i]["role"] == dialogue[i + 1]["role"]
    )
    return dialogue_id, index


EMPTY = (inside_a_turn(3), inside_a_turn(8))


def average(sessions, missing) -> float:
    kept = [s for i, s in sessions.items() if i not in missing]
    return sum(len(s["dialogue"]) for s in kept) / len(kept)


def tampered_copy(tmp_path, sessions, defect: str, dialogue_id: int = 4, index: int = 1):
    translations = make_translations(sessions, "en", missing=MISSING, empty=EMPTY)
    translations[dialogue_id] = tamper_translation(translations[dialogue_id], defect, index)
    return write_translations(tmp_path / defect, translations, "en")
