"""The console facade and its pure helpers, on real desk files in tmp_path."""
from __future__ import annotations

from datetime import timedelta

import pytest

from responders.exceptions import IllegalTransition, InvalidValue
from tests.responders_kit import T0
from tests.tui_kit import HOSTILE_TITLE, build_desk
from tui.facade import DeskBusy, DeskFacade
from tui.screens.items import parse_filter
from tui.text import clean, countdown_status, countdown_text, parse_local, safe
from tui.types import ItemFilter
from tui.widgets.charts import hbars, sparkline

H = timedelta(hours=1)


@pytest.fixture
def facade(tmp_path):
    path, clock = build_desk(tmp_path)
    from yuqing.gazetteer_io import load_unit_names

    f = DeskFacade(path, clock=clock, actor="值班员", units=load_unit_names())
    yield f
    f.close()


def test_snapshot_board_stream_status(facade):
    snap = facade.snapshot()
    assert [r.id for r in snap.board] == [2, 1] and snap.open_total == 2
    assert snap.board[1].towns == ("铺镇",) and snap.board[1].units == ("生态环境局汉台分局", "铺镇")
    assert {it.title for it in snap.stream} >= {HOSTILE_TITLE}
    s = snap.status
    assert (s.sources_total, s.sources_ok, s.sources_failing, s.items_today, s.alerts_waiting) == (2, 2, 0, 4, 2)
    assert s.daemon_alive
    facade.clock.advance(minutes=16)
    assert not facade.snapshot().status.daemon_alive


def test_actions_go_through_the_service(facade):
    facade.acknowledge(1)
    facade.assign(1, ["区生态环境分局"])
    with pytest.raises(InvalidValue, match="未知单位「区环保委」.*最接近的"):
        facade.assign(1, ["区环保委"])
    assert facade.incident(1).incident.assigned_units == ("生态环境局汉台分局",)
    facade.note(1, "已电话联系")
    rel = facade.record_release(1, channel="政务微博", url="https://weibo.example/1", at=T0 + H, text="通报",
                                kind=None)
    assert rel.kind == "authoritative" and rel.actor == "值班员"
    d = facade.incident(1)
    assert d.incident.state == "已发布权威信息" and d.clock.released_on_time
    assert [it.first for it in d.items] == [True]
    kinds = [e.kind for e in d.timeline]
    assert "acknowledged" in kinds and "note" in kinds and "release" in kinds
    with pytest.raises(InvalidValue):
        facade.note(1, "   ")
    with pytest.raises(IllegalTransition):
        facade.close_incident(2)
    facade.merge(1, [2])
    assert facade.snapshot().open_total == 1
    path = facade.export(1, "md")
    assert path.parent.name == "exports" and path.read_text(encoding="utf-8")


def test_split_and_reject_proposal(facade):
    from responders.release_detect import list_proposals, propose_releases
    from responders.types import OwnChannelItem

    facade.svc.link_items(1, [2], evidence=[{"item_id": 2, "title": "汉台区举办美食节", "url": "https://n.example/2",
                                             "published": (T0 + H).isoformat(), "source": "汉中新闻网"}])
    with pytest.raises(InvalidValue, match="不属于"):
        facade.split(1, [9])
    new = facade.split(1, [2], "  ")  # a blank title falls back to the original's
    assert new.title.endswith("（拆分）") and list(new.item_ids) == ["2"]
    assert [it.item_id for it in facade.incident(1).items] == ["1"]
    assert [e.actor for e in facade.incident(1).timeline if e.kind == "split"] == ["值班员"]
    [prop] = propose_releases(facade.svc, [OwnChannelItem(
        "501", "关于铺镇化工厂异味问题的情况通报", "区生态环境分局已对铺镇化工厂排放开展调查。", "https://gov.example/501",
        T0 + H, "hantai-gov", "gov", "汉台区政府网")])
    assert facade.incident(prop.incident_id).proposals
    with pytest.raises(InvalidValue, match="理由"):
        facade.reject_proposal(prop.id, "  ")
    assert facade.reject_proposal(prop.id, "只是转载").status == "rejected"
    d = facade.incident(prop.incident_id)
    assert not d.proposals and not d.releases
    assert [e.payload["reason"] for e in d.timeline if e.kind == "release_rejected"] == ["只是转载"]
    with pytest.raises(InvalidValue):
        facade.reject_proposal(prop.id, "again")
    assert list_proposals(facade.svc, "rejected")[0].id == prop.id


def test_items_filters_search_and_labels(facade):
    assert len(facade.items()) == 4
    assert [r.title for r in facade.items(ItemFilter(query="化工厂"))] == ["铺镇化工厂夜间排放异味 村民投诉"]
    assert facade.items(ItemFilter(query="不存在的词语组合")) == []
    assert len(facade.items(ItemFilter(sentiment="负面"))) == 2
    assert [r.towns for r in facade.items(ItemFilter(town="铺镇"))] == [("铺镇",)]
    assert {r.source_id for r in facade.items(ItemFilter(source="weibo"))} == {"weibo"}
    assert len(facade.items(ItemFilter(since_hours=1))) == 4
    facade.clock.advance(hours=2)
    assert facade.items(ItemFilter(since_hours=1)) == []
    item = facade.items(ItemFilter(town="铺镇"))[0]
    facade.correct(item.id, "place", "武乡镇")
    assert facade.item(item.id).labels == {"place": "武乡镇"}
    with pytest.raises(ValueError):
        facade.correct(item.id, "severity", "重大")


def test_schemes_preview_and_save(facade, tmp_path):
    assert "pollution" in facade.schemes()
    p = facade.preview_scheme("x", "化工厂 AND 异味")
    assert p.ok and p.checked == 4 and len(p.hits) == 1
    bad = facade.preview_scheme("x", "化工厂 AND (")
    assert not bad.ok and bad.error
    dest = facade.save_scheme("pollution", "汉台 AND 污染")
    assert dest == tmp_path / "schemes.toml" and facade.schemes()["pollution"]["expr"] == "汉台 AND 污染"
    assert facade.schemes()["pollution"]["alert"] is False  # other keys kept
    with pytest.raises(DeskBusy):
        facade.save_scheme("pollution", "AND")


def test_report(facade):
    rep = facade.report()
    assert sum(n for _, n in rep.per_hour) == 4 and len(rep.per_hour) == 24
    assert {r.name for r in rep.league} == {"区委宣传部"}  # nothing assigned: suggestions are not ranked
    facade.assign(1, ["区环保局"])
    assert {r.name for r in facade.report().league} == {"区委宣传部", "生态环境局汉台分局"}


def test_broken_database_is_a_clear_error(tmp_path):
    bad = tmp_path / "desk.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DeskBusy, match="无法打开数据库"):
        DeskFacade(bad)


# ------------------------------------------------------------------ pure helpers

def test_control_characters_become_visible():
    assert clean("a\x1b[31mb\x07\x00\x7f\u202e") == "a␛[31mb␇␀␡<U+202E>"
    t = safe("[bold]x[/bold] [link=http://e]y[/link]")
    assert t.plain == "[bold]x[/bold] [link=http://e]y[/link]" and not t.spans
    assert safe("汉台区铺镇化工厂", width=7).cell_len <= 7
    assert clean("a\nb", oneline=False) == "a\nb" and clean("a\nb") == "a␊b"


@pytest.mark.parametrize("left,status", [(13 * H, "normal"), (12 * H, "warning"), (4 * H, "warning"),
                                         (4 * H - timedelta(seconds=1), "urgent"), (-timedelta(seconds=1), "overdue")])
def test_countdown_levels(left, status):
    assert countdown_status(T0 + left, T0) == status
    assert countdown_status(T0 - H, T0, released_at=T0) == "released"
    assert countdown_text(T0 + left, T0).plain  # always has text, not colour alone


def test_parse_local_and_filters():
    assert parse_local("2026-06-14 08:30", T0 + H) == T0 + H / 2
    assert parse_local("08:30", T0 + H) == T0 + H / 2
    assert parse_local("", T0) == T0
    with pytest.raises(ValueError, match="时间格式不对"):
        parse_local("明天", T0)
    f = parse_filter("镇:铺镇 主题：生态环境 化工厂 情感:负面 来源:news")
    assert (f.town, f.topic, f.sentiment, f.source, f.query) == ("铺镇", "生态环境", "负面", "news", "化工厂")
    assert parse_filter("近:6h").since_hours == 6 and parse_filter("近:2d").since_hours == 48
    with pytest.raises(ValueError, match="近:6h"):
        parse_filter("近:昨天")


def test_charts():
    assert sparkline([0, 1, 2, 4]) == " ▂▄█"
    assert "█" in hbars([("甲", 10), ("乙", 5)]).plain


def test_locked_database_is_retried_then_reported(facade):
    import sqlite3
    import threading

    facade.db.conn.execute("PRAGMA busy_timeout = 10")  # fail fast instead of SQLite's 15 s wait
    other = sqlite3.connect(facade.db_path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    # The other writer commits once the facade has met the lock; the facade keeps retrying
    # (for up to a generous minute here) and then writes.
    facade.retry_delays = (0.01,) * 6000
    met_lock = threading.Event()
    tried: list[str] = []

    def traced(sql: str) -> None:  # SQLite reports each statement the facade starts
        tried.append(sql)
        if sum(s.startswith("BEGIN") for s in tried) >= 2:  # the first attempt met the lock
            met_lock.set()

    def commit_when_met():
        met_lock.wait(60)
        other.execute("COMMIT")
    committer = threading.Thread(target=commit_when_met)
    committer.start()
    try:
        facade.db.conn.set_trace_callback(traced)
        facade.note(1, "锁释放后写入")
    finally:
        facade.db.conn.set_trace_callback(None)
        met_lock.set()
        committer.join(60)
    assert sum(sql.startswith("BEGIN") for sql in tried) >= 2, "the write was not retried"
    assert facade.incident(1).timeline[-1].payload["text"] == "锁释放后写入"
    other.execute("BEGIN EXCLUSIVE")
    facade.retry_delays = (0.001,) * 5  # still locked after every retry: reported, no long wait
    try:
        with pytest.raises(DeskBusy, match="数据库错误"):
            facade.note(1, "一直锁着")
    finally:
        other.execute("ROLLBACK")
        other.close()
