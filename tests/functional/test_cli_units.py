"""Accountability through the CLI: units under canonical gazetteer names, assignment that refuses
unknown names, replaces and removes, suggestions kept apart from assignments, a league table that
charges only assigned units (and the release owner), and a repeated ack that changes nothing."""
from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from click.testing import CliRunner

from responders.reports import ROLE_ASSIGNED, UNIT_LEAGUE_TITLE
from tests.cli_kit import health_candidate
from yuqing import cli as climod

NOW = "2026-06-14T12:00:00+08:00"

# Routing suggested 区卫健局, 区医保局 and the town; 区委宣传部 is the release owner. Written the way an
# older desk stored it: 区卫计局 (the former name) for 区卫健局.
CANDIDATE = health_candidate("story-7")


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("YUQING_NOW", NOW)
    runner = CliRunner()
    home = tmp_path / "home"

    def invoke(*args, ok=True, actor="值班员"):
        res = runner.invoke(climod.cli, ["--home", str(home), *args, "--actor", actor])
        if ok:
            assert res.exit_code == 0, res.output
        return res

    invoke.home = home
    cand = tmp_path / "cand.json"
    cand.write_text(json.dumps(CANDIDATE, ensure_ascii=False), encoding="utf-8")
    invoke("open-incident", str(cand))
    return invoke


def _detail(run) -> dict:
    return json.loads(run("incident", "1", "--json").output)


def _events(run, kind: str) -> list[dict]:
    return [e for e in _detail(run)["timeline"] if e["kind"] == kind]


def _league(run) -> dict[str, list[str]]:
    out = run("report", "performance", "--format", "csv").output
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    start, end = rows.index([UNIT_LEAGUE_TITLE]), rows.index(["镇办按时发布排名"])
    return {r[0]: r for r in rows[start + 2:end] if r}


def test_suggestions_are_shown_apart_and_never_ranked(run):
    listed = json.loads(run("incidents", "--json").output)[0]
    # the stored former name reads as the canonical one
    assert listed["suggested_units"] == ["区卫健局", "区医保局", "铺镇", "区委宣传部"]
    assert listed["units"] == []
    assert set(_league(run)) == {"区委宣传部"}  # only the release owner, for the release clock

    run("assign", "1", "区卫计局", "铺镇")  # a former name is accepted and stored canonical
    listed = json.loads(run("incidents", "--json").output)[0]
    assert listed["units"] == ["区卫健局", "铺镇"]
    assert listed["suggested_units"] == ["区医保局", "区委宣传部"]
    shown = run("incident", "1").output
    assert "交办单位 区卫健局、铺镇" in shown and "建议单位 区医保局、区委宣传部" in shown

    league = _league(run)
    assert set(league) == {"区委宣传部", "区卫健局", "铺镇"}  # 区医保局 was only suggested
    assert league["区卫健局"][1] == "1" and league["区卫健局"][-1] == ROLE_ASSIGNED
    assert league["区委宣传部"][-1].startswith("发布时限")


def test_unknown_unit_is_refused_with_the_nearest_names_and_nothing_written(run):
    before = _detail(run)
    res = run("assign", "1", "铺镇", "区卫健委员会局", ok=False)
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "未知单位「区卫健委员会局」" in res.output and "区卫健局" in res.output
    res = run("assign", "1", "某某无关单位", ok=False)
    assert res.exit_code == 1 and "未知单位「某某无关单位」" in res.output
    res = run("assign", "1", "相关镇办", ok=False)  # the routing's placeholder is not a unit
    assert res.exit_code == 1 and "未知单位" in res.output
    after = _detail(run)
    assert after["units"] == [] and after["state"] == before["state"]
    assert len(after["timeline"]) == len(before["timeline"])


def test_replace_and_remove_each_on_the_timeline(run):
    run("assign", "1", "区卫健局", "铺镇")
    out = run("assign", "1", "汉台区医疗保障局", "--replace").output
    assert "交办单位：区医保局" in out and "新增 区医保局" in out and "撤销 区卫健局、铺镇" in out
    assert _detail(run)["units"] == ["区医保局"]
    run("assign", "1", "北关")  # a street office by its short name
    out = run("assign", "1", "--remove", "北关街道").output
    assert "撤销 北关街道" in out
    assert _detail(run)["units"] == ["区医保局"]
    res = run("assign", "1", "--remove", "区财政局", ok=False)
    assert res.exit_code == 1 and "不是事件 #1 的交办单位" in res.output
    assert "无变化" in run("assign", "1", "区医疗保障局").output  # already assigned: nothing recorded
    res = run("assign", "1", "铺镇", "--remove", "汉台区铺镇", ok=False)
    assert res.exit_code == 1 and "不能同时交办又撤销" in res.output

    assigned = [e["payload"]["units"] for e in _events(run, "assigned")]
    unassigned = [e["payload"]["units"] for e in _events(run, "unassigned")]
    assert assigned == [["区卫健局", "铺镇"], ["区医保局"], ["北关街道"]]
    assert unassigned == [["区卫健局", "铺镇"], ["北关街道"]]
    assert all(e["actor"] == "值班员" for e in _events(run, "unassigned"))
    assert set(_league(run)) == {"区委宣传部", "区医保局"}
    assert "时间线校验通过" in run("verify").output


def test_units_stored_under_an_alias_by_an_older_desk_read_and_count_canonical(run):
    db = sqlite3.connect(run.home / "desk.sqlite")
    with db:
        db.execute("UPDATE incidents SET assigned_units = ? WHERE id = 1",
                   [json.dumps(["区卫计局", "区卫生局", "汉台区卫生健康局"], ensure_ascii=False)])
    db.close()
    assert json.loads(run("incidents", "--json").output)[0]["units"] == ["区卫健局"]
    league = _league(run)
    assert set(league) == {"区委宣传部", "区卫健局"} and league["区卫健局"][1] == "1"
    # removable under any of its names
    run("assign", "1", "--remove", "区卫健局")
    assert _detail(run)["units"] == []


def test_repeated_ack_is_a_no_op(run):
    assert "状态：研判" in run("ack", "1").output
    again = run("ack", "1", actor="李四")
    assert again.exit_code == 0
    assert "已于 2026-06-14 12:00 +08:00 由 值班员 确认接报" in again.output
    acks = _events(run, "acknowledged")
    assert len(acks) == 1 and acks[0]["actor"] == "值班员"
