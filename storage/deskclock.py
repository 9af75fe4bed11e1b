"""The desk-clock override: ``YUQING_NOW`` (ISO 8601; no offset = desk time, 1970–2999) pins
the clock of a command for demos and tests. The one place that reads it."""
from __future__ import annotations

import os
from datetime import datetime
from typing import Callable, Mapping

from storage.timeutil import UTC, parse_desk_time

NOW_ENV = "YUQING_NOW"


def pinned_now(environ: Mapping[str, str] | None = None) -> datetime | None:
    """The pinned time as aware UTC, None when the clock is not pinned. Raises
    :class:`storage.timeutil.TimeInputError` for a value that is not a time in range."""
    value = (os.environ if environ is None else environ).get(NOW_ENV)
    if not value:
        return None
    return parse_desk_time(value, name=NOW_ENV)


def desk_clock(environ: Mapping[str, str] | None = None) -> Callable[[], datetime]:
    """The clock of a command: the pinned time, else the wall clock in UTC."""
    fixed = pinned_now(environ)
    if fixed is None:
        return lambda: datetime.now(UTC)
    return lambda: fixed
