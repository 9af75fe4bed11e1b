"""The console on a PostgreSQL desk (server mode, a console on a workstation), driven by Pilot.

It opens on the server's desk; a change another machine commits shows up by the server's
notification (the poll interval is an hour in those tests, so only LISTEN/NOTIFY can explain
the refresh); a dropped server connection is said in Chinese on the status line, the console
keeps running and reconnects by itself."""
from __future__ import annotations

import psycopg
import pytest

from responders.incidents import IncidentService
from tests.functional.test_tui_console import plain, settle
from tests.responders_kit import candidate
from tests.tui_kit import build_desk, open_desk_db
from tui.app import DeskApp
from tui.screens.incident import IncidentScreen

pytestmark = pytest.mark.postgresql

WAIT = 60.0  # generous upper bound for a condition; never a timing assertion
HOUR = 3600.0  # the poll interval when only a notification may refresh the console


@pytest.fixture
def server_desk(pg_url, tmp_path):
    url, clock = build_desk(tmp_path, url=pg_url)
    return url, clock, tmp_path


def writer(url, clock):
    """Another machine's connection to the desk (e.g. the daemon, or a colleague's CLI)."""
    return IncidentService(open_desk_db(url), clock=clock)


def _admin(pg_server, sql: str, *params) -> None:
    with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:
        admin.execute(sql, params or None)


async def test_console_opens_on_a_server_desk(server_desk):
    url, clock, home = server_desk
    app = DeskApp(url, clock=clock, actor="值班员", home=home)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None and app.listening, timeout=WAIT)
        board = app.screen.query_one("#board")
        assert [r.id for r in board.rows_data] == [2, 1]
        assert board.get_row_at(0)[0].plain == " 13:00:00"
        status = plain(app.screen.query_one("#status"))
        assert "今日 4 条" in status and "待确认 2" in status
        assert app.poll_error is None and app.listen_error is None


async def test_another_machines_change_shows_by_notification(server_desk):
    url, clock, home = server_desk
    app = DeskApp(url, clock=clock, actor="甲", poll_seconds=HOUR, home=home)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None and app.listening, timeout=WAIT)
        first = app.snapshot
        svc = writer(url, clock)
        try:
            svc.open_or_join(candidate("s9", title="新线索", topic="教育", item_ids=(2,)))
            await settle(pilot, app, lambda: len(app.snapshot.board) == 3, timeout=WAIT)
            assert app.snapshot is not first
            assert [t for _, t in app.alert_log] == ["新事件 #3（一般）新线索"]
            assert 3 in [r.id for r in app.screen.query_one("#board").rows_data]

            # The incident shown is re-read too: a note written elsewhere reaches its timeline.
            await pilot.press("enter")  # #2, first by time left
            await settle(pilot, app, lambda: isinstance(app.screen, IncidentScreen)
                         and app.screen.detail is not None, timeout=WAIT)
            assert app.screen.incident_id == 2
            svc.note(2, "区住建局已到场排水", actor="乙")
            await settle(pilot, app, lambda: "note" in [e.kind for e in app.screen.detail.timeline], timeout=WAIT)
            assert "区住建局已到场排水" in plain(app.screen.query_one("#timeline"))
        finally:
            svc.db.conn.close()


async def test_dropped_connection_said_in_chinese_then_reconnected(server_desk, pg_server):
    url, clock, home = server_desk
    dbname = url.rsplit("/", 1)[1]
    app = DeskApp(url, clock=clock, actor="甲", poll_seconds=HOUR, home=home)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None and app.listening, timeout=WAIT)
        # The server goes away for this desk: sessions ended, no new ones let in for now.
        _admin(pg_server, f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false')
        try:
            _admin(pg_server, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", dbname)
            await settle(pilot, app, lambda: app.poll_error is not None and app.listen_error is not None,
                         timeout=WAIT)
            status = plain(app.screen.query_one("#status"))
            assert "与数据库服务器" in status and "连接中断" in status and "自动重试中" in status
            assert not app.listening
            assert [r.id for r in app.screen.query_one("#board").rows_data] == [2, 1]  # the last data stays
        finally:
            _admin(pg_server, f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')
        # Back: the console reconnects both its connections by itself.
        await settle(pilot, app, lambda: app.listening and app.poll_error is None, timeout=WAIT)
        assert "连接中断" not in plain(app.screen.query_one("#status"))
        svc = writer(url, clock)
        try:
            svc.acknowledge(2, actor="乙")
        finally:
            svc.db.conn.close()
        await settle(pilot, app, lambda: app.snapshot.status.alerts_waiting == 1, timeout=WAIT)
