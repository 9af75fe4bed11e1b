"""Writes the default DOCX report templates in this folder (run it after changing the layout:
``python3 data/templates/build_docx_templates.py``; the generated .docx files are checked in).

The layout follows GB/T 9704-2012 (党政机关公文格式): A4 paper, margins top 37 mm, bottom 35 mm,
left 28 mm, right 26 mm (a 156 × 225 mm text block), 22 lines of 28 characters; the title in
方正小标宋简体 二号 (22 pt) centred; the body in 仿宋_GB2312 三号 (16 pt); first-level headings
(一、) in 黑体 三号, second-level ones in 楷体_GB2312; page numbers in 宋体 四号 (14 pt) as
"— 1 —", odd pages at the right and even pages at the left, one character in from the edge.
Tables use 仿宋_GB2312 小四 (12 pt). East Asian fonts are set explicitly (w:eastAsia), and the
theme fonts of python-docx's blank document are removed so Word does not substitute them.

The text holds docxtpl tags: ``{{ value }}``, ``{%p ... %}`` (a paragraph that is only a tag),
``{%tr ... %}`` (a table row that is only a tag). The data they see is documented in
responders/exports/templates.py and the report builders (responders/exports/model.py,
responders/reports.py).
"""
from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

HERE = Path(__file__).resolve().parent

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING1_FONT = "黑体"
HEADING2_FONT = "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"
LATIN_FONT = "Times New Roman"
LINE_PITCH = Pt(28.95)  # 225 mm / 22 lines
CHAR_SPACE = -849  # docGrid: 156 mm / 28 characters of 16 pt, in 1/4096 pt
TABLE_STYLE = "表格文字"
LABEL_STYLE = "表格标题"
META_STYLE = "文头信息"


def set_fonts(rpr, east: str, latin: str = LATIN_FONT) -> None:
    """Explicit fonts on an rPr element, theme fonts removed (they would win over explicit ones)."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:ascii"), latin)
    rfonts.set(qn("w:hAnsi"), latin)
    rfonts.set(qn("w:eastAsia"), east)
    rfonts.set(qn("w:cs"), latin)


def style_font(style, east: str, size: float, *, bold: bool = False, latin: str = LATIN_FONT) -> None:
    style.font.name = latin
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    rpr = style.element.get_or_add_rPr()
    set_fonts(rpr, east, latin)
    for theme_color in rpr.findall(qn("w:color")):
        theme_color.attrib.pop(qn("w:themeColor"), None)
        theme_color.attrib.pop(qn("w:themeShade"), None)


def paragraph_format(style, *, align=None, first_line: float | None = None, exact: bool = True) -> None:
    pf = style.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    if exact:
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = LINE_PITCH
    else:
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    pf.first_line_indent = Pt(first_line) if first_line else Pt(0)
    if align is not None:
        pf.alignment = align


def remove_border(style) -> None:
    ppr = style.element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):
        ppr.remove(border)


def page_number_paragraph(paragraph, align) -> None:
    """'— N —' with a PAGE field, 宋体 四号, one character in from the page edge."""
    paragraph.alignment = align
    pf = paragraph.paragraph_format
    pf.first_line_indent = Pt(0)
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        pf.right_indent = Pt(14)
    else:
        pf.left_indent = Pt(14)

    def run(text: str = ""):
        r = paragraph.add_run(text)
        r.font.size = Pt(14)
        r.font.name = PAGE_NUMBER_FONT
        set_fonts(r._element.get_or_add_rPr(), PAGE_NUMBER_FONT, PAGE_NUMBER_FONT)
        return r

    run("— ")
    for kind, text in (("begin", None), ("instr", " PAGE "), ("separate", None), ("text", "1"), ("end", None)):
        r = run()
        if kind == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        elif kind == "text":
            el = OxmlElement("w:t")
            el.text = text
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        r._element.append(el)
    run(" —")


def base_document(title_size: float = 22) -> Document:
    doc = Document()
    props = doc.core_properties
    props.title, props.author, props.comments, props.keywords = "", "舆情值班台", "", ""
    props.last_modified_by = "舆情值班台"
    props.created = props.modified = datetime(2026, 1, 1)  # reproducible files
    props.revision = 1

    # Document defaults: no theme fonts anywhere.
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_fonts(rpr_default, BODY_FONT)
    for lang in rpr_default.findall(qn("w:lang")):
        lang.set(qn("w:val"), "en-US")
        lang.set(qn("w:eastAsia"), "zh-CN")

    normal = doc.styles["Normal"]
    style_font(normal, BODY_FONT, 16)
    paragraph_format(normal, align=WD_ALIGN_PARAGRAPH.JUSTIFY, first_line=32)  # 首行缩进两字

    title = doc.styles["Title"]
    style_font(title, TITLE_FONT, title_size)
    remove_border(title)
    paragraph_format(title, align=WD_ALIGN_PARAGRAPH.CENTER, exact=False)
    title.paragraph_format.space_after = LINE_PITCH  # one blank line under the title

    h1 = doc.styles["Heading 1"]
    style_font(h1, HEADING1_FONT, 16)
    paragraph_format(h1, first_line=32)
    h1.paragraph_format.keep_with_next = True
    h2 = doc.styles["Heading 2"]
    style_font(h2, HEADING2_FONT, 16)
    paragraph_format(h2, first_line=32)
    h2.paragraph_format.keep_with_next = True

    meta = doc.styles.add_style(META_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    meta.base_style = normal
    style_font(meta, HEADING2_FONT, 16)
    paragraph_format(meta, align=WD_ALIGN_PARAGRAPH.CENTER)

    table_text = doc.styles.add_style(TABLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    table_text.base_style = normal
    style_font(table_text, BODY_FONT, 12)
    paragraph_format(table_text, align=WD_ALIGN_PARAGRAPH.LEFT, exact=False)
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    table_text.element.get_or_add_pPr().append(snap)
    label = doc.styles.add_style(LABEL_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    label.base_style = table_text
    style_font(label, HEADING1_FONT, 12)

    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(23)
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(round(LINE_PITCH.pt * 20)))
    grid.set(qn("w:charSpace"), str(CHAR_SPACE))

    doc.settings.odd_and_even_pages_header_footer = True
    page_number_paragraph(section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT)
    page_number_paragraph(section.even_page_footer.paragraphs[0], WD_ALIGN_PARAGRAPH.LEFT)
    # python-docx's blank document starts with no paragraph; nothing to clear.
    return doc


def para(doc, text: str, style: str | None = None):
    return doc.add_paragraph(text, style=style)


def heading(doc, text: str, level: int = 1):
    return doc.add_paragraph(text, style=f"Heading {level}")


def _cell(cell, text: str, style: str = TABLE_STYLE) -> None:
    p = cell.paragraphs[0]
    p.style = style
    p.add_run(text)


def _tag_row(table, tag: str) -> None:
    """A row that holds only a docxtpl row tag ({%tr ... %}); docxtpl removes it when rendering."""
    cells = table.add_row().cells
    _cell(cells[0], tag)


def keyvalue_table(doc, rows: list[tuple[str, str] | tuple[str, str, str]]) -> None:
    """Label | value rows; a third element is a jinja condition the row depends on."""
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for row in rows:
        cond = row[2] if len(row) > 2 else None
        if cond:
            _tag_row(table, f"{{%tr if {cond} %}}")
        cells = table.add_row().cells
        _cell(cells[0], row[0], LABEL_STYLE)
        _cell(cells[1], row[1])
        if cond:
            _tag_row(table, "{%tr endif %}")
    for row in table.rows:
        row.cells[0].width = Mm(38)
        row.cells[1].width = Mm(118)


def loop_table(doc, header: list[str], loop: str, cells: list[str], empty: list[str] | None = None,
               widths: list[float] | None = None) -> None:
    """A header row, then one row per item of ``loop`` ("x in xs"), or the ``empty`` row."""
    table = doc.add_table(rows=0, cols=len(header))
    table.style = "Table Grid"
    for c, h in zip(table.add_row().cells, header):
        _cell(c, h, LABEL_STYLE)
    _tag_row(table, f"{{%tr for {loop} %}}")
    for c, v in zip(table.add_row().cells, cells):
        _cell(c, v)
    if empty:
        _tag_row(table, "{%tr else %}")
        for c, v in zip(table.add_row().cells, empty):
            _cell(c, v)
    _tag_row(table, "{%tr endfor %}")
    if widths:
        for row in table.rows:
            for c, w in zip(row.cells, widths):
                c.width = Mm(w)


# ------------------------------------------------------------------ the templates

def incident_report() -> Document:
    doc = base_document()
    para(doc, "舆情处置报告：{{ incident.title }}", "Title")
    para(doc, "事件编号 #{{ incident.id }} · 生成时间 {{ generated_at|time }}（{{ zone }}）", META_STYLE)

    heading(doc, "一、基本情况")
    keyvalue_table(doc, [
        ("事件", "{{ incident.title }}"), ("状态", "{{ incident.state }}"),
        ("等级", "{{ incident.severity }}（时限档位 {{ incident.tier }}）"), ("核实", "{{ incident.verification }}"),
        ("领域", "{{ incident.topic }}"), ("涉及地点", '{{ incident.places|join("、") or "—" }}'),
        ("涉及部门", '{{ incident.departments|join("、") or "—" }}'),
        ("路由建议单位", '{{ incident.responsible_units|join("、") or "—" }}'),
        ("时限", "{{ incident.clock_started_at|time }} 起 {{ clock.hours|num }} 小时，截止 "
                 "{{ incident.release_due|time }}（{{ clock.status_label }}）"),
        ("结案理由", "{{ incident.dismiss_reason }}", "incident.dismiss_reason"),
    ])

    heading(doc, "二、监测发现")
    fp = "detection.first_publisher"
    keyvalue_table(doc, [
        ("首发", f"{{% if {fp} %}}{{{{ {fp}.source }}}} {{{{ {fp}.title }}}}（{{{{ {fp}.published_label }}}}）"
                 "{% else %}—{% endif %}"),
        ("首发链接", f'{{{{ ({fp}.url if {fp} else "") or "—" }}}}'),
        ("最早发布时间", "{{ incident.first_published|time }}{% if detection.clock_start_basis %}"
                   "（计时起点：{{ detection.clock_start_basis }}）{% endif %}"),
        ("监测发现时间", "{{ incident.detected_at|time }}（发现滞后 {{ detection.detection_lag|duration }}）"),
        ("关联条目", "{{ incident.item_count }} 条，来源 {{ detection.source_count }} 个"),
        ("触发原因", '{{ incident.trigger or "—" }}'),
    ])

    heading(doc, "三、研判")
    keyvalue_table(doc, [("等级", "{{ incident.severity }}"),
                         ("理由", '{{ incident.severity_reasons|join("；") or "—" }}'),
                         ("核实状态", "{{ incident.verification }}")])

    heading(doc, "四、处置与发布")
    para(doc, '交办单位：{{ incident.assigned_units|join("、") or "—" }}')
    loop_table(doc, ["类型", "渠道", "时间", "链接", "内容"], "rel in releases",
               ["{{ rel.kind_label }}{% if rel.detected %}（自动检测）{% endif %}", "{{ rel.channel }}",
                "{{ rel.released_at|time }}", "{{ rel.url }}", "{{ rel.text }}"],
               ["—", "—", "—", "—", "尚无发布"], [24, 24, 30, 34, 44])
    para(doc, "{%p if instructions %}")
    heading(doc, "领导批示", 2)
    loop_table(doc, ["编号", "批示人", "批示时间", "落实时限", "批示内容", "状态", "反馈人", "反馈时间", "反馈内容"],
               "i in instructions",
               ["#{{ i.id }}", "{{ i.leader_name }}", "{{ i.given_at|time }}", '{{ i.due_at|time or "—" }}',
                "{{ i.text }}", "{{ i.status_label }}", '{{ i.done_by_name or "—" }}', '{{ i.done_at|time or "—" }}',
                '{{ i.feedback or "—" }}'])
    para(doc, "{%p endif %}")

    heading(doc, "五、时间线")
    loop_table(doc, ["序号", "时间", "类型", "操作人", "内容"], "ev in timeline",
               ["{{ ev.seq }}", "{{ ev.at|time }}", "{{ ev.kind_label }}", "{{ ev.actor_name or ev.actor }}",
                "{{ ev.summary }}"],
               widths=[14, 30, 22, 22, 68])

    heading(doc, "六、时效统计")
    keyvalue_table(doc, [
        ("接报确认用时", "{{ timing.time_to_acknowledge|duration }}"),
        ("首次权威发布用时", "{{ timing.time_to_first_release|duration }}（按时：{{ timing.on_time|yesno }}）"),
        ("持续发布情况", "{{ timing.update_regularity }}"),
        ("处置结果发布用时", "{{ timing.time_to_final|duration }}"),
    ])

    heading(doc, "七、复盘")
    heading(doc, "（一）做得好的", 2)
    para(doc, '{{ review.well or "尚未填写" }}')
    heading(doc, "（二）迟滞环节", 2)
    para(doc, '{{ review.late or "尚未填写" }}')
    heading(doc, "（三）原因分析", 2)
    para(doc, '{{ review.why or "尚未填写" }}')
    heading(doc, "（四）整改事项", 2)
    loop_table(doc, ["序号", "责任单位", "完成时限", "事项", "状态"], "a in review.actions",
               ["{{ a.no }}", "{{ a.unit }}", "{{ a.due_label }}", "{{ a.text }}",
                "{{ a.status }}{% if a.overdue %}（已逾期）{% endif %}"],
               ["—", "—", "—", "尚无整改事项", "—"], [14, 34, 26, 58, 24])

    heading(doc, "八、附件：证据快照")
    para(doc, "{%p for ev in evidence %}")
    para(doc, "{{ loop.index }}. {{ ev.source }} · {{ ev.published|time }} · {{ ev.title }}{{ ev|edited }}")
    para(doc, "{%p if ev.url %}")
    para(doc, "链接：{{ ev.url }}")
    para(doc, "{%p endif %}")
    para(doc, "{%p if ev.text %}")
    para(doc, "摘录：{{ ev.text[:1000] }}")
    para(doc, "{%p endif %}")
    para(doc, "{%p else %}")
    para(doc, "无")
    para(doc, "{%p endfor %}")
    return doc


LEAGUE_HEADER = ["单位/镇办", "事件数", "按时", "超时完成", "超时未完成", "时限内待完成", "处置结果已发布",
                 "误报/不予处置", "按时率", "平均用时（小时）", "考核口径"]
LEAGUE_CELLS = ["{{ r.name }}", "{{ r.incidents }}", "{{ r.on_time }}", "{{ r.late }}", "{{ r.overdue_open }}",
                "{{ r.pending }}", "{{ r.final }}", "{{ r.dismissed }}", "{{ r.on_time_rate|pct }}",
                "{{ r.mean_hours_to_first_release|hours1 }}", "{{ r.role }}"]


def _period_head(doc, line: str = "period_line") -> None:
    para(doc, "{{ title }}", "Title")
    para(doc, f"{{{{ {line} }}}}", META_STYLE)


def _period_sections(doc) -> None:
    heading(doc, "本期事件（{{ incidents|length }} 起）")
    loop_table(doc, ["编号", "事件", "等级", "状态", "最早发布", "时限", "发布情况", "涉及地点", "交办单位"],
               "i in incidents",
               ["{{ i.id }}", "{{ i.title }}", "{{ i.severity }}", "{{ i.state }}", "{{ i.first_published|time }}",
                "{{ i.due|time }}", "{{ i.outcome }}", "{{ i.places }}", "{{ i.units }}"])
    heading(doc, "当前在办事件（{{ open|length }} 起）")
    loop_table(doc, ["编号", "事件", "等级", "状态", "时限", "计时", "剩余", "交办单位"], "o in open",
               ["{{ o.id }}", "{{ o.title }}", "{{ o.severity }}", "{{ o.state }}", "{{ o.due|time }}",
                "{{ o.status }}", "{{ o.remaining|duration }}", "{{ o.units }}"])
    heading(doc, "本期发布（{{ releases|length }} 次）")
    loop_table(doc, ["事件", "类型", "渠道", "时间", "链接"], "r in releases",
               ["#{{ r.incident }} {{ r.title }}", "{{ r.kind }}", "{{ r.channel }}", "{{ r.at|time }}", "{{ r.url }}"])


def _league_sections(doc) -> None:
    heading(doc, "{{ unit_league_title }}")
    loop_table(doc, LEAGUE_HEADER, "r in by_unit", LEAGUE_CELLS)
    heading(doc, "镇办按时发布排名")
    loop_table(doc, LEAGUE_HEADER, "r in by_town", LEAGUE_CELLS)


def _open_actions(doc) -> None:
    heading(doc, "复盘整改事项（未完成 {{ open_actions|length }} 项）")
    loop_table(doc, ["事件", "责任单位", "完成时限", "事项", "状态"], "a in open_actions",
               ["#{{ a.incident_id }} {{ a.incident_title }}", "{{ a.unit }}", "{{ a.due_label }}", "{{ a.text }}",
                "{{ a.status }}{% if a.overdue %}（已逾期）{% endif %}"],
               ["—", "—", "—", "无未完成的整改事项", "—"], [40, 30, 26, 40, 20])


def daily_report() -> Document:
    doc = base_document()
    _period_head(doc)
    _period_sections(doc)
    return doc


def weekly_report() -> Document:
    doc = base_document()
    _period_head(doc)
    _period_sections(doc)
    _league_sections(doc)
    _open_actions(doc)
    return doc


def performance_report() -> Document:
    doc = base_document()
    _period_head(doc)
    _league_sections(doc)
    return doc


#: columns of each handover section, in the order responders/handover.py (handover_sections) lists them
HANDOVER_COLUMNS = [8, 5, 6, 4, 3, 4]


def handover_report() -> Document:
    """舆情值班交接班报告: the headings and column names come with the data, the layout from here."""
    doc = base_document()
    _period_head(doc, "meta")
    for i, ncols in enumerate(HANDOVER_COLUMNS):
        sec = f"sections[{i}]"
        heading(doc, f"{{{{ {sec}.heading }}}}")
        para(doc, f"{{%p if {sec}.rows %}}")
        loop_table(doc, [f"{{{{ {sec}.header[{j}] }}}}" for j in range(ncols)], f"row in {sec}.rows",
                   [f"{{{{ row[{j}] }}}}" for j in range(ncols)])
        para(doc, "{%p else %}")
        para(doc, "无。")
        para(doc, "{%p endif %}")
    return doc


TEMPLATES = {
    "incident_report.docx": incident_report,
    "daily_report.docx": daily_report,
    "weekly_report.docx": weekly_report,
    "performance_report.docx": performance_report,
    "handover.docx": handover_report,
}


def main(out_dir: Path = HERE) -> list[Path]:
    written = []
    for name, build in TEMPLATES.items():
        path = out_dir / name
        build().save(str(path))
        written.append(path)
    return written


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(f"wrote {p}")
