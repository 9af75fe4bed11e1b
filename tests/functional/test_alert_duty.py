"""Alerts reach a person: the officer on duty is @-mentioned on each platform, an alert
nobody acknowledges climbs to the leader on duty and then along the configured policy,
an acknowledgement stops it, and a new dispatcher on the same SQLite file continues an
escalation exactly (each step sent once). Real receivers on 127.0.0.1, a real desk
database with staff; the clock is injected and the roster is the ``duty`` callable."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web

from responders import staff
from responders.alerts import AlertDispatcher, parse_alerts_config
from responders.alerts.store import ack_alert, list_alerts, migrations
from storage.db import open_db
from tests.functional.test_alert_channels import (  # noqa: F401  (platforms is a fixture)
    DING_SECRET, ENV, FEISHU_SECRET, HOOK_SECRET, T0, Clock, alert, channels, platforms, rule,
)
from tests.functional.test_alert_restart import session_gone
from yuqing.alert_duty import duty_source, people_source

OFFICER = dict(wecom="zhangsan", dingtalk="13800000001", feishu="ou_7d8a6e6df7621556ce0d21922b676706",
               email="zhang@example.gov.cn")
LEADER = dict(wecom="LiNa", dingtalk="13900000002", feishu="ou_leader0002")


@pytest.fixture
def desk(tmp_path, backend):
    """A desk database (a SQLite file or a PostgreSQL URL) with an admin, the officer 张伟,
    the leader 李娜 and 赵强."""
    path = backend or tmp_path / "desk.sqlite"
    db = open_db(path, [staff.migrations, migrations])
    staff.add_staff(db, "admin", "管理员", "admin")
    staff.add_staff(db, "zhang", "张伟", "officer", **OFFICER)
    staff.add_staff(db, "li", "李娜", "leader", **LEADER)
    staff.add_staff(db, "zhao", "赵强", "leader", wecom="zhaoq")
    db.conn.close()
    return path


class Roster:
    """Who is on duty, as the roster would say (the test changes it between steps)."""

    def __init__(self, officer="zhang", leader="li"):
        self.officer, self.leader = officer, leader
        self.asked = []

    def __call__(self, at):
        self.asked.append(at)
        return self.officer, self.leader


def make(p, path, clock, roster, **top):
    table = {"channels": channels(p), "rules": rule("wecom", "ding", "feishu", "hook", lanes=["breaking"]), **top}
    cfg = parse_alerts_config(table, env=ENV)
    return AlertDispatcher(cfg, clock=clock, db=path, duty=roster, people=people_source(path))


def texts(p):
    """What each platform showed, newest last."""
    return {"wecom": [d["markdown"]["content"] for d in p.wecom], "ding": [d["markdown"]["text"] for d in p.dingtalk],
            "feishu": [d["card"]["elements"][0]["text"]["content"] for d in p.feishu]}


POLICY = {"escalate_after": 10,
          "escalation": {"steps": [{"after": 5, "to": "staff:zhao", "repeat": 1},
                                   {"after": 5, "to": ["channel:hook"]}]}}


async def test_a_breaking_alert_mentions_the_officer_on_each_platform(platforms, desk):
    clock = Clock()
    async with make(platforms, desk, clock, Roster()) as d:
        a = alert(1)
        await d.submit(a)
    t = texts(platforms)
    assert "<@zhangsan>" in t["wecom"][0] and "值班员 张伟" in t["wecom"][0]
    assert platforms.dingtalk[0]["at"] == {"atMobiles": ["13800000001"], "isAtAll": False}
    assert "@13800000001" in t["ding"][0]  # 钉钉 notifies only when the text names the mobile too
    assert f"<at id={OFFICER['feishu']}></at>" in t["feishu"][0]
    hook = platforms.hook[0]
    assert hook["mentions"] == [{"staff_id": "zhang", "name": "张伟", "duty": "officer"}]
    assert "13800000001" not in json.dumps(hook)  # no phone numbers to a generic endpoint
    for text in (t["wecom"][0], t["ding"][0], t["feishu"][0]):
        assert f"yuqing alert-ack {a.id}" in text
    (rec,) = list_alerts(_db(desk))
    assert rec.open and rec.steps[0].targets == ({"to": "officer", "staff_id": "zhang", "name": "张伟"},)


def _db(path):
    return open_db(path, [migrations])


async def test_an_unacknowledged_alert_climbs_to_the_leader_then_along_the_policy(platforms, desk):
    clock, roster = Clock(), Roster()
    async with make(platforms, desk, clock, roster, **POLICY) as d:
        a = alert(1)
        await d.submit(a)
        clock.advance(minutes=9, seconds=59)
        await d.tick()
        assert len(platforms.wecom) == 1  # not yet
        clock.advance(seconds=1)
        await d.tick()
        t = texts(platforms)
        assert len(t["wecom"]) == 2 and "升级·第1级" in t["wecom"][1]
        assert "带班领导 李娜 <@LiNa>" in t["wecom"][1] and "<@zhangsan>" not in t["wecom"][1]
        assert platforms.dingtalk[1]["at"]["atMobiles"] == ["13900000002"]
        assert "<at id=ou_leader0002></at>" in t["feishu"][1]
        for minute in (5, 5):  # staff:zhao, then again (repeat = 1)
            clock.advance(minutes=minute)
            await d.tick()
        t = texts(platforms)
        assert [("<@zhaoq>" in x) for x in t["wecom"]] == [False, False, True, True]
        assert "李娜" not in t["wecom"][3]
        clock.advance(minutes=5)
        await d.tick()  # the last step: the generic hook only, no person
        assert len(platforms.wecom) == 4 and len(platforms.hook) == 5
        assert platforms.hook[4]["escalation_tier"] == 4 and platforms.hook[4]["mentions"] == []
        clock.advance(hours=5)
        await d.tick()
        assert len(platforms.wecom) == 4 and len(platforms.hook) == 5  # the policy is done
    (rec,) = list_alerts(_db(desk))
    assert rec.open and rec.step == 4
    assert [s.step for s in rec.steps] == [0, 1, 2, 3, 4]
    assert [[t["staff_id"] for t in s.targets] for s in rec.steps] == [["zhang"], ["li"], ["zhao"], ["zhao"], []]
    assert rec.steps[1].at == T0 + timedelta(minutes=10) and rec.steps[4].channels == ("hook",)


async def test_the_leader_on_duty_when_the_step_fires_is_reached(platforms, desk):
    clock, roster = Clock(), Roster()
    async with make(platforms, desk, clock, roster, **POLICY) as d:
        await d.submit(alert(1))
        clock.advance(minutes=10)
        roster.leader = "zhao"  # the shift changed while the alert waited
        await d.tick()
    assert "带班领导 赵强 <@zhaoq>" in texts(platforms)["wecom"][1]


async def test_an_acknowledgement_from_another_process_stops_the_escalation(platforms, desk):
    clock = Clock()
    async with make(platforms, desk, clock, Roster(), **POLICY) as d:
        a, b = alert(1), alert(2)
        await d.submit(a)
        await d.submit(b)
        clock.advance(minutes=4)
        console = _db(desk)  # e.g. `yuqing alert-ack` on its own connection
        try:
            assert ack_alert(console, a.id, "zhang", clock()) == [a.id]
        finally:
            console.conn.close()
        clock.advance(minutes=6)
        await d.tick()
        for _ in range(4):
            clock.advance(minutes=5)
            await d.tick()
    assert all(a.id not in x for x in texts(platforms)["wecom"][2:])
    assert sum(b.id in x for x in texts(platforms)["wecom"]) == 4  # b: first send, leader, zhao twice (then the hook)
    recs = {r.alert.id: r for r in list_alerts(_db(desk))}
    assert recs[a.id].acked_by == "zhang" and recs[a.id].acked_at == T0 + timedelta(minutes=4)
    assert recs[a.id].step == 0 and not recs[a.id].open
    assert [r.alert.id for r in list_alerts(_db(desk), open_only=True)] == [b.id]


async def test_nobody_on_duty_the_alert_goes_to_the_channels_and_the_policy_goes_on(platforms, desk, caplog):
    clock, roster = Clock(), Roster(officer=None, leader=None)
    with caplog.at_level(logging.WARNING, logger="responders.alerts"):
        async with make(platforms, desk, clock, roster, **POLICY) as d:
            await d.submit(alert(1))
            clock.advance(minutes=10)
            await d.tick()
            clock.advance(minutes=5)
            await d.tick()
    t = texts(platforms)["wecom"]
    assert "值班员（当前无人在岗）" in t[0] and "带班领导（当前无人在岗）" in t[1]
    assert "<@zhaoq>" in t[2]  # the next step of the policy still happens
    warned = [r.getMessage() for r in caplog.records]
    assert any("当前无值班员在岗" in m for m in warned) and any("当前无带班领导在岗" in m for m in warned)


async def test_a_new_dispatcher_on_the_same_file_continues_the_escalation_exactly(platforms, desk):
    """The first desk stops after the leader step; the second starts 7 minutes later,
    during which the staff:zhao step fell due: it is sent at once, once, and the rest
    follows from the stored times. Nothing already sent is sent again."""
    clock = Clock()
    async with make(platforms, desk, clock, Roster(), **POLICY) as d1:
        a = alert(1)
        await d1.submit(a)
        clock.advance(minutes=10)
        await d1.tick()
    assert len(platforms.wecom) == 2

    clock.advance(minutes=7)  # down from minute 10 to 17: the zhao step was due at 15
    async with make(platforms, desk, clock, Roster(), **POLICY) as d2:
        assert d2.next_wakeup() == T0 + timedelta(minutes=15)
        await d2.tick()
        await d2.tick()
        assert len(platforms.wecom) == 3 and "<@zhaoq>" in platforms.wecom[2]["markdown"]["content"]
    async with make(platforms, desk, clock, Roster(), **POLICY) as d3:  # a third start at the same instant
        await d3.tick()
        assert d3.next_wakeup() == T0 + timedelta(minutes=22)  # the repeat counts from the minute-17 send
        clock.advance(minutes=5)
        await d3.tick()
    assert len(platforms.wecom) == 4 and len(platforms.dingtalk) == 4 and len(platforms.feishu) == 4
    (rec,) = list_alerts(_db(desk))
    assert [s.step for s in rec.steps] == [0, 1, 2, 3]


async def _life(desk, p, at, action, key="item:kill", *, rules=None, kill_when=None):
    """One dispatcher process: it does ``action`` at ``at``, says ready, and is SIGKILLed
    (once ``kill_when()`` holds, if given)."""
    table = {"channels": channels(p), "rules": rules or rule("wecom", "ding", "feishu"), **POLICY,
             "_ding": DING_SECRET, "_feishu": FEISHU_SECRET, "_hook": HOOK_SECRET}
    for ch in table["channels"].values():
        if "url" in ch:
            ch["url"] = ch["url"].replace(p.base, "BASE")
    if getattr(p, "slow", None):
        table["channels"]["slow"] = {"type": "wecom", "url": p.slow, "rate_limits": []}
    root = Path(__file__).resolve().parents[2]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(Path(__file__).with_name("_alert_child.py")), str(desk), p.base, at.isoformat(), action,
        key, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(root)})
    proc.stdin.write(json.dumps(table).encode())
    proc.stdin.close()
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=120)  # a generous bound
        for _ in range(1200):
            if kill_when is None or kill_when():
                break
            await asyncio.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        await session_gone(desk, proc.pid)
    assert line.startswith(b"ready"), line
    return line.split()[1].decode() if len(line.split()) > 1 else ""


async def test_after_kill_9_nothing_is_sent_twice_and_no_step_is_lost(platforms, desk):
    alert_id = await _life(desk, platforms, T0, "submit")
    assert len(platforms.wecom) == 1
    await _life(desk, platforms, T0, "submit")  # the pipeline hands the same notice over again
    assert len(platforms.wecom) == 1  # dedup key survived the kill
    await _life(desk, platforms, T0 + timedelta(minutes=10), "tick")  # the leader step
    await _life(desk, platforms, T0 + timedelta(minutes=10), "tick")  # killed and started again: not again
    assert len(platforms.wecom) == 2 and len(platforms.dingtalk) == 2 and len(platforms.feishu) == 2
    assert "<@LiNa>" in platforms.wecom[1]["markdown"]["content"]
    await _life(desk, platforms, T0 + timedelta(minutes=14), "tick")  # not due yet
    await _life(desk, platforms, T0 + timedelta(minutes=16), "tick")  # the staff:zhao step
    assert len(platforms.wecom) == 3 and "<@zhaoq>" in platforms.wecom[2]["markdown"]["content"]
    (rec,) = list_alerts(_db(desk))
    assert rec.alert.id == alert_id and [s.step for s in rec.steps] == [0, 1, 2]


async def test_killed_in_the_middle_of_a_send_the_resend_says_it_may_be_a_repeat(platforms, desk):
    """The one window where a message can arrive twice: the desk dies while the platform
    has the request. The next start sends it again, marked, and only once."""
    hold = asyncio.Event()
    seen = []

    async def slow_wecom(request):
        seen.append(await request.json())
        if len(seen) == 1:
            await hold.wait()  # the first request never gets its answer
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    app = web.Application()
    app.router.add_post("/slow", slow_wecom)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    platforms.slow = f"http://{host}:{port}/slow"
    try:
        rules = rule("slow")
        await _life(desk, platforms, T0, "send", rules=rules, kill_when=lambda: len(seen) == 1)
        await _life(desk, platforms, T0 + timedelta(seconds=30), "tick", rules=rules)
        await _life(desk, platforms, T0 + timedelta(seconds=60), "tick", rules=rules)
    finally:
        hold.set()
        await runner.cleanup()
    texts = [d["markdown"]["content"] for d in seen]
    assert len(texts) == 2 and "重发" not in texts[0] and texts[1].startswith("### 【重发·可能重复】")


def test_duty_falls_back_to_desk_toml_ids(desk, tmp_path, caplog):
    cfg = parse_alerts_config({"duty_officer": "zhang", "duty_leader": "li"})
    assert duty_source(desk, cfg)(T0) == ("zhang", "li")
    with caplog.at_level(logging.WARNING, logger="yuqing.alerts"):
        duty_source(desk, parse_alerts_config({"duty_leader": "wang"}))
    assert any("duty_leader" in r.getMessage() and "wang" in r.getMessage() for r in caplog.records)
    empty = tmp_path / "empty.sqlite"
    open_db(empty, [staff.migrations]).conn.close()
    assert duty_source(empty, cfg)(T0) is None  # a desk without staff names nobody
    assert duty_source(desk, parse_alerts_config({}))(T0) == (None, None)
    people = people_source(desk)
    assert people("li").dingtalk == "13900000002" and people("nobody") is None


async def test_the_list_shows_which_sends_are_still_waiting(platforms, desk):
    clock = Clock()
    platforms.flaky_failures = 1
    cfg = parse_alerts_config({"channels": channels(platforms), "rules": rule("flaky", "wecom")}, env=ENV)
    async with AlertDispatcher(cfg, clock=clock, db=desk, duty=Roster(), people=people_source(desk)) as d:
        await d.submit(alert(1))
        (rec,) = list_alerts(_db(desk))
        assert rec.steps[0].channels == ("flaky", "wecom") and rec.steps[0].waiting == ("flaky",)
        clock.advance(minutes=1)
        await d.tick()
    (rec,) = list_alerts(_db(desk))
    assert rec.steps[0].waiting == () and len(platforms.flaky) == 1
