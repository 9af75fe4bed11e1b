"""yuqing.ops: backup (consistent while writing), doctor checks, retention keeping incidents' items."""
from __future__ import annotations

import re
import sqlite3
import threading
from datetime import datetime, timedelta, timezone

import pytest

from monitor import store
from monitor.types import ParsedItem, SourceSpec
from pipeline import store as analysis
from responders.incidents import IncidentService
from responders.policy import ClockPolicy
from storage.db import open_db, transaction
from tests.responders_kit import Clock, candidate
from yuqing.ops import OpsError, backup, doctor, retention
from pipeline.schema import all_migrations

UTC = timezone.utc
NOW = datetime(2026, 6, 14, 4, 0, tzinfo=UTC)
SPEC = SourceSpec(id="news", name="新闻", url="http://127.0.0.1:9/feed")


def _db(tmp_path):
    db = open_db(tmp_path / "desk.sqlite", all_migrations())
    store.sync_sources(db, [SPEC], NOW)
    return db


def _add(db, n: int, fetched_at: datetime, start: int = 0) -> list[int]:
    items = [ParsedItem(guid=f"g{start + i}", title=f"标题{start + i}", link=f"https://n.example/{start + i}",
                        text=f"正文 {start + i}", metrics={"rank": i}) for i in range(n)]
    out = store.store_fetch(db, SPEC, items, now=fetched_at, next_check=fetched_at, etag=None,
                            last_modified=None, body_digest=None)
    with transaction(db) as conn:
        for item_id in out.new_ids:
            analysis.save_analysis(conn, analysis.ItemAnalysis(
                item_id, "其他", 0.5, "中性", 0.0, "一般", (), (), (), (), (), (), False, False, None, None,
                False, 0.0, fetched_at))
            analysis.index_for_search(conn, item_id, ["标题"], ["正文"])
    return list(out.new_ids)


def _count(db, table, where="1"):
    return db.conn.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]


def test_retention_keeps_incident_items_labels_and_timeline(tmp_path):
    db = _db(tmp_path)
    old = _add(db, 10, NOW - timedelta(days=40))
    new = _add(db, 3, NOW - timedelta(days=1), start=100)
    svc = IncidentService(db, ClockPolicy(), Clock(NOW))
    inc = svc.open_or_join(candidate("s1", item_ids=(old[0], old[1]))).incident  # linked + evidence
    svc.note(inc.id, "值班员核实中")
    analysis.add_label(db, old[2], "topic", "生态环境", "值班员", NOW)
    events_before = _count(db, "timeline_events")

    dry = retention(db, days=30, now=NOW, dry_run=True)
    assert (dry.old_items, dry.kept_linked, dry.kept_labelled, dry.deleted_items) == (10, 2, 1, 7)
    assert _count(db, "items") == 13

    res = retention(db, days=30, now=NOW)
    assert res.deleted_items == 7
    assert res.deleted["item_analysis"] == 7 and res.deleted["items_fts"] == 7
    assert res.deleted["item_metrics"] == 7
    remaining = {r[0] for r in db.conn.execute("SELECT id FROM items")}
    assert remaining == {old[0], old[1], old[2], *new}
    for table, col in (("item_analysis", "item_id"), ("items_fts", "rowid"), ("item_metrics", "item_id")):
        orphans = _count(db, table, f"{col} NOT IN (SELECT id FROM items)")
        assert orphans == 0, table
    assert _count(db, "timeline_events") == events_before
    from responders.timeline import verify
    assert verify(db).ok
    # Idempotent.
    assert retention(db, days=30, now=NOW).deleted_items == 0


def test_retention_never_deletes_the_newest_item(tmp_path):
    """Ids must not be reused (watermarks): the highest id stays even when it is old."""
    db = _db(tmp_path)
    ids = _add(db, 5, NOW - timedelta(days=90))
    res = retention(db, days=30, now=NOW)
    assert res.deleted_items == 4
    assert [r[0] for r in db.conn.execute("SELECT id FROM items")] == [ids[-1]]
    new = _add(db, 1, NOW, start=50)
    assert new[0] > ids[-1]


@pytest.mark.parametrize("days", [0, -3, 1.5, True])
def test_retention_rejects_bad_days(tmp_path, days):
    with pytest.raises(OpsError, match="days"):
        retention(_db(tmp_path), days=days, now=NOW)


def test_backup_is_consistent_while_a_writer_runs(tmp_path):
    db = _db(tmp_path)
    _add(db, 200, NOW - timedelta(days=1))
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer():
        wdb = open_db(tmp_path / "desk.sqlite")
        k = 1000
        try:
            while not stop.is_set():
                _add(wdb, 20, NOW, start=k)
                k += 20
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            wdb.conn.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        results = [backup(tmp_path / "desk.sqlite", tmp_path / f"b{i}.sqlite", now=NOW) for i in range(5)]
    finally:
        stop.set()
        t.join()
    assert not errors
    for r in results:
        assert r.check == "ok"
        copy = sqlite3.connect(r.path)
        # Each fetch is one transaction: a consistent copy holds whole fetches only,
        # and whole analysis batches only.
        n_items = copy.execute("SELECT count(*) FROM items").fetchone()[0]
        assert (n_items - 200) % 20 == 0
        assert copy.execute("SELECT count(*) FROM item_analysis").fetchone()[0] % 20 == 0
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        copy.close()


def test_backup_errors_name_what_to_fix(tmp_path):
    _db(tmp_path)
    src = tmp_path / "desk.sqlite"
    with pytest.raises(OpsError, match="yuqing init"):
        backup(tmp_path / "nope.sqlite", tmp_path / "x.sqlite", now=NOW)
    with pytest.raises(OpsError, match="does not exist"):
        backup(src, tmp_path / "no" / "dir" / "x.sqlite", now=NOW)
    backup(src, tmp_path / "x.sqlite", now=NOW)
    with pytest.raises(OpsError, match="--force"):
        backup(src, tmp_path / "x.sqlite", now=NOW)
    assert backup(src, tmp_path / "x.sqlite", now=NOW, overwrite=True).check == "ok"
    with pytest.raises(OpsError, match="database itself"):
        backup(src, src, now=NOW, overwrite=True)
    folder = tmp_path / "backups"
    folder.mkdir()
    assert backup(src, folder, now=NOW).path.name == "desk-20260614-120000.sqlite"  # Beijing time
    assert not [p for p in tmp_path.rglob("*.part-*")]


def test_doctor_reports_failing_sources_and_a_broken_chain(tmp_path):
    db = _db(tmp_path)
    _add(db, 3, NOW)
    svc = IncidentService(db, ClockPolicy(), Clock(NOW))
    inc = svc.open_or_join(candidate("s1")).incident
    svc.note(inc.id, "甲")
    rep = doctor(tmp_path, tmp_path / "desk.sqlite", now=NOW, full=True)
    by = {c.name: c for c in rep.checks}
    assert rep.ok and rep.worst == "ok", rep.checks
    assert by["integrity"].detail == "integrity_check: ok"
    assert re.search(r"monitor m\d{3}_\w+", by["schema"].detail), by["schema"].detail
    assert "verified" in by["timeline"].detail

    store.record_error(db, "news", NOW, "HTTPStatusError: 503 Service Unavailable", NOW + timedelta(minutes=5))
    db.conn.execute("DROP TRIGGER timeline_no_update")
    db.conn.execute("UPDATE timeline_events SET payload = '{\"text\":\"乙\"}' WHERE id = 2")
    rep = doctor(tmp_path, tmp_path / "desk.sqlite", now=NOW)
    by = {c.name: c for c in rep.checks}
    assert not rep.ok
    assert by["sources"].status == "warn" and "news (1x: HTTPStatusError: 503" in by["sources"].detail
    assert by["timeline"].status == "fail" and "event 2" in by["timeline"].detail


def test_doctor_on_a_missing_or_corrupt_database(tmp_path):
    rep = doctor(tmp_path, tmp_path / "desk.sqlite", now=NOW)
    assert not rep.ok and "yuqing init" in rep.checks[-1].detail
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    rep = doctor(tmp_path, bad, now=NOW)
    assert not rep.ok
    assert any(c.status == "fail" for c in rep.checks)


def test_retention_takes_versions_and_sightings_with_their_items(tmp_path):
    db = _db(tmp_path)
    old = _add(db, 3, NOW - timedelta(days=40))
    other = SourceSpec(id="weibo", name="微博", url="http://127.0.0.1:9/weibo")
    store.sync_sources(db, [SPEC, other], NOW)
    seen = store.store_fetch(db, other, [ParsedItem(guid="w", title="转", link="https://n.example/0")],
                             now=NOW - timedelta(days=40), next_check=NOW, etag=None, last_modified=None,
                             body_digest=None)
    assert seen.sightings == 1
    store.store_fetch(db, SPEC, [ParsedItem(guid="g1", title="改过的标题1", link="https://n.example/1")],
                      now=NOW - timedelta(days=39), next_check=NOW, etag=None, last_modified=None, body_digest=None)
    assert _count(db, "item_versions") == 2
    _add(db, 1, NOW, start=100)
    res = retention(db, days=30, now=NOW)
    assert res.deleted_items == len(old) + 1
    assert _count(db, "item_versions") == 0 and _count(db, "item_sightings") == 0
