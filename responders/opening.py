"""Opening incidents from candidates, and joining candidates to open incidents.

A candidate joins an open incident with the same story, a shared item, or the
same town and topic with a first publication within the join window; joining
adds its story, items, evidence, places and units, raises the severity if the
candidate's is higher, and moves the deadline earlier for an earlier first
publication (while nothing is released yet). Called by
``IncidentService.open_or_join_result`` inside its transaction.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Iterator

from responders import timeline
from responders.clock import deadline
from responders.incidents import _union, _union_places
from responders.store import dumps, loads
from responders.types import OPEN_STATES, SEVERITIES, Incident, IncidentCandidate
from storage.timeutil import from_db, to_db

if TYPE_CHECKING:
    from responders.incidents import IncidentService


def join_candidates(svc: "IncidentService", c: IncidentCandidate, rows: dict | None = None,
                    topic: str | None = None) -> Iterator[Incident]:
    """Open incidents that might take the candidate: same story, shared items, same topic (``topic``,
    see :func:`responders.candidates.judged_topic`) in the window.

    Their ``item_ids`` and ``story_ids`` hold only the candidate's items and story they already have
    (enough for ``join_reason``). ``rows``, when given, receives their rows by id."""
    open_sql = f"merged_into IS NULL AND state IN ({','.join('?' * len(OPEN_STATES))})"
    ids: list[int] = []
    for (iid,) in svc.db.execute(
            f"SELECT i.id FROM incident_stories s JOIN incidents i ON i.id = s.incident_id"
            f" WHERE s.story_id = ? AND {open_sql} ORDER BY i.id", [c.story_id, *OPEN_STATES]):
        ids.append(iid)
    items = [str(i) for i in c.item_ids][:500]
    if items:
        for (iid,) in svc.db.execute(
                f"SELECT DISTINCT i.id FROM incident_items x JOIN incidents i ON i.id = x.incident_id"
                f" WHERE x.item_id IN ({','.join('?' * len(items))}) AND {open_sql} ORDER BY i.id",
                [*items, *OPEN_STATES]):
            ids.append(iid)
    towns = sorted({p["code"] for p in c.places if p.get("level") == "town" and p.get("code")})
    if towns:
        for (iid,) in svc.db.execute(
                f"SELECT id FROM incidents WHERE topic = ? AND first_published BETWEEN ? AND ? AND {open_sql}"
                " AND EXISTS (SELECT 1 FROM json_each(incidents.places) AS p"
                f" WHERE json_extract(p.value, '$.level') = 'town'"
                f" AND json_extract(p.value, '$.code') IN ({','.join('?' * len(towns))}))"
                " ORDER BY release_due, id",
                [topic or c.topic, to_db(c.first_published - svc.join_window), to_db(c.first_published + svc.join_window),
                 *OPEN_STATES, *towns]):
            ids.append(iid)
    ids = list(dict.fromkeys(ids))
    if not ids:
        return
    found = svc.db.execute_returning_dicts(f"SELECT * FROM incidents WHERE id IN ({','.join('?' * len(ids))})", ids)
    by_id = {r["id"]: r for r in found}
    if rows is not None:
        rows.update(by_id)
    # Only the candidate's own items matter for matching: do not load every linked item. The
    # first candidate almost always matches, so build the others only when asked for.
    yield from svc._build([by_id[ids[0]]], only_items=items, only_stories=[c.story_id])
    if len(ids) > 1:
        yield from svc._build([by_id[i] for i in ids[1:]], only_items=items, only_stories=[c.story_id])

def open_incident(svc: "IncidentService", conn, c: IncidentCandidate, actor: str, now: datetime,
                  topic: str | None = None) -> Incident:
    tier, topic = c.severity, topic or c.topic
    started, due, hours = deadline(svc.policy, tier, c.first_published, c.detected_at)
    cur = conn.execute(
        "INSERT INTO incidents (title, state, severity, tier, topic, first_published, detected_at,"
        " clock_started_at, release_due, created_at, updated_at, places, departments, responsible_units,"
        " severity_reasons, trigger) VALUES (?, '发现', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [c.title, c.severity, tier, topic, to_db(c.first_published), to_db(c.detected_at), to_db(started),
         to_db(due), to_db(now), to_db(now), dumps([dict(p) for p in c.places]), dumps(list(c.departments)),
         dumps(list(c.responsible_units)), dumps(list(c.severity_reasons)), c.trigger])
    iid = cur.lastrowid
    conn.execute("INSERT INTO incident_stories (story_id, incident_id) VALUES (?, ?)", [c.story_id, iid])
    timeline.append(conn, iid, "detected", actor, now, {
        "story_id": c.story_id, "title": c.title, "first_published": to_db(c.first_published),
        "detected_at": to_db(c.detected_at), "severity": c.severity, "tier": tier, "topic": topic,
        "trigger": c.trigger, "first_published_basis": c.first_published_basis,
        "severity_reasons": list(c.severity_reasons),
        "places": [p.get("name") for p in c.places], "departments": list(c.departments)})
    timeline.append(conn, iid, "clock_set", actor, now, {
        "started_at": to_db(started), "due_at": to_db(due), "tier": tier, "hours": hours, "reason": "opened"})
    added = svc._add_items(conn, iid, c.item_ids, now)
    svc._add_evidence(conn, iid, c.evidence, now)
    if added:
        timeline.append(conn, iid, "item_linked", actor, now, {"item_ids": added, "reason": "detected"})
    return svc._build(svc.db.execute_returning_dicts("SELECT * FROM incidents WHERE id = ?", [iid]))[0]

def join_incident(svc: "IncidentService", conn, iid: int, c: IncidentCandidate, reason: str, actor: str, now: datetime,
                  *, row: dict | None = None) -> bool:
    """Add the candidate to incident ``iid``; False when it brought nothing new (nothing written,
    so a batch repeated after a crash leaves no second event). ``row``: the incident's row, when
    the caller has just read it in the same transaction."""
    row = row if row is not None else svc._row(iid)
    story_new = conn.execute("INSERT OR IGNORE INTO incident_stories (story_id, incident_id) VALUES (?, ?)",
                             [c.story_id, iid]).rowcount > 0
    added = svc._add_items(conn, iid, c.item_ids, now)
    evidence = svc._add_evidence(conn, iid, c.evidence, now)
    changes = {}
    for col, new in (("places", c.places), ("departments", c.departments),
                     ("responsible_units", c.responsible_units)):
        old = loads(row[col], [])
        merged = _union_places(old, new) if col == "places" else _union(old, new)
        if merged != old:
            changes[col] = dumps(merged)
    higher = SEVERITIES.index(c.severity) > SEVERITIES.index(row["severity"])
    earlier = c.first_published < from_db(row["first_published"]) and not row["released_at"]
    if not (story_new or added or evidence or changes or higher or earlier):
        return False
    svc._update(conn, iid, now, **changes)
    timeline.append(conn, iid, "candidate_joined", actor, now, {
        "story_id": c.story_id, "reason": reason, "trigger": c.trigger, "item_ids": added})
    if higher:
        svc._grade(conn, row, c.severity, list(c.severity_reasons) or ["新报道研判等级更高"], actor, now)
    if earlier:
        svc._set_clock(conn, row, actor, now, "earlier first publication", first_published=c.first_published,
                       first_basis=c.first_published_basis)
    return True
