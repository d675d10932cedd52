"""The corpus statistics of notebook 01 against what the authors report: each cell of the statistics
table next to its printed value, and the reproduction records
(:class:`kokoro_analysis.reported.Record`) of the statistics, the cross-corpus comparison and the
vocabulary.

The numbers themselves come from :mod:`kokoro_analysis.analyses.corpus_stats` and
:mod:`kokoro_analysis.text.lexical`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from kokoro_analysis.analyses.corpus_stats import PEERS, STAT_ROWS
from kokoro_analysis.corpus import schema
from kokoro_analysis.reported import Record, format_number, load_reported
from kokoro_analysis.text.compounds import RULE_NOTE

__all__ = [
    "ADDITIONAL_RECORDS",
    "NOT_OBTAINABLE_PEERS",
    "VOCABULARY_QUANTITIES",
    "additional_records",
    "peer_records",
    "statistics_records",
    "statistics_vs_reported",
    "vocabulary_records",
]


def statistics_vs_reported(table: pd.DataFrame) -> pd.DataFrame:
    """Each of the 15 cells of the statistics table, ours next to the authors' printed value.

    Columns: ``key`` (``stats.<row>.<column>``, "" for the "–" cells), ``statistic``, ``role``,
    ``reported`` (as printed), ``ours`` (unrounded), ``ours_printed`` (at the reported precision)
    and ``same_as_printed`` (bool; true for "–" cells that are empty on both sides).
    """
    reported = load_reported()
    rows = []
    for statistic, values in table.iterrows():
        _, label_en, decimals = STAT_ROWS[str(statistic)]
        for role in schema.ROLE_COLUMNS:
            ours = values[role]
            key = f"stats.{statistic}.{role}"
            if key not in reported.index:
                rows.append(
                    [
                        None,
                        label_en,
                        role,
                        "–",
                        ours,
                        "–" if pd.isna(ours) else f"{ours:,.{decimals}f}",
                        bool(pd.isna(ours)),
                    ]
                )
                continue
            ref = reported.loc[key]
            printed = format_number(float(ref["value"]), int(ref["decimals"]))
            mine = format_number(ours, int(ref["decimals"]))
            rows.append([key, label_en, role, printed, ours, mine, printed == mine])
    return pd.DataFrame(
        rows,
        columns=["key", "statistic", "role", "reported", "ours", "ours_printed", "same_as_printed"],
    )


def statistics_records(table: pd.DataFrame) -> list[Record]:
    """The reported numbers of the statistics table (keys ``stats.<row>.<column>``, counts as ``int``);
    the "–" cells are left out."""
    return [
        Record(f"stats.{statistic}.{role}", int(value) if STAT_ROWS[statistic][2] == 0 else value)
        for statistic, values in table.iterrows()
        for role, value in values.items()
        if pd.notna(value)
    ]


ADDITIONAL_RECORDS: dict[str, tuple[type, str | None, str]] = {
    "people_both_roles": (
        int,
        "People who played both roles (the same person id as counselor and as client)",
        "count",
    ),
    "avg_turns_per_dialogue.total": (
        float,
        "Mean merged turns per dialogue (consecutive messages of one speaker merged)",
        "turns",
    ),
    "collection.first_year": (int, None, ""),
    "collection.last_year": (int, None, ""),
    "feedback_items": (int, None, ""),
}
"""Rows of :func:`~kokoro_analysis.analyses.corpus_stats.additional_statistics` recorded as
``stats.<row>`` → (value type, quantity, unit); quantity ``None`` for the numbers the authors report
(described in reported.csv)."""


def additional_records(additional: pd.DataFrame) -> list[Record]:
    """The recorded rows of :func:`~kokoro_analysis.analyses.corpus_stats.additional_statistics`
    (:data:`ADDITIONAL_RECORDS`)."""
    return [
        Record(f"stats.{row}", kind(additional.loc[row, "value"]), quantity=quantity, unit=unit)
        for row, (kind, quantity, unit) in ADDITIONAL_RECORDS.items()
    ]


NOT_OBTAINABLE_PEERS = ("augesc", "client_reactions")
"""Peer datasets whose data is not obtainable here (every number logged as not reproducible)."""


def peer_records(measured: Mapping[str, Mapping[str, object]]) -> list[Record]:
    """The reproduction records of the comparison table (keys ``peers.<dataset>.<field>``) from the
    ``measured`` cells given to :func:`~kokoro_analysis.analyses.corpus_stats.comparison_table`:
    KokoroChat's numbers; ESConv's when its data was found (not computed from KokoroChat, so a subset
    run leaves them as matches); every other number, and the qualitative cells (manual, language), as
    not reproducible."""
    kokoro = measured["kokorochat"]
    records = [
        Record("peers.kokorochat.dialogues", int(kokoro["dialogues"])),
        Record(
            "peers.kokorochat.avg_turns",
            float(kokoro["avg_utterances_per_dialogue"]),
            note="stored utterances per dialogue",
        ),
        Record("peers.kokorochat.rating_items", int(kokoro["rating_items"])),
    ]
    if "esconv" in measured:
        esconv = measured["esconv"]
        records += [
            Record("peers.esconv.dialogues", int(esconv["dialogues"]), from_corpus=False),
            Record(
                "peers.esconv.avg_turns",
                float(esconv["avg_utterances_per_dialogue"]),
                note="stored utterances per dialogue, from the Hugging Face conversion",
                from_corpus=False,
            ),
        ]
    else:
        records += _not_reproducible(
            ["peers.esconv.dialogues", "peers.esconv.avg_turns"],
            "ESConv data not found (peers_dir / KOKORO_PEERS_DIR)",
        )
    records += _not_reproducible(
        ["peers.esconv.rating_items"], "which survey fields the authors count is not stated"
    )
    records += _not_reproducible(
        [
            f"peers.{peer}.{field}"
            for peer in NOT_OBTAINABLE_PEERS
            for field in ("dialogues", "avg_turns", "rating_items")
        ],
        "data not obtainable",
    )
    records += _not_reproducible(
        [f"peers.{peer}.{field}" for peer in PEERS for field in ("manual", "language")],
        "qualitative property, shown as reported",
    )
    return records


def _not_reproducible(keys: list[str], note: str) -> list[Record]:
    return [Record(key, None, expect="not_reproducible", note=note) for key in keys]


VOCABULARY_QUANTITIES = {
    "tokens": ("MeCab tokens", "tokens"),
    "surfaces": ("Distinct surface forms", "types"),
    "lemmas": ("Distinct lemmas", "types"),
}
"""Recorded totals of :func:`kokoro_analysis.text.lexical.vocabulary_table` → (quantity, unit)."""


def vocabulary_records(vocabulary: pd.DataFrame) -> list[Record]:
    """The records of :func:`kokoro_analysis.text.lexical.vocabulary_table`: token and vocabulary
    totals (``lexical.<column>.total``) and Dist-1/Dist-2 by role (``lexical.dist_<n>.<role>``, 0-100);
    none is reported by the authors."""
    totals = [
        Record(
            f"lexical.{column}.total",
            int(vocabulary.loc["total", column]),
            quantity=f"{quantity} (all messages)",
            unit=unit,
            note=RULE_NOTE,
        )
        for column, (quantity, unit) in VOCABULARY_QUANTITIES.items()
    ]
    distinct = [
        Record(
            f"lexical.dist_{n}.{role}",
            float(vocabulary.loc[role, f"dist_{n}"]),
            quantity=f"Corpus-level Dist-{n} of {role} messages (MeCab surfaces)",
            unit="x100",
            note=RULE_NOTE,
        )
        for role in schema.ROLES
        for n in (1, 2)
    ]
    return totals + distinct
