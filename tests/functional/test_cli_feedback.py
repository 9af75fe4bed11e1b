"""Feedback (反馈) from assigned units through the CLI, with the desk clock pinned: each assigned
unit owes its own feedback within [clock] feedback_due_hours of its assignment; `yuqing followup
--unit` records it; the league table ranks each assigned unit by it, and `yuqing incident` shows it."""
from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from responders.reports import ROLE_ASSIGNED, ROLE_RELEASE, UNIT_LEAGUE_TITLE
from tests.cli_kit import health_candidate
from yuqing import cli as climod

# Routing suggested 区卫健局 (under its former name), 区医保局 and the town; 区委宣传部 owns the release.
CANDIDATE = health_candidate("story-9")


@pytest.fixture
def run(tmp_path, monkeypatch, backend):
    runner = CliRunner()
    home = tmp_path / "home"
    home.mkdir()
    (home / "desk.toml").write_text("[clock]\nfeedback_due_hours = 8\n", encoding="utf-8")

    def invoke(*args, at, ok=True):
        monkeypatch.setenv("YUQING_NOW", at)
        res = runner.invoke(climod.cli, ["--home", str(home), *args, "--actor", "值班员"])
        if ok:
            assert res.exit_code == 0, res.output
        return res

    invoke.home = home
    cand = tmp_path / "cand.json"
    cand.write_text(json.dumps(CANDIDATE, ensure_ascii=False), encoding="utf-8")
    invoke("open-incident", str(cand), at="2026-06-14T12:00:00+08:00")
    invoke("assign", "1", "区卫计局", "铺镇", at="2026-06-14T12:00:00+08:00")  # feedback due 20:00
    return invoke


def _league(run, at) -> dict[str, list[str]]:
    out = run("report", "performance", "--format", "csv", at=at).output
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    start, end = rows.index([UNIT_LEAGUE_TITLE]), rows.index(["镇办按时发布排名"])
    header = rows[start + 1]
    return {r[0]: dict(zip(header, r)) for r in rows[start + 2:end] if r}


def test_one_unit_feeds_back_in_time_the_other_never_does(run):
    out = run("followup", "1", "--unit", "汉台区卫生健康局", "--text", "已派员核查，患者情况稳定",
              at="2026-06-14T15:00:00+08:00").output
    assert "已记录 区卫健局 的反馈" in out and "按时反馈" in out

    # before 铺镇's window closes it is still owed, not overdue
    early = _league(run, at="2026-06-14T19:59:00+08:00")
    assert (early["铺镇"]["时限内待完成"], early["铺镇"]["超时未完成"]) == ("1", "0")

    league = _league(run, at="2026-06-15T09:00:00+08:00")  # 21 h after the assignment
    assert set(league) == {"区委宣传部", "区卫健局", "铺镇"}  # 区医保局 was only suggested: never ranked
    wj, town = league["区卫健局"], league["铺镇"]
    assert (wj["按时"], wj["超时完成"], wj["超时未完成"], wj["按时率"], wj["平均用时（小时）"]) == ("1", "0", "0", "100%", "3.0")
    assert (town["按时"], town["超时未完成"], town["按时率"]) == ("0", "1", "0%")
    assert wj["考核口径"] == town["考核口径"] == ROLE_ASSIGNED
    # the release owner stays ranked by the release clock: nothing released, 24 h passed
    assert league["区委宣传部"]["考核口径"] == ROLE_RELEASE and league["区委宣传部"]["超时未完成"] == "1"

    shown = json.loads(run("incident", "1", "--json", at="2026-06-15T09:00:00+08:00").output)
    fb = {f["unit"]: f for f in shown["feedback"]}
    assert fb["区卫健局"]["status"] == "on_time"
    assert fb["区卫健局"]["assigned_at"] == "2026-06-14T12:00:00+08:00"
    assert fb["区卫健局"]["due_at"] == "2026-06-14T20:00:00+08:00"
    assert fb["区卫健局"]["fed_back_at"] == "2026-06-14T15:00:00+08:00"
    assert fb["铺镇"]["status"] == "overdue" and fb["铺镇"]["fed_back_at"] is None
    events = [e for e in shown["timeline"] if e["kind"] == "followup"]
    assert [e["payload"]["unit"] for e in events] == ["区卫健局"]

    text = run("incident", "1", at="2026-06-15T09:00:00+08:00").output
    assert "反馈 区卫健局：2026-06-14 12:00 +08:00 交办，8 小时内反馈，时限 2026-06-14 20:00 +08:00 · 按时反馈" in text
    assert "反馈 铺镇" in text and "超时未反馈（超时 13小时00分）" in text
    assert "反馈（区卫健局）：已派员核查" in text

    # late feedback turns 铺镇 from overdue to late; the chain still verifies
    out = run("followup", "1", "--unit", "铺镇", "--text", "已走访", at="2026-06-15T10:00:00+08:00").output
    assert "超时反馈" in out
    league = _league(run, at="2026-06-15T10:00:00+08:00")
    assert (league["铺镇"]["超时完成"], league["铺镇"]["超时未完成"]) == ("1", "0")
    assert "时间线校验通过" in run("verify", at="2026-06-15T10:00:00+08:00").output


def test_feedback_only_from_an_assigned_known_unit(run):
    before = json.loads(run("incident", "1", "--json", at="2026-06-14T13:00:00+08:00").output)
    res = run("followup", "1", "--unit", "区医保局", "--text", "x", at="2026-06-14T13:00:00+08:00", ok=False)
    assert res.exit_code == 1 and "「区医保局」不是事件 #1 的交办单位" in res.output and "Traceback" not in res.output
    res = run("followup", "1", "--unit", "某某无关单位", "--text", "x", at="2026-06-14T13:00:00+08:00", ok=False)
    assert res.exit_code == 1 and "未知单位「某某无关单位」" in res.output
    after = json.loads(run("incident", "1", "--json", at="2026-06-14T13:00:00+08:00").output)
    assert len(after["timeline"]) == len(before["timeline"])
    # a plain follow-up is not anybody's feedback
    run("followup", "1", "--text", "值班员电话督办", at="2026-06-14T13:00:00+08:00")
    shown = json.loads(run("incident", "1", "--json", at="2026-06-14T21:00:00+08:00").output)
    assert {f["status"] for f in shown["feedback"]} == {"overdue"}


def test_a_bad_feedback_window_is_refused_naming_the_key(run):
    (run.home / "desk.toml").write_text("[clock]\nfeedback_due_hours = 0\n", encoding="utf-8")
    res = run("incident", "1", at="2026-06-14T13:00:00+08:00", ok=False)
    assert res.exit_code != 0 and "feedback_due_hours" in res.output and "Traceback" not in res.output
