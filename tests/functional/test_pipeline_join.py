"""A new story joins an open incident only when it is the same event, not merely the same town.

Reports are stored as a monitored source would store them and the real pipeline reads them:
a chemical-plant explosion and, hours later, a school-canteen food poisoning (another topic) or
a crane collapse on a building site (the same topic, 安全生产) in the same town (铺镇) are two
incidents; a later report of the explosion in other words joins the first. On both backends.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from monitor import store
from monitor.types import ParsedItem, SourceSpec
from storage.db import connect, open_db
from tests.pipeline_kit import pipeline_home
from pipeline.schema import all_migrations
from pipeline.stages import DeskPipeline
from yuqing.pipeline import desk_pipeline

NOW = datetime(2026, 6, 14, 10, 0, tzinfo=timezone.utc)
SPEC = SourceSpec(id="local", name="汉中本地论坛", url="http://127.0.0.1:9/feed", local=True)

EXPLOSION = [
    ("汉台区铺镇一化工厂发生爆炸 已致3人受伤", "今天上午，汉台区铺镇一化工厂车间发生爆炸，现场浓烟滚滚，已造成3人受伤送医。"),
    ("汉台区铺镇化工厂爆炸 现场浓烟滚滚", "网友发布视频：汉台区铺镇一化工厂发生爆炸，消防车已赶到现场，3人受伤送医。"),
]
POISONING = [
    ("汉台区铺镇中心小学多名学生食堂就餐后呕吐 疑似食物中毒",
     "今天中午，汉台区铺镇中心小学多名学生在食堂就餐后出现呕吐腹痛，疑似食物中毒，已送医院救治。"),
    ("汉台区铺镇一小学学生集体呕吐腹痛 家长担忧",
     "汉台区铺镇中心小学多名学生中午在学校食堂吃饭后呕吐腹痛，疑似食物中毒，家长焦急赶到医院。"),
]
CRANE = [
    ("汉台区铺镇一建筑工地塔吊倒塌 2名工人受伤", "今天下午，汉台区铺镇一在建楼盘工地塔吊突然倒塌，砸中工棚，2名工人受伤被送往医院。"),
    ("汉台区铺镇工地塔吊倒塌 现场一片狼藉", "网友发布视频：汉台区铺镇一建筑工地塔吊倒塌，2名工人受伤，事故原因正在调查。"),
]
EXPLOSION_LATER = [
    ("铺镇化工厂爆炸受伤工人情况稳定", "汉台区铺镇化工厂车间爆炸中受伤的3名工人已脱离危险，爆炸原因正在调查。"),
]


def _store(db, stories, at: datetime, tag: str) -> None:
    items = [ParsedItem(guid=f"{tag}-{k}", title=title, link=f"https://news.example/{tag}/{k}", text=text,
                        published=at + timedelta(minutes=10 * k))
             for k, (title, text) in enumerate(stories)]
    store.store_fetch(db, SPEC, items, now=at, next_check=at, etag=None, last_modified=None, body_digest=None)


def _drain(pipe: DeskPipeline) -> list:
    notices = []
    while True:
        notices += pipe.step()
        if not pipe.last_batch:
            return notices


@pytest.mark.parametrize("other", [POISONING, CRANE], ids=["food-poisoning", "crane-collapse"])
def test_distinct_events_in_one_town_are_separate_incidents(tmp_path, other, backend):
    home = pipeline_home(tmp_path / "home")
    db = open_db(home.db_target, all_migrations())
    store.sync_sources(db, [SPEC], NOW)
    clock = {"now": NOW}
    pipe = desk_pipeline(home.db_target, home.path, clock=lambda: clock["now"])
    pipe.open()
    try:
        _store(db, EXPLOSION, NOW - timedelta(hours=2), "boom")
        _drain(pipe)
        clock["now"] = NOW + timedelta(hours=3)
        _store(db, other, NOW + timedelta(hours=2), "other")
        _drain(pipe)
        clock["now"] = NOW + timedelta(hours=6)
        _store(db, EXPLOSION_LATER, NOW + timedelta(hours=5), "later")
        _drain(pipe)
    finally:
        pipe.close()
        db.conn.close()
    con = connect(home.db_target)
    try:
        incidents = con.execute("SELECT id, title FROM incidents ORDER BY id").fetchall()
        linked = {}
        for iid, guid in con.execute("SELECT x.incident_id, i.guid FROM incident_items x"
                                     " JOIN items i ON CAST(i.id AS TEXT) = x.item_id").fetchall():
            linked.setdefault(iid, set()).add(guid.split("-")[0])
    finally:
        con.conn.close()
    assert len(incidents) == 2, incidents
    assert sorted(linked.values(), key=sorted) == [{"boom", "later"}, {"other"}], linked
