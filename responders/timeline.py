"""The append-only, tamper-evident timeline.

One global hash chain over every incident, ordered by event id: each event's
``hash`` is sha256 over the canonical JSON of (id, incident_id, seq, kind,
actor, at, payload, prev_hash), and ``prev_hash`` is the previous event's hash
(``GENESIS`` for the first). ``timeline_head`` keeps the last id, hash and
count, so removing the newest events is detected too. Triggers refuse UPDATE
and DELETE; :func:`verify` catches whatever bypasses them.

:func:`append` must run inside the caller's ``storage.db.transaction`` so the
event commits (or rolls back) together with the change it records.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime
from typing import Any, Mapping

import sqlite_utils

from responders.store import dumps
from responders.types import TimelineEvent, VerifyResult
from storage.timeutil import from_db, to_db

GENESIS = "0" * 64


def event_hash(event_id: int, incident_id: int, seq: int, kind: str, actor: str, at: str,
               payload: Any, prev_hash: str) -> str:
    body = dumps({
        "id": event_id, "incident_id": incident_id, "seq": seq, "kind": kind, "actor": actor,
        "at": at, "payload": payload, "prev_hash": prev_hash,
    })
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append(conn: sqlite3.Connection, incident_id: int, kind: str, actor: str, at: datetime,
           payload: Mapping[str, Any] | None = None) -> TimelineEvent:
    """Append one event (inside an open transaction) and move the chain head."""
    payload = json.loads(dumps(dict(payload or {})))  # canonical, JSON-safe
    head = conn.execute("SELECT last_event_id, last_hash, count FROM timeline_head WHERE id = 1").fetchone()
    prev_hash = head[1] if head else GENESIS
    last_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM timeline_events").fetchone()[0]
    event_id = last_id + 1
    seq = conn.execute(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM timeline_events WHERE incident_id = ?", [incident_id]
    ).fetchone()[0]
    at_s = to_db(at)
    h = event_hash(event_id, incident_id, seq, kind, actor, at_s, payload, prev_hash)
    conn.execute(
        "INSERT INTO timeline_events (id, incident_id, seq, kind, actor, at, payload, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [event_id, incident_id, seq, kind, actor, at_s, dumps(payload), prev_hash, h],
    )
    count = (head[2] if head else 0) + 1
    conn.execute(
        "INSERT INTO timeline_head (id, last_event_id, last_hash, count) VALUES (1, ?, ?, ?)"
        " ON CONFLICT(id) DO UPDATE SET last_event_id = excluded.last_event_id,"
        " last_hash = excluded.last_hash, count = excluded.count",
        [event_id, h, count],
    )
    return TimelineEvent(event_id, incident_id, seq, kind, actor, from_db(at_s), payload, prev_hash, h)


def _row_event(r: Mapping[str, Any]) -> TimelineEvent:
    return TimelineEvent(
        id=r["id"], incident_id=r["incident_id"], seq=r["seq"], kind=r["kind"], actor=r["actor"],
        at=from_db(r["at"]), payload=json.loads(r["payload"]), prev_hash=r["prev_hash"], hash=r["hash"],
    )


def events(db: sqlite_utils.Database, incident_id: int | None = None, *, kinds: tuple[str, ...] = ()) -> list[TimelineEvent]:
    """Events of one incident (or all), oldest first."""
    sql = "SELECT * FROM timeline_events"
    where, params = [], []
    if incident_id is not None:
        where.append("incident_id = ?")
        params.append(incident_id)
    if kinds:
        where.append(f"kind IN ({','.join('?' * len(kinds))})")
        params.extend(kinds)
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id"
    return [_row_event(r) for r in db.execute_returning_dicts(sql, params)]


def events_for(db: sqlite_utils.Database, incident_ids: list[int]) -> dict[int, list[TimelineEvent]]:
    """Events of many incidents at once, grouped, oldest first."""
    out: dict[int, list[TimelineEvent]] = {i: [] for i in incident_ids}
    if not incident_ids:
        return out
    for chunk_start in range(0, len(incident_ids), 500):
        chunk = incident_ids[chunk_start:chunk_start + 500]
        rows = db.execute_returning_dicts(
            f"SELECT * FROM timeline_events WHERE incident_id IN ({','.join('?' * len(chunk))}) ORDER BY id",
            chunk,
        )
        for r in rows:
            out[r["incident_id"]].append(_row_event(r))
    return out


def verify(db: sqlite_utils.Database) -> VerifyResult:
    """Walk the whole chain; name the first event whose hash or link is wrong."""
    prev_hash = GENESIS
    checked = 0
    expected_id = 1
    last_id = 0
    cur = db.conn.execute(
        "SELECT id, incident_id, seq, kind, actor, at, payload, prev_hash, hash FROM timeline_events ORDER BY id"
    )
    for event_id, incident_id, seq, kind, actor, at, payload_s, stored_prev, stored_hash in cur:
        if event_id != expected_id:
            return VerifyResult(False, checked, event_id,
                                f"event {event_id}: expected id {expected_id} (events missing before it)")
        if stored_prev != prev_hash:
            return VerifyResult(False, checked, event_id,
                                f"event {event_id}: prev_hash does not match the previous event's hash")
        try:
            payload = json.loads(payload_s)
        except (TypeError, ValueError):
            return VerifyResult(False, checked, event_id, f"event {event_id}: payload is not valid JSON")
        if event_hash(event_id, incident_id, seq, kind, actor, at, payload, stored_prev) != stored_hash:
            return VerifyResult(False, checked, event_id,
                                f"event {event_id}: content does not match its hash (edited)")
        prev_hash = stored_hash
        checked += 1
        expected_id += 1
        last_id = event_id
    head = db.conn.execute("SELECT last_event_id, last_hash, count FROM timeline_head WHERE id = 1").fetchone()
    if head is None:
        if checked:
            return VerifyResult(False, checked, None, "timeline head is missing")
        return VerifyResult(True, 0)
    if head[0] != last_id or head[1] != prev_hash or head[2] != checked:
        return VerifyResult(False, checked, last_id + 1 if head[0] > last_id else None,
                            f"timeline head says {head[2]} events ending at event {head[0]}, "
                            f"found {checked} ending at event {last_id} (events removed from the end?)")
    return VerifyResult(True, checked)
