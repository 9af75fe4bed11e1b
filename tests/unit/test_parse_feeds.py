"""parse_document on RSS/Atom/RDF: charsets, dates, bozo feeds, XML bombs, wrong input."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from monitor.exceptions import ParseError
from monitor.parsing import parse_document

UTC = timezone.utc
NOW = datetime(2026, 6, 14, 4, 0, tzinfo=UTC)


def load(test_data, name: str) -> bytes:
    return (test_data / "feeds" / name).read_bytes()


def test_rss_gb2312_with_relative_link_and_html_description(test_data):
    feed = parse_document(load(test_data, "rss_gb2312.xml"), url="http://www.hantai.gov.cn/rss.xml",
                          fetched_at=NOW)
    assert feed.kind == "rss" and feed.encoding == "gb18030"
    assert feed.title == "汉台区人民政府 - 政务动态"
    first, second, third = feed.items
    assert first.guid == "ht-20260614-1"
    assert first.title == "汉台区召开防汛工作部署会"
    assert first.link == "http://www.hantai.gov.cn/xwzx/zwdt/202606/t20260614_1.html"
    assert first.published == datetime(2026, 6, 14, 1, 30, tzinfo=UTC)
    assert first.author == "汉台区融媒体中心"
    assert first.text == "6月14日，汉台区召开防汛工作部署会。 会议要求…\n各镇（街道）要落实责任。"
    # no guid: the link; a zone-less Chinese-style date: Shanghai
    assert second.guid == second.link
    assert second.published == datetime(2026, 6, 13, 8, 5, tzinfo=UTC)
    assert third.published is None
    assert any("no usable date" in w for w in feed.warnings)


def test_rss_big5(test_data):
    feed = parse_document(load(test_data, "rss_big5.xml"), fetched_at=NOW)
    assert feed.title == "臺灣新聞"
    assert feed.items[0].title == "漢中市民眾關注交通問題"


def test_encoding_override_beats_a_wrong_declaration():
    body = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>区</title>' \
           '<item><title>汉台区通知</title><link>http://x.example/1</link></item></channel></rss>'
    feed = parse_document(body.encode("gbk"), encoding="gbk", fetched_at=NOW)
    assert feed.items[0].title == "汉台区通知"


def test_http_charset_beats_the_declaration():
    body = '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel>' \
           '<item><title>汉台区通知</title><link>http://x.example/1</link></item></channel></rss>'
    feed = parse_document(body.encode("gb18030"), content_type="application/rss+xml; charset=gbk",
                          fetched_at=NOW)
    assert feed.items[0].title == "汉台区通知"


def test_atom(test_data):
    feed = parse_document(load(test_data, "atom.xml"), fetched_at=NOW)
    assert feed.kind == "atom" and feed.title == "汉中日报"
    a, b = feed.items
    assert a.guid == "tag:hzrb.example,2026:1"
    assert a.title == "汉江水位上涨 沿岸加强巡查"  # html title turned to text
    assert a.text == "汉江汉台段水位持续上涨。"  # script dropped, never interpreted
    assert a.author == "记者 王明"
    assert a.published == datetime(2026, 6, 14, 0, 15, tzinfo=UTC)
    assert b.published == datetime(2026, 6, 13, 20, 0, tzinfo=UTC)  # only <updated>
    assert b.text == "岗位超过2000个。"


def test_rss1_rdf(test_data):
    feed = parse_document(load(test_data, "rdf.xml"), fetched_at=NOW)
    assert feed.title == "RDF 频道"
    assert feed.items[0].published == datetime(2026, 6, 14, 2, 0, tzinfo=UTC)


def test_rss_091_and_092():
    for version in ("0.91", "0.92"):
        body = f'<rss version="{version}"><channel><title>旧版</title><link>http://x.example/</link>' \
               '<item><title>条目</title><link>http://x.example/1</link></item></channel></rss>'
        feed = parse_document(body.encode(), fetched_at=NOW)
        assert [i.title for i in feed.items] == ["条目"]


def test_bozo_feed_keeps_what_parsed_with_a_warning(test_data):
    feed = parse_document(load(test_data, "bozo.xml"), fetched_at=NOW)
    assert [i.title for i in feed.items] == ["第一条 & 未转义", "第二条"]
    assert any(w.startswith("malformed XML") for w in feed.warnings)


def test_billion_laughs_and_external_entities_are_neutralised(test_data):
    feed = parse_document(load(test_data, "bomb.xml"), fetched_at=NOW)  # the sizes below show it was not expanded
    assert any("DOCTYPE" in w for w in feed.warnings)
    titles = [i.title for i in feed.items]
    assert "正常条目" in titles
    assert all(len(i.title) < 100 and "root:" not in i.text for i in feed.items)


def test_quadratic_blowup_entity_is_neutralised():
    big = "x" * 50_000
    body = (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{big}">]>'
            '<rss version="2.0"><channel><item><title>' + "&a;" * 50_000 +
            '</title><link>http://x.example/1</link></item></channel></rss>')
    feed = parse_document(body.encode(), fetched_at=NOW)
    assert len(feed.items[0].title) < 1_000_000  # expanded, it would be 2.5 billion characters


def test_item_without_title_link_or_text_is_skipped_with_warning():
    body = b'<rss version="2.0"><channel><title>t</title><item></item>' \
           b'<item><title>ok</title><link>http://x.example/1</link></item></channel></rss>'
    feed = parse_document(body, fetched_at=NOW)
    assert [i.title for i in feed.items] == ["ok"]
    assert any("entry 1" in w for w in feed.warnings)


def test_guid_falls_back_to_a_stable_hash():
    body = b'<rss version="2.0"><channel><item><title>only a title</title>' \
           b'<pubDate>Sun, 14 Jun 2026 01:00:00 GMT</pubDate></item></channel></rss>'
    a = parse_document(body, fetched_at=NOW).items[0].guid
    b = parse_document(body, fetched_at=NOW + timedelta(hours=1)).items[0].guid
    assert a == b and a.startswith("h:")


def test_empty_valid_feed_has_no_items_and_no_error():
    feed = parse_document(b'<rss version="2.0"><channel><title>empty</title></channel></rss>', fetched_at=NOW)
    assert feed.items == () and feed.title == "empty"


@pytest.mark.parametrize("body", [b"", b"   \n\t ", "  "])
def test_empty_document(body):
    with pytest.raises(ParseError, match="empty document"):
        parse_document(body, fetched_at=NOW)


def test_html_where_a_feed_was_expected():
    page = b"<!DOCTYPE html><html><head><title>404</title></head><body><p>Not found</p></body></html>"
    with pytest.raises(ParseError, match="HTML page"):
        parse_document(page, fetched_at=NOW)
    with pytest.raises(ParseError, match="HTML page"):
        parse_document(page, kind="rss", fetched_at=NOW)


def test_json_where_a_feed_was_expected():
    with pytest.raises(ParseError, match="got JSON"):
        parse_document(b'{"a": 1}', kind="rss", fetched_at=NOW)


def test_garbage_xml():
    with pytest.raises(ParseError):
        parse_document(b"<notafeed><x></y>", kind="rss", fetched_at=NOW)


def test_undeclared_gzip_body_is_inflated():
    import gzip

    body = gzip.compress('<rss version="2.0"><channel><item><title>压缩</title><link>http://x.example/1</link>'
                         '</item></channel></rss>'.encode())
    feed = parse_document(body, fetched_at=NOW)
    assert feed.items[0].title == "压缩"


def test_bad_arguments_are_parse_errors():
    with pytest.raises(ParseError, match="unknown kind"):
        parse_document(b"<rss/>", kind="podcast")
    with pytest.raises(ParseError, match="unknown mapping"):
        parse_document(b"{}", mapping="douyin")
    with pytest.raises(ParseError, match="timezone-aware"):
        parse_document(b"<rss/>", fetched_at=datetime(2026, 1, 1))


def test_control_characters_are_removed_from_text():
    body = '<rss version="2.0"><channel><item><title>a\x1b[31mb</title><link>http://x.example/1</link>' \
           '<description>&lt;b&gt;x&lt;/b&gt;&#27;[2J</description></item></channel></rss>'
    item = parse_document(body.encode(), fetched_at=NOW).items[0]
    assert "\x1b" not in item.title and "\x1b" not in item.text


def test_pathological_markup_is_bounded():
    many_attrs = " ".join(f'a{i}="x"' for i in range(20000))
    body = f'<rss version="2.0"><channel><item {many_attrs}><title>t</title><link>http://x.example/1</link>' \
           '</item></channel></rss>'
    feed = parse_document(body.encode(), fetched_at=NOW)
    assert feed.items[0].title == "t"
    assert any("oversized tags" in w for w in feed.warnings)
    deep = "<html><body>" + "<div>" * 30000 + "</body></html>"
    with pytest.raises(ParseError, match="nested"):
        parse_document(deep.encode(), fields={"item": "div", "title": "div"}, fetched_at=NOW)
    deep_text = '<rss version="2.0"><channel><item><title>t</title><link>http://x.example/1</link><description>' \
                + "&lt;div&gt;" * 30000 + "深</description></item></channel></rss>"
    assert parse_document(deep_text.encode(), fetched_at=NOW).items[0].text == "深"
