"""The incident service: every action on an incident, each one transaction
that updates the ``incidents`` row and appends its timeline event(s).

``now`` comes from the injected ``clock`` callable; unit names are checked against and
canonicalised by the injected ``units`` (:class:`classifiers.units.UnitNames`), also on read,
so a unit stored under a former name or alias reads as its canonical name. Timeline payloads:
detected {story_id, first_published, detected_at, severity, tier, topic, trigger},
clock_set {started_at, due_at, tier, hours, reason}, graded {from, to, tier, reasons},
assigned {units, feedback_due_hours} (units added; the feedback window they owe), unassigned {units}
(units taken off), acknowledged {first}, note {text}, release {release_id, kind, channel, url,
released_at, text}, followup {text, unit} (unit: an assigned unit's feedback 反馈, else absent),
verification {from, to, note}, state_changed {from, to, reason}, dismissed {state, reason}, archived {},
item_linked/item_unlinked {item_ids, reason}, candidate_joined {story_id, reason,
trigger, item_ids}, merged {others}, merged_into {target}, split {new_incident,
item_ids}, split_from {incident, item_ids}, clock_alert {key, kind, point, late, ...}.
"""
from __future__ import annotations

import getpass
import os
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping, Sequence

import sqlite_utils

from classifiers.units import UnitNames
from responders import store, timeline
from responders.candidates import join_reason, judged_topic, validate_candidate
from responders.clock import compute_clock, compute_feedback, deadline
from responders.exceptions import IllegalTransition, IncidentNotFound, InvalidValue, UnknownUnit
from responders.evidence import add_evidence
from responders.merging import merged_lists, merged_times, split_row
from responders.opening import detected_payload, join_changes, opening_row, town_codes
from responders.policy import ClockPolicy
from responders.store import dumps, loads
from responders.types import (
    ARCHIVABLE_STATES, CHANNELS, DISMISS_STATES, FLOW_STATES, OPEN_STATES, RELEASE_KINDS, SEVERITIES,
    VERIFICATIONS, ClockAlert, ClockState, Evidence, Incident, IncidentCandidate, JoinResult, Release,
    TimelineEvent, UnitFeedback,
)
from storage.db import transaction
from storage.timeutil import desk_text, from_db, to_db, utcnow

#: Event kinds other packages may append with :meth:`IncidentService.record_event`.
EXTERNAL_KINDS = ("alert_sent", "alert_failed", "note", "alert_acked", "instruction", "instruction_done",
                  "review", "review_action")
#: How far a release time may lie in the future (clock skew between machines).
FUTURE_TOLERANCE = timedelta(minutes=5)
_ORDER = {s: i for i, s in enumerate(FLOW_STATES)}


def default_actor() -> str:
    try:
        return getpass.getuser() or "staff"
    except Exception:  # noqa: BLE001 - no user database in some containers
        return os.environ.get("USER") or "staff"


def incident_open(db, incident_id: Any) -> bool:
    """Whether an incident (followed through merges) is still being handled. An id
    that is not (or no longer) in the table counts as closed."""
    seen = set()
    while incident_id is not None and incident_id not in seen:
        seen.add(incident_id)
        row = store.state_of(db, incident_id)
        if row is None:
            return False
        if row[1] is None:
            return row[0] in OPEN_STATES
        incident_id = row[1]
    return False


class IncidentService:
    def __init__(self, db: sqlite_utils.Database, policy: ClockPolicy | None = None,
                 clock: Callable[[], datetime] = utcnow, *, join_window_hours: float = 72.0,
                 units: UnitNames | Callable[[], UnitNames] | None = None):
        self.db = db
        self.policy = policy or ClockPolicy()
        self.clock = clock
        # None: names are taken as written (no gazetteer); a callable is called once, when first needed
        self._units = units
        self.join_window = timedelta(hours=join_window_hours)

    # ------------------------------------------------------------ reading

    def _row(self, incident_id: int) -> dict:
        row = store.incident_row(self.db, incident_id)
        if row is None:
            raise IncidentNotFound(incident_id)
        return row

    def _build(self, rows: list[dict], only_items: Sequence[str] | None = None,
               only_stories: Sequence[str] | None = None) -> list[Incident]:
        """Incidents from their rows; ``only_items`` / ``only_stories`` limit ``item_ids`` /
        ``story_ids`` to those items / stories (a cheap build for matching a candidate against
        incidents with many items and stories)."""
        stories, items = store.incident_links(self.db, [r["id"] for r in rows], only_items, only_stories)
        out = []
        for r in rows:
            out.append(Incident(
                id=r["id"], title=r["title"], state=r["state"], severity=r["severity"], tier=r["tier"],
                verification=r["verification"], topic=r["topic"],
                first_published=from_db(r["first_published"]), detected_at=from_db(r["detected_at"]),
                clock_started_at=from_db(r["clock_started_at"]), release_due=from_db(r["release_due"]),
                created_at=from_db(r["created_at"]), updated_at=from_db(r["updated_at"]),
                places=tuple(loads(r["places"], [])), departments=tuple(loads(r["departments"], [])),
                responsible_units=self.canonical_units(loads(r["responsible_units"], [])),
                assigned_units=self.canonical_units(loads(r["assigned_units"], [])),
                severity_reasons=tuple(loads(r["severity_reasons"], [])), trigger=r["trigger"],
                story_ids=tuple(stories[r["id"]]), item_ids=tuple(items[r["id"]]),
                acknowledged_at=from_db(r["acknowledged_at"]), released_at=from_db(r["released_at"]),
                final_at=from_db(r["final_at"]), closed_at=from_db(r["closed_at"]),
                dismiss_reason=r["dismiss_reason"], merged_into=r["merged_into"],
            ))
        return out

    def get(self, incident_id: int) -> Incident:
        return self._build([self._row(incident_id)])[0]

    @property
    def units(self) -> UnitNames | None:
        if callable(self._units):
            self._units = self._units()
        return self._units

    def canonical_units(self, names: Iterable[str]) -> tuple[str, ...]:
        """Stored unit names as shown and counted: canonical, each unit once."""
        if self.units is None:
            return tuple(dict.fromkeys(n for n in names if n))
        return self.units.canonicalize_all(names)

    def check_units(self, names: Iterable[str]) -> list[str]:
        """Canonical names of the units given, each once; UnknownUnit (with the nearest known
        names) for the first one the gazetteer does not know."""
        out: list[str] = []
        for name in names:
            name = (name or "").strip()
            if not name:
                continue
            canon = name if self.units is None else self.units.canonical(name)
            if canon is None:
                raise UnknownUnit(name, self.units.nearest(name))
            if canon not in out:
                out.append(canon)
        return out

    def acknowledged_by(self, incident_id: int) -> TimelineEvent | None:
        """The event of the first acknowledgement, or None."""
        return next((e for e in self.timeline(incident_id) if e.kind == "acknowledged"), None)

    def list(self, *, include_closed: bool = False, links: bool = True) -> list[Incident]:
        """Incidents sorted by release due time (open ones only unless include_closed); with
        ``links=False`` their ``item_ids`` and ``story_ids`` are left empty (cheaper)."""
        rows = store.listed_rows(self.db, None if include_closed else OPEN_STATES)
        return self._build(rows) if links else self._build(rows, only_items=(), only_stories=())

    def board(self, states: Sequence[str], limit: int) -> tuple[int, int, list[dict]]:
        """(how many incidents are in ``states``, how many of those nobody acknowledged yet, the first
        ``limit`` of them: unreleased first, by release due time). Each of those is only what a
        board shows (read every few seconds): {id, title, state, severity, places, units (assigned,
        else responsible; canonical), release_due, released_at, acknowledged}."""
        total, waiting = store.board_counts(self.db, states)
        out = [{"id": r["id"], "title": r["title"], "state": r["state"], "severity": r["severity"],
                "places": loads(r["places"], []),
                "units": self.canonical_units(loads(r["assigned_units"], []) or loads(r["responsible_units"], [])),
                "release_due": from_db(r["release_due"]), "released_at": from_db(r["released_at"]),
                "acknowledged": r["acknowledged_at"] is not None}
               for r in store.board_rows(self.db, states, limit)]
        return total, waiting, out

    def timeline(self, incident_id: int) -> list[TimelineEvent]:
        self._row(incident_id)
        return timeline.events(self.db, int(incident_id))

    def releases(self, incident_id: int) -> list[Release]:
        rows = store.release_rows(self.db, incident_id)
        return [Release(r["id"], r["incident_id"], r["kind"], r["channel"], r["url"], from_db(r["released_at"]),
                        r["text"], from_db(r["recorded_at"]), r["actor"], r["source_item_id"]) for r in rows]

    def evidence(self, incident_id: int) -> list[Evidence]:
        rows = store.evidence_rows(self.db, incident_id)
        return [Evidence(r["id"], r["incident_id"], r["item_id"], r["title"], r["text"], r["url"],
                         from_db(r["published"]), r["source"], r["rank"], r["content_hash"],
                         from_db(r["added_at"])) for r in rows]

    def evidence_titles(self, incident_ids: Sequence[int], per_incident: int = 20) -> dict[int, list[str]]:
        """Incident id -> the titles of its first ``per_incident`` evidence snapshots, in the order
        of :meth:`evidence` (what a new story is compared with)."""
        titles: dict[int, list[str]] = {}
        for iid, title in store.evidence_titles(self.db, [int(i) for i in incident_ids]):
            got = titles.setdefault(iid, [])
            if len(got) < per_incident:
                got.append(title)
        return titles

    def linked_story_ids(self) -> set[str]:
        """Ids of the stories any incident holds (open, closed or merged)."""
        return store.linked_story_ids(self.db)

    def clock_state(self, incident_id: int, now: datetime | None = None) -> ClockState:
        return compute_clock(self.policy, self.timeline(incident_id), now or self.clock())

    # ------------------------------------------------------------ helpers

    def require_open(self, incident_id: int, action: str) -> Incident:
        """The incident, when it is still being handled; else IllegalTransition saying that
        ``action`` (e.g. 确认发布) cannot be done on it."""
        return self._build([self._open_row(incident_id, action)], only_items=(), only_stories=())[0]

    def _open_row(self, incident_id: int, action: str) -> dict:
        row = self._row(incident_id)
        if row["merged_into"] is not None:
            raise IllegalTransition(f"事件 #{row['id']} 已并入事件 #{row['merged_into']}，不能{action}")
        if row["state"] not in OPEN_STATES:
            raise IllegalTransition(f"事件 #{row['id']} 当前状态为「{row['state']}」，已结束，不能{action}")
        return row

    def _update(self, conn, incident_id: int, now: datetime, **fields: Any) -> None:
        store.update_incident(conn, incident_id, {**fields, "updated_at": to_db(now)})

    def _move(self, conn, row: dict, to: str, actor: str, now: datetime, reason: str = "") -> None:
        if row["state"] == to:
            return
        self._update(conn, row["id"], now, state=to)
        timeline.append(conn, row["id"], "state_changed", actor, now,
                        {"from": row["state"], "to": to, "reason": reason})
        row["state"] = to

    def _advance_to(self, conn, row: dict, to: str, actor: str, now: datetime) -> None:
        """Move forward along the flow only (never back)."""
        if _ORDER.get(row["state"], 99) < _ORDER[to]:
            self._move(conn, row, to, actor, now)

    def _set_clock(self, conn, row: dict, actor: str, now: datetime, reason: str, *,
                   tier: str | None = None, first_published: datetime | None = None,
                   first_basis: str | None = None) -> None:
        tier = tier or row["tier"]
        fp = first_published or from_db(row["first_published"])
        started, due, hours = deadline(self.policy, tier, fp, from_db(row["detected_at"]))
        if to_db(due) == row["release_due"] and tier == row["tier"] and to_db(started) == row["clock_started_at"]:
            return
        self._update(conn, row["id"], now, tier=tier, clock_started_at=to_db(started), release_due=to_db(due),
                     first_published=to_db(fp))
        timeline.append(conn, row["id"], "clock_set", actor, now, {
            "started_at": to_db(started), "due_at": to_db(due), "tier": tier, "hours": hours, "reason": reason,
            "previous_due_at": row["release_due"]} | ({"first_basis": first_basis} if first_basis else {}))
        row.update(tier=tier, clock_started_at=to_db(started), release_due=to_db(due), first_published=to_db(fp))

    def _add_items(self, conn, iid: int, item_ids: Iterable[int | str], now: datetime) -> list[str]:
        return store.add_items(conn, iid, item_ids, now)

    def _add_evidence(self, conn, iid: int, evidence: Iterable[Mapping[str, Any]], now: datetime) -> int:
        """Add evidence snapshots the incident does not have yet; returns how many were added."""
        return add_evidence(conn, iid, evidence, now, self._evidence_seen)

    #: incident id -> (content hashes, URLs) of its evidence, kept between calls only inside
    #: :meth:`batch_cache` (one outer transaction: nobody else can add evidence meanwhile).
    _evidence_seen: dict[int, tuple[set, set]] | None = None

    @contextmanager
    def batch_cache(self):
        """``with svc.batch_cache(): ...`` inside the caller's open transaction (the pipeline's
        batch of candidates): each incident's evidence keys are read once, not per candidate.
        Only evidence added through this service may be written meanwhile; a candidate that
        fails (its savepoint rolled back) drops what was remembered."""
        if not self.db.conn.in_transaction:
            raise RuntimeError("batch_cache() needs an open transaction (storage.db.transaction)")
        self._evidence_seen = {}
        try:
            yield self
        finally:
            self._evidence_seen = None

    # ------------------------------------------------------------ candidates

    def open_or_join(self, c: IncidentCandidate, actor: str = "system") -> JoinResult:
        """Join the open incident the candidate belongs to, else open one. A candidate whose story
        already belongs to an open incident joins it directly; a repeated join that brings nothing
        new writes nothing. The result's ``incident`` reads a joined incident only when asked."""
        validate_candidate(c)
        now = self.clock()
        with transaction(self.db) as conn, self._forget_on_error():
            row = store.open_row_of_story(self.db, c.story_id, OPEN_STATES)
            if row is not None:
                self._join(conn, row, c, f"同一报道簇 {c.story_id}", actor, now)
                return JoinResult(row["id"], None, self.get)
            topic = judged_topic(c, self._topic_of(c.same_event_as))
            for row, inc in self._join_candidates(c, topic):
                reason = join_reason(c, inc, self.join_window,
                                     lambda: [e.title for e in self.evidence(inc.id)][:50], topic)  # noqa: B023
                if reason:
                    self._join(conn, row, c, reason, actor, now)
                    return JoinResult(inc.id, None, self.get)
            inc = self._open(conn, c, actor, now, topic)
            return JoinResult(inc.id, inc, self.get)

    def _join_candidates(self, c: IncidentCandidate, topic: str):
        """(row, incident) of open incidents that might take the candidate: same story, shared items,
        same topic (``topic``, see :func:`responders.candidates.judged_topic`) and town in the window. Their ``item_ids`` and ``story_ids`` hold only the
        candidate's items and story they already have (enough for ``join_reason``)."""
        items = [str(i) for i in c.item_ids][:500]
        ids = store.join_candidate_ids(
            self.db, OPEN_STATES, story_id=c.story_id, item_ids=items, topic=topic, town_codes=town_codes(c),
            window=(c.first_published - self.join_window, c.first_published + self.join_window))
        if not ids:
            return
        rows = store.incident_rows(self.db, ids)
        # Only the candidate's own items matter for matching: do not load every linked item. The
        # first candidate almost always matches, so build the others only when asked for.
        first, = self._build([rows[ids[0]]], only_items=items, only_stories=[c.story_id])
        yield rows[ids[0]], first
        if len(ids) > 1:
            for inc in self._build([rows[i] for i in ids[1:]], only_items=items, only_stories=[c.story_id]):
                yield rows[inc.id], inc

    def _open(self, conn, c: IncidentCandidate, actor: str, now: datetime, topic: str) -> Incident:
        started, due, hours = deadline(self.policy, c.severity, c.first_published, c.detected_at)
        iid = store.insert_incident(conn, opening_row(c, started, due, now, topic))
        store.add_story(conn, iid, c.story_id)
        timeline.append(conn, iid, "detected", actor, now, detected_payload(c, topic))
        timeline.append(conn, iid, "clock_set", actor, now, {
            "started_at": to_db(started), "due_at": to_db(due), "tier": c.severity, "hours": hours,
            "reason": "opened"})
        added = self._add_items(conn, iid, c.item_ids, now)
        self._add_evidence(conn, iid, c.evidence, now)
        if added:
            timeline.append(conn, iid, "item_linked", actor, now, {"item_ids": added, "reason": "detected"})
        return self.get(iid)

    def _join(self, conn, row: dict, c: IncidentCandidate, reason: str, actor: str, now: datetime) -> bool:
        """Add the candidate to the incident of ``row`` (read in this transaction); False when it
        brought nothing new (nothing written, so a batch repeated after a crash leaves no second event)."""
        iid = row["id"]
        story_new = store.add_story(conn, iid, c.story_id)
        added = self._add_items(conn, iid, c.item_ids, now)
        evidence = self._add_evidence(conn, iid, c.evidence, now)
        changes, higher, earlier = join_changes(row, c)
        if not (story_new or added or evidence or changes or higher or earlier):
            return False
        self._update(conn, iid, now, **changes)
        timeline.append(conn, iid, "candidate_joined", actor, now, {
            "story_id": c.story_id, "reason": reason, "trigger": c.trigger, "item_ids": added})
        if higher:
            self._grade(conn, row, c.severity, list(c.severity_reasons) or ["新报道研判等级更高"], actor, now)
        if earlier:
            self._set_clock(conn, row, actor, now, "earlier first publication", first_published=c.first_published,
                            first_basis=c.first_published_basis)
        return True

    def _topic_of(self, incident_id: int | None) -> str | None:
        if incident_id is None:
            return None
        row = store.incident_row(self.db, incident_id)
        return row["topic"] if row else None

    @contextmanager
    def _forget_on_error(self):
        try:
            yield
        except BaseException:
            if self._evidence_seen is not None:  # the savepoint rolls the call's evidence back
                self._evidence_seen.clear()
            raise

    # ------------------------------------------------------------ items

    def link_items(self, incident_id: int, item_ids: Sequence[int | str], evidence: Iterable[Mapping] = (),
                   actor: str | None = None) -> list[str]:
        now, actor = self.clock(), actor or default_actor()
        with transaction(self.db) as conn:
            row = self._row(incident_id)
            added = self._add_items(conn, row["id"], item_ids, now)
            self._add_evidence(conn, row["id"], evidence, now)
            if added:
                self._update(conn, row["id"], now)
                timeline.append(conn, row["id"], "item_linked", actor, now, {"item_ids": added, "reason": "manual"})
        return added

    def unlink_items(self, incident_id: int, item_ids: Sequence[int | str], reason: str = "",
                     actor: str | None = None) -> list[str]:
        now, actor = self.clock(), actor or default_actor()
        with transaction(self.db) as conn:
            row = self._row(incident_id)
            removed = []
            for item in item_ids:
                if store.remove_item(conn, row["id"], str(item)):
                    removed.append(str(item))
            if removed:
                self._update(conn, row["id"], now)
                timeline.append(conn, row["id"], "item_unlinked", actor, now, {"item_ids": removed, "reason": reason})
        return removed

    # ------------------------------------------------------------ judgement and routing

    def acknowledge(self, incident_id: int, actor: str | None = None) -> Incident:
        """Acknowledge (确认接报) once; acknowledging again changes and records nothing."""
        now, actor = self.clock(), actor or default_actor()
        with transaction(self.db) as conn:
            row = self._open_row(incident_id, "确认")
            if row["acknowledged_at"]:  # already acknowledged: nothing to record
                return self.get(row["id"])
            self._update(conn, row["id"], now, acknowledged_at=to_db(now))
            timeline.append(conn, row["id"], "acknowledged", actor, now, {"first": True})
            self._advance_to(conn, row, "研判", actor, now)
            from responders.alerts.store import ack_incident_alerts

            ack_incident_alerts(self.db, row["id"], actor, now)  # its alerts have reached a person
        return self.get(row["id"])

    def grade(self, incident_id: int, severity: str, reasons: Sequence[str] = (), actor: str | None = None,
              *, tier: str | None = None) -> Incident:
        now, actor = self.clock(), actor or default_actor()
        if severity not in SEVERITIES:
            raise InvalidValue(f"严重程度必须是 {'/'.join(SEVERITIES)} 之一，收到 {severity!r}")
        if tier is not None and tier not in self.policy.release_due_hours:
            raise InvalidValue(f"时限档位 {tier!r} 未在 [clock] release_due_hours 中配置"
                               f"（已配置：{'、'.join(self.policy.tiers)}）")
        with transaction(self.db) as conn:
            row = self._open_row(incident_id, "定级")
            self._grade(conn, row, severity, list(reasons), actor, now, tier=tier)
            self._advance_to(conn, row, "研判", actor, now)
        return self.get(row["id"])

    def _grade(self, conn, row: dict, severity: str, reasons: list[str], actor: str, now: datetime,
               tier: str | None = None) -> None:
        tier = tier or severity
        self._update(conn, row["id"], now, severity=severity, severity_reasons=dumps(reasons))
        timeline.append(conn, row["id"], "graded", actor, now,
                        {"from": row["severity"], "to": severity, "tier": tier, "reasons": reasons})
        row.update(severity=severity)
        if not row["released_at"]:
            self._set_clock(conn, row, actor, now, "regrade", tier=tier)
        elif tier != row["tier"]:
            self._update(conn, row["id"], now, tier=tier)

    def assign(self, incident_id: int, units: Sequence[str] = (), actor: str | None = None, *,
               replace: bool = False, remove: Sequence[str] = ()) -> Incident:
        """Assign (交办) units: add ``units``, or with ``replace`` make them the whole list;
        ``remove`` takes units off. Names are canonicalised; an unknown name is refused
        (UnknownUnit, with the nearest known ones) and nothing is written. Each change is on
        the timeline (assigned / unassigned); no change records nothing."""
        now, actor = self.clock(), actor or default_actor()
        wanted = self.check_units(units)
        remove = [r.strip() for r in remove if r and r.strip()]
        both = [r for r in remove if (r if self.units is None else self.units.canonicalize(r)) in wanted]
        if both:
            raise InvalidValue(f"「{both[0]}」不能同时交办又撤销（未作任何更改）")
        if not wanted and not remove:
            raise InvalidValue("交办至少需要一个责任单位")
        with transaction(self.db) as conn:
            row = self._open_row(incident_id, "交办")
            stored = [u for u in loads(row["assigned_units"], []) if u and str(u).strip()]
            canon = {u: self.canonical_units([u])[0] for u in stored}
            current = list(dict.fromkeys(canon.values()))
            dropped: list[str] = []
            for name in remove:
                key = name if self.units is None else (self.units.canonical(name) or name)
                hit = [canon[u] for u in stored if u == name or canon[u] == key]
                if not hit:
                    raise InvalidValue(f"「{name}」不是事件 #{row['id']} 的交办单位"
                                       f"（当前：{'、'.join(current) or '无'}；未作任何更改）")
                dropped += [h for h in hit if h not in dropped]
            if replace:
                dropped += [u for u in current if u not in wanted and u not in dropped]
            kept = [u for u in current if u not in dropped]
            added = [u for u in wanted if u not in kept]
            new = kept + added
            if new == current:  # nothing changes (a stored alias reads as canonical already)
                return self.get(row["id"])
            self._update(conn, row["id"], now, assigned_units=dumps(new))
            gone = [u for u in dropped if u not in new]
            if gone:
                timeline.append(conn, row["id"], "unassigned", actor, now, {"units": gone})
            if added:
                timeline.append(conn, row["id"], "assigned", actor, now,
                                {"units": added, "feedback_due_hours": self.policy.feedback_due_hours})
                self._advance_to(conn, row, "交办", actor, now)
        return self.get(row["id"])

    def note(self, incident_id: int, text: str, actor: str | None = None) -> TimelineEvent:
        if not text or not text.strip():
            raise InvalidValue("备注内容不能为空")
        return self.record_event(incident_id, "note", {"text": text.strip()}, actor)

    def record_event(self, incident_id: int, kind: str, payload: Mapping[str, Any],
                     actor: str | None = None) -> TimelineEvent:
        """Append an event from another part of the desk (alert_sent, alert_failed, note)."""
        if kind not in EXTERNAL_KINDS:
            raise InvalidValue(f"event kind {kind!r} cannot be recorded directly (allowed: {', '.join(EXTERNAL_KINDS)})")
        now, actor = self.clock(), actor or default_actor()
        with transaction(self.db) as conn:
            row = self._row(incident_id)
            return timeline.append(conn, row["id"], kind, actor, now, payload)

    def set_verification(self, incident_id: int, status: str, note: str = "", actor: str | None = None) -> Incident:
        now, actor = self.clock(), actor or default_actor()
        if status not in VERIFICATIONS:
            raise InvalidValue(f"核实状态必须是 {'/'.join(VERIFICATIONS)} 之一，收到 {status!r}")
        with transaction(self.db) as conn:
            row = self._row(incident_id)
            self._update(conn, row["id"], now, verification=status)
            timeline.append(conn, row["id"], "verification", actor, now,
                            {"from": row["verification"], "to": status, "note": note})
        return self.get(row["id"])

    # ------------------------------------------------------------ releases

    def record_release(self, incident_id: int, *, channel: str, url: str = "", at: datetime | None = None,
                       text: str = "", kind: str | None = None, actor: str | None = None,
                       source_item_id: str | None = None) -> Release:
        """Record a release; moves the state to 已发布权威信息 / 持续发布 / 处置结果已发布."""
        now, actor = self.clock(), actor or default_actor()
        with transaction(self.db) as conn:
            row = self._open_row(incident_id, "记录发布")
            kind = self._check_release(row, channel, url, at or now, text, kind, now)
            rid = self._release_in(conn, row, kind, channel, url, at or now, text, actor, now, source_item_id)
        return next(r for r in self.releases(row["id"]) if r.id == rid)

    def _check_release(self, row: dict, channel: str, url: str, at: datetime, text: str, kind: str | None,
                       now: datetime) -> str:
        """Validate a release against the incident; return the effective kind."""
        if at.tzinfo is None:
            raise InvalidValue("发布时间必须带时区")
        if at > now + FUTURE_TOLERANCE:
            raise InvalidValue(f"发布时间 {desk_text(at)} 晚于当前时间 {desk_text(now)}"
                               "（未带时区的时间按北京时间理解）")
        if channel not in CHANNELS:
            raise InvalidValue(f"发布渠道必须是 {'/'.join(CHANNELS)} 之一，收到 {channel!r}")
        if not (url or "").strip() and not (text or "").strip():
            raise InvalidValue("发布记录需要链接或内容")
        if row["state"] == "处置结果已发布":
            raise IllegalTransition(f"事件 #{row['id']} 已发布处置结果，不能再记录发布")
        first = row["released_at"] is None
        kind = kind or ("authoritative" if first else "progress")
        if kind not in RELEASE_KINDS:
            raise InvalidValue(f"发布类型必须是 {'/'.join(RELEASE_KINDS)} 之一，收到 {kind!r}")
        if kind == "authoritative" and not first:
            raise IllegalTransition(f"事件 #{row['id']} 已有首次权威发布，后续发布请用 progress（动态）或 final（处置结果）")
        if kind == "progress" and first:
            raise IllegalTransition(f"事件 #{row['id']} 尚无首次权威发布，请先记录 authoritative（首次权威发布）")
        return kind

    def _release_in(self, conn, row: dict, kind: str, channel: str, url: str, at: datetime, text: str,
                    actor: str, now: datetime, source_item_id: str | None = None) -> int:
        rid = store.insert_release(conn, row["id"], kind, channel, url or "", at, text or "", now, actor,
                                   source_item_id)
        fields: dict[str, Any] = {}
        if row["released_at"] is None:
            fields["released_at"] = row["released_at"] = to_db(at)
        if kind == "final":
            fields["final_at"] = row["final_at"] = to_db(at)
        self._update(conn, row["id"], now, **fields)
        timeline.append(conn, row["id"], "release", actor, now, {
            "release_id": rid, "kind": kind, "channel": channel, "url": url or "", "released_at": to_db(at),
            "text": text or "", "source_item_id": source_item_id})
        to = {"authoritative": "已发布权威信息", "progress": "持续发布", "final": "处置结果已发布"}[kind]
        self._move(conn, row, to, actor, now, reason=RELEASE_KINDS[kind])
        return rid

    def followup(self, incident_id: int, text: str, actor: str | None = None, *,
                 unit: str | None = None) -> TimelineEvent:
        """Record a follow-up on handling progress (restarts the follow-up reminder cadence); with
        ``unit``, it is that assigned unit's feedback (反馈), which stops its feedback clock. The
        unit name is canonicalised like :meth:`assign`'s; a unit not assigned is refused."""
        if not text or not text.strip():
            raise InvalidValue("跟进内容不能为空")
        now, actor = self.clock(), actor or default_actor()
        payload: dict[str, Any] = {"text": text.strip()}
        if unit is not None:
            names = self.check_units([unit])
            if not names:
                raise InvalidValue("反馈单位不能为空")
            payload["unit"] = names[0]
        with transaction(self.db) as conn:
            row = self._open_row(incident_id, "跟进")
            if unit is not None:
                current = self.canonical_units(loads(row["assigned_units"], []))
                if payload["unit"] not in current:
                    raise InvalidValue(f"「{unit.strip()}」不是事件 #{row['id']} 的交办单位，不能记录其反馈"
                                       f"（当前：{'、'.join(current) or '无'}；先用 yuqing assign 交办）")
            self._update(conn, row["id"], now)
            return timeline.append(conn, row["id"], "followup", actor, now, payload)

    def feedback(self, incident_id: int, now: datetime | None = None) -> tuple[UnitFeedback, ...]:
        """Each assignment of a unit to the incident and the feedback it owes (see clock.compute_feedback)."""
        inc = self.get(incident_id)
        return self.feedback_for([inc], now)[inc.id]

    def feedback_for(self, incidents: Sequence[Incident],
                     now: datetime | None = None) -> dict[int, tuple[UnitFeedback, ...]]:
        """:meth:`feedback` for many incidents, their timelines read at once."""
        now = now or self.clock()
        evs = timeline.events_for(self.db, [i.id for i in incidents])
        canon = None if self.units is None else (lambda n: self.units.canonicalize(n))
        return {i.id: compute_feedback(self.policy, evs[i.id], now, current_units=i.assigned_units, canonical=canon)
                for i in incidents}

    # ------------------------------------------------------------ closing

    def close(self, incident_id: int, actor: str | None = None) -> Incident:
        """Archive (归档): only after a final-result release or a dismissal."""
        now, actor = self.clock(), actor or default_actor()
        with transaction(self.db) as conn:
            row = self._row(incident_id)
            if row["state"] not in ARCHIVABLE_STATES:
                raise IllegalTransition(
                    f"事件 #{row['id']} 当前状态为「{row['state']}」：须先发布处置结果"
                    f"（release --kind final）或以误报/不予处置结案，才能归档")
            self._move(conn, row, "归档", actor, now)
            self._update(conn, row["id"], now, closed_at=row["closed_at"] or to_db(now))
            timeline.append(conn, row["id"], "archived", actor, now, {})
        return self.get(row["id"])

    def dismiss(self, incident_id: int, reason: str, actor: str | None = None, *, state: str = "不予处置") -> Incident:
        now, actor = self.clock(), actor or default_actor()
        if state not in DISMISS_STATES:
            raise InvalidValue(f"结案状态必须是 {'/'.join(DISMISS_STATES)} 之一，收到 {state!r}")
        if not reason or not reason.strip():
            raise InvalidValue(f"标记为「{state}」必须填写理由")
        with transaction(self.db) as conn:
            row = self._open_row(incident_id, f"标记为{state}")
            self._move(conn, row, state, actor, now, reason=reason.strip())
            self._update(conn, row["id"], now, dismiss_reason=reason.strip(), closed_at=to_db(now))
            timeline.append(conn, row["id"], "dismissed", actor, now, {"state": state, "reason": reason.strip()})
        return self.get(row["id"])

    # ------------------------------------------------------------ clock alerts

    def pending_clock_alerts(self, now: datetime | None = None) -> list[tuple[Incident, ClockState, ClockAlert]]:
        """Every due, unfired clock alert over open incidents (nothing recorded)."""
        now = now or self.clock()
        incs = self.list()
        evs = timeline.events_for(self.db, [i.id for i in incs])
        out = []
        for inc in incs:
            state = compute_clock(self.policy, evs[inc.id], now)
            out.extend((inc, state, a) for a in state.due_alerts)
        return out

    def fire_clock_alerts(self, actor: str = "system") -> list[tuple[Incident, ClockState, ClockAlert]]:
        """Record a clock_alert event for every due alert and return them (for the alert channels).

        Run by the daemon's ticker; after a restart the missed ones come back at once, ``late=True``.
        """
        now = self.clock()
        with transaction(self.db) as conn:  # the write lock first: two tickers cannot fire the same alert
            due = self.pending_clock_alerts(now)
            for inc, state, alert in due:
                timeline.append(conn, inc.id, "clock_alert", actor, now,
                                {**alert.to_json(), "due_at": to_db(state.due_at), "status": state.status})
        return due

    # ------------------------------------------------------------ merge and split (responders/merging.py)

    def merge(self, target_id: int, other_ids: Sequence[int], actor: str | None = None) -> Incident:
        try:
            return self._merge(target_id, other_ids, actor or default_actor())
        finally:
            if self._evidence_seen is not None:  # evidence moved between incidents
                self._evidence_seen.clear()

    def _merge(self, target_id: int, other_ids: Sequence[int], actor: str) -> Incident:
        now = self.clock()
        target = self._open_row(target_id, "合并")
        others = []
        for oid in dict.fromkeys(int(o) for o in other_ids):
            if oid == target["id"]:
                raise InvalidValue(f"不能把事件 #{oid} 合并到它自己")
            others.append(self._open_row(oid, "合并"))
        if not others:
            raise InvalidValue("合并至少需要另一个事件")
        tid = target["id"]
        with transaction(self.db) as conn:
            moved_items: list[str] = []
            for o in others:
                items = store.move_everything(conn, o["id"], tid, now)
                moved_items += items
                self._update(conn, o["id"], now, merged_into=tid, closed_at=to_db(now))
                timeline.append(conn, o["id"], "merged_into", actor, now, {"target": tid, "item_ids": items})
            rows = [target] + others
            self._update(conn, tid, now, **merged_lists(rows))
            times = merged_times(rows)
            self._update(conn, tid, now, **times)
            timeline.append(conn, tid, "merged", actor, now, {"others": [o["id"] for o in others],
                                                              "item_ids": moved_items})
            top = max(rows, key=lambda r: SEVERITIES.index(r["severity"]))
            if SEVERITIES.index(top["severity"]) > SEVERITIES.index(target["severity"]):
                self._grade(conn, target, top["severity"], [f"合并事件 #{top['id']} 的等级"], actor, now)
            target["released_at"] = times["released_at"]
            earliest = min(from_db(r["first_published"]) for r in rows)
            if earliest < from_db(target["first_published"]) and not target["released_at"]:
                self._set_clock(conn, target, actor, now, "merge: earlier first publication",
                                first_published=earliest, first_basis="合并事件中最早的首发")
            furthest = max((r["state"] for r in rows), key=lambda s: _ORDER[s])
            if _ORDER[furthest] > _ORDER[target["state"]]:
                self._move(conn, target, furthest, actor, now, reason="合并")
        return self.get(tid)

    def split(self, incident_id: int, item_ids: Sequence[int | str], title: str | None = None,
              actor: str | None = None) -> Incident:
        try:
            return self._split(incident_id, item_ids, title, actor or default_actor())
        finally:
            if self._evidence_seen is not None:  # evidence moved between incidents
                self._evidence_seen.clear()

    def _split(self, incident_id: int, item_ids: Sequence[int | str], title: str | None, actor: str) -> Incident:
        now = self.clock()
        row = self._open_row(incident_id, "拆分")
        items = list(dict.fromkeys(str(i) for i in item_ids))
        if not items:
            raise InvalidValue("拆分需要指定要移出的条目")
        linked = set(store.linked_items(self.db, row["id"]))
        missing = [i for i in items if i not in linked]
        if missing:
            raise InvalidValue(f"条目 {', '.join(missing)} 不属于事件 #{row['id']}")
        pubs = store.evidence_published(self.db, row["id"], items)
        first_published = min(pubs) if pubs else from_db(row["first_published"])
        started, due, hours = deadline(self.policy, row["tier"], first_published, from_db(row["detected_at"]))
        new_title = (title or "").strip() or f"{row['title']}（拆分）"
        with transaction(self.db) as conn:
            fields = split_row(row, new_title, first_published, started, due, now)
            nid = store.insert_incident(conn, fields)
            store.move_items(conn, row["id"], nid, items)
            self._update(conn, row["id"], now)
            timeline.append(conn, row["id"], "split", actor, now, {"new_incident": nid, "item_ids": items})
            timeline.append(conn, nid, "detected", actor, now, {
                "story_id": None, "title": new_title, "first_published": fields["first_published"],
                "detected_at": fields["detected_at"], "severity": row["severity"], "tier": row["tier"],
                "topic": row["topic"], "trigger": fields["trigger"]})
            timeline.append(conn, nid, "split_from", actor, now, {"incident": row["id"], "item_ids": items})
            timeline.append(conn, nid, "clock_set", actor, now, {
                "started_at": to_db(started), "due_at": to_db(due), "tier": row["tier"], "hours": hours,
                "reason": "split"})
            timeline.append(conn, nid, "item_linked", actor, now, {"item_ids": items, "reason": "split"})
        return self.get(nid)
