"""Untrusted text made safe to show anywhere: every control character becomes a
visible symbol (ESC -> ␛, BEL -> ␇, NUL -> ␀, DEL -> ␡; C1 controls, zero-width
and bidi overrides as ``<U+202E>``), so a terminal, a log viewer (``tail -f``), a
robot message or a report never interprets it. The console, the CLI, logs,
exports and alert messages all use this one function.
"""
from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _picture(m: re.Match) -> str:
    c = ord(m.group())
    if c < 0x20:
        return chr(0x2400 + c)  # the Unicode "control pictures" block
    if c == 0x7F:
        return "\u2421"
    return f"<U+{c:04X}>"


def visible(value: object, *, multiline: bool = False) -> str:
    """``value`` as a string with its control characters made visible. With
    ``multiline`` line breaks (``\\n``, ``\\r\\n``) stay line breaks; otherwise
    they too become symbols, so one value is one line."""
    s = "" if value is None else str(value)
    if multiline:
        return "\n".join(_CONTROL.sub(_picture, line) for line in s.replace("\r\n", "\n").split("\n"))
    return _CONTROL.sub(_picture, s)
