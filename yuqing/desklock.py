"""One daemon per desk: an exclusive ``flock`` on ``desk.lock`` next to the database.

The daemon (``yuqing run``, ``yuqing demo``) takes the lock at start and keeps it for the
process's life; the operating system releases it when the process ends, however it ends
(SIGKILL, power loss of the process), so a leftover file never blocks a restart. The file names
the holder (PID, host, start time) for the refusal message and for ``yuqing doctor``, which only
probes the lock for an instant and never waits on it.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path

from storage.timeutil import desk_text, from_db, to_db, utcnow
from yuqing.errors import DeskError

#: How long a starting daemon retries a busy lock: covers `yuqing doctor`'s instant probe.
WAIT_SECONDS = 2.0

_held: dict[Path, int] = {}  # lock file -> open descriptor, kept for the process's life


class DeskLocked(DeskError):
    """Another process holds the desk's lock; ``holder`` is what its file says."""

    def __init__(self, path: Path, holder: dict):
        self.path = path
        self.holder = holder
        super().__init__(f"another desk daemon is already running on this database ({describe(holder)}, "
                         f"lock {path}); stop it first, or use another --home")


_server_locks: dict[str, object] = {}  # database URL -> its held SessionLock


def lock_path(db_path: str | os.PathLike) -> Path:
    """``desk.lock`` for ``desk.sqlite``: one lock per database file."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.stem + ".lock")


def describe(holder: dict) -> str:
    """"PID 123 on host h, since 2026-12-06 06:50 +08:00" (what the lock file says; desk time)."""
    if not holder:
        return "holder unknown"
    text = f"PID {holder.get('pid', '?')} on host {holder.get('host', '?')}"
    try:
        started = from_db(holder.get("started"))
    except (TypeError, ValueError):
        started = None
    return text + (f", since {desk_text(started)}" if started else "")


def hold(db_path: str | os.PathLike, *, wait: float = WAIT_SECONDS) -> Path:
    """Take the desk's lock for the rest of this process's life (again: no-op), or raise
    DeskLocked naming the holder. OSError when the lock file cannot be written.

    On a PostgreSQL server the lock is a session advisory lock (storage/pglocks.py): it spans
    machines, and the server drops it when its holder's session dies."""
    from storage.dburl import is_server, redacted

    if is_server(db_path):
        from storage.pglocks import DAEMON_LOCK, SessionLock, holder as server_holder

        if db_path in _server_locks:
            return Path(redacted(db_path))
        lock = SessionLock(db_path, DAEMON_LOCK, "daemon")
        if not lock.acquire(wait=wait):
            lock.release()
            raise DeskLocked(Path(redacted(db_path)), server_holder(db_path, DAEMON_LOCK) or {})
        _server_locks[db_path] = lock
        return Path(redacted(db_path))
    path = lock_path(db_path)
    if path in _held:
        return path
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by child processes
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise DeskLocked(path, _read(path)) from None
            time.sleep(0.05)
    started = to_db(utcnow())
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": started}).encode(), 0)
    _held[path] = fd
    return path


def holder(db_path: str | os.PathLike) -> dict | None:
    """Who holds the lock (its file's content, possibly ``{}``), or None when nobody does.
    Probes with a shared lock for an instant: a daemon starting meanwhile retries (WAIT_SECONDS)."""
    from storage.dburl import is_server

    if is_server(db_path):
        from storage.pglocks import DAEMON_LOCK, holder as server_holder

        return server_holder(db_path, DAEMON_LOCK)
    path = lock_path(db_path)
    if path in _held:
        return _read(path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
