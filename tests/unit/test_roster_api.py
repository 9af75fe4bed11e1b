"""The roster's public API others call (alerts, handover, console): on_duty, next_shift,
shift_ending, roster_gaps, on a real desk database."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from responders.roster import make_shift, next_shift, on_duty, roster_gaps, shift_ending, store_shifts
from responders.staff import add_staff
from responders.store import open_desk
from storage.timeutil import DEFAULT_TZ


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=DEFAULT_TZ)


def _desk(tmp_path, target=None):
    db = open_desk(target or tmp_path / "desk.sqlite")
    add_staff(db, "admin", "管理员", "admin")
    add_staff(db, "wang", "王伟", "officer")
    add_staff(db, "li", "李娜", "officer")
    add_staff(db, "zhao", "赵强", "leader")
    day, night = date(2026, 2, 14), date(2026, 2, 14)
    store_shifts(db, [make_shift(day, "日班", "08:00", "20:00", "wang", "zhao"),
                      make_shift(night, "夜班", "19:30", "08:00", "li", "zhao")], actor="admin", origin="test")
    return db


def test_on_duty_next_and_ending(tmp_path, backend):
    db = _desk(tmp_path, backend)
    assert on_duty(db, _t("2026-02-14 07:59")) is None
    day = on_duty(db, _t("2026-02-14 08:00"))
    assert day.name == "日班" and day.officer == "wang" and day.leader == "zhao"
    assert day.starts_at == _t("2026-02-14 08:00") and day.ends_at == _t("2026-02-14 20:00")
    # in the handover overlap the shift that started last is on duty
    assert on_duty(db, _t("2026-02-14 19:45")).name == "夜班"
    assert on_duty(db, _t("2026-02-15 07:59")).officer == "li"
    assert on_duty(db, _t("2026-02-15 08:00")) is None  # the end is exclusive

    assert next_shift(db, _t("2026-02-14 12:00")).name == "夜班"
    assert next_shift(db, _t("2026-02-14 19:30")) is None
    # the shift being handed over: its end within an hour either side
    assert shift_ending(db, _t("2026-02-14 19:10")).name == "日班"
    assert shift_ending(db, _t("2026-02-14 20:40")).name == "日班"
    assert shift_ending(db, _t("2026-02-15 07:30")).name == "夜班"
    assert shift_ending(db, _t("2026-02-14 14:00")) is None


def test_gaps_within_the_horizon(tmp_path):
    db = _desk(tmp_path)
    gaps = roster_gaps(db, _t("2026-02-14 06:00"), timedelta(hours=30))
    assert [(g.start, g.end) for g in gaps] == [(_t("2026-02-14 06:00"), _t("2026-02-14 08:00")),
                                                (_t("2026-02-15 08:00"), _t("2026-02-15 12:00"))]
    assert roster_gaps(db, _t("2026-02-14 09:00"), timedelta(hours=20)) == []
    empty = open_desk(tmp_path / "other.sqlite")
    assert len(roster_gaps(empty, _t("2026-02-14 09:00"), timedelta(hours=72))) == 1


def test_handover_shifts_name_the_outgoing_and_the_incoming_shift(tmp_path, backend):
    from responders.roster import handover_shifts

    db = _desk(tmp_path, backend)
    store_shifts(db, [make_shift(date(2026, 2, 15), "日班", "08:00", "20:00", "wang", "zhao")],
                 actor="admin", origin="test")
    outgoing, incoming = handover_shifts(db, _t("2026-02-14 19:50"))
    assert (outgoing.name, incoming.name) == ("日班", "夜班")  # the night shift starts 19:30 (overlap)
    outgoing, incoming = handover_shifts(db, _t("2026-02-15 07:55"))
    assert (outgoing.day, outgoing.name) == (date(2026, 2, 14), "夜班")
    assert (incoming.day, incoming.name) == (date(2026, 2, 15), "日班")
    outgoing, incoming = handover_shifts(db, _t("2026-02-14 12:00"))
    assert outgoing is None and incoming.name == "夜班"
