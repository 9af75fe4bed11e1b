"""Alert channels against real receivers on 127.0.0.1.

The receivers check each platform's payload format, size limit and signature the
way the platform does (recomputing the HMAC from the shared secret, rejecting stale
timestamps) and answer with the platform's own error JSON. The dispatcher runs on
an injected clock: no test sleeps.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import os
import stat
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from responders.alerts import Alert, AlertDispatcher, AlertError, parse_alerts_config
from responders.alerts.formats import dingtalk_sign, webhook_signature

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 6, 14, 2, 0, tzinfo=timezone.utc)  # 10:00 in Hanzhong: outside quiet hours

WECOM_KEY = "693a91f6-7a1b-4bc4-97a0-0ec2sifa5aaa"
DING_TOKEN = "d1n9t0ken0123456789abcdef0123456789abcdef"
DING_SECRET = "SEC" + "4f2a9c0e1b7d" * 5 + "abcd"
FEISHU_HOOK = "2f0b9c1e-1234-4cde-9abc-0a1b2c3d4e5f"
FEISHU_SECRET = "fs-Secret-9Yq2LwQ"
HOOK_SECRET = "hook-shared-secret-77"
ALL_SECRETS = (WECOM_KEY, DING_TOKEN, DING_SECRET, FEISHU_HOOK, FEISHU_SECRET, HOOK_SECRET)


class Clock:
    def __init__(self, t: datetime = T0):
        self.t = t

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kw) -> None:
        self.t += timedelta(**kw)


# ---------------------------------------------------------------- receivers


@dataclass
class Platforms:
    """One aiohttp app playing 企业微信, 钉钉, 飞书, a generic hook and a flaky endpoint."""

    base: str = ""
    wecom: list = field(default_factory=list)
    dingtalk: list = field(default_factory=list)
    feishu: list = field(default_factory=list)
    hook: list = field(default_factory=list)
    flaky: list = field(default_factory=list)
    rejected: list = field(default_factory=list)
    flaky_failures: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/cgi-bin/webhook/send", self.h_wecom)
        app.router.add_post("/robot/send", self.h_dingtalk)
        app.router.add_post("/open-apis/bot/v2/hook/{hook}", self.h_feishu)
        app.router.add_post("/hook", self.h_hook)
        app.router.add_post("/flaky", self.h_flaky)
        return app

    def reject(self, platform, doc):
        self.rejected.append((platform, doc))
        return web.json_response(doc)

    async def h_wecom(self, request: web.Request):
        if request.query.get("key") != WECOM_KEY:
            return self.reject("wecom", {"errcode": 93000, "errmsg": "invalid webhook url, hint: [1700000000_1]"})
        doc = await request.json()
        if doc.get("msgtype") != "markdown" or not isinstance(doc.get("markdown", {}).get("content"), str):
            return self.reject("wecom", {"errcode": 40008, "errmsg": "invalid message type"})
        if len(doc["markdown"]["content"].encode("utf-8")) > 4096:
            return self.reject("wecom", {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"})
        self.wecom.append(doc)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def h_dingtalk(self, request: web.Request):
        q = request.query
        if q.get("access_token") != DING_TOKEN:
            return self.reject("dingtalk", {"errcode": 300001, "errmsg": "token is not exist"})
        try:
            ts = int(q["timestamp"])
        except (KeyError, ValueError):
            return self.reject("dingtalk", {"errcode": 310000, "errmsg": "sign not match, more: timestamp missing"})
        now_ms = int(datetime.now(timezone.utc).timestamp() * 1000)
        if abs(now_ms - ts) > 3600 * 1000:
            return self.reject("dingtalk", {"errcode": 310000, "errmsg": "sign not match, more: timestamp expired"})
        expected = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{ts}\n{DING_SECRET}".encode(),
                                             hashlib.sha256).digest()).decode()
        # request.query is already URL-decoded, as on the platform
        if q.get("sign") != expected:
            return self.reject("dingtalk", {"errcode": 310000, "errmsg": "sign not match"})
        doc = await request.json()
        md = doc.get("markdown", {})
        if doc.get("msgtype") != "markdown" or not md.get("title") or not md.get("text"):
            return self.reject("dingtalk", {"errcode": 40035, "errmsg": "缺少参数 markdown"})
        self.dingtalk.append(doc)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def h_feishu(self, request: web.Request):
        if request.match_info["hook"] != FEISHU_HOOK:
            return self.reject("feishu", {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"})
        doc = await request.json()
        try:
            ts = int(doc["timestamp"])
        except (KeyError, ValueError, TypeError):
            return self.reject("feishu", {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"})
        if abs(int(datetime.now(timezone.utc).timestamp()) - ts) > 3600:
            return self.reject("feishu", {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"})
        expected = base64.b64encode(hmac.new(f"{ts}\n{FEISHU_SECRET}".encode(), b"", hashlib.sha256).digest()).decode()
        if doc.get("sign") != expected:
            return self.reject("feishu", {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"})
        if doc.get("msg_type") != "interactive" or "card" not in doc:
            return self.reject("feishu", {"code": 9499, "msg": "Bad Request"})
        self.feishu.append(doc)
        return web.json_response({"code": 0, "msg": "success", "data": {}})

    async def h_hook(self, request: web.Request):
        body = await request.read()
        ts = int(request.headers.get("X-Yuqing-Timestamp", "0"))
        if request.headers.get("X-Yuqing-Signature") != webhook_signature(body, HOOK_SECRET, ts):
            return web.json_response({"error": "bad signature"}, status=401)
        self.hook.append(json.loads(body))
        return web.json_response({"ok": True})

    async def h_flaky(self, request: web.Request):
        doc = await request.json()
        if self.flaky_failures > 0:
            self.flaky_failures -= 1
            return web.Response(status=500, text="upstream busy")
        self.flaky.append(doc)
        return web.json_response({"errcode": 0, "errmsg": "ok"})


@pytest.fixture
async def platforms():
    p = Platforms()
    runner = web.AppRunner(p.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    p.base = f"http://{host}:{port}"
    yield p
    await runner.cleanup()


def channels(p: Platforms) -> dict:
    return {
        "wecom": {"type": "wecom", "url": f"{p.base}/cgi-bin/webhook/send?key={WECOM_KEY}"},
        "ding": {"type": "dingtalk", "url": f"{p.base}/robot/send?access_token={DING_TOKEN}", "secret_env": "T_DING"},
        "feishu": {"type": "feishu", "url": f"{p.base}/open-apis/bot/v2/hook/{FEISHU_HOOK}", "secret_env": "T_FEISHU"},
        "hook": {"type": "webhook", "url": f"{p.base}/hook", "secret_env": "T_HOOK"},
        "flaky": {"type": "wecom", "url": f"{p.base}/flaky", "rate_limits": []},
        "console": {"type": "tui"},
    }


ENV = {"T_DING": DING_SECRET, "T_FEISHU": FEISHU_SECRET, "T_HOOK": HOOK_SECRET}


def make(p: Platforms, rules, *, clock=None, calls=None, env=ENV, **top):
    table = {"channels": channels(p), "rules": rules, **top}
    cfg = parse_alerts_config(table, env=env)
    clock = clock or Clock()

    def on_delivery(alert, channel, ok, error):
        if calls is not None:
            calls.append((alert.id, channel, ok, error))

    return AlertDispatcher(cfg, clock=clock, on_delivery=on_delivery), clock


def alert(n=1, *, lane="breaking", severity="较大", body="汉台区某路段发生交通事故，现场有人员受伤。", at=T0, **kw):
    return Alert.new(key=f"item:{n}", lane=lane, title=f"舆情{n}：汉台区突发事件", body_markdown=body,
                     created_at=at, severity=severity, incident_id=kw.pop("incident_id", n), **kw)


def rule(*chs, **kw):
    return [{"name": "r", "channels": list(chs), **kw}]


# ---------------------------------------------------------------- formats and signatures


async def test_wecom_markdown_and_4096_byte_limit(platforms):
    calls = []
    d, _ = make(platforms, rule("wecom"), calls=calls)
    async with d:
        huge = "汉台区" * 3000 + "🚒" * 10  # ~27 KB of UTF-8
        await d.submit(alert(1, body=huge))
        await d.submit(alert(2, body="联系人 13812345678，身份证 610702199001011234"))
    assert [c[2] for c in calls] == [True, True]
    first = platforms.wecom[0]["markdown"]["content"]
    raw = first.encode("utf-8")
    assert len(raw) <= 4096
    raw.decode("utf-8")  # a valid string: cut on a character boundary
    assert "已截断" in first and "告警编号" in first  # marker and footer kept
    assert "【较大·突发】舆情1" in first
    second = platforms.wecom[1]["markdown"]["content"]
    assert "13812345678" not in second and "138＊＊＊＊5678" in second  # masked; stars inert in Markdown
    assert "610702199001011234" not in second


async def test_dingtalk_signed_url_is_accepted_and_checked(platforms):
    calls = []
    d, _ = make(platforms, rule("ding"), calls=calls)
    async with d:
        await d.submit(alert(1))
    assert calls[0][2] is True, calls
    doc = platforms.dingtalk[0]
    assert doc["msgtype"] == "markdown" and "舆情1" in doc["markdown"]["title"]
    assert "交通事故" in doc["markdown"]["text"]

    # a signature with '+' and '/' survives URL encoding through aiohttp
    base = datetime.now(timezone.utc).replace(microsecond=0)
    ms = next(i for i in range(10000)
              if {"+", "/"} <= set(dingtalk_sign(DING_SECRET, int(base.timestamp() * 1000) + i)))
    fixed = base + timedelta(milliseconds=ms)
    cfg = parse_alerts_config({"channels": channels(platforms), "rules": rule("ding")}, env=ENV)
    d3 = AlertDispatcher(cfg, clock=Clock(), wall=lambda: fixed)
    async with d3:
        result = await d3.submit(alert(3))
    assert [x.ok for x in result.deliveries] == [True]

    # wrong secret: the platform's 310000 comes back, not retried, secrets not in the message
    calls.clear()
    d2, _ = make(platforms, rule("ding"), calls=calls, env={**ENV, "T_DING": "SEC" + "0" * 64})
    async with d2:
        await d2.submit(alert(2))
    assert platforms.rejected[-1] == ("dingtalk", {"errcode": 310000, "errmsg": "sign not match"})
    (_, _, ok, error), = calls
    assert not ok and "310000" in error and "放弃" in error
    assert DING_TOKEN not in error and "SEC000" not in error


async def test_stale_signatures_are_rejected(platforms):
    calls = []
    table = {"channels": channels(platforms), "rules": rule("ding", "feishu")}
    cfg = parse_alerts_config(table, env=ENV)
    two_hours_ago = lambda: datetime.now(timezone.utc) - timedelta(hours=2)  # noqa: E731
    d = AlertDispatcher(cfg, clock=Clock(), wall=two_hours_ago,
                        on_delivery=lambda a, ch, ok, err: calls.append((ch, ok, err)))
    async with d:
        await d.submit(alert(1))
    assert {c[0] for c in calls} == {"ding", "feishu"}
    assert not any(ok for _, ok, _ in calls)
    assert {p for p, _ in platforms.rejected} == {"dingtalk", "feishu"}
    assert any("19021" in err for _, _, err in calls) and any("310000" in err for _, _, err in calls)


async def test_feishu_signed_interactive_card(platforms):
    calls = []
    d, _ = make(platforms, rule("feishu"), calls=calls, incident_url="https://desk.example.gov.cn/incidents/{id}")
    async with d:
        await d.submit(alert(1, severity="重大", url="https://www.hantai.gov.cn/a/1.html"))
    assert calls[0][2] is True, calls
    doc = platforms.feishu[0]
    assert doc["msg_type"] == "interactive"
    assert doc["card"]["header"]["template"] == "red"
    assert "舆情1" in doc["card"]["header"]["title"]["content"]
    content = doc["card"]["elements"][0]["text"]["content"]
    assert "交通事故" in content and "[在值班台查看事件 #1](https://desk.example.gov.cn/incidents/1)" in content
    assert "hantai.gov.cn" not in content  # the desk links to its incident, never to the feed


async def test_generic_webhook_signed_json(platforms):
    calls = []
    d, _ = make(platforms, rule("hook"), calls=calls)
    async with d:
        await d.submit(alert(7, item_ids=(101, 102)))
    assert calls[0][2] is True, calls
    doc = platforms.hook[0]
    assert doc["key"] == "item:7" and doc["item_ids"] == [101, 102] and doc["severity"] == "较大"
    assert doc["created_at"] == T0.isoformat()


async def test_invalid_wecom_key_is_a_permanent_failure(platforms):
    calls = []
    table = {"channels": {"w": {"type": "wecom", "url": f"{platforms.base}/cgi-bin/webhook/send?key=wrong-key-123456"}},
             "rules": rule("w")}
    d = AlertDispatcher(parse_alerts_config(table), clock=Clock(),
                        on_delivery=lambda a, ch, ok, err: calls.append((ok, err)))
    async with d:
        await d.submit(alert(1))
        await d.tick()
    assert len(calls) == 1 and not calls[0][0]
    assert "93000" in calls[0][1] and "wrong-key-123456" not in calls[0][1]
    assert d.pending()["w"] == 0


# ---------------------------------------------------------------- retry


async def test_retry_with_capped_backoff_then_success(platforms):
    platforms.flaky_failures = 2
    calls = []
    d, clock = make(platforms, rule("flaky"), calls=calls, retry={"base_seconds": 5, "max_seconds": 8})
    async with d:
        await d.submit(alert(1))
        assert [c[2] for c in calls] == [False]
        assert "HTTP 500" in calls[0][3] and "5 秒后重试" in calls[0][3]
        clock.advance(seconds=4.9)
        assert await d.tick() == []
        clock.advance(seconds=0.1)
        made = await d.tick()
        assert [(x.ok, x.attempt, x.final) for x in made] == [(False, 2, False)]
        assert "8 秒后重试" in calls[-1][3]  # 10 s capped at 8
        clock.advance(seconds=7)
        assert await d.tick() == []
        clock.advance(seconds=1)
        made = await d.tick()
        assert [(x.ok, x.attempt) for x in made] == [(True, 3)]
    assert [c[2] for c in calls] == [False, False, True]
    assert len(platforms.flaky) == 1


async def test_retry_gives_up_after_max_attempts_and_reports(platforms):
    """A non-breaking alert gives up (breaking ones of open incidents never do:
    test_alert_outage.py)."""
    platforms.flaky_failures = 100
    calls = []
    d, clock = make(platforms, rule("flaky"), calls=calls, retry={"max_attempts": 3, "base_seconds": 1},
                    digest_every_minutes=0)
    async with d:
        await d.submit(alert(1, lane="digest"))
        for _ in range(5):
            clock.advance(seconds=10)
            await d.tick()
    assert [c[2] for c in calls] == [False, False, False]
    assert "已达最大重试次数" in calls[-1][3]
    assert d.deliveries[-1].final and d.pending()["flaky"] == 0


async def test_connection_refused_is_retried_and_redacted(platforms):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    table = {"channels": {"d": {"type": "dingtalk", "url": f"http://127.0.0.1:{port}/robot/send?access_token={DING_TOKEN}",
                                "secret": DING_SECRET}}, "rules": rule("d")}
    calls = []
    d = AlertDispatcher(parse_alerts_config(table), clock=Clock(),
                        on_delivery=lambda a, ch, ok, err: calls.append(err))
    async with d:
        await d.submit(alert(1))
    assert "连接失败" in calls[0] and "重试" in calls[0]
    assert DING_TOKEN not in calls[0] and DING_SECRET not in calls[0]


# ---------------------------------------------------------------- rate limits and folding


async def test_wecom_20_per_minute_then_folds(platforms):
    calls = []
    d, clock = make(platforms, rule("wecom"), calls=calls)
    async with d:
        for i in range(25):
            clock.advance(seconds=1)
            await d.submit(alert(i, at=clock()))
        assert len(platforms.wecom) == 20
        assert d.pending()["wecom"] == 5
        clock.advance(seconds=30)  # t = 55 s: the first token comes back at 61 s
        await d.tick()
        assert len(platforms.wecom) == 20
        assert d.next_wakeup() == T0 + timedelta(seconds=61)
        clock.t = T0 + timedelta(seconds=61)
        await d.tick()
    assert len(platforms.wecom) == 21
    digest = platforms.wecom[-1]["markdown"]["content"]
    assert "另有 4 条" in digest
    assert len(calls) == 25 and all(ok for _, _, ok, _ in calls)
    assert d.pending()["wecom"] == 0


async def test_dingtalk_20_per_minute(platforms):
    d, clock = make(platforms, rule("ding"))
    async with d:
        for i in range(30):
            await d.submit(alert(i))
        assert len(platforms.dingtalk) == 20
        clock.advance(seconds=60)
        await d.tick()
    assert len(platforms.dingtalk) == 21
    assert "另有 9 条" in platforms.dingtalk[-1]["markdown"]["text"]


async def test_feishu_5_per_second_and_100_per_minute(platforms):
    calls = []
    d, clock = make(platforms, rule("feishu"), calls=calls)
    async with d:
        for i in range(12):
            await d.submit(alert(i))
        assert len(platforms.feishu) == 5
        clock.advance(seconds=1)
        await d.tick()
        assert len(platforms.feishu) == 6
        assert "另有 6 条" in platforms.feishu[-1]["card"]["elements"][0]["text"]["content"]
        # keep 5 per second coming: the minute's 100 run out at t = 19 s
        n = 100
        for s in range(2, 30):
            clock.t = T0 + timedelta(seconds=s)
            for _ in range(5):
                n += 1
                await d.submit(alert(n, at=clock()))
        assert len(platforms.feishu) == 100
        clock.t = T0 + timedelta(seconds=60)
        await d.tick()
    assert len(platforms.feishu) == 101  # everything left folded into one
    assert len(calls) == 12 + 28 * 5 and all(ok for _, _, ok, _ in calls)


# ---------------------------------------------------------------- quiet hours, digests, dedup


async def test_quiet_hours_hold_digests_and_let_breaking_through(platforms):
    night = datetime(2026, 6, 14, 23, 30, tzinfo=SH)
    d, clock = make(platforms, rule("wecom", "console"), clock=Clock(night.astimezone(timezone.utc)),
                    quiet_hours={"range": "22:00-07:00"}, digest_every_minutes=0)
    async with d:
        await d.submit(alert(1, lane="digest", at=clock()))
        await d.submit(alert(2, lane="digest", at=clock()))
        await d.submit(alert(3, lane="breaking", at=clock()))
        assert len(platforms.wecom) == 1 and "舆情3" in platforms.wecom[0]["markdown"]["content"]
        assert len(d.inbox) == 3  # the console ignores quiet hours
        notices = d.inbox.drain()
        assert [n.bell for n in notices] == [False, False, True]
        assert d.next_wakeup() == datetime(2026, 6, 15, 7, 0, tzinfo=SH)
        clock.t = datetime(2026, 6, 15, 6, 59, tzinfo=SH).astimezone(timezone.utc)
        await d.tick()
        assert len(platforms.wecom) == 1
        clock.t = datetime(2026, 6, 15, 7, 0, tzinfo=SH).astimezone(timezone.utc)
        await d.tick()
    assert len(platforms.wecom) == 2
    morning = platforms.wecom[1]["markdown"]["content"]
    assert "静默时段告警汇总" in morning and "另有 1 条" in morning


async def test_quiet_hours_can_hold_breaking_too(platforms):
    night = datetime(2026, 6, 14, 23, 30, tzinfo=SH).astimezone(timezone.utc)
    d, clock = make(platforms, rule("wecom"), clock=Clock(night),
                    quiet_hours={"range": "22:00-07:00", "breaking_pierces": False})
    async with d:
        await d.submit(alert(1))
        assert platforms.wecom == []
        clock.t = datetime(2026, 6, 15, 7, 0, tzinfo=SH).astimezone(timezone.utc)
        await d.tick()
    assert len(platforms.wecom) == 1


async def test_digest_lane_collects_until_due(platforms):
    d, clock = make(platforms, rule("wecom"), digest_every_minutes=30)
    async with d:
        await d.submit(alert(1, lane="digest", severity="一般"))
        clock.advance(minutes=10)
        await d.submit(alert(2, lane="digest", severity="一般"))
        await d.submit(alert(3, lane="breaking"))
        assert len(platforms.wecom) == 1
        clock.advance(minutes=19)
        await d.tick()
        assert len(platforms.wecom) == 1
        clock.advance(minutes=1)
        await d.tick()
    assert len(platforms.wecom) == 2
    assert "另有 1 条" in platforms.wecom[1]["markdown"]["content"]


async def test_dedup_by_key_within_window(platforms):
    d, clock = make(platforms, rule("wecom"), dedup_window_minutes=30)
    async with d:
        r1 = await d.submit(alert(1))
        r2 = await d.submit(alert(1))
        clock.advance(minutes=29)
        r3 = await d.submit(alert(1))
        clock.advance(minutes=2)
        r4 = await d.submit(alert(1))
    assert [r.duplicate for r in (r1, r2, r3, r4)] == [False, True, True, False]
    assert r1.channels == ("wecom",)
    assert len(platforms.wecom) == 2


# ---------------------------------------------------------------- acknowledgement and escalation


ESCALATION = {"lanes": ["breaking"], "min_severity": "较大",
              "tiers": [{"after_minutes": 15, "channels": ["ding"]}, {"after_minutes": 10, "channels": ["feishu"]}]}


async def test_escalation_after_n_minutes_unacknowledged(platforms):
    calls = []
    d, clock = make(platforms, rule("wecom"), calls=calls, escalation=ESCALATION)
    async with d:
        a = alert(1)
        await d.submit(a)
        await d.submit(alert(2, severity="一般"))  # below min_severity: never escalates
        clock.advance(minutes=14, seconds=59)
        await d.tick()
        assert platforms.dingtalk == []
        assert d.next_wakeup() == T0 + timedelta(minutes=15)
        clock.advance(seconds=1)
        await d.tick()
        assert len(platforms.dingtalk) == 1
        assert "升级·第1级·未确认" in platforms.dingtalk[0]["markdown"]["text"]
        assert "舆情1" in platforms.dingtalk[0]["markdown"]["text"]
        clock.advance(minutes=10)
        await d.tick()
        assert len(platforms.feishu) == 1
        assert "升级·第2级" in platforms.feishu[0]["card"]["header"]["title"]["content"]
        clock.advance(hours=5)
        await d.tick()
    assert len(platforms.dingtalk) == 1 and len(platforms.feishu) == 1  # no tier 3
    assert [(c[0], c[1]) for c in calls if c[1] != "wecom"] == [(a.id, "ding"), (a.id, "feishu")]


async def test_ack_stops_escalation(platforms):
    d, clock = make(platforms, rule("wecom"), escalation=ESCALATION)
    async with d:
        a, b = alert(1), alert(2, incident_id=42)
        await d.submit(a)
        await d.submit(b)
        clock.advance(minutes=10)
        assert d.ack(a.id, "值班员张三") is True
        assert d.ack(a.id, "值班员李四") is False
        assert d.acknowledged(a.id)[0] == "值班员张三"
        clock.advance(minutes=5)
        await d.tick()
        assert len(platforms.dingtalk) == 1 and "舆情2" in platforms.dingtalk[0]["markdown"]["text"]
        assert d.ack_incident(42, "值班员张三") == [b.id]
        clock.advance(minutes=30)
        await d.tick()
        with pytest.raises(AlertError, match="不存在"):
            d.ack("no-such-alert", "x")
    assert len(platforms.dingtalk) == 1 and platforms.feishu == []


async def test_ack_cancels_an_escalation_being_retried(platforms):
    platforms.flaky_failures = 100
    esc = {"tiers": [{"after_minutes": 5, "channels": ["flaky"]}]}
    calls = []
    d, clock = make(platforms, rule("console"), calls=calls, escalation=esc)
    async with d:
        a = alert(1)
        await d.submit(a)
        clock.advance(minutes=5)
        await d.tick()
        assert d.pending()["flaky"] == 1 and calls[-1][1:3] == ("flaky", False)
        d.ack(a.id, "值班员")
        assert d.pending()["flaky"] == 0
        clock.advance(minutes=5)
        assert await d.tick() == []
        assert d.next_wakeup() is None


async def test_ack_of_a_folded_digest_acks_all(platforms):
    d, clock = make(platforms, rule("wecom"), escalation=ESCALATION)
    async with d:
        alerts = [alert(i) for i in range(23)]
        for a in alerts:
            await d.submit(a)
        clock.advance(minutes=1)
        (made,) = await d.tick()
        assert made.alert_id.startswith("fold-") and len(made.folded) == 3
        assert d.ack(made.alert_id, "值班员") is True
        assert {a.id for a in d.unacknowledged()} == {a.id for a in alerts[:20]}
        clock.advance(minutes=15)
        await d.tick()
    texts = " ".join(doc["markdown"]["text"] for doc in platforms.dingtalk)
    assert len(platforms.dingtalk) == 1  # 20 escalations due at once fold into one message
    assert "另有 19 条" in texts and "舆情19：" in texts and not any(f"舆情{i}：" in texts for i in (20, 21, 22))


# ---------------------------------------------------------------- secrets


async def test_secrets_absent_from_errors_and_logs(platforms, caplog):
    platforms.flaky_failures = 100
    calls = []
    bad_env = {**ENV, "T_DING": "SEC" + "e" * 64, "T_FEISHU": "wrong-feishu-secret"}
    chans = channels(platforms)
    chans["flaky"]["url"] = f"{platforms.base}/flaky?key={WECOM_KEY}"
    table = {"channels": chans, "rules": rule("ding", "feishu", "flaky"), "retry": {"max_attempts": 2}}
    cfg = parse_alerts_config(table, env=bad_env)
    d = AlertDispatcher(cfg, clock=Clock(), on_delivery=lambda a, ch, ok, err: calls.append(err))
    with caplog.at_level(logging.DEBUG):
        async with d:
            await d.submit(alert(1))
            d.clock.advance(minutes=5)
            await d.tick()
    assert len(calls) == 4 and all(calls)
    texts = calls + [d.error for d in d.deliveries] + [caplog.text] + [r.getMessage() for r in caplog.records]
    secrets = ALL_SECRETS + (bad_env["T_DING"], bad_env["T_FEISHU"])
    for text in texts:
        for secret in secrets:
            assert secret not in text, (secret, text)
    assert "wrong-feishu-secret" not in repr(cfg)


# ---------------------------------------------------------------- e-mail, desktop, console


class SMTPReceiver:
    """A minimal SMTP server (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT)."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.server = None
        self.port = 0

    async def start(self):
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self):
        self.server.close()
        await self.server.wait_closed()

    async def handle(self, reader, writer):
        def say(line):
            writer.write(line.encode() + b"\r\n")

        say("220 test ESMTP")
        sender, rcpts = "", []
        while True:
            line = await reader.readline()
            if not line:
                break
            cmd = line.decode("utf-8", "replace").strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                say("250-test")
                say("250-8BITMIME")
                say("250 SMTPUTF8")
            elif verb == "HELO":
                say("250 test")
            elif verb == "MAIL":
                sender, rcpts = cmd.split(":", 1)[1].split()[0].strip("<>"), []
                say("250 OK")
            elif verb == "RCPT":
                rcpts.append(cmd.split(":", 1)[1].strip().strip("<>"))
                say("250 OK")
            elif verb == "DATA":
                say("354 End data with <CR><LF>.<CR><LF>")
                await writer.drain()
                data = bytearray()
                while True:
                    chunk = await reader.readline()
                    if chunk in (b".\r\n", b".\n", b""):
                        break
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                self.messages.append((sender, rcpts, bytes(data)))
                say("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                say("250 OK")
            elif verb == "QUIT":
                say("221 Bye")
                await writer.drain()
                break
            else:
                say("502 not implemented")
            await writer.drain()
        writer.close()


async def test_email_through_local_smtp_server():
    smtp = SMTPReceiver()
    await smtp.start()
    try:
        table = {"channels": {"mail": {"type": "email", "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                       "smtp_security": "none", "from": "yuqing@hantai.example",
                                       "to": ["duty@hantai.example", "chief@hantai.example"]}},
                 "rules": rule("mail")}
        calls = []
        d = AlertDispatcher(parse_alerts_config(table), clock=Clock(),
                            on_delivery=lambda a, ch, ok, err: calls.append((ok, err)))
        async with d:
            await d.submit(alert(1, body="群众反映：联系电话 13912345678"))
    finally:
        await smtp.stop()
    assert calls == [(True, None)]
    (sender, rcpts, data), = smtp.messages
    assert sender == "yuqing@hantai.example" and rcpts == ["duty@hantai.example", "chief@hantai.example"]
    msg = message_from_bytes(data, policy=policy.default)
    assert "舆情1" in msg["Subject"] and "较大" in msg["Subject"]
    body = msg.get_content()
    assert "139****5678" in body and "13912345678" not in body


async def test_email_to_dead_server_is_retried():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    table = {"channels": {"mail": {"type": "email", "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
                                   "from": "a@b.example", "to": ["c@d.example"], "timeout": 2}}, "rules": rule("mail")}
    d = AlertDispatcher(parse_alerts_config(table), clock=Clock())
    async with d:
        await d.submit(alert(1))
    assert not d.deliveries[0].ok and not d.deliveries[0].final and "SMTP" in d.deliveries[0].error


async def test_desktop_notification_via_notify_send(tmp_path, monkeypatch):
    out = tmp_path / "notified.txt"
    script = tmp_path / "notify-send"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{out}"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    table = {"channels": {"desk": {"type": "desktop"}}, "rules": rule("desk")}
    calls = []
    d = AlertDispatcher(parse_alerts_config(table), clock=Clock(),
                        on_delivery=lambda a, ch, ok, err: calls.append((ok, err)))
    async with d:
        await d.submit(alert(1))
    assert calls == [(True, None)]
    args = out.read_text("utf-8").splitlines()
    assert args[:4] == ["-u", "critical", "-a", "舆情值班台"] and "舆情1" in args[5]


async def test_desktop_skipped_cleanly_without_notify_send(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("PATH", str(tmp_path))
    table = {"channels": {"desk": {"type": "desktop"}, "console": {"type": "tui"}}, "rules": rule("desk", "console")}
    calls = []
    with caplog.at_level(logging.WARNING, logger="responders.alerts"):
        d = AlertDispatcher(parse_alerts_config(table), clock=Clock(),
                            on_delivery=lambda a, ch, ok, err: calls.append((ch, ok)))
    async with d:
        result = await d.submit(alert(1))
    assert "notify-send" in d.unavailable["desk"]
    assert "桌面通知" in caplog.text
    assert result.channels == ("console",) and result.skipped[0][0] == "desk"
    assert calls == [("console", True)]


async def test_tui_inbox_get_waits_for_a_notice():
    table = {"channels": {"console": {"type": "tui"}}, "rules": rule("console")}
    d = AlertDispatcher(parse_alerts_config(table), clock=Clock())
    waiter = asyncio.create_task(d.inbox.get())
    await asyncio.sleep(0)
    await d.submit(alert(1, body="联系人 13812345678"))
    notice = await asyncio.wait_for(waiter, 1)
    assert notice.bell and "舆情1" in notice.text and "138****5678" in notice.text
    await d.aclose()


async def test_on_delivery_errors_do_not_stop_sending(platforms, caplog):
    def boom(alert, channel, ok, error):
        raise RuntimeError("timeline is down")

    cfg = parse_alerts_config({"channels": channels(platforms), "rules": rule("wecom", "console")}, env=ENV)
    d = AlertDispatcher(cfg, clock=Clock(), on_delivery=boom)
    async with d:
        await d.submit(alert(1))
    assert len(platforms.wecom) == 1 and len(d.inbox) == 1
    assert "timeline is down" in caplog.text
