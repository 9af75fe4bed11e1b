"""parse_document on JSON Feed, the weibo and hotlist presets and custom field mappings."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from monitor.exceptions import ParseError
from monitor.parsing import parse_document
from monitor.parsing.common import parse_count, resolve_path, MISSING
from monitor.parsing.presets import REPOST_SEPARATOR

UTC = timezone.utc
NOW = datetime(2026, 6, 14, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
SH = timezone(timedelta(hours=8))


def load(test_data, name: str) -> bytes:
    return (test_data / "feeds" / name).read_bytes()


# ------------------------------------------------------------ JSON Feed

def test_jsonfeed_11(test_data):
    feed = parse_document(load(test_data, "jsonfeed.json"), fetched_at=NOW)
    assert feed.kind == "jsonfeed" and feed.title == "汉台发布"
    a, b, c = feed.items
    assert (a.guid, a.title, a.text) == ("1", "关于城区停水的通知", "6月15日 8:00-18:00 停水")
    assert a.published == datetime(2026, 6, 14, 1, 0, tzinfo=UTC)
    assert a.author == "汉台发布"  # feed-level author
    assert b.guid == "2" and b.link == "https://hantai.example/p/2"  # relative url resolved
    assert b.text == "没有标题的通知 a < b"  # content_text is plain text, kept literally
    assert b.title == "没有标题的通知 a < b" and b.author == "区水务局"
    assert c.published is None
    assert any("item 3" in w for w in feed.warnings)


def test_jsonfeed_10(test_data):
    feed = parse_document(load(test_data, "jsonfeed_v1.json"), fetched_at=NOW)
    assert feed.items[0].author == "某人"
    assert parse_document(load(test_data, "jsonfeed_v1.json"), kind="jsonfeed", fetched_at=NOW).items


def test_jsonfeed_without_items():
    with pytest.raises(ParseError, match="items"):
        parse_document(b'{"version": "https://jsonfeed.org/version/1.1", "title": "x"}', fetched_at=NOW)


# ------------------------------------------------------------ weibo

def test_weibo_cards(test_data):
    feed = parse_document(load(test_data, "weibo_cards.json"), mapping="weibo", fetched_at=NOW)
    assert feed.kind == "json"
    items = {i.guid: i for i in feed.items}
    assert list(items) == ["4987000000000003", "4987000000000002", "4987000000000001", "4900000000000000"]

    top = items["4987000000000003"]
    assert top.link == "https://m.weibo.cn/status/Nabc123"
    assert top.published == NOW  # 刚刚
    assert top.text == "#汉台区暴雨# 北关街道积水严重，\n车辆无法通行[怒]"  # emoticon alt kept
    assert top.author == "汉中小王"
    assert dict(top.metrics) == {"reposts": 12, "comments": 10000, "likes": 434000}

    repost = items["4987000000000002"]
    assert repost.published == NOW - timedelta(minutes=3)
    own, original = repost.text.split("\n" + REPOST_SEPARATOR)
    assert own == "转发微博 //@某网友:太吓人了"
    assert original == " @汉中身边事: 汉台区某小区电梯坠落，多人受伤\n现场视频…"  # "全文" link dropped
    assert repost.metrics["repost_of"] == "4986900000000001"
    assert repost.metrics["likes"] == 1234
    assert repost.title == "转发微博 //@某网友:太吓人了"

    grouped = items["4987000000000001"]  # inside a card_group; no bid: link by id
    assert grouped.link == "https://m.weibo.cn/status/4987000000000001"
    assert grouped.published == datetime(2026, 6, 14, tzinfo=SH)
    assert grouped.text == "汉台区&铺镇 油菜花开了"

    old = items["4900000000000000"]
    assert old.published == datetime(2025, 6, 14, 10, 0, tzinfo=SH)


def test_weibo_list_shape(test_data):
    feed = parse_document(load(test_data, "weibo_list.json"), mapping="weibo", fetched_at=NOW)
    (post,) = feed.items
    assert post.guid == "4607741009594608"
    assert post.link == "https://m.weibo.cn/status/K3fnuEfZK"
    assert post.text == "原始文本 a<b 不是标签"  # text_raw is plain: not stripped as HTML


def test_weibo_error_answer():
    with pytest.raises(ParseError, match="ok=0"):
        parse_document(b'{"ok": 0, "msg": "\xe8\xaf\xb7\xe6\xb1\x82\xe8\xbf\x87\xe4\xba\x8e\xe9\xa2\x91\xe7\xb9\x81"}',
                       mapping="weibo", fetched_at=NOW)


def test_weibo_shape_missing():
    with pytest.raises(ParseError, match="data.cards"):
        parse_document(b'{"ok": 1, "data": {"nothing": []}}', mapping="weibo", fetched_at=NOW)


def test_weibo_bad_post_is_skipped():
    doc = {"ok": 1, "data": {"cards": [{"card_type": 9, "mblog": {"id": "1", "text": "好", "created_at": "???"}},
                                       {"card_type": 9, "mblog": {}}]}}
    feed = parse_document(json.dumps(doc).encode(), mapping="weibo", fetched_at=NOW)
    assert [i.guid for i in feed.items] == ["1"]
    assert any("created_at" in w for w in feed.warnings)
    assert any("post 2" in w for w in feed.warnings)


@pytest.mark.parametrize("raw,n", [("43.4万", 434_000), ("1.2亿", 120_000_000), ("10万+", 100_000),
                                   ("1,234", 1234), (12, 12), ("100万+", 1_000_000), ("3k", 3000),
                                   ("转发", None), ("", None), (None, None), (-1, None), (True, None)])
def test_counts(raw, n):
    assert parse_count(raw) == n


# ------------------------------------------------------------ hotlist

def test_hotlist(test_data):
    feed = parse_document(load(test_data, "hotlist.json"), mapping="hotlist", fetched_at=NOW)
    assert feed.title == "微博·热搜榜"
    a, b, c = feed.items
    assert a.title == "汉台区暴雨" and a.guid == "汉台区暴雨"
    assert a.metrics["rank"] == 1 and a.metrics["heat"] == 1_234_567
    assert a.metrics["on_list_at"] == NOW.isoformat()
    assert a.author is None and a.text == "汉中市汉台区出现强降雨"
    assert b.metrics["heat"] == 986_000 and b.metrics["rank"] == 2
    assert b.published == datetime.fromtimestamp(1781400000, UTC)
    assert c.metrics["rank"] == 5 and "heat" not in c.metrics  # rank given by the API
    assert c.guid == "https://s.weibo.com/weibo?q=3"
    assert any("entry 4" in w for w in feed.warnings)


def test_hotlist_error_code():
    with pytest.raises(ParseError, match="code=500"):
        parse_document(b'{"code": 500, "message": "fail"}', mapping="hotlist", fetched_at=NOW)


# ------------------------------------------------------------ custom mapping

FIELDS = {"items": "data.list", "guid": "id", "title": "title", "link": "url", "published": "time",
          "text": "desc", "author": "user.name", "metrics.heat": "hot", "metrics.tag": "tags[0]"}


def test_custom_mapping(test_data):
    feed = parse_document(load(test_data, "api_custom.json"), fields=FIELDS, url="https://api.example/v1/",
                          fetched_at=NOW)
    a, b = feed.items
    assert (a.guid, a.title, a.link) == ("101", "汉台城管 执法通报", "https://api.example/news/101")
    assert a.published == datetime(2026, 6, 14, 9, 0, tzinfo=SH)
    assert a.text == "通报内容&说明" and a.author == "城管局"
    assert dict(a.metrics) == {"heat": 35000, "tag": "a"}
    assert b.published == datetime.fromtimestamp(1781395200, UTC)
    assert len(feed.warnings) == 2  # the empty entry and the non-object


def test_missing_items_path_is_named():
    with pytest.raises(ParseError, match="'data.rows'"):
        parse_document(b'{"data": {"list": []}}', fields={"items": "data.rows", "title": "t"}, fetched_at=NOW)


def test_items_path_must_be_a_list():
    with pytest.raises(ParseError, match="not a list"):
        parse_document(b'{"data": 3}', fields={"items": "data", "title": "t"}, fetched_at=NOW)


def test_top_level_list_and_indexes():
    body = json.dumps([{"t": ["x", "第一"], "u": "http://a.example/1"}]).encode()
    feed = parse_document(body, fields={"title": "t[1]", "link": "u"}, fetched_at=NOW)
    assert feed.items[0].title == "第一"


def test_unknown_field_name():
    with pytest.raises(ParseError, match="unknown field 'titel'"):
        parse_document(b"[]", fields={"titel": "t"}, fetched_at=NOW)


def test_invalid_json_names_line_and_column():
    with pytest.raises(ParseError, match=r"line 2, column \d+"):
        parse_document(b'{"a": 1,\n  oops}', mapping="hotlist", fetched_at=NOW)


def test_jsonp_is_unwrapped():
    body = b'cb({"code":200,"data":[{"title":"\xe7\x83\xad","hot":1}]});'
    feed = parse_document(body, mapping="hotlist", fetched_at=NOW)
    assert feed.items[0].title == "热"


def test_json_without_mapping_says_what_is_needed():
    with pytest.raises(ParseError, match="mapping preset"):
        parse_document(b'{"data": []}', fetched_at=NOW)


def test_resolve_path():
    doc = {"a": {"b": [{"c": 1}, {"c": 2}]}, "x.y": 3}
    assert resolve_path(doc, "a.b[1].c") == 2
    assert resolve_path(doc, "a.b.0.c") == 1
    assert resolve_path(doc, "a.b[-1].c") == 2
    assert resolve_path(doc, "a.b[5].c") is MISSING
    assert resolve_path(doc, "a.z") is MISSING
    assert resolve_path(doc, '["x.y"]') == 3


def test_nested_metrics_table_as_toml_gives_it(test_data):
    import tomllib

    fields = tomllib.loads('items = "data.list"\ntitle = "title"\nlink = "url"\nmetrics.heat = "hot"\n')
    feed = parse_document(load(test_data, "api_custom.json"), fields=fields, fetched_at=NOW)
    assert feed.items[0].metrics["heat"] == 35000
