"""ESConv (Liu et al., ACL 2021), the English emotional-support corpus the KokoroChat authors compare with.

We read the Hugging Face conversion (``thu-coai/esconv``): ``train.txt``, ``valid.txt``, ``test.txt`` in
one folder, one JSON object per line (one dialogue), with ``dialog`` (a list of ``{"speaker": "usr" |
"sys", "text": ..., "strategy": ...}``), ``survey_score`` (``{"seeker": {...}, "supporter": {...}}``,
values as strings "0"–"5", some missing) and the dialogue metadata (``emotion_type``, ``problem_type``,
``experience_type``, ``situation``).

Roles: ``usr`` is the help seeker (KokoroChat's *client*), ``sys`` the supporter (the *counselor*).
Lengths are whitespace tokens (``str.split()``: punctuation stays attached to words) and characters.

The data is CC BY-NC 4.0 and is never copied into this project: point ``KOKORO_PEERS_DIR`` (the folder
holding ``esconv/``) or the notebook's ``peers_dir`` parameter at it.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from kokoro_analysis.corpus.jsonl import read_json_lines
from kokoro_analysis.paths import PROJECT_ROOT

__all__ = [
    "ESCONV_SPLITS",
    "PEERS_ENV",
    "SPEAKER_ROLES",
    "ESConvDataError",
    "find_esconv",
    "load_esconv",
    "whitespace_word_counts",
]

ESCONV_SPLITS = ("train", "valid", "test")
"""Split files (``<split>.txt``), read in this order; dialogue ids run over them in order."""
SPEAKER_ROLES = {"usr": "client", "sys": "counselor"}
"""ESConv speaker → KokoroChat role (seeker = client, supporter = counselor)."""
PEERS_ENV = "KOKORO_PEERS_DIR"
"""Environment variable naming the folder that holds ``esconv/``."""
SURVEY_FIELDS = (
    ("seeker", "initial_emotion_intensity"),
    ("seeker", "empathy"),
    ("seeker", "relevance"),
    ("seeker", "final_emotion_intensity"),
    ("supporter", "relevance"),
)
"""``survey_score`` entries kept as dialogue columns ``<who>_<field>`` (float, NaN when absent)."""
META_FIELDS = ("emotion_type", "problem_type", "experience_type", "situation")


class ESConvDataError(ValueError):
    """ESConv input that cannot be read; the message names the file and the 1-based line."""


@functools.cache
def _word_pattern() -> str:
    """A run of characters none of which ``str.split()`` splits at (RE2 syntax)."""
    spaces = (chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
    return "[^" + "".join(f"\\x{{{ord(c):x}}}" for c in spaces) + "]+"


def whitespace_word_counts(texts: pd.Series) -> pd.Series:
    """Words per text: whitespace tokens (``str.split()``; punctuation stays attached), as int64. The
    one word rule of the cross-corpus comparisons (ESConv and KokoroChat's English translation).
    Counted by Arrow as runs of non-whitespace (the same count as ``len(text.split())``, about four
    times faster); a missing text is refused (ValueError)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(texts, from_pandas=True)
    if pa.types.is_dictionary(array.type):  # a categorical column
        array = array.dictionary_decode()
    if array.null_count:
        raise ValueError(f"{array.null_count} missing text(s): words cannot be counted")
    if not len(array):
        return pd.Series(np.zeros(0, np.int64), index=texts.index, name=texts.name)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        raise TypeError(f"words can be counted in texts only, not in values of type {array.type}")
    counts = pc.count_substring_regex(array, _word_pattern()).to_numpy(zero_copy_only=False)
    return pd.Series(counts.astype(np.int64), index=texts.index, name=texts.name)


def find_esconv(peers_dir: str | os.PathLike | None = None) -> Path | None:
    """The ESConv folder: ``<peers_dir>/esconv`` (or ``peers_dir`` itself when it holds the split files),
    else from ``$KOKORO_PEERS_DIR``; ``None`` when neither is given or the folder does not exist.

    A relative path is taken from the current directory, then from the project root (so
    ``KOKORO_PEERS_DIR=../shared/peers`` also works for notebooks executed elsewhere).
    """
    given = peers_dir if peers_dir is not None else os.environ.get(PEERS_ENV) or None
    if given is None:
        return None
    base = Path(given).expanduser()
    candidates = [base] if base.is_absolute() else [base, PROJECT_ROOT / base]
    for folder in candidates:
        for candidate in (folder / "esconv", folder):
            if all((candidate / f"{split}.txt").is_file() for split in ESCONV_SPLITS):
                return candidate.resolve()
    return None


def load_esconv(path: str | os.PathLike) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read ESConv from a folder with ``train.txt``, ``valid.txt``, ``test.txt`` (or one such file).

    Returns ``(dialogues, utterances)``:

    * ``dialogues``, indexed by ``dialogue_id`` (0-based, running over the splits in
      :data:`ESCONV_SPLITS` order): ``split``, ``line`` (1-based line in the split file), the metadata
      fields, ``n_utterances``, ``n_counselor_utterances`` (``sys``), ``n_client_utterances`` (``usr``)
      and the survey ratings (:data:`SURVEY_FIELDS`, floats, NaN when absent);
    * ``utterances``, one row per stored message in order: ``dialogue_id``, ``position``, ``speaker``
      (``usr``/``sys``), ``role`` (categorical counselor/client), ``text``, ``strategy`` (supporter
      strategy or None), ``n_words`` (whitespace tokens), ``n_chars``.

    Raises ``FileNotFoundError`` naming missing files and :class:`ESConvDataError` (file and line) for a
    line that is not a JSON dialogue of the expected shape.
    """
    files = _split_files(Path(path))
    dialogues: list[dict] = []
    columns: dict[str, list] = {
        "dialogue_id": [],
        "position": [],
        "speaker": [],
        "text": [],
        "strategy": [],
    }
    for split, file in files:
        for line_number, record in read_json_lines(file, ESConvDataError):
            dialogue_id = len(dialogues)
            messages = _messages(record, file, line_number)
            dialogues.append(_dialogue_row(record, dialogue_id, split, line_number, file))
            columns["dialogue_id"] += [dialogue_id] * len(messages)
            columns["position"] += range(len(messages))
            columns["speaker"] += [m["speaker"] for m in messages]
            columns["text"] += [m["text"] for m in messages]
            columns["strategy"] += [m.get("strategy") for m in messages]
    if not dialogues:
        raise ESConvDataError(f"{path}: no dialogues found")
    return _tables(dialogues, columns)


def _split_files(path: Path) -> list[tuple[str, Path]]:
    if path.is_file():
        return [(path.stem, path)]
    if not path.is_dir():
        raise FileNotFoundError(f"ESConv not found: {path} does not exist")
    files = [(split, path / f"{split}.txt") for split in ESCONV_SPLITS]
    missing = [str(file) for _, file in files if not file.is_file()]
    if missing:
        raise FileNotFoundError(f"ESConv split file(s) missing: {', '.join(missing)}")
    return files


def _messages(record: dict, file: Path, line_number: int) -> list[dict]:
    dialog = record.get("dialog")
    if not isinstance(dialog, list) or not dialog:
        raise ESConvDataError(
            f"{file}, line {line_number}: 'dialog' must be a non-empty list of messages"
        )
    for index, message in enumerate(dialog):
        where = f"{file}, line {line_number}, dialog[{index}]"
        if not isinstance(message, dict):
            raise ESConvDataError(f"{where}: expected an object with 'speaker' and 'text'")
        if message.get("speaker") not in SPEAKER_ROLES:
            raise ESConvDataError(
                f"{where}: speaker must be 'usr' or 'sys', found {message.get('speaker')!r}"
            )
        if not isinstance(message.get("text"), str):
            raise ESConvDataError(f"{where}: text must be a string, found {message.get('text')!r}")
    return dialog


def _dialogue_row(record: dict, dialogue_id: int, split: str, line_number: int, file: Path) -> dict:
    row: dict = {"dialogue_id": dialogue_id, "split": split, "line": line_number}
    row.update({name: record.get(name) for name in META_FIELDS})
    survey = record.get("survey_score") or {}
    if not isinstance(survey, dict):
        raise ESConvDataError(f"{file}, line {line_number}: survey_score must be an object")
    for who, name in SURVEY_FIELDS:
        value = (survey.get(who) or {}).get(name)
        row[f"{who}_{name}"] = _rating(value, file, line_number, f"survey_score.{who}.{name}")
    return row


def _rating(value, file: Path, line_number: int, where: str) -> float:
    if value is None or value == "":
        return np.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ESConvDataError(
            f"{file}, line {line_number}: {where} is not a number ({value!r})"
        ) from None


def _tables(dialogues: list[dict], columns: dict[str, list]) -> tuple[pd.DataFrame, pd.DataFrame]:
    utterances = pd.DataFrame(columns)
    utterances["role"] = pd.Categorical(
        utterances["speaker"].map(SPEAKER_ROLES), categories=["counselor", "client"]
    )
    utterances["text"] = utterances["text"].astype("str")
    utterances["n_words"] = whitespace_word_counts(utterances["text"])
    utterances["n_chars"] = utterances["text"].str.len().astype(np.int64)
    utterances = utterances[
        ["dialogue_id", "position", "speaker", "role", "text", "strategy", "n_words", "n_chars"]
    ]
    frame = pd.DataFrame(dialogues).set_index("dialogue_id")
    counts = pd.crosstab(utterances["dialogue_id"], utterances["role"]).reindex(
        frame.index, fill_value=0
    )
    frame.insert(len(META_FIELDS) + 2, "n_utterances", counts.sum(axis=1).to_numpy())
    frame.insert(len(META_FIELDS) + 3, "n_counselor_utterances", counts["counselor"].to_numpy())
    frame.insert(len(META_FIELDS) + 4, "n_client_utterances", counts["client"].to_numpy())
    return frame, utterances
