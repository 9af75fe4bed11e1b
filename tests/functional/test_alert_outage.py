"""Robot outages: robots on 127.0.0.1 that hang (never answer), fail with 500,
answer 429 with Retry-After, then recover, with a desk restart in between.

The dispatcher runs on an injected clock; a hung robot is bounded only by its
channel's timeout (set long here), so a test that passes never waits for it.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from aiohttp import web

from responders.alerts import Alert, AlertDispatcher, parse_alerts_config
from responders.alerts.store import failing_channels
from storage.db import connect
from tests.functional.test_alert_channels import T0, Clock

BOUND = 30  # seconds: generous upper bound for a loopback answer that should come


class Robots:
    """Each path /<name> answers by its script: "ok", "500", "hang", "429:<Retry-After>"
    ("429:date+N": an HTTP-date N seconds from now); the last step repeats."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self.script: dict[str, list[str]] = {}
        self.hits: dict[str, list[datetime]] = {}  # desk-clock time of each request
        self.got: dict[str, list[dict]] = {}
        self.release = asyncio.Event()
        self.base = ""

    async def handle(self, request: web.Request):
        name = request.match_info["name"]
        doc = await request.json()
        self.hits.setdefault(name, []).append(self.clock())
        steps = self.script.get(name) or ["ok"]
        step = steps.pop(0) if len(steps) > 1 else steps[0]
        if step == "hang":
            await self.release.wait()
            return web.Response(status=504, text="gateway timeout")
        if step == "500":
            return web.Response(status=500, text="upstream busy")
        if step.startswith("429:"):
            value = step[4:]
            if value.startswith("date+"):
                when = datetime.now(timezone.utc) + timedelta(seconds=int(value[5:]))
                value = format_datetime(when, usegmt=True)
            return web.json_response({"errcode": 45009, "errmsg": "api freq out of limit"}, status=429,
                                     headers={"Retry-After": value})
        self.got.setdefault(name, []).append(doc)
        return web.json_response({"errcode": 0, "errmsg": "ok", "code": 0, "msg": "success"})


@pytest.fixture
async def robots():
    r = Robots(Clock())
    app = web.Application()
    app.router.add_post("/{name}", r.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    r.base = f"http://{host}:{port}"
    yield r
    r.release.set()
    await runner.cleanup()


def dispatcher(r: Robots, db=None, *, calls=None, incident_open=None, **top) -> AlertDispatcher:
    table = {
        "channels": {
            "wecom": {"type": "wecom", "url": f"{r.base}/wecom", "timeout": 600},
            "ding": {"type": "dingtalk", "url": f"{r.base}/ding", "timeout": 600},
            "feishu": {"type": "feishu", "url": f"{r.base}/feishu", "timeout": 600},
        },
        "rules": [{"name": "all", "channels": ["wecom", "ding", "feishu"]}],
        "retry": {"max_attempts": 5, "base_seconds": 2, "max_seconds": 60},
        **top,
    }

    def on_delivery(a, channel, ok, error):
        if calls is not None:
            calls.append((channel, ok, error))

    return AlertDispatcher(parse_alerts_config(table), clock=r.clock, db=db, on_delivery=on_delivery,
                           incident_open=incident_open)


def opening(n: int, *, lane: str = "breaking") -> Alert:
    return Alert.new(key=f"incident:{n}:opened", lane=lane, title=f"事件{n}：汉台区某地发生险情",
                     body_markdown="现场有人员受伤。", created_at=T0, severity="较大", incident_id=n)


async def settle(d: AlertDispatcher, *names: str) -> None:
    await asyncio.wait_for(d.idle(*names), BOUND)


async def test_hang_fail_429_recover_with_a_restart(robots, tmp_path):
    db = tmp_path / "desk.sqlite"
    clock, calls = robots.clock, []
    robots.script = {"wecom": ["500", "ok"], "feishu": ["hang"], "ding": ["429:30", "ok"]}
    d1 = dispatcher(robots, db, calls=calls)
    await asyncio.wait_for(d1.submit(opening(1), wait=False), BOUND)
    await settle(d1, "wecom", "ding")
    assert d1.busy() == ("feishu",)  # 飞书 hangs ...
    assert any(ch == "wecom" and "2 秒后重试" in err for ch, ok, err in calls if not ok)
    clock.advance(seconds=2)
    await asyncio.wait_for(d1.tick(wait=False), BOUND)
    await settle(d1, "wecom", "ding")
    assert len(robots.got["wecom"]) == 1  # ... and 企业微信's retry ran meanwhile
    assert len(robots.hits["ding"]) == 1  # Retry-After: 30 is obeyed, not 2 s
    clock.advance(seconds=20)
    await d1.tick(wait=False)
    await settle(d1, "wecom", "ding")
    assert len(robots.hits["ding"]) == 1
    assert d1.channel_health()["ding"].failing and d1.channel_health()["feishu"].failures == 0
    await asyncio.wait_for(d1.aclose(), BOUND)  # the desk stops while 飞书 still hangs

    # 飞书 now fails for longer than max_attempts; the incident is still open
    robots.script["feishu"] = ["500"] * 9 + ["ok"]
    d2 = dispatcher(robots, db, calls=calls)
    for _ in range(40):
        clock.advance(seconds=10)
        await asyncio.wait_for(d2.tick(), BOUND)
        if robots.got.get("feishu") and robots.got.get("ding"):
            break
    assert len(robots.got["wecom"]) == 1  # sent once, not again after the restart
    assert len(robots.got["ding"]) == 1 and robots.hits["ding"][1] >= T0 + timedelta(seconds=30)
    assert len(robots.got["feishu"]) == 1  # never abandoned: delivered after 10 failed attempts
    assert len(robots.hits["feishu"]) == 11
    assert any("事件未关闭，突发告警不放弃" in (err or "") for _, _, err in calls)
    assert not any("放弃发送" in (err or "") for _, _, err in calls)
    assert not any(h.failing for h in d2.channel_health().values())
    assert d2.pending() == {"wecom": 0, "ding": 0, "feishu": 0}
    await d2.aclose()


async def test_retry_after_as_http_date(robots):
    robots.script = {"ding": ["429:date+60", "ok"]}
    calls = []
    d = dispatcher(robots, calls=calls, rules=[{"name": "r", "channels": ["ding"]}])
    async with d:
        await asyncio.wait_for(d.submit(opening(1)), BOUND)
        assert "平台要求等待" in calls[-1][2]
        clock = robots.clock
        clock.advance(seconds=50)
        await asyncio.wait_for(d.tick(), BOUND)
        assert len(robots.hits["ding"]) == 1
        clock.advance(seconds=11)
        await asyncio.wait_for(d.tick(), BOUND)
        assert len(robots.got["ding"]) == 1


async def test_a_closed_incident_or_a_digest_is_abandoned_after_max_attempts(robots):
    robots.script = {"wecom": ["500"]}
    calls = []
    d = dispatcher(robots, calls=calls, rules=[{"name": "r", "channels": ["wecom"]}],
                   incident_open=lambda incident_id: incident_id != 1, digest_every_minutes=0)
    async with d:
        await d.submit(opening(1))  # breaking, but its incident is closed
        await d.submit(opening(2, lane="digest"))
        for _ in range(10):
            robots.clock.advance(seconds=60)
            await asyncio.wait_for(d.tick(), BOUND)
    finals = [err for ch, ok, err in calls if "放弃发送" in (err or "")]
    assert len(finals) == 2 and d.pending()["wecom"] == 0


async def test_failing_channel_shown_by_doctor_and_on_the_console_status_line(robots, tmp_path):
    from tests.tui_kit import build_desk
    from tui.facade import DeskFacade
    from tui.screens.dashboard import status_text
    from yuqing.ops import doctor

    db, desk_clock = build_desk(tmp_path)
    robots.script = {"feishu": ["500", "500", "ok"]}
    d = dispatcher(robots, db, rules=[{"name": "r", "channels": ["feishu", "wecom"]}])

    def views():
        facade = DeskFacade(db, clock=desk_clock)
        try:
            status = facade.snapshot().status
        finally:
            facade.close()
        checks = {c.name: c for c in doctor(tmp_path, db, now=desk_clock()).checks}
        return status, status_text(status, desk_clock()).plain, checks["alerts"]

    async with d:
        await asyncio.wait_for(d.submit(opening(1)), BOUND)
        ro = connect(db, readonly=True)
        try:
            (h,) = failing_channels(ro)
        finally:
            ro.conn.close()
        assert h.channel == "feishu" and "HTTP 500" in h.last_error and h.failures == 1 and h.failing_since == T0
        status, line, check = views()
        assert status.alert_channels_failing == ("飞书群机器人「feishu」",)
        assert "告警渠道故障：飞书群机器人「feishu」" in line
        assert check.status == "warn" and "飞书群机器人「feishu」" in check.detail and "HTTP 500" in check.detail
        for _ in range(3):
            robots.clock.advance(seconds=10)
            await asyncio.wait_for(d.tick(), BOUND)
        assert len(robots.got["feishu"]) == 1
    status, line, check = views()
    assert status.alert_channels_failing == () and "告警渠道故障" not in line
    assert check.status == "ok"
    empty = sqlite3.connect(tmp_path / "other.sqlite")
    from sqlite_utils import Database

    assert failing_channels(Database(empty)) == []  # a desk whose dispatcher never ran


async def test_seven_incidents_through_a_long_outage_all_arrive(robots, tmp_path):
    """The attack pass's outage: 飞书 hangs, then both robots fail for 10 minutes (well past
    max_attempts with the default retry policy); after recovery every opening alert arrives."""
    db = tmp_path / "desk.sqlite"
    clock, calls = robots.clock, []
    robots.script = {"wecom": ["500"], "feishu": ["hang", "500"]}
    table_rules = [{"name": "r", "channels": ["wecom", "feishu"]}]
    d = dispatcher(robots, db, calls=calls, rules=table_rules, retry={})  # defaults: 5 attempts, 5 s .. 300 s
    for n in range(1, 8):
        await asyncio.wait_for(d.submit(opening(n), wait=False), BOUND)
    await settle(d, "wecom")
    assert d.busy() == ("feishu",)
    robots.release.set()  # the hung request ends (504) after the robot's own delay
    await settle(d, "feishu")
    while clock() < T0 + timedelta(minutes=10):
        clock.advance(seconds=30)
        await asyncio.wait_for(d.tick(), BOUND)
    await asyncio.wait_for(d.aclose(), BOUND)
    robots.script = {"wecom": ["ok"], "feishu": ["ok"]}
    d = dispatcher(robots, db, calls=calls, rules=table_rules, retry={})  # a restart, then recovery
    for _ in range(30):
        clock.advance(seconds=60)
        await asyncio.wait_for(d.tick(), BOUND)
    await d.aclose()
    for channel in ("wecom", "feishu"):
        text = json.dumps(robots.got.get(channel, []), ensure_ascii=False)
        arrived = [n for n in range(1, 8) if f"事件{n}：" in text]
        assert arrived == list(range(1, 8)), (channel, arrived)
    assert not any("放弃发送" in (err or "") for _, _, err in calls)
