"""The offline demo server: a real aiohttp server on 127.0.0.1 playing data/demo with a pinned clock."""
from __future__ import annotations

import json
import re
import shutil
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import feedparser
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

import data
from monitor.sources import parse_sources
from yuqing.demo_clock import ScenarioClock
from yuqing.demo_server import (
    DemoServer,
    ScenarioError,
    load_expected,
    load_scenario,
    mid_to_bid,
    parse_offset,
    weibo_created_at,
)

UTC = timezone.utc
T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
RSS_PATHS = ("news", "hk", "own", "national")
EXPECTED = tomllib.loads((data.DEMO_DIR / "expected.toml").read_text("utf-8"))


class Ticker:
    """A monotonic clock we move by hand: one tick = one real second."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
async def server(ticker):
    # speed 3600: one real second is one scenario hour
    srv = DemoServer(ScenarioClock(T0, speed=3600, monotonic=ticker))
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


def at(ticker: Ticker, offset: str) -> None:
    ticker.now = parse_offset(offset).total_seconds() / 3600


async def get(http, url, **kw):
    async with http.get(url, **kw) as resp:
        return resp.status, resp.headers, await resp.read()


# ----------------------------------------------------------------- clock and scenario


def test_clock_compresses_time(ticker):
    clock = ScenarioClock(T0, speed=60, monotonic=ticker)
    assert clock() == T0
    ticker.now = 90.0
    assert clock() == T0 + timedelta(minutes=90)
    assert clock().tzinfo is not None
    assert clock.real_seconds(3600) == 60


def test_clock_rejects_naive_start_and_bad_speed():
    with pytest.raises(ValueError, match="timezone-aware"):
        ScenarioClock(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="speed"):
        ScenarioClock(T0, speed=0)


def test_scenario_size_and_sources():
    sc = load_scenario()
    assert 120 <= sc.count() <= 200
    assert {s.id for s in sc.sources} == {"news", "hk", "weibo", "hotlist", "gov", "own", "national"}
    assert sc.duration == timedelta(hours=48)
    assert any(i.at < timedelta(0) for i in sc.items["weibo"]), "some items are out before the desk starts"


def test_timeline_is_ordered_and_starts_with_background():
    rows = load_scenario().timeline()
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    first_incident = next(r for r in rows if "启航学校" in r[3])
    assert (first_incident[1], first_incident[2]) == ("weibo", "w-first")


def test_expected_matches_scenario():
    sc = load_scenario()
    inc = EXPECTED["incident"]
    keys = {src: {i.key: i for i in items} for src, items in sc.items.items()}
    hot = {h.key for h in sc.hot}
    for src, names in inc["items"].items():
        for name in names:
            assert name in (hot if src == "hotlist" else keys[src]), f"{src}:{name}"
    earliest = min(keys[s][k].at for s, names in inc["items"].items() if s != "hotlist" for k in names)
    assert earliest == parse_offset(inc["earliest_publication"])
    assert parse_offset(inc["deadline"]) == earliest + timedelta(hours=inc["deadline_hours"])
    for rel in inc["releases"].values():
        src, key = rel["item"].split(":")
        item = keys[src][key]
        assert item.at == parse_offset(rel["at"]) and item.title == rel["title"]
    refs = (EXPECTED["decoys"]["items"] + EXPECTED["local_background"]["items"] + EXPECTED["related"]["items"]
            + inc["without_place"] + EXPECTED["local_background"]["minor_complaints"])
    for ref in refs:
        src, key = ref.split(":")
        assert key in keys[src], ref


# ----------------------------------------------------------------- feeds


async def test_rss_feeds_are_well_formed_windows(server, http, ticker):
    for offset in ("0m", "+10h", "+48h"):
        at(ticker, offset)
        now = T0 + parse_offset(offset)
        for path in RSS_PATHS:
            status, headers, body = await get(http, f"{server.base_url}/{path}")
            assert status == 200 and "xml" in headers["Content-Type"]
            feed = feedparser.parse(body)
            assert not feed.bozo, (path, feed.get("bozo_exception"))
            assert 0 < len(feed.entries) <= 30
            times = [datetime(*e.published_parsed[:6], tzinfo=UTC) for e in feed.entries]
            assert times == sorted(times, reverse=True), "newest first"
            assert all(t <= now for t in times), "nothing from the future"


async def test_items_appear_only_after_their_time(server, http, ticker):
    title = EXPECTED["incident"]["releases"]["situation"]["title"]
    at(ticker, "+8h39m")
    _, _, body = await get(http, f"{server.base_url}/own")
    assert title not in body.decode()
    status, _, _ = await get(http, f"{server.base_url}/own/a/release-situation.html")
    assert status == 404
    at(ticker, "+8h40m")
    _, _, body = await get(http, f"{server.base_url}/own")
    feed = feedparser.parse(body)
    assert feed.entries[0].title == title
    status, _, page = await get(http, feed.entries[0].link)
    assert status == 200 and "36名学生" in page.decode()


async def test_traditional_chinese_feed(server, http, ticker):
    at(ticker, "+5h")
    _, _, body = await get(http, f"{server.base_url}/hk")
    titles = [e.title for e in feedparser.parse(body).entries]
    assert "陝西漢中一學校數十名學生疑食物中毒送院" in titles


async def test_weibo_timeline_shape_and_relative_times(server, http, ticker):
    at(ticker, "0m")
    status, _, body = await get(http, f"{server.base_url}/weibo")
    doc = json.loads(body)
    assert status == 200 and doc["ok"] == 1
    cards = doc["data"]["cards"]
    assert 0 < len(cards) <= 30
    rel = re.compile(r"^(刚刚|\d+分钟前|\d+小时前|昨天 \d\d:\d\d|\d\d-\d\d|\d{4}-\d\d-\d\d)$")
    for card in cards:
        blog = card["mblog"]
        assert card["card_type"] == 9
        assert {"id", "bid", "created_at", "text", "user", "reposts_count", "comments_count",
                "attitudes_count"} <= set(blog)
        assert rel.match(blog["created_at"]), blog["created_at"]
        assert blog["user"]["screen_name"]
    first = next(c["mblog"] for c in cards if "求助！铺镇启航学校" in c["mblog"]["text"])
    assert first["created_at"] == "3小时前"  # published at 06:40, now 10:00 local
    reposts = [c["mblog"] for c in cards if "retweeted_status" in c["mblog"]]
    assert reposts and all(r["retweeted_status"]["id"] != r["id"] for r in reposts)
    at(ticker, "+1d")
    _, _, body = await get(http, f"{server.base_url}/weibo")
    later = next(c["mblog"] for c in json.loads(body)["data"]["cards"] if c["mblog"]["id"] == first["id"])
    assert later["created_at"] == "昨天 06:40"
    assert later["reposts_count"] > first["reposts_count"], "counters grow with age"


def test_weibo_created_at_rules():
    now = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)  # 12:00 local
    assert weibo_created_at(now - timedelta(seconds=30), now) == "刚刚"
    assert weibo_created_at(now - timedelta(minutes=5), now) == "5分钟前"
    assert weibo_created_at(now - timedelta(hours=3), now) == "3小时前"
    assert weibo_created_at(now - timedelta(hours=20), now) == "昨天 16:00"
    assert weibo_created_at(now - timedelta(days=3), now) == "11-24"
    assert weibo_created_at(now - timedelta(days=400), now) == "2025-10-23"


def test_mid_to_bid_shape():
    bid = mid_to_bid("5200001002400884")
    assert re.fullmatch(r"[0-9A-Za-z]{9}", bid)
    assert mid_to_bid("5200001002400885") != bid


async def test_hotlist_ranks_climb_then_fall_off(server, http, ticker):
    ranks = {}
    for hour in (0, 1, 3, 6, 9, 15, 19, 21, 30):
        ticker.now = hour
        status, _, body = await get(http, f"{server.base_url}/hotlist")
        doc = json.loads(body)
        assert status == 200 and doc["code"] == 200 and doc["type"] == "热搜榜"
        assert len(doc["data"]) == 30
        assert all({"id", "title", "desc", "hot", "url", "timestamp"} <= set(r) for r in doc["data"])
        heats = [r["hot"] for r in doc["data"]]
        assert heats == sorted(heats, reverse=True)
        pos = [i + 1 for i, r in enumerate(doc["data"]) if r["id"] == "hot-incident"]
        ranks[hour] = pos[0] if pos else None
    assert ranks[0] is None and ranks[21] is None and ranks[30] is None
    assert ranks[1] > ranks[3] > ranks[6] > ranks[9] <= 3
    assert ranks[15] > ranks[9] and ranks[19] > ranks[15]


async def test_gov_page_is_gbk_with_selectors(server, http, ticker):
    at(ticker, "+6h")
    status, headers, body = await get(http, f"{server.base_url}/gov")
    assert status == 200
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("gbk")
    assert 'charset=gbk' in text
    fields = server.scenario.source("gov").config["fields"]
    rows = HTMLParser(text).css(fields["item"])
    assert rows
    first = rows[0]
    assert first.css_first(fields["title"]).text() == "关于启航学校部分学生就医情况的说明"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", first.css_first(fields["published"]).text())
    href = first.css_first("a").attributes["href"]
    status, _, page = await get(http, server.base_url + href)
    assert status == 200 and "不信谣、不传谣" in page.decode("gbk")


async def test_etag_gives_304_until_the_window_changes(server, http, ticker):
    at(ticker, "+1h")
    for path in RSS_PATHS:
        status, headers, _ = await get(http, f"{server.base_url}/{path}")
        etag = headers["ETag"]
        at(ticker, "+1h1m")  # time moves, the window does not
        status, _, body = await get(http, f"{server.base_url}/{path}", headers={"If-None-Match": etag})
        assert status == 304 and body == b""
        at(ticker, "+1h")
    at(ticker, "+8h40m")
    status, headers, _ = await get(http, f"{server.base_url}/own", headers={"If-None-Match": etag})
    assert status == 200 and headers["ETag"] != etag


async def test_sources_toml_points_at_every_path(server, http):
    text = server.sources_toml()
    doc = tomllib.loads(text)
    specs = {s.id: s for s in parse_sources(doc)}  # the desk's own validator accepts it
    assert set(specs) == {s.id for s in server.scenario.sources}
    for sid, spec in specs.items():
        assert spec.url == f"{server.base_url}/{sid}"
        status, _, _ = await get(http, spec.url)
        assert status == 200
    assert specs["own"].own_channel and specs["own"].platform == "own"
    assert specs["gov"].kind == "html" and specs["gov"].fields["item"] == "ul.list li"
    assert specs["weibo"].mapping == "weibo" and specs["hotlist"].mapping == "hotlist"


def test_sources_toml_needs_a_started_server(ticker):
    srv = DemoServer(ScenarioClock(T0, monotonic=ticker))
    with pytest.raises(RuntimeError, match="not started"):
        srv.sources_toml()


# ----------------------------------------------------------------- bad scenario files


@pytest.fixture
def scenario_copy(tmp_path) -> Path:
    dest = tmp_path / "demo"
    shutil.copytree(data.DEMO_DIR, dest)
    return dest


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


@pytest.mark.parametrize(
    "file, old, new, message",
    [
        ("news.toml", 'at = "-40h"', 'at = "yesterday"', r"news\.toml: item #1 \(n-bg-01\)\.at: bad time offset"),
        ("weibo.toml", 'repost_of = "w-first"', 'repost_of = "nope"', r"weibo\.toml: item w-repost1: repost_of 'nope'"),
        ("gov.toml", "森林防火工作的通知", "森林防火工作的通知\U0001F525", r"gov\.toml: item #1 \(g-01\).*gbk"),
        ("scenario.toml", 'format = "rss"', 'format = "atom"', r"scenario\.toml: \[sources\.news\]\.format"),
        ("hotlist.toml", 'off = "+20h"', 'off = "+1h"', r"hotlist\.toml: item #1 \(hot-incident\): off"),
        ("own.toml", "{md:-6h}{hm:-6h}", "{md:-6x}", r"own\.toml: item #7 \(release-situation\): placeholder"),
    ],
)
def test_bad_scenario_names_file_and_entry(scenario_copy, file, old, new, message):
    _edit(scenario_copy / file, old, new)
    with pytest.raises(ScenarioError, match=message):
        load_scenario(scenario_copy)


def test_missing_scenario_file(scenario_copy):
    (scenario_copy / "hk.toml").unlink()
    with pytest.raises(ScenarioError, match=r"hk\.toml: scenario file not found"):
        load_scenario(scenario_copy)


async def test_t0_can_lie_before_the_clock_start(ticker, http):
    # start the demo 9 scenario hours in: the release is already out at the first fetch
    clock = ScenarioClock(T0, speed=3600, monotonic=ticker)
    srv = DemoServer(clock, t0=T0 - timedelta(hours=9))
    await srv.start()
    try:
        _, _, body = await get(http, f"{srv.base_url}/own")
        titles = [e.title for e in feedparser.parse(body).entries]
        assert EXPECTED["incident"]["releases"]["situation"]["title"] in titles
        _, _, body = await get(http, f"{srv.base_url}/clock")
        assert json.loads(body)["offset_seconds"] == 9 * 3600
    finally:
        await srv.stop()


def test_load_expected_reads_the_bundled_file(scenario_copy):
    assert load_expected()["incident"]["town_code"] == "610702100"
    (scenario_copy / "expected.toml").write_text("[incident\n", "utf-8")
    with pytest.raises(ScenarioError, match=r"expected\.toml: not valid TOML"):
        load_expected(scenario_copy)


async def test_last_modified_and_the_desks_fetcher(server, ticker):
    from monitor.fetch import FetchPolicy, Fetcher

    at(ticker, "+6h")
    stamps = {}
    async with Fetcher(FetchPolicy(per_host_spacing=0)) as fetcher:
        for path in ("own", "gov"):
            first = await fetcher.fetch(f"{server.base_url}/{path}")
            assert first.status == 200 and first.last_modified and first.etag
            again = await fetcher.fetch(f"{server.base_url}/{path}", last_modified=first.last_modified)
            assert again.not_modified
            again = await fetcher.fetch(f"{server.base_url}/{path}", etag=first.etag)
            assert again.not_modified
            stamps[path] = first.last_modified
        at(ticker, "+8h40m")
        later = await fetcher.fetch(f"{server.base_url}/own", last_modified=stamps["own"])
        assert later.status == 200
