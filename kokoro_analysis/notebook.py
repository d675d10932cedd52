"""What every notebook does first: resolve its parameters into data, outputs and a reproduction log.

A notebook's ``parameters`` cell holds ``data_dir``, ``output_dir``, ``subset``, ``lang`` and ``seed``
(plus its own); the next cell calls :func:`start` and uses the returned :class:`NotebookRun`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from kokoro_analysis.cache import cached_value, texts_digest, value_digest
from kokoro_analysis.charts import style
from kokoro_analysis.corpus import schema
from kokoro_analysis.corpus.loading import Corpus, load_corpus
from kokoro_analysis.paths import PROJECT_ROOT, OutputDirs, output_dirs
from kokoro_analysis.publish import tables
from kokoro_analysis.publish.reproduction_log import ReproductionLog, ReproductionRow
from kokoro_analysis.published import TableSpec
from kokoro_analysis.reported import Record
from kokoro_analysis.text.token_cache import tokenize_corpus
from kokoro_analysis.text.tokens import Tokens

RESULTS_FORMAT = 1
"""Bump when what :meth:`NotebookRun.cached` stores changes shape."""
FIGURES_FORMAT = 1
"""Bump when what :meth:`NotebookRun.figure` stores changes shape."""


@dataclass
class NotebookRun:
    """One run of one notebook.

    ``corpus`` is the loaded corpus restricted to ``subset`` (and ``topic`` when given);
    ``full_corpus`` is everything. Output names get a suffix for a non-default subset, topic or
    language, so runs with other parameters never overwrite the default outputs.
    """

    notebook: str
    full_corpus: Corpus
    corpus: Corpus
    out: OutputDirs
    subset: str = "all"
    lang: str = "en"
    seed: int = 0
    topic: str | None = None
    non_default: dict[str, Any] = field(default_factory=dict)
    """The parameters of :func:`start` that differ from their defaults (``output_dir`` aside): named
    in the reproduction report and printed, since they change what the run produces."""
    log: ReproductionLog = field(init=False)

    def __post_init__(self) -> None:
        self.log = ReproductionLog(self.notebook + self.suffix, self.out.root, self.non_default)

    @property
    def is_default(self) -> bool:
        """True when the run covers the whole corpus, i.e. the paper's numbers apply."""
        return self.subset == "all" and self.topic is None

    @property
    def suffix(self) -> str:
        parts = [] if self.subset == "all" else [self.subset]
        if self.topic:
            parts.append(
                "topic-" + "".join(c if c.isalnum() else "-" for c in self.topic.lower()).strip("-")
            )
        return "".join(f"_{p}" for p in parts)

    @cached_property
    def full_tokens(self) -> Tokens:
        """MeCab tokens of the whole corpus (cached on disk across runs)."""
        return tokenize_corpus(self.full_corpus)

    @cached_property
    def tokens(self) -> Tokens:
        """Tokens of this run's utterances."""
        if self.corpus is self.full_corpus:
            return self.full_tokens
        return self.full_tokens.restrict(self.corpus.utterances.index)

    def label(self, ja: str, en: str) -> str:
        """The Japanese or the English label, by the run's ``lang``."""
        return schema.pick(ja, en, lang=self.lang)

    def name(self, stem: str, *, per_lang: bool = False) -> str:
        """Output file name: ``<stem><subset/topic suffix>`` (+ ``_ja`` for Japanese-labelled figures)."""
        lang = "_ja" if per_lang and self.lang == "ja" else ""
        return f"{stem}{self.suffix}{lang}"

    @property
    def scope_note(self) -> str:
        """The line a figure of a subset or topic run carries
        (:func:`~kokoro_analysis.charts.style.scope_note`); empty for the default run."""
        sessions = len(self.corpus.dialogues)
        return style.scope_note(self.subset, sessions, topic=self.topic, lang=self.lang)

    def save_figure(self, fig, stem: str) -> dict[str, Path]:
        """Save a figure as PDF + PNG under ``figures/`` (name suffixed with ``_ja`` in Japanese); a
        subset or topic run's figure says which sessions it shows (:attr:`scope_note`). Shows the
        saved PNG at the figure's on-screen size and closes the figure: what the notebook shows is the
        file, and the figure is drawn once. :meth:`figure` also skips drawing it again."""
        name = self.name(stem, per_lang=True)
        rendered, width_in = self._rendered(fig, name)
        return self._show_saved(rendered, name, width_in)

    def figure(self, stem: str, chart: Callable[..., Any], *args: Any, **kwargs: Any):
        """``chart(*args, **kwargs)`` saved and shown as :meth:`save_figure` does, drawn only when no
        earlier run drew it: the files are kept in the cache (:func:`kokoro_analysis.cache.cached_value`)
        under the figure's name, the run's scope note, the chart function and its arguments (pickled:
        every value of every frame; a method with its object), the package's code, the installed
        libraries and what else decides the bytes
        (:func:`~kokoro_analysis.charts.style.rendering_identity`), so a warm run writes the bytes the
        drawing made. A chart from outside the package, a closure, or arguments that cannot be
        pickled, are drawn every time. Returns ``{format: path}``."""
        name = self.name(stem, per_lang=True)

        def draw() -> tuple[dict[str, bytes], float]:
            return self._rendered(chart(*args, **kwargs), name)

        # the chart pickles by reference (a closure does not pickle: drawn every time; a method
        # pickles its object)
        inputs = value_digest(chart, args, sorted(kwargs.items()))
        in_package = str(getattr(chart, "__module__", "")).startswith("kokoro_analysis.")
        if inputs is None or not in_package:
            rendered, width_in = draw()
        else:
            key_parts = [
                name,
                "" if self.is_default else self.scope_note,
                inputs,
                style.rendering_identity(),
            ]
            rendered, width_in = cached_value("figures", FIGURES_FORMAT, key_parts, draw)
        return self._show_saved(rendered, name, width_in)

    def _rendered(self, fig, name: str) -> tuple[dict[str, bytes], float]:
        """The figure's files (:func:`~kokoro_analysis.charts.style.render_figure`), with this run's
        scope note, and its width in inches; the figure is closed."""
        import matplotlib.pyplot as plt

        if not self.is_default:
            style.add_scope_note(fig, self.scope_note)
        try:
            return style.render_figure(fig, name), fig.get_figwidth()
        finally:
            plt.close(fig)

    def _show_saved(self, rendered: dict[str, bytes], name: str, width_in: float):
        """Write the files under ``figures/<name>.*`` and show the PNG ``width_in`` inches wide."""
        paths = style.write_figure(rendered, name, self.out.root)
        _show_png(paths["png"], width_in=width_in)
        return paths

    def write_table(
        self,
        frame: pd.DataFrame,
        spec: TableSpec,
        *,
        variant: str | None = None,
        **values: Any,
    ) -> pd.DataFrame:
        """Write ``frame`` as ``spec`` declares it under ``tables/`` (paper tables as LaTeX too; name
        ``spec.name``, ``_<variant>`` when given, the run's suffix, ``_ja`` in Japanese, so the
        English files are never overwritten), record the spec's reproduced numbers, and return the
        table formatted as the files show it, for display. ``values`` fill the caption's
        placeholders (:meth:`TableSpec.caption`)."""
        stem = spec.name if variant is None else f"{spec.name}_{variant}"
        tables.write_table(
            frame,
            spec,
            self.out.root,
            name=self.name(stem, per_lang=True),
            lang=self.lang,
            **values,
        )
        if spec.records is not None:
            self.record_all(spec.records(frame))
        return tables.formatted(frame, spec, lang=self.lang)

    def cached(self, name: str, compute: Callable[[], Any], **parameters: Any) -> Any:
        """``compute()``, kept on disk across runs (:func:`kokoro_analysis.cache.cached_value`) under
        ``name``, the run's data (release fingerprint, sessions of the run), its ``subset``, ``topic``
        and ``seed``, ``parameters`` (by ``repr``) and the package's code. ``compute`` may depend on
        nothing else: for slow results of the data, such as notebook 04's baselines. A corpus not
        loaded from files (no ``data_key``) is never cached: its content has no fingerprint."""
        if self.full_corpus.data_key is None:
            return compute()
        ids = self.corpus.dialogues.index.astype(str)
        key_parts = [
            name,
            str(self.full_corpus.data_key),
            texts_digest(pd.Series(ids, dtype=object)),
            repr((self.subset, self.topic, self.seed)),
            repr(sorted(parameters.items())),
        ]
        return cached_value("results", RESULTS_FORMAT, key_parts, compute)

    def record(self, key: str, ours: Any, **options: Any) -> ReproductionRow:
        """Record one reproduced number: ``options`` are the fields of :class:`Record` (``expect``,
        ``quantity``, ``unit``, ``note``, ``tolerance``, ``from_corpus``); see :meth:`record_all`."""
        return self.record_all([Record(key, ours, **options)])[0]

    def record_all(self, records: Iterable[Record]) -> list[ReproductionRow]:
        """Record reproduced numbers (an analysis module's ``*_records(...)``). Outside the default run
        (a subset or a topic) the paper's values do not apply, so a ``match`` expectation of a number
        computed from the corpus becomes ``measured``, its note naming the run."""
        return [self.log.add(self._in_scope(record)) for record in records]

    def _in_scope(self, record: Record) -> Record:
        if self.is_default or record.expect != "match" or not record.from_corpus:
            return record
        scope = self.corpus.subset_name
        if self.topic:
            scope += f", topic {self.topic}"
        note = " ".join(part for part in (record.note.strip(), f"(run on {scope})") if part)
        return replace(record, expect="measured", note=note)

    def finish(self) -> pd.DataFrame:
        """Save the reproduction log and return it formatted as the report shows it, for display."""
        self.log.save()
        return self.log.to_display()


START_DEFAULTS = {
    "data_dir": None,
    "subset": "all",
    "lang": "en",
    "seed": 0,
    "topic": None,
    "lenient": False,
}
"""The defaults of :func:`start`'s parameters that change a run's results."""


def start(
    notebook: str,
    *,
    data_dir: str | os.PathLike | None = None,
    output_dir: str | os.PathLike | None = None,
    subset: str = "all",
    lang: str = "en",
    seed: int = 0,
    topic: str | None = None,
    lenient: bool = False,
    ignores_topic: bool = False,
) -> NotebookRun:
    """Validate the parameters, load the corpus, apply paper style; return the run context.

    ``topic`` restricts every analysis to sessions whose ``topic_main_en`` or ``topic_main_jp`` equals it.
    ``lenient`` skips sessions with problems (counted and printed) instead of stopping with an error.
    ``ignores_topic``: the notebook is about all topics (``./run_all.sh -p topic …`` passes a topic to
    every notebook): a topic given says in one printed line that it does not apply, and is ignored.
    """
    if topic and ignores_topic:
        print(
            f"topic {topic!r} does not apply to {notebook}: it covers every topic, as without one"
        )
        topic = None
    if subset not in schema.SUBSETS:
        raise ValueError(
            f"parameter subset must be one of {', '.join(schema.SUBSETS)}, not {subset!r}"
        )
    if lang not in schema.LANGS:
        raise ValueError(f"parameter lang must be 'en' or 'ja', not {lang!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"parameter seed must be an integer, 0 or more, not {seed!r}")
    full = load_corpus(data_dir, strict=not lenient)
    corpus = full if subset == "all" else full.subset(subset)
    if topic:
        corpus = _restrict_topic(corpus, topic)
    style.apply_paper_style()
    given = {
        "data_dir": data_dir,
        "subset": subset,
        "lang": lang,
        "seed": seed,
        "topic": topic or None,
        "lenient": lenient,
    }
    non_default = {name: value for name, value in given.items() if value != START_DEFAULTS[name]}
    if non_default:
        print("non-default parameters: " + ", ".join(f"{k}={v!r}" for k, v in non_default.items()))
    return NotebookRun(
        notebook,
        full,
        corpus,
        output_dirs(output_dir),
        subset,
        lang,
        seed,
        topic or None,
        non_default,
    )


def _restrict_topic(corpus: Corpus, topic: str) -> Corpus:
    dialogues = corpus.dialogues
    mask = (dialogues["topic_main_en"] == topic) | (dialogues["topic_main_jp"] == topic)
    if not mask.any():
        known = sorted(dialogues["topic_main_en"].unique())
        raise ValueError(f"no session has topic {topic!r}; main topics are: {', '.join(known)}")
    return corpus.restrict(dialogues.index[mask])


def strip_outputs_before_save(model: dict, path: str, contents_manager: Any, **_: Any) -> None:
    """Jupyter server pre-save hook: this checkout's notebooks (``notebooks/NN_*.ipynb``) are saved
    without outputs and execution counts, so opening, running and saving one in JupyterLab leaves
    ``git status`` clean (the outputs stay on screen until the notebook is closed). Other notebooks
    are saved as they are. ``./run_all.sh`` enables it in the ``.venv`` it creates
    (``.venv/etc/jupyter/jupyter_server_config.d/kokoro-analysis.json``)."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    file = Path(getattr(contents_manager, "root_dir", ".")).joinpath(path).resolve()
    if file.parent != PROJECT_ROOT / "notebooks" or not file.name[:2].isdigit():
        return
    for cell in model["content"].get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None


def _show_png(path: Path, *, width_in: float) -> None:
    """Display a saved PNG in the notebook, ``width_in`` inches wide at matplotlib's screen dpi."""
    import matplotlib
    from IPython.display import Image, display

    display(
        Image(data=path.read_bytes(), width=round(width_in * matplotlib.rcParams["figure.dpi"]))
    )
