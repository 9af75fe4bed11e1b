"""The console's duty pages (Pilot, real desk files): 6 值班 (who is on duty, the next shift, roster
gaps, the handover's counts; `a` accepts the handover), 7 批示 (open instructions, overdue first;
`f` records the feedback), 8 告警 (alerts awaiting acknowledgement; `k` acknowledges one). Each
renders its rows at 120×40 and 80×24; a viewer is refused and nothing is written."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from pipeline.schema import all_migrations
from responders import handover, roster, staff
from responders.alerts import Alert, AlertDispatcher, parse_alerts_config
from responders.alerts.store import list_alerts
from responders.incidents import IncidentService
from responders.instructions import get_instruction, instruct
from storage.db import open_db
from tests.functional.test_tui_console import plain, settle
from tests.responders_kit import T0, Clock
from tests.tui_kit import build_desk
from tui.app import DeskApp
from tui.screens.forms import FormScreen

SIZES = [(120, 40), (80, 24)]


def full_db(path):
    return open_db(path, all_migrations())


@pytest.fixture
async def desk(tmp_path):
    path, clock = build_desk(tmp_path)  # now = T0 + 1h = 2026-06-14 09:00 desk time
    db = full_db(path)
    staff.add_staff(db, "wang", "王伟", "admin")
    staff.add_staff(db, "li", "李娜", "officer")
    staff.add_staff(db, "zhao", "赵强", "leader")
    staff.add_staff(db, "chen", "陈静", "viewer")
    roster.store_shifts(db, [roster.make_shift(date(2026, 6, 14), "白班", "08:00", "20:00", "li", "zhao"),
                             roster.make_shift(date(2026, 6, 15), "白班", "08:00", "20:00", "wang", "zhao")],
                        actor="wang", origin="test", now=clock())
    early = IncidentService(db, clock=Clock(T0))
    instruct(early, 1, "zhao", "请于半小时内核实排放情况", due_at=T0 + timedelta(minutes=30))  # overdue now
    instruct(early, 2, "zhao", "请住建局说明积水原因")
    db.conn.close()
    cfg = parse_alerts_config({"escalate_after": 10, "channels": {"console": {"type": "tui"}},
                               "rules": [{"name": "突发", "channels": ["console"]}]})
    async with AlertDispatcher(cfg, clock=clock, db=path) as d:
        for n, incident in enumerate((1, 2)):
            await d.submit(Alert.new(key=f"k{n}", lane="breaking", title=f"突发告警{n}号", created_at=clock(),
                                     severity="较大", incident_id=incident))
    return path, clock


def cli_json(path, *args):
    from yuqing.cli import cli

    res = CliRunner().invoke(cli, ["--home", str(path.parent), *args, "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def screen_text(app) -> str:
    """The cells painted on the terminal, one line per row (wide characters once)."""
    return "\n".join("".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips())


def table_text(table) -> str:
    return "\n".join(" ".join(c.plain for c in table.get_row_at(i)) for i in range(table.row_count))


@pytest.mark.parametrize("size", SIZES)
async def test_duty_page_shows_shifts_gaps_and_handover(desk, size):
    path, clock = desk
    app = DeskApp(path, clock=clock, actor="li")
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("6")
        await settle(pilot, app, lambda: app.current_page == "duty" and app.screen.view is not None)
        shown = plain(app.screen.query_one("#duty"))
        assert "当前值班：白班  值班员 李娜  带班领导 赵强  至 06-14 20:00" in shown
        assert "下一班：白班  值班员 王伟  带班领导 赵强  06-15 08:00 至 06-15 20:00" in shown
        assert "06-14 20:00 至 06-15 08:00（12 小时）" in shown  # the night nobody stands
        ho = plain(app.screen.query_one("#handover"))
        for part in ("在办事件 2", "未确认告警 2", "待落实批示 2", "异常信源 0"):
            assert part in ho
        assert not re.search("[A-Za-z]", shown + ho)  # no English words on the page
        painted = screen_text(app)
        assert "值班员 李娜" in painted and "未确认告警 2" in painted


async def test_a_accepts_the_handover_as_the_consoles_member(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock, actor="li")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("6")
        await settle(pilot, app, lambda: app.current_page == "duty" and app.screen.view is not None)
        await pilot.press("a")
        await settle(pilot, app, lambda: any("已接班" in n for n in notices(app)))
        await settle(pilot, app, lambda: app.screen.view.last_accepted is not None)
        assert "上次接班 06-14 09:00（李娜）" in plain(app.screen.query_one("#handover"))
    ev = handover.last_acceptance(full_db(path))
    assert ev.actor == "li" and ev.payload["unacked_alerts"] == 2 and ev.payload["open_instructions"] == 2


@pytest.mark.parametrize("size", SIZES)
async def test_orders_page_lists_overdue_first_and_f_records_feedback(desk, size):
    path, clock = desk
    app = DeskApp(path, clock=clock, actor="li")
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("7")
        await settle(pilot, app, lambda: app.current_page == "orders" and len(app.screen.rows) == 2)
        table = app.screen.query_one("#orders")
        assert [table.get_row_at(i)[0].plain for i in range(2)] == ["超期", "待落实"]
        assert "#1" in table.get_row_at(0)[2].plain and "赵强" in table.get_row_at(0)[3].plain
        assert "待落实 2 条，其中超期 1 条" in plain(app.screen.query_one("#orders-title"))
        painted = screen_text(app)
        assert "超期" in painted and "待落实" in painted and "赵强" in painted and "请于半小时内" in painted
        await pilot.press("f")
        await settle(pilot, app, lambda: isinstance(app.screen, FormScreen))
        await pilot.press(*"已核实排放达标")
        await pilot.press("ctrl+s")
        await settle(pilot, app, lambda: app.current_page == "orders" and len(app.screen.rows) == 1)
        assert app.screen.rows[0].incident_id == 2
    done = get_instruction(full_db(path), 1)
    assert (done.done_by, done.feedback, done.done_at) == ("li", "已核实排放达标", clock())
    listed = cli_json(path, "instructions")
    assert any(i["id"] == 1 and i["status"] == "done_late" for i in listed)


@pytest.mark.parametrize("size", SIZES)
async def test_alerts_page_lists_waiting_alerts_and_k_acknowledges_one(desk, size):
    path, clock = desk
    app = DeskApp(path, clock=clock, actor="li")
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("8")
        await settle(pilot, app, lambda: app.current_page == "alerts" and len(app.screen.rows) == 2)
        table = app.screen.query_one("#alerts")
        text = table_text(table)
        assert "突发告警0号" in text and "突发告警1号" in text and "较大" in text
        painted = screen_text(app)
        assert "突发告警0号" in painted and "突发告警1号" in painted and "确认告警" in painted
        first = app.screen.rows[0]
        await pilot.press("k")
        await settle(pilot, app, lambda: len(app.screen.rows) == 1)
        left = app.screen.rows[0]
        assert left.id != first.id
    waiting = cli_json(path, "alerts", "--open")
    assert [a["id"] for a in waiting] == [left.id]
    (acked,) = [r for r in list_alerts(full_db(path)) if r.acked_by]
    assert (acked.alert.id, acked.acked_by) == (first.id, "li")


async def test_viewer_is_refused_on_every_duty_page(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock, actor="chen")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None and app.write_refusal is not None)
        for page, key, ready in (("6", "a", lambda: app.screen.view is not None),
                                 ("7", "f", lambda: len(app.screen.rows) == 2),
                                 ("8", "k", lambda: len(app.screen.rows) == 2)):
            await pilot.press(page)
            await settle(pilot, app, lambda: app.current_page in ("duty", "orders", "alerts") and ready())
            n = len(notices(app))
            await pilot.press(key)
            await settle(pilot, app, lambda: len(notices(app)) > n)
            assert "无权" in notices(app)[-1] and not isinstance(app.screen, FormScreen)
    db = full_db(path)
    assert handover.last_acceptance(db) is None
    assert get_instruction(db, 1).done_at is None
    assert len(list_alerts(db, open_only=True)) == 2


async def test_pages_and_their_actions_are_in_the_command_palette(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock, actor="li")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"切换到值班（6）", "切换到领导批示（7）", "切换到待确认告警（8）"} <= set(titles)
        await pilot.press("8")
        await settle(pilot, app, lambda: app.current_page == "alerts" and len(app.screen.rows) == 2)
        (ack,) = [c for c in app.get_system_commands(app.screen) if c.title.startswith("告警：确认")]
        ack.callback()
        await settle(pilot, app, lambda: len(app.screen.rows) == 1)
    assert len(list_alerts(full_db(path), open_only=True)) == 1


async def test_roster_gaps_are_warned_when_the_console_opens(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock, actor="li")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: any("无人值班" in n for n in notices(app)))
        assert any("最早 06-14 20:00 至 06-15 08:00" in n for n in notices(app))


def test_handover_counts_match_the_prepared_report(desk):
    from monitor.store import source_health
    from responders.handover_desk import handover_counts, prepare_handover

    path, clock = desk
    svc = IncidentService(full_db(path), clock=clock)
    rep = prepare_handover(svc, source_health=source_health)
    assert handover_counts(svc, source_health=source_health) == {k: len(rep[k]) for k in (
        "open_incidents", "unacked_alerts", "open_instructions", "pending_proposals", "failing_sources")}
    assert handover_counts(svc, source_health=source_health)["unacked_alerts"] == 2


async def test_the_gap_horizon_is_the_consoles_setting(desk):
    path, clock = desk
    app = DeskApp(path, clock=clock, actor="li", gap_hours=6)  # 09:00-15:00: covered by 白班
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("6")
        await settle(pilot, app, lambda: app.current_page == "duty" and app.screen.view is not None)
        assert "未来 6 小时排班完整" in plain(app.screen.query_one("#duty"))
        assert not any("无人值班" in n for n in notices(app))
