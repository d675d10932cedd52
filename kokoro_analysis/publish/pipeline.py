"""``kokoro-analysis run`` (what ``./run_all.sh`` runs): every notebook through papermill, then the
reproduction report.

The steps: refuse a wrong option, output folder or data location before anything runs; with
``--models`` the released models' predictions first; the raw-data check side by side with the token
cache; the notebooks, ``jobs`` at a time, longest first by the seconds each took last time
(``logs/durations.tsv``), each with its share of the cores; the reproduction report. Each step's full
output goes to ``OUTPUT_DIR/logs/``; the terminal gets one line per step and per notebook.

Each notebook runs in a worker of a process pool that calls papermill's Python API, which starts the
notebook's own kernel. A process rather than a thread: each worker's standard output and error (the
kernel's included) and papermill's logger go to that notebook's log, as ``> log 2>&1`` did.

Statuses have one meaning each: :class:`Status` for a notebook, :class:`ReportOutcome` for the report.
Exit status: 0; 1 when a notebook failed, the report could not be gathered or a number that should
match does not; 2 when the run stopped before any notebook ran (a wrong option, folder or data, a
failed data check, token cache or model run); 130 when interrupted.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from kokoro_analysis.paths import PROJECT_ROOT, OutputDirs, write_atomically
from kokoro_analysis.publish.progress import QUIET_STEP_SECONDS, TICK_SECONDS, Terminal, ticking
from kokoro_analysis.workers import CORES_VARIABLE, available_cores

PROGRAM = "kokoro-analysis run"
CLI_MODULE = "kokoro_analysis.cli"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
NOTEBOOK_PATTERN = "[0-9]*.ipynb"
DURATIONS_FILE = "durations.tsv"
"""In ``logs/``: ``NAME SECONDS`` per line, the seconds each notebook took when it last succeeded."""
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
DATA_VARIABLES = ("KOKOROCHAT_DATA", "KOKORO_PEERS_DIR", "KOKOROCHAT_TRANSLATIONS")
FAILURE_REASON_CHARACTERS = 300


class RunStopped(Exception):
    """The run stopped before any notebook ran (exit status 2); the message says why."""


class Status(Enum):
    """What became of one notebook."""

    OK = "ok"
    """Ran to its end."""
    FAILED = "FAILED"
    """Raised an exception, or its kernel died: the executed copy and the log show where."""
    INTERRUPTED = "interrupted"
    """Started, then stopped by the user (Ctrl-C)."""
    NOT_RUN = "not run"
    """Never started: the run stopped first (Ctrl-C, or a worker process died)."""


class ReportOutcome(Enum):
    """What the reproduction-report step found."""

    MATCHES = "every number that should match does"
    DIFFERS = "numbers that should match do not"
    NOTHING_RECORDED = "the notebooks run record no number the paper reports (no report written)"
    NOT_GATHERED = "a report part could not be read (the log says which)"


@dataclass(frozen=True)
class RunOptions:
    """The options of ``kokoro-analysis run`` (see its ``--help``)."""

    data: str | None = None
    only: Sequence[str] = ()
    output_dir: str | None = None
    parameters: Sequence[tuple[str, str]] = ()
    jobs: int | None = None
    lenient: bool = False
    models: bool = False


@dataclass(frozen=True)
class NotebookTask:
    """One notebook to execute: where its executed copy and its log go, and with what."""

    notebook: Path
    executed: Path
    log: Path
    parameters: dict
    environment: dict[str, str] = field(default_factory=dict)
    """Set in the worker before the kernel starts (which inherits it)."""

    @property
    def name(self) -> str:
        return self.notebook.stem


@dataclass(frozen=True)
class NotebookResult:
    name: str
    status: Status
    seconds: int | None = None
    reason: str = ""
    """For a failure: the exception's line, e.g. ``ValueError: lang must be 'en' or 'ja'``."""


# --- before anything runs ----------------------------------------------------------------------------
def output_folder(text: str) -> Path:
    """``text`` as an absolute folder, created if missing; :class:`RunStopped` for a file, a path
    under a file, or a folder that cannot be created or written."""
    if not text:
        raise RunStopped("--output-dir needs a folder")
    folder = Path(os.path.abspath(os.path.expanduser(text)))
    if folder.exists() and not folder.is_dir():
        raise RunStopped(f"--output-dir {text} is not a folder (a file of that name exists)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunStopped(f"--output-dir {text} cannot be created ({error.strerror})") from None
    probe = folder / f".run-write-test-{os.getpid()}"
    try:
        probe.touch()
    except OSError:
        raise RunStopped(
            f"--output-dir {text} is not writable; choose a folder you can write to"
        ) from None
    probe.unlink()
    return folder


def select_notebooks(folder: Path, only: Sequence[str]) -> list[Path]:
    """The numbered notebooks in ``folder`` by name; with ``only``, those whose name contains one of
    its strings."""
    notebooks = sorted(folder.glob(NOTEBOOK_PATTERN))
    if only:
        notebooks = [p for p in notebooks if any(part in p.stem for part in only)]
    if not notebooks:
        raise RunStopped(f"no notebook matches --only {' '.join(only)}")
    return notebooks


def data_environment(environ: Mapping[str, str], data: str | None) -> dict[str, str]:
    """The data locations to pass on, absolute (the notebooks run in ``notebooks/``): ``--data``
    as ``KOKOROCHAT_DATA``, and the existing folders the data variables name."""
    changes = {}
    if data is not None:
        if not os.path.exists(data):
            raise RunStopped(f"--data {data}: KokoroChat data not found: {data} does not exist")
        changes["KOKOROCHAT_DATA"] = os.path.abspath(data)
    for variable in DATA_VARIABLES:
        value = changes.get(variable, environ.get(variable, ""))
        if value and os.path.isdir(value):
            changes[variable] = os.path.abspath(value)
    return changes


def papermill_parameters(
    output_dir: Path, pairs: Sequence[tuple[str, str]], lenient: bool
) -> dict[str, object]:
    """The parameters every notebook gets, typed as papermill's ``-p`` types them."""
    parameters: dict[str, object] = {"output_dir": str(output_dir)}
    parameters.update((name, _typed(value)) for name, value in pairs)
    if lenient:
        parameters["lenient"] = True
    return parameters


def _typed(text: str) -> object:
    """papermill's rule for ``-p NAME VALUE``: True, False, None, an int, a float, else the text."""
    constants = {"True": True, "False": False, "None": None}
    if text in constants:
        return constants[text]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


# --- scheduling --------------------------------------------------------------------------------------
def read_durations(path: Path) -> dict[str, int]:
    """``NAME SECONDS`` lines (others ignored); empty when the file is missing."""
    if not path.exists():
        return {}
    durations = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].isdigit():
            durations[fields[0]] = int(fields[1])
    return durations


def write_durations(path: Path, previous: Mapping[str, int], results: Sequence[NotebookResult]):
    """The previous durations with this run's successful ones replacing theirs (a failed run's time
    says nothing of a full one), sorted by name."""
    durations = dict(previous)
    durations.update((r.name, r.seconds) for r in results if r.status is Status.OK)
    write_atomically(path, "".join(f"{name} {durations[name]}\n" for name in sorted(durations)))


FIRST_RUN_SECONDS = {
    "03_feedback_scores": 44,
    "04_finetuning_results": 33,
    "01_corpus_statistics": 27,
    "02_topic_distribution": 10,
    "05_explore_sessions": 7,
}
"""Seconds each notebook took on a first run (empty result caches, 2 quiet cores, 2026-12-05): the order of
a run into an output folder without ``logs/durations.tsv``, so the first run, the slowest, packs too."""


def longest_first(notebooks: Sequence[Path], durations: Mapping[str, int]) -> list[Path]:
    """By the seconds each took last time (else :data:`FIRST_RUN_SECONDS`), longest first, others
    before all, ties by name: so ``jobs`` notebooks at a time pack tightly (a long one started last
    would finish alone)."""

    def seconds(notebook: Path) -> float:
        return durations.get(notebook.stem, FIRST_RUN_SECONDS.get(notebook.stem, float("inf")))

    return sorted(notebooks, key=lambda p: (-seconds(p), p.stem))


def core_share(cores: int, jobs: int, notebooks: int) -> int:
    """The cores each notebook may use when ``jobs`` of ``notebooks`` run at once on ``cores``."""
    return max(1, cores // max(1, min(jobs, notebooks)))


def share_environment(environ: Mapping[str, str], share: int) -> dict[str, str]:
    """``KOKORO_CORES`` for the package's worker processes and the BLAS/OpenMP thread variables, each
    notebook's share: N notebooks each using every core would oversubscribe the machine. Thread
    variables the user set are kept."""
    changes = {CORES_VARIABLE: str(share)}
    changes.update((v, str(share)) for v in THREAD_VARIABLES if not environ.get(v))
    return changes


# --- one notebook (in a worker process) -------------------------------------------------------------
def execute_notebook(task: NotebookTask) -> NotebookResult:
    """Run one notebook with papermill into ``task.executed``, everything it prints into
    ``task.log``; its status, seconds and, on failure, the exception's line."""
    import papermill

    started = time.monotonic()
    os.environ.update(task.environment)
    reason, status = "", Status.OK
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with _output_to(task.log):
        try:
            papermill.execute_notebook(
                task.notebook,
                task.executed,
                parameters=task.parameters,
                cwd=task.notebook.parent,
                log_output=True,
                progress_bar=False,
            )
        except KeyboardInterrupt:
            status = Status.INTERRUPTED
        except Exception as error:  # the notebook's error, a dead kernel, an unreadable file: all
            traceback.print_exc()  # fail this notebook alone, with the reason in its log
            status, reason = Status.FAILED, failure_reason(error)
            if getattr(error, "ename", None) == "KeyboardInterrupt":  # Ctrl-C reached the kernel
                status, reason = Status.INTERRUPTED, ""
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    return NotebookResult(task.name, status, round(time.monotonic() - started), reason)


def _ignore_interrupts() -> None:
    """A worker ignores Ctrl-C while it waits for a notebook (and dies of it no longer), so the pool
    survives; :func:`execute_notebook` lets it interrupt the notebook it runs."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def failure_reason(error: BaseException) -> str:
    """One line naming the exception: the notebook's own (``ename: evalue`` of papermill's
    execution error), else this one's."""
    name, value = getattr(error, "ename", None), getattr(error, "evalue", None)
    if name is None:
        name, value = type(error).__name__, str(error)
    lines = [line for line in str(value).splitlines() if line.strip()]
    text = f"{name}: {lines[-1].strip()}" if lines else name
    return text[:FAILURE_REASON_CHARACTERS]


@contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """Standard output and error into ``log``: Python's streams, papermill's log lines and file
    descriptors 1 and 2 (so the kernel's too); restored afterwards."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    logger = logging.getLogger("papermill")
    with open(log, "w", encoding="utf-8", buffering=1) as file:
        handler = logging.StreamHandler(file)
        handler.setFormatter(logging.Formatter("%(message)s"))
        os.dup2(file.fileno(), 1)
        os.dup2(file.fileno(), 2)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            with redirect_stdout(file), redirect_stderr(file):
                yield
        finally:
            logger.removeHandler(handler)
            for fd, copy in zip((1, 2), saved, strict=True):
                os.dup2(copy, fd)
                os.close(copy)


def _step(terminal: Terminal, label: str, log: Path, command: list[str], env) -> tuple[int, int]:
    """Run ``command`` with its output in ``log``, showing its progress; its status and seconds."""
    with ticking(terminal, label) as seconds, open(log, "w", encoding="utf-8") as out:
        status = subprocess.run(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=PROJECT_ROOT
        ).returncode
    return status, seconds[0]


# --- the notebooks -----------------------------------------------------------------------------------
def run_notebooks(
    tasks: Sequence[NotebookTask], jobs: int, terminal: Terminal
) -> dict[str, NotebookResult]:
    """Execute ``tasks`` in their order, ``jobs`` at a time, in worker processes, with a line per
    finished notebook. On Ctrl-C no more start (``not run``); the running ones end as they do."""
    results: dict[str, NotebookResult] = {}
    queue, running = list(tasks), {}
    import papermill  # noqa: F401  (imported once here, not in each forked worker)

    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    sys.stdout.flush()  # the forked workers must not print it again

    def collect(futures) -> None:
        for future in futures:
            task = running.pop(future)
            results[task.name] = result = _result(future, task)
            terminal.line(_finished_line(result, len(results), len(tasks), task.log))

    workers = min(jobs, len(tasks))
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_ignore_interrupts) as pool:
        started, last = time.monotonic(), 0
        try:
            while queue or running:
                while queue and len(running) < jobs:
                    task = queue.pop(0)
                    try:
                        running[pool.submit(execute_notebook, task)] = task
                    except BrokenProcessPool:  # a worker died: the others are not run
                        queue.clear()
                collect(wait(running, timeout=TICK_SECONDS, return_when=FIRST_COMPLETED)[0])
                if running:
                    names = " ".join(t.name for t in running.values())
                    elapsed = int(time.monotonic() - started)
                    last = terminal.progress(
                        f"    running: {names}", elapsed, f"    ... running: {names} ({elapsed} s)",
                        2 * QUIET_STEP_SECONDS, last,
                    )  # fmt: skip
        except KeyboardInterrupt:
            terminal.clear()
            collect(wait(running)[0])
    for task in tasks:
        results.setdefault(task.name, NotebookResult(task.name, Status.NOT_RUN))
    return results


def _result(future: Future, task: NotebookTask) -> NotebookResult:
    try:
        return future.result()
    except Exception as error:  # the worker process died (killed, out of memory, a native crash)
        return NotebookResult(task.name, Status.FAILED, None, failure_reason(error))


def _finished_line(result: NotebookResult, finished: int, total: int, log: Path) -> str:
    head = f"    [{finished}/{total}] {result.name}:"
    if result.status is Status.OK:
        return f"{head} ok in {result.seconds} s"
    after = f" after {result.seconds} s" if result.seconds is not None else ""
    reason = f": {result.reason}" if result.reason else ""
    return f"{head} {result.status.value.lower()}{after}{reason} (log: {log})"


# --- the data, the report ----------------------------------------------------------------------------
def check_data(terminal: Terminal, logs: Path, env: dict[str, str], lenient: bool) -> None:
    """The raw-file check and the token cache side by side (the cache loads the data strictly too),
    the check's verdict first; without any data the check runs alone first, as it clones the data.
    :class:`RunStopped` when either fails (its log printed to standard error)."""
    from kokoro_analysis.corpus.sources import DEFAULT_DATA_DIR

    lenient_flag = ["--lenient"] if lenient else []
    cli = [sys.executable, "-m", CLI_MODULE]
    validate = [*cli, "validate", "--show", "10", *lenient_flag]
    validate_log, tokenize_log = logs / "validate.log", logs / "tokenize.log"
    if not env.get("KOKOROCHAT_DATA") and not DEFAULT_DATA_DIR.exists():
        validated = _step(
            terminal, "checking the data (cloning it first)", validate_log, validate, env
        )[0]
        background = None
    else:
        with open(validate_log, "w", encoding="utf-8") as out:
            background = subprocess.Popen(
                validate, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=PROJECT_ROOT
            )
    try:
        tokenized, seconds = _step(
            terminal,
            "warming the token cache",
            tokenize_log,
            [*cli, "tokenize", *lenient_flag],
            env,
        )
    finally:
        if background is not None:
            validated = background.wait()
    validation = validate_log.read_text(encoding="utf-8", errors="replace")
    if validated != 0:
        sys.stderr.write(validation)
        raise RunStopped(
            "the data did not validate (see above); fix it, pass --data, or --lenient to skip bad sessions"
        )
    verdict = next(
        (line for line in validation.splitlines() if re.search("sessions|skipped", line, re.I)), ""
    )
    terminal.line(f"==> checked the data: {verdict}")
    tokens = tokenize_log.read_text(encoding="utf-8", errors="replace").splitlines()
    if tokenized != 0:
        sys.stderr.write("".join(f"{line}\n" for line in tokens[-20:]))
        raise RunStopped(f"tokenization failed (full log: {tokenize_log})")
    terminal.line(f"==> token cache ready in {seconds} s: {tokens[-1] if tokens else ''}")


def gather(output_dir: Path, log: Path) -> ReportOutcome:
    """Gather the notebooks' report parts into ``reports/reproduction.{md,html}``; what it says,
    written to ``log``. Nothing is written when no notebook recorded a part."""
    with open(log, "w", encoding="utf-8") as out, redirect_stdout(out), redirect_stderr(out):
        if not any((OutputDirs(output_dir).reports / "parts").glob("*.json")):
            print(f"no report parts in {OutputDirs(output_dir).reports / 'parts'}")
            return ReportOutcome.NOTHING_RECORDED
        from kokoro_analysis.publish.reproduction import gather_report

        try:
            report = gather_report(output_dir)
        except (ValueError, OSError) as error:
            print(f"the reproduction report could not be gathered: {error}")
            return ReportOutcome.NOT_GATHERED
        print(describe_report(report))
    return ReportOutcome.MATCHES if report.ok else ReportOutcome.DIFFERS


def describe_report(report) -> str:
    """What the report says, in lines: its summary and files, the non-default parameters, the
    numbers that differ from the reported value."""
    lines = [
        f"reproduction report: {report.summary}",
        f"  {report.markdown_path}",
        f"  {report.html_path}",
    ]
    if report.parameters_line:
        lines.append(f"{report.parameters_line} (the paper's numbers assume the defaults)")
    if not report.ok:
        lines.append(f"{len(report.failed)} reproduced number(s) differ from the reported value:")
        lines.extend(
            f"  {row.key} ({row.notebook}): reported {row.reported}, ours {row.ours_display} — "
            f"{row.quantity}"
            for row in report.failed.itertuples(index=False)
        )
    return "\n".join(lines)


# --- the run -----------------------------------------------------------------------------------------
def run(options: RunOptions, notebooks_dir: Path = NOTEBOOKS_DIR) -> int:
    """``kokoro-analysis run``: its exit status (see the module docstring)."""
    try:
        return _run(options, notebooks_dir, Terminal())
    except RunStopped as error:
        _error(str(error))
        return 2


def _run(options: RunOptions, notebooks_dir: Path, terminal: Terminal) -> int:
    data = data_environment(os.environ, options.data)
    env = {**os.environ, **data}
    output_dir = (
        output_folder(options.output_dir) if options.output_dir is not None else PROJECT_ROOT
    )
    only = options.only or (["04"] if options.models else [])
    notebooks = select_notebooks(notebooks_dir, only)
    if options.models:
        terminal.line(
            "==> the released models' predictions files (kokoro-analysis reproduce-models)"
        )
        if subprocess.run(
            [sys.executable, "-m", CLI_MODULE, "reproduce-models"], env=env
        ).returncode:
            raise RunStopped("the model runs stopped (run again to continue)")
    logs = output_dir / "logs"
    for folder in (output_dir / "executed", logs):
        folder.mkdir(parents=True, exist_ok=True)
    previous = read_durations(logs / DURATIONS_FILE)
    cores = available_cores()
    jobs = options.jobs or cores
    share = core_share(cores, jobs, len(notebooks))
    terminal.line(f"==> logs: {logs}/")
    check_data(terminal, logs, env, options.lenient)
    parameters = papermill_parameters(output_dir, options.parameters, options.lenient)
    environment = {**data, **share_environment(env, share)}
    tasks = [
        NotebookTask(
            p, output_dir / "executed" / p.name, logs / f"{p.stem}.log", parameters, environment
        )
        for p in longest_first(notebooks, previous)
    ]
    terminal.line(f"==> running {len(tasks)} notebook(s), {jobs} at a time ({share} core(s) each)")
    results = run_notebooks(tasks, jobs, terminal)
    interrupted = any(r.status in (Status.INTERRUPTED, Status.NOT_RUN) for r in results.values())
    outcome = None
    if not interrupted:
        with ticking(terminal, "gathering the reproduction report"):
            outcome = gather(output_dir, logs / "report.log")
    ordered = [results[p.stem] for p in notebooks]
    write_durations(logs / DURATIONS_FILE, previous, ordered)
    _summarise(ordered, outcome, output_dir, options)
    return _exit_status(ordered, outcome, output_dir)


def _summarise(
    results, outcome: ReportOutcome | None, output_dir: Path, options: RunOptions
) -> None:
    """The table of notebooks, the report's lines, the settings and where everything went."""
    logs = output_dir / "logs"
    print(f"\n{'notebook':<32} {'seconds':>8}  status")
    for result in results:
        seconds = "-" if result.seconds is None else result.seconds
        print(f"{result.name:<32} {seconds:>8}  {result.status.value}")
    if outcome not in (None, ReportOutcome.NOTHING_RECORDED):
        print((logs / "report.log").read_text(encoding="utf-8"), end="")
    settings = [f"{name}={value}" for name, value in options.parameters]
    settings += ["lenient=True"] if options.lenient else []
    if settings:
        print(
            f"non-default parameters: {' '.join(settings)} (the paper's numbers assume the defaults)"
        )
    print(f"outputs: {output_dir}/{{figures,tables,reports,executed}}; logs: {logs}/")


def _exit_status(results, outcome: ReportOutcome | None, output_dir: Path) -> int:
    """0; 1 for a failed notebook, or a report that differs or could not be gathered; 130 when
    interrupted. Says why."""
    if failed := [r.name for r in results if r.status is Status.FAILED]:
        _error(
            f"failed notebook(s): {' '.join(failed)} (executed copies with the error are in "
            f"{output_dir}/executed/)"
        )
        return 1
    if outcome is None:
        _error("interrupted: the report was not gathered")
        return 130
    if outcome is ReportOutcome.NOTHING_RECORDED:
        print("no reproduction report: the notebook(s) run write no number the paper reports")
        return 0
    if outcome is ReportOutcome.DIFFERS:
        reports = OutputDirs(output_dir).reports
        _error(
            "the reproduction report has quantities that should match but do not "
            f"(see {reports / 'reproduction.md'})"
        )
    elif outcome is ReportOutcome.NOT_GATHERED:
        _error(outcome.value)
    return 0 if outcome is ReportOutcome.MATCHES else 1


def _error(message: str) -> None:
    print(f"{PROGRAM}: {message}", file=sys.stderr)
