"""The append-only timeline and its hash chain."""
from __future__ import annotations

import sqlite3

import pytest

from responders import timeline
from responders.exceptions import InvalidValue
from tests.responders_kit import T0, Clock, candidate, make_service


@pytest.fixture
def svc(tmp_path):
    clock = Clock(T0)
    s = make_service(tmp_path, clock)
    a = s.open_or_join(candidate("s1")).incident
    b = s.open_or_join(candidate("s2", places=(), item_ids=(9,), topic="教育")).incident
    clock.advance(minutes=5)
    s.acknowledge(a.id, actor="张三")
    s.note(b.id, "电话联系教体局", actor="李四")
    s.assign(a.id, ["区住建局"], actor="张三")
    return s


def _drop_guards(db):
    db.execute("DROP TRIGGER timeline_no_update")
    db.execute("DROP TRIGGER timeline_no_delete")


def test_chain_links_and_verifies(svc):
    evs = timeline.events(svc.db)
    assert [e.id for e in evs] == list(range(1, len(evs) + 1))
    assert evs[0].prev_hash == timeline.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(evs, evs[1:]))
    # seq numbers events within each incident
    for iid in {e.incident_id for e in evs}:
        seqs = [e.seq for e in evs if e.incident_id == iid]
        assert seqs == list(range(1, len(seqs) + 1))
    res = timeline.verify(svc.db)
    assert res.ok and res.checked == len(evs) and res.first_broken_event_id is None


def test_every_event_has_actor_and_aware_utc_time(svc):
    for e in svc.timeline(1):
        assert e.actor and e.at.tzinfo is not None and e.at.utcoffset().total_seconds() == 0
    assert {e.actor for e in svc.timeline(1)} >= {"system", "张三"}


def test_triggers_refuse_update_and_delete(svc):
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        svc.db.execute("UPDATE timeline_events SET actor = 'x' WHERE id = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        svc.db.execute("DELETE FROM timeline_events WHERE id = 1")


def test_tampered_payload_names_the_event(svc):
    _drop_guards(svc.db)
    target = [e for e in timeline.events(svc.db) if e.kind == "note"][0]
    svc.db.execute("UPDATE timeline_events SET payload = ? WHERE id = ?", ['{"text":"改过的备注"}', target.id])
    res = timeline.verify(svc.db)
    assert not res.ok and res.first_broken_event_id == target.id and "edited" in res.reason


def test_tampered_time_or_actor_is_detected(svc):
    _drop_guards(svc.db)
    svc.db.execute("UPDATE timeline_events SET at = '2026-06-13T00:00:00.000000+00:00' WHERE id = 3")
    assert timeline.verify(svc.db).first_broken_event_id == 3


def test_rehashed_row_breaks_the_next_link(svc):
    _drop_guards(svc.db)
    e = timeline.events(svc.db)[2]
    new_hash = timeline.event_hash(e.id, e.incident_id, e.seq, e.kind, "mallory", svc.db.execute(
        "SELECT at FROM timeline_events WHERE id = ?", [e.id]).fetchone()[0], dict(e.payload), e.prev_hash)
    svc.db.execute("UPDATE timeline_events SET actor = 'mallory', hash = ? WHERE id = ?", [new_hash, e.id])
    res = timeline.verify(svc.db)
    # the key anchors each event: the rehashed row itself is named, not only the next link
    assert not res.ok and res.first_broken_event_id == e.id and "HMAC" in res.reason


def test_deleted_rows_are_detected(svc):
    _drop_guards(svc.db)
    svc.db.execute("DELETE FROM timeline_events WHERE id = 4")
    res = timeline.verify(svc.db)
    assert not res.ok and res.first_broken_event_id == 5


def test_truncated_tail_is_detected(svc):
    _drop_guards(svc.db)
    last = timeline.events(svc.db)[-1].id
    svc.db.execute("DELETE FROM timeline_events WHERE id = ?", [last])
    res = timeline.verify(svc.db)
    assert not res.ok and "head" in res.reason


def test_failed_action_appends_nothing(svc):
    before = len(timeline.events(svc.db))
    with pytest.raises(InvalidValue):
        svc.record_release(1, channel="论坛", url="https://x", text="y")
    with pytest.raises(InvalidValue):
        svc.record_event(1, "state_changed", {"to": "归档"})
    assert len(timeline.events(svc.db)) == before
    assert timeline.verify(svc.db).ok


def test_external_events_are_chained(svc):
    e = svc.record_event(1, "alert_sent", {"channel": "wecom", "summary": "已推送"}, actor="system")
    assert e.kind == "alert_sent" and timeline.verify(svc.db).ok
