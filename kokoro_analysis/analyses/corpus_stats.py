"""Corpus statistics of KokoroChat: the authors' statistics table, the cross-corpus comparison and the
distributions behind them (messages, lengths, durations, response times, people).

Definitions (the authors'):

* an *utterance* is one stored message; consecutive messages of one speaker are **not** merged
  (a *turn* merges them: see :func:`turns_per_session`);
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
from kokoro_analysis.corpus.loading import Corpus, turn_starts
from kokoro_analysis.published import ROLE_CELLS, YES_NO, Column, TableSpec, Words, register
from kokoro_analysis.reported import Record, format_number, load_reported
from kokoro_analysis.stats.distributions import describe_many
from kokoro_analysis.text.compounds import RULE_NOTE

__all__ = [
    "COMPARISON_COLUMNS",
    "COMPARISON_LABELS",
    "COMPARISON_PAPER",
    "PEERS",
    "STATISTICS",
    "STAT_ROWS",
    "TABLES",
    "VOCABULARY",
    "additional_records",
    "additional_statistics",
    "characters_per_message",
    "comparison_display",
    "comparison_paper",
    "comparison_table",
    "corpus_summary",
    "distribution_summary",
    "distribution_values",
    "kokorochat_comparison_row",
    "messages_per_session",
    "peer_records",
    "people_roles",
    "response_times",
    "response_times_by_role",
    "sessions_per_person",
    "sessions_per_year",
    "statistics_records",
    "statistics_table",
    "statistics_vs_reported",
    "turns_per_session",
    "vocabulary_records",
]

"""Columns of the statistics table: all messages, then each role (``schema.ROLES`` order)."""

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


def statistics_records(table: pd.DataFrame) -> list[Record]:
    """The reported numbers of the statistics table (keys ``stats.<row>.<column>``, counts as ``int``);
    the "–" cells are left out."""
    return [
        Record(f"stats.{statistic}.{role}", int(value) if STAT_ROWS[statistic][2] == 0 else value)
        for statistic, values in table.iterrows()
        for role, value in values.items()
        if pd.notna(value)
    ]


def corpus_summary(table: pd.DataFrame, *, lang: str = "en") -> pd.DataFrame:
    """The statistics table as the paper prints it: labelled rows, counts with thousands separators,
    averages with two decimals, "–" for cells the authors leave empty (text cells)."""
    rows = []
    for key, values in table.iterrows():
        label_ja, label_en, decimals = STAT_ROWS[str(key)]
        cells = ["–" if pd.isna(v) else f"{v:,.{decimals}f}" for v in values]
        rows.append([schema.pick(label_ja, label_en, lang=lang), *cells])
    header = [
        schema.pick("区分", "Category", lang=lang),
        schema.pick("全体", "Total", lang=lang),
        *(schema.pick(*schema.ROLE_LABELS[role], lang=lang) for role in schema.ROLE_COLUMNS[1:]),
    ]
    return pd.DataFrame(rows, columns=header)


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


def turns_per_session(utterances: pd.DataFrame) -> pd.DataFrame:
    """Merged turns per session (a turn = a maximal run of consecutive messages by one speaker).

    Index ``dialogue_id`` (in order of first appearance); columns ``total``, ``counselor``,
    ``client`` (turns started by that role). Vectorised equivalent of counting ``Corpus.turns()``.
    """
    ids = utterances["dialogue_id"].to_numpy()
    codes = utterances["role"].cat.codes.to_numpy()
    starts = turn_starts(utterances)
    frame = pd.DataFrame({"dialogue_id": ids[starts], "role": codes[starts]})
    counts = pd.crosstab(frame["dialogue_id"], frame["role"]).reindex(
        columns=range(len(schema.ROLES)), fill_value=0
    )
    counts.columns = list(schema.ROLES)
    counts.insert(0, "total", counts.sum(axis=1))
    order = pd.unique(ids)
    return counts.reindex(order)


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
"""Rows of :func:`additional_statistics` recorded as ``stats.<row>`` → (value type, quantity, unit);
quantity ``None`` for the numbers the authors report (described in reported.csv)."""


def additional_records(additional: pd.DataFrame) -> list[Record]:
    """The recorded rows of :func:`additional_statistics` (:data:`ADDITIONAL_RECORDS`)."""
    return [
        Record(f"stats.{row}", kind(additional.loc[row, "value"]), quantity=quantity, unit=unit)
        for row, (kind, quantity, unit) in ADDITIONAL_RECORDS.items()
    ]


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


# --------------------------------------------------------------------------- response times


def response_times(utterances: pd.DataFrame, to_role: str = "counselor") -> pd.DataFrame:
    """Response times of ``to_role``: for each message of ``to_role`` whose **immediately preceding**
    message in the same session is by the other role, the time since that preceding message, in seconds.

    ``to_role="counselor"``: the counselor's response time (client message → next counselor message);
    when the client sent several messages in a row, the time counts from the last of them.
    ``to_role="client"`` is the mirror. A message that follows one of its own role is not a response.

    ``utterances`` must be in session order (as ``Corpus.utterances``: the messages of a session
    contiguous, by ``position``). Returns a frame indexed like ``utterances`` (the responding messages)
    with columns ``dialogue_id`` and ``seconds`` (float; timestamps have one-second resolution, so
    0 means within the same second). Per-session aggregates:
    ``response_times(u).groupby("dialogue_id")["seconds"].median()``.
    """
    if to_role not in schema.ROLES:
        raise ValueError(f"to_role must be one of {schema.ROLES}, not {to_role!r}")
    missing = {"dialogue_id", "role", "time"} - set(utterances.columns)
    if missing:
        raise ValueError(f"utterances lack column(s) {sorted(missing)}")
    ids = utterances["dialogue_id"].to_numpy()
    roles = utterances["role"].to_numpy(dtype=object)
    _check_session_order(utterances)
    times = utterances["time"].to_numpy().astype("datetime64[ns]")
    respond = np.zeros(len(ids), dtype=bool)
    respond[1:] = (ids[1:] == ids[:-1]) & (roles[1:] == to_role) & (roles[:-1] != to_role)
    where = np.flatnonzero(respond)
    seconds = (times[where] - times[where - 1]) / np.timedelta64(1, "s")
    return pd.DataFrame(
        {"dialogue_id": ids[where], "seconds": seconds.astype(float)}, index=utterances.index[where]
    )


def _check_session_order(utterances: pd.DataFrame) -> None:
    """Each session's messages must be contiguous and in ``position`` order (when positions exist)."""
    ids = utterances["dialogue_id"].to_numpy()
    new_session = np.ones(len(ids), dtype=bool)
    new_session[1:] = ids[1:] != ids[:-1]
    if pd.Index(ids[new_session]).has_duplicates:
        raise ValueError(
            "utterances are not in session order: a session's messages are not contiguous"
        )
    if "position" in utterances:
        positions = utterances["position"].to_numpy()
        if len(positions) > 1 and np.any(
            positions[1:][~new_session[1:]] <= positions[:-1][~new_session[1:]]
        ):
            raise ValueError(
                "utterances are not in session order: positions decrease within a session"
            )


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
    """Response times in seconds (see :func:`response_times`) of counselors and of clients."""
    return {role: response_times(corpus.utterances, role)["seconds"] for role in schema.ROLES}


def distribution_values(corpus: Corpus) -> dict[str, tuple[str, pd.Series]]:
    """The distributions of the notebook: name → (unit, values). Messages and characters per role,
    session length, response times (see :func:`response_times`), sessions per year / per person."""
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
    """:func:`describe_many` over :func:`distribution_values`."""
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


COMPARISON_LABELS = {
    "dataset": ("データセット", "Dataset"),
    "manual": ("人手収集", "Manual"),
    "rating_items": ("評価項目数", "# Rating items"),
    "language": ("言語", "Language"),
    "dialogues": ("対話数", "# Dialogues"),
    "avg_utterances_per_dialogue": ("平均発話数／対話", "Avg. utterances / dialogue"),
    "avg_turns_per_dialogue": (
        "平均ターン数（連続発話を結合）／対話",
        "Avg. merged turns / dialogue",
    ),
    "length_unit": ("長さの単位", "Length unit"),
    **{
        f"avg_length_{role}": (
            f"平均長／発話（{schema.ROLE_LABELS[role][0]}）",
            f"Avg. length / utterance ({role})",
        )
        for role in schema.ROLES
    },
    "source": ("出典", "Source"),
}
"""Display labels (Japanese, English) of the :func:`comparison_table` columns."""


def comparison_display(table: pd.DataFrame, *, lang: str = "en") -> pd.DataFrame:
    """:func:`comparison_table` for the paper: labelled columns and numbers as text, reported cells at
    the precision the source prints (e.g. 26.7), measured averages with two decimals, "–" where there
    is no value."""
    reported = load_reported()
    names = {v: k for k, v in PEERS.items()}
    rows = []
    for _, record in table.iterrows():
        key = f"peers.{names.get(record['dataset'], '')}.avg_turns"
        measured = str(record["source"]).startswith("computed")
        decimals = (
            2 if measured or key not in reported.index else int(reported.loc[key, "decimals"])
        )
        row = record.to_dict()
        row.update({column: _cell(record[column], 0) for column in ("dialogues", "rating_items")})
        row["avg_utterances_per_dialogue"] = _cell(record["avg_utterances_per_dialogue"], decimals)
        row.update(
            {
                column: _cell(record[column], 2)
                for column in (
                    "avg_turns_per_dialogue",
                    "avg_length_counselor",
                    "avg_length_client",
                )
            }
        )
        row["length_unit"] = record["length_unit"] or "–"
        rows.append(row)
    frame = pd.DataFrame(rows, columns=table.columns)
    return frame.rename(
        columns={k: schema.pick(*v, lang=lang) for k, v in COMPARISON_LABELS.items()}
    )


PAPER_COMPARISON_COLUMNS = (
    "dataset",
    "language",
    "manual",
    "rating_items",
    "dialogues",
    "avg_utterances_per_dialogue",
    "avg_turns_per_dialogue",
    "length_unit",
    "avg_length_counselor",
    "avg_length_client",
)
"""Columns of :func:`comparison_paper` (declared for print in :data:`COMPARISON_PAPER`)."""


def comparison_paper(table: pd.DataFrame) -> pd.DataFrame:
    """The corpus comparison as a paper table (:data:`COMPARISON_PAPER`, fits the text width of an ACL
    paper): one row per dataset, numbers as numbers (one format per column), each row's length unit
    next to its lengths; ``attrs["reported_rows"]`` names the rows reported rather than computed."""
    out = table.loc[:, list(PAPER_COMPARISON_COLUMNS)].copy()
    out["length_unit"] = out["length_unit"].where(out["length_unit"].astype(bool), None)
    reported = [d for d, s in zip(table["dataset"], table["source"]) if s.startswith("reported")]
    out.attrs["reported_rows"] = Words(
        f" Rows {', '.join(reported)}: as reported by a secondary source." if reported else "",
        f"{'、'.join(reported)} の行は二次資料の報告値。" if reported else "",
    )
    return out


def _cell(value: object, decimals: int) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):,.{decimals}f}"


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


NOT_OBTAINABLE_PEERS = ("augesc", "client_reactions")
"""Peer datasets whose data is not obtainable here (every number logged as not reproducible)."""


def peer_records(measured: Mapping[str, Mapping[str, object]]) -> list[Record]:
    """The reproduction records of the comparison table (keys ``peers.<dataset>.<field>``) from the
    ``measured`` cells given to :func:`comparison_table`: KokoroChat's numbers; ESConv's when its data
    was found (not computed from KokoroChat, so a subset run leaves them as matches); every other
    number, and the qualitative cells (manual, language), as not reproducible."""
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


# --------------------------------------------------------------------------- lexical statistics

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


def _role_column(role: str) -> Column:
    label_ja, label_en = schema.ROLE_LABELS[role]
    return Column(label_en, Words(label_en, label_ja), key_ja=label_ja)


STATISTICS = TableSpec(
    "corpus_statistics",
    title=Words(
        "KokoroChat corpus statistics computed from the data: each category in total and per role "
        "(counselor, client); –: not applicable.",
        "データから算出した KokoroChat のコーパス統計：区分ごとの全体と役割別（カウンセラー、"
        "クライアント）の値。–：該当なし。",
    ),
    columns=(
        Column("Category", Words("Category", "区分"), key_ja="区分"),
        Column("Total", Words("Total", "全体"), key_ja="全体"),
        *(_role_column(role) for role in schema.ROLES),
    ),
    width="full",  # 284 pt: the row labels are the paper's own
)
STATISTICS_VS_REPORTED = TableSpec(
    "corpus_statistics_vs_reported",
    title=Words(
        "The corpus statistics against the values the authors print.",
        "コーパス統計と著者の印字値の比較。",
    ),
    formats={"ours": "{:,.6g}"},  # counts as 6,589, not 6589.0000
)
ADDITIONAL_STATISTICS = TableSpec(
    "corpus_additional_statistics",
    title=Words("Further corpus statistics.", "その他のコーパス統計。"),
    formats={"value": "{:,.2f}"},
    records=additional_records,
)
COMPARISON_VALUES = TableSpec(
    "corpus_comparison_values",
    title=Words(
        "Dialogue datasets compared, full precision.", "対話データセットの比較（全精度）。"
    ),
    thousands=True,
    number_format="{:.2f}",
)
COMPARISON = TableSpec(
    "corpus_comparison",
    title=Words("Dialogue datasets compared.", "対話データセットの比較。"),
)
LANGUAGE_CELLS = {
    "English": Words("English", "英語"),
    "Chinese": Words("Chinese", "中国語"),
    "Japanese": Words("Japanese", "日本語"),
}
LENGTH_UNIT_CELLS = {
    "characters": Words("chars", "文字"),
    "words (whitespace tokens)": Words("words", "語"),
}
COMPARISON_PAPER = TableSpec(
    "corpus_comparison_paper",
    title=Words("Dialogue datasets compared.", "対話データセットの比較。"),
    columns=(
        Column("dataset", Words("Dataset", "データセット")),
        Column(
            "language",
            Words("Lang.", "言語"),
            cells=LANGUAGE_CELLS,
            means=Words("language of the dialogues", "対話の言語"),
        ),
        Column(
            "manual",
            Words("Manual", "人手"),
            cells=YES_NO,
            means=Words("collected from people, not generated", "人が作成（生成ではない）"),
        ),
        Column(
            "rating_items",
            Words("Items", "項目"),
            "{:,.0f}",
            means=Words("rating items per dialogue", "対話ごとの評価項目の数"),
        ),
        Column(
            "dialogues",
            Words("Dial.", "対話数"),
            "{:,.0f}",
            means=Words("number of dialogues", "対話の数"),
        ),
        Column(
            "avg_utterances_per_dialogue",
            Words("Utts.", "発話数"),
            "{:.1f}",
            means=Words("stored utterances per dialogue", "対話あたりの保存発話数"),
        ),
        Column(
            "avg_turns_per_dialogue",
            Words("Turns", "ターン数"),
            "{:.1f}",
            means=Words(
                "turns per dialogue, consecutive messages of one speaker merged",
                "同じ話者の連続発話を結合した対話あたりのターン数",
            ),
        ),
        Column(
            "length_unit",
            Words("Unit", "単位"),
            cells=LENGTH_UNIT_CELLS,
            means=Words(
                "unit of the two lengths (chars: characters; words: whitespace-separated)",
                "2つの長さの単位（語：空白区切り）",
            ),
        ),
        Column(
            "avg_length_counselor",
            Words("Len. co.", "長さ（カ）"),
            "{:.1f}",
            means=Words("mean length of a counselor utterance", "カウンセラーの発話の平均長"),
        ),
        Column(
            "avg_length_client",
            Words("Len. cl.", "長さ（ク）"),
            "{:.1f}",
            means=Words("mean length of a client utterance", "クライアントの発話の平均長"),
        ),
    ),
    method=Words(
        "Language, manual and items are as reported.{reported_rows} –: not available.",
        "言語・人手・評価項目は報告値。{reported_rows}–：値なし。",
    ),
    width="full",
    index=False,
    missing="–",
)
DISTRIBUTIONS = TableSpec(
    "corpus_distributions",
    title=Words(
        "Distributions of session and message sizes.", "セッションとメッセージの大きさの分布。"
    ),
    number_format="{:,.2f}",
)
TOKENS_PER_MESSAGE = TableSpec(
    "corpus_tokens_per_message",
    title=Words(
        "MeCab tokens per message, in total and by role.",
        "メッセージあたりの MeCab トークン数（全体と役割別）。",
    ),
    number_format="{:,.2f}",
)
SESSIONS_PER_YEAR = TableSpec(
    "corpus_sessions_per_year",
    title=Words("Sessions per year.", "年ごとのセッション数。"),
    formats={"year": "{:d}"},
)
VOCABULARY = TableSpec(
    "corpus_vocabulary",
    title=Words(
        "Vocabulary of KokoroChat by role (MeCab with UniDic-lite): messages and tokens in total "
        "and by role (counselor, client).",
        "役割別の KokoroChat の語彙（MeCab、UniDic-lite）：全体と役割別（カウンセラー、クライアント）の"
        "メッセージ数とトークン数。",
    ),
    columns=(
        Column("role", Words("Role", "役割"), cells=ROLE_CELLS),
        Column("messages", Words("Messages", "メッセージ数")),
        Column("tokens", Words("Tokens", "トークン数")),
        Column(
            "tokens_per_message",
            Words("Tokens/message", "トークン／発話"),
            "{:.2f}",
            means=Words("mean tokens per message", "メッセージあたりの平均トークン数"),
        ),
        Column(
            "surfaces",
            Words("Surface types", "表層形数"),
            means=Words("distinct surface forms", "異なる表層形の数"),
        ),
        Column(
            "lemmas",
            Words("Lemma types", "見出し語数"),
            means=Words("distinct lemmas", "異なる見出し語の数"),
        ),
        Column(
            "dist_1",
            Words("Dist-1", "Dist-1"),
            "{:.3f}",
            means=Words(
                "distinct surface unigrams per 100 unigrams",
                "100 ユニグラムあたりの異なり表層ユニグラム数",
            ),
        ),
        Column(
            "dist_2",
            Words("Dist-2", "Dist-2"),
            "{:.3f}",
            means=Words(
                "distinct surface bigrams per 100 bigrams",
                "100 バイグラムあたりの異なり表層バイグラム数",
            ),
        ),
    ),
    width="full",
    index=False,
    thousands=True,
    records=vocabulary_records,
)
HEAPS = TableSpec(
    "corpus_heaps",
    title=Words(
        "Heaps' law fits of the vocabulary growth.", "語彙の増え方への Heaps の法則の当てはめ。"
    ),
    formats={"K": "{:.2f}", "beta": "{:.3f}"},
)
TOP_CONTENT_LEMMAS = TableSpec(
    "corpus_top_content_lemmas",
    title=Words("Most frequent content lemmas by role.", "役割別の高頻度の内容語見出し語。"),
    thousands=True,
    formats={"per_1000": "{:.2f}", "messages_share": "{:.2f}"},
)
TABLES = register(
    STATISTICS,
    STATISTICS_VS_REPORTED,
    ADDITIONAL_STATISTICS,
    COMPARISON_VALUES,
    COMPARISON,
    COMPARISON_PAPER,
    DISTRIBUTIONS,
    TOKENS_PER_MESSAGE,
    SESSIONS_PER_YEAR,
    VOCABULARY,
    HEAPS,
    TOP_CONTENT_LEMMAS,
)
"""The published tables of notebook 01 by name (:class:`kokoro_analysis.published.TableSpec`; the
vocabulary tables of :mod:`kokoro_analysis.text.lexical` too)."""
