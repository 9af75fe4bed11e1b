"""The duty roster (值班表). Owns the ``roster_shifts`` table (migration set ``roster``): shifts with
a start and an end (stored UTC, typed and shown in desk time), a duty officer (值班员) and a leader
on duty (带班领导), both staff ids checked against :mod:`responders.staff` (the officer must be an
officer, leader or admin; the leader a leader or admin). A shift belongs to a desk-local day and
has a name (日班, 夜班 ...); (day, name) is unique, so importing the same shift again replaces it.

Public API for the rest of the desk (alerts, handover, console, doctor):

- :func:`on_duty` ``(db, at) -> Shift | None``: the shift covering ``at`` (with ``.officer``,
  ``.leader``, ``.starts_at``, ``.ends_at``, ``.name``, ``.day``); when two overlap (a handover
  overlap) the one that started last.
- :func:`next_shift` ``(db, at)``: the first shift starting after ``at`` (the incoming shift).
- :func:`shift_ending` ``(db, at, window)``: the shift whose end is within ``window`` (default
  1 h) before or after ``at`` — the shift being handed over.
- :func:`handover_shifts` ``(db, at)``: ``(outgoing, incoming)`` — what the handover (交接班) needs.
- :func:`roster_gaps` ``(db, now, horizon)``: the stretches of ``[now, now + horizon)`` no shift
  covers (default horizon 72 h, ``[roster] gap_warning_hours`` in desk.toml).

Rows come from :func:`import_csv` (columns 日期,班次,开始,结束,值班员,带班领导; bad rows named by line
and reason, good rows kept) and :func:`generate` (a TOML rotation pattern over China's calendar,
see :mod:`responders.roster_pattern`).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlite_utils
from sqlite_utils import Migrations

from responders import staff as staff_mod
from responders.exceptions import ResponderError
from storage.db import transaction
from storage.timeutil import UTC, desk_iso, desk_text, desk_tz, from_db, to_db, utcnow

migrations = Migrations("roster")

OFFICER_ROLES = frozenset({"officer", "leader", "admin"})
LEADER_ROLES = frozenset({"leader", "admin"})
CSV_COLUMNS = ("日期", "班次", "开始", "结束", "值班员", "带班领导")
DEFAULT_GAP_HOURS = 72
DEFAULT_ROSTER_TOML = """
[roster]
gap_warning_hours = 72          # warn (doctor, console) when no shift covers some time this far ahead
"""


class RosterError(ResponderError):
    """A roster file, pattern or shift is refused; the message says why, for staff."""


@dataclass(frozen=True)
class Shift:
    day: date  # the desk-local day the shift belongs to (its 日期)
    name: str  # 班次
    starts_at: datetime  # aware UTC
    ends_at: datetime  # aware UTC, after starts_at
    officer: str  # staff id
    leader: str  # staff id

    def to_dict(self) -> dict:
        """JSON for staff tools: times ISO 8601 with the desk's offset."""
        return {"date": self.day.isoformat(), "shift": self.name, "starts_at": desk_iso(self.starts_at),
                "ends_at": desk_iso(self.ends_at), "officer": self.officer, "leader": self.leader}

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True)
class Gap:
    start: datetime
    end: datetime

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600

    def text(self) -> str:
        return f"{desk_text(self.start, offset=False)} 至 {desk_text(self.end, offset=False)}（{self.hours:g} 小时）"


@dataclass(frozen=True)
class RowError:
    line: int  # as a spreadsheet numbers it: the header is line 1
    reason: str

    def __str__(self) -> str:
        return f"第 {self.line} 行：{self.reason}"


@dataclass(frozen=True)
class ImportOutcome:
    shifts: tuple[Shift, ...]  # stored (new or replacing the same day and shift)
    replaced: int  # how many of them replaced a stored shift
    errors: tuple[RowError, ...]


@migrations()
def m001_roster_shifts(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE roster_shifts (
            id INTEGER PRIMARY KEY,
            day TEXT NOT NULL,
            name TEXT NOT NULL,
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL,
            officer TEXT NOT NULL,
            leader TEXT NOT NULL,
            origin TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL,
            UNIQUE (day, name)
        )""")
    db.execute("CREATE INDEX roster_shifts_time ON roster_shifts(starts_at, ends_at)")


def _shift(r: dict) -> Shift:
    return Shift(day=date.fromisoformat(r["day"]), name=r["name"], starts_at=from_db(r["starts_at"]),
                 ends_at=from_db(r["ends_at"]), officer=r["officer"], leader=r["leader"])


def _exists(db: sqlite_utils.Database) -> bool:
    return db["roster_shifts"].exists()


def has_roster(db: sqlite_utils.Database) -> bool:
    """True once any shift is on the roster (a desk without one is a one-operator desk)."""
    return _exists(db) and bool(db.execute("SELECT 1 FROM roster_shifts LIMIT 1").fetchone())


# ---------------------------------------------------------------- reading (the public API)

def on_duty(db: sqlite_utils.Database, at: datetime) -> Shift | None:
    """The shift on duty at ``at``; of two overlapping shifts the one that started last. None
    when no shift covers ``at`` (or the desk has no roster yet)."""
    if not _exists(db):
        return None
    rows = db.execute_returning_dicts(
        "SELECT * FROM roster_shifts WHERE starts_at <= ? AND ends_at > ? ORDER BY starts_at DESC, id DESC LIMIT 1",
        [to_db(at), to_db(at)])
    return _shift(rows[0]) if rows else None


def next_shift(db: sqlite_utils.Database, at: datetime) -> Shift | None:
    """The first shift that starts after ``at`` (the incoming shift at a handover)."""
    if not _exists(db):
        return None
    rows = db.execute_returning_dicts(
        "SELECT * FROM roster_shifts WHERE starts_at > ? ORDER BY starts_at, id LIMIT 1", [to_db(at)])
    return _shift(rows[0]) if rows else None


def shift_ending(db: sqlite_utils.Database, at: datetime, window: timedelta = timedelta(hours=1)) -> Shift | None:
    """The shift whose end lies within ``window`` before or after ``at``: the shift being
    handed over (nearest end first). None when no shift ends around ``at``."""
    if not _exists(db):
        return None
    rows = db.execute_returning_dicts(
        "SELECT * FROM roster_shifts WHERE ends_at >= ? AND ends_at <= ?",
        [to_db(at - window), to_db(at + window)])
    if not rows:
        return None
    return min((_shift(r) for r in rows), key=lambda s: (abs((s.ends_at - at).total_seconds()), s.starts_at))


def handover_shifts(db: sqlite_utils.Database, at: datetime,
                    window: timedelta = timedelta(hours=1)) -> tuple[Shift | None, Shift | None]:
    """``(outgoing, incoming)`` for a handover at ``at``: the shift ending around ``at``
    (:func:`shift_ending`) and the one that takes over from it — the first shift starting at or
    after the outgoing one's start, other than itself, else :func:`next_shift` of ``at``."""
    outgoing = shift_ending(db, at, window)
    if outgoing is None:
        return None, next_shift(db, at)
    rows = db.execute_returning_dicts(
        "SELECT * FROM roster_shifts WHERE starts_at > ? AND starts_at <= ? AND NOT (day = ? AND name = ?)"
        " ORDER BY starts_at, id LIMIT 1",
        [to_db(outgoing.starts_at), to_db(outgoing.ends_at), outgoing.day.isoformat(), outgoing.name])
    incoming = _shift(rows[0]) if rows else next_shift(db, outgoing.ends_at - timedelta(microseconds=1))
    return outgoing, incoming


def handover_shift(db: sqlite_utils.Database, at: datetime) -> dict | None:
    """The ``shift`` of a handover report (:func:`responders.handover.build_handover`): the
    outgoing shift (``shift``, ``starts_at``, ``ends_at``, ``officer``, ``leader`` with
    ``officer_name``/``leader_name``; ``name`` = its 班次) and the incoming one as ``next``; None
    when no shift ends around ``at``."""
    outgoing, incoming = handover_shifts(db, at)
    if outgoing is None:
        return None

    def named(s: Shift) -> dict:
        d = s.to_dict()
        d.update(name=s.name, officer_name=staff_mod.display_name(db, s.officer),
                 leader_name=staff_mod.display_name(db, s.leader))
        return d
    out = named(outgoing)
    out["next"] = named(incoming) if incoming is not None else None
    return out


def shifts_between(db: sqlite_utils.Database, start: datetime, end: datetime) -> list[Shift]:
    """Shifts overlapping ``[start, end)``, by start time."""
    if not _exists(db):
        return []
    rows = db.execute_returning_dicts(
        "SELECT * FROM roster_shifts WHERE starts_at < ? AND ends_at > ? ORDER BY starts_at, id",
        [to_db(end), to_db(start)])
    return [_shift(r) for r in rows]


def shifts_on(db: sqlite_utils.Database, first: date, last: date | None = None) -> list[Shift]:
    """Shifts belonging to the desk days ``first``..``last`` (inclusive), by start time."""
    if not _exists(db):
        return []
    rows = db.execute_returning_dicts(
        "SELECT * FROM roster_shifts WHERE day >= ? AND day <= ? ORDER BY starts_at, id",
        [first.isoformat(), (last or first).isoformat()])
    return [_shift(r) for r in rows]


def roster_gaps(db: sqlite_utils.Database, now: datetime,
                horizon: timedelta = timedelta(hours=DEFAULT_GAP_HOURS)) -> list[Gap]:
    """The stretches of ``[now, now + horizon)`` that no shift covers, in order."""
    end = now + horizon
    gaps: list[Gap] = []
    cursor = now
    for s in shifts_between(db, now, end):
        if s.starts_at > cursor:
            gaps.append(Gap(cursor, s.starts_at))
        cursor = max(cursor, s.ends_at)
        if cursor >= end:
            break
    if cursor < end:
        gaps.append(Gap(cursor, end))
    return gaps


def check_config(section: dict) -> None:
    """Validate desk.toml's [roster] section (its one key: gap_warning_hours)."""
    unknown = set(section) - {"gap_warning_hours"}
    if unknown:
        raise RosterError(f"[roster] {sorted(unknown)[0]}: unknown key (known: gap_warning_hours)")
    gap_hours(section)


def staffing_problems(db: sqlite_utils.Database, now: datetime,
                      horizon: timedelta = timedelta(hours=DEFAULT_GAP_HOURS)) -> list[tuple[Shift, str]]:
    """Shifts of ``[now, now + horizon)`` whose officer or leader can no longer stand them (disabled
    since, or their role changed), with the reason."""
    found = []
    for s in shifts_between(db, now, now + horizon):
        problem = check_people(db, s.officer, s.leader)
        if problem:
            found.append((s, problem))
    return found


def gap_hours(section: dict | None) -> int:
    """``[roster] gap_warning_hours`` from desk.toml (default 72): how far ahead gaps are warned."""
    value = (section or {}).get("gap_warning_hours", DEFAULT_GAP_HOURS)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 24 * 60:
        raise RosterError(f"desk.toml [roster] gap_warning_hours = {value!r}：须为 1–1440 的整数（小时）")
    return value


# ---------------------------------------------------------------- writing

def person_problem(db: sqlite_utils.Database, staff_id: str, duty: str) -> str | None:
    """Why ``staff_id`` cannot stand ``duty`` (``officer``: 值班员, ``leader``: 带班领导), or None."""
    roles, label = (OFFICER_ROLES, "值班员") if duty == "officer" else (LEADER_ROLES, "带班领导")
    if not staff_id:
        return f"{label}为空"
    member = staff_mod.get_staff(db, staff_id)
    if member is None:
        return f"{label}「{staff_id}」未登记"
    if not member.active:
        return f"{label}「{staff_id}」（{member.name}）已停用"
    if member.role not in roles:
        names = [staff_mod.ROLE_LABELS[r] for r in reversed(staff_mod.ROLES) if r in roles]
        allowed = "、".join(names[:-1]) + "或" + names[-1]
        return f"{label}「{staff_id}」（{member.name}）是{member.role_label}，须为{allowed}"
    return None


def check_people(db: sqlite_utils.Database, officer: str, leader: str) -> str | None:
    """Why ``officer``/``leader`` cannot stand a shift (a reason for staff), or None."""
    problems = [p for p in (person_problem(db, officer, "officer"), person_problem(db, leader, "leader")) if p]
    return "；".join(problems) or None


def store_shifts(db: sqlite_utils.Database, shifts: list[Shift], *, actor: str, origin: str,
                 now: datetime | None = None, replace_days: tuple[date, date] | None = None) -> int:
    """Store shifts in one transaction; a stored shift of the same day and name is replaced.
    ``replace_days`` first removes every shift of those days (inclusive), for a regenerated
    period. Returns how many stored shifts were replaced."""
    stamp = to_db(now or utcnow())
    replaced = 0
    with transaction(db):
        if replace_days is not None:
            replaced += db.execute("DELETE FROM roster_shifts WHERE day >= ? AND day <= ?",
                                   [replace_days[0].isoformat(), replace_days[1].isoformat()]).rowcount
        for s in shifts:
            existed = db.execute("SELECT 1 FROM roster_shifts WHERE day = ? AND name = ?",
                                 [s.day.isoformat(), s.name]).fetchone()
            replaced += bool(existed)
            db.execute(
                "INSERT INTO roster_shifts (day, name, starts_at, ends_at, officer, leader, origin, updated_at,"
                " updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (day, name) DO UPDATE SET starts_at = excluded.starts_at, ends_at = excluded.ends_at,"
                " officer = excluded.officer, leader = excluded.leader, origin = excluded.origin,"
                " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                [s.day.isoformat(), s.name, to_db(s.starts_at), to_db(s.ends_at), s.officer, s.leader, origin,
                 stamp, actor])
    return replaced


def make_shift(day: date, name: str, start: str, end: str, officer: str, leader: str) -> Shift:
    """A shift from desk-time clock readings on ``day``; an end at or before the start is on the
    next day (夜班 20:00–08:00); ``24:00`` is the next midnight. Raises RosterError."""
    tz = desk_tz()
    start_min, end_min = parse_clock(start, "开始"), parse_clock(end, "结束")
    base = datetime(day.year, day.month, day.day, tzinfo=tz)
    starts = base + timedelta(minutes=start_min)
    ends = base + timedelta(minutes=end_min)
    if ends <= starts:
        ends += timedelta(days=1)
    if not name:
        raise RosterError("班次名称为空")
    # aware arithmetic within one zone is wall-clock arithmetic: right across a DST change too
    return Shift(day, name, starts.astimezone(UTC), ends.astimezone(UTC), officer, leader)


_CLOCK = re.compile(r"^(\d{1,2})[:：](\d{2})$")


def parse_clock(text: str, what: str = "时间") -> int:
    """Minutes after midnight of a clock reading typed by staff: ``8:00``, ``20:30``, ``24:00``."""
    m = _CLOCK.match((text or "").strip())
    if not m or int(m.group(2)) > 59 or int(m.group(1)) > 24 or (int(m.group(1)) == 24 and m.group(2) != "00"):
        raise RosterError(f"{what}「{text}」无法识别（例如 08:00、20:30）")
    return int(m.group(1)) * 60 + int(m.group(2))


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_day(text: str) -> date:
    """A desk day typed in a spreadsheet: ``2026-02-14``, ``2026/2/14``, ``2026年2月14日``."""
    m = _DATE.match((text or "").strip())
    try:
        if not m:
            raise ValueError
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise RosterError(f"日期「{text}」无法识别（例如 2026-02-14）") from None


def _resolver(db: sqlite_utils.Database):
    """Staff ids as written, or a member's name when exactly one active member has it."""
    by_name: dict[str, list[str]] = {}
    for m in staff_mod.list_staff(db, include_disabled=False):
        by_name.setdefault(m.name, []).append(m.id)

    def resolve(text: str) -> str:
        text = text.strip()
        if staff_mod.get_staff(db, text) is None and len(by_name.get(text, [])) == 1:
            return by_name[text][0]
        return text
    return resolve


def parse_csv(db: sqlite_utils.Database, data: bytes) -> tuple[list[Shift], list[RowError]]:
    """Read a roster CSV (UTF-8 or GBK; columns 日期,班次,开始,结束,值班员,带班领导 in any order).
    Each row is checked on its own; returns the good shifts and the bad rows with their reason.
    Raises RosterError only when the file as a whole is unusable."""
    from storage.csvtext import decode_csv

    text = decode_csv(data)
    if not text.strip():
        raise RosterError("文件为空")
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise RosterError(f"无法读取表头：{exc}") from None
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise RosterError(f"表头缺少列：{'、'.join(missing)}（应有 {','.join(CSV_COLUMNS)}；读到 {','.join(header)}）")
    col = {c: header.index(c) for c in CSV_COLUMNS}
    resolve = _resolver(db)
    shifts: list[Shift] = []
    errors: list[RowError] = []
    seen: dict[tuple[date, str], int] = {}
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(line, f"CSV 格式错误：{exc}"))
            continue
        if not any(cell.strip() for cell in record):
            continue
        cells = {c: (record[i].strip() if i < len(record) else "") for c, i in col.items()}
        problems: list[str] = []
        day = shift = None
        try:
            day = parse_day(cells["日期"])
        except RosterError as exc:
            problems.append(str(exc))
        officer, leader = resolve(cells["值班员"]), resolve(cells["带班领导"])
        try:
            shift = make_shift(day or date(2000, 1, 1), cells["班次"], cells["开始"], cells["结束"], officer, leader)
        except RosterError as exc:
            problems.append(str(exc))
        problems += [p for p in (person_problem(db, officer, "officer"), person_problem(db, leader, "leader")) if p]
        key = (day, cells["班次"])
        if not problems and key in seen:
            problems.append(f"与第 {seen[key]} 行重复（{day} {cells['班次']}）")
        if problems or day is None or shift is None:
            errors.append(RowError(line, "；".join(problems)))
            continue
        seen[key] = line
        shifts.append(shift)
    return shifts, errors


def import_csv(db: sqlite_utils.Database, data: bytes, *, actor: str, origin: str = "import",
               now: datetime | None = None) -> ImportOutcome:
    """Import a roster CSV: the good rows are stored (replacing the same day and shift), the
    bad ones returned with line and reason; nothing is stored when no row is good."""
    if not staff_mod.has_staff(db):
        raise RosterError("本台尚未登记人员：先用 yuqing staff add 登记值班员和带班领导，再导入值班表")
    shifts, errors = parse_csv(db, data)
    replaced = store_shifts(db, shifts, actor=actor, origin=origin, now=now) if shifts else 0
    return ImportOutcome(tuple(shifts), replaced, tuple(errors))
