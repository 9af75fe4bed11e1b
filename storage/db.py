"""Open the desk's database and apply each package's migrations.

The desk lives in one SQLite file (the embedded default) or in a PostgreSQL database named by
a ``postgresql://`` URL (server mode, ``storage/pg.py``); both are opened here and look the same
to the rest of the code. Each package owns its own tables and declares them as a
``sqlite_utils.Migrations`` set; :func:`open_db` applies whatever sets it is given, each step in
its own transaction, on either backend.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterable

import sqlite_utils
from sqlite_utils import Migrations

from storage.dburl import is_server, redacted
from storage.errors import StorageError

BUSY_TIMEOUT_MS = 15_000
PG_MIGRATIONS_TABLE = "yuqing_migrations"


def dialect(db) -> str:
    """'sqlite' or 'postgresql': the backend of a database, connection or target."""
    if isinstance(db, (str, Path)):
        return "postgresql" if is_server(db) else "sqlite"
    return getattr(db, "dialect", None) or getattr(getattr(db, "conn", None), "dialect", None) or "sqlite"


def connect(path: str | Path, *, readonly: bool = False):
    """Connect to the desk's database: a PostgreSQL server when ``path`` is a
    ``postgresql://`` URL, else the SQLite file with WAL journalling, a busy timeout and
    NORMAL sync.

    ``isolation_level=None`` keeps Python's sqlite3 from opening implicit
    transactions: writers use :func:`transaction` explicitly (autocommit on PostgreSQL too).
    """
    if is_server(path):
        from storage.pg import PgDatabase

        return PgDatabase(path, readonly=readonly)
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


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) means the database cannot be written for want of
    space: SQLite's "database or disk is full", or the operating system's ENOSPC/EDQUOT."""
    import errno

    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
            return True
        if "database or disk is full" in str(exc) or "No space left on device" in str(exc):
            return True  # wrapped by a package's own error type, or PostgreSQL's DiskFull
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


class NewerSchemaError(StorageError, sqlite3.DatabaseError):
    """The database holds schema steps this code does not know: a newer version wrote it.
    Nothing is written to it (an older version must not guess at a newer schema)."""

    def __init__(self, path, steps: list[str]):
        self.path, self.steps = path, steps
        super().__init__(f"{path}: {self.describe(steps)}")

    @staticmethod
    def describe(steps: list[str]) -> str:
        """What is wrong and what to do, without the file name."""
        more = f" and {len(steps) - 1} more" if len(steps) > 1 else ""
        return (f"written by a newer yuqing (schema step {steps[0]}{more} unknown to this version): "
                "upgrade yuqing, or use a backup made by this version")


def unknown_steps(conn: sqlite3.Connection, migrations: Iterable[Migrations], *, any_set: bool = False) -> list[str]:
    """'set.step' names recorded in the database's migrations table that ``migrations`` lack: steps
    of those sets, or with ``any_set`` of every set (a set this code does not know at all is newer
    too)."""
    table = PG_MIGRATIONS_TABLE if dialect(conn) == "postgresql" else "_sqlite_migrations"
    try:
        rows = conn.execute(f"SELECT migration_set, name FROM {table}").fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    migrations = list(migrations)
    empty = sqlite_utils.Database(memory=True)
    known = {(m.name, step.name) for m in migrations for step in m.pending(empty)}
    names = {m.name for m in migrations}
    return [f"{s}.{n}" for s, n in rows if (s, n) not in known and (any_set or s in names)]


def open_db(path: str | Path, migrations: Iterable[Migrations] = ()) -> sqlite_utils.Database:
    """Connect and bring every given migration set up to date. Raises NewerSchemaError (and
    writes nothing) when the file has steps of these sets that this code does not know."""
    migrations = list(migrations)
    db = connect(path)
    try:
        newer = unknown_steps(db.conn, migrations) if migrations else []
    except sqlite3.Error:
        db.conn.close()
        raise
    if newer:
        db.conn.close()
        raise NewerSchemaError(redacted(path), newer)
    try:
        apply_migrations(db, migrations)
    except BaseException:
        if dialect(db) == "postgresql":
            db.conn.close()
        raise
    return db


def apply_migrations(db, migrations: Iterable[Migrations]) -> None:
    """Bring the given migration sets up to date on an already open database (either backend)."""
    for mset in migrations:
        if dialect(db) == "postgresql":
            _apply_on_server(db, mset)
        else:
            mset.apply(db)


def _apply_on_server(db, mset: Migrations) -> None:
    """Apply a set's pending steps on PostgreSQL, each with its record in one transaction under
    the desk's writer lock, so processes starting together apply each step once."""
    if not db[PG_MIGRATIONS_TABLE].exists():  # a role without CREATE on the schema may open a made desk
        db.execute(f"CREATE TABLE IF NOT EXISTS {PG_MIGRATIONS_TABLE} ("
                   " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, migration_set TEXT NOT NULL,"
                   " name TEXT NOT NULL, applied_at TEXT NOT NULL, UNIQUE (migration_set, name))")
    from datetime import datetime, timezone

    for step in mset._migrations:
        with transaction(db):
            done = db.execute(f"SELECT 1 FROM {PG_MIGRATIONS_TABLE} WHERE migration_set = ? AND name = ?",
                              [mset.name, step.name]).fetchone()
            if done:
                continue
            step.fn(db)
            db.execute(f"INSERT INTO {PG_MIGRATIONS_TABLE} (migration_set, name, applied_at) VALUES (?, ?, ?)",
                       [mset.name, step.name, str(datetime.now(timezone.utc))])


def desk_exists(target) -> bool:
    """Whether ``target`` already holds a desk: the SQLite file exists, or the server's
    database has the desk's migrations table (an unreachable server raises)."""
    if not is_server(target):
        return Path(target).is_file()
    db = connect(target, readonly=True)
    try:
        return db[PG_MIGRATIONS_TABLE].exists()
    finally:
        db.close()


def connection_lost(db) -> bool:
    """Whether a server database's connection is gone for good (the server ended its session or
    the network dropped it): only a new connection can go on. Never on SQLite."""
    raw = getattr(getattr(db, "conn", db), "raw", None)
    return bool(raw is not None and (raw.closed or raw.broken))


class transaction:
    """``with transaction(db): ...`` — BEGIN IMMEDIATE ... COMMIT, ROLLBACK on error.

    IMMEDIATE takes the write lock up front, so two writers queue on the busy
    timeout instead of failing half-way with SQLITE_BUSY on upgrade. On PostgreSQL the same
    holds by the desk-wide advisory lock taken at BEGIN: one writer at a time, the others
    queue (up to the lock timeout), so every read-then-write keeps SQLite's guarantees; a PostgreSQL
    transaction that wrote notifies ``storage.pgnotify.CHANNEL`` as it commits. Inside an open
    transaction it nests as a SAVEPOINT: the inner block's writes are undone on error
    and otherwise commit with the outer one (so a caller can make several service
    calls atomic).

    ``desk_lock=False`` (PostgreSQL only; SQLite has no other way than its one write lock): a
    transaction that takes only row locks, e.g. a claim with ``FOR UPDATE SKIP LOCKED``, so
    claimers on several machines do not queue behind the desk's writers.
    """

    _depth = 0

    def __init__(self, db: sqlite_utils.Database, *, desk_lock: bool = True):
        self.conn = db.conn
        self.savepoint: str | None = None
        self.desk_lock = desk_lock

    def __enter__(self):
        if self.conn.in_transaction:
            transaction._depth += 1
            self.savepoint = f"yuqing_sp{transaction._depth}"
            self.conn.execute(f"SAVEPOINT {self.savepoint}")
        elif dialect(self.conn) == "postgresql":
            from storage.pg import WRITER_LOCK_KEY

            self.conn.execute("BEGIN")
            if not self.desk_lock:
                return self.conn
            try:
                self.conn.execute(f"SELECT pg_advisory_xact_lock({WRITER_LOCK_KEY})")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        else:
            self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        if self.savepoint is not None:
            return self._exit_savepoint(exc_type)
        if exc_type is None:
            try:
                if dialect(self.conn) == "postgresql":  # consoles refresh when the change is visible
                    from storage.pgnotify import NOTIFY_IF_WRITTEN

                    self.conn.execute(NOTIFY_IF_WRITTEN)
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


def applied_steps(db) -> list[tuple[str, str]]:
    """(set, step) of every migration step recorded in the database, in the order applied
    (either backend; [] before the first migration)."""
    table = PG_MIGRATIONS_TABLE if dialect(db) == "postgresql" else "_sqlite_migrations"
    order = "id" if table == PG_MIGRATIONS_TABLE else "rowid"
    if not db[table].exists():
        return []
    return [(s, n) for s, n in db.execute(f"SELECT migration_set, name FROM {table} ORDER BY {order}").fetchall()]
