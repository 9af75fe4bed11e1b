"""Time shared by every package: aware datetimes, stored as UTC ISO 8601; and desk time, the one
parser and the formatters for times staff type and read (the desk's zone, Beijing time by default)."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from storage.errors import StorageError

UTC = timezone.utc
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db(dt: datetime | None) -> str | None:
    """Encode an aware datetime as a sortable UTC string (``2026-06-14T02:00:00.000000+00:00``)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt!r}: the desk stores aware times only")
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def from_db(value: str | None) -> datetime | None:
    if value is None or value == "":
        return None
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def local(dt: datetime, tz: ZoneInfo | None = None) -> datetime:
    """``dt`` in desk time (or ``tz``)."""
    return dt.astimezone(tz or desk_tz())


# ---------------------------------------------------------------- desk time for people
# Staff read and type desk time (the desk's [desk] timezone, Asia/Shanghai by default); storage
# stays UTC. These are the one parser and the formatters for times a person types or reads.
# The zone is one fact per process: the CLI and the daemon set it from desk.toml (set_desk_tz)
# before anything is parsed or shown; everything else reads desk_tz().

_desk_tz: ZoneInfo = DEFAULT_TZ


def desk_tz() -> ZoneInfo:
    """The desk's time zone ([desk] timezone of desk.toml; Asia/Shanghai until set)."""
    return _desk_tz


def set_desk_tz(tz: ZoneInfo | None) -> None:
    """Use ``tz`` (None: Asia/Shanghai) for every time people type or read in this process."""
    global _desk_tz
    _desk_tz = tz or DEFAULT_TZ


class TimeInputError(StorageError, ValueError):
    """A time typed by a person that cannot be read; the message says how to write it."""


_SPACED_OFFSET = re.compile(r"\s+(?=(?:[+-]\d{2}:?\d{2}|Z)$)")


def zone_label(tz: ZoneInfo | None = None) -> str:
    """The desk zone's name for staff: 北京时间 for Asia/Shanghai, else the zone's key."""
    tz = tz or desk_tz()
    return "北京时间" if getattr(tz, "key", "") == "Asia/Shanghai" else f"{getattr(tz, 'key', tz)} 时间"


def parse_desk_time(text: str, *, tz: ZoneInfo | None = None, name: str = "时间") -> datetime:
    """A time typed by a person as aware UTC. ISO 8601 forms (``2026-12-06 05:40``,
    ``2026-12-06T05:40:00``, ``2026/12/06 05:40``, a bare date = its midnight); without an offset it
    is desk time (``tz``); with one (``+08:00``, ``Z``, or our own output ``2026-12-06 05:40 +08:00``)
    it is taken as given. Raises :class:`TimeInputError` naming ``name`` with an example."""
    tz = tz or desk_tz()
    raw = "" if text is None else str(text)
    s = _SPACED_OFFSET.sub("", raw.strip()).replace("/", "-")
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise TimeInputError(
            f"{name}: 无法识别的时间 {raw!r}（例如 2026-12-06 05:40，按{zone_label(tz)}；"
            f"或带时区 2026-12-06T05:40+08:00） / not an ISO 8601 time: {raw!r} (e.g. 2026-12-06 05:40 in desk "
            f"time {tz.key}, or with an offset: 2026-12-06T05:40+08:00)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    if not 1970 <= dt.year <= 2999:
        raise TimeInputError(f"{name}: {raw!r} 超出范围（1970–2999 年） / out of range (use a time between "
                             "1970 and 2999)")
    return dt.astimezone(UTC)


def parse_desk_date(text: str, *, name: str = "日期") -> date:
    """A calendar day typed by a person (``2026-12-06`` or ``2026/12/06``), a desk-local day."""
    raw = "" if text is None else str(text)
    try:
        day = date.fromisoformat(raw.strip().replace("/", "-"))
    except ValueError:
        raise TimeInputError(f"{name}: 无法识别的日期 {raw!r}（例如 2026-12-06） / not a date: {raw!r} "
                             "(use YYYY-MM-DD, e.g. 2026-12-06)") from None
    if not 1970 <= day.year <= 2999:
        raise TimeInputError(f"{name}: {raw!r} 超出范围（1970–2999 年） / out of range (use a date between "
                             "1970 and 2999)")
    return day


def desk_text(dt: datetime | None, tz: ZoneInfo | None = None, *, seconds: bool = False,
              offset: bool = True, none: str = "—") -> str:
    """A time as a person reads it: ``2026-12-06 05:40 +08:00`` in desk time (``none`` for None)."""
    if dt is None:
        return none
    d = dt.astimezone(tz or desk_tz())
    text = d.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    if offset:
        off = d.strftime("%z")  # +0800
        text += f" {off[:3]}:{off[3:]}"
    return text


def desk_iso(dt: datetime | None, tz: ZoneInfo | None = None, *, timespec: str = "seconds") -> str | None:
    """ISO 8601 with the desk's offset (``2026-12-06T05:40:00+08:00``) for JSON people may read."""
    return None if dt is None else dt.astimezone(tz or desk_tz()).isoformat(timespec=timespec)


def desk_stamp(dt: datetime, tz: ZoneInfo | None = None) -> str:
    """Desk time for a file name: ``20261206-054000``."""
    return dt.astimezone(tz or desk_tz()).strftime("%Y%m%d-%H%M%S")
