"""Incident exports opened and checked: md, html (parsed), json, csv, docx (read back)."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from responders.exceptions import ExportError
from responders.exports import FORMATS, export_incident
from responders.masking import mask_personal, scrub_secrets
from tests.responders_kit import T0, Clock, candidate, make_service

H = timedelta(hours=1)
EVIL_TITLE = '<script>alert("x")</script>铺镇排污'
EVIL_TEXT = '村民 13812345678 称 <img src=x onerror="alert(1)"> 身份证 610702199001011234 见 javascript:alert(2)'
SECRET = "SEC0123456789abcdef"
TOKEN = "tok_abcdef123456"


@pytest.fixture
def incident(tmp_path):
    clock = Clock(T0 + H)
    svc = make_service(tmp_path, clock)
    ev = [{"item_id": 1, "title": EVIL_TITLE, "text": EVIL_TEXT, "url": "javascript:alert(3)",
           "published": T0.isoformat(), "source": "微博@某网友", "content_hash": "h1"},
          {"item_id": 2, "title": "铺镇化工厂异味追踪", "text": "记者走访", "url": "https://news.example/2",
           "published": (T0 + 2 * H).isoformat(), "source": "汉中日报", "content_hash": "h2"}]
    inc = svc.open_or_join(candidate(title=EVIL_TITLE, evidence=ev)).incident
    svc.acknowledge(inc.id, actor="张三")
    svc.grade(inc.id, "较大", ["多名村民反映"], actor="张三")
    svc.assign(inc.id, ["区生态环境分局"], actor="张三")
    svc.note(inc.id, "联系人电话 0916-2345678，<b>加急</b>", actor="张三")
    svc.record_event(inc.id, "alert_failed", {
        "channel": "dingtalk", "secret": SECRET,
        "error": f"POST https://oapi.dingtalk.com/robot/send?access_token={TOKEN} failed"})
    clock.advance(hours=3)
    svc.record_release(inc.id, channel="政府网站", url="https://gov.example/1", text="情况通报", actor="王五")
    clock.advance(hours=20)
    svc.record_release(inc.id, channel="政务微博", url="https://weibo.example/2", text="进展", actor="王五")
    clock.advance(hours=10)
    svc.record_release(inc.id, channel="政务微信", url="https://wx.example/3", text="处置结果", kind="final")
    svc.close(inc.id)
    return svc, inc.id


def _all(svc, iid, tmp_path):
    return {f: export_incident(svc, iid, f, tmp_path / f"report.{f}") for f in FORMATS}


def test_no_personal_data_or_secrets_anywhere(incident, tmp_path):
    svc, iid = incident
    out = _all(svc, iid, tmp_path)
    for fmt in ("md", "html", "json", "csv"):
        text = out[fmt].decode("utf-8")
        for leak in ("13812345678", "610702199001011234", "2345678", SECRET, TOKEN):
            assert leak not in text, (fmt, leak)
        if fmt != "csv":  # the CSV holds the timeline only
            assert ("138\\*\\*\\*\\*5678" if fmt == "md" else "138****5678") in text
    docx_text = _docx_text(tmp_path / "report.docx")
    for leak in ("13812345678", "610702199001011234", SECRET, TOKEN):
        assert leak not in docx_text
    unmasked = export_incident(svc, iid, "md", mask=False).decode()
    assert "13812345678" in unmasked and TOKEN not in unmasked and SECRET not in unmasked


def test_html_is_self_contained_and_escaped(incident, tmp_path):
    from selectolax.lexbor import LexborHTMLParser as HTMLParser

    svc, iid = incident
    html = export_incident(svc, iid, "html", tmp_path / "r.html").decode("utf-8")
    tree = HTMLParser(html)
    assert tree.css("script") == [] and tree.css("img") == [] and tree.css("iframe") == []
    assert not [n for n in tree.css("*") if any(a.lower().startswith("on") for a in n.attributes)]
    assert not [n for n in tree.css("a") if not n.attributes.get("href", "").startswith("http")]
    assert not [n for n in tree.css("[src]")]
    assert len(tree.css("svg rect")) >= 2 and tree.css("svg line")
    body = tree.body.text()
    assert '<script>alert("x")</script>铺镇排污' in body
    assert '<img src=x onerror="alert(1)">' in body
    assert "&lt;script&gt;" in html and "javascript:alert(3)" in body
    for heading in ("基本情况", "监测发现", "研判", "处置与发布", "时间线", "时效统计", "附件"):
        assert heading in body


def _docx_text(path):
    from docx import Document

    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def test_docx_layout_reads_back(incident, tmp_path):
    from docx import Document

    svc, iid = incident
    export_incident(svc, iid, "docx", tmp_path / "r.docx")
    doc = Document(str(tmp_path / "r.docx"))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["一、基本情况", "二、监测发现", "三、研判", "四、处置与发布", "五、时间线", "六、时效统计",
                        "七、复盘", "八、附件：证据快照"]
    text = _docx_text(tmp_path / "r.docx")
    assert "微博@某网友" in text  # first publisher
    assert "发现滞后 1小时00分" in text
    assert "多名村民反映" in text and "区生态环境分局" in text
    assert "政府网站" in text and "政务微信" in text and "处置结果" in text
    assert "首次权威发布用时" in text and "4小时00分（按时：是）" in text
    assert '<script>alert("x")</script>' in text  # literal text in a document is harmless


def test_json_and_csv(incident, tmp_path):
    svc, iid = incident
    data = json.loads(export_incident(svc, iid, "json"))
    assert data["incident"]["id"] == iid and data["incident"]["state"] == "归档"
    assert data["incident"]["release_due"].endswith("+08:00")
    assert [r["kind"] for r in data["releases"]] == ["authoritative", "progress", "final"]
    assert data["timing"]["time_to_first_release"] == 4 * 3600
    assert data["detection"]["first_publisher"]["source"] == "微博@某网友"
    assert data["spread"][0]["items"] == 1
    rows = list(csv.reader(io.StringIO(export_incident(svc, iid, "csv").decode("utf-8-sig"))))
    assert rows[0][:3] == ["事件编号", "序号", "时间（北京时间）"]
    assert len(rows) - 1 == len(svc.timeline(iid))
    assert all(not r[6].startswith(("=", "+", "-", "@")) for r in rows[1:])


def test_markdown_keeps_feed_text_literal(incident):
    svc, iid = incident
    md = export_incident(svc, iid, "md").decode()
    assert "<script>" not in md and "\\<script\\>" in md
    assert md.startswith("# 舆情处置报告")


def test_markdown_escapes_a_channel_edited_in_the_database(incident):
    """The release channel is checked when staff record it, but the file may be edited
    directly: the export escapes it like any other text."""
    svc, iid = incident
    svc.db.execute("UPDATE releases SET channel = ? WHERE incident_id = ? AND channel = '政府网站'",
                   ["[官方通报](http://t.cn/A6x) <@all> **急**\x1b[31m", iid])
    md = export_incident(svc, iid, "md").decode()
    assert "[官方通报](http" not in md and "\\[官方通报\\](http://t.cn/A6x)" in md
    assert "<@all>" not in md and "\\<@all\\>" in md and "**急**" not in md
    assert "\x1b" not in md and "␛\\[31m" in md


def test_bad_format_and_unwritable_path(incident, tmp_path):
    svc, iid = incident
    with pytest.raises(ExportError, match="format"):
        export_incident(svc, iid, "pdf")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="cannot write"):
        export_incident(svc, iid, "md", tmp_path / "file" / "sub" / "r.md")


def test_masking_helpers():
    # the one masker (shapes pinned in test_masking.py); exports use it through clean()
    assert mask_personal("号61070219900101123X") == "号6107**********123X"
    assert mask_personal("座机 0916-2345678") == "座机 0916-***5678"
    assert scrub_secrets({"webhook_url": "https://x", "nested": [{"app_secret": "s", "key": "warning:12h"}],
                          "text": "see https://h/send?access_token=abc&x=1"}) == {
        "webhook_url": "***", "nested": [{"app_secret": "***", "key": "warning:12h"}],
        "text": "see https://h/send?access_token=***&x=1"}
