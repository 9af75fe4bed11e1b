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
        await pilot.press("4")  # schemes: this workstation's file, said so
        await settle(pilot, app, lambda: getattr(app.screen, "schemes", None), timeout=WAIT)
        assert "保存后写入本机方案文件" in plain(app.screen.query_one("#schemes-title"))


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


# ------------------------------------------------------------------ `yuqing tui` on a server desk

def _run_console_in_a_terminal(args: list[str], env: dict, until: str, timeout: float = WAIT) -> tuple[str, int]:
    """Start ``python -m yuqing ARGS`` on a pseudo-terminal (100x30), wait until the screen shows
    ``until``, press Ctrl+Q; returns (what it printed, exit code)."""
    import fcntl
    import os
    import pty
    import select
    import struct
    import subprocess
    import sys
    import termios
    import time

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "yuqing", *args], stdin=slave, stdout=slave, stderr=slave,
                            env=env, close_fds=True, start_new_session=True)
    os.close(slave)
    out = b""
    quit_sent = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the console exited and closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            if not quit_sent and until in out.decode("utf-8", "replace"):
                os.write(master, b"\x11")  # Ctrl+Q
                quit_sent = True
            if proc.poll() is not None and not ready:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return out.decode("utf-8", "replace"), code


def test_yuqing_tui_opens_a_server_desk_from_a_workstation(server_desk, tmp_path):
    """A workstation: an empty home folder of its own, the desk named by --database."""
    import os

    url, clock, _ = server_desk
    workstation = tmp_path / "workstation"
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    env.update(TERM="xterm-256color", PYTHONPATH=os.getcwd(), YUQING_NOW=clock().isoformat())
    out, code = _run_console_in_a_terminal(["--home", str(workstation), "--database", url, "tui", "--as", "值班员"],
                                           env, until="未结事件 2 起")
    assert "未结事件 2 起" in out, out[-2000:]
    assert code == 0


def test_yuqing_tui_refuses_a_server_database_without_a_desk(pg_url, tmp_path):
    from click.testing import CliRunner

    from yuqing.cli import cli

    r = CliRunner().invoke(cli, ["--home", str(tmp_path), "--database", pg_url, "tui"])
    assert r.exit_code != 0
    assert "no desk in database" in r.output and pg_url in r.output


def test_yuqing_tui_never_shows_the_password_of_an_unreachable_server(tmp_path, pg_server):
    from click.testing import CliRunner

    from yuqing.cli import cli

    url = f"postgresql://duty:s3cr3t-pw@127.0.0.1:{pg_server.port}/no_such_desk"
    r = CliRunner().invoke(cli, ["--home", str(tmp_path), "--database", url, "tui"])
    assert r.exit_code != 0
    assert "s3cr3t-pw" not in r.output and "no_such_desk" in r.output
