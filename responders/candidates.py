"""Incident candidates: building them from plain data, and deciding what they join.

:func:`candidate_from_mapping` is the helper for JSON files, the demo and tests:
it validates every field and names the bad one in a :class:`CandidateError`.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping, Sequence

from classifiers.same_event import bigram_keys, event_bigrams, place_bigram_test, regions_before
from responders.exceptions import CandidateError
from responders.types import SEVERITIES, Incident, IncidentCandidate


def _time(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise CandidateError(f"candidate {name}: not an ISO 8601 time: {value!r}") from None
    else:
        raise CandidateError(f"candidate {name}: expected an ISO 8601 time, got {value!r}")
    if dt.tzinfo is None:
        raise CandidateError(f"candidate {name}: time {value!r} has no timezone offset")
    return dt


def _strs(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise CandidateError(f"candidate {name}: expected a list of text, got {value!r}")
    out = []
    for v in value:
        if not isinstance(v, str):
            raise CandidateError(f"candidate {name}: expected text, got {v!r}")
        if v.strip():
            out.append(v.strip())
    return tuple(out)


def _check_place(p: Any, i: int) -> None:
    if not isinstance(p, Mapping):
        raise CandidateError(f"candidate places[{i}]: expected {{code, name, level}}, got {p!r}")
    for key in ("code", "name"):
        v = p.get(key)
        if not isinstance(v, str) or not v:
            raise CandidateError(f"candidate places[{i}].{key}: missing or not text")


def _place(p: Any, i: int) -> dict:
    _check_place(p, i)
    return {"code": p["code"], "name": p["name"], "level": str(p.get("level") or "")}


def candidate_from_mapping(d: Mapping[str, Any]) -> IncidentCandidate:
    """Validate a plain mapping (e.g. parsed JSON) into an :class:`IncidentCandidate`."""
    if not isinstance(d, Mapping):
        raise CandidateError(f"candidate: expected an object, got {type(d).__name__}")
    for key in ("story_id", "title", "first_published", "detected_at"):
        if d.get(key) in (None, ""):
            raise CandidateError(f"candidate {key}: missing")
    if not isinstance(d["title"], str):
        raise CandidateError(f"candidate title: expected text, got {d['title']!r}")
    severity = d.get("severity") or "一般"
    if severity not in SEVERITIES:
        raise CandidateError(f"candidate severity: must be one of {'/'.join(SEVERITIES)}, got {severity!r}")
    places = d.get("places") or []
    if not isinstance(places, (list, tuple)):
        raise CandidateError(f"candidate places: expected a list, got {places!r}")
    item_ids = d.get("item_ids") or []
    if not isinstance(item_ids, (list, tuple)) or any(
            isinstance(x, bool) or not isinstance(x, (int, str)) for x in item_ids):
        raise CandidateError(f"candidate item_ids: expected a list of ids, got {item_ids!r}")
    evidence = d.get("evidence") or []
    if not isinstance(evidence, (list, tuple)) or not all(isinstance(e, Mapping) for e in evidence):
        raise CandidateError("candidate evidence: expected a list of objects")
    ev = []
    for i, e in enumerate(evidence):
        e = dict(e)
        if e.get("published") not in (None, ""):
            e["published"] = _time(e["published"], f"evidence[{i}].published")
        ev.append(e)
    return IncidentCandidate(
        story_id=str(d["story_id"]),
        title=d["title"].strip(),
        first_published=_time(d["first_published"], "first_published"),
        detected_at=_time(d["detected_at"], "detected_at"),
        places=tuple(_place(p, i) for i, p in enumerate(places)),
        departments=_strs(d.get("departments"), "departments"),
        responsible_units=_strs(d.get("responsible_units"), "responsible_units"),
        topic=str(d.get("topic") or "其他"),
        severity=severity,
        severity_reasons=_strs(d.get("severity_reasons"), "severity_reasons"),
        item_ids=tuple(item_ids),
        evidence=tuple(ev),
        trigger=str(d.get("trigger") or ""),
        first_published_basis=str(d.get("first_published_basis") or ""),
    )


def validate_candidate(c: IncidentCandidate) -> None:
    """Check a candidate built in code (the story stage) before it touches the DB."""
    for name in ("first_published", "detected_at"):
        v = getattr(c, name)
        if not isinstance(v, datetime) or v.tzinfo is None:
            raise CandidateError(f"candidate {name}: must be a timezone-aware datetime, got {v!r}")
    if not c.story_id or not isinstance(c.title, str):
        raise CandidateError("candidate story_id/title: missing")
    if c.severity not in SEVERITIES:
        raise CandidateError(f"candidate severity: must be one of {'/'.join(SEVERITIES)}, got {c.severity!r}")
    for i, p in enumerate(c.places):
        _check_place(p, i)
    for i, e in enumerate(c.evidence):
        pub = e.get("published")
        if isinstance(pub, str) and pub:
            pub = _time(pub, f"evidence[{i}].published")
        if isinstance(pub, datetime) and pub.tzinfo is None:
            raise CandidateError(f"candidate evidence[{i}].published: time has no timezone offset")


def candidate_to_json(c: IncidentCandidate) -> dict:
    def t(v):
        return v.isoformat() if isinstance(v, datetime) else v

    return {
        "story_id": c.story_id, "title": c.title, "first_published": t(c.first_published),
        "detected_at": t(c.detected_at), "places": [dict(p) for p in c.places],
        "departments": list(c.departments), "responsible_units": list(c.responsible_units),
        "topic": c.topic, "severity": c.severity, "severity_reasons": list(c.severity_reasons),
        "item_ids": list(c.item_ids), "evidence": [{k: t(v) for k, v in e.items()} for e in c.evidence],
        "trigger": c.trigger, "first_published_basis": c.first_published_basis,
    }


def town_codes(places: Iterable[Mapping[str, Any]]) -> set[str]:
    return {p["code"] for p in places if p.get("level") == "town" and p.get("code")}


def judged_topic(c: IncidentCandidate, same_event_topic: str | None) -> str:
    """The topic a candidate is joined and opened under: a story found telling the same event as
    an incident (``c.same_event_as``, whose topic is ``same_event_topic``) takes that incident's
    topic, however its own items were classified; any other candidate its own."""
    if c.same_event_as is not None and same_event_topic:
        return same_event_topic
    return c.topic


def join_reason(c: IncidentCandidate, inc: Incident, window: timedelta,
                incident_texts: Callable[[], Sequence[str]] | None = None, topic: str | None = None) -> str | None:
    """Why the candidate belongs to this open incident, or None.

    Same story; shared items; or the same event in the same town: same town, same topic
    (``topic``: the one it is judged under, :func:`judged_topic`), first published within
    ``window`` of the incident's story, and the candidate's reports share the incident's event
    words once place names are set aside (``incident_texts`` gives the incident's title and
    evidence titles; two events in one town are two incidents).
    """
    if c.story_id in inc.story_ids:
        return f"同一报道簇 {c.story_id}"
    shared = {str(i) for i in c.item_ids} & set(inc.item_ids)
    if shared:
        return f"共享条目 {', '.join(sorted(shared)[:5])}"
    towns = town_codes(c.places) & town_codes(inc.places)
    topic = topic or c.topic
    if towns and topic == inc.topic and abs(c.first_published - inc.first_published) <= window:
        words = _same_event(c, inc, incident_texts() if incident_texts else [inc.title])
        if words is None:
            return None
        names = sorted(p["name"] for p in c.places if p.get("code") in towns)
        return f"同一镇办（{'、'.join(names)}）同一领域（{topic}）且为同一事件（共有 {'、'.join(words[:6])}）"
    return None


def _same_event(c: IncidentCandidate, inc: Incident, incident_texts: Sequence[str]) -> list[str] | None:
    """The event bigrams the candidate's reports share with the incident's texts, or None."""
    mine = [c.title, *(f"{e.get('title') or ''} {str(e.get('text') or '')[:300]}" for e in c.evidence)]
    theirs = [inc.title, *incident_texts]
    places = [*c.places, *inc.places]
    towns = [p["name"] for p in places if p.get("level") in ("town", "village")]
    regions = {p["name"] for p in places if p.get("level") not in ("town", "village")}
    regions |= regions_before([*mine, *theirs], towns)
    common = sorted(bigram_keys(mine) & bigram_keys(theirs))
    return event_bigrams(common, place_bigram_test(towns, regions))
