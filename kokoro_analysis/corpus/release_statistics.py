"""The release README's own statistics (dialogues and utterances per dialogue of Japanese, English and
Chinese) checked against what the release's files and the corpus hold.

Languages are named by code (``ja`` the corpus, ``en``, ``zh`` its translations); the tables keep the
index name ``lang`` of the published table ``corpus_translation_release_readme``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from kokoro_analysis.cache import cached_value
from kokoro_analysis.corpus.loading import Corpus
from kokoro_analysis.corpus.sources import DataSource, read_bytes, read_error_reason
from kokoro_analysis.corpus.translation_sources import (
    TRANSLATION_FOLDERS,
    file_id,
    translation_files,
)
from kokoro_analysis.reported import round_half_up

README_LANGUAGES = {"Japanese": "ja", "English": "en", "Chinese": "zh"}
"""First word of a row of the README's statistics table → language code."""


def release_readme_statistics(readme: str | os.PathLike) -> pd.DataFrame:
    """The release README's "Dataset Statistics" table: index ``lang`` (ja, en, zh), columns
    ``dialogues`` and ``avg_utterances_per_dialogue`` (as printed) and ``decimals`` of the latter.
    Empty when the file or the table is missing."""
    rows = {}
    path = Path(readme)
    text = _readme_text(path)
    pattern = re.compile(
        r"^\|\s*(\w+)[^|]*\|\s*([\d,]+)\s*\|\s*(\d+(?:\.(\d+))?)\s*\|", re.MULTILINE
    )
    _check_table_rows(path, text, pattern)
    for name, dialogues, average, fraction in pattern.findall(text):
        if name in README_LANGUAGES:
            rows[README_LANGUAGES[name]] = {
                "dialogues": int(dialogues.replace(",", "")),
                "avg_utterances_per_dialogue": float(average),
                "decimals": len(fraction),
            }
    frame = pd.DataFrame.from_dict(
        rows, orient="index", columns=["dialogues", "avg_utterances_per_dialogue", "decimals"]
    )
    frame.index.name = "lang"
    return frame


def _readme_text(path: Path) -> str:
    """The README's text ("" when there is none); a clear error naming it when it cannot be read
    (a FIFO, a folder ...) or is not UTF-8."""
    if not (path.exists() or path.is_symlink()):
        return ""
    try:
        raw = read_bytes(path)
    except OSError as error:
        raise ValueError(f"{path}: cannot be read ({read_error_reason(error)})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path}: not UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start})"
        ) from None


def _check_table_rows(path: Path, text: str, pattern: re.Pattern) -> None:
    """Every table row naming a language must read ``| <language> | <dialogues> | <average> |``."""
    for number, line in enumerate(text.splitlines(), 1):
        first = re.match(r"^\|\s*(\w+)", line)
        if first and first.group(1) in README_LANGUAGES and not pattern.match(line):
            raise ValueError(
                f"{path}:{number}: statistics row not understood (expected "
                f"| {first.group(1)} | <dialogues> | <average utterances per dialogue> |): {line.strip()}"
            )


STATISTICS_FORMAT = 1
"""Bump when what :func:`release_file_statistics` caches per folder changes shape."""


def release_file_statistics(root: str | os.PathLike) -> pd.DataFrame:
    """What the release's files hold per language folder present under ``root``: ``dialogues``
    (session files), ``messages`` and ``avg_utterances_per_dialogue`` (messages / files). A folder's
    counts are kept in the cache under the content hash of its files
    (:meth:`~kokoro_analysis.corpus.sources.DataSource.fingerprint`)."""
    rows = {}
    for language, name in TRANSLATION_FOLDERS.items():
        folder = Path(root) / name
        if not folder.is_dir():
            continue
        files = tuple(
            f for f in translation_files(folder, language) if file_id(f.name, language) is not None
        )
        fingerprint = DataSource(f"release-{language}", folder, files).fingerprint()
        rows[language] = cached_value(
            "release-statistics",
            STATISTICS_FORMAT,
            [fingerprint],
            lambda files=files: _folder_statistics(files),
        )
    frame = pd.DataFrame.from_dict(
        rows, orient="index", columns=["dialogues", "messages", "avg_utterances_per_dialogue"]
    )
    frame.index.name = "lang"
    return frame


def _folder_statistics(files: tuple[Path, ...]) -> dict[str, float]:
    """Sessions, messages and messages per session of one language folder's files."""
    messages = 0
    for file in files:
        try:
            dialogue = orjson.loads(read_bytes(file)).get("dialogue")
        except (OSError, orjson.JSONDecodeError, AttributeError):
            continue  # reported by the alignment check
        messages += len(dialogue) if isinstance(dialogue, list) else 0
    return {
        "dialogues": len(files),
        "messages": messages,
        "avg_utterances_per_dialogue": messages / len(files) if files else float("nan"),
    }


CHECK_COLUMNS = (
    "claimed_dialogues",
    "files_dialogues",
    "claimed_avg_utterances",
    "files_avg_utterances",
    "agrees",
    "note",
)


def release_statistics_check(root: str | os.PathLike, corpus: Corpus) -> pd.DataFrame:
    """The release README's statistics against the files (``ja``: the corpus). One row per language
    in the README: ``claimed_*`` and ``files_*`` dialogues and average utterances per dialogue, the
    latter rounded half-up at the README's precision; ``agrees`` (None where the language's folder is
    absent) and ``note``."""
    claimed = release_readme_statistics(Path(root) / "README.md")
    measured = release_file_statistics(root)
    measured.loc["ja"] = {
        "dialogues": len(corpus.dialogues),
        "messages": len(corpus.utterances),
        "avg_utterances_per_dialogue": len(corpus.utterances) / max(len(corpus.dialogues), 1),
    }
    rows = [
        {"lang": language, **_checked_row(language, claimed, measured)}
        for language in claimed.index
    ]
    return pd.DataFrame(rows, columns=["lang", *CHECK_COLUMNS]).set_index("lang")


def _checked_row(language: str, claimed: pd.DataFrame, measured: pd.DataFrame) -> dict:
    """One language's row of :func:`release_statistics_check`."""
    claim = claimed.loc[language]
    row = {
        "claimed_dialogues": int(claim["dialogues"]),
        "claimed_avg_utterances": claim["avg_utterances_per_dialogue"],
    }
    if language not in measured.index:
        note = f"{TRANSLATION_FOLDERS[language]}/ not present: not checked"
        return {
            **row,
            "files_dialogues": pd.NA,
            "files_avg_utterances": np.nan,
            "agrees": None,
            "note": note,
        }
    files = measured.loc[language]
    average = float(round_half_up(files["avg_utterances_per_dialogue"], int(claim["decimals"])))
    notes = []
    if int(files["dialogues"]) != row["claimed_dialogues"]:
        same = [
            TRANSLATION_FOLDERS.get(other, "Japanese")
            for other in claimed.index[claimed["dialogues"] == files["dialogues"]]
        ]
        notes.append(
            f"the README prints {row['claimed_dialogues']:,} dialogues, the files hold "
            f"{int(files['dialogues']):,}" + (f" (the README's {same[0]} count)" if same else "")
        )
    if average != row["claimed_avg_utterances"]:
        notes.append(
            f"the README prints {row['claimed_avg_utterances']} utterances/dialogue, "
            f"the files give {average}"
        )
    return {
        **row,
        "files_dialogues": int(files["dialogues"]),
        "files_avg_utterances": average,
        "agrees": not notes,
        "note": "; ".join(notes) or "agrees",
    }


def release_check_summary(check: pd.DataFrame, readme: Path) -> str:
    """:func:`release_statistics_check` as text, one line per language."""
    if check.empty:
        return f"release README: no statistics table found ({readme})"
    lines = [f"release README statistics ({readme}):"]
    for language, row in check.iterrows():
        name = "Japanese (the corpus)" if language == "ja" else TRANSLATION_FOLDERS[language]
        lines.append(
            f"  {name}: README {row['claimed_dialogues']:,} dialogues, "
            f"{row['claimed_avg_utterances']} utterances/dialogue: {row['note']}"
        )
    return "\n".join(lines)
