"""Merge and split as data. Nothing is deleted: :meth:`IncidentService.merge` and
:meth:`IncidentService.split` write these rows with a timeline event for every move.

Merge: the others' items, stories, evidence, releases and proposals move to the target; the
others get ``merged_into`` (their clocks close). The target keeps the earliest first
publication (its deadline moves earlier if not yet released), the highest severity and the
most advanced state.

Split: the given items (and their evidence) move to a new incident that inherits places,
topic, units and severity; its clock starts from the earliest publication among the moved
evidence (else the original's).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Sequence

from responders.opening import union, union_places
from responders.store import dumps, loads
from storage.timeutil import from_db, to_db


def merged_lists(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The merged incident's places, departments, units and severity reasons: all of theirs."""
    out = {"places": dumps(union_places(*(loads(r["places"], []) for r in rows)))}
    for col in ("departments", "responsible_units", "assigned_units", "severity_reasons"):
        out[col] = dumps(union(*(loads(r[col], []) for r in rows)))
    return out


def merged_times(rows: Sequence[Mapping[str, Any]]) -> dict[str, str | None]:
    """The merged incident's first release, final release and acknowledgement: the earliest of theirs."""
    out = {}
    for col in ("released_at", "final_at", "acknowledged_at"):
        times = [r[col] for r in rows if r[col]]
        out[col] = min(times) if times else None
    return out


def split_row(row: Mapping[str, Any], title: str, first_published: datetime, started: datetime, due: datetime,
              now: datetime) -> dict[str, Any]:
    """The incidents row of the incident split off ``row``."""
    return {"title": title, "state": "发现", "severity": row["severity"], "tier": row["tier"], "topic": row["topic"],
            "first_published": to_db(first_published), "detected_at": to_db(from_db(row["detected_at"])),
            "clock_started_at": to_db(started), "release_due": to_db(due), "created_at": to_db(now),
            "updated_at": to_db(now), "places": row["places"], "departments": row["departments"],
            "responsible_units": row["responsible_units"], "severity_reasons": row["severity_reasons"],
            "trigger": f"拆分自事件 #{row['id']}"}
