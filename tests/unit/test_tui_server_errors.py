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
