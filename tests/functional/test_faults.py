"""Faults: a full database, several processes writing one database under load, and the
system clock jumping forward and back."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone

import pytest

from monitor import store
from monitor.collector import Collector
from monitor.fetch import FetchPolicy
from monitor.types import SourceSpec
from responders.clock import compute_clock
from responders.incidents import IncidentService
from responders.policy import ClockPolicy
from responders.timeline import events, verify
from storage.db import open_db
from tests.functional.test_kill_daemon import _write_home, feeds  # noqa: F401 - fixture
from tests.loopback import loopback  # noqa: F401 - fixture
from tests.responders_kit import Clock, candidate
from pipeline.schema import all_migrations

UTC = timezone.utc
T0 = datetime(2026, 6, 14, 0, 0, tzinfo=UTC)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _rss(start: int, n: int, size: int = 3000) -> str:
    items = "".join(
        f"<item><guid>g{i}</guid><title>汉台区通知{i}</title><pubDate>Sun, 14 Jun 2026 00:00:00 GMT</pubDate>"
        f"<description>{'各镇街道做好防汛工作。' * (size // 10)}{i}</description></item>"
        for i in range(start, start + n))
    return f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>{items}</channel></rss>"


# ---------------------------------------------------------------- disk full

async def test_full_database_is_a_clear_source_error_and_storing_resumes(tmp_path, loopback):
    clock = Clock(T0)
    db_path = tmp_path / "desk.sqlite"
    loopback.route("/a.xml", _rss(0, 5))
    loopback.route("/b.xml", _rss(1000, 2, size=100))
    spec_a = SourceSpec(id="a", name="甲", url=loopback.url("/a.xml"), interval=60)
    spec_b = SourceSpec(id="b", name="乙", url=loopback.url("/b.xml"), interval=60)
    async with Collector(db_path, clock=clock, jitter=0) as col:
        await col.sync_sources([spec_a, spec_b])
        first = {o.source_id: o for o in await col.run_once()}
        assert len(first["a"].new_ids) == 5 and first["b"].status == "new"
        pages = await col.read(lambda db: db.execute("PRAGMA page_count").fetchone()[0])
        await col.read(lambda db: db.execute(f"PRAGMA max_page_count = {pages + 1}").fetchone())

        loopback.route("/a.xml", _rss(100, 60))  # ~180 kB of new text: cannot fit
        clock.advance(seconds=61)
        out = {o.source_id: o for o in await col.run_once()}
        assert out["a"].status == "error"
        assert "磁盘/数据库已满" in out["a"].error and str(db_path) in out["a"].error
        assert "\n" not in out["a"].error
        assert out["b"].status in ("not_modified", "unchanged")  # the other source carries on

        row = await col.read(lambda db: db.execute(
            "SELECT error_streak, last_error FROM sources WHERE id = 'a'").fetchone())
        assert row[0] == 1 and "磁盘/数据库已满" in row[1]
        assert await col.read(lambda db: db.execute("SELECT count(*) FROM items").fetchone()[0]) == 7

        # Space comes back: the same collector stores the whole fetch, once.
        await col.read(lambda db: db.execute("PRAGMA max_page_count = 1073741823").fetchone())
        clock.advance(hours=1)
        again = {o.source_id: o for o in await col.run_once()}
        assert again["a"].status == "new" and len(again["a"].new_ids) == 60
        assert await col.read(lambda db: db.execute("SELECT count(*) FROM items").fetchone()[0]) == 67
        ok = await col.read(lambda db: db.execute("PRAGMA integrity_check").fetchone()[0])
        assert ok == "ok"


async def test_a_full_server_is_a_clear_source_error_and_storing_resumes(pg_url, loopback):  # noqa: F811
    """The same on PostgreSQL: the server answers disk_full (SQLSTATE 53100, as when its disk fills
    up), here from a trigger on the items table so the test needs no full file system."""
    clock = Clock(T0)
    loopback.route("/a.xml", _rss(0, 5))
    spec_a = SourceSpec(id="a", name="甲", url=loopback.url("/a.xml"), interval=60)
    async with Collector(pg_url, clock=clock, jitter=0) as col:
        await col.sync_sources([spec_a])
        assert len((await col.run_once())[0].new_ids) == 5
        await col.read(lambda db: db.execute(
            "CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION USING"
            " ERRCODE = 'disk_full', MESSAGE = 'could not extend file \"base/1/2\": No space left on device';"
            " END $$"))
        await col.read(lambda db: db.execute(
            "CREATE TRIGGER items_full BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION disk_full()"))
        loopback.route("/a.xml", _rss(100, 60))
        clock.advance(seconds=61)
        [out] = await col.run_once()
        assert out.status == "error" and "磁盘/数据库已满" in out.error and "\n" not in out.error
        assert "127.0.0.1" in out.error  # names the server's database
        row = await col.read(store.source_row, "a")
        assert row["error_streak"] == 1 and row["lease_owner"] is None
        assert await col.read(store.count_items) == 5  # nothing of the fetch was kept
        await col.read(lambda db: db.execute("DROP TRIGGER items_full ON items"))
        clock.advance(hours=1)
        [again] = await col.run_once()
        assert again.status == "new" and len(again.new_ids) == 60
        assert await col.read(store.count_items) == 65


# ---------------------------------------------------------------- many processes, one database

WRITER = textwrap.dedent("""
    # One duty console's data layer (tui.facade.DeskFacade, the only SQL the console runs),
    # driven like a busy duty officer: poll the board, open the incident, write notes and
    # acknowledgements, search items and save corrections.
    import json, sys, time
    sys.path.insert(0, {repo!r})
    from responders.exceptions import ResponderError
    from tui.facade import DeskBusy, DeskFacade
    from tui.types import ItemFilter
    who, until = {who!r}, time.monotonic() + {seconds}
    give_up = until + 300  # a slow, busy machine: go on until enough was written (generous bound)
    desk = DeskFacade({db!r}, actor=who)
    iid = {iid}
    notes, labels, errors, k = 0, 0, [], 0
    while time.monotonic() < until or ((notes <= 5 or not labels) and time.monotonic() < give_up):
        k += 1
        try:
            desk.snapshot()
            if k % 5 == 0:
                desk.acknowledge(iid)
            else:
                desk.note(iid, who + " 第" + str(k) + "条")
                notes += 1
            desk.incident(iid)
            rows = desk.items(ItemFilter(limit=20))
            if rows and k % 3 == 0:
                desk.correct(rows[k % len(rows)].id, "topic", "安全生产")
                labels += 1
        except ResponderError:
            pass
        except DeskBusy as exc:  # what staff would see
            errors.append(str(exc))
    desk.close()
    print(json.dumps({{"notes": notes, "labels": labels, "actions": k, "errors": errors[:5],
                      "n_errors": len(errors)}}))
""")


@pytest.mark.slow
def test_daemon_and_three_consoles_see_no_locked_database(tmp_path, feeds):  # noqa: F811
    home = tmp_path / "home"
    _write_home(home, feeds.base)
    db_path = home / "desk.sqlite"
    db = open_db(db_path, all_migrations())
    iid = IncidentService(db, ClockPolicy(), Clock(T0)).open_or_join(candidate("s1")).incident.id
    db.conn.close()
    daemon = subprocess.Popen([sys.executable, "-m", "yuqing", "--home", str(home), "run"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until ingestion is under way
            try:
                con = sqlite3.connect(db_path, timeout=5)
                n = con.execute("SELECT count(*) FROM items").fetchone()[0]
                con.close()
                if n > 50:
                    break
            except sqlite3.OperationalError:
                pass
            time.sleep(0.2)
        writers = [subprocess.Popen(
            [sys.executable, "-c", WRITER.format(repo=REPO, db=str(db_path), iid=iid, who=f"值班员{w}", seconds=6)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(3)]
        results = []
        for w in writers:
            out, err = w.communicate(timeout=400)
            assert w.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, daemon_err = daemon.communicate(timeout=60)
    for r in results:
        assert r["n_errors"] == 0, r["errors"]
        assert r["notes"] > 5
    assert "database is locked" not in daemon_err
    log = (home / "logs" / "desk.log").read_text(encoding="utf-8")
    assert "database is locked" not in log
    db = open_db(db_path)
    assert verify(db).ok
    stored_notes = db.execute("SELECT count(*) FROM timeline_events WHERE kind = 'note'").fetchone()[0]
    assert stored_notes == sum(r["notes"] for r in results)
    stored_labels = db.execute("SELECT count(*) FROM labels").fetchone()[0]
    assert stored_labels == sum(r["labels"] for r in results) > 0
    assert db.execute("SELECT count(*) FROM items").fetchone()[0] > 50


# ---------------------------------------------------------------- clock jumps

def test_release_clock_warnings_survive_clock_jumps(tmp_path):
    clock = Clock(T0)
    policy = ClockPolicy()
    svc = IncidentService(open_db(tmp_path / "desk.sqlite", all_migrations()), policy, clock)
    inc = svc.open_or_join(candidate("s1", first_published=T0, detected_at=T0 + timedelta(minutes=30))).incident
    due = svc.clock_state(inc.id).due_at
    fired: list[str] = []

    def at(t: datetime) -> list[str]:
        clock.set(t)
        state = svc.clock_state(inc.id)
        # Pure: the same events and `now` give the same clock, whatever came before.
        assert state == compute_clock(policy, svc.timeline(inc.id), t)
        keys = [a.key for _, _, a in svc.fire_clock_alerts()]
        fired.extend(keys)
        return keys

    assert at(due - timedelta(hours=13)) == []
    assert [k.split("@")[0] for k in at(due - timedelta(hours=11))] == ["warning:12h"]
    assert at(due - timedelta(hours=20)) == []  # back 9 h: nothing refired, nothing lost
    assert svc.clock_state(inc.id).status == "normal"
    assert at(due - timedelta(hours=11)) == []
    assert [k.split("@")[0] for k in at(due - timedelta(hours=3))] == ["warning:4h"]
    jumped = at(due + timedelta(hours=5))  # forward over the 1 h warning and the deadline
    assert [k.split("@")[0] for k in jumped] == ["warning:1h", "overdue:2"]
    assert at(due - timedelta(hours=2)) == []  # back before the deadline
    assert svc.clock_state(inc.id).status == "urgent"
    assert at(due + timedelta(hours=5)) == []  # forward again: nothing twice
    assert len(fired) == len(set(fired))
    stored = [e.payload["key"] for e in events(svc.db, inc.id, kinds=("clock_alert",))]
    assert stored == fired  # every fired warning is a timeline event, once
    assert verify(svc.db).ok


async def test_collector_recovers_when_the_clock_goes_back(tmp_path, loopback, backend):
    loopback.route("/a.xml", _rss(0, 2, size=50))
    clock = Clock(T0 + timedelta(days=365))  # the clock was a year ahead ...
    spec = SourceSpec(id="a", name="甲", url=loopback.url("/a.xml"), interval=60)
    async with Collector(backend or tmp_path / "desk.sqlite", clock=clock, jitter=0.1) as col:
        await col.sync_sources([spec])
        assert [o.status for o in await col.run_once()] == ["new"]
        clock.set(T0)  # ... and is corrected: next_check_at is a year away
        assert [o.status for o in await col.run_once()] in (["not_modified"], ["unchanged"])
        # Scheduled from the corrected clock: not due again at once, due after the interval.
        assert await col.run_once() == []
        clock.advance(seconds=70)
        assert len(await col.run_once()) == 1
        # A forward jump just makes sources due.
        clock.advance(days=3)
        assert len(await col.run_once()) == 1


async def test_long_intervals_and_backoff_are_not_mistaken_for_a_clock_jump(tmp_path, loopback, backend):  # noqa: F811
    loopback.route("/daily.xml", _rss(0, 1, size=50))
    loopback.route("/down.xml", "gone", status=503)
    clock = Clock(T0)
    daily = SourceSpec(id="daily", name="日更", url=loopback.url("/daily.xml"), interval=86400)
    down = SourceSpec(id="down", name="故障", url=loopback.url("/down.xml"), interval=60)
    policy = FetchPolicy(per_host_spacing=0)
    async with Collector(backend or tmp_path / "desk.sqlite", clock=clock, jitter=1.0, policy=policy) as col:
        await col.sync_sources([daily, down])
        await col.run_once()
        for _ in range(12):  # the failing source backs off to its cap (6 h, up to 12 h with jitter)
            clock.advance(hours=12, seconds=1)
            await col.run_once()
        clock.advance(seconds=1)
        assert await col.run_once() == []  # neither is due early
