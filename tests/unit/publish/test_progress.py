"""Progress lines: rewritten in place on a terminal, now and then elsewhere (a log, CI)."""

from __future__ import annotations

import io

from kokoro_analysis.publish.progress import Terminal, ticking


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_without_a_terminal_a_line_comes_only_every_so_often():
    stream = io.StringIO()
    terminal = Terminal(stream)
    last = terminal.progress("==> step", 10, "    ... step: 10 s", 15, 0)
    assert (last, stream.getvalue()) == (0, "")
    last = terminal.progress("==> step", 16, "    ... step: 16 s", 15, last)
    assert (last, stream.getvalue()) == (16, "    ... step: 16 s\n")
    terminal.clear()
    terminal.line("==> done")
    assert stream.getvalue() == "    ... step: 16 s\n==> done\n"


def test_on_a_terminal_the_line_is_rewritten_and_cleared_before_the_next():
    stream = _Tty()
    terminal = Terminal(stream)
    assert terminal.progress("==> step", 3, "unused", 15, 0) == 0
    terminal.line("==> done")
    assert stream.getvalue() == "\r==> step ... 3 s\r\033[K==> done\n"


def test_ticking_gives_the_seconds_and_leaves_no_line_behind():
    stream = io.StringIO()
    with ticking(Terminal(stream), "a quick step") as seconds:
        pass
    assert isinstance(seconds[0], int) and seconds[0] >= 0
    assert stream.getvalue() == ""
    live = _Tty()
    with ticking(Terminal(live), "a quick step"):
        pass
    assert live.getvalue().endswith("\r\033[K")
