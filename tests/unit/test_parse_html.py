"""parse_document on HTML list pages with CSS selectors."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from monitor.exceptions import ParseError
from monitor.parsing import parse_document

UTC = timezone.utc
SH = timezone(timedelta(hours=8))
NOW = datetime(2026, 6, 14, 4, 0, tzinfo=UTC)
FIELDS = {"item": "ul.list li", "title": "a", "link": "a@href", "published": "span.date", "text": ".summary"}


def test_gov_list_page(test_data):
    body = (test_data / "feeds" / "govlist_gb2312.html").read_bytes()
    feed = parse_document(body, fields=FIELDS, url="http://www.hantai.gov.cn/tzgg/index.html", fetched_at=NOW)
    assert feed.kind == "html" and feed.encoding == "gb18030"
    assert feed.title == "汉台区人民政府 通知公告"
    titles = [i.title for i in feed.items]
    # truncated link text replaced by the full title attribute
    assert titles == ["关于做好2026年汛期安全防范工作的通知（完整标题）", "汉台区2026年公开招聘社区工作者公告",
                      "无效链接条目", "没有日期"]
    a, b, c, d = feed.items
    assert a.link == "http://www.hantai.gov.cn/tzgg/202606/t20260614_5.html"
    assert b.link == "http://www.hantai.gov.cn/tzgg/202606/t20260613_4.html"
    assert c.link is None and c.guid.startswith("h:")  # javascript: links are dropped
    assert a.published == datetime(2026, 6, 14, tzinfo=SH)
    assert b.published == datetime(2026, 6, 13, tzinfo=SH)
    assert c.published == datetime(2026, 6, 12, tzinfo=SH)  # "[06-12]"
    assert d.published is None
    assert a.text == "各镇人民政府、街道办事处： 为切实做好…"
    assert any("item 4" in w for w in feed.warnings)  # no title
    assert any("no readable date" in w for w in feed.warnings)


def test_attribute_of_the_item_itself_and_base_href():
    page = """<html><head><base href="http://gov.example/news/"></head><body>
    <div class="row" data-url="a/1.html"><h3>标题一</h3><em>发布时间：2026年6月14日 09:30</em></div>
    </body></html>"""
    feed = parse_document(page.encode(), kind="html",
                          fields={"item": "div.row", "title": "h3", "link": "@data-url", "published": "em"},
                          fetched_at=NOW)
    (item,) = feed.items
    assert item.link == "http://gov.example/news/a/1.html"
    assert item.published == datetime(2026, 6, 14, 9, 30, tzinfo=SH)


def test_item_selector_matching_nothing():
    with pytest.raises(ParseError, match="matched nothing"):
        parse_document(b"<html><body><p>x</p></body></html>", fields={"item": "ul.news li", "title": "a"},
                       fetched_at=NOW)


def test_invalid_selector_is_named():
    with pytest.raises(ParseError, match="invalid CSS selector"):
        parse_document(b"<html><body><p>x</p></body></html>", fields={"item": "li", "title": "a[[["},
                       fetched_at=NOW)


def test_html_kind_needs_selectors():
    with pytest.raises(ParseError, match="needs CSS selectors"):
        parse_document(b"<html><body></body></html>", kind="html", fetched_at=NOW)


def test_script_text_is_never_taken_as_content():
    page = b"<html><body><ul><li><a href='/1'>ok<script>evil()</script></a></li></ul></body></html>"
    feed = parse_document(page, fields={"item": "ul li", "title": "a"}, url="http://g.example/", fetched_at=NOW)
    assert feed.items[0].title == "ok"
    assert feed.items[0].link == "http://g.example/1"  # link defaults to the title's href
