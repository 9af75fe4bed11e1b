"""The console a Chinese duty officer reads without help, asserted on rendered cells (Pilot, real desk).

Every main page at 80×24 and 120×40 is rendered and its text searched for English words
(ASCII words of 2+ letters) outside a short allowlist of key-cap names; URLs are data and are
left out. The board keeps 倒计时/级别/标题/镇街/责任单位 at 80 columns, 特别重大 whole;
q quits, asking first when a form holds input; notices never cover a form or the status line.
"""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from monitor.store import sync_sources
from responders.candidates import candidate_from_mapping
from responders.incidents import IncidentService
from responders.staff import add_staff, migrations as staff_migrations
from storage.db import open_db
from tests.responders_kit import PUZHEN, T0, WUXIANG, Clock, candidate
from tests.tui_kit import NEWS, WEIBO, add_items, english_words, screen_text
from tui.app import DeskApp
from tui.screens.forms import FormScreen
from tui.screens.incident import IncidentScreen
from tui.screens.quit import QuitScreen

H = timedelta(hours=1)
ITEMS = [
    ("news", "铺镇化工厂夜间排放异味 村民投诉", "铺镇 化工厂 夜间 排放 刺鼻 异味，村民 多次 投诉。", "生态环境", "负面", True),
    ("news", "汉台区举办美食节", "汉台区 举办 美食节，市民 踊跃 参加。", "文旅", "正面", False),
    ("weibo", "武乡镇道路积水 出行不便", "武乡镇 道路 积水 严重，居民 出行 不便。", "城建", "负面", True),
    ("weibo", "铺镇化工厂爆炸 多人受伤送医", "铺镇 化工厂 爆炸，多人 受伤。", "安全生产", "负面", True),
]
GRAVE_TITLE = "铺镇化工厂爆炸多人受伤送医救治情况持续关注中"
GRAVE_UNITS = ("区应急管理局", "生态环境局汉台分局", "铺镇")


async def settle(pilot, app, cond=None, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        await app.workers.wait_for_complete()
        await pilot.pause()
        if cond is None or cond():
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await pilot.pause(0.02)


def build_chinese_desk(tmp_path):
    """Sources with names, a staff member, three incidents (one 特别重大 with three units), a join
    carrying a story id and similarity internals, a trigger naming scheme ids, a detected release."""
    from monitor.store import migrations as monitor_migrations
    from pipeline.store import migrations as analysis_migrations
    from responders.release_detect import propose_releases
    from responders.store import migrations as responders_migrations
    from responders.types import OwnChannelItem

    clock = Clock(T0 + H)
    path = tmp_path / "desk.sqlite"
    db = open_db(path, [monitor_migrations, analysis_migrations, responders_migrations, staff_migrations])
    sync_sources(db, [NEWS, WEIBO], clock())
    ids = add_items(db, ITEMS, clock())
    add_staff(db, "zhang3", "张三", "officer")
    svc = IncidentService(db, clock=clock)
    svc.open_or_join(candidate("s1", item_ids=(ids[0],)))
    svc.open_or_join(candidate("s2", title="武乡镇道路积水 出行不便", topic="城建", places=(WUXIANG,),
                               item_ids=(ids[2],), units=("区住建局",), first_published=T0 - 10 * H))
    grave = candidate_from_mapping({
        "story_id": "s-77", "title": GRAVE_TITLE, "first_published": (T0 - 20 * H).isoformat(),
        "detected_at": (T0 - 19 * H).isoformat(), "places": [PUZHEN], "departments": [],
        "responsible_units": list(GRAVE_UNITS), "topic": "安全生产", "severity": "特别重大",
        "severity_reasons": ["涉及人员伤亡"], "item_ids": [ids[3]], "evidence": [{
            "item_id": ids[3], "title": ITEMS[3][1], "text": ITEMS[3][2], "url": "https://weibo.example/3",
            "published": (T0 - 20 * H).isoformat(), "source": "微博搜索", "rank": None, "content_hash": "g3"}],
        "trigger": "涉及本辖区；命中告警方案（district_emergency、town_emergency:铺镇）"})
    svc.open_or_join(grave)
    joined = candidate_from_mapping({
        "story_id": "s-77", "title": GRAVE_TITLE, "first_published": (T0 - 20 * H).isoformat(),
        "detected_at": T0.isoformat(), "places": [PUZHEN], "departments": [], "responsible_units": [],
        "topic": "安全生产", "severity": "一般", "severity_reasons": [], "item_ids": [ids[1]], "evidence": [],
        "trigger": "同一镇办（铺镇）且为同一事件（去除地名后内容相似度 0.40），并入已有事件"})
    svc.open_or_join(joined)
    svc.note(3, "已电话联系铺镇值班室", actor="zhang3")
    svc.record_event(3, "alert_failed", {"channel": "企业微信「值班群」", "title": "新舆情事件 #3",
                                         "error": "HTTP 502 Bad Gateway from robot"}, actor="system")
    svc.record_event(3, "alert_acked", {"alert_id": "dc527a39bb80", "step": 1, "title": "新舆情事件 #3"},
                     actor="zhang3")
    propose_releases(svc, [OwnChannelItem(
        "501", "关于铺镇化工厂异味问题的情况通报", "区生态环境分局已对铺镇化工厂排放开展调查。", "https://gov.example/501",
        T0 + 0.5 * H, "hantai-gov", "gov", "汉台区政府网")])
    db.conn.close()
    return path, clock


@pytest.fixture
def desk(tmp_path):
    return build_chinese_desk(tmp_path)


async def scrolled_text(pilot, app, height: int) -> str:
    """The incident screen's text, scrolled through from the top (the timeline is below the fold at 80×24)."""
    box, texts = app.screen.query_one("#incident"), []
    for y in range(0, 120, max(1, height - 6)):
        box.scroll_to(y=y, animate=False, immediate=True)
        await pilot.pause(0.05)
        texts.append(screen_text(app))
    box.scroll_home(animate=False, immediate=True)
    return "\n".join(texts)


async def _show(pilot, app, key: str, cond) -> str:
    await pilot.press(key)
    await settle(pilot, app, cond)
    await pilot.pause(0.05)
    return screen_text(app)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_no_english_on_the_main_pages(desk, size):
    path, clock = desk
    app = DeskApp(path, clock=clock, actor="zhang3")
    seen: dict[str, str] = {}
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None and app.screen.query_one("#stream").items)
        await pilot.pause(0.05)
        seen["值班台"] = screen_text(app)
        seen["信息检索"] = await _show(pilot, app, "2", lambda: getattr(app.screen, "rows", None))
        seen["信源状态"] = await _show(pilot, app, "3", lambda: getattr(app.screen, "health", None))
        seen["监测方案"] = await _show(pilot, app, "4", lambda: getattr(app.screen, "schemes", None))
        seen["统计报表"] = await _show(pilot, app, "5", lambda: "按时排行" in screen_text(app))
        await pilot.press("1")
        await settle(pilot, app, lambda: app.current_page == "dashboard")
        grave = next(r for r in app.snapshot.board if r.id == 3)
        app.open_incident(1)  # a detected release waits for confirmation
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None
                     and app.screen.detail.proposals)
        await pilot.pause(0.05)
        seen["事件（待确认发布）"] = proposed = screen_text(app)
        await pilot.press("escape")
        await settle(pilot, app, lambda: app.current_page == "dashboard")
        app.open_incident(3, grave)
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None
                     and app.screen.detail.incident.id == 3)
        seen["事件"] = incident = await scrolled_text(pilot, app, size[1])
        await pilot.press("ctrl+p")
        await settle(pilot, app, lambda: "命令" in screen_text(app) or "交办" in screen_text(app))
        await pilot.pause(0.3)
        seen["命令面板"] = screen_text(app)
        await pilot.press("escape")
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen))
        await pilot.press("r")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        seen["表单"] = screen_text(app)
        await pilot.press("ctrl+q")  # the form holds its defaults only: nothing to lose, it quits at once
        await pilot.pause(0.1)
    assert app.return_code == 0
    for page, text in seen.items():
        assert english_words(text) == [], f"{page} at {size}: {english_words(text)}\n{text}"
    # Staff and the desk are named, not their ids; no story id or similarity on the main screen.
    assert "张三" in incident and "zhang3" not in incident and "系统" in incident
    assert "s-77" not in incident and "相似度" not in incident and "0.40" not in incident
    assert "确认告警（已升级 1 级）：新舆情事件 #3" in incident and "dc527a39bb80" not in incident
    assert "区级突发事件" in incident and "镇办突发事件（铺镇）" in incident
    assert "待确认发布 #1" in proposed and "置信度" not in proposed and "0.88" not in proposed
    assert "汉中新闻网" in seen["值班台"] and "微博搜索" in seen["信息检索"]
    assert "区级突发事件" in seen["监测方案"]


async def test_details_view_keeps_the_internals(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock, actor="zhang3")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        app.open_incident(3)
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        await pilot.press("d")
        await settle(pilot, app)
        timeline = str(app.screen.query_one("#timeline").content)
        summary = str(app.screen.query_one("#summary").content)
        assert "s-77" in timeline and "相似度 0.40" in timeline and "dc527a39bb80" in timeline and "502" in timeline
        assert "报道编号 s-77" in summary and "区级突发事件" in summary
        await pilot.press("d")
        await settle(pilot, app)
        assert "s-77" not in str(app.screen.query_one("#timeline").content)
        await pilot.press("escape")
        await settle(pilot, app, lambda: app.current_page == "dashboard")
        app.open_incident(1)
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None
                     and app.screen.detail.incident.id == 1 and app.screen.detail.proposals)
        assert "置信度" not in str(app.screen.query_one("#releases").content)
        await pilot.press("d")
        await settle(pilot, app)
        assert "置信度 0.88" in str(app.screen.query_one("#releases").content)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_board_columns(desk, size):
    """倒计时, 级别, 标题, 镇街, 责任单位 at 80 columns (编号 and 状态 join them on a wide screen)."""
    path, clock = desk
    app = DeskApp(path, clock=clock, actor="zhang3")
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.pause(0.05)
        lines = screen_text(app).splitlines()
        header = next(line for line in lines if "倒计时" in line)
        for name in ("倒计时", "级别", "标题", "镇街", "责任单位"):
            assert name in header, header
        assert ("编号" in header and "状态" in header) == (size[0] >= 100)
        row = next(line for line in lines if "特别重大" in line)
        assert "区应急管理局 等3个" in row  # whole unit names, then how many
        assert "铺镇" in row and "…" in row  # the title is what gets cut
        assert GRAVE_TITLE not in row
        assert all("特别 " not in line.replace("特别重大", "") for line in lines)
        assert any("武乡镇" in line and "区住建局" in line for line in lines)


async def test_lists_sorted_by_the_time_shown(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock, actor="zhang3")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None and app.screen.query_one("#stream").items)
        shown = [it.published or it.fetched_at for it in app.screen.query_one("#stream").items]
        assert shown == sorted(shown, reverse=True) and len(shown) == 3
        await pilot.press("2")
        await settle(pilot, app, lambda: getattr(app.screen, "rows", None))
        times = [r.published for r in app.screen.rows]
        assert times == sorted(times, reverse=True) and len(times) == 4
        app.screen.search("来源:微博")  # a source by (part of) its name
        await settle(pilot, app, lambda: len(app.screen.rows) == 2)
        assert {r.source_id for r in app.screen.rows} == {"weibo"}


async def test_q_quits_at_once_without_unsaved_work(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock, actor="zhang3")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("q")
        await pilot.pause(0.1)
    assert app.return_code == 0


async def test_q_asks_first_when_a_form_holds_input(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock, actor="zhang3")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("enter")
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        await pilot.press("n")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        await pilot.press(*"草稿q")  # q typed into the field is text, not quit
        assert app.screen.query_one("#f0").value == "草稿q"
        await pilot.press("tab", "q")  # on the button: q asks
        await settle(pilot, app, lambda: isinstance(app.screen, QuitScreen))
        prompt = screen_text(app)
        assert "确定退出舆情值班台吗" in prompt and "表单「添加备注」中的输入尚未保存" in prompt
        assert english_words(prompt) == []
        await pilot.press("n")  # back, the input kept
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        assert app.screen.query_one("#f0").value == "草稿q"
        await pilot.press("ctrl+q")
        await settle(pilot, app, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("y")
        await pilot.pause(0.1)
    assert app.return_code == 0


async def test_q_asks_first_when_a_scheme_edit_is_left_on_its_page(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock, actor="zhang3")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("4")
        await settle(pilot, app, lambda: getattr(app.screen, "schemes", None))
        await pilot.press("enter")  # the first scheme into the editor: nothing changed yet
        await settle(pilot, app, lambda: app.screen.query_one("#expr").value)
        assert app.screen.query_one("#name").value == "区级突发事件"
        assert app.unsaved_work() is None
        await pilot.pause(0.05)
        assert english_words(screen_text(app)) == []  # the expression reads + | - for AND OR NOT
        app.screen.query_one("#expr").value += " 化工厂"
        await pilot.press("escape", "1")  # back to the list, then to the board
        await settle(pilot, app, lambda: app.current_page == "dashboard")
        await pilot.press("q")
        await settle(pilot, app, lambda: isinstance(app.screen, QuitScreen))
        assert "方案表达式的修改尚未保存" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot, app, lambda: app.current_page == "dashboard")


async def test_palette_commands_are_chinese_and_include_incident_actions(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock, actor="zhang3")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        commands = list(app.get_system_commands(app.screen))
        words = [w for c in commands for w in english_words(f"{c.title} {c.help}")]
        assert words == []
        titles = " ".join(c.title for c in commands)
        for action in ("确认接报", "定级", "交办", "记录发布", "跟进", "结案", "归档", "导出", "切换到信息检索", "退出"):
            assert action in titles, action
        for key, expected in (("2", "改主题（t）"), ("4", "预览命中（Ctrl+R）"), ("3", "错误详情（d）")):
            await pilot.press(key)
            await settle(pilot, app, lambda: app.current_page != "dashboard")
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert any(expected in t for t in titles), titles
            assert [w for t in titles for w in english_words(t)] == []
            await pilot.press("escape", "1")
            await settle(pilot, app, lambda: app.current_page == "dashboard")
        # An incident action from the board's palette opens the incident and its form.
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"定级")
        await pilot.pause(0.4)
        assert english_words(screen_text(app)) == []
        await pilot.press("enter")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen) and app.screen.form_title == "定级")
        assert app._incident_screen.incident_id == app.snapshot.board[0].id


async def test_notices_never_cover_a_form_or_the_status_line(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock, actor="zhang3")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        app.notify("测试提醒：铺镇化工厂有新报道", title="突发提醒", severity="warning", timeout=30)
        await settle(pilot, app, lambda: list(app.screen.query("Toast")))
        await pilot.pause(0.1)
        status = app.screen.query_one("#status").region
        for toast in app.screen.query("Toast"):
            assert not toast.region.overlaps(status)
        bottom = screen_text(app).splitlines()[-2:]
        assert "信源" in bottom[0] and "待确认" in bottom[0]  # the status line is readable
        for key, boxes in (("2", ("#search",)), ("4", ("#name", "#expr"))):  # input boxes at the top
            await pilot.press(key)
            await settle(pilot, app, lambda: all(app.screen.query(b) for b in boxes))
            app.notify("页面上的提醒", severity="warning", timeout=30)
            await settle(pilot, app, lambda: "页面上的提醒" in screen_text(app))
            for box in boxes:
                region = app.screen.query_one(box).region
                shown = [t for t in app.screen.query("Toast") if t.region.area]
                assert all(not t.region.overlaps(region) for t in shown), box
            await pilot.press("escape", "1")
            await settle(pilot, app, lambda: app.current_page == "dashboard")
        await pilot.press("enter")
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        await pilot.press("f")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        app.notify("另一条提醒", severity="warning")
        await settle(pilot, app)
        form = app.screen
        assert "另一条提醒" in str(form.query_one("#form-notice").content)
        assert all(not t.display or t.region.area == 0 for t in form.query("ToastHolder"))
        text = screen_text(app)
        assert "处置进展" in text and "保存" in text and "另一条提醒" in text
        # A refused save: the reason shows inside the form that comes back, with what was typed.
        await pilot.press("escape")
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen))
        await pilot.press("r")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        app.screen.query_one("#f3").value = "不是时间"
        await pilot.press("ctrl+s")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen)
                     and "时间格式不对" in str(app.screen.query_one("#form-notice").content))
        assert app.screen.query_one("#f3").value == "不是时间"


async def test_empty_desk_says_so_in_chinese(tmp_path):
    from tests.tui_kit import open_desk_db

    clock = Clock(T0 + H)
    path = tmp_path / "desk.sqlite"
    db = open_desk_db(path)
    sync_sources(db, [NEWS, WEIBO], clock())
    db.conn.close()
    app = DeskApp(path, clock=clock, actor="zhang3")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.pause(0.05)
        text = screen_text(app)
        assert "当前没有未结事件" in text and "暂无预警或热点信息" in text
        assert english_words(text) == []
        text = await _show(pilot, app, "2", lambda: getattr(app.screen, "rows", None) == [])
        assert "没有符合条件的信息" in text and english_words(text) == []


async def test_database_errors_read_in_chinese(tmp_path):
    bad = tmp_path / "desk.sqlite"
    bad.write_bytes(b"not a database at all" * 200)
    app = DeskApp(bad, poll_seconds=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: "文件不是数据库" in str(app.screen.query_one("#status").content))
        assert "file is not" not in str(app.screen.query_one("#status").content)
        assert "file is not" not in app.poll_error
