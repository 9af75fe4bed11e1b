"""The release clock: a pure function of (policy, an incident's events, now).

No I/O and no hidden time: ``now`` is always passed in. The events are the
incident's timeline (``TimelineEvent`` objects or plain dicts with ``kind``,
``at`` and ``payload``). The ones read here:

- ``clock_set`` {started_at, due_at, tier, hours}: the persisted deadline; the
  latest one wins (written on open, regrade, merge, earlier first publication).
- ``detected`` {first_published, detected_at, tier|severity, first_published_basis}: fallback
  when no ``clock_set`` exists (the deadline is then computed from the policy); the basis
  (and a later ``clock_set``'s ``first_basis``) says which time the first publication is.
- ``release`` {kind, released_at}: authoritative/final stop the clock; progress
  and ``followup`` events restart the follow-up cadence.
- ``clock_alert`` {key}: a reminder already fired.
- ``archived`` / ``dismissed`` / ``merged_into``: the clock is closed.

Rules (documented for staff in the README of the lead):

- status: ``normal`` while more than ``warning_below_hours`` are left,
  ``warning`` down to ``urgent_below_hours`` (inclusive), ``urgent`` below it,
  ``overdue`` once now is strictly past the due time (a release at exactly the
  due time is on time), ``released`` after the first authoritative release,
  ``closed`` after the final result, archiving, dismissal or merging.
- warnings: one per configured "hours left" point and deadline; a point that
  lies before the moment the deadline was set is not applicable (the desk only
  learnt of the story later; opening the incident is the alert). Points that
  passed unfired (e.g. while the desk was down) are all due at once and marked
  ``late`` when now is past them by more than the grace.
- overdue escalation: at the due time and every ``overdue_repeat_hours`` after;
  only the latest point of that series is reported (older unfired ones are
  superseded).
- follow-up: after the first release and until the final result, every
  ``followup_every_hours`` after the latest release/follow-up; latest point only.

The feedback clock (:func:`compute_feedback`) reads ``assigned`` {units, feedback_due_hours},
``unassigned`` {units}, ``followup`` {unit, text} and the closing kinds. Each assignment of a
unit owes that unit's feedback within ``feedback_due_hours`` (the value stored in the event,
else the policy's) of the assignment event: its first feedback at or before the due time is
on time, after it late; none and now past the due time is overdue, also when the unit was
taken off or the incident closed after the due time; taken off or closed before the due time
unanswered, the assignment does not count (void).
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping

from responders.policy import ClockPolicy
from responders.types import ClockAlert, ClockState, UnitFeedback

CLOSING_KINDS = ("archived", "dismissed", "merged_into")
STOPPING_RELEASE_KINDS = ("authoritative", "final")


def _get(ev: Any, name: str) -> Any:
    if type(ev) is dict or isinstance(ev, Mapping):
        return ev.get(name)
    return getattr(ev, name)


def _dt(value: Any) -> datetime | None:
    if type(value) is datetime:
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} in clock events")
        return value
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        dt = datetime.fromisoformat(str(value))
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {value!r} in clock events")
    return dt


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


def _norm(events: Iterable[Any]) -> list[tuple[str, datetime, Mapping[str, Any]]]:
    out = []
    for ev in events:
        out.append((_get(ev, "kind"), _dt(_get(ev, "at")), _get(ev, "payload") or {}))
    return out


def deadline(policy: ClockPolicy, tier: str, first_published: datetime, detected_at: datetime) -> tuple[datetime, datetime, float]:
    """(started_at, due_at, hours) for a tier, per the policy's start mode."""
    start = detected_at if policy.start == "detected" else min(first_published, detected_at)
    hours = policy.hours_for(tier)
    return start, start + timedelta(hours=hours), hours


def compute_clock(policy: ClockPolicy, events: Iterable[Any], now: datetime) -> ClockState:
    """The clock of one incident at ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    evs = _norm(events)
    grace = timedelta(seconds=policy.late_grace_seconds)

    started = due = set_at = None
    tier, hours = "一般", policy.hours_for("一般") if "一般" in policy.release_due_hours else 24.0
    detected = None
    grade_tier = None
    first_basis = ""
    for kind, at, p in evs:
        if kind == "clock_set":
            started, due, set_at = _dt(p["started_at"]), _dt(p["due_at"]), at
            tier, hours = p.get("tier", tier), float(p.get("hours", hours))
            first_basis = p.get("first_basis") or first_basis
        elif kind == "detected":
            detected = (at, p)
            first_basis = p.get("first_published_basis") or first_basis
        elif kind == "graded":
            grade_tier = p.get("tier") or p.get("severity")
    if due is None:
        if detected is None:
            raise ValueError("no clock_set or detected event: cannot compute the clock")
        at, p = detected
        tier = grade_tier or p.get("tier") or p.get("severity") or "一般"
        started, due, hours = deadline(policy, tier, _dt(p["first_published"]), _dt(p.get("detected_at") or at))
        set_at = at

    fired = [p.get("key") for kind, _, p in evs if kind == "clock_alert" and p.get("key")]
    fired_set = set(fired)
    closed = any(kind in CLOSING_KINDS for kind, _, _ in evs)
    releases = sorted(
        ((_dt(p.get("released_at")) or at, p.get("kind")) for kind, at, p in evs if kind == "release"),
        key=lambda r: r[0],
    )
    first_release = next((t for t, k in releases if k in STOPPING_RELEASE_KINDS), None)
    final_at = next((t for t, k in releases if k == "final"), None)

    due_alerts: list[ClockAlert] = []
    future: list[datetime] = []
    followup_due_at = None

    def consider(key: str, kind: str, point: datetime, hours_left: float | None) -> None:
        if point <= now:
            if key not in fired_set:
                due_alerts.append(ClockAlert(key, kind, point, hours_left, late=(now - point) > grace))
        else:
            future.append(point)

    if closed or final_at is not None:
        status = "closed"
        remaining = due - (first_release or now) if first_release else due - now
    elif first_release is not None:
        status = "released"
        remaining = due - first_release
        every = policy.followup_every_hours
        if every > 0:
            updates = [t for t, k in releases] + [at for kind, at, _ in evs if kind == "followup"]
            last = max(updates)
            step = timedelta(hours=every)
            followup_due_at = last + step
            if now >= followup_due_at:
                k = int((now - followup_due_at) / step)
                point = followup_due_at + k * step
                consider(f"followup:{k}@{_iso(last)}", "followup", point, None)
                future.append(point + step)
            else:
                future.append(followup_due_at)
    else:
        remaining = due - now
        if remaining < timedelta(0):
            status = "overdue"
        elif remaining < timedelta(hours=policy.urgent_below_hours):
            status = "urgent"
        elif remaining <= timedelta(hours=policy.warning_below_hours):
            status = "warning"
        else:
            status = "normal"
        for h in policy.warnings_hours:
            point = due - timedelta(hours=h)
            if set_at is not None and point < set_at:
                continue  # the deadline was set with less than h hours left
            consider(f"warning:{h:g}h@{_iso(due)}", "warning", point, float(h))
        if now > due:
            repeat = policy.overdue_repeat_hours
            if repeat > 0:
                step = timedelta(hours=repeat)
                k = int((now - due) / step)
                point = due + k * step
                future.append(point + step)
            else:
                k, point = 0, due
            consider(f"overdue:{k}@{_iso(due)}", "overdue", point, -round((now - due).total_seconds() / 3600, 2))
        else:
            future.append(due)

    released_on_time = None if first_release is None else first_release <= due
    due_alerts.sort(key=lambda a: a.point)
    return ClockState(
        status=status,
        tier=tier,
        hours=hours,
        started_at=started,
        due_at=due,
        remaining=remaining,
        released_at=first_release,
        released_on_time=released_on_time,
        final_at=final_at,
        due_alerts=tuple(due_alerts),
        fired=tuple(fired),
        next_alert_at=min(future) if future and status not in ("closed",) else None,
        followup_due_at=followup_due_at,
        start_basis=start_basis(policy, started, _dt(detected[1].get("detected_at") or detected[0]) if detected else None,
                                first_basis),
    )


def start_basis(policy: ClockPolicy, started: datetime, detected_at: datetime | None, first_basis: str = "") -> str:
    """Which time the clock started from and why (Chinese, for staff)."""
    if policy.start == "detected":
        return "自监测发现起算（时限策略：自发现起算）"
    if detected_at is not None and started >= detected_at:
        return "自监测发现起算（首发时间不早于发现时间）"
    return f"自首发起算：{first_basis or '报道最早发布时间'}"


def compute_feedback(policy: ClockPolicy, events: Iterable[Any], now: datetime, *,
                     current_units: Iterable[str] = (),
                     canonical: Callable[[str], str] | None = None) -> tuple[UnitFeedback, ...]:
    """Every assignment of a unit to one incident and its feedback at ``now``, in assignment order.

    ``canonical`` maps a stored unit name to the name it is counted under (former names and
    aliases); ``current_units`` are the incident's assigned units now: one with no open assignment
    on this timeline (it came with a merged incident) is taken as assigned at the latest merge.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    canon = canonical or (lambda name: name)
    evs = _norm(events)
    assigned_ever = {canon(n) for kind, _, p in evs if kind == "assigned" for n in p.get("units") or ()}
    merges = [i for i, (kind, _, _) in enumerate(evs) if kind == "merged"]
    # units that came with a merged incident count from the latest merge (else from the start)
    inherited_at = merges[-1] if merges else 0
    inherited = [u for u in dict.fromkeys(canon(n) for n in current_units) if u and u not in assigned_ever]
    done: list[dict] = []
    open_: dict[str, dict] = {}

    def start(unit: str, at: datetime, hours: float) -> None:
        if unit and unit not in open_:
            open_[unit] = {"unit": unit, "assigned_at": at, "hours": hours, "fed_back_at": None, "ended_at": None}

    def end(unit: str, at: datetime) -> None:
        a = open_.pop(unit, None)
        if a is not None:
            a["ended_at"] = at
            done.append(a)

    for i, (kind, at, p) in enumerate(evs):
        if i == inherited_at:
            for unit in inherited:
                start(unit, at, policy.feedback_due_hours)
        if kind == "assigned":
            hours = float(p.get("feedback_due_hours") or policy.feedback_due_hours)
            for name in p.get("units") or ():
                start(canon(name), at, hours)
        elif kind == "unassigned":
            for name in p.get("units") or ():
                end(canon(name), at)
        elif kind == "followup" and p.get("unit"):
            a = open_.get(canon(p["unit"]))
            if a is not None and a["fed_back_at"] is None:
                a["fed_back_at"] = at
        elif kind in CLOSING_KINDS:
            for unit in list(open_):
                end(unit, at)
    out = []
    for a in sorted([*done, *open_.values()], key=lambda a: a["assigned_at"]):
        due = a["assigned_at"] + timedelta(hours=a["hours"])
        fed, ended = a["fed_back_at"], a["ended_at"]
        if fed is not None:
            status = "on_time" if fed <= due else "late"
        elif (ended or now) > due:
            status = "overdue"
        else:
            status = "void" if ended is not None else "pending"
        out.append(UnitFeedback(a["unit"], a["assigned_at"], due, a["hours"], status, fed, ended))
    return tuple(out)


def format_remaining(remaining: timedelta) -> str:
    """'还剩 3小时05分' / '超时 1小时10分' for screens and exports."""
    secs = remaining.total_seconds()
    prefix = "还剩" if secs >= 0 else "超时"
    secs = abs(secs)
    h, rem = divmod(int(math.floor(secs)), 3600)
    m = rem // 60
    return f"{prefix} {h}小时{m:02d}分"
