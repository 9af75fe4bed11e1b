"""JSON Lines input for the command-line tools: bounded lines and one error type per bad line.

A line longer than MAX_LINE_CHARS is skipped without being held in memory, and JSON nested too
deeply is a bad line like any other, so a tool reports the line and goes on with the next one.
"""
from __future__ import annotations

import json
from typing import IO, Iterator

from yuqing.errors import DeskError

#: Longest line read (characters of a text stream, bytes of a binary one): far above any
#: article or post; a longer line is reported and skipped unread.
MAX_LINE_CHARS = 1 << 20


class BadJSON(DeskError, ValueError):
    """A line that is not readable JSON; the message says why, in a few words."""


def loads(line: str | bytes) -> object:
    """``json.loads`` with every way to fail as BadJSON ("not valid JSON (...)")."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadJSON(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise BadJSON("not valid JSON (nested too deeply)") from None


def too_long_message(limit: int = MAX_LINE_CHARS) -> str:
    return f"line longer than {limit:,} characters; skipped"


def bounded_lines(fh: IO, limit: int = MAX_LINE_CHARS) -> Iterator[tuple[int, str | bytes | None]]:
    """(line number, line) for each line of ``fh``; None in place of a line longer than ``limit``,
    whose rest is read and dropped in small pieces."""
    n = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        n += 1
        newline = "\n" if isinstance(line, str) else b"\n"
        if len(line) > limit and not line.endswith(newline):
            while True:
                rest = fh.readline(1 << 16)
                if not rest or rest.endswith(newline):
                    break
            yield n, None
            continue
        yield n, line
