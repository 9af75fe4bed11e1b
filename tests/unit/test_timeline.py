"""The append-only timeline and its hash chain."""
from __future__ import annotations

import sqlite3

import pytest

from responders import timeline
from responders.exceptions import InvalidValue
from storage.db import dialect
from tests.responders_kit import T0, Clock, candidate, make_service


@pytest.fixture
def svc(tmp_path, backend):
    clock = Clock(T0)
    s = make_service(tmp_path, clock, target=backend)
    a = s.open_or_join(candidate("s1")).incident
    b = s.open_or_join(candidate("s2", places=(), item_ids=(9,), topic="教育")).incident
    clock.advance(minutes=5)
    s.acknowledge(a.id, actor="张三")
    s.note(b.id, "电话联系教体局", actor="李四")
    s.assign(a.id, ["区住建局"], actor="张三")
    return s


def _drop_guards(db):
    on = " ON timeline_events" if dialect(db) == "postgresql" else ""
    db.execute(f"DROP TRIGGER timeline_no_update{on}")
    db.execute(f"DROP TRIGGER timeline_no_delete{on}")


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
    if dialect(svc.db) == "postgresql":
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            svc.db.execute("TRUNCATE timeline_events")
    assert timeline.verify(svc.db).ok


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


# ------------------------------------------------------------------ PostgreSQL's guard

@pytest.fixture
def pg_owned_desk(pg_server, tmp_path):
    """A desk created by an ordinary role that owns its database and every table (no superuser)."""
    import uuid

    role = f"desk_{uuid.uuid4().hex[:8]}"
    name = f"owned_{uuid.uuid4().hex[:8]}"
    pg_server._admin(f'CREATE ROLE "{role}" LOGIN')
    pg_server._admin(f'CREATE DATABASE "{name}" OWNER "{role}"')
    clock = Clock(T0)
    svc = make_service(tmp_path, clock, target=pg_server.url_for(name, user=role))
    svc.open_or_join(candidate("s1"))
    svc.acknowledge(1, actor="张三")
    yield svc
    svc.db.close()
    pg_server.drop_database(name)
    pg_server._admin(f'DROP ROLE IF EXISTS "{role}"')


def test_postgresql_refuses_changes_even_to_the_tables_owner(pg_owned_desk):
    db = pg_owned_desk.db
    before = [(e.id, e.actor, e.hash) for e in timeline.events(db)]
    owner = db.execute("SELECT tableowner = current_user FROM pg_tables WHERE tablename = 'timeline_events'").fetchone()
    assert owner == (True,) and db.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (False,)
    for sql in ("UPDATE timeline_events SET actor = 'x' WHERE id = 1", "DELETE FROM timeline_events",
                "TRUNCATE timeline_events"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(sql)
    assert [(e.id, e.actor, e.hash) for e in timeline.events(db)] == before and timeline.verify(db).ok


@pytest.mark.parametrize("change, words", [
    ("ALTER TABLE timeline_events DISABLE TRIGGER timeline_no_update", "timeline_no_update 被停用"),
    ("ALTER TABLE timeline_events ENABLE REPLICA TRIGGER timeline_no_delete", "timeline_no_delete 被停用"),
    ("DROP TRIGGER timeline_no_truncate ON timeline_events", "timeline_no_truncate 被删除"),
    ("CREATE OR REPLACE FUNCTION timeline_append_only() RETURNS trigger LANGUAGE plpgsql AS"
     " $$ BEGIN RETURN NEW; END $$", "调用的函数被改写"),
])
def test_postgresql_guard_changes_fail_verify(pg_owned_desk, change, words):
    db = pg_owned_desk.db
    db.execute(change)
    res = timeline.verify(db)
    assert not res.ok and words in res.reason


def test_postgresql_trigger_pointed_at_another_function_fails_verify(pg_owned_desk):
    db = pg_owned_desk.db
    db.execute("CREATE FUNCTION allow_all() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")
    db.execute("DROP TRIGGER timeline_no_update ON timeline_events")
    db.execute("CREATE TRIGGER timeline_no_update BEFORE UPDATE ON timeline_events FOR EACH ROW EXECUTE FUNCTION allow_all()")
    res = timeline.verify(db)
    assert not res.ok and "timeline_no_update 被改动" in res.reason


def test_postgresql_key_found_whatever_role_or_options_name_the_database(pg_owned_desk, pg_server, tmp_path):
    from responders import anchor
    from responders.store import open_desk

    dbname = pg_owned_desk.db.execute("SELECT current_database()").fetchone()[0]
    other = open_desk(pg_server.url_for(dbname) + "?connect_timeout=10")  # the superuser, with an option
    try:
        anc = anchor.load(other.conn)
        assert anc.folder == tmp_path and anc.key is not None and anc.db_name == f"postgresql:{dbname}"
        assert timeline.verify(other).ok and "HMAC 锚定自事件 1 起" in timeline.verify(other).notes
    finally:
        other.close()
