"""The duty console driven by Pilot against real desk files in tmp_path (no mocks); the tests on
``any_desk`` run again with the desk on a throwaway PostgreSQL server (tests/pgserver.py)."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from rich.text import Text

from responders.incidents import IncidentService
from tests.responders_kit import T0
from tests.tui_kit import HOSTILE_TITLE, build_desk, open_desk_db
from tui.app import DeskApp
from tui.screens.forms import FormScreen
from tui.screens.incident import IncidentScreen

H = timedelta(hours=1)


async def settle(pilot, app, cond=None, timeout: float = 5.0):
    """Let workers finish and messages land; optionally wait until ``cond()`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        await app.workers.wait_for_complete()
        await pilot.pause()
        if cond is None or cond():
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await pilot.pause(0.02)


def plain(widget) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


def service(path, clock):
    return IncidentService(open_desk_db(path), clock=clock)


@pytest.fixture
def desk(tmp_path):
    return build_desk(tmp_path)


@pytest.fixture
def any_desk(tmp_path, backend):
    """The same desk in a SQLite file, then in a PostgreSQL database (``backend``'s URL)."""
    return build_desk(tmp_path, url=backend)


async def test_dashboard_at_80x24_with_frozen_clock(any_desk, tmp_path):
    path, clock = any_desk
    app = DeskApp(path, clock=clock, actor="值班员")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        board = app.screen.query_one("#board")
        # Sorted by time left: #2 (due T0+14h) before #1 (due T0+24h); now = T0+1h.
        assert [r.id for r in board.rows_data] == [2, 1]
        assert board.get_row_at(0)[0].plain == " 13:00:00"
        assert board.get_row_at(1)[0].plain == " 23:00:00"
        assert board.get_row_at(0)[2].plain == "发现"
        assert board.get_row_at(0)[4].plain.startswith("●")  # not yet acknowledged
        status = plain(app.screen.query_one("#status"))
        assert "2正常" in status and "今日 4 条" in status and "待确认 2" in status and "06-14 09:00:00" in status
        assert not app.screen.query_one("#banner").display
        assert "未结事件 2 起" in plain(app.screen.query_one("#board-title"))

        clock.advance(hours=11)  # #2 has 2 h left: urgent
        app.screen.tick()
        cell = board.get_row_at(0)[0]
        assert cell.plain == "‼02:00:00" and "red" in str(cell.style)
        clock.advance(hours=2, seconds=5)  # overdue: marker + text, not colour alone
        app.screen.tick()
        assert board.get_row_at(0)[0].plain == "✖超时 00:00:05"
        assert board.get_row_at(1)[0].plain == "!09:59:55"  # 4-12 h: warning
        assert [t for _, t in app.alert_log] == ["事件 #2 距发布时限不足 4 小时：武乡镇道路积水 出行不便",
                                                 "事件 #2 已超过发布时限：武乡镇道路积水 出行不便"]
        app.save_screenshot(path=str(tmp_path), filename="dash.svg")  # renders without error


async def test_daemon_down_banner(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock, poll_seconds=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        assert not app.screen.query_one("#banner").display
        clock.advance(minutes=16)  # > 3 x 300 s without any source checked
        await settle(pilot, app, lambda: not app.snapshot.status.daemon_alive)
        await settle(pilot, app)
        assert app.screen.query_one("#banner").display
        assert "采集守护进程未运行" in plain(app.screen.query_one("#banner"))


async def test_acknowledge_from_dashboard(any_desk):
    path, clock = any_desk
    app = DeskApp(path, clock=clock, actor="张三")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("a")
        await settle(pilot, app, lambda: app.snapshot.status.alerts_waiting == 1)
        inc = service(path, clock).get(2)
        assert inc.acknowledged_at == clock() and inc.state == "研判"
        assert [e.actor for e in service(path, clock).timeline(2) if e.kind == "acknowledged"] == ["张三"]
        assert app.screen.query_one("#board").get_row_at(0)[2].plain == "研判"


async def test_record_release_via_form_keeps_input_on_error(any_desk):
    path, clock = any_desk
    app = DeskApp(path, clock=clock, actor="李四")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("down", "enter")  # incident #1
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        assert app.screen.incident_id == 1
        await pilot.press("r")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        # Neither URL nor text: refused, and the form comes back with what was typed.
        app.screen.query_one("#f3").value = "2026-06-14 08:30"
        await pilot.press("ctrl+s")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        assert app.screen.query_one("#f3").value == "2026-06-14 08:30"
        app.screen.query_one("#f2").value = "https://www.hantai.gov.cn/notice/1"
        app.screen.query_one("#f4").value = "区生态环境分局已到场调查"
        await pilot.press("ctrl+s")
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail.releases)
        rel = service(path, clock).releases(1)
        assert len(rel) == 1 and rel[0].kind == "authoritative" and rel[0].channel == "政府网站"
        assert rel[0].released_at == T0 + 0.5 * H and rel[0].actor == "李四"
        assert service(path, clock).get(1).state == "已发布权威信息"
        assert "已发布" in plain(app.screen.query_one("#clock"))


async def test_assign_form_checks_names_and_edits_the_whole_list(desk):
    """The 交办 form: the routing's suggestion prefilled, an unknown name refused with the nearest
    known ones (the form comes back as typed), aliases saved canonical, a unit taken off by deleting it."""
    from yuqing.gazetteer_io import load_unit_names

    path, clock = desk
    app = DeskApp(path, clock=clock, actor="李四", units=load_unit_names())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("down", "enter")  # incident #1
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        await pilot.press("u")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        assert app.screen.query_one("#f0").value == "生态环境局汉台分局、铺镇"  # suggested, canonical
        app.screen.query_one("#f0").value = "区环保局、铺镇、区卫生院"
        await pilot.press("ctrl+s")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        assert app.screen.query_one("#f0").value == "区环保局、铺镇、区卫生院"
        assert service(path, clock).get(1).assigned_units == ()
        app.screen.query_one("#f0").value = "区环保局、铺镇"
        await pilot.press("ctrl+s")
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen)
                     and app.screen.detail.incident.assigned_units)
        assert service(path, clock).get(1).assigned_units == ("生态环境局汉台分局", "铺镇")
        await pilot.press("u")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        assert app.screen.query_one("#f0").value == "生态环境局汉台分局、铺镇"
        app.screen.query_one("#f0").value = "生态环境局汉台分局"
        await pilot.press("ctrl+s")
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen)
                     and app.screen.detail.incident.assigned_units == ("生态环境局汉台分局",))
        events = [(e.kind, e.payload.get("units"), e.actor) for e in service(path, clock).timeline(1)
                  if e.kind in ("assigned", "unassigned")]
        assert events == [("assigned", ["生态环境局汉台分局", "铺镇"], "李四"), ("unassigned", ["铺镇"], "李四")]


async def test_merge_and_palette(any_desk):
    path, clock = any_desk
    app = DeskApp(path, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("down", "o")
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert any("记录发布" in t for t in titles) and any("合并" in t for t in titles)
        await pilot.press("m")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        await pilot.press("2", "enter")
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and "merged" in
                     [e.kind for e in app.screen.detail.timeline])
        assert service(path, clock).get(2).merged_into == 1
        await settle(pilot, app, lambda: [r.id for r in app.snapshot.board] == [1])


async def test_dismiss_then_archive_and_export(any_desk, tmp_path):
    path, clock = any_desk
    app = DeskApp(path, clock=clock, home=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("enter")  # #2
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        await pilot.press("x")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        app.screen.query_one("#f1").value = "积水已排除，非舆情"
        await pilot.press("ctrl+s")
        await settle(pilot, app, lambda: app.screen.detail.incident.state == "不予处置")
        await pilot.press("c")
        await settle(pilot, app, lambda: app.screen.detail.incident.state == "归档")
        await pilot.press("e")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        await pilot.press("ctrl+s")  # docx
        await settle(pilot, app, lambda: list((tmp_path / "exports").glob("incident-2-*.docx")))


async def test_search_and_correction_saved_as_label(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock, actor="王五")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle(pilot, app, lambda: getattr(app.screen, "rows", None))
        assert len(app.screen.rows) == 4
        await pilot.press("slash")
        await pilot.press(*"化工厂")
        await pilot.press("enter")
        await settle(pilot, app, lambda: len(app.screen.rows) == 1)
        assert app.screen.rows[0].title == "铺镇化工厂夜间排放异味 村民投诉"
        await pilot.press("t")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        app.screen.query_one("#f0").value = "安全生产"
        await pilot.press("ctrl+s")
        await settle(pilot, app, lambda: not isinstance(app.screen, FormScreen)
                     and app.screen.rows and app.screen.rows[0].labels.get("topic") == "安全生产")
        rows = open_desk_db(path).execute("SELECT item_id, field, value, actor FROM labels").fetchall()
        assert rows == [(app.screen.rows[0].id, "topic", "安全生产", "王五")]
        # Filters in the search box.
        app.screen.query_one("#search").value = "情感:负面"
        app.screen.search("情感:负面")
        await settle(pilot, app, lambda: len(app.screen.rows) == 2)


async def test_markup_and_ansi_in_feed_text_shown_literally(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        stream = app.screen.query_one("#stream")
        hostile = next(i for i, it in enumerate(stream.items) if it.title == HOSTILE_TITLE)
        cell = stream.get_row_at(hostile)[3]
        assert isinstance(cell, Text)
        assert cell.plain.startswith("[bold]粗体[/bold] [link=https://evil.ex")  # cut to the column, literally
        assert "\x1b" not in cell.plain
        assert not cell.spans  # nothing interpreted as style or link
        await pilot.press("2")
        await settle(pilot, app, lambda: getattr(app.screen, "rows", None))
        table = app.screen.query_one("#results")
        idx = next(i for i, r in enumerate(app.screen.rows) if r.title == HOSTILE_TITLE)
        table.move_cursor(row=idx)
        await settle(pilot, app)
        detail = plain(app.screen.query_one("#detail"))
        assert "[bold]粗体[/bold] [link=https://evil.example]点我[/link] ␛[31m红色␛[0m" in detail
        assert "[red]不是标记[/red]" in detail and "␛]8;;http://x␇链接" in detail and "\x1b" not in detail
        assert "\x07" not in detail
        app.save_screenshot(path=str(path.parent), filename="items.svg")


async def test_two_consoles_see_each_others_writes(any_desk):
    path, clock = any_desk
    one = DeskApp(path, clock=clock, actor="甲", poll_seconds=0.1)
    two = DeskApp(path, clock=clock, actor="乙", poll_seconds=0.1)
    async with one.run_test(size=(80, 24)) as p1, two.run_test(size=(100, 30)) as p2:
        await settle(p1, one, lambda: one.snapshot is not None)
        await settle(p2, two, lambda: two.snapshot is not None)
        await p1.press("a")  # console one acknowledges #2
        await settle(p1, one, lambda: one.snapshot.status.alerts_waiting == 1)
        await settle(p2, two, lambda: two.snapshot.status.alerts_waiting == 1)
        await settle(p2, two)
        assert two.screen.query_one("#board").get_row_at(0)[2].plain == "研判"
        await p2.press("down", "a")  # console two acknowledges #1
        await settle(p1, one, lambda: one.snapshot.status.alerts_waiting == 0)
        # A new incident written by "the daemon" reaches both boards (with a notice).
        from tests.responders_kit import candidate

        service(path, clock).open_or_join(candidate("s9", title="新线索", topic="教育", item_ids=(2,)))
        await settle(p1, one, lambda: len(one.snapshot.board) == 3)
        await settle(p2, two, lambda: len(two.snapshot.board) == 3)
        assert [t for _, t in one.alert_log] == ["新事件 #3（一般）新线索"]
        assert [t for _, t in two.alert_log] == ["新事件 #3（一般）新线索"]


async def test_other_screens_render_at_80x24(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("3")
        await settle(pilot, app, lambda: getattr(app.screen, "health", None))
        assert {h.source_id for h in app.screen.health} == {"news", "weibo"}
        await pilot.press("5")
        await settle(pilot, app, lambda: "近 24 小时信息量（合计 4" in plain(app.screen.query_one("#per-hour")))
        assert "按时排行" in plain(app.screen.query_one("#league"))
        await pilot.press("4")
        await settle(pilot, app, lambda: getattr(app.screen, "schemes", None))
        assert "pollution" in app.screen.schemes
        app.screen.query_one("#name").value = "chem"
        app.screen.query_one("#expr").value = "化工厂 AND (异味 OR 排放)"
        await pilot.press("ctrl+r")
        await settle(pilot, app, lambda: "命中 1 条" in plain(app.screen.query_one("#preview-title")))
        await pilot.press("ctrl+s")
        await settle(pilot, app, lambda: (path.parent / "schemes.toml").is_file())
        assert "化工厂 AND (异味 OR 排放)" in (path.parent / "schemes.toml").read_text(encoding="utf-8")
        app.screen.query_one("#expr").value = "化工厂 AND ("
        await pilot.press("ctrl+r")
        await settle(pilot, app, lambda: "表达式有误" in plain(app.screen.query_one("#preview-title")))
        await pilot.press("1")
        await settle(pilot, app)
        assert app.screen.query_one("#board")


async def test_unreadable_database_shown_not_crashed(tmp_path):
    bad = tmp_path / "desk.sqlite"
    bad.write_bytes(b"not a database at all" * 200)
    app = DeskApp(bad, poll_seconds=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.poll_error is not None)
        await settle(pilot, app)
        assert "无法打开数据库" in plain(app.screen.query_one("#status"))
        await pilot.press("2")  # other screens still work and say what is wrong
        await settle(pilot, app)
        assert app.screen.query_one("#results").row_count == 0


def _link_second_item(path, clock) -> None:
    """Incident #1 gets a second linked item (#2, the 美食节 report) with its evidence."""
    service(path, clock).link_items(1, [2], evidence=[{
        "item_id": 2, "title": "汉台区举办美食节", "text": "美食节", "url": "https://news.example/2",
        "published": (T0 + 0.2 * H).isoformat(), "source": "汉中新闻网", "rank": None, "content_hash": "x2"}])


async def test_split_from_the_incident_screen(desk):
    path, clock = desk
    _link_second_item(path, clock)
    app = DeskApp(path, clock=clock, actor="赵六")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("down", "enter")  # incident #1
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None
                     and len(app.screen.detail.items) == 2)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert any("拆分" in t for t in titles)
        await pilot.press("s")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        assert app.screen.query_one("#f0").value == "1"  # the highlighted linked item is proposed
        # Moving every item is refused and the form comes back with what was typed.
        app.screen.query_one("#f0").value = "1, 2"
        await pilot.press("ctrl+s")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        assert app.screen.query_one("#f0").value == "1, 2"
        app.screen.query_one("#f0").value = "9"  # not linked to this incident
        await pilot.press("ctrl+s")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        app.screen.query_one("#f0").value = "2"
        app.screen.query_one("#f1").value = "汉台区美食节"
        await pilot.press("ctrl+s")
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen)
                     and "split" in [e.kind for e in app.screen.detail.timeline])
        assert [it.item_id for it in app.screen.detail.items] == ["1"]
        assert "拆分出事件 #3" in plain(app.screen.query_one("#timeline"))
        new = service(path, clock).get(3)
        assert new.title == "汉台区美食节" and list(new.item_ids) == ["2"]
        assert [e.actor for e in service(path, clock).timeline(1) if e.kind == "split"] == ["赵六"]
        await settle(pilot, app, lambda: 3 in [r.id for r in app.snapshot.board])


async def test_split_needs_two_items(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("enter")  # #2 has one item
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        await pilot.press("s")
        await settle(pilot, app)
        assert isinstance(app.screen, IncidentScreen)  # a notice, no form
        assert service(path, clock).list() and len(service(path, clock).list()) == 2


async def test_reject_a_detected_release(desk):
    from responders.release_detect import list_proposals, propose_releases
    from responders.types import OwnChannelItem

    path, clock = desk
    svc = service(path, clock)
    [prop] = propose_releases(svc, [OwnChannelItem(
        "501", "关于铺镇化工厂异味问题的情况通报", "区生态环境分局已对铺镇化工厂排放开展调查。", "https://gov.example/501",
        T0 + 0.5 * H, "hantai-gov", "gov", "汉台区政府网")])
    assert prop.incident_id == 1
    app = DeskApp(path, clock=clock, actor="钱七")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("down", "enter")
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None
                     and app.screen.detail.proposals)
        assert "按 p 确认，j 驳回" in plain(app.screen.query_one("#releases"))
        assert any("驳回检测发布" in c.title for c in app.get_system_commands(app.screen))
        await pilot.press("j")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        await pilot.press("ctrl+s")  # no reason: refused, the form stays
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        app.screen.query_one("#f1").value = "只是转载 [b]不是标记[/b]"
        await pilot.press("ctrl+s")
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and not app.screen.detail.proposals)
        assert "驳回发布检测 #1：只是转载 [b]不是标记[/b]" in plain(app.screen.query_one("#timeline"))
        assert "尚无发布记录" in plain(app.screen.query_one("#releases"))
        assert list_proposals(svc, "rejected")[0].id == prop.id
        assert svc.get(1).released_at is None
        ev = [e for e in svc.timeline(1) if e.kind == "release_rejected"]
        assert ev[0].actor == "钱七" and ev[0].payload["reason"] == "只是转载 [b]不是标记[/b]"
        await pilot.press("j")  # nothing left to reject: a notice, no form
        await settle(pilot, app)
        assert isinstance(app.screen, IncidentScreen)


async def test_reopening_incidents_reuses_one_screen(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("enter")
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        first = app.screen
        assert app.screen.detail.incident.id == 2 and "#2" in plain(app.screen.query_one("#summary"))
        await pilot.press("escape")
        await settle(pilot, app)
        row = app.screen.query_one("#board").rows_data[1]
        app.open_incident(1, row)  # the very first frame already names #1, never the incident shown before
        summary = plain(first.query_one("#summary"))
        assert summary.startswith("#1 铺镇化工厂") and "武乡镇" not in summary
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None
                     and app.screen.detail.incident.id == 1)
        assert app.screen is first and app.screen.incident_id == 1
        summary = plain(app.screen.query_one("#summary"))
        assert "#1 铺镇化工厂" in summary and "武乡镇" not in summary
        assert [it.item_id for it in app.screen.detail.items] == ["1"]
        await pilot.press("escape")
        await settle(pilot, app)
        assert app.screen.query_one("#board")


async def test_pages_from_an_incident_and_forms_reused(desk):
    from tui.screens.items import ItemsScreen

    path, clock = desk
    app = DeskApp(path, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        dashboard = app.screen
        assert app.current_page == "dashboard"
        await pilot.press("enter")
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        await pilot.press("n")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        app.screen.query_one("#f0").value = "草稿"
        await pilot.press("tab", "2")  # focus on the button: the page key must not drop the form
        await settle(pilot, app)
        assert app.screen is form and app.screen.query_one("#f0").value == "草稿"
        await pilot.press("escape")
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen))
        await pilot.press("n")  # the same form again: reused, empty, first field focused
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        assert app.screen is form and app.screen.query_one("#f0").value == ""
        assert app.screen.focused is app.screen.query_one("#f0")
        app.screen.query_one("#f0").value = "第二次"
        await pilot.press("ctrl+s")
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen)
                     and "note" in [e.kind for e in app.screen.detail.timeline])
        assert [e.payload.get("text") for e in service(path, clock).timeline(2) if e.kind == "note"] == ["第二次"]
        await pilot.press("2")  # the items page replaces the incident; 1 returns to the board
        await settle(pilot, app, lambda: isinstance(app.screen, ItemsScreen) and app.screen.rows)
        assert app.current_page == "items" and app.screen_stack == [dashboard, app.screen]
        await pilot.press("1")
        await settle(pilot, app)
        assert app.screen is dashboard and app.screen_stack == [dashboard]
        await pilot.press("3", "5", "1")
        await settle(pilot, app)
        assert app.screen is dashboard and len(app.screen_stack) == 1


async def test_board_click_moves_then_opens(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        board = app.screen.query_one("#board")
        await pilot.click("#board", offset=(20, 2))  # header at y=0, rows from y=1
        await settle(pilot, app)
        assert board.cursor_row == 1 and board.selected_id() == 1
        await pilot.click("#board", offset=(20, 2))
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        assert app.screen.incident_id == 1


async def test_stream_item_opens_full_text(desk):
    from tui.screens.items import ItemDetailScreen

    path, clock = desk
    app = DeskApp(path, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        stream = app.screen.query_one("#stream")
        await pilot.press("tab")
        assert app.screen.focused is stream
        hostile = next(i for i, it in enumerate(stream.items) if it.title == HOSTILE_TITLE)
        stream.move_cursor(row=hostile)
        await pilot.press("enter")
        await settle(pilot, app, lambda: isinstance(app.screen, ItemDetailScreen)
                     and "不是标记" in plain(app.screen.query_one("#detail")))
        assert "[red]不是标记[/red]" in plain(app.screen.query_one("#detail"))
        await pilot.press("escape")
        await settle(pilot, app)
        assert app.screen.query_one("#stream") is stream


async def test_palette_switches_pages(desk):
    from tui.screens.items import ItemsScreen

    path, clock = desk
    app = DeskApp(path, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"信息检索")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot, app, lambda: isinstance(app.screen, ItemsScreen))
        assert app.current_page == "items"


async def test_personal_data_is_masked_on_screen(tmp_path):
    from tests.tui_kit import add_items

    path, clock = build_desk(tmp_path)
    db = open_desk_db(path)
    add_items(db, [("news", "市民来电反映 电话13812345678", "住汉台区天汉大道88号3单元402室，身份证610702199001011234",
                    "其他", "负面", True)], clock(), start=10)
    db.conn.close()
    app = DeskApp(path, clock=clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        stream = app.screen.query_one("#stream")
        row = next(i for i, it in enumerate(stream.items) if "来电" in it.title)
        title = stream.get_row_at(row)[3].plain
        assert "13812345678" not in title and "138****5678" in title
        await pilot.press("2")
        await settle(pilot, app, lambda: getattr(app.screen, "rows", None))
        idx = next(i for i, r in enumerate(app.screen.rows) if "来电" in r.title)
        app.screen.query_one("#results").move_cursor(row=idx)
        await settle(pilot, app)
        detail = plain(app.screen.query_one("#detail"))
        assert "13812345678" not in detail and "610702199001011234" not in detail and "402室" not in detail
        assert "天汉大道" in detail


async def test_items_page_first_visit_paints_the_newest_items_read_ahead(desk):
    """The newest items are read while the board is shown; the first visit of the items page
    shows them in the frame that mounts it, without waiting for its own search."""
    from tui.screens.items import ItemsScreen

    path, clock = desk
    app = DeskApp(path, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None and app._items_ahead is not None)
        ahead = app._items_ahead[1]
        assert [r.id for r in ahead] == sorted((r.id for r in ahead), reverse=True) and len(ahead) == 4
        app.action_page("items")
        await pilot.pause()  # the screen mounted; its own search may still be running
        assert isinstance(app.screen, ItemsScreen)
        assert [r.id for r in app.screen.rows] == [r.id for r in ahead]
        assert app.take_items_ahead() is None  # used once
        await settle(pilot, app)
        assert [r.id for r in app.screen.rows] == [r.id for r in ahead]  # the page's own search agrees
