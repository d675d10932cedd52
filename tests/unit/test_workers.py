"""Worker processes fail loudly (issue 13, item 6): a dead worker ends the run with a message; the
cores a process may use can be limited with KOKORO_CORES (run_all.sh -j N)."""

from __future__ import annotations

import os
import signal

import pytest

from kokoro_analysis.workers import WorkerDiedError, available_cores, map_in_processes


def _square_or_die(value: int) -> int:
    if value == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return value * value


def test_results_come_back_in_order():
    assert list(map_in_processes(_square_or_die, [1, 2, 4, 5], 2, what="squaring")) == [
        1,
        4,
        16,
        25,
    ]


_OFFSET = 0


def _set_offset(offset: int) -> None:
    global _OFFSET
    _OFFSET = offset


def _add_offset(value: int) -> int:
    return value + _OFFSET


def test_each_worker_starts_with_the_initializer_and_its_arguments():
    done = map_in_processes(
        _add_offset, [1, 2, 3], 2, what="adding", initializer=_set_offset, initargs=(10,)
    )
    assert list(done) == [11, 12, 13]
    assert _OFFSET == 0  # set in the workers only


def test_a_killed_worker_raises_instead_of_hanging():
    with pytest.raises(WorkerDiedError, match="a worker process died while squaring"):
        list(map_in_processes(_square_or_die, [1, 2, 3, 4], 2, what="squaring"))


def test_kokoro_cores_limits_the_cores(monkeypatch):
    monkeypatch.delenv("KOKORO_CORES", raising=False)
    machine = available_cores()
    monkeypatch.setenv("KOKORO_CORES", "1")
    assert available_cores() == 1
    monkeypatch.setenv("KOKORO_CORES", str(machine + 5))
    assert available_cores() == machine  # never more than the process may use
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("KOKORO_CORES", bad)
        with pytest.raises(ValueError, match="KOKORO_CORES"):
            available_cores()
