"""The alert dispatcher's state survives a restart: a new dispatcher on the same
database dedups, escalates, honours acknowledgements, rate limits and sends what
was waiting, exactly as the old one would have. Real receivers on 127.0.0.1, real
SQLite files and (the `backend` fixture) a real PostgreSQL database; the clock is injected."""
from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta

import pytest

from responders.alerts import Alert, AlertDispatcher, parse_alerts_config
from responders.alerts.store import ack_alert, migrations, unacknowledged_alerts
from storage.db import connect, open_db
from tests.functional.test_alert_channels import (  # noqa: F401  (platforms is a fixture)
    ENV, ESCALATION, T0, Clock, alert, channels, platforms, rule,
)


def make(p, path, rules, clock, calls=None, **top):
    cfg = parse_alerts_config({"channels": channels(p), "rules": rules, **top}, env=ENV)

    def on_delivery(a, channel, ok, error):
        if calls is not None:
            calls.append((a.id, channel, ok, error))

    return AlertDispatcher(cfg, clock=clock, on_delivery=on_delivery, db=path)


@pytest.fixture
def db_path(tmp_path, backend):
    """The desk's database: a SQLite file, or a fresh PostgreSQL database's URL."""
    return backend or tmp_path / "desk.sqlite"


@pytest.fixture
def sqlite_path(tmp_path):
    return tmp_path / "desk.sqlite"


async def test_same_key_is_deduplicated_after_a_restart(platforms, db_path):
    clock = Clock()
    async with make(platforms, db_path, rule("wecom"), clock, dedup_window_minutes=30) as d1:
        assert not (await d1.submit(alert(1))).duplicate
    assert len(platforms.wecom) == 1

    clock.advance(minutes=10)  # the desk comes back and the pipeline announces the same thing again
    async with make(platforms, db_path, rule("wecom"), clock, dedup_window_minutes=30) as d2:
        assert (await d2.submit(alert(1))).duplicate
        assert not (await d2.submit(alert(2))).duplicate
        clock.advance(minutes=21)  # the window is over
        assert not (await d2.submit(alert(1))).duplicate
    assert len(platforms.wecom) == 3


async def test_escalation_due_during_downtime_fires_after_restart(platforms, db_path):
    clock = Clock()
    calls = []
    async with make(platforms, db_path, rule("wecom"), clock, calls, escalation=ESCALATION) as d1:
        a = alert(1)
        await d1.submit(a)
        clock.advance(minutes=5)
        await d1.tick()
    assert platforms.dingtalk == []

    clock.advance(minutes=40)  # down from 5 to 45 min: tier 1 fell due at 15 min
    async with make(platforms, db_path, rule("wecom"), clock, calls, escalation=ESCALATION) as d2:
        assert d2.next_wakeup() == T0 + timedelta(minutes=15)  # overdue: due at once
        await d2.tick()
        assert len(platforms.dingtalk) == 1
        assert "升级·第1级·未确认" in platforms.dingtalk[0]["markdown"]["text"]
        assert [x.id for x in d2.unacknowledged()] == [a.id]
        clock.advance(minutes=10)
        await d2.tick()
    assert len(platforms.feishu) == 1  # tier 2 counts from the tier-1 send
    assert [c[1] for c in calls] == ["wecom", "ding", "feishu"] and all(c[2] for c in calls)
    assert len(platforms.wecom) == 1  # the original is not sent again


async def test_acknowledgement_survives_a_restart(platforms, db_path):
    clock = Clock()
    async with make(platforms, db_path, rule("wecom"), clock, escalation=ESCALATION) as d1:
        a, b = alert(1), alert(2)
        await d1.submit(a)
        await d1.submit(b)
        clock.advance(minutes=5)
        assert d1.ack(a.id, "值班员张三") is True

    clock.advance(minutes=20)
    async with make(platforms, db_path, rule("wecom"), clock, escalation=ESCALATION) as d2:
        assert d2.acknowledged(a.id) == ("值班员张三", T0 + timedelta(minutes=5))
        assert d2.ack(a.id, "值班员李四") is False
        await d2.tick()
        assert [x.id for x in d2.unacknowledged()] == [b.id]
    texts = [doc["markdown"]["text"] for doc in platforms.dingtalk]
    assert len(texts) == 1 and "舆情2" in texts[0]  # only the unacknowledged one escalated


async def test_a_console_in_another_process_acknowledges(platforms, db_path):
    clock = Clock()
    async with make(platforms, db_path, rule("wecom"), clock, escalation=ESCALATION) as d:
        a = alert(1)
        await d.submit(a)
        console = open_db(db_path, [migrations])  # its own connection, as a TUI would have
        try:
            assert [x.id for x, tier in unacknowledged_alerts(console)] == [a.id]
            clock.advance(minutes=3)
            assert ack_alert(console, a.id, "值班员王五", clock()) == [a.id]
            assert ack_alert(console, a.id, "值班员王五", clock()) == []
            assert unacknowledged_alerts(console) == []
        finally:
            console.conn.close()
        clock.advance(minutes=20)
        await d.tick()
        assert d.acknowledged(a.id) == ("值班员王五", T0 + timedelta(minutes=3))
    assert platforms.dingtalk == []


async def test_a_folded_digest_is_acknowledged_by_its_id_after_a_restart(platforms, db_path):
    clock = Clock()
    async with make(platforms, db_path, rule("wecom"), clock, escalation=ESCALATION) as d1:
        alerts = [alert(i) for i in range(22)]
        for x in alerts:
            await d1.submit(x)
        clock.advance(minutes=1)
        (made,) = await d1.tick()
        assert made.alert_id.startswith("fold-")
    async with make(platforms, db_path, rule("wecom"), clock, escalation=ESCALATION) as d2:
        assert d2.ack(made.alert_id, "值班员") is True
        assert {x.id for x in d2.unacknowledged()} == {x.id for x in alerts[:20]}


async def test_queued_and_retrying_alerts_are_sent_after_a_restart(platforms, db_path):
    clock = Clock()
    platforms.flaky_failures = 1
    async with make(platforms, db_path, rule("flaky", "wecom"), clock, digest_every_minutes=30) as d1:
        await d1.submit(alert(1, lane="digest", severity="一般"))  # waits for the digest
        await d1.submit(alert(2))  # flaky fails once: a retry is scheduled
        assert d1.pending() == {"flaky": 2, "wecom": 1, "ding": 0, "feishu": 0, "hook": 0, "console": 0}
    assert len(platforms.flaky) == 0 and len(platforms.wecom) == 1

    clock.advance(minutes=31)
    async with make(platforms, db_path, rule("flaky", "wecom"), clock, digest_every_minutes=30) as d2:
        assert d2.pending()["flaky"] == 2 and d2.pending()["wecom"] == 1
        await d2.tick()
        assert d2.pending()["flaky"] == 0 and d2.pending()["wecom"] == 0
    assert any("舆情2" in str(doc) for doc in platforms.flaky)
    assert any("舆情1" in str(doc) for doc in platforms.flaky)
    assert "舆情1" in platforms.wecom[-1]["markdown"]["content"]

    async with make(platforms, db_path, rule("flaky", "wecom"), clock) as d3:  # nothing is sent twice
        await d3.tick()
        assert sum(d3.pending().values()) == 0
    assert len(platforms.wecom) == 2


async def test_rate_limit_window_survives_a_restart(platforms, db_path):
    clock = Clock()
    async with make(platforms, db_path, rule("wecom"), clock) as d1:
        for i in range(20):
            await d1.submit(alert(i))
    assert len(platforms.wecom) == 20

    clock.advance(seconds=10)
    async with make(platforms, db_path, rule("wecom"), clock) as d2:
        await d2.submit(alert(100))
        assert len(platforms.wecom) == 20 and d2.pending()["wecom"] == 1  # still 20 in this minute
        assert d2.next_wakeup() == T0 + timedelta(seconds=60)
        clock.advance(seconds=50)
        await d2.tick()
    assert len(platforms.wecom) == 21


async def test_a_database_that_cannot_be_written_does_not_stop_alerts(platforms, sqlite_path, caplog):
    db = open_db(sqlite_path, [migrations])
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")  # full: no row fits any more
    clock = Clock()
    big = "汉台区" * 2000
    try:
        with caplog.at_level(logging.ERROR, logger="responders.alerts"):
            async with make(platforms, db, rule("wecom"), clock) as d:
                for i in range(3):
                    await d.submit(alert(i, body=big))
                assert (await d.submit(alert(1))).duplicate  # dedup still works in memory
    finally:
        db.conn.close()
    assert len(platforms.wecom) == 3
    errors = [r for r in caplog.records if "告警状态无法写入数据库" in r.getMessage()]
    assert len(errors) == 1  # said once, not for every write


def test_a_console_on_a_desk_without_alert_tables(db_path):
    from datetime import datetime, timezone

    from responders.alerts import AlertError

    db = open_db(db_path)
    try:
        assert unacknowledged_alerts(db) == []
        with pytest.raises(AlertError, match="不存在"):
            ack_alert(db, "abc", "值班员", datetime(2026, 6, 14, tzinfo=timezone.utc))
        with pytest.raises(AlertError, match="timezone-aware"):
            ack_alert(db, "abc", "值班员", datetime(2026, 6, 14))
    finally:
        db.conn.close()


def test_the_alerts_migration_set_is_idempotent(sqlite_path):
    db_path = sqlite_path
    db = open_db(db_path, [migrations, migrations])
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
    assert {"alert_dedup", "alert_tracks", "alert_queue", "alert_retries", "alert_folds", "alert_sends"} <= names
    db.conn.close()
    ro = connect(db_path, readonly=True)
    with pytest.raises(sqlite3.OperationalError):
        ro.execute("INSERT INTO alert_dedup VALUES ('k', 'x')")
    ro.conn.close()


def test_alert_codec_round_trip():
    from responders.alerts.store import alert_from_json, alert_to_json

    a = alert(7, incident_id="inc-7", item_ids=(1, "x"), topics=("安全生产",), towns=("铺镇",), url="https://a.b/c")
    b = alert(8, incident_id=8)
    for x in (a, b, a.__class__(**{**a.__dict__, "folded": ("p", "q"), "escalation_tier": 2})):
        assert alert_from_json(alert_to_json(x)) == x


async def session_gone(target, pid: int, limit: float = 30.0) -> None:
    """On PostgreSQL, wait until the server has ended a killed process's sessions (its locks
    go with them); at once on SQLite."""
    import asyncio

    from storage.dburl import is_server

    if not is_server(target):
        return
    db = connect(target)
    try:
        for _ in range(int(limit / 0.05)):
            if not db.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE ?",
                              [f"%pid={pid} %"]).fetchone()[0]:
                return
            await asyncio.sleep(0.05)
    finally:
        db.close()
    raise AssertionError(f"the killed process {pid} still has a session after {limit} s")


CHILD = """
import asyncio, sys
sys.path.insert(0, {repo!r})
from datetime import datetime, timezone
from responders.alerts import Alert, AlertDispatcher, parse_alerts_config

async def main():
    cfg = parse_alerts_config({{"channels": {{"w": {{"type": "wecom", "url": {url!r}, "timeout": 60}}}},
                                "rules": [{{"name": "r", "channels": ["w"]}}]}})
    t0 = datetime(2026, 6, 14, 2, 0, tzinfo=timezone.utc)
    async with AlertDispatcher(cfg, clock=lambda: t0, db={db!r}) as d:
        await d.submit(Alert.new(key="incident:1:opened", lane="breaking", title="舆情1：汉台区突发事件",
                                 created_at=t0, severity="重大", incident_id=1))

asyncio.run(main())
"""


async def test_killed_in_the_middle_of_a_send_the_alert_goes_out_after_restart(db_path):
    """SIGKILL while the webhook call is in flight: nothing is lost (the alert is
    sent again: at-least-once) and the pipeline announcing it again is a duplicate."""
    import asyncio
    import signal
    import sys
    from pathlib import Path

    from aiohttp import web

    arrived, release, received = asyncio.Event(), asyncio.Event(), []

    async def wecom(request):
        doc = await request.json()
        received.append(doc)
        if len(received) == 1:  # the first call hangs until the sender dies
            arrived.set()
            await release.wait()
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    app = web.Application()
    app.router.add_post("/send", wecom)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}/send?key=k"
    repo = str(Path(__file__).resolve().parents[2])
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD.format(repo=repo, url=url, db=str(db_path)),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        await asyncio.wait_for(arrived.wait(), 30)
        child.send_signal(signal.SIGKILL)
        await child.wait()
        await session_gone(db_path, child.pid)

        cfg = parse_alerts_config({"channels": {"w": {"type": "wecom", "url": url}},
                                   "rules": [{"name": "r", "channels": ["w"]}]})
        clock = Clock()
        async with AlertDispatcher(cfg, clock=clock, db=db_path) as d:
            assert d.pending() == {"w": 1}
            again = await d.submit(Alert.new(key="incident:1:opened", lane="breaking", title="舆情1：汉台区突发事件",
                                             created_at=clock()))
            assert again.duplicate
            made = await d.tick()
            assert [x.ok for x in made] == [True]
            assert d.pending() == {"w": 0}
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        release.set()
        await runner.cleanup()
    assert len(received) == 2 and all("舆情1" in doc["markdown"]["content"] for doc in received)


async def test_an_unreadable_row_is_skipped_and_an_unusable_path_is_a_clear_error(platforms, db_path, tmp_path, caplog):
    from responders.alerts import AlertError

    clock = Clock()
    async with make(platforms, db_path, rule("wecom"), clock, escalation=ESCALATION) as d1:
        a, b = alert(1), alert(2)
        await d1.submit(a)
        await d1.submit(b)
    db = open_db(db_path)
    db.execute("UPDATE alert_tracks SET alert = '{broken' WHERE id = ?", [a.id])
    db.conn.close()
    with caplog.at_level(logging.ERROR, logger="responders.alerts"):
        async with make(platforms, db_path, rule("wecom"), clock, escalation=ESCALATION) as d2:
            assert [x.id for x in d2.unacknowledged()] == [b.id]
    assert any("1 行无法解析" in r.getMessage() for r in caplog.records)

    (tmp_path / "a-file").write_text("x")
    with pytest.raises(AlertError, match="告警状态数据库无法打开"):
        make(platforms, tmp_path / "a-file" / "desk.sqlite", rule("wecom"), clock)
