"""Leader instructions (领导批示) on incidents and the feedback (反馈) that closes each one. Owns the
``instructions`` table (migration set ``instructions``); everything else calls these functions.

A leader (or an admin) writes an instruction on an incident, optionally with a due time; an
officer, leader or admin reports back what was done. Both are timeline events on the incident
(``instruction`` and ``instruction_done``, appended through the incident service, so the hash
chain covers them and their actors) written in the same transaction as the row here. Who may do
what is checked by the caller (:mod:`responders.staff`); this module checks the instruction.

:func:`open_instructions` is the public question "what is still to be carried out, and what is
overdue" for the board, the incident view and the shift handover.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Iterable

import sqlite_utils
from sqlite_utils import Migrations

from responders.exceptions import InvalidValue, ResponderError
from storage.db import transaction
from storage.timeutil import desk_iso, desk_text, from_db, to_db

if TYPE_CHECKING:
    from responders.incidents import IncidentService

migrations = Migrations("instructions")

#: status -> how staff read it
STATUS_LABELS = {"open": "待落实", "overdue": "已超期", "done": "已反馈", "done_late": "超期反馈"}
MAX_TEXT = 2000


class InstructionNotFound(ResponderError):
    """No instruction with that number."""


@dataclass(frozen=True)
class Instruction:
    id: int
    incident_id: int
    leader: str  # staff id (or the name given on a desk without staff)
    text: str
    given_at: datetime
    due_at: datetime | None
    done_at: datetime | None = None
    done_by: str | None = None
    feedback: str | None = None

    def status(self, now: datetime) -> str:
        """open, overdue (not done and past its due time), done, or done_late (fed back after it)."""
        if self.done_at is not None:
            return "done_late" if self.due_at is not None and self.done_at > self.due_at else "done"
        return "overdue" if self.due_at is not None and now > self.due_at else "open"

    def status_label(self, now: datetime) -> str:
        """待落实, 已超期, 已反馈 or 超期反馈."""
        return STATUS_LABELS[self.status(now)]

    def is_open(self) -> bool:
        return self.done_at is None

    def to_dict(self, now: datetime) -> dict:
        status = self.status(now)
        return {"id": self.id, "incident_id": self.incident_id, "leader": self.leader, "text": self.text,
                "given_at": desk_iso(self.given_at), "due_at": desk_iso(self.due_at), "status": status,
                "status_label": STATUS_LABELS[status], "done_at": desk_iso(self.done_at), "done_by": self.done_by,
                "feedback": self.feedback}


@migrations()
def m001_instructions(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE instructions (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL,
            leader TEXT NOT NULL,
            text TEXT NOT NULL,
            given_at TEXT NOT NULL,
            due_at TEXT,
            done_at TEXT,
            done_by TEXT,
            feedback TEXT,
            given_event INTEGER,
            done_event INTEGER
        )""")
    db.execute("CREATE INDEX instructions_incident ON instructions(incident_id)")
    db.execute("CREATE INDEX instructions_open ON instructions(done_at, due_at)")


def _row(r: dict) -> Instruction:
    return Instruction(r["id"], r["incident_id"], r["leader"], r["text"], from_db(r["given_at"]),
                       from_db(r["due_at"]), from_db(r["done_at"]), r["done_by"], r["feedback"])


def _text(text: str | None, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidValue(f"{what}内容不能为空（--text）")
    if len(text) > MAX_TEXT:
        raise InvalidValue(f"{what}内容过长（{len(text)} 字，最多 {MAX_TEXT} 字）")
    return text


def instruct(svc: "IncidentService", incident_id: int, leader: str, text: str,
             due_at: datetime | None = None) -> Instruction:
    """Record a leader's instruction on an incident (and its timeline event, in one transaction).
    A due time before now is refused; the incident must exist."""
    text = _text(text, "批示")
    now = svc.clock()
    if due_at is not None:
        due_at = due_at.replace(microsecond=0)  # as the timeline event states it (whole seconds)
    if due_at is not None and due_at <= now:
        raise InvalidValue(f"落实时限 {desk_text(due_at)} 早于现在（{desk_text(now)}），请给出将来的时间")
    inc = svc.get(incident_id)  # IncidentNotFound with the incident service's wording
    if inc.merged_into:
        raise InvalidValue(f"事件 #{inc.id} 已并入事件 #{inc.merged_into}：请对事件 #{inc.merged_into} 批示（未作任何更改）")
    with transaction(svc.db) as conn:
        cur = conn.execute("INSERT INTO instructions (incident_id, leader, text, given_at, due_at)"
                           " VALUES (?, ?, ?, ?, ?) RETURNING id", [incident_id, leader, text, to_db(now), to_db(due_at)])
        iid = cur.fetchone()[0]
        ev = svc.record_event(incident_id, "instruction",
                              {"instruction_id": iid, "text": text, "due_at": desk_iso(due_at)}, actor=leader)
        conn.execute("UPDATE instructions SET given_event = ? WHERE id = ?", [ev.id, iid])
    return get_instruction(svc.db, iid)


def complete(svc: "IncidentService", instruction_id: int, actor: str, feedback: str) -> Instruction:
    """Record the feedback (反馈) that closes an instruction; an instruction is closed once."""
    feedback = _text(feedback, "反馈")
    now = svc.clock()
    with transaction(svc.db) as conn:
        ins = get_instruction(svc.db, instruction_id)
        if ins.done_at is not None:
            from responders.staff import display_name

            raise InvalidValue(f"批示 #{ins.id} 已于 {desk_text(ins.done_at)} 由 {display_name(svc.db, ins.done_by or '')} "
                               "反馈，无需重复反馈（未作任何更改）")
        late = ins.due_at is not None and now > ins.due_at
        ev = svc.record_event(ins.incident_id, "instruction_done",
                              {"instruction_id": ins.id, "text": feedback, "late": late}, actor=actor)
        # the event's own time: the service reads its clock again, and a running clock has moved on
        conn.execute("UPDATE instructions SET done_at = ?, done_by = ?, feedback = ?, done_event = ? WHERE id = ?",
                     [to_db(ev.at), actor, feedback, ev.id, ins.id])
    return get_instruction(svc.db, instruction_id)


def get_instruction(db: sqlite_utils.Database, instruction_id: int) -> Instruction:
    rows = db.execute_returning_dicts("SELECT * FROM instructions WHERE id = ?", [int(instruction_id)])
    if not rows:
        raise InstructionNotFound(f"没有批示 #{instruction_id}（yuqing instructions 列出全部批示）")
    return _row(rows[0])


def list_instructions(db: sqlite_utils.Database, *, open_only: bool = False,
                      incident_ids: Iterable[int] | None = None) -> list[Instruction]:
    """Instructions, oldest first; ``open_only``: not yet fed back; ``incident_ids``: of these incidents."""
    if not db["instructions"].exists():  # a database opened without this set (older tools, tests): none
        return []
    sql, args = "SELECT * FROM instructions WHERE 1=1", []
    if open_only:
        sql += " AND done_at IS NULL"
    if incident_ids is not None:
        ids = [int(i) for i in incident_ids]
        if not ids:
            return []
        sql += f" AND incident_id IN ({','.join('?' * len(ids))})"
        args += ids
    return [_row(r) for r in db.execute_returning_dicts(sql + " ORDER BY given_at, id", args)]


def open_instructions(db: sqlite_utils.Database, now: datetime) -> list[Instruction]:
    """Every instruction not yet fed back, the overdue first (earliest due first), then those with a
    due time, then those without; ``Instruction.status(now)`` says open or overdue. For the board,
    the incident view and the shift handover."""
    rows = list_instructions(db, open_only=True)
    return sorted(rows, key=lambda i: (i.status(now) != "overdue", i.due_at is None,
                                       i.due_at or i.given_at, i.id))


def open_counts(db: sqlite_utils.Database, now: datetime) -> dict[int, tuple[int, int]]:
    """incident id -> (open instructions, of which overdue)."""
    out: dict[int, tuple[int, int]] = {}
    for ins in list_instructions(db, open_only=True):
        n, late = out.get(ins.incident_id, (0, 0))
        out[ins.incident_id] = (n + 1, late + (ins.status(now) == "overdue"))
    return out


def check_against_timeline(db: sqlite_utils.Database) -> str:
    """'' when every instruction row agrees with its timeline events (who, what, when due, the
    feedback) and every instruction event has its row; else the first disagreement, for
    ``yuqing verify``: the chain protects the events, this catches the table edited behind them."""
    from responders import timeline
    from responders.masking import clean

    if not db["instructions"].exists():
        return ""
    given: dict[int, object] = {}
    done: dict[int, object] = {}
    for ev in timeline.events(db, kinds=("instruction", "instruction_done")):
        (given if ev.kind == "instruction" else done)[ev.payload.get("instruction_id")] = ev
    rows = {i.id: i for i in list_instructions(db)}
    for key in sorted(set(given) | set(done), key=str):
        if key not in rows:
            return f"批示 #{key} 在时间线上有记录，表中却没有（instructions 表被直接改动）"
    for i in rows.values():
        g, d = given.get(i.id), done.get(i.id)
        if g is None:
            return f"批示 #{i.id} 在时间线上没有记录（instructions 表被直接改动）"
        due = g.payload.get("due_at")
        if (g.incident_id, g.actor, g.payload.get("text")) != (i.incident_id, i.leader, clean(i.text)) or \
                (datetime.fromisoformat(due) if due else None) != i.due_at:
            return f"批示 #{i.id} 与时间线不符（批示人、内容或时限被改动：instructions 表被直接改动）"
        if (d is None) != (i.done_at is None):
            return f"批示 #{i.id} 的反馈状态与时间线不符（instructions 表被直接改动）"
        if d is not None and (d.actor, d.payload.get("text"), d.at) != (i.done_by, clean(i.feedback or ""), i.done_at):
            return f"批示 #{i.id} 的反馈与时间线不符（反馈人、内容或时间被改动：instructions 表被直接改动）"
    return ""


def handover_rows(db: sqlite_utils.Database, now: datetime, name=lambda actor: actor) -> list[dict]:
    """:func:`open_instructions` in the shape the handover report takes
    (``responders.handover.build_handover(open_instructions=...)``); ``name`` shows an actor id."""
    return [{"id": i.id, "incident": i.incident_id, "leader": i.leader, "leader_name": name(i.leader),
             "text": i.text, "given_at": i.given_at, "due": i.due_at, "overdue": i.status(now) == "overdue"}
            for i in open_instructions(db, now)]
