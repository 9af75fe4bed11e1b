"""Roles on every command that changes the desk, through the CLI on a real desk home: labels,
sources, intake, retention, training, the gazetteer and init; admin alone edits sources; a viewer
reads everything and changes nothing; unknown and disabled actors are refused with nothing
written; the timeline records staff ids and its chain covers them."""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from tests.cli_kit import desk_with_incident, settle_db
from yuqing.cli import cli

CSV = "编号,标题,内容,来电时间\nB1,铺镇路灯不亮,铺镇某路段路灯坏了一周,2026-11-27 08:00\n"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A desk with one incident, one hotline item and three staff: wang (admin), li (officer),
    chen (viewer), zhao (officer, disabled)."""
    home = tmp_path_factory.mktemp("roles") / "desk"
    run = desk_with_incident(home, "s-roles")
    csv = home.parent / "in.csv"
    csv.write_text(CSV, encoding="utf-8")
    run("import", "hotline", str(csv))
    run("staff", "add", "wang", "--name", "王伟", "--role", "admin")
    run("staff", "add", "li", "--name", "李娜", "--role", "officer", "--as", "wang")
    run("staff", "add", "chen", "--name", "陈静", "--role", "viewer", "--as", "wang")
    run("staff", "add", "zhao", "--name", "赵强", "--role", "officer", "--as", "wang")
    run("staff", "disable", "zhao", "--as", "wang")
    settle_db(home / "desk.sqlite")
    return home


@pytest.fixture
def desk(seeded, tmp_path, monkeypatch):
    monkeypatch.setenv("YUQING_NOW", "2026-11-27T10:00+08:00")
    home = tmp_path / "desk"
    shutil.copytree(seeded, home, ignore=shutil.ignore_patterns("desk.sqlite-*"))

    def invoke(*args):
        return CliRunner().invoke(cli, ["--home", str(home), *args])

    invoke.home = home
    return invoke


def _digest(home) -> str:
    """What a refused command must leave alone: every table's rows and the config files."""
    settle_db(home / "desk.sqlite")
    con = sqlite3.connect(home / "desk.sqlite")
    h = hashlib.sha256()
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        for row in sorted(repr(r) for r in con.execute(f'SELECT * FROM "{name}"')):
            h.update(row.encode())
    con.close()
    for f in ("sources.toml", "desk.toml"):
        h.update((home / f).read_bytes())
    return h.hexdigest()


REFUSED = [
    # (command, who, what the message says)
    (["label", "1", "topic", "城市管理"], "chen", "无权处置操作"),
    (["label", "1", "topic", "城市管理"], "nobody", "未登记的人员「nobody」"),
    (["label", "1", "topic", "城市管理"], "zhao", "已停用"),
    (["sources", "add", "x1", "--url", "https://example.org/rss.xml"], "li", "无权管理"),
    (["sources", "add", "x1", "--url", "https://example.org/rss.xml"], "chen", "无权管理"),
    (["sources", "disable", "own"], "li", "无权管理"),
    (["sources", "enable", "own"], "nobody", "未登记的人员"),
    (["import", "hotline", "{csv}"], "chen", "无权处置操作"),
    (["retention", "--days", "1"], "li", "无权管理"),
    (["train"], "chen", "无权处置操作"),
    (["gazetteer", "import", "{csv}", "--county", "610702"], "li", "无权管理"),
    (["init", "--force"], "li", "无权管理"),
    (["ack", "1"], "chen", "无权处置操作"),
    (["note", "1", "x"], "zhao", "已停用"),
    (["staff", "add", "x2", "--name", "某", "--role", "officer"], "li", "无权管理"),
    (["tui"], "nobody", "未登记的人员「nobody」"),  # the console does not open for an unknown actor
]


@pytest.mark.parametrize("args, who, needle", REFUSED, ids=[f"{'-'.join(a[:2])}-{w}" for a, w, _ in REFUSED])
def test_refused_actors_change_nothing(desk, tmp_path, args, who, needle):
    csv = tmp_path / "more.csv"
    csv.write_text(CSV.replace("B1", "B2"), encoding="utf-8")
    args = [str(csv) if a == "{csv}" else a for a in args]
    before = _digest(desk.home)
    res = desk(*args, "--as", who)
    assert res.exit_code == 1, res.output
    assert needle in res.output and "未作任何更改" in res.output
    assert "Traceback" not in res.output
    assert _digest(desk.home) == before


def test_a_command_without_an_actor_on_a_desk_with_staff_is_refused(desk):
    """No --as and an OS login nobody registered: refused, naming how to say who acts."""
    before = _digest(desk.home)
    res = desk("label", "1", "topic", "城市管理")
    assert res.exit_code == 1 and "--as" in res.output
    assert _digest(desk.home) == before


def test_permitted_actors_write_under_their_staff_id(desk):
    assert desk("label", "1", "topic", "城市管理", "--as", "li").exit_code == 0
    assert desk("label", "1", "sentiment", "负面", "--actor", "li").exit_code == 0  # the deprecated alias
    rows = json.loads(desk("labels", "--json").output)
    assert {r["actor"] for r in rows} == {"li"}
    res = desk("sources", "add", "x1", "--url", "https://example.org/rss.xml", "--as", "wang")
    assert res.exit_code == 0, res.output
    assert "[sources.x1]" in (desk.home / "sources.toml").read_text(encoding="utf-8")
    assert desk("sources", "disable", "x1", "--as", "wang").exit_code == 0
    assert desk("retention", "--days", "1", "--dry-run", "--as", "chen").exit_code == 0  # counting is reading
    assert desk("dismiss", "1", "--state", "误报", "--reason", "非本区事件", "--as", "li").exit_code == 0


def test_viewer_reads_everything(desk):
    for args in (["incidents", "--json"], ["incident", "1"], ["staff", "list"], ["proposals"], ["verify"],
                 ["report", "daily"]):
        res = desk(*args, "--as", "chen")
        assert res.exit_code == 0, (args, res.output)
    for args in (["labels"], ["sources"], ["doctor"], ["incidents"]):  # reading needs no actor at all
        res = desk(*args)
        assert "无权" not in res.output and "未登记" not in res.output, (args, res.output)


def test_incident_json_timeline_names_staff_and_the_chain_covers_the_actor(desk):
    assert desk("ack", "1", "--as", "li").exit_code == 0
    assert desk("note", "1", "已电话联系铺镇", "--as", "wang").exit_code == 0
    inc = json.loads(desk("incident", "1", "--json", "--as", "chen").output)
    last = inc["timeline"][-1]
    assert (last["kind"], last["actor"], last["actor_name"]) == ("note", "wang", "王伟")
    assert last["text"] == "备注：已电话联系铺镇" and last["at"].endswith("+08:00")
    assert any(e["actor"] == "li" and e["kind"] == "acknowledged" for e in inc["timeline"])
    assert inc["timeline"][0]["actor_name"] == "系统" or inc["timeline"][0]["actor"] not in ("system",)
    text = desk("incident", "1").output
    assert "王伟: 备注：已电话联系铺镇" in text and "李娜" in text
    assert desk("verify").exit_code == 0

    settle_db(desk.home / "desk.sqlite")
    con = sqlite3.connect(desk.home / "desk.sqlite")
    con.execute("DROP TRIGGER timeline_no_update")
    con.execute("UPDATE timeline_events SET actor = 'li' WHERE actor = 'wang'")  # shift the blame
    con.commit()
    con.close()
    res = desk("verify")
    assert res.exit_code == 1 and "校验失败" in res.output
