"""China's working-day calendar and the one working-day arithmetic (storage/workdays.py), across the
2026 Spring Festival (02-15..02-23 off; Saturdays 02-14 and 02-28 are 调休 working days) and National
Day 2026 (10-01..10-07 off; Sunday 09-20 and Saturday 10-10 are working days)."""
from __future__ import annotations

from datetime import date, datetime

from storage.timeutil import DEFAULT_TZ, UTC
from storage.workdays import add_workdays, calendar_gaps, day_kind, day_label, is_workday, workday_deadline, \
    workdays_between


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=DEFAULT_TZ)


def test_day_kinds_around_the_spring_festival_2026():
    assert day_kind(date(2026, 2, 13)) == "workday"  # Friday
    assert day_kind(date(2026, 2, 14)) == "workday" and day_label(date(2026, 2, 14)) == "调休上班（春节）"
    assert day_kind(date(2026, 2, 15)) == "holiday" and day_label(date(2026, 2, 15)) == "法定节假日（春节）"
    assert day_kind(date(2026, 2, 21)) == "holiday"  # a Saturday inside the holiday
    assert day_kind(date(2026, 2, 23)) == "holiday"  # a Monday, still off
    assert day_kind(date(2026, 2, 24)) == "workday"
    assert day_kind(date(2026, 2, 28)) == "workday"  # the second make-up Saturday
    assert day_kind(date(2026, 3, 1)) == "restday" and day_label(date(2026, 3, 1)) == "休息日"


def test_add_workdays_across_the_spring_festival():
    # received Friday 02-13: the next working day is the make-up Saturday
    assert add_workdays(date(2026, 2, 13), 1) == date(2026, 2, 14)
    # received on the make-up Saturday: nine days off follow
    assert add_workdays(date(2026, 2, 14), 1) == date(2026, 2, 24)
    # received during the holiday: the first working day after it
    assert add_workdays(date(2026, 2, 18), 1) == date(2026, 2, 24)
    # seven working days from 02-12: 13, 14, 24, 25, 26, 27, 28 (the second make-up Saturday)
    assert add_workdays(date(2026, 2, 12), 7) == date(2026, 2, 28)
    assert add_workdays(date(2026, 2, 13), 7) == date(2026, 3, 2)


def test_add_workdays_across_national_day_2026():
    assert is_workday(date(2026, 9, 20))  # Sunday make-up day
    assert add_workdays(date(2026, 9, 19), 1) == date(2026, 9, 20)
    assert add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)  # 10-08, 10-09 and Saturday 10-10
    # 09-29, 09-30, 10-08, 10-09, Saturday 10-10, (Sunday 10-11 off), 10-12, 10-13
    assert add_workdays(date(2026, 9, 28), 7) == date(2026, 10, 13)


def test_workdays_between():
    assert workdays_between(date(2026, 2, 13), date(2026, 2, 24)) == 2  # 02-14 and 02-24
    assert workdays_between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    assert workdays_between(date(2026, 10, 8), date(2026, 10, 8)) == 0
    assert workdays_between(date(2026, 10, 9), date(2026, 10, 8)) == 0


def test_deadline_is_the_end_of_the_nth_working_day_in_desk_time():
    # a call at 23:30 Beijing time on Friday 02-13 (15:30 UTC) is received on 02-13, not 02-14
    due_day, due_at = workday_deadline(_t("2026-02-13 23:30").astimezone(UTC), 1)
    assert due_day == date(2026, 2, 14)
    assert due_at == _t("2026-02-15 00:00")
    due_day, due_at = workday_deadline(_t("2026-02-14 09:00"), 1)
    assert (due_day, due_at) == (date(2026, 2, 24), _t("2026-02-25 00:00"))


def test_a_year_without_a_schedule_counts_monday_to_friday_and_says_so():
    assert calendar_gaps([date(2026, 12, 31), date(2099, 1, 2)]) == [2099]
    assert is_workday(date(2099, 1, 2)) is True  # a Friday
    assert is_workday(date(2099, 1, 3)) is False  # a Saturday
