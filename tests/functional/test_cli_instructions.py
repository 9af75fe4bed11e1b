"""Leader instructions (领导批示) through the CLI on a real desk: who may instruct and feed back,
open and overdue on the incident and in `instructions`, the timeline and its chain, the exports
read back, and open_instructions for the handover."""
from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import datetime

import pytest
from click.testing import CliRunner

from responders.instructions import open_instructions
from storage.db import open_db
from tests.cli_kit import desk_with_incident, health_candidate, settle_db
from yuqing.cli import cli
from pipeline.schema import all_migrations

T_GIVE = "2026-06-14T10:00+08:00"
T_LATE = "2026-06-14T19:00+08:00"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    home = tmp_path_factory.mktemp("instr") / "desk"
    run = desk_with_incident(home, "s-instr")
    run("staff", "add", "wang", "--name", "王伟", "--role", "admin")
    run("staff", "add", "zhao", "--name", "赵强", "--role", "leader", "--as", "wang")
    run("staff", "add", "li", "--name", "李娜", "--role", "officer", "--as", "wang")
    run("staff", "add", "chen", "--name", "陈静", "--role", "viewer", "--as", "wang")
    settle_db(home / "desk.sqlite")
    return home


@pytest.fixture
def desk(seeded, tmp_path, monkeypatch):
    monkeypatch.setenv("YUQING_NOW", T_GIVE)
    home = tmp_path / "desk"
    shutil.copytree(seeded, home, ignore=shutil.ignore_patterns("desk.sqlite-*"))

    def invoke(*args, at=None):
        if at:
            monkeypatch.setenv("YUQING_NOW", at)
        try:
            return CliRunner().invoke(cli, ["--home", str(home), *args])
        finally:
            monkeypatch.setenv("YUQING_NOW", T_GIVE)

    invoke.home = home
    return invoke


def _json(res):
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def _events(desk):
    return _json(desk("incident", "1", "--json"))["timeline"]


def test_only_leaders_and_admins_instruct_and_refusals_write_nothing(desk):
    before = len(_events(desk))
    for who, needle in (("li", "无权领导批示"), ("chen", "无权领导批示"), ("nobody", "未登记的人员")):
        res = desk("instruct", "1", "--as", who, "--text", "请核实")
        assert res.exit_code == 1 and needle in res.output, res.output
    for args, needle in ((["--due", "2026-06-14 08:00"], "早于现在"), (["--due", "明天"], "--due"),
                         (["--text", "  "], "批示内容不能为空")):
        res = desk("instruct", "1", "--as", "zhao", *(["--text", "请核实"] if "--text" not in args else []), *args)
        assert res.exit_code != 0 and needle in res.output, res.output
    res = desk("instruct", "9", "--as", "zhao", "--text", "请核实")
    assert res.exit_code == 1 and "#9" in res.output
    assert len(_events(desk)) == before
    assert _json(desk("instructions", "--json")) == []


def test_instruction_open_then_overdue_then_fed_back(desk):
    res = desk("instruct", "1", "--as", "zhao", "--text", "请区卫健局今日内核实并回复", "--due", "2026-06-14 18:00")
    assert res.exit_code == 0 and "批示 #1" in res.output and "2026-06-14 18:00 +08:00" in res.output
    assert desk("instruct", "1", "--as", "wang", "--text", "做好舆论引导").exit_code == 0  # an admin may too

    inc = _json(desk("incident", "1", "--json"))
    assert [(i["id"], i["status"], i["leader"]) for i in inc["instructions"]] == [(1, "open", "zhao"), (2, "open", "wang")]
    assert inc["instructions"][0]["due_at"] == "2026-06-14T18:00:00+08:00"
    assert (inc["instructions_open"], inc["instructions_overdue"]) == (2, 0)
    given = [e for e in inc["timeline"] if e["kind"] == "instruction"]
    assert [(e["actor"], e["actor_name"]) for e in given] == [("zhao", "赵强"), ("wang", "王伟")]
    assert "请区卫健局今日内核实并回复" in given[0]["text"]

    late = _json(desk("incident", "1", "--json", at=T_LATE))
    assert (late["instructions_open"], late["instructions_overdue"]) == (2, 1)
    assert late["instructions"][0]["status_label"] == "已超期"
    text = desk("incident", "1", at=T_LATE).output
    assert "待落实 2 件（已超期 1 件）" in text and "[已超期] 赵强" in text
    listed = desk("instructions", "--open", at=T_LATE).output.splitlines()
    assert listed[0].startswith("批示 #1") and "[已超期]" in listed[0]  # overdue first

    assert desk("instruct-done", "1", "--as", "chen", "--text", "已回复").exit_code == 1  # a viewer cannot
    done = desk("instruct-done", "1", "--as", "li", "--text", "区卫健局已核实并回复", at=T_LATE)
    assert done.exit_code == 0 and "超期反馈" in done.output
    again = desk("instruct-done", "1", "--as", "li", "--text", "再次")
    assert again.exit_code == 1 and "李娜" in again.output and "无需重复反馈" in again.output
    assert desk("instruct-done", "x", "--as", "li", "--text", "再次").exit_code != 0

    rows = _json(desk("instructions", "--json", at=T_LATE))
    assert [(r["id"], r["status"]) for r in rows] == [(1, "done_late"), (2, "open")]
    assert rows[0]["done_by"] == "li" and rows[0]["feedback"] == "区卫健局已核实并回复"
    assert [r["id"] for r in _json(desk("instructions", "--open", "--json"))] == [2]
    fed = [e for e in _events(desk) if e["kind"] == "instruction_done"]
    assert [(e["actor"], e["payload"]["instruction_id"], e["payload"]["late"]) for e in fed] == [("li", 1, True)]
    assert desk("verify").exit_code == 0


def test_the_chain_covers_instructions(desk):
    assert desk("instruct", "1", "--as", "zhao", "--text", "请核实", "--due", "2026-06-14 18:00").exit_code == 0
    settle_db(desk.home / "desk.sqlite")
    con = sqlite3.connect(desk.home / "desk.sqlite")
    con.execute("DROP TRIGGER timeline_no_update")
    con.execute("UPDATE timeline_events SET payload = replace(payload, '请核实', '不必核实') WHERE kind = 'instruction'")
    con.commit()
    con.close()
    assert desk("verify").exit_code == 1


def test_exports_carry_instructions_and_feedback(desk, tmp_path):
    assert desk("instruct", "1", "--as", "zhao", "--text", "请区卫健局今日内核实并回复", "--due", "2026-06-14 18:00").exit_code == 0
    assert desk("instruct", "1", "--as", "zhao", "--text", "做好舆论引导").exit_code == 0
    assert desk("instruct-done", "1", "--as", "li", "--text", "区卫健局已核实并回复").exit_code == 0
    out = {}
    for fmt in ("md", "html", "json", "docx"):
        path = tmp_path / f"r.{fmt}"
        res = desk("export", "1", "--format", fmt, "-o", str(path))
        assert res.exit_code == 0, res.output
        out[fmt] = path
    md = out["md"].read_text(encoding="utf-8")
    assert "### 领导批示" in md and "请区卫健局今日内核实并回复" in md and "区卫健局已核实并回复" in md
    assert "| #2 | 赵强 |" in md and "待落实" in md and "| 赵强 |" in md
    html = out["html"].read_text(encoding="utf-8")
    assert "<h3>领导批示</h3>" in html and "区卫健局已核实并回复" in html and "李娜" in html
    data = json.loads(out["json"].read_text(encoding="utf-8"))
    assert [(i["id"], i["status"], i["leader_name"], i["feedback"]) for i in data["instructions"]] == [
        (1, "done", "赵强", "区卫健局已核实并回复"), (2, "open", "赵强", "")]
    assert data["instructions"][0]["due_at"] == "2026-06-14T18:00:00+08:00"
    from docx import Document

    doc = Document(str(out["docx"]))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "请区卫健局今日内核实并回复" in cells and "区卫健局已核实并回复" in cells and "李娜" in cells
    assert any(p.text == "领导批示" for p in doc.paragraphs)


def test_open_instructions_for_the_handover(desk):
    assert desk("instruct", "1", "--as", "zhao", "--text", "无时限").exit_code == 0
    assert desk("instruct", "1", "--as", "zhao", "--text", "晚到期", "--due", "2026-06-15 09:00").exit_code == 0
    assert desk("instruct", "1", "--as", "zhao", "--text", "早到期", "--due", "2026-06-14 12:00").exit_code == 0
    assert desk("instruct", "1", "--as", "zhao", "--text", "已办", "--due", "2026-06-14 11:00").exit_code == 0
    assert desk("instruct-done", "4", "--as", "li", "--text", "办结").exit_code == 0
    db = open_db(desk.home / "desk.sqlite", all_migrations())
    now = datetime.fromisoformat("2026-06-14T13:00+08:00")
    got = open_instructions(db, now)
    assert [(i.text, i.status(now)) for i in got] == [("早到期", "overdue"), ("晚到期", "open"), ("无时限", "open")]
    db.conn.close()


@pytest.mark.parametrize("sql", [
    "UPDATE instructions SET text = '不必核实'",
    "UPDATE instructions SET leader = 'wang'",
    "UPDATE instructions SET due_at = NULL",
    "UPDATE instructions SET done_at = given_at, done_by = 'li', feedback = '伪造的反馈'",
    "DELETE FROM instructions",
])
def test_verify_catches_the_instructions_table_edited_behind_the_timeline(desk, sql):
    assert desk("instruct", "1", "--as", "zhao", "--text", "请核实", "--due", "2026-06-14 18:00").exit_code == 0
    assert desk("verify").exit_code == 0
    settle_db(desk.home / "desk.sqlite")
    con = sqlite3.connect(desk.home / "desk.sqlite")
    con.execute(sql)
    con.commit()
    con.close()
    res = desk("verify")
    assert res.exit_code == 1 and "批示 #1" in res.output, res.output


def test_handover_lists_open_and_overdue_instructions(desk):
    assert desk("instruct", "1", "--as", "zhao", "--text", "早到期", "--due", "2026-06-14 12:00").exit_code == 0
    assert desk("instruct", "1", "--as", "zhao", "--text", "已办").exit_code == 0
    assert desk("instruct-done", "2", "--as", "li", "--text", "办结").exit_code == 0
    rep = _json(desk("handover", "--json", at="2026-06-14T13:00+08:00"))
    assert [(i["id"], i["incident"], i["leader_name"], i["text"], i["overdue"]) for i in rep["open_instructions"]] == [
        (1, 1, "赵强", "早到期", True)]
    assert rep["open_instructions"][0]["due"] == "2026-06-14T12:00:00+08:00"


def test_a_merged_incident_points_to_the_one_it_joined(desk, tmp_path):
    cand = tmp_path / "c2.json"
    other = dict(health_candidate("s-other"), title="武乡镇道路积水 出行不便", places=[], topic="城建",
                 departments=["区住建局"], responsible_units=["区住建局"], item_ids=[2])
    cand.write_text(json.dumps(other), encoding="utf-8")
    assert desk("open-incident", str(cand), "--as", "li").exit_code == 0
    assert desk("merge", "1", "2", "--as", "li").exit_code == 0
    res = desk("instruct", "2", "--as", "zhao", "--text", "请核实")
    assert res.exit_code == 1 and "已并入事件 #1" in res.output
    assert _json(desk("instructions", "--json")) == []


@pytest.mark.parametrize("sql", ["UPDATE instructions SET due_at = NULL", "DELETE FROM instructions", None])
def test_verify_catches_instructions_edited_on_either_backend(tmp_path, backend, monkeypatch, sql):
    """The instructions row against its events, and the instruction's event itself, on both
    backends (``None``: the event edited with the guards off and put back)."""
    from storage.db import connect
    from tests.history_kit import tampering

    monkeypatch.setenv("YUQING_NOW", T_GIVE)
    home = tmp_path / "desk"
    run = desk_with_incident(home, "s-instr-both")
    run("staff", "add", "zhao", "--name", "赵强", "--role", "admin")
    run("instruct", "1", "--as", "zhao", "--text", "请核实", "--due", "2026-06-14 18:00")
    assert "校验通过" in run("verify").output
    target = backend or home / "desk.sqlite"
    if sql is None:
        with tampering(target) as db:
            db.execute("UPDATE timeline_events SET payload = replace(payload, '请核实', '不必核实')"
                       " WHERE kind = 'instruction'")
        words = "edited"
    else:
        db = connect(target)
        db.execute(sql)
        db.conn.close()
        words = "批示 #1"
    res = CliRunner().invoke(cli, ["--home", str(home), "verify"])
    assert res.exit_code == 1 and words in res.output, res.output
