"""Time encoding shared by every package: aware datetimes, stored as UTC ISO 8601."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

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


def local(dt: datetime, tz: ZoneInfo = DEFAULT_TZ) -> datetime:
    return dt.astimezone(tz)
