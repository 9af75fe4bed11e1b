"""`yuqing alerts` and `yuqing alert-ack` on a real desk: the dispatcher (console channel
only, no network) tracks a breaking alert of incident #1 for the officer on duty; the CLI
lists it, refuses a viewer, records the officer's acknowledgement with who and when and
on the incident's timeline, and the dispatcher stops escalating it."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from responders.alerts import Alert, AlertDispatcher, parse_alerts_config
from tests.cli_kit import health_candidate
from yuqing.alert_duty import duty_source, people_source
from yuqing.cli import cli

T0 = datetime(2026, 6, 14, 2, 0, tzinfo=timezone.utc)  # 10:00 Beijing time
CONFIG = {"escalate_after": 10, "duty_officer": "zhang", "duty_leader": "li",
          "channels": {"console": {"type": "tui"}}, "rules": [{"name": "突发", "channels": ["console"]}]}


def _run(home, *args, now=T0):
    env = {"YUQING_NOW": now.isoformat()}
    return CliRunner().invoke(cli, ["--home", str(home), *args], catch_exceptions=False, env=env)


def _target(home):
    """The desk's database: its SQLite file, or the server named by YUQING_DATABASE_URL (the
    `backend` fixture's PostgreSQL half)."""
    return os.environ.get("YUQING_DATABASE_URL") or home / "desk.sqlite"


def _dispatcher(home, clock):
    cfg = parse_alerts_config(CONFIG)
    db = _target(home)
    return AlertDispatcher(cfg, clock=clock, db=db, duty=duty_source(db, cfg), people=people_source(db))


@pytest.fixture
def desk(tmp_path, backend):
    home = tmp_path / "home"
    assert _run(home, "init").exit_code == 0
    (home / "desk.toml").write_text((home / "desk.toml").read_text("utf-8").replace(
        "escalate_after = 15", "escalate_after = 10"), "utf-8")
    cand = tmp_path / "cand.json"
    cand.write_text(json.dumps(health_candidate("s-alerts")), encoding="utf-8")
    assert _run(home, "open-incident", str(cand), "--actor", "setup").exit_code == 0
    for args in (("admin", "管理员", "admin"), ("zhang", "张伟", "officer"), ("li", "李娜", "leader"),
                 ("chen", "陈静", "viewer")):
        out = _run(home, "staff", "add", args[0], "--name", args[1], "--role", args[2], "--as", "admin",
                   "--wecom", args[0])
        assert out.exit_code == 0, out.output
    return home


def _alerts(home, *flags, now=T0):
    out = _run(home, "alerts", "--json", *flags, now=now)
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


async def test_alerts_listed_and_acknowledged_by_the_officer_not_a_viewer(desk):
    clock = lambda: T0  # noqa: E731
    async with _dispatcher(desk, clock) as d:
        a = Alert.new(key="incident:1:opened", lane="breaking", title="铺镇卫生院输液后多名患者不适",
                      created_at=T0, severity="较大", incident_id=1)
        await d.submit(a)
        notice = d.inbox.drain()[0]
        assert "值班员 张伟" in notice.text and f"yuqing alert-ack {a.id}" in notice.text

    (row,) = _alerts(desk, "--open")
    assert row["id"] == a.id and row["open"] and row["state"] == "待确认" and row["incident_id"] == 1
    assert row["created_at"] == "2026-06-14T10:00:00+08:00"
    assert row["next_escalation_at"] == "2026-06-14T10:10:00+08:00"  # escalate_after of desk.toml
    assert row["sends"][0]["to"] == [{"to": "officer", "staff_id": "zhang", "name": "张伟"}]
    text = _run(desk, "alerts").output
    assert a.id in text and "值班员张伟" in text and "下次升级 2026-06-14 10:10" in text

    later = T0 + timedelta(minutes=4)
    viewer = _run(desk, "alert-ack", a.id, "--as", "chen", now=later)
    assert viewer.exit_code != 0 and "无权" in viewer.output
    unknown = _run(desk, "alert-ack", "nosuchalert", "--as", "zhang", now=later)
    assert unknown.exit_code != 0 and "不存在" in unknown.output
    assert _alerts(desk, "--open")[0]["acked_by"] is None  # nothing written

    ok = _run(desk, "alert-ack", a.id, "--as", "zhang", now=later)
    assert ok.exit_code == 0, ok.output
    assert "已确认告警" in ok.output and "张伟" in ok.output and "2026-06-14 10:04" in ok.output
    again = _run(desk, "alert-ack", a.id, "--as", "li", now=later)
    assert again.exit_code == 0 and "已由 张伟" in again.output and "未作更改" in again.output

    assert _alerts(desk, "--open") == []
    (row,) = _alerts(desk)
    assert (row["acked_by"], row["acked_by_name"], row["acked_at"]) == ("zhang", "张伟", "2026-06-14T10:04:00+08:00")
    assert row["next_escalation_at"] is None
    timeline = json.loads(_run(desk, "incident", "1", "--json").output)["timeline"]
    acked = [e for e in timeline if e["kind"] == "alert_acked"]
    assert len(acked) == 1 and acked[0]["actor"] == "zhang"
    assert _run(desk, "verify").exit_code == 0  # the hash chain covers the new event

    # the running desk picks the acknowledgement up: no escalation to the leader
    clock = lambda: T0 + timedelta(minutes=30)  # noqa: E731
    async with _dispatcher(desk, clock) as d:
        await d.tick()
        assert d.inbox.drain() == []


async def test_an_unacknowledged_alert_reaches_the_leader_named_in_desk_toml(desk):
    now = [T0]
    async with _dispatcher(desk, lambda: now[0]) as d:
        a = Alert.new(key="k", lane="breaking", title="突发", created_at=T0, severity="较大", incident_id=1)
        await d.submit(a)
        now[0] = T0 + timedelta(minutes=10)
        await d.tick()
        texts = [n.text for n in d.inbox.drain()]
    assert "带班领导 李娜" in texts[-1] and "升级·第1级" in texts[-1]
    (row,) = _alerts(desk, "--open", now=now[0])
    assert row["state"] == "待确认·已升级1级" and row["sends"][1]["to"][0]["staff_id"] == "li"


def test_no_alerts_yet(desk):
    assert _alerts(desk) == []
    assert "没有待确认的告警" in _run(desk, "alerts", "--open").output


async def test_acknowledging_the_incident_answers_its_alerts(desk):
    async with _dispatcher(desk, lambda: T0) as d:
        a = Alert.new(key="k1", lane="breaking", title="突发", created_at=T0, severity="较大", incident_id=1)
        other = Alert.new(key="k2", lane="breaking", title="另一事", created_at=T0, severity="较大", incident_id=7)
        await d.submit(a)
        await d.submit(other)
    later = T0 + timedelta(minutes=3)
    assert _run(desk, "ack", "1", "--as", "zhang", now=later).exit_code == 0  # 确认接报
    rows = {r["id"]: r for r in _alerts(desk)}
    assert (rows[a.id]["acked_by"], rows[a.id]["acked_at"]) == ("zhang", "2026-06-14T10:03:00+08:00")
    assert rows[other.id]["open"]
    async with _dispatcher(desk, lambda: T0 + timedelta(minutes=30)) as d:
        await d.tick()
        assert [n.alert.id for n in d.inbox.drain()] == [other.id]  # only the other one climbs


async def test_the_handover_lists_alerts_nobody_acknowledged(desk):
    async with _dispatcher(desk, lambda: T0) as d:
        a = Alert.new(key="k1", lane="breaking", title="铺镇突发", created_at=T0, severity="较大", incident_id=1)
        await d.submit(a)
    out = _run(desk, "handover", "--json", now=T0 + timedelta(minutes=5))
    assert out.exit_code == 0, out.output
    (row,) = json.loads(out.output)["unacked_alerts"]
    assert (row["id"], row["incident"], row["step"], row["text"]) == (a.id, 1, 0, "铺镇突发")
    assert _run(desk, "alert-ack", a.id, "--as", "zhang").exit_code == 0
    assert json.loads(_run(desk, "handover", "--json").output)["unacked_alerts"] == []


async def test_the_roster_names_who_is_on_duty_before_desk_toml(desk, tmp_path):
    pytest.importorskip("responders.roster")
    csv = tmp_path / "roster.csv"
    csv.write_text("日期,班次,开始,结束,值班员,带班领导\n2026-06-14,白班,08:00,20:00,li,admin\n", encoding="utf-8")
    out = _run(desk, "roster", "import", str(csv), "--as", "admin")
    assert out.exit_code == 0, out.output
    cfg = parse_alerts_config(CONFIG)  # desk.toml names zhang and li as the fallback
    duty = duty_source(_target(desk), cfg)
    assert duty(T0) == ("li", "admin")  # 10:00 Beijing time: the roster's 白班
    assert duty(T0 + timedelta(hours=12)) == ("zhang", "li")  # 22:00: a gap, desk.toml's fallback
