"""Open the desk's SQLite file and apply each package's migrations.

One SQLite file holds the whole desk. Each package owns its own tables and
declares them as a ``sqlite_utils.Migrations`` set; :func:`open_db` applies
whatever sets it is given, each step in its own transaction.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterable

import sqlite_utils
from sqlite_utils import Migrations

BUSY_TIMEOUT_MS = 15_000


def connect(path: str | Path, *, readonly: bool = False) -> sqlite_utils.Database:
    """Connect with WAL journalling, a busy timeout and NORMAL sync.

    ``isolation_level=None`` keeps Python's sqlite3 from opening implicit
    transactions: writers use :func:`transaction` explicitly.
    """
    path = Path(path)
    if readonly:
        conn = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None, check_same_thread=False,
        )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
            check_same_thread=False,
        )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if not readonly:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":  # pragma: no cover - e.g. some network filesystems
            raise sqlite3.OperationalError(f"could not switch {path} to WAL mode (got {mode})")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return sqlite_utils.Database(conn)


def open_db(path: str | Path, migrations: Iterable[Migrations] = ()) -> sqlite_utils.Database:
    """Connect and bring every given migration set up to date."""
    db = connect(path)
    for mset in migrations:
        mset.apply(db)
    return db


class transaction:
    """``with transaction(db): ...`` — BEGIN IMMEDIATE ... COMMIT, ROLLBACK on error.

    IMMEDIATE takes the write lock up front, so two writers queue on the busy
    timeout instead of failing half-way with SQLITE_BUSY on upgrade. Inside an open
    transaction it nests as a SAVEPOINT: the inner block's writes are undone on error
    and otherwise commit with the outer one (so a caller can make several service
    calls atomic).
    """

    _depth = 0

    def __init__(self, db: sqlite_utils.Database):
        self.conn = db.conn
        self.savepoint: str | None = None

    def __enter__(self):
        if self.conn.in_transaction:
            transaction._depth += 1
            self.savepoint = f"yuqing_sp{transaction._depth}"
            self.conn.execute(f"SAVEPOINT {self.savepoint}")
        else:
            self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        if self.savepoint is not None:
            return self._exit_savepoint(exc_type)
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
            except BaseException:  # e.g. disk full at commit: leave no transaction open
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        elif self.conn.in_transaction:  # SQLITE_FULL and some I/O errors already rolled back
            self.conn.execute("ROLLBACK")
        return False

    def _exit_savepoint(self, exc_type) -> bool:
        sp, self.savepoint = self.savepoint, None
        if not self.conn.in_transaction:  # SQLite rolled the whole transaction back already
            return False
        if exc_type is not None:
            self.conn.execute(f"ROLLBACK TO {sp}")
        self.conn.execute(f"RELEASE {sp}")
        return False
