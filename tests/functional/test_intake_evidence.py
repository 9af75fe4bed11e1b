"""Intake treats what feeds say as evidence (issue 17, items 6, 3 and 10), through loopback
feeds, the real collector, the pipeline and the CLI:

- a publication time in the future or far before its neighbours is clamped and flagged; the
  clock and the 首发 say which time they used; the story engine's time never runs ahead of
  the desk clock (also in ``yuqing stories``);
- a link already stored from another source is a sighting: stored, counted and said;
- an item re-served under the same guid with another text keeps every version.
"""
from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from click.testing import CliRunner

from monitor import store
from monitor.collector import Collector
from monitor.fetch import FetchPolicy
from monitor.types import SourceSpec
from storage.db import open_db
from tests.loopback import loopback  # noqa: F401  (fixture)
from tui.facade import DeskFacade
from tui.screens.incident import summary_text
from tui.screens.items import item_text
from yuqing.cli import cli
from yuqing.config import init_home
from yuqing.home import DeskHome
from pipeline.schema import all_migrations
from yuqing.pipeline import desk_pipeline

NOW = datetime(2026, 6, 14, 4, 0, tzinfo=timezone.utc)
FETCH = NOW - timedelta(hours=1)
EXPLOSION = ("汉台区铺镇一化工厂发生爆炸 已致3人受伤", "今天上午，汉台区铺镇一化工厂车间发生爆炸，现场浓烟滚滚，已造成3人受伤送医。")
QUIET = [("汉中市今日天气晴好", "汉中市今天天气晴好，适宜出行。"),
         ("汉中图书馆周末开放时间调整", "汉中市图书馆周末开放时间调整为九点至十七点。"),
         ("汉中公交新增两条线路", "汉中公交公司新增两条公交线路，方便市民出行。"),
         ("汉中举办青少年书法展", "汉中市青少年书法展在市文化馆开幕。")]


def _rss(items) -> str:
    """items: (guid, title, text, link, published datetime or raw date string)."""
    out = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>']
    for guid, title, text, link, pub in items:
        date = pub if isinstance(pub, str) else format_datetime(pub)
        out.append(f"<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>"
                   f"<pubDate>{date}</pubDate><description>{text}</description></item>")
    return "".join(out) + "</channel></rss>"


def _home(tmp_path) -> DeskHome:
    home = DeskHome(tmp_path / "desk")
    init_home(home, sources_text="")
    return home


def _spec(sid, url, name=None) -> SourceSpec:
    return SourceSpec(id=sid, name=name or sid, url=url, kind="rss", local=True, interval=60)


async def _fetch(home, *specs, at=FETCH):
    """Check each source once, in order, with the collector's clock at ``at``."""
    async with Collector(home.db_path, policy=FetchPolicy(per_host_spacing=0), clock=lambda: at, jitter=0) as c:
        await c.sync_sources(list(specs))
        return [await c.check(s) for s in specs]


def _drain(home, now=NOW):
    pipe = desk_pipeline(home.db_path, home.path, clock=lambda: now)
    pipe.open()
    notices = []
    try:
        while True:
            notices += pipe.step()
            if not pipe.last_batch:
                break
        return notices, pipe.engine.now
    finally:
        pipe.close()


def invoke(home, *args, now=NOW):
    return CliRunner(env={"YUQING_NOW": now.isoformat()}).invoke(cli, ["--home", str(home.path), *args],
                                                                catch_exceptions=False)


def _real_now() -> datetime:
    """`yuqing sources` counts the last 24 hours of the wall clock: tests of it fetch at real times."""
    return datetime.now(timezone.utc).replace(microsecond=0)


# ---------------------------------------------------------------- item 6: dates are evidence

async def test_a_1990_and_a_2099_date_steer_neither_the_clock_nor_the_engine(tmp_path, loopback):  # noqa: F811
    title, text = EXPLOSION
    items = [(f"e{k}", f"{title}（{k}）" if k else title, text, f"https://news.example/e{k}",
              NOW - timedelta(hours=3) + timedelta(minutes=10 * k)) for k in range(4)]
    items.append(("old", title + "（转）", text, "https://news.example/old", "Tue, 02 Jan 1990 00:00:00 +0800"))
    items.append(("far", "汉中市明年天气预报", "汉中市天气晴好。", "https://news.example/far",
                  "Thu, 01 Jan 2099 00:00:00 +0800"))
    loopback.route("/local.xml", _rss(items), content_type="application/rss+xml")
    home = _home(tmp_path)
    [out] = await _fetch(home, _spec("local", loopback.url("/local.xml"), "汉中本地论坛"))
    assert out.clamped == 2 and len(out.new_ids) == 6
    notices, engine_now = _drain(home)
    assert engine_now <= NOW + timedelta(minutes=10)
    opened = [n for n in notices if n.kind == "incident_opened"]
    assert len(opened) == 1 and "转" not in opened[0].title
    con = sqlite3.connect(home.db_path)
    first, started = con.execute("SELECT first_published, clock_started_at FROM incidents").fetchone()
    assert datetime.fromisoformat(first) == NOW - timedelta(hours=3) == datetime.fromisoformat(started)
    ids = {r[0] for r in con.execute("SELECT id FROM items WHERE url NOT LIKE '%/far'")}
    linked = {int(r[0]) for r in con.execute("SELECT item_id FROM incident_items WHERE incident_id = 1")}
    assert linked == ids  # the four reports and the re-dated one, none dropped
    con.close()
    shown = invoke(home, "incident", "1").output
    assert "计时起点 自首发起算：按首发发布时间（汉中本地论坛）" in shown
    assert "已超时" not in shown


async def test_a_clamped_first_publication_is_shown_with_its_reason(tmp_path, loopback):  # noqa: F811
    items = [(f"q{k}", t, x, f"https://news.example/q{k}", FETCH - timedelta(hours=k + 1))
             for k, (t, x) in enumerate(QUIET)]
    items.append(("fire", "汉台区北关街道一居民楼发生火灾 1人死亡", "汉台区北关街道一居民楼发生火灾，造成1人死亡，起火原因正在调查。",
                  "https://news.example/fire", "Tue, 02 Jan 1990 00:00:00 +0800"))
    loopback.route("/local.xml", _rss(items), content_type="application/rss+xml")
    home = _home(tmp_path)
    await _fetch(home, _spec("local", loopback.url("/local.xml"), "汉中本地论坛"))
    notices, _ = _drain(home)
    assert [n.kind for n in notices if n.kind == "incident_opened"] == ["incident_opened"]
    shown = invoke(home, "incident", "1").output
    note = "按入库时间（发布时间异常：1990-01-02，发布时间远早于同批其他条目）"
    assert f"计时起点 自首发起算：{note}" in shown
    assert f"首发 汉中本地论坛 2026-06-14 11:00 {note}" in shown
    md = invoke(home, "export", "1", "--format", "md", "-o", str(tmp_path / "r.md"))
    assert md.exit_code == 0, md.output
    assert note in (tmp_path / "r.md").read_text("utf-8")
    facade = DeskFacade(home.db_path, clock=lambda: NOW)
    try:
        fire = facade.item(5)
        detail = facade.incident(1)
    finally:
        facade.close()
    assert fire.published_note == note and note in item_text(fire).plain
    assert f"计时起点 自首发起算：{note}" in summary_text(detail.incident, detail.clock).plain


def test_a_stored_2099_date_does_not_move_the_engine(tmp_path):
    """A database written before intake bounded times: the pipeline still keeps the engine's time
    at the desk clock, so the live story keeps its items."""
    from monitor.types import ParsedItem

    home = _home(tmp_path)
    db = open_db(home.db_path, all_migrations())
    spec = _spec("local", "http://127.0.0.1:9/feed")
    store.sync_sources(db, [spec], NOW)
    title, text = EXPLOSION
    items = [ParsedItem(guid="far", title="汉中市明年天气预报", text="天气晴好。", published=NOW - timedelta(hours=4))]
    items += [ParsedItem(guid=f"e{k}", title=f"{title}（{k}）", text=text, link=f"https://news.example/e{k}",
                         published=NOW - timedelta(hours=3) + timedelta(minutes=10 * k)) for k in range(6)]
    store.store_fetch(db, spec, items, now=NOW, next_check=NOW, etag=None, last_modified=None, body_digest=None)
    db.execute("UPDATE items SET published = '2099-01-01T00:00:00.000000+00:00' WHERE guid = 'far'")
    db.conn.commit()
    db.conn.close()
    _, engine_now = _drain(home)
    assert engine_now <= NOW + timedelta(minutes=10)
    con = sqlite3.connect(home.db_path)
    assert con.execute("SELECT count(DISTINCT story_id) FROM item_analysis a JOIN items i ON i.id = a.item_id"
                       " WHERE i.guid LIKE 'e%'").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM incident_items").fetchone()[0] == 6
    con.close()


def test_yuqing_stories_takes_a_2099_item_as_of_the_stream(tmp_path):
    title, text = EXPLOSION
    start = datetime(2026, 6, 14, 2, 0, tzinfo=timezone.utc)
    lines = []
    for k in range(20):
        pub = start + timedelta(minutes=k)
        if k == 5:
            lines.append({"id": "far", "title": "汉中市明年天气预报", "text": "天气晴好。",
                          "published": "2099-01-01T00:00:00+08:00", "source": "x"})
        lines.append({"id": f"e{k}", "title": f"{title}（{k}）", "text": text, "published": pub.isoformat(),
                      "source": f"s{k % 3}"})
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), "utf-8")
    result = CliRunner().invoke(cli, ["stories", str(path), "--summary"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    stories = {r["story"] for r in rows if "id" in r and r["id"].startswith("e")}
    assert len(stories) == 1  # one story, not a new one for every item after the 2099 line
    summary = next(r for r in rows if "size" in r and r["story"] in stories)
    assert summary["size"] == 20
    assert "1 items dated in the future" in result.stderr


# ---------------------------------------------------------------- item 3: sightings across sources

def test_a_second_source_sharing_links_records_sightings(tmp_path, loopback, caplog):  # noqa: F811
    now = _real_now()
    title, text = EXPLOSION
    shared = [f"https://news.example/p/{k}" for k in range(3)]
    a_items = [(f"a{k}", f"{title}（{k}）", text, link, now - timedelta(hours=2) + timedelta(minutes=k))
               for k, link in enumerate(shared)]
    b_items = [(f"b{k}", f"{title}（{k}）", text, link + "?utm_source=weibo", now - timedelta(hours=3) +
                timedelta(minutes=k)) for k, link in enumerate(shared)]
    loopback.route("/a.xml", _rss(a_items), content_type="application/rss+xml")
    loopback.route("/b.xml", _rss(b_items), content_type="application/rss+xml")
    home = _home(tmp_path)
    a, b = _spec("site-a", loopback.url("/a.xml"), "汉中日报"), _spec("weibo-b", loopback.url("/b.xml"), "微博")
    (home.path / "sources.toml").write_text(
        "".join(f'[sources.{s.id}]\nname = "{s.name}"\nurl = "{s.url}"\nkind = "rss"\nlocal = true\n\n'
                for s in (a, b)), "utf-8")
    asyncio.run(_fetch(home, a, at=now - timedelta(minutes=30)))
    tested = invoke(home, "sources", "test", "weibo-b")
    assert tested.exit_code == 0, tested.output
    assert "新条目 3（其中复见 3" in tested.output
    with caplog.at_level(logging.INFO, logger="yuqing.collector"):
        [out] = asyncio.run(_fetch(home, b, at=now - timedelta(minutes=20)))
    assert len(out.new_ids) == 3 and out.sightings == 3
    assert any("3 of them sightings" in r.getMessage() for r in caplog.records)
    health = {h["id"]: h for h in map(json.loads, invoke(home, "sources", "--json").output.splitlines())}
    assert health["weibo-b"]["items_24h"] == 3 and health["weibo-b"]["sightings_24h"] == 3
    assert health["site-a"]["sightings_24h"] == 0
    listing = invoke(home, "sources").output
    row = next(line for line in listing.splitlines() if line.startswith("weibo-b"))
    assert row.split()[5:8] == ["3", "3", "0"]  # items, of them sightings, edited
    _drain(home, now)
    con = sqlite3.connect(home.db_path)
    # one story over both platforms; its 首发 is the earlier sighting on weibo-b
    [(size, sources, first_source)] = con.execute(
        "SELECT size, sources, first_source FROM stories WHERE size > 1").fetchall()
    assert (size, sources, first_source) == (6, 2, "weibo-b")
    first = con.execute("SELECT first_published FROM incidents WHERE id = 1").fetchone()[0]
    assert datetime.fromisoformat(first) == now - timedelta(hours=3)
    con.close()


# ---------------------------------------------------------------- item 10: edits keep versions

def test_an_edited_post_keeps_every_version(tmp_path, loopback):  # noqa: F811
    now = _real_now()
    title, text = EXPLOSION
    home = _home(tmp_path)
    spec = _spec("local", loopback.url("/local.xml"), "汉中本地论坛")
    outcomes = []
    for v in range(7):
        body = _rss([("post", title.replace("3人", f"{3 + v}人"), text.replace("3人", f"{3 + v}人"),
                      "https://news.example/post", now - timedelta(hours=2))])
        loopback.route("/local.xml", body, content_type="application/rss+xml")
        [out] = asyncio.run(_fetch(home, spec, at=now - timedelta(minutes=30 - v)))
        outcomes.append(out)
        if v == 0:
            _drain(home, now)
    assert [len(o.new_ids) for o in outcomes] == [1, 0, 0, 0, 0, 0, 0]
    assert [o.edited for o in outcomes] == [0, 1, 1, 1, 1, 1, 1]
    db = open_db(home.db_path, all_migrations())
    versions = store.item_versions(db, 1)
    db.conn.close()
    assert [v["version"] for v in versions] == list(range(1, 8))
    assert versions[0]["title"] == title and "9人" in versions[-1]["title"]
    # the same body again is no new version
    [again] = asyncio.run(_fetch(home, spec, at=now - timedelta(minutes=10)))
    assert again.edited == 0
    shown = invoke(home, "incident", "1", now=now).output
    assert "已修改条目 #1（共7个版本）" in shown
    assert json.loads(invoke(home, "incident", "1", "--json", now=now).output)["edited_items"] == {"1": 7}
    health = {h["id"]: h for h in map(json.loads, invoke(home, "sources", "--json").output.splitlines())}
    assert health["local"]["edited_24h"] == 1
    invoke(home, "export", "1", "--format", "md", "-o", str(tmp_path / "r.md"), now=now)
    assert "〔已修改，共7个版本〕" in (tmp_path / "r.md").read_text("utf-8")
    facade = DeskFacade(home.db_path, clock=lambda: now)
    try:
        row = facade.item(1)
    finally:
        facade.close()
    assert row.versions == 7 and "已修改（共7个版本）" in item_text(row).plain
