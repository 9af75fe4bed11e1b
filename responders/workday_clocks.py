"""Working-day clocks (工作日时限): deadlines counted in working days on China's calendar, besides
the hour clocks of incidents. Owns the ``workday_clock_marks`` table (migration set
``workday_clocks``): when staff recorded that a clock's duty was done, by whom, with a note.

Kinds (desk.toml ``[workday_clocks]``, working days; 0 turns a kind off):

- ``hotline`` (default 1): a 12345 hotline work order (``yuqing import hotline``) must be accepted
  (受理) within 1 working day;
- ``mailbox`` (default 1): a 领导信箱 letter (``--kind mailbox``) likewise;
- ``license_penalty_disclosure`` (default 7): an own-channel item whose title announces a 行政许可
  or 行政处罚 decision (:func:`classifiers.decisions.decision_kind`) starts the 7-working-day clock
  for disclosing that decision (双公示; the open-government plan's §三(五)), counted from the item's
  publication as the decision's date of record.

"Within N working days" is the end of the Nth working day after the desk day of receipt
(:func:`storage.workdays.workday_deadline`). Clocks are derived from the stored items on every read
(receipt = the item's own time, else when it was fetched), so they need no writer in the pipeline
and are the same in the CLI, the doctor and the console; only completions are stored. Items fetched
more than ``lookback_days`` (default 90) ago are not clocked. Public API: :func:`workday_clocks`,
:func:`overdue_clocks`, :func:`record_done`, :func:`parse_config`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable
from datetime import date, datetime, timedelta

import sqlite_utils
from sqlite_utils import Migrations

from responders.exceptions import InvalidValue, ResponderError
from storage.db import transaction
from storage.timeutil import desk_iso, from_db, to_db
from storage.workdays import desk_day, workday_deadline, workdays_between

migrations = Migrations("workday_clocks")

KINDS = ("hotline", "mailbox", "license_penalty_disclosure")
KIND_LABELS = {"hotline": "12345热线受理", "mailbox": "领导信箱受理", "license_penalty_disclosure": "许可处罚决定公示"}
DUTY_LABELS = {"hotline": "受理", "mailbox": "受理", "license_penalty_disclosure": "公示"}
DEFAULT_DAYS = {"hotline": 1, "mailbox": 1, "license_penalty_disclosure": 7}
DEFAULT_LOOKBACK_DAYS = 90
DEFAULT_WORKDAY_CLOCKS_TOML = """
[workday_clocks]                # deadlines in working days on China's calendar (0 = no clock)
hotline = 1                     # 12345 hotline work order: accept (受理) within 1 working day
mailbox = 1                     # 领导信箱 letter: accept within 1 working day
license_penalty_disclosure = 7  # 行政许可/行政处罚 decision on own channels: disclose (双公示) within 7
lookback_days = 90              # items fetched longer ago are not clocked
"""
STATUS_LABELS = {"open": "进行中", "overdue": "超时未完成", "done_on_time": "按时完成", "done_late": "超时完成"}


class WorkdayClockError(ResponderError):
    """A working-day clock action refused; the message says why, for staff."""


@dataclass(frozen=True)
class WorkdayConfig:
    days: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_DAYS))
    lookback_days: int = DEFAULT_LOOKBACK_DAYS


@dataclass(frozen=True)
class WorkdayClock:
    item_id: int
    kind: str
    title: str
    source_id: str
    received_at: datetime
    days: int
    due_day: date
    due_at: datetime  # the end of due_day (next midnight, desk time); overdue from here on
    done_at: datetime | None = None
    done_by: str | None = None
    note: str | None = None
    decision: str | None = None  # 行政许可 / 行政处罚 for a disclosure clock

    def status(self, now: datetime) -> str:
        if self.done_at is not None:
            return "done_on_time" if self.done_at < self.due_at else "done_late"
        return "overdue" if now >= self.due_at else "open"

    def workdays_left(self, now: datetime) -> int:
        """Working days left including today (0 once overdue or done)."""
        if self.done_at is not None or now >= self.due_at:
            return 0
        return workdays_between(desk_day(now) - timedelta(days=1), self.due_day)

    def to_dict(self, now: datetime) -> dict:
        status = self.status(now)
        return {"item_id": self.item_id, "kind": self.kind, "kind_label": KIND_LABELS[self.kind],
                "title": self.title, "source_id": self.source_id, "received_at": desk_iso(self.received_at),
                "workdays": self.days, "due_date": self.due_day.isoformat(), "due_at": desk_iso(self.due_at),
                "status": status, "status_label": STATUS_LABELS[status],
                "workdays_left": self.workdays_left(now), "done_at": desk_iso(self.done_at),
                "done_by": self.done_by, "note": self.note, "decision": self.decision}


@migrations()
def m001_workday_clock_marks(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE workday_clock_marks (
            item_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            done_at TEXT NOT NULL,
            actor TEXT NOT NULL,
            note TEXT,
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (item_id, kind)
        )""")


def parse_config(section: dict | None) -> WorkdayConfig:
    """desk.toml ``[workday_clocks]``: working days per kind (0–60; 0 = off) and lookback_days."""
    section = dict(section or {})
    unknown = set(section) - set(KINDS) - {"lookback_days"}
    if unknown:
        raise InvalidValue(f"[workday_clocks] {sorted(unknown)[0]}: unknown key (known: "
                           f"{', '.join(KINDS)}, lookback_days)")
    days = dict(DEFAULT_DAYS)
    for kind in KINDS:
        if kind in section:
            value = section[kind]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 60:
                raise InvalidValue(f"[workday_clocks] {kind} = {value!r}: 须为 0–60 的整数（工作日；0 为不计时）")
            days[kind] = value
    lookback = section.get("lookback_days", DEFAULT_LOOKBACK_DAYS)
    if isinstance(lookback, bool) or not isinstance(lookback, int) or not 1 <= lookback <= 3660:
        raise InvalidValue(f"[workday_clocks] lookback_days = {lookback!r}: 须为 1–3660 的整数（天）")
    return WorkdayConfig(days, lookback)


def _kind_of(item, own_channel: bool) -> tuple[str, str | None] | None:
    from classifiers.decisions import decision_kind

    guid = item.guid or ""
    if guid.startswith("hotline:"):
        return "hotline", None
    if guid.startswith("mailbox:"):
        return "mailbox", None
    if own_channel:
        decision = decision_kind(item.title)
        if decision:
            return "license_penalty_disclosure", decision
    return None


#: Intake's items that may carry a clock, ``(db, since) -> [(item, own_channel)]``: passed in, as
#: intake is not this floor's.
ClockItems = Callable[[sqlite_utils.Database, datetime], Iterable[tuple[Any, bool]]]


def _marks(db: sqlite_utils.Database) -> dict[tuple[int, str], dict]:
    if not db["workday_clock_marks"].exists():
        return {}
    return {(r["item_id"], r["kind"]): r for r in db.execute_returning_dicts("SELECT * FROM workday_clock_marks")}


def workday_clocks(db: sqlite_utils.Database, now: datetime, config: WorkdayConfig | None = None, *,
                   clock_items: ClockItems) -> list[WorkdayClock]:
    """Every working-day clock of items fetched in the last ``lookback_days``, by due time.
    ``clock_items(db, since)`` is intake's (``monitor.store.clock_items``), handed over by the caller."""
    config = config or WorkdayConfig()
    marks = _marks(db)
    clocks = []
    for item, own in clock_items(db, now - timedelta(days=config.lookback_days)):
        found = _kind_of(item, own)
        if found is None or not config.days.get(found[0]):
            continue
        kind, decision = found
        received = item.published if item.published and item.published <= item.fetched_at else item.fetched_at
        due_day, due_at = workday_deadline(received, config.days[kind])
        mark = marks.get((item.id, kind))
        clocks.append(WorkdayClock(
            item.id, kind, item.title, item.source_id, received, config.days[kind], due_day, due_at,
            from_db(mark["done_at"]) if mark else None, mark["actor"] if mark else None,
            mark["note"] if mark else None, decision))
    return sorted(clocks, key=lambda c: (c.due_at, c.item_id))


def overdue_clocks(db: sqlite_utils.Database, now: datetime, config: WorkdayConfig | None = None, *,
                   clock_items: ClockItems) -> list[WorkdayClock]:
    """The clocks past their deadline with their duty not recorded as done."""
    return [c for c in workday_clocks(db, now, config, clock_items=clock_items) if c.status(now) == "overdue"]


def record_done(db: sqlite_utils.Database, item_id: int, *, actor: str, at: datetime, now: datetime,
                note: str | None = None, kind: str | None = None,
                config: WorkdayConfig | None = None, clock_items: ClockItems) -> WorkdayClock:
    """Record that an item's working-day duty (受理 or 公示) was done at ``at``. Raises
    WorkdayClockError when the item has no such clock or it was recorded already."""
    clocks = [c for c in workday_clocks(db, now, config, clock_items=clock_items) if c.item_id == item_id and (kind is None or c.kind == kind)]
    if not clocks:
        raise WorkdayClockError(f"条目 #{item_id} 没有工作日时限（仅 12345 热线、领导信箱条目，"
                                "以及本级渠道发布的行政许可、行政处罚决定计时）")
    clock = clocks[0]
    if clock.done_at is not None:
        raise WorkdayClockError(f"条目 #{item_id} 的{DUTY_LABELS[clock.kind]}已于 {desk_iso(clock.done_at)} 由 "
                                f"{clock.done_by} 记录（未作任何更改）")
    if at < clock.received_at:
        raise WorkdayClockError(f"完成时间早于收到时间 {desk_iso(clock.received_at)}（未作任何更改）")
    if at > now:
        raise WorkdayClockError("完成时间不能晚于当前时间（未作任何更改）")
    with transaction(db):
        db.execute("INSERT INTO workday_clock_marks (item_id, kind, done_at, actor, note, recorded_at)"
                   " VALUES (?, ?, ?, ?, ?, ?)", [item_id, clock.kind, to_db(at), actor, note, to_db(now)])
    return next(c for c in workday_clocks(db, now, config, clock_items=clock_items) if c.item_id == item_id and c.kind == clock.kind)
