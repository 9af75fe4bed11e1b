"""The console works as one staff member (Pilot, real desk files): a viewer sees the board and
incidents but every action is refused with a Chinese notice and nothing is written; an officer's
actions are recorded under their staff id and the timeline shows names."""
from __future__ import annotations

import pytest

from responders import staff
from tests.functional.test_tui_console import plain, service, settle
from tests.tui_kit import build_desk, open_desk_db
from tui.app import DeskApp
from tui.screens.forms import FormScreen
from tui.screens.incident import IncidentScreen


def staffed_desk(tmp_path, url=None):
    from storage.db import open_db

    path, clock = build_desk(tmp_path, url=url)
    db = open_db(path, [staff.migrations])
    staff.add_staff(db, "wang", "王伟", "admin")
    staff.add_staff(db, "li", "李娜", "officer")
    staff.add_staff(db, "chen", "陈静", "viewer")
    db.conn.close()
    return path, clock


@pytest.fixture
def desk(tmp_path):
    return staffed_desk(tmp_path)


@pytest.fixture
def any_desk(tmp_path, backend):
    """The desk with staff in a SQLite file, then in a PostgreSQL database."""
    return staffed_desk(tmp_path, backend)


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def events(path, clock, iid):
    return [(e.kind, e.actor) for e in service(path, clock).timeline(iid)]


async def test_viewer_reads_but_cannot_act(any_desk):
    path, clock = any_desk
    before = events(path, clock, 2), events(path, clock, 1)
    app = DeskApp(path, clock=clock, actor="chen")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None and app.write_refusal is not None)
        assert [r.id for r in app.screen.query_one("#board").rows_data] == [2, 1]  # sees everything
        assert "操作人 陈静（只读）" in plain(app.screen.query_one("#status"))
        await pilot.press("a")  # acknowledge from the board
        await settle(pilot, app, lambda: any("无权" in n for n in notices(app)))
        assert any("陈静" in n and "只读" in n and "未作任何更改" in n for n in notices(app))
        await pilot.press("down", "enter")  # incident #1 opens and shows its timeline
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
        assert "系统" in plain(app.screen.query_one("#timeline"))
        n_before = len(notices(app))
        await pilot.press("n")  # a note form: refused before anything is typed
        await settle(pilot, app, lambda: len(notices(app)) > n_before)
        assert not isinstance(app.screen, FormScreen)
        assert "无权" in notices(app)[-1]
    assert (events(path, clock, 2), events(path, clock, 1)) == before


async def test_officer_acts_under_their_id_and_is_shown_by_name(any_desk):
    path, clock = any_desk
    app = DeskApp(path, clock=clock, actor="li")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        await pilot.press("a")
        await settle(pilot, app, lambda: app.snapshot.status.alerts_waiting == 1)
        assert ("acknowledged", "li") in events(path, clock, 2)
        await pilot.press("enter")  # incident #2
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None
                     and any(e.kind == "acknowledged" for e in app.screen.detail.timeline))
        shown = plain(app.screen.query_one("#timeline"))
        assert "[李娜]" in shown and "[li]" not in shown


async def test_a_member_disabled_while_the_console_runs_is_refused(any_desk):
    path, clock = any_desk
    app = DeskApp(path, clock=clock, actor="li")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        db = open_desk_db(path)
        staff.disable_staff(db, "li")
        db.conn.close()
        await pilot.press("a")
        await settle(pilot, app, lambda: any("已停用" in n for n in notices(app)))
    assert ("acknowledged", "li") not in events(path, clock, 2)


async def test_board_and_incident_show_open_and_overdue_instructions(desk):
    from datetime import timedelta

    from responders import instructions

    path, clock = desk
    db = open_desk_db(path)
    instructions.migrations.apply(db)
    svc = service(path, clock)
    instructions.instruct(svc, 1, "wang", "请区生态环境分局今日内回复", clock() + timedelta(hours=2))
    instructions.instruct(svc, 1, "wang", "做好舆论引导")
    db.conn.close()
    app = DeskApp(path, clock=clock, actor="li")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        board = app.screen.query_one("#board")
        row = board.rows_data.index(next(r for r in board.rows_data if r.id == 1))
        assert board.get_row_at(row)[4].plain.startswith("批 ")
        assert "批示待落实 2 件" in plain(app.screen.query_one("#board-title"))
        clock.advance(hours=3)
        await settle(pilot, app, lambda: "超期 1 件" in plain(app.screen.query_one("#board-title")))
        assert board.get_row_at(row)[4].plain.startswith("批! ")
        board.move_cursor(row=row)
        await pilot.press("enter")
        await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None
                     and app.screen.detail.instructions)
        shown = plain(app.screen.query_one("#releases"))
        assert "领导批示 #1 [已超期] 王伟：请区生态环境分局今日内回复" in shown and "#2 [待落实]" in shown
