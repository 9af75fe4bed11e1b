"""China's working-day calendar for every package: which desk-local day is a working day (工作日,
including the 调休 make-up working Saturdays and Sundays), a rest day (休息日) or a public holiday
(法定节假日), from the ``chinesecalendar`` package; and the one working-day arithmetic (the Nth
working day after a day, a deadline "within N working days", working days between two days).

It lives next to ``timeutil`` because it is time arithmetic every floor may need (responders'
roster and working-day clocks, the CLI, the console) and it does no I/O. A year the package does
not cover yet is counted Monday–Friday as working days; :func:`calendar_gaps` names such years so
callers can warn ("update chinesecalendar").

"Within N working days" (N ≥ 1) means: by the end of the Nth working day after the desk-local day
of receipt. Received on Friday 2026-02-13 with N = 1: the next working day is the 调休 Saturday
2026-02-14, so the deadline is 2026-02-15 00:00 desk time (the end of 02-14).
"""
from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from typing import Iterable, Literal
from zoneinfo import ZoneInfo

from storage.timeutil import UTC, desk_tz

DayKind = Literal["workday", "restday", "holiday"]
DAY_KIND_LABELS = {"workday": "工作日", "restday": "休息日", "holiday": "法定节假日"}
HOLIDAY_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "抗战胜利纪念日",
}
_MAX_SCAN = 400  # days: no stretch of China's calendar has this many days without a working day


def _detail(day: date) -> tuple[bool, str | None, bool]:
    """(is_workday, holiday name or None, known): from chinesecalendar, else Monday–Friday."""
    import chinese_calendar

    try:
        workday = chinese_calendar.is_workday(day)
        _, name = chinese_calendar.get_holiday_detail(day)
        return workday, name, True
    except NotImplementedError:  # a year the installed package has no schedule for
        return day.weekday() < 5, None, False


def is_workday(day: date) -> bool:
    """A working day: Monday–Friday outside holidays, and the 调休 make-up days."""
    return _detail(day)[0]


def day_kind(day: date) -> DayKind:
    """``workday`` (make-up days included), ``holiday`` (a public holiday's days off, the
    weekend days inside it included) or ``restday`` (an ordinary weekend day)."""
    workday, name, _ = _detail(day)
    if workday:
        return "workday"
    return "holiday" if name else "restday"


def day_label(day: date) -> str:
    """How staff read a day's kind: 工作日, 调休上班（春节）, 法定节假日（国庆节）, 休息日."""
    workday, name, _ = _detail(day)
    zh = HOLIDAY_NAMES.get(name or "", name or "")
    if workday:
        return f"调休上班（{zh}）" if name else "工作日"
    return f"法定节假日（{zh}）" if name else "休息日"


def calendar_gaps(days: Iterable[date]) -> list[int]:
    """The years among ``days`` the installed calendar has no schedule for (counted Mon–Fri)."""
    return sorted({d.year for d in days if not _detail(d)[2]})


@functools.lru_cache(maxsize=8192)  # a desk asks for the same few days for thousands of items
def add_workdays(day: date, n: int) -> date:
    """The ``n``-th working day after ``day`` (``day`` itself never counts; ``n`` ≥ 1)."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    found = 0
    current = day
    for _ in range(_MAX_SCAN * n):
        current += timedelta(days=1)
        if is_workday(current):
            found += 1
            if found == n:
                return current
    raise ValueError(f"no {n} working days within {_MAX_SCAN * n} days after {day}")  # pragma: no cover


def workdays_between(start: date, end: date) -> int:
    """Working days in (``start``, ``end``]: after ``start``, up to and including ``end``
    (0 when ``end`` ≤ ``start``)."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        count += is_workday(current)
    return count


def desk_day(at: datetime, tz: ZoneInfo | None = None) -> date:
    """The desk-local calendar day of an aware time."""
    return at.astimezone(tz or desk_tz()).date()


def day_start(day: date, tz: ZoneInfo | None = None) -> datetime:
    """Midnight starting ``day`` in desk time, as aware UTC."""
    return datetime.combine(day, time(0), tzinfo=tz or desk_tz()).astimezone(UTC)


def workday_deadline(received: datetime, n: int, tz: ZoneInfo | None = None) -> tuple[date, datetime]:
    """The deadline of something received at ``received`` that is due "within ``n`` working
    days": ``(due_day, due_at)`` where ``due_day`` is the ``n``-th working day after the desk day
    of receipt and ``due_at`` the end of that day (the next midnight, desk time, as UTC); it is
    overdue from ``due_at`` on."""
    due_day = add_workdays(desk_day(received, tz), n)
    return due_day, day_start(due_day + timedelta(days=1), tz)
