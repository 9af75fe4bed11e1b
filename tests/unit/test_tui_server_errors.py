"""What a console on a workstation says when the desk's server is away: Chinese, the password
hidden, and a DeskLost the console reconnects after (a real refused connection, no stand-in)."""
from __future__ import annotations

import socket

import pytest

from tui.app import chinese_errors, describe_error
from tui.facade import DeskFacade, DeskLost


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


def test_unreachable_server_is_said_in_chinese_without_the_password():
    url = f"postgresql://duty:s3cr3t-pw@127.0.0.1:{_closed_port()}/desk"
    with pytest.raises(DeskLost) as caught:
        DeskFacade(url)
    text = describe_error(caught.value)
    assert "s3cr3t-pw" not in text
    assert text.startswith("无法连接数据库服务器 postgresql://duty:***@127.0.0.1:")
    assert "连接被拒绝" in text and "Connection refused" not in text


@pytest.mark.parametrize("english, chinese", [
    ("canceling statement due to lock timeout", "等待其他程序写入超时"),
    ("consuming input failed: server closed the connection unexpectedly", "数据库服务器意外断开连接"),
    ("terminating connection due to administrator command", "数据库服务器终止了连接"),
    ("the connection is closed", "与数据库服务器的连接已断开"),
    ("permission denied for table incidents", "数据库用户无权操作 incidents"),
    ("cannot execute UPDATE in a read-only transaction", "数据库连接为只读，无法写入"),
    ('FATAL:  password authentication failed for user "duty"', "用户 duty 密码验证失败"),
    ('connection to server at "db.example" (10.0.0.5), port 5432 failed: timeout expired',
     "服务器 db.example:5432：连接超时"),
])
def test_server_messages_in_chinese(english, chinese):
    assert chinese_errors(f"数据库错误：{english}") == f"数据库错误：{chinese}"


def test_a_writer_holding_the_desk_too_long_is_said_busy_and_nothing_changes(pg_url, tmp_path):
    """Another process keeps the desk's write lock past the server's lock timeout (15 s, as
    SQLite's busy timeout): the console's action is refused in staff's words, not a traceback."""
    from storage.db import connect, transaction
    from tests.tui_kit import build_desk
    from tui.errors import DeskBusy

    url, clock = build_desk(tmp_path, url=pg_url)
    facade = DeskFacade(url, clock=clock, actor="甲", home=tmp_path)
    other = connect(url)
    try:
        with transaction(other):  # holds the desk-wide writer lock until the block ends
            with pytest.raises(DeskBusy) as caught:
                facade.acknowledge(2)
        assert describe_error(caught.value) == "数据库正被其他程序占用（等待写入超时），请稍后重试"
        assert facade.incident(2).incident.acknowledged_at is None
        facade.acknowledge(2)  # the lock released: the same action goes through
        assert facade.incident(2).incident.acknowledged_at == clock()
    finally:
        other.close()
        facade.close()
