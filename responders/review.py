"""The post-incident review (复盘) of an incident: its findings and its action items.

Owns the tables ``incident_reviews`` (one row per reviewed incident: what went well 做得好的,
what went late 迟滞环节, why 原因) and ``review_actions`` (整改事项: an owner unit named as the
gazetteer names it, a due day in desk time, a status 待办/进行中/已完成), with their migrations.
Every change is written together with a timeline event of its incident (kinds ``review`` and
``review_action``, appended through :class:`IncidentService`), so the hash chain covers it.
Reads: :func:`get_review` for one incident and :func:`open_actions` (not done, every incident)
for the weekly report; :func:`review_for_report` is the shape the report templates see.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Iterable

import sqlite_utils
from sqlite_utils import Migrations

from responders.exceptions import InvalidValue
from storage.db import transaction
from storage.timeutil import TimeInputError, desk_tz, from_db, parse_desk_date, to_db

if TYPE_CHECKING:
    from responders.incidents import IncidentService

migrations = Migrations("review")

#: finding field -> its label
FINDINGS = {"well": "做得好的", "late": "迟滞环节", "why": "原因"}
#: status code -> label (CLI and templates accept either)
STATUSES = {"todo": "待办", "doing": "进行中", "done": "已完成"}
_STATUS_BY_LABEL = {v: k for k, v in STATUSES.items()}
MAX_TEXT = 4000


@migrations()
def m001_review(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE incident_reviews (
            incident_id INTEGER PRIMARY KEY,
            well TEXT NOT NULL DEFAULT '',
            late TEXT NOT NULL DEFAULT '',
            why TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE review_actions (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL,
            no INTEGER NOT NULL,
            unit TEXT NOT NULL,
            due_date TEXT NOT NULL,
            text TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'doing', 'done')),
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            done_at TEXT,
            UNIQUE (incident_id, no)
        )""")
    db.execute("CREATE INDEX review_actions_open ON review_actions (status, due_date)")


@dataclass(frozen=True)
class Action:
    id: int
    incident_id: int
    no: int
    unit: str
    due: date
    text: str
    status: str
    created_at: datetime
    created_by: str
    done_at: datetime | None

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    def overdue(self, today: date) -> bool:
        return self.status != "done" and today > self.due

    def to_json(self, today: date) -> dict:
        return {"no": self.no, "unit": self.unit, "due": self.due.isoformat(), "text": self.text,
                "status": self.status_label, "overdue": self.overdue(today),
                "done_at": None if self.done_at is None else self.done_at.astimezone(desk_tz()).isoformat()}


@dataclass(frozen=True)
class Review:
    incident_id: int
    well: str = ""
    late: str = ""
    why: str = ""
    updated_at: datetime | None = None
    updated_by: str = ""
    actions: tuple[Action, ...] = field(default_factory=tuple)

    def to_json(self, today: date) -> dict:
        return {"incident": self.incident_id, "well": self.well, "late": self.late, "why": self.why,
                "updated_at": None if self.updated_at is None else self.updated_at.astimezone(desk_tz()).isoformat(),
                "updated_by": self.updated_by, "actions": [a.to_json(today) for a in self.actions]}


def _action(row: Any) -> Action:
    return Action(id=row[0], incident_id=row[1], no=row[2], unit=row[3], due=date.fromisoformat(row[4]), text=row[5],
                  status=row[6], created_at=from_db(row[7]), created_by=row[8], done_at=from_db(row[9]))


_ACTION_COLS = "id, incident_id, no, unit, due_date, text, status, created_at, created_by, done_at"


def get_review(db: sqlite_utils.Database, incident_id: int) -> Review:
    row = db.execute("SELECT well, late, why, updated_at, updated_by FROM incident_reviews WHERE incident_id = ?",
                     [incident_id]).fetchone()
    actions = tuple(_action(r) for r in db.execute(
        f"SELECT {_ACTION_COLS} FROM review_actions WHERE incident_id = ? ORDER BY no", [incident_id]).fetchall())
    if row is None:
        return Review(incident_id, actions=actions)
    return Review(incident_id, row[0], row[1], row[2], from_db(row[3]), row[4], actions)


def open_actions(db: sqlite_utils.Database) -> list[Action]:
    """Action items not done yet, of every incident, earliest due first."""
    return [_action(r) for r in db.execute(
        f"SELECT {_ACTION_COLS} FROM review_actions WHERE status != 'done' ORDER BY due_date, incident_id, no")]


def desk_today(now: datetime) -> date:
    return now.astimezone(desk_tz()).date()


# ------------------------------------------------------------------ writes

def _text(value: str, what: str) -> str:
    text = (value or "").strip()
    if len(text) > MAX_TEXT:
        raise InvalidValue(f"{what}过长（{len(text)} 字，最多 {MAX_TEXT} 字；未作任何更改）")
    return text


def parse_status(value: str) -> str:
    v = (value or "").strip()
    if v in STATUSES:
        return v
    if v in _STATUS_BY_LABEL:
        return _STATUS_BY_LABEL[v]
    raise InvalidValue(f"整改状态必须是 {'/'.join(STATUSES.values())} 之一，收到「{value}」（未作任何更改）")


def parse_due(value: str) -> date:
    try:
        return parse_desk_date(value, name="完成时限")
    except TimeInputError as exc:
        raise InvalidValue(f"{exc}（未作任何更改）") from None


def set_findings(svc: "IncidentService", incident_id: int, *, actor: str, well: str | None = None,
                 late: str | None = None, why: str | None = None) -> Review:
    """Set the findings given (None leaves a field as it is; "" clears it). A field set to what it
    already says records nothing."""
    given = {k: _text(v, FINDINGS[k]) for k, v in (("well", well), ("late", late), ("why", why)) if v is not None}
    svc.get(incident_id)  # IncidentNotFound before anything is written
    now = svc.clock()
    with transaction(svc.db) as conn:
        current = get_review(svc.db, incident_id)
        changed = {k: v for k, v in given.items() if getattr(current, k) != v}
        if not changed:
            return current
        merged = {k: changed.get(k, getattr(current, k)) for k in FINDINGS}
        conn.execute(
            "INSERT INTO incident_reviews (incident_id, well, late, why, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (incident_id) DO UPDATE SET well = excluded.well, late = excluded.late, why = excluded.why,"
            " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            [incident_id, merged["well"], merged["late"], merged["why"], to_db(now), actor])
        for key, text in changed.items():
            svc.record_event(incident_id, "review", {"field": key, "text": text}, actor=actor)
    return get_review(svc.db, incident_id)


def add_action(svc: "IncidentService", incident_id: int, *, unit: str, due: str | date, text: str,
               actor: str) -> Action:
    """A new action item; the unit is checked against the gazetteer's names (UnknownUnit names the
    nearest ones) and stored canonical."""
    canon = svc.check_units([unit])
    if not canon:
        raise InvalidValue("整改事项需要责任单位（未作任何更改）")
    body = _text(text, "整改事项")
    if not body:
        raise InvalidValue("整改事项内容不能为空（未作任何更改）")
    day = due if isinstance(due, date) else parse_due(due)
    svc.get(incident_id)
    now = svc.clock()
    with transaction(svc.db) as conn:
        no = conn.execute("SELECT COALESCE(MAX(no), 0) + 1 FROM review_actions WHERE incident_id = ?",
                          [incident_id]).fetchone()[0]
        conn.execute(
            "INSERT INTO review_actions (incident_id, no, unit, due_date, text, status, created_at, created_by, updated_at)"
            " VALUES (?, ?, ?, ?, ?, 'todo', ?, ?, ?)",
            [incident_id, no, canon[0], day.isoformat(), body, to_db(now), actor, to_db(now)])
        svc.record_event(incident_id, "review_action", {"no": no, "unit": canon[0], "due": day.isoformat(),
                                                        "text": body, "status": "todo"}, actor=actor)
    return _get_action(svc.db, incident_id, no)


def _get_action(db, incident_id: int, no: int) -> Action:
    row = db.execute(f"SELECT {_ACTION_COLS} FROM review_actions WHERE incident_id = ? AND no = ?",
                     [incident_id, no]).fetchone()
    if row is None:
        have = [r[0] for r in db.execute("SELECT no FROM review_actions WHERE incident_id = ? ORDER BY no",
                                         [incident_id])]
        listed = "、".join(map(str, have)) or "无"
        raise InvalidValue(f"事件 #{incident_id} 没有第 {no} 项整改事项（现有：{listed}；未作任何更改）")
    return _action(row)


def set_action_status(svc: "IncidentService", incident_id: int, no: int, status: str, *, actor: str) -> Action:
    """Move action item ``no`` of the incident to ``status`` (code or label); the same status
    records nothing."""
    code = parse_status(status)
    svc.get(incident_id)
    now = svc.clock()
    with transaction(svc.db) as conn:
        current = _get_action(svc.db, incident_id, no)
        if current.status == code:
            return current
        conn.execute("UPDATE review_actions SET status = ?, updated_at = ?, done_at = ? WHERE id = ?",
                     [code, to_db(now), to_db(now) if code == "done" else None, current.id])
        svc.record_event(incident_id, "review_action", {"no": no, "unit": current.unit, "due": current.due.isoformat(),
                                                        "text": current.text, "from": current.status,
                                                        "status": code}, actor=actor)
    return _get_action(svc.db, incident_id, no)


# ------------------------------------------------------------------ for the report templates

def _action_view(a: Action, today: date, titles: dict[int, str] | None = None) -> dict:
    return {"no": a.no, "unit": a.unit, "due_label": a.due.isoformat(), "text": a.text,
            "status": a.status_label, "overdue": a.overdue(today), "incident_id": a.incident_id,
            "incident_title": (titles or {}).get(a.incident_id, "")}


def review_for_report(db: sqlite_utils.Database, incident_id: int, now: datetime) -> dict:
    r = get_review(db, incident_id)
    today = desk_today(now)
    return {"well": r.well, "late": r.late, "why": r.why, "updated_by": r.updated_by,
            "updated_at": r.updated_at, "actions": [_action_view(a, today) for a in r.actions]}


def open_actions_for_report(db: sqlite_utils.Database, now: datetime, titles: dict[int, str]) -> list[dict]:
    today = desk_today(now)
    return [_action_view(a, today, titles) for a in open_actions(db)]


def summarize_event(kind: str, payload: dict) -> str:
    """One line of Chinese for a review timeline event."""
    if kind == "review":
        label = FINDINGS.get(payload.get("field"), payload.get("field"))
        return f"复盘（{label}）：{payload.get('text') or '（清空）'}"
    status = STATUSES.get(payload.get("status"), payload.get("status"))
    head = f"整改事项 {payload.get('no')}（{payload.get('unit')}，{payload.get('due')} 前）"
    if payload.get("from"):
        return f"{head}：{STATUSES.get(payload['from'], payload['from'])} → {status}"
    return f"{head}：{payload.get('text')}（{status}）"


@dataclass(frozen=True)
class ActionSpec:
    unit: str
    due: date
    text: str


def parse_action_spec(spec: str) -> ActionSpec:
    """``UNIT|DUE|TEXT`` as typed on the command line (a full-width ｜ works too)."""
    parts = [p.strip() for p in (spec or "").replace("｜", "|").split("|", 2)]
    if len(parts) != 3 or not all(parts):
        raise InvalidValue(f"整改事项格式应为「责任单位|完成时限|事项」，例如「区住建局|2026-07-31|完善夜间巡查制度」，"
                           f"收到「{spec}」（未作任何更改）")
    return ActionSpec(parts[0], parse_due(parts[1]), parts[2])


def apply_changes(svc: "IncidentService", incident_id: int, *, actor: str, findings: dict[str, str] | None = None,
                  actions: Iterable[ActionSpec] = (), statuses: Iterable[tuple[int, str]] = ()) -> Review:
    """Several review changes at once, all or none: findings (field -> text), new action items,
    and (number, status) moves. Each change is its own timeline event."""
    findings = {k: v for k, v in (findings or {}).items() if v is not None}
    unknown = [k for k in findings if k not in FINDINGS]
    if unknown:
        raise InvalidValue(f"unknown review finding {unknown[0]!r} (use {', '.join(FINDINGS)})")
    statuses = [(int(no), parse_status(st)) for no, st in statuses]
    actions = list(actions)
    for a in actions:  # refuse an unknown unit before anything is written
        svc.check_units([a.unit])
    with transaction(svc.db):
        if findings:
            set_findings(svc, incident_id, actor=actor, **findings)
        for a in actions:
            add_action(svc, incident_id, unit=a.unit, due=a.due, text=a.text, actor=actor)
        for no, st in statuses:
            set_action_status(svc, incident_id, no, st, actor=actor)
    return get_review(svc.db, incident_id)
