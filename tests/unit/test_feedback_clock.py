"""The feedback clock (交办反馈): a pure function of (policy, an incident's events, now)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from responders.clock import compute_feedback
from responders.exceptions import PolicyError
from responders.policy import ClockPolicy, policy_from_mapping, policy_from_toml_text

T0 = datetime(2026, 6, 14, 4, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)
POLICY = ClockPolicy(feedback_due_hours=8)


def ev(kind, hours, **payload):
    return {"kind": kind, "at": (T0 + hours * H).isoformat(), "payload": payload}


def assigned(hours, *units, window=None):
    return ev("assigned", hours, units=list(units), **({"feedback_due_hours": window} if window else {}))


def fed(hours, unit):
    return ev("followup", hours, text="已处置", unit=unit)


def states(events, now_h, **kw):
    return [(f.unit, f.status) for f in compute_feedback(POLICY, events, T0 + now_h * H, **kw)]


def test_on_time_late_pending_and_overdue():
    events = [ev("detected", 0), assigned(1, "区住建局", "铺镇"), fed(9, "区住建局")]  # due at 9 h
    out = compute_feedback(POLICY, events, T0 + 5 * H)
    assert [(f.unit, f.status) for f in out] == [("区住建局", "on_time"), ("铺镇", "pending")]
    assert out[0].due_at == T0 + 9 * H and out[0].fed_back_at == T0 + 9 * H  # exactly at the due time
    assert states(events, 9) == [("区住建局", "on_time"), ("铺镇", "pending")]
    assert states(events, 9.01) == [("区住建局", "on_time"), ("铺镇", "overdue")]
    late = events + [fed(12, "铺镇")]
    assert states(late, 30) == [("区住建局", "on_time"), ("铺镇", "late")]


def test_only_the_units_own_feedback_counts_and_plain_followups_do_not():
    events = [assigned(0, "区住建局", "铺镇"), fed(2, "区住建局"), ev("followup", 3, text="值班员跟进"),
              fed(4, "区住建局")]
    out = compute_feedback(POLICY, events, T0 + 20 * H)
    assert [(f.unit, f.status) for f in out] == [("区住建局", "on_time"), ("铺镇", "overdue")]
    assert out[0].fed_back_at == T0 + 2 * H  # the first feedback


def test_taken_off_or_closed_before_the_due_time_does_not_count_after_it_does():
    events = [assigned(0, "区住建局", "铺镇", "区教体局"), ev("unassigned", 2, units=["区住建局"]),
              ev("unassigned", 10, units=["铺镇"])]
    assert states(events, 30) == [("区住建局", "void"), ("铺镇", "overdue"), ("区教体局", "overdue")]
    closed = [assigned(0, "区住建局"), ev("dismissed", 3, state="误报", reason="x")]
    assert states(closed, 30) == [("区住建局", "void")]
    closed_late = [assigned(0, "区住建局"), ev("archived", 20)]
    assert states(closed_late, 30) == [("区住建局", "overdue")]


def test_each_assignment_counts_from_its_own_event():
    events = [assigned(0, "铺镇"), ev("unassigned", 1, units=["铺镇"]), assigned(20, "铺镇"), fed(27, "铺镇")]
    out = compute_feedback(POLICY, events, T0 + 40 * H)
    assert [(f.assigned_at, f.status) for f in out] == [(T0, "void"), (T0 + 20 * H, "on_time")]


def test_the_window_stored_with_the_assignment_wins_over_a_later_policy():
    events = [assigned(0, "铺镇", window=24), fed(20, "铺镇")]
    out = compute_feedback(POLICY, events, T0 + 30 * H)  # policy now says 8 h
    assert out[0].status == "on_time" and out[0].hours == 24 and out[0].due_at == T0 + 24 * H


def test_former_names_count_as_the_canonical_unit():
    canon = {"区卫计局": "区卫健局", "汉台区卫生健康局": "区卫健局"}.get
    events = [assigned(0, "区卫计局"), fed(3, "汉台区卫生健康局")]
    out = compute_feedback(POLICY, events, T0 + 30 * H, canonical=lambda n: canon(n, n))
    assert [(f.unit, f.status) for f in out] == [("区卫健局", "on_time")]


def test_units_that_came_with_a_merged_incident_count_from_the_merge():
    events = [ev("detected", 0), assigned(0, "区住建局"), ev("merged", 5, others=[2]), fed(6, "铺镇")]
    out = compute_feedback(POLICY, events, T0 + 30 * H, current_units=["区住建局", "铺镇"])
    assert [(f.unit, f.assigned_at, f.status) for f in out] == [
        ("区住建局", T0, "overdue"), ("铺镇", T0 + 5 * H, "on_time")]


def test_now_must_be_aware():
    with pytest.raises(ValueError):
        compute_feedback(POLICY, [], datetime(2026, 6, 14))


def test_feedback_due_hours_in_desk_toml():
    assert ClockPolicy().feedback_due_hours == 24
    assert policy_from_mapping({"feedback_due_hours": 8}).feedback_due_hours == 8
    assert policy_from_toml_text("[clock]\nfeedback_due_hours = 2.5\n").feedback_due_hours == 2.5
    for bad, words in ((0, "more than zero"), (-3, "more than zero"), (721, "at most 720"),
                       ("24", "must be a number"), (True, "must be a number"), (float("nan"), "finite")):
        with pytest.raises(PolicyError, match=r"\[clock\] feedback_due_hours: .*" + words):
            policy_from_mapping({"feedback_due_hours": bad})
