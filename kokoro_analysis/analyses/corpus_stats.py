"""Corpus statistics of KokoroChat computed from the data: the authors' statistics table, the
cross-corpus comparison and the distributions behind them (messages, lengths, durations, response
times, people). Their comparison with the reported values and the reproduction records are in
:mod:`kokoro_analysis.analyses.corpus_stats_reported`; how notebook 01 prints them (labels,
published tables) in :mod:`kokoro_analysis.analyses.corpus_stats_tables`.

Definitions (the authors'):

* an *utterance* is one stored message; consecutive messages of one speaker are **not** merged
  (a *turn* merges them: see :func:`kokoro_analysis.corpus.measures.turns_per_session`);
* *length* is ``len()`` of the unnormalised message text, in characters;
* *speakers* are the distinct ``counselor_id`` / ``client_id`` values; the ids share one id space
  (one person can play both roles), so the total is the size of the **union** of the two id sets;
* per-role averages per dialogue divide that role's utterances by **all** dialogues.

Everything here is vectorised over the utterance table (600,939 rows): no Python loop per message.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.loading import Corpus
from kokoro_analysis.corpus.measures import response_times, turns_per_session
from kokoro_analysis.reported import load_reported
from kokoro_analysis.stats.distributions import describe_many

__all__ = [
    "COMPARISON_COLUMNS",
    "PEERS",
    "STAT_ROWS",
    "additional_statistics",
    "characters_per_message",
    "comparison_table",
    "distribution_summary",
    "distribution_values",
    "kokorochat_comparison_row",
    "messages_per_session",
    "people_roles",
    "response_times_by_role",
    "sessions_per_person",
    "sessions_per_year",
    "statistics_table",
]


STAT_ROWS: dict[str, tuple[str, str, int]] = {
    "dialogues": ("対話数", "# Dialogues", 0),
    "speakers": ("話者数", "# Speakers", 0),
    "utterances": ("発話数", "# Utterances", 0),
    "avg_utterances_per_dialogue": ("対話あたりの平均発話数", "Avg. utterances / dialogue", 2),
    "avg_chars_per_utterance": (
        "発話あたりの平均文字数",
        "Avg. length / utterance (characters)",
        2,
    ),
}
"""Rows of the authors' statistics table: key (as in ``reported.csv``: ``stats.<row>.<column>``) →
(Japanese label, English label, printed decimals)."""


# --------------------------------------------------------------------------- the statistics table


def statistics_table(corpus: Corpus) -> pd.DataFrame:
    """The authors' corpus statistics table computed from ``corpus``.

    Index: the row keys of :data:`STAT_ROWS`; columns :data:`schema.ROLE_COLUMNS`; float values, NaN where
    the authors print "–" (dialogues by role). ``stats.<row>.<column>`` is the reported-value key.
    """
    dialogues, utterances = corpus.dialogues, corpus.utterances
    n_dialogues = len(dialogues)
    counselors = set(dialogues["counselor_id"].unique())
    clients = set(dialogues["client_id"].unique())
    counts = _role_counts(utterances)
    lengths = utterances.groupby("role", observed=False)["length"].sum()
    chars = {
        "total": float(lengths.sum()),
        **{role: float(lengths.get(role, 0)) for role in schema.ROLES},
    }
    table = pd.DataFrame(index=list(STAT_ROWS), columns=list(schema.ROLE_COLUMNS), dtype=float)
    table.loc["dialogues"] = [n_dialogues, np.nan, np.nan]
    table.loc["speakers"] = [len(counselors | clients), len(counselors), len(clients)]
    table.loc["utterances"] = [counts[c] for c in schema.ROLE_COLUMNS]
    table.loc["avg_utterances_per_dialogue"] = [
        _ratio(counts[c], n_dialogues) for c in schema.ROLE_COLUMNS
    ]
    table.loc["avg_chars_per_utterance"] = [
        _ratio(chars[c], counts[c]) for c in schema.ROLE_COLUMNS
    ]
    table.index.name = "statistic"
    return table


def _role_counts(utterances: pd.DataFrame) -> dict[str, int]:
    """Messages in total and per role."""
    per_role = utterances["role"].value_counts()
    return {"total": len(utterances), **{role: int(per_role.get(role, 0)) for role in schema.ROLES}}


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / denominator if denominator else np.nan


def additional_statistics(corpus: Corpus) -> pd.DataFrame:
    """Quantities the authors' table does not print but that define it: people in both roles,
    people in one role only, merged turns per dialogue (total and per role), messages per turn, the
    first and last collection year (of the sessions' first messages) and the feedback items answered in
    every session (items with a value in all sessions).

    Index: a short key; columns ``quantity``, ``value``.
    """
    people = people_roles(corpus)
    turns = turns_per_session(corpus.utterances)
    n_dialogues = len(corpus.dialogues)
    rows = {
        "people_both_roles": (
            "People who played both roles (counselor and client ids)",
            int(((people["as_counselor"] > 0) & (people["as_client"] > 0)).sum()),
        ),
        "people_counselor_only": (
            "People who were only counselors",
            int((people["as_client"] == 0).sum()),
        ),
        "people_client_only": (
            "People who were only clients",
            int((people["as_counselor"] == 0).sum()),
        ),
        "avg_turns_per_dialogue.total": (
            "Avg. merged turns / dialogue (total)",
            _ratio(turns["total"].sum(), n_dialogues),
        ),
        "avg_turns_per_dialogue.counselor": (
            "Avg. merged turns / dialogue (counselor)",
            _ratio(turns["counselor"].sum(), n_dialogues),
        ),
        "avg_turns_per_dialogue.client": (
            "Avg. merged turns / dialogue (client)",
            _ratio(turns["client"].sum(), n_dialogues),
        ),
        "messages_per_turn": (
            "Avg. messages / merged turn",
            _ratio(len(corpus.utterances), turns["total"].sum()),
        ),
        "collection.first_year": ("First year of collection", int(corpus.dialogues["year"].min())),
        "collection.last_year": ("Last year of collection", int(corpus.dialogues["year"].max())),
        "feedback_items": (
            "Feedback items answered in every session",
            int(corpus.dialogues[list(schema.ITEM_KEYS)].notna().all().sum()),
        ),
    }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["quantity", "value"])
    frame.index.name = "key"
    return frame


# --------------------------------------------------------------------------- people


def people_roles(corpus: Corpus) -> pd.DataFrame:
    """One row per person id (``client_id`` and ``counselor_id`` share one id space): sessions as
    counselor and as client. Index ``person_id`` (sorted)."""
    dialogues = corpus.dialogues
    as_counselor = dialogues["counselor_id"].value_counts()
    as_client = dialogues["client_id"].value_counts()
    frame = (
        pd.DataFrame({"as_counselor": as_counselor, "as_client": as_client})
        .fillna(0)
        .astype(np.int64)
    )
    frame.index.name = "person_id"
    return frame.sort_index()


def sessions_per_person(corpus: Corpus) -> dict[str, pd.Series]:
    """Sessions per distinct ``counselor_id`` and per distinct ``client_id`` (people with ≥ 1 session in
    that role)."""
    dialogues = corpus.dialogues
    return {
        "counselor": dialogues["counselor_id"].value_counts().sort_index(),
        "client": dialogues["client_id"].value_counts().sort_index(),
    }


def sessions_per_year(corpus: Corpus) -> pd.Series:
    """Sessions per calendar year of their first message (``start_time``), all years between the first
    and the last present (0 where none)."""
    years = corpus.dialogues["year"].dropna().astype(int)
    if years.empty:
        return pd.Series(dtype=np.int64, name="sessions")
    counts = years.value_counts().reindex(range(years.min(), years.max() + 1), fill_value=0)
    counts.index = counts.index.astype(int)
    counts.index.name = "year"
    return counts.rename("sessions")


# --------------------------------------------------------------------------- distributions


def messages_per_session(corpus: Corpus) -> dict[str, pd.Series]:
    """Stored messages per session: ``total``, ``counselor``, ``client`` (Series indexed by dialogue_id)."""
    dialogues = corpus.dialogues
    return {
        "total": dialogues["n_messages"],
        "counselor": dialogues["n_counselor_messages"],
        "client": dialogues["n_client_messages"],
    }


def characters_per_message(corpus: Corpus) -> dict[str, pd.Series]:
    """Characters (``len()`` of the unnormalised text) of each message: ``total`` and per role."""
    utterances = corpus.utterances
    roles = utterances["role"]
    return {
        "total": utterances["length"],
        **{role: utterances["length"][roles == role] for role in schema.ROLES},
    }


def response_times_by_role(corpus: Corpus) -> dict[str, pd.Series]:
    """Response times in seconds (see :func:`~kokoro_analysis.corpus.measures.response_times`) of
    counselors and of clients."""
    return {role: response_times(corpus.utterances, role)["seconds"] for role in schema.ROLES}


def distribution_values(corpus: Corpus) -> dict[str, tuple[str, pd.Series]]:
    """The distributions of the notebook: name → (unit, values). Messages and characters per role,
    session length, response times (see :func:`~kokoro_analysis.corpus.measures.response_times`),
    sessions per year / per person."""
    people = people_roles(corpus)
    both = people[(people["as_counselor"] > 0) & (people["as_client"] > 0)]
    per_person = sessions_per_person(corpus)
    values: dict[str, tuple[str, pd.Series]] = {}
    for role, series in messages_per_session(corpus).items():
        values[f"messages per session ({role})"] = ("messages", series)
    for role, series in characters_per_message(corpus).items():
        values[f"characters per message ({role})"] = ("characters", series)
    values["session length"] = ("minutes", corpus.dialogues["duration_min"])
    for role, series in response_times_by_role(corpus).items():
        values[f"{role} response time"] = ("seconds", series)
    values["sessions per year"] = ("sessions", sessions_per_year(corpus))
    values["sessions per counselor id"] = ("sessions", per_person["counselor"])
    values["sessions per client id"] = ("sessions", per_person["client"])
    values["sessions as counselor (people in both roles)"] = ("sessions", both["as_counselor"])
    values["sessions as client (people in both roles)"] = ("sessions", both["as_client"])
    return values


def distribution_summary(corpus: Corpus) -> pd.DataFrame:
    """:func:`kokoro_analysis.stats.distributions.describe_many` over :func:`distribution_values`."""
    values = distribution_values(corpus)
    return describe_many(
        {k: v for k, (_, v) in values.items()}, {k: u for k, (u, _) in values.items()}
    )


# --------------------------------------------------------------------------- cross-corpus comparison

PEERS = {
    "augesc": "AugESC",
    "esconv": "ESConv",
    "client_reactions": "Client-Reactions",
    "kokorochat": "KokoroChat",
}
"""Datasets of the authors' comparison table (reported.csv keys ``peers.<key>.*``) → display name."""

COMPARISON_COLUMNS = [
    "dataset",
    "manual",
    "rating_items",
    "language",
    "dialogues",
    "avg_utterances_per_dialogue",
    "avg_turns_per_dialogue",
    "length_unit",
    "avg_length_counselor",
    "avg_length_client",
    "source",
]


def comparison_table(measured: Mapping[str, Mapping[str, object]] | None = None) -> pd.DataFrame:
    """The authors' corpus comparison, with our measurements where data is available.

    ``measured``: dataset key (``"kokorochat"``, ``"esconv"``) → dict with any of ``dialogues``,
    ``avg_utterances_per_dialogue`` (stored utterances / dialogues: the authors' "avg. turns"),
    ``avg_turns_per_dialogue`` (consecutive messages of one speaker merged), ``length_unit``,
    ``avg_length_counselor``/``avg_length_client`` (counselor = ESConv's supporter ``sys``, client =
    seeker ``usr``), ``rating_items``. Other cells come from ``reported.csv`` (marked in ``source``).
    Columns: :data:`COMPARISON_COLUMNS`.
    """
    reported = load_reported()
    measured = measured or {}
    rows = []
    for key, name in PEERS.items():
        ours = measured.get(key, {})

        def value(field: str, _key: str = key) -> object:
            ref = reported.loc[f"peers.{_key}.{field}"]
            return ref["printed"] if pd.isna(ref["value"]) else ref["value"]

        rows.append(
            {
                "dataset": name,
                "manual": value("manual"),
                "rating_items": int(ours.get("rating_items", value("rating_items"))),
                "language": value("language"),
                "dialogues": int(ours.get("dialogues", value("dialogues"))),
                "avg_utterances_per_dialogue": float(
                    ours.get("avg_utterances_per_dialogue", value("avg_turns"))
                ),
                "avg_turns_per_dialogue": float(ours.get("avg_turns_per_dialogue", np.nan)),
                "length_unit": ours.get("length_unit", ""),
                "avg_length_counselor": float(ours.get("avg_length_counselor", np.nan)),
                "avg_length_client": float(ours.get("avg_length_client", np.nan)),
                "source": _comparison_source(key, ours),
            }
        )
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def _comparison_source(key: str, ours: Mapping[str, object]) -> str:
    if not ours and key == "esconv":
        return "reported (secondary source); ESConv data not found"
    if not ours:
        return "reported (secondary source)"
    if "rating_items" not in ours:
        return "computed from the data (manual, rating items, language: reported)"
    return "computed from the data (manual, language: reported)"


def kokorochat_comparison_row(
    corpus: Corpus, table: pd.DataFrame, additional: pd.DataFrame
) -> dict[str, object]:
    """KokoroChat's measured cells of :func:`comparison_table`, from the already computed
    :func:`statistics_table` and :func:`additional_statistics` of ``corpus``."""
    return {
        "dialogues": len(corpus.dialogues),
        "rating_items": len(corpus.items),
        "avg_utterances_per_dialogue": table.loc["avg_utterances_per_dialogue", "total"],
        "avg_turns_per_dialogue": float(additional.loc["avg_turns_per_dialogue.total", "value"]),
        "length_unit": "characters",
        "avg_length_counselor": table.loc["avg_chars_per_utterance", "counselor"],
        "avg_length_client": table.loc["avg_chars_per_utterance", "client"],
    }
