"""Merge and split incidents. Nothing is deleted: every move is a timeline event.

Merge: the others' items, stories, evidence, releases and proposals move to the
target; the others get ``merged_into`` (their clocks close). The target keeps
the earliest first publication (its deadline moves earlier if not yet
released), the highest severity and the most advanced state.

Split: the given items (and their evidence) move to a new incident that
inherits places, topic, units and severity; its clock starts from the earliest
publication among the moved evidence (else the original's).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from responders import timeline
from responders.clock import deadline
from responders.exceptions import InvalidValue
from responders.incidents import _ORDER, _union, _union_places
from responders.store import dumps, loads
from responders.types import SEVERITIES, Incident
from storage.db import transaction
from storage.timeutil import from_db, to_db

if TYPE_CHECKING:
    from responders.incidents import IncidentService


def merge(svc: "IncidentService", target_id: int, other_ids: Sequence[int], actor: str) -> Incident:
    now = svc.clock()
    target = svc._open_row(target_id, "合并")
    others = []
    for oid in dict.fromkeys(int(o) for o in other_ids):
        if oid == target["id"]:
            raise InvalidValue(f"不能把事件 #{oid} 合并到它自己")
        others.append(svc._open_row(oid, "合并"))
    if not others:
        raise InvalidValue("合并至少需要另一个事件")
    tid = target["id"]
    with transaction(svc.db) as conn:
        moved_items: list[str] = []
        for o in others:
            oid = o["id"]
            items = [r[0] for r in conn.execute("SELECT item_id FROM incident_items WHERE incident_id = ?", [oid])]
            for item in items:
                conn.execute("INSERT OR IGNORE INTO incident_items (incident_id, item_id, linked_at) VALUES (?, ?, ?)",
                             [tid, item, to_db(now)])
            conn.execute("DELETE FROM incident_items WHERE incident_id = ?", [oid])
            moved_items += items
            conn.execute("INSERT OR IGNORE INTO incident_stories (story_id, incident_id)"
                         " SELECT story_id, ? FROM incident_stories WHERE incident_id = ?", [tid, oid])
            conn.execute("UPDATE incident_evidence SET incident_id = ? WHERE incident_id = ?", [tid, oid])
            conn.execute("UPDATE releases SET incident_id = ? WHERE incident_id = ?", [tid, oid])
            conn.execute("UPDATE OR IGNORE release_proposals SET incident_id = ? WHERE incident_id = ?", [tid, oid])
            svc._update(conn, oid, now, merged_into=tid, closed_at=to_db(now))
            timeline.append(conn, oid, "merged_into", actor, now, {"target": tid, "item_ids": items})
        rows = [target] + others
        svc._update(
            conn, tid, now,
            places=dumps(_union_places(*(loads(r["places"], []) for r in rows))),
            departments=dumps(_union(*(loads(r["departments"], []) for r in rows))),
            responsible_units=dumps(_union(*(loads(r["responsible_units"], []) for r in rows))),
            assigned_units=dumps(_union(*(loads(r["assigned_units"], []) for r in rows))),
            severity_reasons=dumps(_union(*(loads(r["severity_reasons"], []) for r in rows))),
        )
        released = [r["released_at"] for r in rows if r["released_at"]]
        finals = [r["final_at"] for r in rows if r["final_at"]]
        acks = [r["acknowledged_at"] for r in rows if r["acknowledged_at"]]
        svc._update(conn, tid, now, released_at=min(released) if released else None,
                    final_at=min(finals) if finals else None, acknowledged_at=min(acks) if acks else None)
        timeline.append(conn, tid, "merged", actor, now, {"others": [o["id"] for o in others], "item_ids": moved_items})
        top = max(rows, key=lambda r: SEVERITIES.index(r["severity"]))
        if SEVERITIES.index(top["severity"]) > SEVERITIES.index(target["severity"]):
            svc._grade(conn, target, top["severity"], [f"合并事件 #{top['id']} 的等级"], actor, now)
        target["released_at"] = min(released) if released else None
        earliest = min(from_db(r["first_published"]) for r in rows)
        if earliest < from_db(target["first_published"]) and not target["released_at"]:
            svc._set_clock(conn, target, actor, now, "merge: earlier first publication", first_published=earliest,
                           first_basis="合并事件中最早的首发")
        furthest = max((r["state"] for r in rows), key=lambda s: _ORDER[s])
        if _ORDER[furthest] > _ORDER[target["state"]]:
            svc._move(conn, target, furthest, actor, now, reason="合并")
    return svc.get(tid)


def split(svc: "IncidentService", incident_id: int, item_ids: Sequence[int | str], title: str | None,
          actor: str) -> Incident:
    now = svc.clock()
    row = svc._open_row(incident_id, "拆分")
    items = list(dict.fromkeys(str(i) for i in item_ids))
    if not items:
        raise InvalidValue("拆分需要指定要移出的条目")
    linked = {r[0] for r in svc.db.execute("SELECT item_id FROM incident_items WHERE incident_id = ?", [row["id"]])}
    missing = [i for i in items if i not in linked]
    if missing:
        raise InvalidValue(f"条目 {', '.join(missing)} 不属于事件 #{row['id']}")
    marks = ",".join("?" * len(items))
    pubs = [from_db(r[0]) for r in svc.db.execute(
        f"SELECT published FROM incident_evidence WHERE incident_id = ? AND item_id IN ({marks})"
        " AND published IS NOT NULL", [row["id"], *items])]
    first_published = min(pubs) if pubs else from_db(row["first_published"])
    detected = from_db(row["detected_at"])
    started, due, hours = deadline(svc.policy, row["tier"], first_published, detected)
    new_title = (title or "").strip() or f"{row['title']}（拆分）"
    with transaction(svc.db) as conn:
        cur = conn.execute(
            "INSERT INTO incidents (title, state, severity, tier, topic, first_published, detected_at,"
            " clock_started_at, release_due, created_at, updated_at, places, departments, responsible_units,"
            " severity_reasons, trigger) VALUES (?, '发现', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [new_title, row["severity"], row["tier"], row["topic"], to_db(first_published), to_db(detected),
             to_db(started), to_db(due), to_db(now), to_db(now), row["places"], row["departments"],
             row["responsible_units"], row["severity_reasons"], f"拆分自事件 #{row['id']}"])
        nid = cur.lastrowid
        conn.execute(f"UPDATE incident_items SET incident_id = ? WHERE incident_id = ? AND item_id IN ({marks})",
                     [nid, row["id"], *items])
        conn.execute(f"UPDATE incident_evidence SET incident_id = ? WHERE incident_id = ? AND item_id IN ({marks})",
                     [nid, row["id"], *items])
        svc._update(conn, row["id"], now)
        timeline.append(conn, row["id"], "split", actor, now, {"new_incident": nid, "item_ids": items})
        timeline.append(conn, nid, "detected", actor, now, {
            "story_id": None, "title": new_title, "first_published": to_db(first_published),
            "detected_at": to_db(detected), "severity": row["severity"], "tier": row["tier"],
            "topic": row["topic"], "trigger": f"拆分自事件 #{row['id']}"})
        timeline.append(conn, nid, "split_from", actor, now, {"incident": row["id"], "item_ids": items})
        timeline.append(conn, nid, "clock_set", actor, now, {
            "started_at": to_db(started), "due_at": to_db(due), "tier": row["tier"], "hours": hours,
            "reason": "split"})
        timeline.append(conn, nid, "item_linked", actor, now, {"item_ids": items, "reason": "split"})
    return svc.get(nid)
