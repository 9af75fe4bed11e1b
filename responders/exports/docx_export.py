"""DOCX rendering (python-docx) in the 舆情处置报告 layout."""
from __future__ import annotations

import io
import re

from responders.exports.model import INSTRUCTION_HEADER, edited_mark, fmt_duration, fmt_time, instruction_rows
from storage.timeutil import zone_label

# XML 1.0 forbids most control characters; feed text may carry them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _t(text) -> str:
    return _CONTROL.sub("", "" if text is None else str(text))


def _ok(v) -> str:
    return "—" if v is None else ("是" if v else "否")


def _set_cjk_font(doc, name: str = "宋体") -> None:
    from docx.oxml.ns import qn

    style = doc.styles["Normal"]
    style.font.name = name
    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), name)


def _table(doc, header: list[str] | None, rows: list[list[str]]):
    ncols = len(header) if header else len(rows[0])
    table = doc.add_table(rows=0, cols=ncols)
    table.style = "Table Grid"
    if header:
        cells = table.add_row().cells
        for c, h in zip(cells, header):
            c.text = _t(h)
    for row in rows:
        cells = table.add_row().cells
        for c, v in zip(cells, row):
            c.text = _t(v)
    return table


def render_docx(r: dict) -> bytes:
    from docx import Document

    inc, det, tm, clock = r["incident"], r["detection"], r["timing"], r["clock"]
    doc = Document()
    _set_cjk_font(doc)
    doc.add_heading(_t(f"舆情处置报告：{inc['title']}"), level=0)
    doc.add_paragraph(f"事件编号 #{inc['id']} · 生成时间 {fmt_time(r['generated_at'])}（{zone_label()}）")

    doc.add_heading("一、基本情况", level=1)
    basic = [
        ["事件", inc["title"]], ["状态", inc["state"]], ["等级", f"{inc['severity']}（时限档位 {inc['tier']}）"],
        ["核实", inc["verification"]], ["领域", inc["topic"]], ["涉及地点", "、".join(inc["places"]) or "—"],
        ["涉及部门", "、".join(inc["departments"]) or "—"], ["路由建议单位", "、".join(inc["responsible_units"]) or "—"],
        ["时限", f"{fmt_time(inc['clock_started_at'])} 起 {clock['hours']:g} 小时，截止 {fmt_time(inc['release_due'])}"
               f"（{clock['status_label']}）"],
    ]
    if inc["dismiss_reason"]:
        basic.append(["结案理由", inc["dismiss_reason"]])
    _table(doc, None, basic)

    doc.add_heading("二、监测发现", level=1)
    fp = det["first_publisher"]
    _table(doc, None, [
        ["首发", f"{fp['source']} {fp['title']}（{fp['published_label']}）" if fp else "—"],
        ["首发链接", (fp["url"] if fp else "") or "—"],
        ["最早发布时间", fmt_time(inc["first_published"])
         + (f"（计时起点：{det['clock_start_basis']}）" if det["clock_start_basis"] else "")],
        ["监测发现时间", f"{fmt_time(inc['detected_at'])}（发现滞后 {fmt_duration(det['detection_lag'])}）"],
        ["关联条目", f"{inc['item_count']} 条，来源 {det['source_count']} 个"],
        ["触发原因", inc["trigger"] or "—"],
    ])

    doc.add_heading("三、研判", level=1)
    _table(doc, None, [["等级", inc["severity"]], ["理由", "；".join(inc["severity_reasons"]) or "—"],
                       ["核实状态", inc["verification"]]])

    doc.add_heading("四、处置与发布", level=1)
    doc.add_paragraph(_t(f"交办单位：{'、'.join(inc['assigned_units']) or '—'}"))
    rows = [[rel["kind_label"] + ("（自动检测）" if rel["detected"] else ""), rel["channel"],
             fmt_time(rel["released_at"]), rel["url"], rel["text"]] for rel in r["releases"]]
    _table(doc, ["类型", "渠道", "时间", "链接", "内容"], rows or [["—", "—", "—", "—", "尚无发布"]])
    if r.get("instructions"):
        doc.add_heading("领导批示", level=2)
        _table(doc, INSTRUCTION_HEADER, instruction_rows(r))

    doc.add_heading("五、时间线", level=1)
    _table(doc, ["序号", "时间", "类型", "操作人", "内容"],
           [[str(ev["seq"]), fmt_time(ev["at"]), ev["kind_label"], ev.get("actor_name") or ev["actor"], ev["summary"]] for ev in r["timeline"]])

    doc.add_heading("六、时效统计", level=1)
    _table(doc, None, [
        ["接报确认用时", fmt_duration(tm["time_to_acknowledge"])],
        ["首次权威发布用时", f"{fmt_duration(tm['time_to_first_release'])}（按时：{_ok(tm['on_time'])}）"],
        ["持续发布情况", tm["update_regularity"]],
        ["处置结果发布用时", fmt_duration(tm["time_to_final"])],
    ])

    doc.add_heading("七、附件：证据快照", level=1)
    for i, ev in enumerate(r["evidence"], 1):
        doc.add_paragraph(_t(f"{i}. {ev['source']} · {fmt_time(ev['published'])} · {ev['title']}{edited_mark(ev)}"))
        if ev["url"]:
            doc.add_paragraph(_t(f"链接：{ev['url']}"))
        if ev["text"]:
            doc.add_paragraph(_t(f"摘录：{ev['text'][:1000]}"))
    if not r["evidence"]:
        doc.add_paragraph("无")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
