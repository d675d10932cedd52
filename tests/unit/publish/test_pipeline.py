"""kokoro-analysis run's scheduling: which notebooks, in which order, with which share of the cores;
a failing notebook named with its exception while the others run; one meaning per status; exit
statuses. The notebooks here are tiny ones executed for real with papermill."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest

from kokoro_analysis.publish import pipeline
from kokoro_analysis.publish.pipeline import (
    NotebookResult,
    NotebookTask,
    ReportOutcome,
    RunOptions,
    RunStopped,
    Status,
)
from kokoro_analysis.publish.progress import Terminal
from kokoro_analysis.publish.reproduction_log import ReproductionLog


def _notebook(path: Path, code: str) -> Path:
    """A notebook with a ``parameters`` cell (``output_dir``) and one cell of ``code``."""
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('output_dir = "."')
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, nbformat.v4.new_code_cell(code)]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, path)
    return path


def _names(paths) -> list[str]:
    return [p.stem for p in paths]


def test_notebooks_are_the_numbered_ones_and_only_keeps_those_named(tmp_path):
    for name in ("01_corpus", "02_topics", "05_explore", "scratch"):
        _notebook(tmp_path / f"{name}.ipynb", "")
    assert _names(pipeline.select_notebooks(tmp_path, [])) == [
        "01_corpus",
        "02_topics",
        "05_explore",
    ]
    assert _names(pipeline.select_notebooks(tmp_path, ["05", "corp"])) == [
        "01_corpus",
        "05_explore",
    ]
    with pytest.raises(RunStopped, match="no notebook matches --only 9 zz"):
        pipeline.select_notebooks(tmp_path, ["9", "zz"])


def test_longest_first_by_the_last_durations_never_run_first_ties_by_name():
    notebooks = [Path(f"{name}.ipynb") for name in ("01_a", "02_b", "03_c", "04_d", "05_e")]
    durations = {"01_a": 10, "02_b": 99, "04_d": 10, "gone": 500}
    order = pipeline.longest_first(notebooks, durations)
    assert _names(order) == ["03_c", "05_e", "02_b", "01_a", "04_d"]


def test_a_first_run_orders_the_notebooks_by_their_first_run_seconds():
    notebooks = sorted(pipeline.NOTEBOOKS_DIR.glob(pipeline.NOTEBOOK_PATTERN))
    assert {p.stem for p in notebooks} == set(pipeline.FIRST_RUN_SECONDS)  # one per notebook
    order = _names(pipeline.longest_first(notebooks, {}))
    expected = sorted(pipeline.FIRST_RUN_SECONDS, key=pipeline.FIRST_RUN_SECONDS.get, reverse=True)
    assert order == expected
    assert _names(pipeline.longest_first(notebooks, {expected[-1]: 999}))[0] == expected[-1]


def test_durations_keep_the_old_time_of_a_notebook_that_failed_or_did_not_run(tmp_path):
    path = tmp_path / "durations.tsv"
    path.write_text("01_a 10\n02_b 20\nbroken line here\n03_c x\n")
    previous = pipeline.read_durations(path)
    assert previous == {"01_a": 10, "02_b": 20}
    results = [
        NotebookResult("01_a", Status.OK, 12),
        NotebookResult("02_b", Status.FAILED, 1, "ValueError: no"),
        NotebookResult("04_d", Status.OK, 0),
        NotebookResult("05_e", Status.NOT_RUN),
    ]
    pipeline.write_durations(path, previous, results)
    assert path.read_text() == "01_a 12\n02_b 20\n04_d 0\n"
    assert pipeline.read_durations(tmp_path / "missing.tsv") == {}


@pytest.mark.parametrize(
    ("cores", "jobs", "notebooks", "share"),
    [(2, 2, 5, 1), (2, 1, 5, 2), (8, 2, 5, 4), (8, 4, 2, 4), (2, 4, 5, 1), (1, 3, 3, 1)],
)
def test_each_notebook_gets_its_share_of_the_cores(cores, jobs, notebooks, share):
    assert pipeline.core_share(cores, jobs, notebooks) == share


def test_the_share_goes_to_the_cores_and_thread_variables_but_a_users_own_are_kept():
    changes = pipeline.share_environment({"OMP_NUM_THREADS": "3", "KOKORO_CORES": "8"}, 2)
    assert changes == {"KOKORO_CORES": "2", "OPENBLAS_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}


def test_parameters_are_typed_as_papermill_types_them(tmp_path):
    pairs = [("subset", "high"), ("seed", "3"), ("alpha", "0.5"), ("flag", "False"), ("x", "None")]
    parameters = pipeline.papermill_parameters(tmp_path, pairs, lenient=True)
    assert parameters == {
        "output_dir": str(tmp_path),
        "subset": "high",
        "seed": 3,
        "alpha": 0.5,
        "flag": False,
        "x": None,
        "lenient": True,
    }


def test_data_locations_are_made_absolute_and_a_missing_data_path_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "peers").mkdir()
    (tmp_path / "corpus").mkdir()
    changes = pipeline.data_environment(
        {"KOKORO_PEERS_DIR": "peers", "KOKOROCHAT_DATA": "x"}, "corpus"
    )
    assert changes == {
        "KOKOROCHAT_DATA": str(tmp_path / "corpus"),
        "KOKORO_PEERS_DIR": str(tmp_path / "peers"),
    }
    with pytest.raises(RunStopped) as refused:
        pipeline.data_environment({}, "KokoroCaht")
    assert str(refused.value) == (
        "--data KokoroCaht: KokoroChat data not found: KokoroCaht does not exist"
    )


@pytest.mark.parametrize("where", ["file", "under-file"])
def test_an_unusable_output_folder_is_refused_and_nothing_is_written(tmp_path, where, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    out = blocker if where == "file" else blocker / "sub"
    assert pipeline.run(RunOptions(output_dir=str(out))) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"kokoro-analysis run: --output-dir {out} ")
    assert ("not a folder" if where == "file" else "cannot be created") in error
    assert blocker.read_text() == "x" and sorted(tmp_path.iterdir()) == [blocker]


def _refusal_as_nobody(folder: Path) -> str:
    """output_folder(folder) in a forked child that, as root, becomes nobody (root may write
    anywhere): the refusal's message, or "" when accepted."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        try:
            os.close(read)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            try:
                pipeline.output_folder(str(folder))
                message = ""
            except RunStopped as error:
                message = str(error)
            os.write(write, message.encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, encoding="utf-8") as pipe:
        message = pipe.read()
    os.waitpid(pid, 0)
    return message


@pytest.mark.parametrize("where", ["read-only", "under-read-only"])
def test_an_output_folder_that_cannot_be_written_is_refused_up_front(where):
    base = Path(tempfile.mkdtemp())  # not tmp_path: private to its user, and nobody needs a way in
    try:
        base.chmod(0o755)
        folder = base / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        out = folder if where == "read-only" else folder / "sub"
        message = _refusal_as_nobody(out)
        assert message.startswith(f"--output-dir {out} ")
        assert ("is not writable" if where == "read-only" else "cannot be created") in message
        assert list(folder.iterdir()) == []
    finally:
        shutil.rmtree(base)


def test_the_failure_reason_is_the_exceptions_last_line():
    class ExecutionError(Exception):
        ename, evalue = "ValueError", "parameter lang must be 'en' or 'ja', not 'klingon'"

    assert pipeline.failure_reason(ExecutionError()) == (
        "ValueError: parameter lang must be 'en' or 'ja', not 'klingon'"
    )
    assert (
        pipeline.failure_reason(RuntimeError("first\n\nlast line\n")) == "RuntimeError: last line"
    )
    assert pipeline.failure_reason(KeyError()) == "KeyError"
    assert len(pipeline.failure_reason(ValueError("x" * 1000))) == 300


def test_a_failing_notebook_is_named_with_its_exception_and_the_next_still_runs(tmp_path):
    """Executed for real: the first raises, the second runs anyway (one at a time, in the given
    order), prints only into its log and sees its share of the cores; the third is stopped as by
    Ctrl-C."""
    failing = _notebook(tmp_path / "01_fails.ipynb", "raise ValueError('the data is wrong')")
    working = _notebook(
        tmp_path / "02_works.ipynb",
        "import os, sys\nprint('to the log')\nprint('also', file=sys.stderr)\n"
        "open(f'{output_dir}/cores.txt', 'w').write(os.environ['KOKORO_CORES'])",
    )
    stopped = _notebook(tmp_path / "03_stopped.ipynb", "raise KeyboardInterrupt")  # as Ctrl-C does
    out = tmp_path / "out"
    out.mkdir()
    parameters = pipeline.papermill_parameters(out, [], lenient=False)
    tasks = [
        NotebookTask(p, out / p.name, out / f"{p.stem}.log", parameters, {"KOKORO_CORES": "1"})
        for p in (failing, working, stopped)
    ]
    stream = io.StringIO()
    results = pipeline.run_notebooks(tasks, 1, Terminal(stream))
    assert results["01_fails"].status is Status.FAILED
    assert results["01_fails"].reason == "ValueError: the data is wrong"
    assert results["02_works"].status is Status.OK and results["02_works"].seconds >= 0
    assert results["03_stopped"].status is Status.INTERRUPTED
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("    [1/3] 01_fails: failed after ")
    assert lines[0].endswith(f" s: ValueError: the data is wrong (log: {out / '01_fails.log'})")
    assert lines[1].startswith("    [2/3] 02_works: ok in ")
    assert lines[2].startswith("    [3/3] 03_stopped: interrupted after ") and len(lines) == 3
    assert "the data is wrong" in (out / "01_fails.log").read_text()
    log = (out / "02_works.log").read_text()
    assert "to the log" in log and "also" in log and "Executing" in log
    assert (out / "cores.txt").read_text() == "1"
    assert (out / "01_fails.ipynb").exists() and (out / "02_works.ipynb").exists()


def _part(output_dir: Path, ours: int) -> None:
    log = ReproductionLog("01_corpus_statistics", output_dir)
    log.record("stats.utterances.total", ours)
    log.save()


def test_the_report_step_tells_nothing_recorded_from_a_difference(tmp_path):
    log = tmp_path / "report.log"
    assert pipeline.gather(tmp_path, log) is ReportOutcome.NOTHING_RECORDED
    assert not (tmp_path / "reports" / "reproduction.md").exists()
    _part(tmp_path, 600939)
    assert pipeline.gather(tmp_path, log) is ReportOutcome.MATCHES
    _part(tmp_path, 600940)
    assert pipeline.gather(tmp_path, log) is ReportOutcome.DIFFERS
    assert "stats.utterances.total (01_corpus_statistics): reported" in log.read_text()
    (tmp_path / "reports" / "parts" / "02_broken.json").write_text("{not json")
    assert pipeline.gather(tmp_path, log) is ReportOutcome.NOT_GATHERED
    assert "could not be gathered" in log.read_text()


@pytest.mark.parametrize(
    ("statuses", "outcome", "code", "said"),
    [
        ([Status.OK], ReportOutcome.MATCHES, 0, ""),
        ([Status.OK], ReportOutcome.NOTHING_RECORDED, 0, "no reproduction report"),
        ([Status.OK], ReportOutcome.DIFFERS, 1, "should match but do not"),
        ([Status.OK], ReportOutcome.NOT_GATHERED, 1, "could not be read"),
        ([Status.OK, Status.FAILED], ReportOutcome.NOTHING_RECORDED, 1, "failed notebook(s): 02"),
        ([Status.OK, Status.NOT_RUN], None, 130, "interrupted"),
        ([Status.INTERRUPTED, Status.NOT_RUN], None, 130, "interrupted"),
    ],
)
def test_exit_statuses(statuses, outcome, code, said, tmp_path, capsys):
    results = [NotebookResult(f"0{i + 1}", status, 1) for i, status in enumerate(statuses)]
    assert pipeline._exit_status(results, outcome, tmp_path) == code
    printed = capsys.readouterr()
    assert said in printed.out + printed.err
    assert (code == 0) == (printed.err == "")
