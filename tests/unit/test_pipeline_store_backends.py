"""The pipeline's store on both backends: search finds the same items for the same staff query on
SQLite (FTS5) and PostgreSQL (tsvector), ids come back from inserts, the watermark only moves
from where a batch started, and understanding claims are exclusive."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from classifiers.normalize import normalize
from classifiers.segment import default_segmenter
from monitor import store as monitor_store
from monitor.types import ParsedItem, SourceSpec
from pipeline import outbox
from pipeline import store
from pipeline.errors import WatermarkMoved
from pipeline.notices import Notice
from storage.db import open_db, transaction

T0 = datetime(2026, 6, 14, 2, 0, tzinfo=timezone.utc)
SPEC = SourceSpec(id="news", name="汉中日报", url="http://127.0.0.1:9/news", local=True)

# Real-looking headlines and texts, some with what tokenizers cut differently: dotted hosts,
# decimals, hyphenated words, Latin capitals and diacritics, full-width and ASCII punctuation.
ITEMS = [
    ("汉台区铺镇一化工厂发生爆炸 已致3人受伤", "今天上午，汉台区铺镇一化工厂车间发生爆炸，现场浓烟滚滚，已造成3人受伤送医。"),
    ("汉台区武乡镇多名学生食物中毒送医", "汉台区武乡镇中心小学多名学生午餐后出现呕吐腹痛，疑似食物中毒，已送医院救治。"),
    ("北关街道一居民楼发生火灾 1人死亡", "汉台区北关街道一居民楼今晨发生火灾，造成1人死亡，起火原因正在调查。"),
    ("汉中市区PM2.5浓度今日超标", "市环境监测站数据显示，PM2.5浓度达到12.5微克，超过标准。详情见 www.hanzhong.gov.cn 公告。"),
    ("COVID-19疫苗接种点调整", "汉台区COVID-19疫苗接种点调整为区人民医院门诊楼，咨询电话0916-2222222。"),
    ("Café开业 老君镇新添网红店", "老君镇一家Café今日开业，吸引不少年轻人打卡。"),
    ("铺镇化工厂爆炸事故续：伤者已送医救治", "铺镇化工厂爆炸事故中受伤的3名工人已送医救治，情况稳定。"),
    ("汉台区天气晴 气温回升", "全区天气晴好，最高气温18.5度。"),
]
QUERIES = ["爆炸", "铺镇 爆炸", "化工厂爆炸", "食物中毒", "PM2.5", "pm2", "12.5", "hanzhong", "www.hanzhong.gov.cn",
           "COVID-19", "covid", "19", "cafe", "Café", "火灾 死亡", "武乡镇 火灾", "，", "送医", "3人", "气温",
           "汉台区", "老君镇 Café", "不存在的词"]


def _cut(text: str) -> list[str]:
    """A text cut as the console cuts a staff query (tui.facade's search)."""
    return [t for t in default_segmenter().cut(normalize(text).text) if any(c.isalnum() for c in t)]


def _indexed_desk(target):
    db = open_db(target, [monitor_store.migrations, store.migrations])
    monitor_store.sync_sources(db, [SPEC], T0)
    monitor_store.store_fetch(db, SPEC, [
        ParsedItem(guid=f"g{i}", title=t, link=f"https://news.example/{i}", text=x, published=T0 + timedelta(minutes=i))
        for i, (t, x) in enumerate(ITEMS)], now=T0, next_check=T0, etag=None, last_modified=None, body_digest=None)
    rows = db.execute("SELECT id, title, text FROM items ORDER BY id").fetchall()
    with transaction(db) as conn:
        store.index_many(conn, [(i, default_segmenter().cut(normalize(t).text), default_segmenter().cut(normalize(x).text))
                                for i, t, x in rows])
    return db


def test_search_on_postgresql_finds_what_sqlite_finds(tmp_path, pg_url):
    lite, server = _indexed_desk(tmp_path / "desk.sqlite"), _indexed_desk(pg_url)
    try:
        found = {}
        for q in QUERIES:
            tokens = _cut(q)
            got = [r["id"] for r in store.search_items(lite, tokens)]
            assert [r["id"] for r in store.search_items(server, tokens)] == got, f"query {q!r} ({tokens})"
            found[q] = got
    finally:
        lite.conn.close()
        server.conn.close()
    # The queries really select, and words inside hosts, decimals and hyphenated words are found on
    # both (PostgreSQL's own parser would keep www.hanzhong.gov.cn, 12.5 and covid-19 whole).
    assert found["送医"] == [7, 2, 1] and found["汉台区"] == [8, 5, 3, 2, 1]
    assert found["铺镇 爆炸"] == [7] and found["火灾 死亡"] == [3] and found["武乡镇 火灾"] == []
    assert found["hanzhong"] == found["www.hanzhong.gov.cn"] == found["pm2"] == found["12.5"] == [4]
    assert found["covid"] == found["19"] == found["COVID-19"] == [5]
    assert found["Café"] == found["老君镇 Café"] == [6]
    assert found["，"] == found["不存在的词"] == []


def test_inserts_return_their_ids_and_the_peak_heat_is_kept(backend, tmp_path):
    db = open_db(backend or tmp_path / "desk.sqlite", [monitor_store.migrations, store.migrations, outbox.migrations])
    try:
        monitor_store.sync_sources(db, [SPEC], T0)
        first = store.add_label(db, 1, "topic", "安全生产", "zhang", T0)
        assert store.add_label(db, 1, "topic", "生态环境", "li", T0) == first + 1
        notices = [Notice(kind="incident_opened", lane="breaking", title="新舆情事件", body="一", key=f"k{i}")
                   for i in range(2)]
        with transaction(db) as conn:
            outbox.put(conn, notices, T0)
        assert notices[1].outbox_id == notices[0].outbox_id + 1
        assert [n.key for n in outbox.pending(db.conn, Notice)] == ["k0", "k1"]
        for heat, at in ((5.0, T0), (1.0, T0 + timedelta(minutes=5))):
            with transaction(db) as conn:
                store.save_stories(conn, [{"id": "s-1", "label": "化工厂", "size": 2, "heat": heat, "peak_heat": heat}], at)
        assert db.execute("SELECT heat, peak_heat FROM stories").fetchall() == [(1.0, 5.0)]
    finally:
        db.conn.close()


def test_the_watermark_moves_only_from_where_the_batch_started(backend, tmp_path):
    db = open_db(backend or tmp_path / "desk.sqlite", [store.migrations])
    try:
        with transaction(db) as conn:
            store.advance_watermark(conn, "understand", 0, 10)
        with pytest.raises(WatermarkMoved) as caught:
            with transaction(db) as conn:
                store.advance_watermark(conn, "understand", 0, 20)  # computed before the first commit
        assert (caught.value.expected, caught.value.found) == (0, 10)
        assert store.watermark(db.conn, "understand") == 10
    finally:
        db.conn.close()


def test_understanding_claims_are_exclusive_and_cleared_by_the_batch(backend, tmp_path):
    db = _indexed_desk(backend or tmp_path / "desk.sqlite")
    try:
        ids = [r[0] for r in db.execute("SELECT id FROM items ORDER BY id").fetchall()]
        with transaction(db) as conn:  # the leader's next batch is the first two items: claims start after
            a = store.claim_understanding(conn, "a", T0, after=0, skip=2, limit=3)
        with transaction(db) as conn:
            b = store.claim_understanding(conn, "b", T0, after=0, skip=2, limit=10)
        assert a == ids[2:5] and b == ids[5:]
        with transaction(db) as conn:
            store.save_understood(conn, "a", [(i, {"topic": f"t{i}"}) for i in a], T0)
            store.save_understood(conn, "b", [(a[0], {"topic": "not b's claim"})], T0)
        assert store.understood(db.conn, ids) == {i: {"topic": f"t{i}"} for i in a}
        with transaction(db) as conn:
            store.clear_understood(conn, a[-1])
        assert store.understood(db.conn, ids) == {}
        assert db.execute("SELECT count(*) FROM item_understanding").fetchone()[0] == len(b)
    finally:
        db.conn.close()


def test_topic_labels_of_a_desk_without_items_are_none(backend, tmp_path):
    db = open_db(backend or tmp_path / "desk.sqlite", [store.migrations])
    try:
        assert store.latest_topic_labels(db.conn) == []
    finally:
        db.conn.close()
