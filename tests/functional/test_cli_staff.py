"""Staff and roles through the CLI on a real desk: the first member is an admin, writes are done
as a staff member, a viewer changes nothing, admin alone edits staff."""
from __future__ import annotations

import json

from click.testing import CliRunner

from tests.cli_kit import health_candidate
from yuqing.cli import cli


def _run(home, *args):
    return CliRunner().invoke(cli, ["--home", str(home), *args], catch_exceptions=False)


def _desk(tmp_path):
    home = tmp_path / "home"
    assert _run(home, "init").exit_code == 0
    cand = tmp_path / "cand.json"
    cand.write_text(json.dumps(health_candidate("s-staff")), encoding="utf-8")
    assert _run(home, "open-incident", str(cand), "--actor", "setup").exit_code == 0
    return home


def _timeline(home):
    out = _run(home, "incident", "1", "--json")
    assert out.exit_code == 0, out.output
    return json.loads(out.output)["timeline"]


def test_desk_without_staff_works_as_before_and_says_so(tmp_path, backend):
    home = _desk(tmp_path)
    out = _run(home, "staff", "list")
    assert "尚未登记人员" in out.output
    assert _run(home, "ack", "1", "--actor", "anyone").exit_code == 0
    assert _timeline(home)[-1]["actor"] == "anyone"


def test_first_member_is_admin_and_writes_need_a_staff_member(tmp_path, backend):
    home = _desk(tmp_path)
    out = _run(home, "staff", "add", "wang", "--name", "王伟", "--role", "officer")
    assert out.exit_code == 0 and "管理员" in out.output
    assert _run(home, "staff", "add", "li", "--name", "李娜", "--role", "officer", "--as", "wang").exit_code == 0
    assert _run(home, "staff", "add", "chen", "--name", "陈静", "--role", "viewer", "--as", "wang").exit_code == 0
    before = len(_timeline(home))

    unknown = _run(home, "ack", "1", "--as", "nobody")
    assert unknown.exit_code != 0 and "未登记的人员「nobody」" in unknown.output
    viewer = _run(home, "ack", "1", "--as", "chen")
    assert viewer.exit_code != 0 and "无权" in viewer.output
    deprecated = _run(home, "ack", "1", "--actor", "王伟")  # a name, not a staff id
    assert deprecated.exit_code != 0
    assert len(_timeline(home)) == before  # nothing written

    assert _run(home, "ack", "1", "--as", "li").exit_code == 0
    assert _timeline(home)[-1]["actor"] == "li"
    assert _run(home, "note", "1", "已联系", "--actor", "li").exit_code == 0


def test_only_admin_edits_staff_and_disabled_members_are_refused(tmp_path, backend):
    home = _desk(tmp_path)
    _run(home, "staff", "add", "wang", "--name", "王伟", "--role", "admin")
    _run(home, "staff", "add", "zhao", "--name", "赵强", "--role", "leader", "--as", "wang")
    out = _run(home, "staff", "add", "x1", "--name", "某", "--role", "officer", "--as", "zhao")
    assert out.exit_code != 0 and "无权管理" in out.output
    last = _run(home, "staff", "disable", "wang", "--as", "wang")
    assert last.exit_code != 0 and "最后一位" in last.output
    assert _run(home, "staff", "disable", "zhao", "--as", "wang").exit_code == 0
    refused = _run(home, "ack", "1", "--as", "zhao")
    assert refused.exit_code != 0 and "已停用" in refused.output
    listed = json.loads(_run(home, "staff", "list", "--json").output)
    assert {m["id"]: m["active"] for m in listed} == {"wang": True, "zhao": False}
