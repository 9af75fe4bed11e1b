"""Daily/weekly reports and the on-time league table on a constructed history."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest

from responders.reports import build_period_report, league_table, period_for, render_report
from storage.timeutil import DEFAULT_TZ
from tests.responders_kit import PUZHEN, T0, WUXIANG, Clock, candidate, make_service

H = timedelta(hours=1)


@pytest.fixture
def history(tmp_path, backend):
    """Five incidents opened on 2026-06-14 (Beijing) with known outcomes at T0 + 30 h.

    A 区住建局 + 铺镇: released after 3 h (on time)      B 区住建局 + 铺镇: released after 30 h (late)
    C 区教体局 + 武乡镇: no release, 24 h passed (overdue)  D 区教体局 (重大 5 h): released at 4 h (on time)
    E 区住建局: dismissed as 误报                          F merged into A (not counted)
    The units named are assigned (交办) at T0; routing also suggested 区财政局 for each, which nobody
    assigned. Each assigned unit feeds back (反馈) when its incident is released (A 3 h, D 4 h, B 30 h
    after the assignment, 24 h allowed); C's unit never does.
    """
    clock = Clock(T0)
    svc = make_service(tmp_path, clock, target=backend)

    def open_(sid, units, places, topic, severity="一般", fp=T0):
        inc = svc.open_or_join(candidate(sid, title=f"事件{sid}", units=(*units, "区财政局", "区委宣传部"),
                                         places=places, topic=topic, severity=severity, item_ids=(sid,),
                                         first_published=fp, departments=())).incident
        return svc.assign(inc.id, units, actor="值班员")

    a = open_("A", ("区住建局",), (PUZHEN,), "住房保障")
    b = open_("B", ("区住建局",), (PUZHEN,), "征地拆迁")
    c = open_("C", ("区教体局",), (WUXIANG,), "教育")
    d = open_("D", ("区教体局",), (), "安全生产", "重大")
    e = open_("E", ("区住建局",), (), "其他")
    f = open_("F", ("区住建局",), (), "价格收费")
    clock.set(T0 + 3 * H)
    svc.record_release(a.id, channel="政府网站", url="https://g/a")
    svc.followup(a.id, "已核实，正在处置", unit="区住建局")
    clock.set(T0 + 4 * H)
    svc.record_release(d.id, channel="政务微博", url="https://g/d")
    svc.followup(d.id, "已停工整改", unit="区教体局")
    svc.dismiss(e.id, "非本区事件", state="误报")
    svc.merge(a.id, [f.id])
    clock.set(T0 + 30 * H)
    svc.record_release(b.id, channel="政府网站", url="https://g/b")
    svc.followup(b.id, "已约谈", unit="区住建局")
    svc.record_release(a.id, channel="政府网站", url="https://g/a2", kind="final")
    return svc, {"A": a.id, "B": b.id, "C": c.id, "D": d.id, "E": e.id}


def _units(svc, now):
    incs = svc.list(include_closed=True)
    return league_table(incs, now, "unit", feedback=svc.feedback_for(incs, now))


def test_league_table_by_unit(history):
    svc, ids = history
    rows = {r.name: r for r in _units(svc, svc.clock())}
    zj, jt = rows["区住建局"], rows["区教体局"]
    assert (zj.incidents, zj.on_time, zj.late, zj.overdue_open, zj.pending, zj.dismissed, zj.final) == (3, 1, 1, 0, 0, 1, 1)
    assert zj.rate == 0.5 and zj.mean_release_hours == 16.5
    assert (jt.incidents, jt.on_time, jt.late, jt.overdue_open) == (2, 1, 0, 1)
    assert jt.rate == 0.5 and jt.mean_release_hours == 4.0
    # the merged-away F is not counted; 区财政局 was only suggested by routing: never ranked
    assert set(rows) == {"区住建局", "区教体局", "区委宣传部"}
    owner = rows["区委宣传部"]  # charged for the release clock of every incident
    assert (owner.incidents, owner.on_time, owner.late, owner.overdue_open, owner.dismissed) == (5, 2, 1, 1, 1)
    assert owner.role != zj.role and zj.role == jt.role == "交办反馈（交办单位）"


def test_assigned_units_are_charged_for_their_feedback_not_the_release(history):
    svc, ids = history
    # A was released on time but its unit is only ever heard from late: the unit is late
    svc.assign(ids["A"], ["区教体局"])  # T0 + 30 h: a second unit, feedback due T0 + 54 h
    rows = {r.name: r for r in _units(svc, T0 + 55 * H)}
    jt = rows["区教体局"]
    assert (jt.incidents, jt.on_time, jt.late, jt.overdue_open, jt.pending) == (3, 1, 0, 2, 0)
    rows = {r.name: r for r in _units(svc, T0 + 40 * H)}
    assert rows["区教体局"].pending == 1 and rows["区委宣传部"].incidents == 5
    with pytest.raises(ValueError):
        league_table(svc.list(include_closed=True), T0, "unit")  # the feedback must be given


def test_league_table_by_town_and_ordering(history):
    svc, _ = history
    rows = league_table(svc.list(include_closed=True), svc.clock(), "town")
    assert [(r.name, r.incidents, r.rate) for r in rows] == [("铺镇", 2, 0.5), ("武乡镇", 1, 0.0)]


def test_pending_within_the_clock(history):
    svc, _ = history
    early = {r.name: r for r in _units(svc, T0 + 5 * H)}
    # At T0+5h C is still within its 24 h clock and its unit's 24 h feedback window.
    assert early["区教体局"].pending == 1 and early["区教体局"].overdue_open == 0


def test_period_bounds_are_beijing_days():
    now = datetime(2026, 6, 14, 20, 0, tzinfo=DEFAULT_TZ)
    s, e = period_for("daily", now)
    assert (s.isoformat(), e.isoformat()) == ("2026-06-14T00:00:00+08:00", "2026-06-15T00:00:00+08:00")
    s, e = period_for("weekly", now)
    assert s.date() == date(2026, 6, 8) and e.date() == date(2026, 6, 15)
    s, e = period_for("performance", now, date(2026, 6, 1), date(2026, 6, 30))
    assert s.date() == date(2026, 6, 1) and e.date() == date(2026, 7, 1)


def test_reports_render_in_every_format(history, tmp_path):
    from docx import Document

    svc, ids = history
    start, end = period_for("weekly", T0, date(2026, 6, 14), date(2026, 6, 14))
    rep = build_period_report(svc, "weekly", start, end)
    assert len(rep["incidents"]) == 5  # F merged away
    assert {i["outcome"] for i in rep["incidents"]} == {"按时", "超时发布", "超时未发布", "误报/不予处置"}
    md = render_report(rep, "md").decode()
    assert "# 舆情周报" in md and "责任单位按时排名" in md and "| 区住建局 | 3 | 1 | 1 | 0 | 0 | 1 | 1 | 50% | 16.5 |" in md
    html = render_report(rep, "html").decode()
    assert "镇办按时发布排名" in html and "<script" not in html
    rows = list(csv.reader(io.StringIO(render_report(rep, "csv").decode("utf-8-sig"))))
    assert ["区教体局", "2", "1", "0", "1", "0", "0", "0", "50%", "4.0", "交办反馈（交办单位）"] in rows
    assert not any(r and r[0] == "区财政局" for r in rows)
    (tmp_path / "w.docx").write_bytes(render_report(rep, "docx"))
    doc = Document(str(tmp_path / "w.docx"))
    assert any(p.text == "镇办按时发布排名" for p in doc.paragraphs) and len(doc.tables) == 6  # + open action items
    perf = build_period_report(svc, "performance", start, end)
    assert "本期事件" not in render_report(perf, "md").decode()
    daily = build_period_report(svc, "daily", *period_for("daily", T0))
    assert "责任单位按时排名" not in render_report(daily, "md").decode()
    out_of_period = build_period_report(svc, "daily", *period_for("daily", T0 + 72 * H))
    assert out_of_period["incidents"] == [] and len(out_of_period["open"]) == 4  # E dismissed, F merged
