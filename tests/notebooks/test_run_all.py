"""run_all.sh (kokoro-analysis run) end to end on synthetic data: options, per-notebook summary, exit
codes. The scheduling itself is unit-tested in tests/unit/publish/test_pipeline.py."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from kokoro_analysis.paths import PROJECT_ROOT

pytestmark = pytest.mark.notebook


def run_all(*args: str, tmp_path) -> subprocess.CompletedProcess:
    """Run ./run_all.sh with this interpreter's environment active (so it creates no .venv)."""
    env = {
        **os.environ,
        "VIRTUAL_ENV": sys.prefix,
        "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}",
    }
    env.pop("KOKOROCHAT_DATA", None)
    # the real translations (CI sets KOKOROCHAT_TRANSLATIONS) do not align with synthetic data
    env.pop("KOKOROCHAT_TRANSLATIONS", None)
    return subprocess.run(
        [str(PROJECT_ROOT / "run_all.sh"), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_help_and_bad_options(tmp_path):
    shown = run_all("--help", tmp_path=tmp_path)
    assert shown.returncode == 0 and "--test [PYTEST ARGS]" in shown.stdout
    assert "--output-dir DIR" in shown.stdout and "-j N, --jobs N" in shown.stdout
    bad = run_all("--frobnicate", tmp_path=tmp_path)
    assert bad.returncode == 2 and "unrecognized arguments: --frobnicate" in bad.stderr
    none = run_all("--only", "no-such-notebook", tmp_path=tmp_path)
    assert none.returncode == 2 and "no notebook matches" in none.stderr


def test_one_notebook_on_synthetic_data(tmp_path, synthetic_dir):
    out = tmp_path / "out"
    result = run_all(
        "--data", str(synthetic_dir), "--only", "02", "--output-dir", str(out), tmp_path=tmp_path
    )
    # synthetic sessions cannot match the paper: the run succeeds but the report gate fails
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert "02_topic_distribution" in result.stdout and " ok" in result.stdout
    assert "should match but do not" in result.stderr
    assert (out / "executed" / "02_topic_distribution.ipynb").exists()
    assert (out / "tables" / "topic_shares.csv").exists()
    assert (out / "reports" / "reproduction.html").exists()
    assert not (out / "executed" / "01_corpus_statistics.ipynb").exists()


def test_a_failing_notebook_is_named_and_the_others_still_run(tmp_path, synthetic_dir):
    out = tmp_path / "out"
    result = run_all(
        "--data",
        str(synthetic_dir),
        "--only",
        "01",
        "--only",
        "02",
        "--output-dir",
        str(out),
        "-p",
        "lang",
        "klingon",
        tmp_path=tmp_path,
    )
    assert result.returncode == 1
    assert "failed notebook(s): 01_corpus_statistics 02_topic_distribution" in result.stderr
    assert result.stdout.count("FAILED") == 2
    assert "non-default parameters: lang=klingon" in result.stdout
    assert "klingon" in (out / "logs" / "01_corpus_statistics.log").read_text(encoding="utf-8")


def test_version_and_bad_job_counts(tmp_path):
    from kokoro_analysis import __version__

    version = run_all("--version", tmp_path=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"kokoro-analysis {__version__}"
    for bad in ("0", "two"):
        result = run_all("-j", bad, tmp_path=tmp_path)
        assert result.returncode == 2 and "argument -j/--jobs" in result.stderr


def test_parallel_run_matches_a_serial_run(tmp_path, synthetic_dir):
    """Notebooks run side by side write the same figures and tables, byte for byte, as one by one;
    the terminal gets one line per notebook with its time, the full output goes to logs/."""
    outputs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        result = run_all(
            "--data",
            str(synthetic_dir),
            "--only",
            "02",
            "--only",
            "05",
            "-j",
            jobs,
            "--output-dir",
            str(out),
            tmp_path=tmp_path,
        )
        assert "failed notebook(s)" not in result.stderr, (
            result.stdout[-2000:] + result.stderr[-2000:]
        )
        assert f"2 notebook(s), {jobs} at a time" in result.stdout
        assert re.search(r"\[\d/2\] 05_explore_sessions: ok in \d+ s", result.stdout)
        assert f"logs: {out / 'logs'}/" in result.stdout
        assert (
            "Executing notebook" not in result.stdout + result.stderr
        )  # papermill's output is in the log
        assert "Executing" in (out / "logs" / "05_explore_sessions.log").read_text(encoding="utf-8")
        outputs[jobs] = {
            p.relative_to(out): p.read_bytes()
            for folder in ("figures", "tables")
            for p in sorted((out / folder).rglob("*"))
            if p.is_file()
        }
    assert len(outputs["1"]) > 10 and any(p.suffix == ".pdf" for p in outputs["1"])
    assert outputs["1"].keys() == outputs["2"].keys()
    differ = [str(p) for p in outputs["1"] if outputs["1"][p] != outputs["2"][p]]
    assert not differ, f"outputs differ between serial and parallel runs: {differ}"


def test_notebooks_run_longest_first_by_their_last_durations(tmp_path, synthetic_dir):
    """With -j N a long notebook started last would finish alone: the notebooks start in the order of
    the seconds they took last time (logs/durations.tsv), which each run updates; each notebook gets
    its share of the cores."""
    out = tmp_path / "out"
    (out / "logs").mkdir(parents=True)
    (out / "logs" / "durations.tsv").write_text("02_topic_distribution 1\n05_explore_sessions 99\n")
    args = ("--data", str(synthetic_dir), "--only", "02", "--only", "05", "--output-dir", str(out))
    result = run_all(*args, "-j", "1", tmp_path=tmp_path)
    assert "failed notebook(s)" not in result.stderr, result.stdout[-2000:] + result.stderr[-2000:]
    order = re.findall(r"\[\d/2\] (\w+): ok", result.stdout)
    assert order == ["05_explore_sessions", "02_topic_distribution"]
    assert re.search(r"2 notebook\(s\), 1 at a time \(\d+ core\(s\) each\)", result.stdout)
    durations = dict(
        line.split() for line in (out / "logs" / "durations.tsv").read_text().splitlines()
    )
    assert durations.keys() == {"02_topic_distribution", "05_explore_sessions"}
    assert all(seconds.isdigit() for seconds in durations.values())
    assert durations["05_explore_sessions"] != "99"  # this run's time replaced the old one


def test_a_missing_data_path_is_named_as_given_with_data(tmp_path):
    result = run_all("--data", str(tmp_path / "KokoroCaht"), "--only", "01", tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"kokoro-analysis run: --data {tmp_path / 'KokoroCaht'}: KokoroChat data not found: "
        f"{tmp_path / 'KokoroCaht'} does not exist"
    )


def test_a_notebook_writing_no_report_part_exits_0_and_a_failure_says_why(tmp_path, synthetic_dir):
    out = tmp_path / "new"
    result = run_all(
        "--data", str(synthetic_dir), "--only", "05", "--output-dir", str(out), tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "no reproduction report" in result.stdout and "should match" not in result.stderr
    failed = run_all(
        "--data", str(synthetic_dir), "--only", "05", "--output-dir", str(out),
        "-p", "lang", "klingon", tmp_path=tmp_path,
    )  # fmt: skip
    assert failed.returncode == 1
    assert re.search(
        r"\[1/1\] 05_explore_sessions: failed after \d+ s: ValueError: parameter lang must be .*"
        r"\(log: .*05_explore_sessions.log\)",
        failed.stdout,
    )
