"""The pipeline writes a batch in one transaction: a write that fails (disk full) leaves
nothing behind and the retry counts nothing twice. On both backends (the disk-full case is
SQLite's: a server's full disk is tested with intake, tests/functional/test_faults.py)."""
from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from monitor import store
from monitor.types import ParsedItem, SourceSpec
from storage.db import connect, open_db
from yuqing.home import DeskHome
from pipeline.schema import all_migrations
from pipeline.stages import DeskPipeline
from yuqing.pipeline import desk_pipeline
from tests.pipeline_kit import pipeline_home

NOW = datetime(2026, 6, 14, 4, 0, tzinfo=timezone.utc)

STORIES = [
    ("汉台区铺镇一化工厂发生爆炸 已致3人受伤", "今天上午，汉台区铺镇一化工厂车间发生爆炸，现场浓烟滚滚，已造成3人受伤送医。"),
    ("汉台区武乡镇多名学生食物中毒送医", "汉台区武乡镇中心小学多名学生午餐后出现呕吐腹痛，疑似食物中毒，已送医院救治。"),
    ("汉台区北关街道一居民楼发生火灾 1人死亡", "汉台区北关街道一居民楼今晨发生火灾，造成1人死亡，起火原因正在调查。"),
]


def _items() -> list[ParsedItem]:
    out = []
    for k in range(4):  # four reports of each story, from different outlets
        for s, (title, text) in enumerate(STORIES):
            out.append(ParsedItem(guid=f"s{s}-{k}", title=f"{title}（{k}）" if k else title,
                                  link=f"https://news.example/{s}/{k}", text=text + "网友纷纷转发。" * k,
                                  published=NOW - timedelta(hours=3) + timedelta(minutes=10 * k + s)))
    return out


def _home(tmp_path, name: str, target=None) -> DeskHome:
    """A desk home whose database (``target``, else the home's: `backend` sets it) holds the items."""
    home = pipeline_home(tmp_path / name, target)
    db = open_db(home.db_target, all_migrations())
    spec = SourceSpec(id="local", name="汉中本地论坛", url="http://127.0.0.1:9/feed", local=True)
    store.sync_sources(db, [spec], NOW)
    store.store_fetch(db, spec, _items(), now=NOW, next_check=NOW, etag=None, last_modified=None, body_digest=None)
    db.conn.close()
    return home


def _drain(pipe: DeskPipeline) -> list:
    notices = []
    while True:
        notices += pipe.step()
        if not pipe.last_batch:
            return notices


def _outcome(home: DeskHome) -> dict:
    con = connect(home.db_target)
    try:
        return {
            "analysed": con.execute("SELECT count(*), count(DISTINCT item_id) FROM item_analysis").fetchone(),
            "indexed": con.execute("SELECT count(*) FROM items_fts").fetchone()[0],
            "stories": sorted(r[0] for r in con.execute("SELECT story_id FROM item_analysis")),
            "incidents": con.execute("SELECT count(*) FROM incidents").fetchone()[0],
            "links": con.execute("SELECT count(*), count(DISTINCT CAST(incident_id AS TEXT) || '/' || item_id)"
                                 " FROM incident_items").fetchone(),
            "events": sorted(r[0] for r in con.execute("SELECT kind FROM timeline_events")),
        }
    finally:
        con.conn.close()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def clean(request, tmp_path_factory):
    """One clean run per backend, shared by the tests that compare with it."""
    target = request.getfixturevalue("pg_server").create_database() if request.param == "postgresql" else None
    home = _home(tmp_path_factory.mktemp("clean"), "home", target)
    pipe = desk_pipeline(home.db_target, home.path, clock=lambda: NOW)
    pipe.open()
    try:
        notices = _drain(pipe)
    finally:
        pipe.close()
    return home, notices


def test_clean_run_opens_one_incident_per_story(clean):
    home, notices = clean
    out = _outcome(home)
    assert out["analysed"] == (12, 12)
    assert out["indexed"] == 12
    assert out["incidents"] == 3
    assert out["links"][0] == out["links"][1] == 12
    assert sum(n.kind == "incident_opened" for n in notices) == 3


def test_a_full_disk_mid_batch_writes_nothing_and_the_retry_counts_nothing_twice(tmp_path, clean):
    if clean[0].on_server:
        pytest.skip("PRAGMA max_page_count fills SQLite's file; a server's full disk: test_faults.py")
    home = _home(tmp_path, "home")
    pipe = desk_pipeline(home.db_target, home.path, clock=lambda: NOW)
    pipe.open()
    try:
        pages = pipe.db.conn.execute("PRAGMA page_count").fetchone()[0]
        pipe.db.conn.execute(f"PRAGMA max_page_count = {pages}")
        for _ in range(2):  # fails twice: the batch is understood once and written once
            with pytest.raises(sqlite3.OperationalError, match="full"):
                pipe.step()
        assert _outcome(home)["analysed"] == (0, 0)
        assert _outcome(home)["incidents"] == 0
        pipe.db.conn.execute("PRAGMA max_page_count = 1073741823")
        notices = _drain(pipe)
    finally:
        pipe.close()
    got, want = _outcome(home), _outcome(clean[0])
    assert got == want
    assert sum(n.kind == "incident_opened" for n in notices) == 3


def test_notices_wait_in_the_outbox_until_handed_over(tmp_path, backend):
    home = _home(tmp_path, "home")
    pipe = desk_pipeline(home.db_target, home.path, clock=lambda: NOW)
    pipe.open()
    try:
        notices = _drain(pipe)
        opened = [n for n in notices if n.kind == "incident_opened"]
        assert len(opened) == 3 and all(n.outbox_id for n in opened)
        assert {n.key for n in pipe.pending_notices()} == {n.key for n in notices}
        pipe.notice_sent(opened[0])
    finally:
        pipe.close()
    again = desk_pipeline(home.db_target, home.path, clock=lambda: NOW)
    again.open()  # a restart: what was never handed over is still there, nothing else
    try:
        left = again.pending_notices()
        assert {n.key for n in left} == {n.key for n in notices} - {opened[0].key}
        assert left[0].towns and left[0].title.startswith("新舆情事件")
    finally:
        again.close()


async def test_the_runner_hands_over_what_a_stopped_desk_left_in_the_outbox(tmp_path, backend):
    from yuqing.config import load_config
    from yuqing.pipeline import pipeline_runner

    home = _home(tmp_path, "home")
    pipe = desk_pipeline(home.db_target, home.path, clock=lambda: NOW)
    pipe.open()
    try:
        keys = {n.key for n in _drain(pipe)}  # decided, committed, then the desk "died"
    finally:
        pipe.close()
    lines: list[str] = []
    runner = pipeline_runner(load_config(home), lambda: NOW, echo=lines.append)
    await runner.start()
    try:
        for _ in range(100):
            if not runner._tasks:
                break
            await asyncio.sleep(0.05)
        left = await runner._run(runner.pipeline.pending_notices)
    finally:
        await runner.stop()
    assert left == []
    assert sum("新舆情事件" in line for line in lines) == 3
    assert keys


def test_a_restart_rebuilds_the_same_stories(clean):
    home, _ = clean
    con = connect(home.db_target)
    stored: dict[str, set[str]] = {}
    for item_id, story_id in con.execute("SELECT item_id, story_id FROM item_analysis").fetchall():
        stored.setdefault(story_id, set()).add(str(item_id))
    con.conn.close()
    pipe = desk_pipeline(home.db_target, home.path, clock=lambda: NOW)
    pipe.open()  # replays the window
    try:
        rebuilt = {sid: set(pipe.engine.story(sid).item_ids) for sid in stored}
        assert all(pipe.state.facts[sid].candidate_sent for sid in stored)
    finally:
        pipe.close()
    assert rebuilt == stored


def test_a_grave_story_joining_an_open_incident_is_announced(tmp_path, backend):
    home = pipeline_home(tmp_path / "home")
    db = open_db(home.db_target, all_migrations())
    spec = SourceSpec(id="local", name="汉中本地论坛", url="http://127.0.0.1:9/feed", local=True)
    store.sync_sources(db, [spec], NOW)

    def publish(guid, title, text, minutes_ago):
        store.store_fetch(db, spec, [ParsedItem(guid=guid, title=title, link=f"https://news.example/{guid}", text=text,
                                                published=NOW - timedelta(minutes=minutes_ago))],
                          now=NOW, next_check=NOW, etag=None, last_modified=None, body_digest=None)

    publish("a", "汉台区铺镇化工厂排放刺鼻异味 村民投诉污染", "铺镇化工厂夜间排放刺鼻气体，村民投诉污染严重，多次反映无人处理。", 120)
    pipe = desk_pipeline(home.db_target, home.path, clock=lambda: NOW)
    pipe.open()
    try:
        assert [n.kind for n in _drain(pipe)] == ["incident_opened"]
        publish("b", "汉台区铺镇化工厂突发爆炸 有毒气体泄漏污染 已致2人死亡",
                "今天上午铺镇化工厂发生爆炸，有毒气体泄漏造成污染，已致2人死亡，周边村民紧急疏散。", 10)
        publish("c", "铺镇化工厂附近道路今日正常通行", "铺镇化工厂附近道路今日正常通行，交通有序。", 5)
        notices = _drain(pipe)
    finally:
        pipe.close()
        db.conn.close()
    joined = [n for n in notices if n.kind == "incident_joined"]
    assert len(joined) == 1 and joined[0].lane == "breaking" and joined[0].incident_id == 1
    assert "爆炸" in joined[0].title and joined[0].key.startswith("incident:1:story:")
    assert not [n for n in notices if n.kind == "incident_opened"]


async def test_the_daemons_dispatcher_learns_who_is_on_duty_and_how_to_reach_them(tmp_path):
    from responders import staff
    from yuqing.config import load_config
    from yuqing.pipeline import pipeline_runner

    home = _home(tmp_path, "home")
    db = open_db(home.db_target, all_migrations())
    staff.add_staff(db, "zhang", "张伟", "officer", wecom="ZhangWei")
    db.conn.close()
    runner = pipeline_runner(load_config(home), lambda: NOW)
    await runner.start()
    try:
        dispatcher = runner.dispatcher
        assert dispatcher.duty is not None
        assert dispatcher.people("zhang").wecom == "ZhangWei"
        assert dispatcher.people("nobody") is None
    finally:
        await runner.stop()
