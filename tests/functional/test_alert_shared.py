"""Two alert dispatchers on one database (two daemons, or machines sharing a PostgreSQL
server) deliver each alert once: the same notices handed to both, the same stored queue read
back by both, the same unacknowledged alert due to escalate in both. Each dispatcher runs in
its own process against a real receiver on 127.0.0.1 that holds every request a moment, so the
two really send at the same time."""
from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web

from responders.alerts import AlertDispatcher
from responders.alerts.store import list_alerts, migrations
from storage.db import open_db
from tests.functional._alert_shared_child import config, shared_alert
from tests.functional.test_alert_channels import T0, Clock

CHILD = Path(__file__).with_name("_alert_shared_child.py")


class Receiver:
    """A robot endpoint per channel (/send/<name>); each answer comes after a short hold."""

    def __init__(self):
        self.got: dict[str, list[str]] = {}
        self.runner = None
        self.base = ""

    async def start(self) -> "Receiver":
        async def send(request):
            doc = await request.json()
            self.got.setdefault(request.match_info["name"], []).append(doc["markdown"]["content"])
            await asyncio.sleep(0.2)
            return web.json_response({"errcode": 0, "errmsg": "ok"})

        app = web.Application()
        app.router.add_post("/send/{name}", send)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"
        return self

    def times(self, channel: str, key: str) -> int:
        """In how many messages of a channel an alert appears (alone or folded into a digest)."""
        return sum(f"〔{key}〕" in text for text in self.got.get(channel, []))


@pytest.fixture
async def receiver():
    r = await Receiver().start()
    yield r
    await r.runner.cleanup()


async def both(db, receiver: Receiver, at, action: str, keys=("", "")) -> None:
    """Two dispatcher processes: both read the stored state, then act at the same moment."""
    root = Path(__file__).resolve().parents[2]
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), str(db), receiver.base, at.isoformat(), action, k,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(root)}) for k in keys]
    try:
        for p in procs:
            line = await asyncio.wait_for(p.stdout.readline(), 120)  # a generous bound
            assert line.strip() == b"ready", (line, await p.stderr.read())
        for p in procs:
            p.stdin.write(b"go\n")
            await p.stdin.drain()
        for p in procs:
            line = await asyncio.wait_for(p.stdout.readline(), 120)
            assert line.strip() == b"done", (line, await p.stderr.read())
            assert await asyncio.wait_for(p.wait(), 60) == 0
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
                await p.wait()


@pytest.fixture
def db(tmp_path, backend):
    target = backend or tmp_path / "desk.sqlite"
    open_db(target, [migrations]).conn.close()
    return target


async def test_the_same_notices_handed_to_two_dispatchers_go_out_once(db, receiver):
    same = [f"same{i}" for i in range(8)]
    mine = [[f"one{i}" for i in range(3)], [f"two{i}" for i in range(3)]]
    await both(db, receiver, T0, "submit", keys=[",".join(same + m) for m in mine])
    for key in same + mine[0] + mine[1]:
        assert receiver.times("a", key) == 1 and receiver.times("b", key) == 1, key


@pytest.mark.postgresql
async def test_a_stored_queue_read_by_two_dispatchers_goes_out_once(pg_url, receiver):
    keys = [f"q{i}" for i in range(6)]
    async with AlertDispatcher(config(receiver.base), clock=Clock(), db=pg_url) as d:  # the desk that stopped
        for k in keys:
            await d.submit(shared_alert(k, T0, lane="digest"))  # waits for the half-hourly digest
        assert d.pending()["a"] == len(keys)
    assert receiver.got == {}
    await both(pg_url, receiver, T0 + timedelta(minutes=31), "tick")
    for key in keys:
        assert receiver.times("a", key) == 1 and receiver.times("b", key) == 1, key
    assert len(receiver.got["a"]) <= 2 and len(receiver.got["b"]) <= 2  # folded, not one by one


@pytest.mark.postgresql
async def test_an_unacknowledged_alert_escalates_once_with_two_dispatchers(pg_url, receiver):
    async with AlertDispatcher(config(receiver.base), clock=Clock(), db=pg_url) as d:
        a = shared_alert("esc1", T0)
        await d.submit(a)
    assert receiver.times("a", "esc1") == 1
    await both(pg_url, receiver, T0 + timedelta(minutes=11), "tick")
    assert receiver.times("esc", "esc1") == 1 and "升级" in receiver.got["esc"][0]
    assert receiver.times("a", "esc1") == 1  # the first send is not repeated
    db = open_db(pg_url)
    try:
        (rec,) = list_alerts(db)
        assert rec.alert.id == a.id and [s.step for s in rec.steps] == [0, 1]
    finally:
        db.close()


@pytest.mark.postgresql
async def test_a_running_dispatcher_takes_up_what_a_stopped_one_left(pg_url, receiver):
    clock = Clock()
    cfg = config(receiver.base)
    async with AlertDispatcher(cfg, clock=clock, db=pg_url) as survivor:
        async with AlertDispatcher(cfg, clock=clock, db=pg_url) as gone:
            await gone.submit(shared_alert("left1", T0, lane="digest"))
        assert survivor.pending()["a"] == 0  # not its own: it does not know yet
        clock.advance(minutes=31)
        await survivor.tick()
    assert receiver.times("a", "left1") == 1 and receiver.times("b", "left1") == 1


@pytest.mark.postgresql
async def test_a_send_held_by_a_live_dispatcher_is_left_to_it_and_taken_over_when_it_dies(pg_url):
    """Dispatcher A is killed while a robot holds its request; B, running all along, does not
    send what A is sending while A lives, and sends it (marked as a possible repeat) once A's
    session is gone."""
    from responders.alerts import parse_alerts_config
    from tests.functional.test_alert_restart import CHILD as ONE_SEND, session_gone

    arrived, release, received = asyncio.Event(), asyncio.Event(), []

    async def wecom(request):
        received.append((await request.json())["markdown"]["content"])
        if len(received) == 1:
            arrived.set()
            await release.wait()  # A's request never gets its answer
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    app = web.Application()
    app.router.add_post("/send", wecom)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}/send?key=k"
    cfg = parse_alerts_config({"channels": {"w": {"type": "wecom", "url": url}},
                               "rules": [{"name": "r", "channels": ["w"]}]})
    repo = str(Path(__file__).resolve().parents[2])
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", ONE_SEND.format(repo=repo, url=url, db=pg_url),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    clock = Clock()
    try:
        await asyncio.wait_for(arrived.wait(), 60)  # A's send is out
        async with AlertDispatcher(cfg, clock=clock, db=pg_url) as b:
            assert b.pending() == {"w": 1}  # B reads A's queue row ...
            assert await b.tick() == []  # ... but leaves it to A, which is sending it
            assert len(received) == 1
            child.kill()
            await child.wait()
            await session_gone(pg_url, child.pid)
            clock.advance(seconds=31)  # B's next look at the stored state
            made = await b.tick()
            assert [x.ok for x in made] == [True] and b.pending() == {"w": 0}
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        release.set()
        await runner.cleanup()
    assert len(received) == 2 and "重发" not in received[0] and received[1].startswith("### 【重发·可能重复】")
