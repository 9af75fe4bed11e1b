"""The PostgreSQL database a benchmark runs in, and the server's CPU it costs.

`yuqing bench --database URL` writes generated desks into the database it is given, so it only
takes a database that is empty (no table, view, sequence or function in its schema): a database
that already holds a desk, or anything else, is refused with what to do instead. Between
measures and at the end it drops what it created, leaving the database empty again.

The "per core" figures count the CPU of the PostgreSQL backends serving the benchmark's
database (``pg_stat_activity`` of that database, read from ``/proc/<pid>/stat``) next to the
benchmark's own process: both sides of every statement. That needs the server on this machine;
a remote server's CPU is not visible and the figures then say so.
"""
from __future__ import annotations

import os
from pathlib import Path

from common.errors import YuqingError
from storage.db import PG_MIGRATIONS_TABLE, connect
from storage.dburl import is_server, redacted

CLK = os.sysconf("SC_CLK_TCK")

# Objects of the schema that make a database "not empty" (pg_class kinds: table, view,
# materialised view, sequence, partitioned table, foreign table).
_RELKINDS = "('r', 'v', 'm', 'S', 'p', 'f')"


class BenchDatabaseError(YuqingError):
    """The database given to the benchmark cannot be used (not empty, not a server URL)."""


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process on this machine, None when it is not visible."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK


def machine_busy_seconds() -> float:
    """CPU seconds all cores of this machine spent busy since boot (``/proc/stat``)."""
    parts = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(x) for x in parts[:8]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - ticks[3] - ticks[4]) / CLK


class BenchDatabase:
    """An empty PostgreSQL database claimed by one benchmark run (see :func:`claim`)."""

    def __init__(self, url: str):
        self.url = url

    def __str__(self) -> str:
        return redacted(self.url)

    def settings(self) -> str:
        """The server's version and the settings that move write costs, for the report's header."""
        db = connect(self.url, readonly=True)
        try:
            version = db.execute("SHOW server_version").fetchone()[0]
            shown = [f"{name} {db.execute(f'SHOW {name}').fetchone()[0]}"
                     for name in ("fsync", "synchronous_commit", "shared_buffers")]
        finally:
            db.close()
        return f"PostgreSQL {version} ({', '.join(shown)})"

    def objects(self) -> list[tuple[str, str]]:
        """(kind, name) of every table, view, sequence and function in the database's schema."""
        db = connect(self.url)
        try:
            rel = db.execute(
                "SELECT c.relkind, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                f" WHERE n.nspname = current_schema() AND c.relkind IN {_RELKINDS} ORDER BY c.relname").fetchall()
            fns = db.execute(
                "SELECT 'function', p.oid::regprocedure::text FROM pg_proc p"
                " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema()"
                " ORDER BY 2").fetchall()
        finally:
            db.close()
        return [(str(k), str(n)) for k, n in list(rel) + list(fns)]

    def fresh(self) -> None:
        """Drop everything in the schema: only this run's desks are there (it was empty when claimed)."""
        db = connect(self.url)
        try:
            tables = db.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
                " ORDER BY c.relname").fetchall()
            for (name,) in tables:
                kind = db.execute("SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                                  " WHERE n.nspname = current_schema() AND c.relname = ?", [name]).fetchone()
                if kind is None:  # gone with a CASCADE already
                    continue
                what = {"v": "VIEW", "m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE"}.get(kind[0], "TABLE")
                db.execute(f'DROP {what} IF EXISTS "{name}" CASCADE')
            for (name,) in db.execute(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = current_schema() AND c.relkind = 'S' ORDER BY 1").fetchall():
                db.execute(f'DROP SEQUENCE IF EXISTS "{name}" CASCADE')
            for (sig,) in db.execute(
                    "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                    " WHERE n.nspname = current_schema() ORDER BY 1").fetchall():
                db.execute(f"DROP FUNCTION IF EXISTS {sig} CASCADE")
        finally:
            db.close()


def claim(url: str) -> BenchDatabase:
    """The database at ``url`` for a benchmark run, when it is an empty PostgreSQL database.
    Refuses (BenchDatabaseError, saying what to do) a path, a database holding a desk, or one
    holding anything else; an unreachable server raises storage's ServerUnreachable."""
    if not is_server(url):
        raise BenchDatabaseError(f"--database 需要 postgresql://… 形式的地址，而不是 {url!r}"
                                 "（SQLite 一侧总是在临时目录里测）")
    bench = BenchDatabase(url)
    db = connect(url, readonly=True)
    try:
        holds_desk = db[PG_MIGRATIONS_TABLE].exists()
    finally:
        db.close()
    if holds_desk:
        raise BenchDatabaseError(
            f"数据库 {redacted(url)} 里已经有一个值班台（{PG_MIGRATIONS_TABLE} 表存在）：基准测试不会写入在用的数据库。"
            "请新建一个空库再测，例如 createdb yuqing_bench")
    found = bench.objects()
    if found:
        names = ", ".join(n for _, n in found[:5]) + (f" 等 {len(found)} 个" if len(found) > 5 else "")
        raise BenchDatabaseError(
            f"数据库 {redacted(url)} 不是空的（{names}）：基准测试只在空库里建表，测完删掉。"
            "请新建一个空库再测，例如 createdb yuqing_bench")
    return bench


class ServerCpu:
    """CPU seconds the PostgreSQL backends serving one database spent between two readings.

    Backends are found in ``pg_stat_activity`` of that database (its own monitoring
    connection left out) and read from /proc; a backend that ends between two readings loses
    what it spent since the first one, so phases keep their connections open until read."""

    def __init__(self, url: str):
        self.db = connect(url)
        self.own_pid = self.db.execute("SELECT pg_backend_pid()").fetchone()[0]
        self.visible = _is_postgres(self.own_pid)

    def pids(self) -> list[int]:
        rows = self.db.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                               " AND pid <> ? ORDER BY pid", [self.own_pid]).fetchall()
        return [r[0] for r in rows]

    def reading(self) -> dict[int, float]:
        out = {}
        for pid in self.pids():
            sec = cpu_seconds(pid)
            if sec is not None:
                out[pid] = sec
        return out

    def wal_bytes(self) -> int | None:
        """The server's WAL position in bytes (every database's writes: exact on a server of our own)."""
        try:
            return int(self.db.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')").fetchone()[0])
        except Exception:  # a standby, or a role without the function
            return None

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float:
        return sum(sec - before.get(pid, 0.0) for pid, sec in after.items())

    def close(self) -> None:
        self.db.close()


def _is_postgres(pid: int) -> bool:
    """Whether ``pid`` is a PostgreSQL process on this machine (not a remote server's pid)."""
    try:
        return b"postgres" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def table_bytes(url: str) -> dict[str, int]:
    """Bytes on disk per table of the schema (heap, indexes, TOAST), largest first."""
    db = connect(url)
    try:
        rows = db.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
            " ORDER BY 2 DESC, 1").fetchall()
    finally:
        db.close()
    return {str(name): int(size) for name, size in rows}
