import json
from datetime import datetime, timedelta, timezone

import pytest

from monitor import store
from monitor.types import ParsedItem, SourceSpec
from storage.db import open_db

T0 = datetime(2026, 6, 14, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def db(tmp_path, backend):
    d = open_db(backend or tmp_path / "desk.sqlite", [store.migrations])
    yield d
    d.conn.close()


def spec(sid="news", **kw):
    return SourceSpec(id=sid, name=sid, url=f"http://127.0.0.1/{sid}", **kw)


def item(guid, link=None, **kw):
    return ParsedItem(guid=guid, title=kw.pop("title", f"标题{guid}"), link=link, text=kw.pop("text", "正文"),
                      published=kw.pop("published", T0), **kw)


def store_items(db, s, items, now=T0):
    return store.store_fetch(db, s, items, now=now, next_check=now + timedelta(minutes=5), etag=None,
                             last_modified=None, body_digest="x")


def test_exactly_once_per_source_guid(db):
    s = spec()
    store.sync_sources(db, [s], T0)
    first = store_items(db, s, [item("a"), item("b")])
    again = store_items(db, s, [item("a"), item("b"), item("c")])
    assert len(first.new_ids) == 2
    assert len(again.new_ids) == 1
    assert store.count_items(db) == 3


def test_canonical_url_once_a_second_source_is_a_sighting(db):
    a, b = spec("a"), spec("b")
    store.sync_sources(db, [a, b], T0)
    first = store_items(db, a, [item("1", link="https://Example.org/p?id=5&utm_source=x#top")])
    out = store_items(db, b, [item("zz", link="https://example.org:443/p?id=5", metrics={"reposts": 7})])
    assert len(out.new_ids) == 1 and out.sightings == 1 and out.duplicates == 0
    assert db.execute("SELECT count(*) FROM items WHERE canonical_url IS NOT NULL").fetchone()[0] == 1
    assert db.execute("SELECT item_id, source_id FROM item_sightings WHERE sighting_id = ?",
                      [out.new_ids[0]]).fetchone() == (first.new_ids[0], "b")
    again = store_items(db, b, [item("zz", link="https://example.org:443/p?id=5")])
    assert again.new_ids == () and again.sightings == 0
    # the same source under a new guid is still a duplicate, for the first source and the sighting one
    dup = store_items(db, a, [item("2", link="https://example.org/p?id=5")])
    assert dup.new_ids == () and dup.duplicates == 1
    dup = store_items(db, b, [item("yy", link="https://example.org/p?id=5")])
    assert dup.new_ids == () and dup.duplicates == 1 and dup.sightings == 0


def test_metrics_update_keeps_history(db):
    s = spec("hot", platform="hotlist")
    store.sync_sources(db, [s], T0)
    store_items(db, s, [item("x", metrics={"rank": 9})])
    out = store_items(db, s, [item("x", metrics={"rank": 2})], now=T0 + timedelta(minutes=2))
    assert out.updated == 1 and out.new_ids == ()
    ranks = [json.loads(r[0])["rank"] for r in db.execute("SELECT metrics FROM item_metrics ORDER BY at")]
    assert ranks == [9, 2]


def test_errors_and_health(db):
    s = spec(interval=60)
    store.sync_sources(db, [s], T0)
    store.record_error(db, "news", T0, "FetchTimeout: slow", T0 + timedelta(minutes=2))
    store.record_error(db, "news", T0, "FetchTimeout: slow", T0 + timedelta(minutes=4))
    [h] = store.source_health(db, T0)
    assert h.error_streak == 2 and h.last_error.startswith("FetchTimeout")
    store_items(db, s, [item("a")])
    [h] = store.source_health(db, T0)
    assert h.error_streak == 0 and h.items_24h == 1 and h.last_success_at == T0


def test_silent_source_detected(db):
    s = spec(interval=60)
    store.sync_sources(db, [s], T0)
    for n in range(5):  # a new item every 10 minutes
        store_items(db, s, [item(f"g{n}")], now=T0 + timedelta(minutes=10 * n))
    last = T0 + timedelta(minutes=40)
    [h] = store.source_health(db, last + timedelta(minutes=15))
    assert not h.silent
    [h] = store.source_health(db, last + timedelta(hours=3))
    assert h.silent


def test_due_sources_by_priority_and_disable(db):
    a, b = spec("a", priority=5), spec("b", priority=1)
    store.sync_sources(db, [a, b], T0)
    assert [s.id for s, _ in store.due_sources(db, T0)] == ["b", "a"]
    store.sync_sources(db, [b], T0)  # a removed from config: disabled, not deleted
    assert [s.id for s, _ in store.due_sources(db, T0)] == ["b"]
    assert store.source_row(db, "a") is not None


def test_claims_lease_each_due_source_to_one_collector(db):
    sources = [spec(f"s{k}", priority=k) for k in range(5)]
    store.sync_sources(db, sources, T0)
    first = store.claim_due_sources(db, T0, "host-a:1:x", 90, limit=3)
    assert [s.id for s, _ in first] == ["s0", "s1", "s2"]  # most urgent first, up to the limit
    second = store.claim_due_sources(db, T0, "host-b:2:y", 90)
    assert [s.id for s, _ in second] == ["s3", "s4"]  # the others' leases hold
    assert store.claim_due_sources(db, T0 + timedelta(seconds=60), "host-b:2:y", 90) == []
    store_items(db, sources[0], [item("g")], now=T0 + timedelta(seconds=10))  # the fetch ends its lease
    row = store.source_row(db, "s0")
    assert row["lease_owner"] is None and datetime.fromisoformat(row["next_check_at"]) == T0 + timedelta(minutes=5, seconds=10)
    store.record_error(db, "s1", T0, "boom", T0 + timedelta(minutes=1))
    assert store.release_leases(db, "host-a:1:x") == 1  # s2: its fetch was dropped
    # Due again: s1 after its error's wait, s2 at once; s3, s4 stay host-b's until their leases end.
    later = T0 + timedelta(seconds=61)
    assert [s.id for s, _ in store.claim_due_sources(db, later, "host-c:3:z", 90)] == ["s1", "s2"]
    assert [s.id for s, _ in store.claim_due_sources(db, T0 + timedelta(seconds=91), "c", 90)] == ["s3", "s4"]


def test_a_collector_renews_only_its_own_leases(db):
    store.sync_sources(db, [spec("a"), spec("b")], T0)
    store.claim_due_sources(db, T0, "mine", 90, exclude=["b"])
    store.claim_due_sources(db, T0, "theirs", 90)
    assert store.renew_leases(db, "mine", ["a", "b"], T0 + timedelta(seconds=150)) == 1
    until = {sid: datetime.fromisoformat(store.source_row(db, sid)["lease_until"]) for sid in ("a", "b")}
    assert until == {"a": T0 + timedelta(seconds=150), "b": T0 + timedelta(seconds=90)}


def test_a_lease_taken_while_the_clock_was_ahead_is_void(db):
    store.sync_sources(db, [spec("a")], T0)
    assert len(store.claim_due_sources(db, T0 + timedelta(days=365), "fast-clock", 90)) == 1
    assert [s.id for s, _ in store.claim_due_sources(db, T0, "right-clock", 90)] == ["a"]


def test_own_channels_and_manual_intake_feed_the_clocks(db):
    own, news = spec("own", own_channel=True), spec("news")
    store.sync_sources(db, [own, news], T0)
    store_items(db, own, [item("o1")])
    store_items(db, news, [item("n1")])
    manual = store.insert_manual_items(db, "12345", [item("h1")], T0)
    store.keep_private(db, "12345", [("h1", "张三", "13800000000", "")])
    store.keep_private(db, "12345", [("h1", "李四", "", "")])  # kept once: the first stays
    assert db.execute("SELECT name FROM item_private").fetchall() == [("张三",)]
    assert [d["source_id"] for d in store.own_channel_items(db)] == ["own"]
    clocked = store.clock_items(db, T0 - timedelta(hours=1))
    assert [(i.source_id, is_own) for i, is_own in clocked] == [("own", True), ("12345", False)]
    assert clocked[1][0].id == manual.new_ids[0]


def test_naive_datetime_refused(db):
    s = spec()
    store.sync_sources(db, [s], T0)
    with pytest.raises(ValueError):
        store_items(db, s, [item("n", published=datetime(2026, 6, 14, 10, 0))])
    assert store.count_items(db) == 0  # the whole fetch rolled back


def test_open_db_refuses_a_database_from_a_newer_version(tmp_path):
    import hashlib
    import sqlite3

    from storage.db import NewerSchemaError

    path = tmp_path / "desk.sqlite"
    open_db(path, [store.migrations]).conn.close()
    con = sqlite3.connect(path)
    con.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES (?, ?, '2030-01-01')",
                [store.migrations.name, "m999_from_the_future"])
    con.commit()
    con.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(NewerSchemaError, match=f"{store.migrations.name}.m999_from_the_future unknown to this"):
        open_db(path, [store.migrations])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    # a set of another package is none of this caller's business
    con = sqlite3.connect(path)
    con.execute("DELETE FROM _sqlite_migrations WHERE name = 'm999_from_the_future'")
    con.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('hologram', 'm001', 'x')")
    con.commit()
    con.close()
    open_db(path, [store.migrations]).conn.close()
