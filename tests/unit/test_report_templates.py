"""Report templates: the GB/T 9704 layout of the default DOCX read back, a home template overriding
a default, and broken templates named with their file and line."""
from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from docx import Document
from docx.oxml.ns import qn

from responders.exports import export_incident
from responders.exports.templates import DEFAULT_DIR, TemplateError, find_template, render_docx, render_text
from tests.responders_kit import T0, Clock, candidate, make_service

DOCX_DEFAULTS = ["incident_report.docx", "daily_report.docx", "weekly_report.docx", "performance_report.docx",
                 "handover.docx"]


@pytest.fixture
def svc_incident(tmp_path):
    clock = Clock(T0 + timedelta(hours=1))
    svc = make_service(tmp_path, clock)
    inc = svc.open_or_join(candidate(title="铺镇化工厂夜间排放异味")).incident
    return svc, inc.id


def _style_fonts(doc, name):
    style = doc.styles[name]
    rfonts = style.element.rPr.find(qn("w:rFonts"))
    return rfonts.get(qn("w:eastAsia")), style.font.size.pt, rfonts


@pytest.mark.parametrize("name", DOCX_DEFAULTS)
def test_default_docx_follows_gbt_9704(name):
    doc = Document(str(DEFAULT_DIR / name))
    sec = doc.sections[0]
    assert round(sec.page_width.mm) == 210 and round(sec.page_height.mm) == 297  # A4, not US Letter
    assert [round(m.mm) for m in (sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin)] == \
        [37, 35, 28, 26]
    assert _style_fonts(doc, "Normal")[:2] == ("仿宋_GB2312", 16)  # 三号仿宋
    assert _style_fonts(doc, "Title")[:2] == ("方正小标宋简体", 22)  # 二号小标宋
    assert _style_fonts(doc, "Heading 1")[:2] == ("黑体", 16)
    assert doc.styles["Title"].paragraph_format.alignment == 1  # centred
    assert doc.styles["Normal"].paragraph_format.first_line_indent.pt == 32  # body indented two characters
    assert doc.styles["表格文字"].paragraph_format.first_line_indent.pt == 0 and doc.styles["表格文字"].font.size.pt == 12
    for style in ("Normal", "Title", "Heading 1", "Heading 2"):
        rfonts = _style_fonts(doc, style)[2]
        assert rfonts.get(qn("w:asciiTheme")) is None and rfonts.get(qn("w:eastAsiaTheme")) is None, style
    # 22 lines of 28 characters: exact line pitch and the document grid
    assert abs(doc.styles["Normal"].paragraph_format.line_spacing.pt - 28.95) < 0.01
    grid = sec._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "linesAndChars" and grid.get(qn("w:linePitch")) == "579"
    # 225 mm of text block / 28.95 pt per line = 22 lines
    text_height_pt = sec.page_height.pt - sec.top_margin.pt - sec.bottom_margin.pt
    assert int(text_height_pt // 28.95) == 22
    char_pitch = 16 + int(grid.get(qn("w:charSpace"))) / 4096  # 三号 less the grid's squeeze
    assert int((sec.page_width.pt - sec.left_margin.pt - sec.right_margin.pt) // char_pitch) == 28
    # page numbers "— N —" at the bottom, odd pages right, even pages left, 宋体 四号
    assert doc.settings.odd_and_even_pages_header_footer
    for footer, align in ((sec.footer, 2), (sec.even_page_footer, 0)):
        p = footer.paragraphs[0]
        xml = p._p.xml
        assert "PAGE" in "".join(t.text for t in p._p.iter(qn("w:instrText")))
        assert 'w:fldCharType="begin"' in xml and 'w:fldCharType="end"' in xml
        assert p.text.startswith("— ") and p.text.endswith(" —") and p.alignment == align
        run = p.runs[0]
        assert run.font.size.pt == 14 and run._element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "宋体"


def test_checked_in_docx_templates_are_what_the_builder_writes(tmp_path):
    import runpy

    builder = runpy.run_path(str(DEFAULT_DIR / "build_docx_templates.py"))
    builder["main"](tmp_path)
    for name in DOCX_DEFAULTS:
        for part in ("word/document.xml", "word/styles.xml", "word/footer1.xml", "word/settings.xml"):
            with zipfile.ZipFile(DEFAULT_DIR / name) as a, zipfile.ZipFile(tmp_path / name) as b:
                names = set(a.namelist())
                if part in names:
                    assert a.read(part) == b.read(part), (name, part)


def test_exported_docx_keeps_the_layout_and_east_asian_fonts(svc_incident, tmp_path):
    svc, iid = svc_incident
    doc = Document(io.BytesIO(export_incident(svc, iid, "docx")))
    assert round(doc.sections[0].page_width.mm) == 210
    title = doc.paragraphs[0]
    assert title.style.name == "Title" and title.text == "舆情处置报告：铺镇化工厂夜间排放异味"
    assert not any("{{" in p.text or "{%" in p.text for p in doc.paragraphs)
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert not any("{{" in c or "{%" in c for c in cells)


def test_home_template_overrides_the_default(svc_incident, tmp_path):
    svc, iid = svc_incident
    home = tmp_path / "home"
    (home / "templates").mkdir(parents=True)
    assert find_template("incident_report.md.j2", home) == DEFAULT_DIR / "incident_report.md.j2"
    (home / "templates" / "incident_report.md.j2").write_text(
        "# 本部门格式：{{ incident.title }}\n等级 {{ incident.severity }}\n", encoding="utf-8")
    md = export_incident(svc, iid, "md", home=home).decode()
    assert md == "# 本部门格式：铺镇化工厂夜间排放异味\n等级 一般\n"
    # a home DOCX template too, with its own layout
    doc = Document()
    doc.add_paragraph("汉台区委宣传部 {{ incident.title }}")
    doc.save(str(home / "templates" / "incident_report.docx"))
    out = Document(io.BytesIO(export_incident(svc, iid, "docx", home=home)))
    assert [p.text for p in out.paragraphs] == ["汉台区委宣传部 铺镇化工厂夜间排放异味"]
    # other names still come from the defaults
    assert export_incident(svc, iid, "html", home=home).decode().startswith("<!DOCTYPE html>")


def test_docx_values_are_escaped_and_control_characters_dropped(tmp_path):
    doc = Document()
    doc.add_paragraph("{{ text }}")
    (tmp_path / "templates").mkdir()
    doc.add_paragraph('{{ names|join("、") }}')
    doc.save(str(tmp_path / "templates" / "x.docx"))
    data = render_docx("x.docx", {"text": '<w:t>注入</w:t> & "引号"\x07\x1b', "names": ["甲\x0b", "<乙>"]}, tmp_path)
    out = Document(io.BytesIO(data))
    assert [p.text for p in out.paragraphs] == ['<w:t>注入</w:t> & "引号"', "甲、<乙>"]


def test_markdown_template_makes_values_literal(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.md.j2").write_text("| {{ a }} |\n", encoding="utf-8")
    assert render_text("t.md.j2", {"a": "[x](http://e) | *b*\n行"}, tmp_path) == "| \\[x\\](http://e) \\| \\*b\\* 行 |\n"


def test_html_template_autoescapes(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.html.j2").write_text("<p>{{ a }}</p>", encoding="utf-8")
    assert render_text("t.html.j2", {"a": "<script>x</script>"}, tmp_path) == "<p>&lt;script&gt;x&lt;/script&gt;</p>"


def test_broken_text_template_names_file_and_line(svc_incident, tmp_path):
    svc, iid = svc_incident
    home = tmp_path / "home"
    (home / "templates").mkdir(parents=True)
    path = home / "templates" / "incident_report.md.j2"
    path.write_text("# {{ incident.title }}\n\n{% for x in incident.places %}\n{{ x }\n", encoding="utf-8")
    with pytest.raises(TemplateError) as err:
        export_incident(svc, iid, "md", home=home)
    msg = str(err.value)
    assert str(path) in msg and "第 4 行" in msg and "line 4" in msg and err.value.line == 4
    # a misspelt field is an error on its line, not an empty cell
    path.write_text("# {{ incident.title }}\n\n{{ incident.titel }}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="第 3 行.*titel"):
        export_incident(svc, iid, "md", home=home)


def test_broken_docx_template_names_file_and_tag(svc_incident, tmp_path):
    svc, iid = svc_incident
    home = tmp_path / "home"
    (home / "templates").mkdir(parents=True)
    path = home / "templates" / "incident_report.docx"
    doc = Document()
    doc.add_paragraph("舆情处置报告")
    doc.add_paragraph("{%p if incident.title %}")
    doc.add_paragraph("事件 {{ incident.title }}")
    doc.save(str(path))
    with pytest.raises(TemplateError) as err:
        export_incident(svc, iid, "docx", home=home, path=tmp_path / "out.docx")
    msg = str(err.value)
    assert str(path) in msg and "{% if incident.title %}" in msg and "endif" in msg
    assert not (tmp_path / "out.docx").exists()  # nothing half-written
    path.write_text("not a Word file", encoding="utf-8")
    with pytest.raises(TemplateError, match="not a usable .docx"):
        export_incident(svc, iid, "docx", home=home)


def test_missing_template_is_named(tmp_path):
    with pytest.raises(TemplateError, match="template file not found"):
        render_text("nope.md.j2", {}, tmp_path)
    with pytest.raises(TemplateError, match="plain file name"):
        render_text("../incident_report.md.j2", {}, tmp_path)


def test_handover_docx_template_has_a_table_per_handover_section():
    """A column added to a handover section needs the builder's HANDOVER_COLUMNS and a rebuilt template."""
    import runpy

    from responders.handover import handover_sections

    empty = {k: [] for k in ("open_incidents", "unacked_alerts", "open_instructions", "pending_proposals",
                             "failing_sources", "done")}
    columns = [len(header) for _, header, _ in handover_sections(empty)]
    assert runpy.run_path(str(DEFAULT_DIR / "build_docx_templates.py"))["HANDOVER_COLUMNS"] == columns
    doc = Document(str(DEFAULT_DIR / "handover.docx"))
    assert [len(t.columns) for t in doc.tables] == columns
