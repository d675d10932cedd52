"""Worker processes: how many this machine gives us, and running a function over parts in them."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

CORES_VARIABLE = "KOKORO_CORES"
"""Environment variable limiting the cores one process uses (``run_all.sh -j N`` gives each of its N
notebooks its share, so parallel notebooks do not oversubscribe the machine)."""


def available_cores() -> int:
    """CPU cores this process may use: its affinity mask (where the OS has one), at most
    ``$KOKORO_CORES`` when that is set."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    limit = os.environ.get(CORES_VARIABLE, "").strip()
    if not limit:
        return cores
    if not limit.isdigit() or int(limit) < 1:
        raise ValueError(f"{CORES_VARIABLE}={limit!r}: expected a whole number of cores, 1 or more")
    return min(cores, int(limit))


def process_running(pid: int) -> bool:
    """Whether a process with id ``pid`` runs (e.g. the writer named in a temporary file's name)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # runs, as another user
        return True
    return True


class WorkerDiedError(RuntimeError):
    """A worker process died (killed, out of memory, a crash in native code): the run fails."""


def map_in_processes(
    function: Callable,
    parts: Iterable,
    workers: int,
    *,
    what: str,
    initializer: Callable[..., None] | None = None,
    initargs: tuple = (),
) -> Iterator:
    """Yield ``function(part)`` for each part, in order, computed in ``workers`` processes (fork where
    available), each started by ``initializer(*initargs)`` (forked workers inherit ``initargs``;
    nothing is pickled). When a worker dies the run stops with :class:`WorkerDiedError` naming
    ``what`` was being done, instead of waiting forever for the lost result."""
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=initializer, initargs=initargs
    ) as pool:
        try:
            yield from pool.map(function, parts)
        except BrokenProcessPool:
            raise WorkerDiedError(
                f"a worker process died while {what} (killed, out of memory, or a crash in native "
                "code); nothing was cached. Run again, or with fewer workers."
            ) from None
