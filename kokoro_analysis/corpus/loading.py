"""Load KokoroChat into tidy pandas tables, validating every record
(:mod:`kokoro_analysis.corpus.parsing`), through the load cache (:mod:`kokoro_analysis.cache`).

``load_corpus()`` returns a :class:`Corpus` with

* ``dialogues``: one row per session, indexed by ``dialogue_id`` (the file stem, equal to the review's
  ``evaluation_id``);
* ``utterances``: one row per stored message (an *utterance*; consecutive messages of one speaker are
  not merged), in session order;
* ``items``: the 20 feedback items with Japanese and English labels and their block.

``Corpus.turns()`` merges consecutive messages of one speaker into *turns*. Lengths are characters of
the unnormalised text.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from kokoro_analysis.cache import CacheEntry, cache_key, read_entry, write_entry
from kokoro_analysis.corpus import parsing, schema
from kokoro_analysis.corpus.sources import DataSource, find_data
from kokoro_analysis.corpus.validation import KokoroDataError, ValidationReport
from kokoro_analysis.paths import usable_cache_dir

CACHE_KIND = "corpus"
CACHE_FORMAT = 4
"""Bump when the cached table layout changes, so old caches are not read."""
CACHE_TABLES = ("dialogues", "utterances")


@dataclass
class Corpus:
    """The loaded corpus: ``dialogues``, ``utterances`` and ``items`` tables plus the validation report."""

    dialogues: pd.DataFrame
    utterances: pd.DataFrame
    report: ValidationReport
    source: DataSource | None = None
    subset_name: str = "all"
    items: pd.DataFrame = field(default_factory=schema.item_table)
    data_key: str | None = None
    """:meth:`DataSource.key` of the bytes this corpus was parsed from (the load cache's key)."""

    def __repr__(self) -> str:
        return (
            f"Corpus({len(self.dialogues):,} sessions, {len(self.utterances):,} utterances, "
            f"subset={self.subset_name!r})"
        )

    def subset(self, name: str) -> Corpus:
        """The sessions of score subset ``name`` ("all", "low", "high", "full", "test"; see ``schema.SUBSETS``)."""
        return replace(self.restrict(self.subset_ids(name)), subset_name=name)

    def subset_ids(self, name: str) -> pd.Index:
        """The dialogue ids of score subset ``name`` (without copying any table)."""
        return self.dialogues.index[schema.subset_mask(self.dialogues["score"], name)]

    def restrict(self, dialogue_ids) -> Corpus:
        """The corpus restricted to ``dialogue_ids`` (tables keep their order)."""
        keep = self.dialogues.index.isin(pd.Index(dialogue_ids))
        dialogues = self.dialogues[keep]
        utterances = self.utterances[self.utterances["dialogue_id"].isin(dialogues.index)]
        return replace(self, dialogues=dialogues, utterances=utterances)

    def turns(self, sep: str = "\n") -> pd.DataFrame:
        """Merge consecutive utterances of one speaker into turns (see :func:`merge_turns`)."""
        return merge_turns(self.utterances, sep=sep)


def merge_turns(utterances: pd.DataFrame, sep: str = "\n") -> pd.DataFrame:
    """One row per *turn*: a maximal run of consecutive utterances by the same speaker in a session.

    Columns: ``dialogue_id``, ``turn`` (0-based index in the session), ``role``, ``text`` (the messages
    joined with ``sep``), ``n_messages``, ``start_time``, ``end_time`` (of the first and last message)
    and ``length`` (characters of the merged text, separators included).
    """
    ids = utterances["dialogue_id"].to_numpy()
    first = np.flatnonzero(turn_starts(utterances))
    last = np.append(first[1:], len(ids)) - 1
    texts = utterances["text"].tolist()
    times = utterances["time"].to_numpy()
    turns = pd.DataFrame(
        {
            "dialogue_id": ids[first],
            "role": utterances["role"].to_numpy()[first],
            "text": pd.Series(
                [sep.join(texts[a : b + 1]) for a, b in zip(first, last)], dtype="str"
            ),
            "n_messages": (last - first + 1).astype(np.int32),
            "start_time": times[first],
            "end_time": times[last],
        }
    )
    turns["role"] = pd.Categorical(turns["role"], categories=schema.ROLES)
    turns.insert(1, "turn", turns.groupby("dialogue_id").cumcount())
    turns["length"] = turns["text"].str.len()
    return turns


def turn_starts(utterances: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the messages that start a *turn*: the first message of a session, or one whose
    speaker differs from the previous message's. ``utterances`` must be in session order (as
    ``Corpus.utterances``); :func:`turn_numbers` numbers the turns."""
    ids = utterances["dialogue_id"].to_numpy()
    roles = utterances["role"]
    codes = (
        roles.cat.codes.to_numpy()
        if isinstance(roles.dtype, pd.CategoricalDtype)
        else roles.to_numpy(dtype=object)
    )
    starts = np.ones(len(ids), dtype=bool)
    starts[1:] = (ids[1:] != ids[:-1]) | (codes[1:] != codes[:-1])
    return starts


def turn_numbers(utterances: pd.DataFrame) -> np.ndarray:
    """For each message of ``utterances`` (in session order), the 0-based row of its turn in
    :func:`merge_turns` of the same table (turns numbered over all sessions)."""
    return np.cumsum(turn_starts(utterances)) - 1


def load_corpus(
    path: str | os.PathLike | None = None,
    *,
    strict: bool = True,
    cache: bool = True,
    clone: bool = True,
) -> Corpus:
    """Find, read and validate KokoroChat; return a :class:`Corpus`.

    ``strict=True`` raises :class:`KokoroDataError` naming file, message index and field of every
    problem. ``strict=False`` skips each session with a problem and reports them in ``corpus.report``
    (the skipped count is also printed). A valid corpus is cached (:mod:`kokoro_analysis.cache`), keyed
    by a content hash of every data file (:meth:`DataSource.fingerprint`); what is parsed is keyed by
    the bytes actually read, so a file edited during the load never leaves stale tables behind.
    An unusable cache folder is reported in one line and the corpus is loaded without it.
    """
    source = find_data(path, clone=clone)
    if cache:
        cached = _read_cache(source)
        if cached is not None:
            return cached
    dialogues, utterances, report, data_key = parsing.parse_data(source)
    if report.problems:
        if strict:
            raise KokoroDataError.from_problems(report.problems)
        print(
            f"kokoro_analysis: skipped {report.sessions_skipped} of {report.sessions_seen} sessions "
            f"with {len(report.problems)} problem(s) (`kokoro-analysis validate` lists them)",
            flush=True,
        )
        bad = set(report.skipped_files)
        good_ids = dialogues.index[~dialogues["file"].isin(bad)]
        dialogues = _restore_types(dialogues.loc[good_ids])
        utterances = utterances[utterances["dialogue_id"].isin(good_ids)].reset_index(drop=True)
    dialogues = dialogues.drop(columns="file")
    corpus = Corpus(dialogues, utterances, report, source, data_key=data_key)
    if cache and report.ok:
        _write_cache(corpus)
    return corpus


def _restore_types(dialogues: pd.DataFrame) -> pd.DataFrame:
    """Integer columns as integers again once the sessions with invalid values are dropped."""
    columns = [
        c for c in ("client_id", "counselor_id", "score", *schema.ITEM_KEYS) if c in dialogues
    ]
    return dialogues.astype(dict.fromkeys(columns, np.int64)) if len(dialogues) else dialogues


# --- cache ---------------------------------------------------------------------------------------


def _cache_entries(folder: Path, data_key: str) -> dict[str, CacheEntry]:
    """The cache entries in ``folder`` of the tables parsed from the bytes of ``data_key`` (one per
    table of :data:`CACHE_TABLES`)."""
    return {
        name: CacheEntry(folder, f"{CACHE_KIND} {name}", CACHE_FORMAT, cache_key(name, data_key))
        for name in CACHE_TABLES
    }


def _read_cache(source: DataSource) -> Corpus | None:
    """The cached corpus of ``source``'s current content (:meth:`DataSource.fingerprint`), or None
    (an entry that does not verify is removed, so that this load rewrites it)."""
    folder = usable_cache_dir(CACHE_KIND)
    if folder is None:
        return None
    key = source.fingerprint()
    tables = {}
    for name, entry in _cache_entries(folder, key).items():
        found = read_entry(entry)
        if found is None:
            return None
        tables[name] = found
    sessions = tables["dialogues"][1]["sessions"]
    report = ValidationReport(source=str(source.path), sessions_seen=sessions)
    frames = {name: table.to_pandas() for name, (table, _) in tables.items()}
    return Corpus(frames["dialogues"], frames["utterances"], report, source, data_key=key)


def _write_cache(corpus: Corpus) -> None:
    """Write the tables under the key of the bytes they were parsed from (atomically; a failure, such
    as a full disk, is reported, not raised). Uncompressed: every notebook reads them (0.12 s instead
    of 0.23 for the utterances), and the first load writes them in 0.15 s instead of 0.34 (57 MB
    instead of 20)."""
    import pyarrow as pa

    folder = usable_cache_dir(CACHE_KIND)
    if folder is None:
        return
    extra = {"sessions": len(corpus.dialogues)}
    for name, entry in _cache_entries(folder, corpus.data_key).items():
        table = pa.Table.from_pandas(getattr(corpus, name))
        if not write_entry(entry, table, extra, compression="none"):
            return
