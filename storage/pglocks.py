"""Process-wide locks on a PostgreSQL server: session advisory locks held on their own connection.

A lock is held for as long as its connection lives, so it ends however the holder ends (SIGKILL,
a lost machine: the server drops the session when its TCP connection dies, bounded by the
keepalive settings below). The holder is found from ``pg_locks`` and ``pg_stat_activity``: its
``application_name`` carries the host and PID for refusal messages and ``yuqing doctor``.
"""
from __future__ import annotations

import os
import socket
import time

from storage.pg import PgConnection

# Keys of the desk's session locks (the writer lock is a transaction lock: storage.pg.WRITER_LOCK_KEY).
DAEMON_LOCK = 0x59550001  # one `yuqing run --role all` / demo per database
LEADER_LOCK = 0x59550002  # the pipeline leader: the one process running stories and incidents

# The client side's keepalives come with every server connection (storage.dburl.NETWORK_DEFAULTS).
# The same on the server's side of the lock's connection: without it the server notices a vanished
# machine only after its default keepalive idle time (often two hours), holding the lock that long.
SERVER_KEEPALIVE = {"tcp_keepalives_idle": "5", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "3",
                    "tcp_user_timeout": "11000"}


def label(role: str) -> str:
    """The application_name a lock holder shows: role, host and PID."""
    return f"yuqing {role} pid={os.getpid()} host={socket.gethostname()}"[:63]


class SessionLock:
    """``SessionLock(url, key, role).acquire(wait)``: True once held (kept until :meth:`release` or
    process end), False when another session holds it after ``wait`` seconds (None: wait forever)."""

    def __init__(self, url: str, key: int, role: str):
        self.url, self.key, self.role = url, key, role
        self.conn: PgConnection | None = None

    def acquire(self, wait: float | None = 0.0, poll: float = 0.5) -> bool:
        if self.conn is None:
            self.conn = PgConnection(self.url, application_name=label(self.role))
            self.conn.execute("SELECT " + ", ".join(["set_config(?, ?, false)"] * len(SERVER_KEEPALIVE)),
                              [v for item in SERVER_KEEPALIVE.items() for v in item])
        deadline = None if wait is None else time.monotonic() + wait
        while True:
            if self.conn.execute("SELECT pg_try_advisory_lock(?)", [self.key]).fetchone()[0]:
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(poll)

    def alive(self) -> bool:
        """Whether the lock's session still stands (a lost connection loses the lock)."""
        if self.conn is None:
            return False
        try:
            self.conn.execute("SELECT 1")
            return True
        except Exception:
            return False

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None


def holder(url: str, key: int) -> dict | None:
    """Who holds lock ``key``: {'pid', 'host', 'started', 'name'} from its session, or None."""
    conn = PgConnection(url, application_name=label("probe"))
    try:
        row = conn.execute(
            "SELECT a.application_name, a.client_addr::text, a.backend_start FROM pg_locks l"
            " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
            " AND ((l.classid::bigint << 32) | l.objid::bigint) = ? LIMIT 1", [key]).fetchone()
    finally:
        conn.close()
    if row is None:
        return None
    name, addr, started = row
    fields = dict(part.split("=", 1) for part in (name or "").split() if "=" in part)
    return {"pid": fields.get("pid", "?"), "host": fields.get("host") or addr or "?",
            "started": started.isoformat() if started else None, "name": name}


def session_of(conn: PgConnection) -> tuple[int, str]:
    """(backend pid, backend start) of a connection's server session: names the session even
    after its pid is reused by a later one."""
    row = conn.execute("SELECT pid, backend_start::text FROM pg_stat_activity WHERE pid = pg_backend_pid()").fetchone()
    return int(row[0]), str(row[1])


def holds(conn, key: int, session: tuple[int, str]) -> bool:
    """Whether ``session`` (from :func:`session_of`) still holds session lock ``key``, asked on any
    connection, e.g. inside a transaction that must only commit while its process leads."""
    pid, started = session
    row = conn.execute(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory'"
        " AND l.granted AND l.pid = ? AND a.backend_start::text = ?"
        " AND ((l.classid::bigint << 32) | l.objid::bigint) = ?", [pid, started, key]).fetchone()
    return bool(row and row[0])
