"""Progress on the terminal for long steps: a live line rewritten in place on a terminal, a line now
and then otherwise (a log file, CI)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

TICK_SECONDS = 0.2
"""How often a live line is rewritten."""
QUIET_STEP_SECONDS = 15
"""Without a terminal, a step in progress prints a line this often."""


class Terminal:
    """Short progress lines: on a terminal a live line rewritten in place, otherwise a line now and
    then."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty()

    def line(self, text: str) -> None:
        self.stream.write(("\r\033[K" if self.live else "") + text + "\n")
        self.stream.flush()

    def progress(self, text: str, elapsed: int, quiet_text: str, every: int, last: int) -> int:
        """``text ... N s`` in place on a terminal; else ``quiet_text`` when ``every`` seconds passed
        since ``last``; returns when it last printed."""
        if self.live:
            self.stream.write(f"\r{text} ... {elapsed} s")
            self.stream.flush()
        elif elapsed - last >= every:
            self.line(quiet_text)
            return elapsed
        return last

    def clear(self) -> None:
        if self.live:
            self.stream.write("\r\033[K")
            self.stream.flush()


@contextmanager
def ticking(terminal: Terminal, label: str) -> Iterator[list[int]]:
    """Show the seconds a step has taken while the block runs; yields a list that holds them after."""
    started, stop, seconds = time.monotonic(), threading.Event(), [0]

    def tick() -> None:
        last = 0
        while not stop.wait(TICK_SECONDS):
            elapsed = int(time.monotonic() - started)
            last = terminal.progress(
                f"==> {label}", elapsed, f"    ... {label}: {elapsed} s", QUIET_STEP_SECONDS, last
            )

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield seconds
    finally:
        stop.set()
        ticker.join()
        terminal.clear()
        seconds[0] = round(time.monotonic() - started)
