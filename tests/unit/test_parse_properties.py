"""Property tests: whatever comes in, parse_document returns a ParsedFeed or raises ParseError."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.charset import decode_body
from monitor.exceptions import ParseError
from monitor.parsing import parse_document
from monitor.timeparse import parse_time
from monitor.types import ParsedFeed

NOW = datetime(2026, 6, 14, 4, 0, tzinfo=timezone.utc)
SETTINGS = settings(max_examples=int(os.environ.get("YUQING_HYPOTHESIS_EXAMPLES", "100")), deadline=None, suppress_health_check=[HealthCheck.too_slow])

KINDS = st.sampled_from(["auto", "rss", "atom", "jsonfeed", "json", "html"])
MAPPINGS = st.sampled_from([None, "weibo", "hotlist"])
HTML_FIELDS = {"item": "li", "title": "a", "link": "a@href", "published": "span", "text": "p"}
JSON_FIELDS = {"items": "data.list", "guid": "id", "title": "title", "link": "url", "published": "time",
               "text": "desc", "author": "user.name", "metrics.heat": "hot"}


def check(body, **kw):
    try:
        feed = parse_document(body, fetched_at=NOW, **kw)
    except ParseError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg
        return None
    assert isinstance(feed, ParsedFeed)
    json.dumps(feed.to_json(), ensure_ascii=False)
    for item in feed.items:
        assert isinstance(item.guid, str) and item.guid
        assert item.published is None or item.published.utcoffset().total_seconds() == 0
        assert "\x1b" not in item.text and "\x1b" not in item.title and "\x1b" not in item.guid
        assert item.link is None or (item.link.strip() == item.link and not any(ord(c) < 32 for c in item.link))
        assert item.link is None or not item.link.lower().startswith(("javascript:", "data:", "file:"))
    return feed


@SETTINGS
@given(st.binary(max_size=2000), KINDS, MAPPINGS)
def test_random_bytes(body, kind, mapping):
    check(body, kind=kind, mapping=mapping)


@SETTINGS
@given(st.binary(max_size=500), st.sampled_from([None, "text/xml; charset=gbk", "text/html; charset=big5",
                                                  "application/json; charset=klingon"]),
       st.sampled_from([None, "gb2312", "big5", "utf-16", "nonsense"]))
def test_decode_body_never_raises(body, ct, override):
    text, enc, warnings = decode_body(body, ct, override)
    assert isinstance(text, str) and isinstance(enc, str)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(
        st.sampled_from(["data", "list", "cards", "mblog", "card_group", "title", "text", "id", "url", "hot",
                         "created_at", "user", "screen_name", "retweeted_status", "items", "version", "ok",
                         "code", "desc", "time", "rank", "timestamp", "content_html", "date_published"]),
        children, max_size=6),
    max_leaves=40)


@SETTINGS
@given(JSON, MAPPINGS)
def test_random_json(doc, mapping):
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    check(body, mapping=mapping)
    check(body, fields=JSON_FIELDS)
    check(body, kind="jsonfeed")


@SETTINGS
@given(JSON)
def test_random_json_in_weibo_shape(mblog):
    doc = {"ok": 1, "data": {"cards": [{"card_type": 9, "mblog": mblog}]}}
    check(json.dumps(doc).encode(), mapping="weibo")


TAGS = st.sampled_from(["li", "a", "span", "p", "ul", "div", "script", "rss", "channel", "item", "title",
                        "link", "entry", "feed", "description", "pubDate"])
FRAG = st.recursive(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
    lambda c: st.builds(lambda t, inner, href: f'<{t} href="{href}">{inner}</{t}>', TAGS,
                        st.lists(c, max_size=4).map("".join), st.text(max_size=10)),
    max_leaves=30)


@SETTINGS
@given(FRAG, st.booleans())
def test_random_markup(fragment, as_html):
    body = (f"<html><body>{fragment}</body></html>" if as_html else f'<rss version="2.0">{fragment}</rss>')
    check(body.encode("utf-8"), fields=HTML_FIELDS)
    check(body.encode("utf-8"))
    check(body.encode("gb18030", errors="replace"), kind="rss")


@SETTINGS
@given(st.text(max_size=40) | st.integers() | st.floats())
def test_parse_time_never_raises(value):
    dt = parse_time(value, NOW)
    assert dt is None or dt.tzinfo is not None
