"""The release clock at fixed instants: a pure function of (policy, events, now)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from responders.clock import compute_clock, format_remaining
from responders.exports.model import fmt_time
from responders.policy import ClockPolicy, policy_from_mapping
from storage.timeutil import to_db
from tests.responders_kit import T0, Clock, candidate, make_service

UTC = timezone.utc
H = timedelta(hours=1)
S = timedelta(seconds=1)
P = ClockPolicy()


def ev(event_kind, at, **payload):
    return {"kind": event_kind, "at": at, "payload": payload}


def opened(start=T0, hours=24, tier="一般", set_at=None):
    due = start + hours * H
    return [ev("detected", set_at or start, first_published=to_db(start), detected_at=to_db(set_at or start),
               severity=tier, tier=tier),
            ev("clock_set", set_at or start, started_at=to_db(start), due_at=to_db(due), tier=tier, hours=hours)]


def fired(alerts, at):
    return [ev("clock_alert", at, key=a.key) for a in alerts]


def test_exactly_24h_boundary():
    events = opened()
    due = T0 + 24 * H
    assert compute_clock(P, events, due - S).status == "urgent"
    at_due = compute_clock(P, events, due)
    assert at_due.status == "urgent" and at_due.remaining == timedelta(0)
    after = compute_clock(P, events, due + S)
    assert after.status == "overdue" and after.remaining == -S
    assert [a.kind for a in after.due_alerts if a.kind == "overdue"] == ["overdue"]
    assert not [a for a in at_due.due_alerts if a.kind == "overdue"]


@pytest.mark.parametrize("left, status", [
    (12 * H + S, "normal"), (12 * H, "warning"), (4 * H, "warning"), (4 * H - S, "urgent"), (S, "urgent"),
    (timedelta(0), "urgent"), (-S, "overdue"),
])
def test_status_bands(left, status):
    assert compute_clock(P, opened(), T0 + 24 * H - left).status == status


@pytest.mark.parametrize("tier, hours", [("一般", 24), ("较大", 24), ("重大", 5), ("特别重大", 5), ("ordinary", 48)])
def test_every_tier_from_detected_event(tier, hours):
    # Without a stored clock_set the deadline comes from the policy and the detected event.
    events = [ev("detected", T0 + H, first_published=to_db(T0), detected_at=to_db(T0 + H), tier=tier)]
    c = compute_clock(P, events, T0 + H)
    assert c.due_at == T0 + hours * H and c.hours == hours and c.tier == tier
    detected_start = compute_clock(policy_from_mapping({"start": "detected"}), events, T0 + H)
    assert detected_start.started_at == T0 + H and detected_start.due_at == T0 + H + hours * H


def test_stored_deadline_wins_over_changed_policy():
    events = opened(hours=24)
    c = compute_clock(policy_from_mapping({"release_due_hours": {"一般": 10}}), events, T0)
    assert c.due_at == T0 + 24 * H


def test_warnings_fire_once_each_in_order():
    events = opened()
    c = compute_clock(P, events, T0 + 12 * H)
    assert [(a.kind, a.hours_left, a.late) for a in c.due_alerts] == [("warning", 12.0, False)]
    assert c.next_alert_at == T0 + 20 * H
    events += fired(c.due_alerts, T0 + 12 * H)
    c = compute_clock(P, events, T0 + 19 * H)
    assert c.due_alerts == () and "warning:12h@" in c.fired[0]
    c = compute_clock(P, events, T0 + 20 * H)
    assert [a.hours_left for a in c.due_alerts] == [4.0]


def test_restart_fires_missed_warnings_at_once_marked_late():
    events = opened()
    now = T0 + 23.5 * H  # the desk was down from before the 12 h point
    c = compute_clock(P, events, now)
    assert [(a.hours_left, a.late) for a in c.due_alerts] == [(12.0, True), (4.0, True), (1.0, True)]
    events += fired(c.due_alerts, now)
    assert compute_clock(P, events, now + S).due_alerts == ()


def test_late_grace():
    point = T0 + 12 * H
    assert compute_clock(P, opened(), point + 30 * S).due_alerts[0].late is False
    assert compute_clock(P, opened(), point + 61 * S).due_alerts[0].late is True


def test_points_before_the_deadline_was_set_do_not_fire():
    # Found 21 h after first publication: the 12 h and 4 h points had passed before the desk knew.
    events = opened(set_at=T0 + 21 * H)
    c = compute_clock(P, events, T0 + 21 * H)
    assert c.due_alerts == () and c.status == "urgent"
    c = compute_clock(P, events, T0 + 23 * H)
    assert [a.hours_left for a in c.due_alerts] == [1.0]


def test_regrade_recomputes_due_and_warnings():
    events = opened()
    events.append(ev("clock_set", T0 + H, started_at=to_db(T0), due_at=to_db(T0 + 5 * H), tier="重大", hours=5))
    c = compute_clock(P, events, T0 + H)
    assert c.due_at == T0 + 5 * H and c.tier == "重大" and c.hours == 5
    assert [a.hours_left for a in c.due_alerts] == [4.0]  # point T0+1h == the regrade time
    assert "warning:4h@" + (T0 + 5 * H).isoformat() in c.due_alerts[0].key


def test_overdue_escalation_repeats_and_collapses():
    events = opened()
    due = T0 + 24 * H
    events += fired(compute_clock(P, events, due - S).due_alerts, due - S)
    c = compute_clock(P, events, due + S)
    assert [a.key.split("@")[0] for a in c.due_alerts] == ["overdue:0"]
    events += fired(c.due_alerts, due + S)
    assert compute_clock(P, events, due + H).due_alerts == ()
    c = compute_clock(P, events, due + 2 * H)
    assert [a.key.split("@")[0] for a in c.due_alerts] == ["overdue:1"]
    # Down for 7 hours: only the latest point of the series, marked late.
    c = compute_clock(P, events, due + 7 * H)
    assert [(a.key.split("@")[0], a.late) for a in c.due_alerts] == [("overdue:3", True)]
    once = compute_clock(policy_from_mapping({"overdue_repeat_hours": 0}), events, due + 7 * H)
    assert once.due_alerts == ()  # overdue:0 already fired, no repeats


def test_release_stops_the_clock_on_time_at_exactly_due():
    due = T0 + 24 * H
    events = opened() + [ev("release", due, kind="authoritative", released_at=to_db(due))]
    c = compute_clock(P, events, due + 10 * H)
    assert c.status == "released" and c.released_on_time is True and c.remaining == timedelta(0)
    assert not [a for a in c.due_alerts if a.kind in ("warning", "overdue")]
    late = opened() + [ev("release", due + S, kind="authoritative", released_at=to_db(due + S))]
    assert compute_clock(P, late, due + H).released_on_time is False


def test_followup_reminders_until_final():
    r = T0 + 10 * H
    events = opened() + [ev("release", r, kind="authoritative", released_at=to_db(r))]
    c = compute_clock(P, events, r + 24 * H - S)
    assert c.due_alerts == () and c.followup_due_at == r + 24 * H
    c = compute_clock(P, events, r + 24 * H)
    assert [a.kind for a in c.due_alerts] == ["followup"]
    with_followup = events + [ev("followup", r + 20 * H, text="督办")]
    c = compute_clock(P, with_followup, r + 24 * H)
    assert c.due_alerts == () and c.followup_due_at == r + 44 * H
    final = events + [ev("release", r + 30 * H, kind="final", released_at=to_db(r + 30 * H))]
    c = compute_clock(P, final, r + 100 * H)
    assert c.status == "closed" and c.due_alerts == () and c.next_alert_at is None


@pytest.mark.parametrize("kind", ["archived", "dismissed", "merged_into"])
def test_closed_incidents_have_no_alerts(kind):
    c = compute_clock(P, opened() + [ev(kind, T0 + H)], T0 + 48 * H)
    assert c.status == "closed" and c.due_alerts == ()


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        compute_clock(P, opened(), datetime(2026, 6, 14))


def test_format_remaining():
    assert format_remaining(timedelta(hours=3, minutes=5)) == "还剩 3小时05分"
    assert format_remaining(-timedelta(hours=1, minutes=10)) == "超时 1小时10分"


def test_storage_is_utc_display_is_shanghai(tmp_path, backend):
    # First published 2026-06-14 23:30 in Hanzhong = 15:30 UTC; due 24 h later.
    fp = datetime(2026, 6, 14, 15, 30, tzinfo=UTC)
    clock = Clock(fp + H)
    svc = make_service(tmp_path, clock, target=backend)
    inc = svc.open_or_join(candidate(first_published=fp)).incident
    raw = svc.db.execute("SELECT release_due, clock_started_at FROM incidents WHERE id = ?", [inc.id]).fetchone()
    assert raw == ("2026-06-15T15:30:00.000000+00:00", "2026-06-14T15:30:00.000000+00:00")
    assert fmt_time(inc.release_due) == "2026-06-15 23:30"
    assert fmt_time(inc.clock_started_at) == "2026-06-14 23:30"


def test_service_restart_mid_incident(tmp_path, backend):
    clock = Clock(T0 + H)
    svc = make_service(tmp_path, clock, target=backend)
    inc = svc.open_or_join(candidate()).incident
    clock.set(T0 + 12 * H)
    assert [a.hours_left for _, _, a in svc.fire_clock_alerts()] == [12.0]
    # Desk goes down at 12 h; a new process starts 11.5 h later.
    clock2 = Clock(T0 + 23.5 * H)
    svc2 = make_service(tmp_path, clock2, target=backend)
    assert svc2.get(inc.id).release_due == T0 + 24 * H
    due = svc2.fire_clock_alerts()
    assert [(a.hours_left, a.late) for _, _, a in due] == [(4.0, True), (1.0, True)]
    assert svc2.fire_clock_alerts() == []
    kinds = [e.kind for e in svc2.timeline(inc.id)]
    assert kinds.count("clock_alert") == 3
