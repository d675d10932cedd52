"""Multilingual KokoroChat aligned with the corpus: the official English and Chinese translations
of every message, found (:mod:`~kokoro_analysis.corpus.translation_sources`), checked
(:mod:`~kokoro_analysis.corpus.translation_check`) and cached, and the corpus in translation.

Each release file repeats session ``<ID>``: ``dialogue`` (messages with ``role``, ``time``, ``origin``
= the Japanese text, ``content`` = the translation), ``topic`` and ``review_by_client``. A
*translation* is one language of the release, named by its code (``"en"``, ``"zh"``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pyarrow as pa

from kokoro_analysis.cache import CacheEntry, cache_key, read_entry, write_entry
from kokoro_analysis.corpus.loading import Corpus, turn_numbers
from kokoro_analysis.corpus.translation_check import (
    AlignedTexts,
    TranslationCoverage,
    validate_translations,
)
from kokoro_analysis.corpus.translation_sources import TranslationSource, find_translations
from kokoro_analysis.corpus.validation import DataNotFoundError, KokoroDataError
from kokoro_analysis.paths import usable_cache_dir

CACHE_KIND = "translations"
CACHE_FORMAT = 2
"""Bump when the cached table layout changes."""
STATUSES = ("translated", "empty", "no_translation", "invalid")
"""Per-message status in :meth:`Translations.for_utterances`: a non-empty translation; an empty (or
blank) ``content``; the session has no file in the release; the file was skipped in lenient mode."""


@dataclass
class Translations:
    """One translation (``translation``: "en" or "zh") of the release aligned with a corpus.

    ``table``: one row per message of the translated sessions: ``dialogue_id``, ``position`` (0-based
    index in the session, as ``Corpus.utterances``), ``translation`` (the release's ``content``,
    unchanged). ``coverage``: see :class:`TranslationCoverage`.
    """

    translation: str
    table: pd.DataFrame
    coverage: TranslationCoverage
    source: TranslationSource | None = None

    def for_utterances(self, utterances: pd.DataFrame) -> pd.DataFrame:
        """One row per row of ``utterances`` (same index): ``dialogue_id``, ``position``, ``role``,
        ``text`` (Japanese), ``translation`` (missing where there is none: no file, a skipped file or
        an empty/blank ``content``) and ``status`` (:data:`STATUSES`)."""
        key = pd.MultiIndex.from_arrays([utterances["dialogue_id"], utterances["position"]])
        own = pd.MultiIndex.from_arrays([self.table["dialogue_id"], self.table["position"]])
        where = own.get_indexer(key)
        found = where >= 0
        texts = self.table["translation"].to_numpy(dtype=object)
        values = np.where(found, texts[np.maximum(where, 0)] if len(texts) else None, None)
        blank = found & np.array(
            [not (isinstance(t, str) and t.strip()) for t in values], dtype=bool
        )
        skipped = utterances["dialogue_id"].isin(self.coverage.skipped_ids).to_numpy()
        status = np.select(
            [found & ~blank, blank, skipped], STATUSES[:2] + STATUSES[3:], STATUSES[2]
        )
        values[~found | blank] = None
        frame = utterances[["dialogue_id", "position", "role", "text"]].copy()
        frame["translation"] = pd.Series(values, index=utterances.index, dtype="str")
        frame["status"] = pd.Categorical(status, categories=STATUSES)
        return frame


def load_translations(
    corpus: Corpus,
    translation: str = "en",
    path: str | os.PathLike | None = None,
    *,
    strict: bool = True,
    cache: bool = True,
    clone: bool = True,
) -> Translations:
    """Find, read and align the release's ``translation`` ("en", "zh") with ``corpus``.

    ``path``: as :func:`~kokoro_analysis.corpus.translation_sources.find_translations`.
    ``strict=True`` raises :class:`KokoroDataError` naming file, message index and field of every
    mismatch; ``strict=False`` skips each file with a problem and lists it in ``coverage`` (the count is
    printed). Files whose id is not a session of ``corpus`` are listed in ``coverage.unmatched_ids``
    (normal for a subset). An aligned result is cached (:mod:`kokoro_analysis.cache`), keyed by the
    content of the files and by the corpus (its data and its sessions).
    """
    source = find_translations(path, translation, clone=clone)
    entry = _cache_entry(source, corpus) if cache else None
    found = read_entry(entry) if entry is not None else None
    if found is not None:
        table, stored = found
        return Translations(
            translation,
            table.to_pandas(),
            TranslationCoverage.from_dict(stored["coverage"]),
            source,
        )
    aligned = validate_translations(corpus, source)
    coverage = aligned.coverage
    if coverage.problems and strict:
        raise KokoroDataError.from_problems(coverage.problems)
    if coverage.problems:
        print(
            f"kokoro_analysis: skipped {len(coverage.skipped_ids)} translated session(s) with "
            f"{len(coverage.problems)} mismatch(es) (`kokoro-analysis translations` lists them)",
            flush=True,
        )
    result = Translations(translation, _table(aligned), coverage, source)
    if entry is not None and not coverage.problems:
        write_entry(entry, pa.Table.from_pandas(result.table), {"coverage": coverage.to_dict()})
    return result


def _table(aligned: AlignedTexts) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dialogue_id": np.asarray(aligned.dialogue_ids, dtype=np.int64),
            "position": np.asarray(aligned.positions, dtype=np.int32),
            "translation": pd.Series(aligned.texts, dtype="str"),
        }
    )


def _cache_entry(source: TranslationSource, corpus: Corpus) -> CacheEntry | None:
    """This alignment's cache entry; None for a corpus not loaded from data (no ``data_key``) or
    without a usable cache folder (said once)."""
    if corpus.data_key is None:
        return None
    folder = usable_cache_dir(CACHE_KIND)
    if folder is None:
        return None
    ids = np.sort(corpus.dialogues.index.to_numpy(dtype=np.int64))
    key = cache_key(source.translation, source.fingerprint(), corpus.data_key, ids.tobytes())
    return CacheEntry(folder, CACHE_KIND, CACHE_FORMAT, key)


def translated_corpus(corpus: Corpus, translations: Translations) -> tuple[Corpus, dict]:
    """``corpus`` with every message's text replaced by its translation, for exports and analyses in
    the translation's language.

    Dropped: sessions without a file (``no_translation``), skipped in lenient mode (``invalid``), or
    with a turn none of whose messages is translated (``untranslated_turn``); and, in the kept
    sessions, the messages with an empty translation (``empty_messages``: the translators merged
    such fragments into a neighbouring message). Every kept turn keeps its speaker and index, so
    ``turns()`` and the fine-tuning example ids are those of the original. ``position`` stays the
    original index; ``length`` counts characters of the translation; the dialogues table (scores,
    items, topics, message counts) is the original's. Returns the corpus and the dropped ids/count.
    """
    utterances = corpus.utterances
    frame = translations.for_utterances(utterances)
    translated = (frame["status"] == "translated").to_numpy()
    turn_number = turn_numbers(utterances)
    covered = np.bincount(
        turn_number, weights=translated, minlength=turn_number.max() + 1 if len(turn_number) else 0
    )
    ids = utterances["dialogue_id"].to_numpy()
    has_file = ~frame["status"].isin(["no_translation", "invalid"]).to_numpy()
    gap_turn = has_file & (covered[turn_number] == 0)
    dropped = {
        "no_translation": [
            int(i) for i in translations.coverage.missing_ids if i in corpus.dialogues.index
        ],
        "invalid": [
            int(i) for i in translations.coverage.skipped_ids if i in corpus.dialogues.index
        ],
        "untranslated_turn": sorted({int(i) for i in ids[gap_turn]}),
    }
    drop_ids = [i for reason in dropped.values() for i in reason]
    in_kept = ~np.isin(ids, drop_ids)
    dropped["empty_messages"] = int((in_kept & ~translated).sum())
    keep = in_kept & translated
    mine = utterances[keep].copy()
    mine["text"] = frame.loc[keep, "translation"]
    mine["length"] = mine["text"].str.len().astype(np.int32)
    dialogues = corpus.dialogues[~corpus.dialogues.index.isin(drop_ids)]
    return replace(corpus, dialogues=dialogues, utterances=mine.reset_index(drop=True)), dropped


def available_translations(
    corpus: Corpus, translation: str = "en", path: str | os.PathLike | None = None
) -> Translations | None:
    """The aligned translations when they are at hand (``path``, else ``$KOKOROCHAT_TRANSLATIONS``,
    else ``data/MultilingualKokoroChat``; never cloned), else None. A given ``path`` that holds no
    translations and a release that does not align with ``corpus`` still raise."""
    if path is None:
        try:
            path = find_translations(None, translation, clone=False).folder
        except DataNotFoundError:
            return None
    return load_translations(corpus, translation, path, clone=False)
