"""The session explorer in JupyterLab: HTML transcripts and a thin ipywidgets front end.

Every widget only gathers input and shows what :mod:`kokoro_analysis.analyses.explorer` and
:mod:`kokoro_analysis.text.concordance` compute; results are ``HTML`` widgets (no output capture), so the
interface also works, and is tested, outside a kernel.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from kokoro_analysis.analyses import explorer
from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.measures import SCORE_BANDS
from kokoro_analysis.text import concordance as kwic
from kokoro_analysis.text.forms import display_forms

ROWS_SHOWN = 200
"""Most rows a widget table shows (the CSV export has all)."""

STYLE = """<style>
.ka-transcript{max-width:56em;font-size:0.95em}
.ka-msg{margin:0.35em 0;padding:0.35em 0.6em;border-radius:6px;max-width:80%}
.ka-counselor{background:#e8e8e8;border-left:4px solid #444;margin-right:auto}
.ka-client{background:#fff;border:1px solid #888;border-right:4px solid #888;margin-left:auto}
.ka-meta{font-size:0.8em;color:#555}
.ka-translation{font-size:0.85em;color:#444;font-style:italic;margin-top:0.2em}
.ka-gap{font-size:0.75em;color:#777;text-align:center}
.ka-kwic td.ka-left{text-align:right;color:#444}
.ka-kwic td.ka-hit{font-weight:bold;text-align:center}
</style>"""

LONG_GAP_S = 300
"""Pauses of at least this many seconds get a separator line in the transcript."""


def transcript_html(frame: pd.DataFrame, *, lang: str = "en") -> str:
    """A transcript (:func:`explorer.transcript`) as HTML: counselor messages grey with a dark left
    bar, client messages white with a right bar (distinct in greyscale too), each with its role, time
    and the gap since the previous message; the translation, when present, in italics under the text;
    pauses of :data:`LONG_GAP_S` or more marked between messages."""
    parts = [STYLE, '<div class="ka-transcript">']
    for row in frame.itertuples():
        gap = "" if pd.isna(row.gap_s) else f" (+{_duration(row.gap_s)})"
        if not pd.isna(row.gap_s) and row.gap_s >= LONG_GAP_S:
            parts.append(
                f'<div class="ka-gap">— {_duration(row.gap_s)} {schema.pick("の間", "pause", lang=lang)} —</div>'
            )
        label = schema.pick(*schema.ROLE_LABELS[row.role], lang=lang)
        translation = getattr(row, "translation", None)
        extra = (
            ""
            if translation is None or pd.isna(translation)
            else f'<div class="ka-translation">{html.escape(str(translation))}</div>'
        )
        parts.append(
            f'<div class="ka-msg ka-{row.role}"><div class="ka-meta"><b>{label}</b> {row.time}{gap}</div>'
            f"<div>{html.escape(row.text)}</div>{extra}</div>"
        )
    parts.append("</div>")
    return "".join(parts)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def kwic_html(hits: pd.DataFrame, limit: int = ROWS_SHOWN) -> str:
    """Concordance hits as an HTML table: left context right-aligned, the hit in bold, right context."""
    rows = "".join(
        f"<tr><td>{row.dialogue_id}</td><td>{row.role}</td><td class='ka-left'>{html.escape(row.left)}</td>"
        f"<td class='ka-hit'>{html.escape(row.hit)}</td><td>{html.escape(row.right)}</td></tr>"
        for row in hits.head(limit).itertuples()
    )
    more = (
        f"<p>… {len(hits) - limit:,} more (export the CSV for all)</p>" if len(hits) > limit else ""
    )
    return (
        f"{STYLE}<table class='ka-kwic'><tr><th>dialogue_id</th><th>role</th><th>left</th><th>hit</th>"
        f"<th>right</th></tr>{rows}</table>{more}"
    )


COLUMN_NAMES = {
    "dialogue_id": "Session",
    "start_time": "Start",
    "year": "Year",
    "topic": "Topic",
    "score": "Score",
    "band": "Band",
    "messages": "Messages",
    "duration_min": "Minutes",
    "flags": "Flags",
    "number": "No.",
    "item": "Item",
    "block": "Block",
    "role": "Role",
    "group": "Group",
    "hits": "Hits",
    "sessions": "Sessions",
    "share": "Share of hits",
    "lemma": "Lemma",
    "form": "Word",
    "gloss_en": "English gloss",
    "co": "Near hits",
    "frequency": "Frequency",
    "log_dice": "log-Dice",
}
"""Readable headers of the widget tables (the CSV exports keep the column names)."""
PERCENT_COLUMNS = ("share",)
"""Columns holding a share 0–1, shown as a percentage."""


def frame_html(frame: pd.DataFrame, limit: int = ROWS_SHOWN) -> str:
    """A DataFrame as an HTML table like the notebooks' tables: no index column (a named index becomes
    the first column), readable headers (:data:`COLUMN_NAMES`), shares as percentages, floats with
    two decimals, thousands separators; at most ``limit`` rows."""
    more = f"<p>… {len(frame) - limit:,} more rows</p>" if len(frame) > limit else ""
    shown = frame.head(limit)
    if shown.index.name is not None:
        shown = shown.reset_index()
    formatters = {}
    for column in shown.columns:
        values = shown[column]
        if column in PERCENT_COLUMNS:
            formatters[column] = lambda v: "" if pd.isna(v) else f"{100 * v:.1f} %"
        elif pd.api.types.is_float_dtype(values):
            formatters[column] = lambda v: "" if pd.isna(v) else f"{v:,.2f}"
        elif pd.api.types.is_integer_dtype(values) and column not in (
            "dialogue_id",
            "year",
            "number",
        ):
            formatters[column] = lambda v: "" if pd.isna(v) else f"{v:,}"
    shown = shown.rename(columns=lambda c: COLUMN_NAMES.get(c, str(c).replace("_", " ")))
    formatters = {COLUMN_NAMES.get(c, str(c).replace("_", " ")): f for c, f in formatters.items()}
    return (
        shown.to_html(
            escape=True, na_rep="", index=False, formatters=formatters, classes="ka-table"
        )
        + more
    )


class Explorer:
    """Three tabs: *Sessions* (filters and the matching sessions), *Transcript* (one session with its
    scores) and *Concordance* (KWIC, counts by role, topic and band, collocates, CSV export).

    ``translations`` (optional) is aligned to ``corpus.utterances`` and shown under each message;
    exports go to ``export_dir``. Display :attr:`widget` in a notebook.
    """

    def __init__(
        self,
        corpus,
        tokens,
        *,
        translations=None,
        lang: str = "en",
        export_dir: str | Path = ".",
        session_id=None,
        query: str = "",
    ) -> None:
        import ipywidgets as w

        self.corpus, self.tokens, self.translations, self.lang = corpus, tokens, translations, lang
        self.export_dir = Path(export_dir)
        self.hits = pd.DataFrame(columns=list(kwic.HIT_COLUMNS))
        self.forms: pd.Series | None = None
        self._session_controls(w)
        self._search_controls(w, query)
        for name in ("query", "search", "export", "results", "session", "matches", "transcript"):
            getattr(self, name).add_class(f"ka-{name}")
        self._connect()
        self.widget = self._tabs(w)
        self.refresh_sessions()
        if session_id is not None:
            self.session.value = explorer.check_session(corpus, session_id)

    def _session_controls(self, w) -> None:
        """The filters (topics, score band, score, year, length, flags), the matching sessions, and
        the chosen session's transcript and scores."""
        dialogues = self.corpus.dialogues
        column = schema.pick("topic_main_jp", "topic_main_en", lang=self.lang)
        topics = sorted(set(dialogues[column]))
        years = dialogues["year"].dropna()
        year_range = (int(years.min()), int(years.max())) if len(years) else (2020, 2020)
        longest = int(dialogues["n_messages"].max()) if len(dialogues) else 1
        self.topics = w.SelectMultiple(
            options=topics, description="topics", rows=min(len(topics), 6) or 1
        )
        self.band = w.Dropdown(
            options=[("any", None), *[(b, b) for b in SCORE_BANDS]], description="band"
        )
        slider = {
            "style": {"description_width": "6em"},
            "layout": w.Layout(width="34em"),
            "continuous_update": False,  # a search reruns on release, not on every step of a drag
        }
        self.score = w.IntRangeSlider(value=(0, 100), min=0, max=100, description="score", **slider)
        self.years = w.IntRangeSlider(
            value=year_range,
            min=year_range[0],
            max=year_range[1],
            description="year",
            readout_format="d",
            **slider,
        )
        self.messages = w.IntRangeSlider(
            value=(0, longest), min=0, max=longest, description="messages", **slider
        )
        self.flags = w.Dropdown(
            options=[("any", ()), ("none set", ("none",)), *[(f, (f,)) for f in schema.FLAG_KEYS]],
            description="flags",
        )
        self.matches = w.HTML()
        self.session = w.Dropdown(options=[], description="session")
        self.transcript = w.HTML(layout=w.Layout(width="100%"))
        self.scores = w.HTML()

    def _search_controls(self, w, query: str) -> None:
        """The concordance query (text, match mode, part of speech, role), its buttons and results."""
        self.query = w.Text(
            value=query,
            description="query",
            placeholder="surface or lemma, e.g. 不安",
            continuous_update=False,
        )
        self.match = w.Dropdown(options=list(kwic.MATCH_MODES), description="match")
        self.pos = w.Dropdown(
            options=[("any", None), *[(p, p) for p in _parts_of_speech(self.tokens)]],
            description="POS",
        )
        self.role = w.Dropdown(
            options=[("both", None), ("counselor", "counselor"), ("client", "client")],
            description="role",
        )
        self.search = w.Button(description="Search", button_style="primary")
        self.export = w.Button(description="Export CSV", disabled=True)
        self.results = w.HTML()

    def _connect(self) -> None:
        """A changed filter refreshes the sessions, a chosen session shows it, a changed query (or the
        button) searches, the export button writes the hits."""
        for control in (self.topics, self.band, self.score, self.years, self.messages, self.flags):
            control.observe(lambda _: self.refresh_sessions(), names="value")
        self.session.observe(lambda _: self.show_session(), names="value")
        self.search.on_click(lambda _: self.run_query())
        for control in (self.query, self.match, self.pos, self.role):
            control.observe(lambda _: self.run_query(), names="value")
        self.export.on_click(lambda _: self.export_hits())

    def _tabs(self, w):
        """The three tabs: the filters with the matching sessions; the session chooser with the
        transcript (scrolling in its own box) beside the scores, which stay in view; the search."""
        sessions = w.VBox(
            [
                w.HBox([self.topics, w.VBox([self.band, self.flags])]),
                self.score,
                self.years,
                self.messages,
                self.matches,
            ]
        )
        transcript_box = w.Box(
            [self.transcript],
            layout=w.Layout(flex="1 1 auto", height="36em", overflow="auto", min_width="20em"),
        )
        scores_box = w.Box(
            [self.scores], layout=w.Layout(flex="0 0 24em", height="36em", overflow="auto")
        )
        reading = w.VBox([self.session, w.HBox([transcript_box, scores_box])])
        search = w.VBox(
            [
                w.HBox([self.query, self.match]),
                w.HBox([self.pos, self.role]),
                w.HBox([self.search, self.export]),
                self.results,
            ]
        )
        tabs = w.Tab(children=[sessions, reading, search])
        for index, title in enumerate(("Sessions", "Transcript", "Concordance")):
            tabs.set_title(index, title)
        return tabs

    def criteria(self) -> explorer.SessionFilter:
        """The filter the controls describe."""
        low, high = self.score.value
        return explorer.SessionFilter(
            topics=tuple(self.topics.value),
            score_band=self.band.value,
            score_min=low,
            score_max=high,
            flags=self.flags.value,
            year_min=self.years.value[0],
            year_max=self.years.value[1],
            messages_min=self.messages.value[0],
            messages_max=self.messages.value[1],
        )

    def refresh_sessions(self) -> None:
        table = explorer.find_sessions(self.corpus, self.criteria(), lang=self.lang)
        self.matches.value = f"<p><b>{len(table):,}</b> matching sessions</p>" + frame_html(table)
        current = self.session.value
        self.session.options = [int(i) for i in table.index]
        if self.session.options:
            self.session.value = (
                current if current in self.session.options else self.session.options[0]
            )
        if self.query.value.strip() or len(self.hits):
            self.run_query()  # results always belong to the sessions the filters select

    def show_session(self) -> None:
        if self.session.value is None:
            self.transcript.value = self.scores.value = ""
            return
        frame = explorer.transcript(self.corpus, self.session.value, self.translations)
        self.transcript.value = transcript_html(frame, lang=self.lang)
        self.scores.value = frame_html(
            explorer.session_scores(self.corpus, self.session.value, lang=self.lang)
        )

    def run_query(self) -> None:
        """Search the query in the sessions the filters select (:func:`explorer.search`) and show the
        hits, their counts by role, topic and band, and the collocates; an empty or bad query clears
        the results (so nothing stale can be exported)."""
        self.hits = pd.DataFrame(columns=list(kwic.HIT_COLUMNS))
        self.export.disabled = True
        try:
            result = explorer.search(
                self.corpus,
                self.tokens,
                self.query.value,
                self.session.options,
                match=self.match.value,
                pos=self.pos.value,
                role=self.role.value,
                lang=self.lang,
                forms=self._forms(),
            )
        except ValueError as error:
            self.results.value = f"<p><b>{html.escape(str(error))}</b></p>"
            return
        self.hits = result.hits
        self.export.disabled = result.hits.empty
        parts = [f"<p>{html.escape(result.summary(len(self.session.options)))}</p>"]
        if len(result.hits):
            counts = result.counts
            for by in ("role", "topic", "band"):
                part = counts[counts["by"] == by].drop(columns="by").rename(columns={"group": by})
                parts.append(frame_html(part))
            parts += [
                "<p>collocates (log-Dice)</p>",
                frame_html(result.collocates),
                kwic_html(result.hits),
            ]
        self.results.value = "".join(parts)

    def _forms(self) -> pd.Series:
        """Display forms of every lemma, computed on the first search (a few seconds on the corpus)."""
        if self.forms is None:
            self.forms = display_forms(self.tokens)
        return self.forms

    def export_hits(self) -> Path:
        path = kwic.write_csv(self.hits, self.export_dir / export_name(self.query.value))
        self.results.value = (
            f"<p>saved {len(self.hits):,} hits to {html.escape(str(path))}</p>" + self.results.value
        )
        return path


def export_name(query: str) -> str:
    """File name of an exported concordance: ``concordance_<query>.csv`` (letters and digits of the
    query only, Japanese included)."""
    return f"concordance_{''.join(c for c in query.strip() if c.isalnum()) or 'query'}.csv"


def _parts_of_speech(tokens) -> list[str]:
    pos = tokens.table["pos"]
    return (
        sorted(pos.cat.categories.astype(str))
        if isinstance(pos.dtype, pd.CategoricalDtype)
        else sorted(set(pos))
    )
