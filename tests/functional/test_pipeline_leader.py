"""The pipeline when more than one process may write it: a process whose window is older than the
committed watermark rebuilds it before its next batch (both backends); a leader whose lock session
ended writes nothing more; what an understanding worker stored is what the leader uses (PostgreSQL)."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from monitor import store as monitor_store
from monitor.types import ParsedItem, SourceSpec
from pipeline import stages
from pipeline import store
from pipeline.errors import NotLeader
from pipeline.leader import Leadership
from pipeline.schema import all_migrations
from storage.db import connect, open_db, transaction
from tests.functional.test_pipeline_batches import STORIES
from tests.pipeline_kit import pipeline_home
from yuqing.home import DeskHome
from yuqing.pipeline import desk_pipeline

NOW = datetime(2026, 6, 14, 4, 0, tzinfo=timezone.utc)
SPEC = SourceSpec(id="local", name="汉中本地论坛", url="http://127.0.0.1:9/feed", local=True)


def _desk(tmp_path, target) -> DeskHome:
    """A desk home whose database (``target``, or its SQLite file) holds four reports of each story."""
    home = pipeline_home(tmp_path / "home")
    _store(target or home.db_path)
    return home


def _store(target) -> None:
    db = open_db(target, all_migrations())
    monitor_store.sync_sources(db, [SPEC], NOW)
    items = [ParsedItem(guid=f"s{s}-{k}", title=f"{title}（{k}）", link=f"https://news.example/{s}/{k}",
                        text=text + "网友纷纷转发。" * k, published=NOW - timedelta(hours=3, minutes=-10 * k - s))
             for k in range(4) for s, (title, text) in enumerate(STORIES)]
    monitor_store.store_fetch(db, SPEC, items, now=NOW, next_check=NOW, etag=None, last_modified=None, body_digest=None)
    db.conn.close()


def _rows(target, sql: str) -> list:
    db = connect(target)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.conn.close()


def _drain(pipe) -> list:
    notices = []
    while True:
        notices += pipe.step()
        if not pipe.last_batch:
            return notices


def _made(target) -> dict:
    """Stories and incidents by guid (the same in any database holding the same items)."""
    guid = dict(_rows(target, "SELECT id, guid FROM items"))
    stories: dict[str, set] = {}
    for item, sid in _rows(target, "SELECT item_id, story_id FROM item_analysis"):
        stories.setdefault(sid, set()).add(guid[item])
    links: dict[int, set] = {}
    for iid, item in _rows(target, "SELECT incident_id, item_id FROM incident_items"):
        links.setdefault(iid, set()).add(guid[int(item)])
    return {"stories": sorted(sorted(g) for g in stories.values()),
            "incidents": sorted((t, sorted(links[i])) for i, t in _rows(target, "SELECT id, title FROM incidents"))}


def test_two_processes_taking_turns_make_what_one_makes(tmp_path, backend, monkeypatch):
    """Each step finds the other's batches committed since its window was built: it rebuilds the
    window from the database first, so nothing is processed twice or from a stale window."""
    monkeypatch.setattr(stages, "BATCH", 5)
    home = _desk(tmp_path, backend)
    target = backend or home.db_path
    single = tmp_path / "single.sqlite"  # the same items, one process
    _store(single)
    one = desk_pipeline(single, home.path, clock=lambda: NOW)
    one.open()
    try:
        _drain(one)
    finally:
        one.close()
    a = desk_pipeline(target, home.path, clock=lambda: NOW)
    b = desk_pipeline(target, home.path, clock=lambda: NOW)
    notices = []
    try:
        a.open()
        b.open()
        while True:
            notices += a.step() + b.step()
            if not a.last_batch and not b.last_batch:
                break
        assert a.window_at == b.window_at == 12
    finally:
        a.close()
        b.close()
    analysed = Counter(r[0] for r in _rows(target, "SELECT item_id FROM item_analysis"))
    assert len(analysed) == 12 and set(analysed.values()) == {1}
    linked = Counter(r[0] for r in _rows(target, "SELECT item_id FROM incident_items"))
    assert len(linked) == 12 and set(linked.values()) == {1}
    assert sum(n.kind == "incident_opened" for n in notices) == 3
    assert _made(target) == _made(single)


@pytest.mark.postgresql
def test_a_leader_that_lost_its_lock_writes_nothing_and_another_takes_over(tmp_path, pg_server, pg_url):
    import psycopg

    home = _desk(tmp_path, pg_url)
    lead, other = Leadership(pg_url), Leadership(pg_url)
    pipe = desk_pipeline(pg_url, home.path, clock=lambda: NOW)
    try:
        assert lead.try_take() and not other.try_take()
        pipe.guard = lead.check
        pipe.open()
        with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:  # the lock's session ends
            admin.execute("SELECT pg_terminate_backend(%s)", [lead.session[0]])
        with pytest.raises(NotLeader):
            pipe.step()
        assert _rows(pg_url, "SELECT count(*) FROM item_analysis") == [(0,)]
        assert _rows(pg_url, "SELECT count(*) FROM incidents") == [(0,)]
        assert store.watermark(pipe.db.conn, stages.STAGE) == 0
        assert other.try_take()  # the server released the lock with the session
    finally:
        pipe.close()
        lead.give_up()
        other.give_up()


@pytest.mark.postgresql
def test_the_leader_takes_what_an_understanding_worker_stored(tmp_path, pg_url, monkeypatch):
    monkeypatch.setattr(stages, "BATCH", 4)
    home = _desk(tmp_path, pg_url)
    worker = desk_pipeline(pg_url, home.path, clock=lambda: NOW)
    leader = desk_pipeline(pg_url, home.path, clock=lambda: NOW)
    try:
        assert worker.understand_ahead("w1", limit=3) == 3  # beyond the leader's next batch of 4
        ids = sorted(r[0] for r in _rows(pg_url, "SELECT item_id FROM item_understanding WHERE result IS NOT NULL"))
        assert ids == [5, 6, 7]
        # A result the leader did not compute itself shows up in what it writes.
        got = store.understood(worker.db.conn, [6])[6]
        with transaction(worker.db) as conn:
            store.save_understood(conn, "w1", [(6, {**got, "sentiment": "中性"})], NOW)
        leader.open()
        _drain(leader)
    finally:
        worker.close()
        leader.close()
    sentiments = dict(_rows(pg_url, "SELECT item_id, sentiment FROM item_analysis"))
    assert len(sentiments) == 12 and sentiments[6] == "中性" and sentiments[3] == "负面"
    assert _rows(pg_url, "SELECT count(*) FROM item_understanding") == [(0,)]


@pytest.mark.postgresql
async def test_a_leader_whose_server_sessions_end_reconnects_and_leads_again(tmp_path, pg_server, pg_url, monkeypatch):
    """The server ends every session of the desk (a restart, a dropped network): the daemon's pipeline
    does not stay stuck on its dead connection, it makes a new one, takes the lead again and goes on."""
    import asyncio

    import psycopg

    from yuqing.config import load_config
    from yuqing.pipeline import pipeline_runner

    monkeypatch.setattr(stages, "BATCH", 6)
    monkeypatch.setenv("YUQING_DATABASE_URL", pg_url)
    home = _desk(tmp_path, pg_url)
    runner = pipeline_runner(load_config(home), lambda: NOW)
    await runner.start()
    try:
        await runner.understand()
        assert store.watermark(runner.pipeline.db.conn, stages.STAGE) == 12  # drained while leading
        _store_more(pg_url)
        with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
                          " AND pid <> pg_backend_pid()", [pg_url.rsplit("/", 1)[1]])
        for _ in range(200):  # a generous bound: each round is one daemon tick
            try:
                await runner.understand()
            except Exception:  # noqa: BLE001 - what the daemon's stage guard logs and retries
                pass
            if _rows(pg_url, "SELECT last_item_id FROM pipeline_state") == [(15,)]:
                break
            await asyncio.sleep(0.05)
        assert runner.leadership.session is not None
    finally:
        await runner.stop()
    analysed = Counter(r[0] for r in _rows(pg_url, "SELECT item_id FROM item_analysis"))
    assert len(analysed) == 15 and set(analysed.values()) == {1}


def _store_more(target) -> None:
    db = open_db(target, all_migrations())
    monitor_store.store_fetch(db, SPEC, [
        ParsedItem(guid=f"later-{k}", title=f"汉台区铺镇化工厂爆炸事故续报（{k}）", link=f"https://news.example/later/{k}",
                   text="铺镇化工厂爆炸事故伤者已送医救治，事故原因正在调查。", published=NOW - timedelta(minutes=30 - k))
        for k in range(3)], now=NOW, next_check=NOW, etag=None, last_modified=None, body_digest=None)
    db.conn.close()


@pytest.mark.postgresql
def test_the_leader_locks_session_is_dropped_soon_when_its_machine_vanishes(pg_url):
    """The server probes the lock's connection every few seconds (its own default waits two hours),
    so a leader whose machine is lost without closing its connection frees the lock within ~11 s."""
    lead = Leadership(pg_url)
    try:
        assert lead.try_take()
        shown = {name: lead.lock.conn.execute(f"SHOW {name}").fetchone()[0]
                 for name in ("tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count",
                              "tcp_user_timeout")}
    finally:
        lead.give_up()
    assert shown.pop("tcp_user_timeout") in ("11000", "11s")  # milliseconds, shown with or without a unit
    assert shown == {"tcp_keepalives_idle": "5", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "3"}


def test_run_role_pipeline_understands_without_collecting(tmp_path, backend):
    import os
    import signal
    import subprocess
    import sys
    import time

    home = _desk(tmp_path, backend)
    target = backend or home.db_path
    checked = _rows(target, "SELECT last_check_at, last_error, next_check_at FROM sources")
    proc = subprocess.Popen([sys.executable, "-m", "yuqing", "--home", str(home.path), "run", "--role", "pipeline"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    try:
        deadline = time.monotonic() + 180  # a generous bound for a slow, busy machine
        while time.monotonic() < deadline and _rows(target, "SELECT count(*) FROM item_analysis") != [(12,)]:
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    assert _rows(target, "SELECT count(*) FROM item_analysis") == [(12,)]
    assert _rows(target, "SELECT count(*) FROM incidents") == [(3,)]
    # The source (due, and unreachable) was not checked again: no collector ran.
    assert _rows(target, "SELECT last_check_at, last_error, next_check_at FROM sources") == checked
