"""What a candidate does to incidents, as data: the row of the incident it opens, and what it
adds to an open incident it joins. :meth:`IncidentService.open_or_join` decides which incident
that is and writes it, with its timeline events, in one transaction.

A candidate joins an open incident with the same story, a shared item, or the same town and
topic with a first publication within the join window (when it tells the same event:
``responders.candidates.join_reason``); joining adds its story, items, evidence, places and
units, raises the severity if the candidate's is higher, and moves the deadline earlier for an
earlier first publication (while nothing is released yet).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

from responders.store import dumps, loads
from responders.types import SEVERITIES, IncidentCandidate
from storage.timeutil import from_db, to_db


def union(*seqs: Iterable[str]) -> list[str]:
    """The non-empty values of all sequences, each once, in first-seen order."""
    out: list[str] = []
    for seq in seqs:
        for v in seq:
            if v and v not in out:
                out.append(v)
    return out


def union_places(*seqs: Iterable[Mapping[str, Any]]) -> list[dict]:
    """Places of all sequences, each code (else name) once, the first seen kept."""
    out: dict[str, dict] = {}
    for seq in seqs:
        for p in seq:
            out.setdefault(p.get("code") or p.get("name"), dict(p))
    return list(out.values())


def town_codes(c: IncidentCandidate) -> list[str]:
    return sorted({p["code"] for p in c.places if p.get("level") == "town" and p.get("code")})


def opening_row(c: IncidentCandidate, started: datetime, due: datetime, now: datetime,
                topic: str) -> dict[str, Any]:
    """The incidents row of an incident opened from the candidate (state 发现, tier = severity)
    under ``topic`` (the one it is judged under: ``responders.candidates.judged_topic``)."""
    return {"title": c.title, "state": "发现", "severity": c.severity, "tier": c.severity, "topic": topic,
            "first_published": to_db(c.first_published), "detected_at": to_db(c.detected_at),
            "clock_started_at": to_db(started), "release_due": to_db(due), "created_at": to_db(now),
            "updated_at": to_db(now), "places": dumps([dict(p) for p in c.places]),
            "departments": dumps(list(c.departments)), "responsible_units": dumps(list(c.responsible_units)),
            "severity_reasons": dumps(list(c.severity_reasons)), "trigger": c.trigger}


def detected_payload(c: IncidentCandidate, topic: str) -> dict[str, Any]:
    """The ``detected`` timeline event of an incident opened from the candidate under ``topic``."""
    return {"story_id": c.story_id, "title": c.title, "first_published": to_db(c.first_published),
            "detected_at": to_db(c.detected_at), "severity": c.severity, "tier": c.severity, "topic": topic,
            "trigger": c.trigger, "first_published_basis": c.first_published_basis,
            "severity_reasons": list(c.severity_reasons),
            "places": [p.get("name") for p in c.places], "departments": list(c.departments)}


def join_changes(row: Mapping[str, Any], c: IncidentCandidate) -> tuple[dict[str, str], bool, bool]:
    """What joining the candidate changes in the incident's row: (columns whose places,
    departments or units grow, whether its severity is higher, whether it was published earlier
    while nothing is released yet)."""
    changes = {}
    for col, new in (("places", c.places), ("departments", c.departments),
                     ("responsible_units", c.responsible_units)):
        old = loads(row[col], [])
        merged = union_places(old, new) if col == "places" else union(old, new)
        if merged != old:
            changes[col] = dumps(merged)
    higher = SEVERITIES.index(c.severity) > SEVERITIES.index(row["severity"])
    earlier = c.first_published < from_db(row["first_published"]) and not row["released_at"]
    return changes, higher, earlier
