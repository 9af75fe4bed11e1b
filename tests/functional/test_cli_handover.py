"""The handover report and its acceptance through the CLI on a real desk."""
from __future__ import annotations

import json

from click.testing import CliRunner
from docx import Document

from tests.cli_kit import health_candidate
from yuqing.cli import cli


def _run(home, *args, now="2026-06-14T20:00:00+08:00", monkeypatch=None):
    env = {"YUQING_NOW": now}
    return CliRunner(env=env).invoke(cli, ["--home", str(home), *args], catch_exceptions=False)


def _desk(tmp_path):
    home = tmp_path / "home"
    assert _run(home, "init").exit_code == 0
    for n, sid in enumerate(("s-a", "s-b"), 1):
        cand = tmp_path / f"c{n}.json"
        c = health_candidate(sid)
        if n == 2:
            c.update(title="汉中路街道小区停水三天", places=[{"code": "610702001", "name": "北关街道", "level": "town"}],
                     topic="城乡建设", departments=[], responsible_units=["北关街道"], severity="重大", item_ids=[2],
                     first_published="2026-06-14T12:00:00+08:00", detected_at="2026-06-14T12:30:00+08:00")
        cand.write_text(json.dumps(c, ensure_ascii=False), encoding="utf-8")
        assert _run(home, "open-incident", str(cand), now="2026-06-14T09:00:00+08:00").exit_code == 0
    assert _run(home, "staff", "add", "wang", "--name", "王伟", "--role", "admin").exit_code == 0
    assert _run(home, "staff", "add", "li", "--name", "李娜", "--role", "officer", "--as", "wang").exit_code == 0
    assert _run(home, "ack", "1", "--as", "wang", now="2026-06-14T10:00:00+08:00").exit_code == 0
    return home


def test_handover_lists_open_incidents_by_time_left_and_the_shifts_actions(tmp_path, backend):
    home = _desk(tmp_path)
    out = _run(home, "handover", "--json")
    assert out.exit_code == 0, out.output
    rep = json.loads(out.output)
    listed = json.loads(_run(home, "incidents", "--json").output)
    due = {i["id"]: i["release_due"] for i in listed}
    assert [(r["id"], r["release_due"]) for r in rep["open_incidents"]] == sorted(
        due.items(), key=lambda kv: kv[1])  # the graver incident's clock ends first
    assert rep["open_incidents"][0]["id"] == 2
    acts = [(d["incident"], d["actor_name"], d["what"]) for d in rep["done"]]
    assert (1, "王伟", "确认接报") in acts
    md = _run(home, "handover").output
    assert "舆情值班交接班报告" in md and "在办事件（2 起" in md and "时间线见证" in md


def test_acceptance_is_a_chained_timeline_event_and_starts_the_next_shift(tmp_path, backend):
    home = _desk(tmp_path)
    refused = _run(home, "handover", "accept", "--as", "nobody")
    assert refused.exit_code != 0 and "未登记的人员" in refused.output
    ok = _run(home, "handover", "accept", "--as", "li", "--note", "已阅")
    assert ok.exit_code == 0 and "已接班：li" in ok.output
    assert _run(home, "verify").exit_code == 0
    # the next report covers only what happened after the acceptance
    assert _run(home, "note", "2", "已联系北关街道", "--as", "li", now="2026-06-14T21:00:00+08:00").exit_code == 0
    rep = json.loads(_run(home, "handover", "--json", now="2026-06-14T22:00:00+08:00").output)
    assert rep["since"].startswith("2026-06-14T20:00:00+08:00")
    assert [(d["incident"], d["actor"]) for d in rep["done"]] == [(2, "li")]


def test_handover_docx_reads_back(tmp_path, backend):
    home = _desk(tmp_path)
    path = tmp_path / "交接班.docx"
    out = _run(home, "handover", "--format", "docx", "-o", str(path))
    assert out.exit_code == 0, out.output
    text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    assert "舆情值班交接班报告" in text and "待落实的领导批示" in text
    cells = [c.text for t in Document(str(path)).tables for r in t.rows for c in r.cells]
    assert "汉中路街道小区停水三天" in cells
    again = _run(home, "handover", "--format", "docx", "-o", str(path))
    assert again.exit_code != 0  # an existing file is kept unless --force
