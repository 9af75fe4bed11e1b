"""Pure helpers for showing untrusted text and countdowns (no Textual imports).

Feed text is hostile: it is always wrapped in ``rich.text.Text`` (never parsed as
markup) and control characters, ANSI escapes included, become visible symbols.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from rich.text import Text

from tui.facade import local, visible

# Personal data (phone/ID numbers, e-mail, home addresses) always has 3+ digits or an "@".
_MAYBE_PERSONAL = re.compile(r"[0-9\uff10-\uff19]{3}|@|＠")


def clean(value: object, *, oneline: bool = True, mask: bool = True) -> str:
    """``value`` as a string with every control character made visible and, unless
    ``mask=False``, personal data masked (DESIGN: masked on screens by default)."""
    s = "" if value is None else str(value)
    if mask and _MAYBE_PERSONAL.search(s):
        from tui.facade import mask_personal

        s = mask_personal(s)
    return visible(s, multiline=not oneline)


def safe(value: object, style: str = "", *, width: int | None = None, oneline: bool = True,
         mask: bool = True) -> Text:
    """Untrusted text as a Rich ``Text`` (markup never interpreted, personal data masked),
    optionally cut to ``width`` cells."""
    t = Text(clean(value, oneline=oneline, mask=mask), style=style, no_wrap=oneline, end="")
    if width is not None and t.cell_len > width:
        t.truncate(max(1, width - 1))
        t.append("…")
    return t


# ------------------------------------------------------------------ countdowns

#: status -> (label, marker, style). The marker keeps the status readable without colour.
LEVELS = {
    "normal": ("正常", " ", "green"),
    "warning": ("预警", "!", "yellow"),
    "urgent": ("紧急", "‼", "bold red"),
    "overdue": ("已超时", "✖", "bold white on red"),
    "released": ("已发布", "✔", "dim green"),
}


def countdown_status(due: datetime, now: datetime, released_at: datetime | None = None) -> str:
    if released_at is not None:
        return "released"
    left = due - now
    if left < timedelta(0):
        return "overdue"
    if left < timedelta(hours=4):
        return "urgent"
    if left <= timedelta(hours=12):
        return "warning"
    return "normal"


def fmt_span(td: timedelta) -> str:
    """12:03:07 (hours may exceed 24)."""
    secs = int(abs(td.total_seconds()))
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{s:02d}"


def countdown_text(due: datetime, now: datetime, released_at: datetime | None = None) -> Text:
    """The board's countdown cell: marker, label and time, coloured by level."""
    status = countdown_status(due, now, released_at)
    label, marker, style = LEVELS[status]
    if status == "released":
        body = f"{marker}{label}"
    elif status == "overdue":
        body = f"{marker}超时 {fmt_span(now - due)}"
    else:
        body = f"{marker}{fmt_span(due - now)}"
    return Text(body, style=style, no_wrap=True, end="")


def sort_key(due: datetime, released_at: datetime | None) -> tuple:
    """Unreleased incidents first, by time left (overdue first); released ones after."""
    return (released_at is not None, due)


def local_time(dt: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    if dt is None:
        return "—"
    return local(dt).strftime(fmt)


def parse_local(value: str, now: datetime) -> datetime:
    """Staff-typed time: ISO 8601, "YYYY-MM-DD HH:MM" or "HH:MM" (today), Asia/Shanghai unless offset given.

    Raises ValueError with a Chinese message.
    """
    from tui.facade import UTC, TimeInputError, parse_desk_time

    s = (value or "").strip()
    if not s:
        return now
    if re.fullmatch(r"\d{1,2}:\d{2}", s):
        h, m = map(int, s.split(":"))
        try:
            return local(now).replace(hour=h, minute=m, second=0, microsecond=0).astimezone(UTC)
        except ValueError:
            pass
    else:
        try:
            return parse_desk_time(s)
        except TimeInputError:
            pass
    raise ValueError(f"时间格式不对：{s!r}（例如 2026-06-14 10:30 或 10:30，北京时间）")
