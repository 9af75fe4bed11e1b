"""Issue 13's "Done when", through the CLI on a real desk: a new desk set up with three staff (the
first an admin) and a month's roster over National Day 2026 with its 调休 days; an incident opened
from a candidate, its breaking alert to the officer on duty climbing to the leader on duty when
nobody acknowledges it (the desk's alert dispatcher on an injected clock, real robot receivers on
127.0.0.1), then worked by named staff from detection to review (acknowledged, graded, assigned, a
leader's instruction and its feedback, releases, follow-up, archive, 复盘); every timeline event's
actor a staff id, the hash chain verified; the handover listing what it should and its acceptance
by the incoming officer. Time is pinned per command with ``YUQING_NOW``."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from click.testing import CliRunner

from responders.alerts import Alert, AlertDispatcher, parse_alerts_config
from tests.cli_kit import health_candidate
from tests.functional.test_alert_channels import (  # noqa: F401  (platforms is a fixture)
    ENV, Clock, channels, platforms, rule,
)
from yuqing.alert_duty import duty_source, people_source
from yuqing.cli import cli

ADMIN, OFFICER, LEADER = "lina", "zhangwei", "wangjianguo"
TEAM = [(ADMIN, "李娜", "officer"),  # asked as an officer: the desk's first member is made admin
        (OFFICER, "张伟", "officer"), (LEADER, "王建国", "leader")]
NAMES = {sid: name for sid, name, _ in TEAM}
PATTERN = f"""
anchor = 2026-09-20
[workday]
shifts = [{{ name = "日班", start = "08:30", end = "17:30" }}, {{ name = "夜班", start = "17:30", end = "08:30" }}]
officers = ["{OFFICER}", "{ADMIN}"]
leaders = ["{LEADER}"]
[restday]
shifts = [{{ name = "全天", start = "08:30", end = "08:30" }}]
[holiday]
shifts = [{{ name = "白班", start = "08:30", end = "20:30" }}, {{ name = "夜班", start = "20:30", end = "08:30" }}]
"""


def _run(home, *args, now: str):
    out = CliRunner().invoke(cli, ["--home", str(home), *args], catch_exceptions=False, env={"YUQING_NOW": now})
    return out


def _ok(home, *args, now: str) -> str:
    out = _run(home, *args, now=now)
    assert out.exit_code == 0, (args, out.output)
    return out.output


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """A new desk: `yuqing init`, three staff, the roster of 2026-09-20..2026-10-20."""
    tmp = tmp_path_factory.mktemp("team")
    home = tmp / "home"
    setup = "2026-09-19T10:00:00+08:00"
    _ok(home, "init", now=setup)
    first = _ok(home, "staff", "add", TEAM[0][0], "--name", TEAM[0][1], "--role", TEAM[0][2], "--wecom", TEAM[0][0],
                now=setup)
    assert "管理员" in first
    for sid, name, role in TEAM[1:]:
        _ok(home, "staff", "add", sid, "--name", name, "--role", role, "--as", ADMIN, "--wecom", sid, now=setup)
    pattern = tmp / "roster.toml"
    pattern.write_text(PATTERN, encoding="utf-8")
    refused = _run(home, "roster", "generate", "--from", "2026-09-20", "--to", "2026-10-20", "--pattern",
                   str(pattern), "--as", OFFICER, now=setup)
    assert refused.exit_code != 0 and "无权" in refused.output
    generated = _ok(home, "roster", "generate", "--from", "2026-09-20", "--to", "2026-10-20", "--pattern",
                    str(pattern), "--as", ADMIN, now=setup)
    return home, generated


def test_three_staff_the_first_an_admin(desk):
    home, _ = desk
    staff = json.loads(_ok(home, "staff", "list", "--json", now="2026-09-19T11:00:00+08:00"))
    assert {m["id"]: m["role"] for m in staff} == {ADMIN: "admin", OFFICER: "officer", LEADER: "leader"}


def test_a_months_roster_across_national_day_and_its_make_up_days(desk):
    home, generated = desk
    # 2026: Sunday 09-20 and Saturday 10-10 are 调休 working days; 中秋 09-25..27 and 国庆 10-01..07 off
    assert "调休上班日：2026-09-20、2026-10-10" in generated, generated
    assert "法定节假日 10 天" in generated, generated

    def now(at):
        return json.loads(_ok(home, "roster", "now", "--json", now=at))

    sunday = now("2026-09-20T10:00:00+08:00")  # a make-up working Sunday: the working-day shifts
    assert sunday == {"shift": "日班", "starts_at": "2026-09-20T08:30:00+08:00",
                      "ends_at": "2026-09-20T17:30:00+08:00", "officer": OFFICER, "leader": LEADER}
    assert now("2026-09-20T20:00:00+08:00")["officer"] == ADMIN  # the night shift takes the next officer
    holiday = now("2026-10-03T10:00:00+08:00")
    assert (holiday["shift"], holiday["ends_at"]) == ("白班", "2026-10-03T20:30:00+08:00")
    assert now("2026-10-10T10:00:00+08:00")["shift"] == "日班"  # the make-up Saturday
    assert now("2026-10-17T10:00:00+08:00")["shift"] == "全天"  # an ordinary Saturday
    doctor = _run(home, "doctor", now="2026-10-01T09:00:00+08:00").output
    assert "今后 72 小时均有人值班" in doctor, doctor
    # the month's end is warned about ahead of time
    late = _run(home, "doctor", now="2026-10-19T09:00:00+08:00").output
    assert "今后 72 小时内有 1 段无人值班：2026-10-21 08:30" in late, late


async def test_the_incident_is_worked_by_named_staff_from_detection(desk, tmp_path, platforms):
    home, _ = desk
    cand = health_candidate("s-national-day")
    cand.update(first_published="2026-10-02T07:00:00+08:00", detected_at="2026-10-02T07:20:00+08:00")
    path = tmp_path / "cand.json"
    path.write_text(json.dumps(cand, ensure_ascii=False), encoding="utf-8")
    refused = _run(home, "open-incident", str(path), "--as", "nobody", now="2026-10-02T07:20:00+08:00")
    assert refused.exit_code != 0 and "未登记的人员" in refused.output
    assert json.loads(_ok(home, "incidents", "--json", now="2026-10-02T07:20:00+08:00")) == []  # nothing written
    _ok(home, "open-incident", str(path), "--as", OFFICER, now="2026-10-02T07:20:00+08:00")
    (inc,) = json.loads(_ok(home, "incidents", "--json", now="2026-10-02T07:21:00+08:00"))
    iid = str(inc["id"])
    await _alert_climbs_to_the_leader(home, platforms, inc)
    steps = [
        ("2026-10-02T07:30:00+08:00", OFFICER, ("ack", iid)),
        ("2026-10-02T07:45:00+08:00", LEADER, ("grade", iid, "较大", "--reason", "国庆假期、涉及患者多")),
        ("2026-10-02T08:00:00+08:00", OFFICER, ("assign", iid, "区卫健局", "铺镇")),
        ("2026-10-02T11:00:00+08:00", OFFICER, ("release", iid, "--channel", "政务微博", "--kind", "authoritative",
                                                "--url", "https://weibo.com/htfb/1", "--text", "情况通报")),
        ("2026-10-02T15:00:00+08:00", OFFICER, ("followup", iid, "--unit", "区卫健局", "--text", "患者均已出院")),
    ]
    for at, who, args in steps:
        _ok(home, *args, "--as", who, now=at)
        if args[0] == "assign":  # the leader's instruction (领导批示); an officer may not give one
            text = ("--text", "请区卫健局全力救治，18:00前发布权威信息")
            refused = _run(home, "instruct", iid, *text, "--as", OFFICER, now="2026-10-02T08:05:00+08:00")
            assert refused.exit_code != 0 and "无权" in refused.output
            _ok(home, "instruct", iid, *text, "--due", "2026-10-02 21:00", "--as", LEADER,
                now="2026-10-02T08:10:00+08:00")
    viewer_like = _run(home, "note", iid, "越权", "--as", "nobody", now="2026-10-02T15:10:00+08:00")
    assert viewer_like.exit_code != 0
    waiting = await _send_alert(home, platforms, inc, "2026-10-02T20:20:00+08:00", "新增重要报道")  # nobody acks

    # the handover at the end of the 白班: the open incident, what was done by whom, the shifts
    rep = json.loads(_ok(home, "handover", "--json", "--since", "2026-10-02T07:00:00+08:00",
                         now="2026-10-02T20:30:00+08:00"))
    assert [(r["id"], r["release_due"]) for r in rep["open_incidents"]] == [(inc["id"], inc["release_due"])]
    done = {(d["actor"], d["actor_name"]) for d in rep["done"]}
    assert {(OFFICER, "张伟"), (LEADER, "王建国")} <= done
    shift = rep["shift"]
    assert (shift["name"], shift["officer"], shift["leader_name"]) == ("白班", OFFICER, "王建国")
    assert (shift["next"]["name"], shift["next"]["officer"]) == ("夜班", ADMIN)
    assert [(a["id"], a["incident"]) for a in rep["unacked_alerts"]] == [(waiting, inc["id"])]
    (ins,) = rep["open_instructions"]
    assert (ins["incident"], ins["leader"], ins["due"]) == (inc["id"], LEADER, "2026-10-02T21:00:00+08:00"), ins
    for part in ("pending_proposals", "failing_sources"):
        assert part in rep
    md = _ok(home, "handover", now="2026-10-02T20:30:00+08:00")
    assert "在办事件（1 起" in md and "张伟" in md and "王建国" in md
    assert "未确认的预警（1 条）" in md and "待落实的领导批示（1 条）" in md
    accepted = _ok(home, "handover", "accept", "--as", ADMIN, now="2026-10-02T20:35:00+08:00")
    assert ADMIN in accepted
    _ok(home, "alert-ack", waiting, "--as", ADMIN, now="2026-10-02T20:36:00+08:00")  # the incoming officer
    (open_ins,) = json.loads(_ok(home, "instructions", "--open", "--json", now="2026-10-02T20:40:00+08:00"))
    _ok(home, "instruct-done", str(open_ins["id"]), "--text", "患者均已出院，情况通报已发布", "--as", ADMIN,
        now="2026-10-02T20:40:00+08:00")
    assert json.loads(_ok(home, "instructions", "--open", "--json", now="2026-10-02T20:41:00+08:00")) == []

    _ok(home, "release", iid, "--channel", "政府网站", "--kind", "final", "--url", "https://www.htq.gov.cn/r/2",
        "--text", "处置结果", "--as", ADMIN, now="2026-10-03T10:00:00+08:00")
    _ok(home, "close", iid, "--as", OFFICER, now="2026-10-04T09:00:00+08:00")
    # the post-incident review (复盘) by the leader, with an action item; nobody unknown may write one
    findings = ("--well", "接报后10分钟确认，时限内发布情况通报", "--late", "首发后20分钟才发现",
                "--why", "节假日夜班一人值守", "--action", "区卫健局|2026-11-01|完善节假日输液安全巡查")
    refused = _run(home, "review", iid, *findings, "--as", "nobody", now="2026-10-04T10:00:00+08:00")
    assert refused.exit_code != 0 and "未登记的人员" in refused.output
    review = json.loads(_ok(home, "review", iid, *findings, "--as", LEADER, "--json", now="2026-10-04T10:00:00+08:00"))
    assert (review["updated_by"], review["late"]) == (LEADER, "首发后20分钟才发现")
    assert [(a["unit"], a["due"], a["status"]) for a in review["actions"]] == [("区卫健局", "2026-11-01", "待办")]
    report = tmp_path / "report.md"
    _ok(home, "export", iid, "--format", "md", "-o", str(report), now="2026-10-04T10:05:00+08:00")
    text = report.read_text(encoding="utf-8")
    assert "复盘" in text and "完善节假日输液安全巡查" in text and "王建国" in text

    shown = json.loads(_ok(home, "incident", iid, "--json", now="2026-10-04T10:10:00+08:00"))
    timeline = shown["timeline"]
    kinds = [e["kind"] for e in timeline]
    for kind in ("detected", "alert_acked", "acknowledged", "graded", "assigned", "instruction", "release",
                 "followup", "instruction_done", "state_changed", "review", "review_action"):
        assert kind in kinds, kinds
    assert shown["state"] == "归档", shown["state"]
    assert {e["actor"] for e in timeline} <= set(NAMES), {(e["kind"], e["actor"]) for e in timeline}
    assert {e["actor"] for e in timeline} == set(NAMES)  # all three worked it
    assert "校验通过" in _ok(home, "verify", now="2026-10-04T10:15:00+08:00")


async def _alert_climbs_to_the_leader(home, platforms, inc) -> None:
    """The incident's breaking alert goes to the officer the roster has on duty (the holiday's 夜班,
    @-mentioned on 企业微信); nobody acknowledges it within escalate_after, so it goes to the leader
    on duty, who acknowledges it with the CLI."""
    at = "2026-10-02T07:20:00+08:00"
    on_duty = json.loads(_ok(home, "roster", "now", "--json", now=at))
    officer, leader = on_duty["officer"], on_duty["leader"]
    assert (on_duty["shift"], leader) == ("夜班", LEADER) and officer in NAMES
    clock = Clock(datetime.fromisoformat(at))
    async with _dispatcher(home, platforms, clock) as d:
        a = Alert.new(key=f"incident:{inc['id']}:opened", lane="breaking", title=inc["title"],
                      created_at=clock(), severity="较大", incident_id=inc["id"])
        await d.submit(a)
        clock.advance(minutes=14, seconds=59)
        await d.tick()
        assert len(platforms.wecom) == 1  # not yet
        clock.advance(seconds=1)
        await d.tick()
    sent = [m["markdown"]["content"] for m in platforms.wecom]
    assert len(sent) == 2, sent
    assert f"值班员 {NAMES[officer]} <@{officer}>" in sent[0] and "带班领导" not in sent[0], sent[0]
    assert "升级·第1级" in sent[1] and f"带班领导 {NAMES[LEADER]} <@{LEADER}>" in sent[1], sent[1]
    later = "2026-10-02T07:36:00+08:00"
    (row,) = json.loads(_ok(home, "alerts", "--json", "--open", now=later))
    assert row["id"] == a.id and row["step"] == 1 and row["sends"][1]["to"][0]["staff_id"] == LEADER
    acked = _ok(home, "alert-ack", a.id, "--as", LEADER, now=later)
    assert NAMES[LEADER] in acked
    assert json.loads(_ok(home, "alerts", "--json", "--open", now=later)) == []


async def _send_alert(home, platforms, inc, at: str, title: str) -> str:
    """A breaking alert of the incident sent at ``at`` by the desk's dispatcher; its id."""
    clock = Clock(datetime.fromisoformat(at))
    async with _dispatcher(home, platforms, clock) as d:
        a = Alert.new(key=f"incident:{inc['id']}:{title}", lane="breaking", title=title, created_at=clock(),
                      severity="较大", incident_id=inc["id"])
        await d.submit(a)
    return a.id


def test_instructions_on_a_running_clock_still_verify(tmp_path, backend):
    """Without YUQING_NOW the desk's clock moves between reading it and writing the event: the
    instruction row and its events must still agree (`yuqing verify`)."""
    home = tmp_path / "home"

    def run(*args):
        out = CliRunner().invoke(cli, ["--home", str(home), *args], catch_exceptions=False, env={"YUQING_NOW": ""})
        assert out.exit_code == 0, (args, out.output)
        return out.output

    run("staff", "add", LEADER, "--name", NAMES[LEADER], "--role", "leader")
    cand = tmp_path / "cand.json"
    cand.write_text(json.dumps(health_candidate("s-running")), encoding="utf-8")
    run("open-incident", str(cand), "--as", LEADER)
    run("instruct", "1", "--text", "请核实", "--due", "2099-01-01 12:00", "--as", LEADER)
    run("instruct-done", "1", "--text", "已核实", "--as", LEADER)
    assert "校验通过" in run("verify")


def _dispatcher(home, platforms, clock) -> AlertDispatcher:
    """The desk's alert dispatcher as the daemon wires it (who is on duty from the roster, how to
    reach them from the staff table), sending to a 企业微信 robot on 127.0.0.1."""
    db = home / "desk.sqlite"
    cfg = parse_alerts_config({"escalate_after": 15, "channels": {"wecom": channels(platforms)["wecom"]},
                               "rules": rule("wecom", lanes=["breaking"])}, env=ENV)
    return AlertDispatcher(cfg, clock=clock, db=db, duty=duty_source(db, cfg), people=people_source(db))
