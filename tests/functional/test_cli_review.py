"""`yuqing review` end to end on a temp home: findings and action items through the CLI, each change
on the timeline, the 复盘 section in the exports read back, open action items in the weekly report."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from docx import Document

from tests.functional.test_cli_incidents import CANDIDATE
from yuqing import cli as climod

NOW = "2026-06-14T12:00:00+08:00"


@pytest.fixture
def run(tmp_path, monkeypatch, backend):
    monkeypatch.setenv("YUQING_NOW", NOW)
    runner = CliRunner()
    home = tmp_path / "home"

    def invoke(*args, ok=True):
        res = runner.invoke(climod.cli, ["--home", str(home), *args, "--actor", "值班员"])
        if ok:
            assert res.exit_code == 0, res.output
        else:
            assert res.exit_code != 0, res.output
        return res

    cand = tmp_path / "cand.json"
    cand.write_text(json.dumps(CANDIDATE, ensure_ascii=False), encoding="utf-8")
    invoke("open-incident", str(cand))
    second = dict(CANDIDATE, story_id="story-43", title="武乡镇学校食堂投诉", item_ids=[21], evidence=[])
    cand.write_text(json.dumps(second, ensure_ascii=False), encoding="utf-8")
    invoke("open-incident", str(cand))
    invoke.home = home
    return invoke


def _timeline(run, iid):
    path = run.home / f"t{iid}.json"
    run("export", str(iid), "--format", "json", "-o", str(path), "--force")
    data = json.loads(path.read_text(encoding="utf-8"))
    return [(e["kind"], e["actor"], e["summary"]) for e in data["timeline"]]


def test_review_findings_and_action_items(run):
    out = run("review", "1").output
    assert "事件 #1" in out and "做得好的：（未填写）" in out and "整改事项：无" in out
    before = len(_timeline(run, 1))

    out = run("review", "1", "--well", "2小时内发布首次通报", "--late", "交办晚了6小时", "--why", "夜间无人值守",
              "--action", "区住建局|2026-06-13|完善夜间巡查制度",
              "--action", "区卫计局｜2026-07-31｜建立卫生院舆情联络员机制").output
    assert "复盘已更新" in out and "2小时内发布首次通报" in out
    assert "1. 区住建局 · 2026-06-13 前 · 完善夜间巡查制度 · 待办（已逾期）" in out  # due yesterday, desk time
    assert "2. 区卫健局 · 2026-07-31 前" in out  # the former name is stored canonical

    events = _timeline(run, 1)[before:]
    assert [k for k, _, _ in events] == ["review"] * 3 + ["review_action"] * 2
    assert all(actor == "值班员" for _, actor, _ in events)
    assert events[0][2] == "复盘（做得好的）：2小时内发布首次通报"

    data = json.loads(run("review", "1", "--action-status", "2=进行中", "--action-done", "1", "--json").output)
    assert [(a["no"], a["status"], a["overdue"]) for a in data["actions"]] == [(1, "已完成", False), (2, "进行中", False)]
    assert data["well"] == "2小时内发布首次通报" and data["actions"][0]["done_at"].endswith("+08:00")
    assert [s for k, _, s in _timeline(run, 1) if k == "review_action"][-2:] == [
        "整改事项 2（区卫健局，2026-07-31 前）：待办 → 进行中", "整改事项 1（区住建局，2026-06-13 前）：待办 → 已完成"]
    # the same value again records nothing
    n = len(_timeline(run, 1))
    run("review", "1", "--well", "2小时内发布首次通报", "--action-done", "1")
    assert len(_timeline(run, 1)) == n


def test_bad_review_input_is_refused_and_nothing_written(run):
    run("review", "1", "--action", "区住建局|2026-07-31|整改一")
    n = len(_timeline(run, 1))
    res = run("review", "1", "--well", "写了也不该留下", "--action", "区主建局|2026-07-31|x", ok=False)
    assert "未知单位「区主建局」" in res.output and "区住建局" in res.output
    res = run("review", "1", "--well", "写了也不该留下", "--action-done", "1", "--action-done", "5", ok=False)
    assert "没有第 5 项整改事项" in res.output
    assert "日期" in run("review", "1", "--action", "区住建局|2026-02-30|x", ok=False).output
    assert "责任单位|完成时限|事项" in run("review", "1", "--action", "区住建局|2026-07-31", ok=False).output
    assert "待办/进行中/已完成" in run("review", "1", "--action-status", "1=完成", ok=False).output
    assert "不存在" in run("review", "9", "--well", "x", ok=False).output
    data = json.loads(run("review", "1", "--json").output)
    assert data["well"] == "" and [a["status"] for a in data["actions"]] == ["待办"]
    assert len(_timeline(run, 1)) == n


def test_review_in_exports_and_open_actions_in_the_weekly_report(run):
    run("review", "1", "--well", "首发通报及时", "--late", "部门回复慢", "--why", "联络员不在岗",
        "--action", "区住建局|2026-06-20|完善夜间巡查制度", "--action", "铺镇|2026-06-30|建立网格员报送机制")
    run("review", "2", "--action", "区教体局|2026-06-10|食堂检查全覆盖", "--action", "区教体局|2026-06-25|已完成的一项")
    run("review", "2", "--action-done", "2")
    home = run.home

    md_path = home / "r1.md"
    run("export", "1", "--format", "md", "-o", str(md_path))
    md = md_path.read_text(encoding="utf-8")
    section = md[md.index("## 七、复盘"):md.index("## 八、附件")]
    assert "- 做得好的：首发通报及时" in section and "- 迟滞环节：部门回复慢" in section
    assert "- 原因分析：联络员不在岗" in section
    assert "| 1 | 区住建局 | 2026-06-20 | 完善夜间巡查制度 | 待办 |" in section
    assert "| 2 | 铺镇 | 2026-06-30 | 建立网格员报送机制 | 待办 |" in section

    docx_path = home / "r1.docx"
    run("export", "1", "--format", "docx", "-o", str(docx_path))
    doc = Document(str(docx_path))
    texts = [p.text for p in doc.paragraphs]
    i = texts.index("七、复盘")
    assert texts[i:i + 8] == ["七、复盘", "（一）做得好的", "首发通报及时", "（二）迟滞环节", "部门回复慢",
                              "（三）原因分析", "联络员不在岗", "（四）整改事项"]
    rows = [[c.text for c in r.cells] for t in doc.tables for r in t.rows]
    assert ["1", "区住建局", "2026-06-20", "完善夜间巡查制度", "待办"] in rows

    html_path = home / "r1.html"
    run("export", "1", "--format", "html", "-o", str(html_path))
    assert "<h2>七、复盘</h2>" in html_path.read_text(encoding="utf-8")

    weekly = run("report", "weekly", "--from", "2026-06-08", "--to", "2026-06-14").output
    section = weekly[weekly.index("## 复盘整改事项"):]
    assert section.startswith("## 复盘整改事项（未完成 3 项）")
    lines = [ln for ln in section.splitlines() if ln.startswith("| #")]
    assert lines[0].startswith("| #2 武乡镇学校食堂投诉 | 区教体局 | 2026-06-10 | 食堂检查全覆盖 | 待办（已逾期） |")
    assert any("| 区住建局 | 2026-06-20 | 完善夜间巡查制度 | 待办 |" in ln for ln in lines)
    assert any("| 铺镇 | 2026-06-30 | 建立网格员报送机制 | 待办 |" in ln for ln in lines)
    assert "已完成的一项" not in weekly  # done items are not listed

    wdocx = home / "weekly.docx"
    run("report", "weekly", "--from", "2026-06-08", "--to", "2026-06-14", "--format", "docx", "-o", str(wdocx))
    doc = Document(str(wdocx))
    assert any(p.text == "复盘整改事项（未完成 3 项）" for p in doc.paragraphs)
    rows = [[c.text for c in r.cells] for r in doc.tables[-1].rows]
    assert rows[0] == ["事件", "责任单位", "完成时限", "事项", "状态"] and len(rows) == 4
    assert not any("已完成的一项" in c for r in rows for c in r)
    daily = run("report", "daily").output
    assert "复盘整改事项" not in daily  # the weekly report only


def test_templates_command_lists_copies_and_checks(tmp_path):
    runner = CliRunner()
    home = tmp_path / "home"

    def invoke(*args):
        return runner.invoke(climod.cli, ["--home", str(home), *args])

    from yuqing.config import init_home
    from yuqing.home import DeskHome

    init_home(DeskHome(home))  # what `yuqing init` writes (without training the topic model)
    assert (home / "templates" / "README.txt").is_file()  # the folder, and what goes in it
    listed = invoke("templates").output
    assert "incident_report.docx" in listed and "默认" in listed and "本地" not in listed
    res = invoke("templates", "--copy", "incident_report.md.j2")
    assert res.exit_code == 0 and (home / "templates" / "incident_report.md.j2").is_file()
    assert "本地" in invoke("templates").output
    assert "kept" in invoke("templates", "--copy", "incident_report.md.j2").output  # not overwritten
    assert invoke("templates", "--copy", "nope.docx").exit_code != 0
    assert invoke("templates", "--check").exit_code == 0
    (home / "templates" / "incident_report.md.j2").write_text("# {{ incident.title }}\n\n{% if x %}\n",
                                                              encoding="utf-8")
    res = invoke("templates", "--check")
    assert res.exit_code != 0
    assert f"{home / 'templates' / 'incident_report.md.j2'} 第 3 行" in res.output and "endif" in res.output


def test_review_reads_as_anyone_and_changes_as_staff_who_may_act(run):
    runner = CliRunner()

    def raw(*args):
        return runner.invoke(climod.cli, ["--home", str(run.home), *args])

    n = len(_timeline(run, 1))
    assert raw("staff", "add", "wang", "--name", "王伟", "--role", "admin").exit_code == 0
    assert raw("staff", "add", "zhao", "--name", "赵敏", "--role", "viewer", "--as", "wang").exit_code == 0
    assert "做得好的：（未填写）" in raw("review", "1", "--as", "zhao").output  # a viewer reads
    res = raw("review", "1", "--as", "zhao", "--well", "查看员不能写")
    assert res.exit_code != 0 and "无权" in res.output
    res = raw("review", "1", "--as", "nobody", "--well", "x")
    assert res.exit_code != 0 and "nobody" in res.output
    assert raw("review", "1", "--as", "wang", "--well", "首发及时").exit_code == 0
    path = run.home / "t.json"
    assert raw("export", "1", "--format", "json", "-o", str(path), "--as", "wang").exit_code == 0
    events = json.loads(path.read_text(encoding="utf-8"))["timeline"][n:]
    assert [(e["kind"], e["actor"]) for e in events] == [("review", "wang")]


def test_handover_renders_from_the_templates(tmp_path):
    from tests.functional.test_cli_handover import _desk, _run

    home = _desk(tmp_path)
    html_path = tmp_path / "h.html"
    assert _run(home, "handover", "--format", "html", "-o", str(html_path)).exit_code == 0
    html = html_path.read_text(encoding="utf-8")
    assert "<h2>在办事件（2 起，按剩余时间）</h2>" in html and "<td>汉中路街道小区停水三天</td>" in html
    assert "<p>无。</p>" in html
    docx_path = tmp_path / "h.docx"
    assert _run(home, "handover", "--format", "docx", "-o", str(docx_path)).exit_code == 0
    doc = Document(str(docx_path))
    assert round(doc.sections[0].page_width.mm) == 210 and doc.paragraphs[0].style.name == "Title"
    assert [c.text for c in doc.tables[0].rows[0].cells][:3] == ["编号", "事件", "等级"]
    (home / "templates").mkdir(exist_ok=True)
    (home / "templates" / "handover.md.j2").write_text("{{ title }}：{{ sections|length }} 项\n", encoding="utf-8")
    assert _run(home, "handover").output.startswith("舆情值班交接班报告：6 项")
