"""The similarities stage's progress bar: drawn on a terminal, silent in a log file, and never
mixed with the stage's one-line messages."""

from __future__ import annotations

import io
import re

from tuner.pipeline import ProgressBar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(stream: io.StringIO) -> list[str]:
    bar = ProgressBar(stream)
    lines: list[str] = []
    log = bar.write(lambda message: (lines.append(message), stream.write(message + "\n")))
    log("slim: computing top-100 neighbours of 10,000 items ...")
    for done in range(0, 10_001, 2_500):
        bar("slim", done, 10_000)
    log("slim: done in 3.0 s")
    bar("ials", 0, 10_000)
    bar("ials", 5_000, 10_000)
    log("ials: done in 1.0 s")  # closes the unfinished bar before the line
    bar.close()
    return lines


def test_the_bar_is_drawn_on_a_terminal_and_closed_before_each_line() -> None:
    stream = _Terminal()
    _run(stream)
    text = stream.getvalue()
    for method in ("slim", "ials"):
        assert re.search(rf"\r{method}:\s+\d+%\|.*\| [\d,]+/10000 ", text), text
    # each message starts at the line's beginning, the bar before it cleared
    for message in ("slim: done in 3.0 s\n", "ials: done in 1.0 s\n"):
        assert re.search(r"\r +\r" + re.escape(message), text), text


def test_a_log_file_gets_the_lines_and_no_bar() -> None:
    stream = io.StringIO()
    lines = _run(stream)
    assert stream.getvalue() == "".join(line + "\n" for line in lines)
    assert "\r" not in stream.getvalue()
