"""Copy a desk from its SQLite file into an empty PostgreSQL database (``yuqing db copy``).

The copy knows no table names: it copies every table of the SQLite file that the target's schema
has, column by column as the target names them. The target's schema comes from the same
migrations (passed in by the caller), applied inside the copy's one transaction, so a failed copy
leaves the database as empty as it was. The source is read in one snapshot (a running daemon may
keep writing to it). Rows go over in primary-key order with COPY, tables in foreign-key order (a
table referring to itself gets those columns filled in a second pass), and every identity
sequence is moved past the largest id copied, so new rows get fresh ids.

What is not copied: SQLite's own tables (``sqlite_*``), its migration records (the target records
its own), and the shadow tables behind an FTS5 index: the index itself is copied as rows
(``rowid`` and its columns) into the target's table of the same name.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from storage.dburl import is_server, redacted
from storage.errors import StorageError

SQLITE_MIGRATIONS_TABLE = "_sqlite_migrations"
FTS5_SHADOWS = ("_data", "_idx", "_content", "_docsize", "_config")
BATCH = 2000


class CopyError(StorageError):
    """The copy was refused or failed; nothing was written to the target. The message says why."""


@dataclass
class CopyReport:
    """What was (or, in a dry run, would be) copied: rows per table, in copy order."""
    source: str
    target: str
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    sequences: dict[str, int] = field(default_factory=dict)  # "table.column" -> last value set
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# ------------------------------------------------------------------ the source (SQLite)

def _open_source(path: Path) -> sqlite3.Connection:
    if is_server(str(path)):
        raise CopyError(f"--from {redacted(str(path))}: 来源必须是 SQLite 桌面文件（desk.sqlite），不能是服务器地址")
    if not Path(path).is_file():
        raise CopyError(f"{path}: 找不到来源数据库文件")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 15000")
    try:
        conn.execute("BEGIN")  # one read snapshot for the whole copy, even while a daemon writes
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise CopyError(f"{path}: 不是可读的 SQLite 数据库（{exc}）") from None
    return conn


def source_tables(conn: sqlite3.Connection) -> tuple[list[str], list[str]]:
    """(tables to copy, tables skipped) of a SQLite desk, by name."""
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    virtual = [name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")]
    shadows = {v + s for v in virtual for s in FTS5_SHADOWS}
    copy, skipped = [], []
    for name, _sql in rows:
        if name.startswith("sqlite_") or name == SQLITE_MIGRATIONS_TABLE or name in shadows:
            skipped.append(name)
        else:
            copy.append(name)
    return copy, skipped


def _source_columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, int]]:
    """(column, position in the primary key, 0 if none) of a source table."""
    return [(r[1], r[5]) for r in conn.execute(f'PRAGMA table_info("{table}")')]


def _order_by(cols: list[tuple[str, int]]) -> str:
    pk = [name for name, pos in sorted(cols, key=lambda c: c[1]) if pos]
    return ", ".join(f'"{c}"' for c in pk) if pk else "rowid"


# ------------------------------------------------------------------ the target (PostgreSQL)

def _target_columns(db, table: str) -> list[str]:
    """Columns the copy may write (generated ones are computed by the server)."""
    return [r[0] for r in db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = ? AND is_generated = 'NEVER' ORDER BY ordinal_position", [table]).fetchall()]


def _foreign_keys(db) -> list[tuple[str, str, str]]:
    """(table, referenced table, column) of every foreign key column in the target's schema."""
    return [tuple(r) for r in db.execute(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text, a.attname"
        " FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)"
        " WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace"
        " ORDER BY 1, 2, 3").fetchall()]


def _in_fk_order(tables: list[str], fks: list[tuple[str, str, str]]) -> list[str]:
    """Tables ordered so that each comes after the tables it refers to (self-references aside)."""
    needs = {t: {ref for src, ref, _ in fks if src == t and ref != t and ref in tables} for t in tables}
    ordered: list[str] = []
    while needs:
        ready = sorted(t for t, deps in needs.items() if not deps - set(ordered))
        if not ready:
            raise CopyError(f"外键成环，无法确定复制顺序：{', '.join(sorted(needs))}")
        ordered += ready
        for t in ready:
            del needs[t]
    return ordered


def _identity_columns(db) -> list[tuple[str, str]]:
    return [tuple(r) for r in db.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND is_identity = 'YES' ORDER BY table_name, column_name").fetchall()]


def _existing_tables(db) -> list[str]:
    return [r[0] for r in db.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename").fetchall()]


def refuse_unless_empty(db, target: str) -> None:
    """A copy goes only into a database whose schema holds no tables at all."""
    tables = _existing_tables(db)
    if tables:
        shown = "、".join(tables[:3]) + (f" 等 {len(tables)} 张表" if len(tables) > 3 else "")
        raise CopyError(f"{redacted(target)} 不是空数据库（已有 {shown}）：db copy 只复制到空数据库，"
                        "请新建一个数据库（createdb）再复制")


# ------------------------------------------------------------------ the copy

def plan(source: Path, target: str) -> CopyReport:
    """What a copy would do, without writing: rows per table of the source, and whether the
    target is reachable and empty (raises CopyError when it is not)."""
    from storage.db import connect

    conn = _open_source(source)
    try:
        tables, skipped = source_tables(conn)
        report = CopyReport(str(source), redacted(target), skipped=skipped, dry_run=True)
        for t in tables:
            report.counts[t] = conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
    finally:
        conn.close()
    db = connect(target, readonly=True)
    try:
        refuse_unless_empty(db, target)
    finally:
        db.close()
    return report


def copy_desk(source: Path, target: str, migrations: Iterable, *, batch: int = BATCH,
              progress: Callable[[str, int], None] | None = None) -> CopyReport:
    """Create the desk's schema on the empty PostgreSQL database ``target`` and copy every row of
    the SQLite desk ``source`` into it, all in one transaction. ``progress(table, rows)`` is called
    after each table. Raises CopyError (the target left as it was) when refused or failed."""
    from storage.db import _apply_on_server, connect, transaction

    if not is_server(target):
        raise CopyError(f"--to {target}: 目标必须是 postgresql:// 地址")
    src = _open_source(source)
    db = connect(target)
    report = CopyReport(str(source), redacted(target))
    try:
        tables, report.skipped = source_tables(src)
        with transaction(db):  # also the desk's writer lock: no one else migrates it meanwhile
            refuse_unless_empty(db, target)
            for mset in migrations:
                _apply_on_server(db, mset)
            present = set(_existing_tables(db))
            missing = [t for t in tables if t not in present]
            if missing:
                raise CopyError(f"目标结构中没有这些表：{', '.join(missing)}（来源数据库由更新或更旧的 yuqing 写成？"
                                "先用同一版本 yuqing 打开来源桌面）")
            fks = _foreign_keys(db)
            for table in _in_fk_order(tables, fks):
                self_refs = [col for t, ref, col in fks if t == table and ref == table]
                report.counts[table] = _copy_table(src, db, table, self_refs, batch)
                if progress:
                    progress(table, report.counts[table])
            for table, column in _identity_columns(db):
                last = _move_sequence(db, table, column)
                if last is not None:
                    report.sequences[f"{table}.{column}"] = last
        db.execute("ANALYZE")  # the planner's statistics for the copied rows, not the empty tables'
    except CopyError:
        raise
    except sqlite3.Error as exc:
        raise CopyError(f"复制失败，目标数据库未写入任何内容：{exc}") from exc
    finally:
        src.close()
        db.close()
    return report


def _copy_table(src: sqlite3.Connection, db, table: str, self_refs: list[str], batch: int) -> int:
    """Copy one table's rows in primary-key order; columns referring to the same table are
    filled in afterwards (a row may refer to one copied later)."""
    from storage.pg import translate_error

    scols = _source_columns(src, table)
    snames = {name for name, _ in scols}
    tcols = _target_columns(db, table)
    extra = sorted(snames - set(tcols))
    if extra:
        raise CopyError(f"表 {table} 的列 {', '.join(extra)} 在目标结构中不存在：来源与本版本 yuqing 的结构不一致")
    # An FTS5 index keeps its rowid hidden; the target's search table has it as a column.
    cols = [c for c in tcols if c in snames or (c == "rowid" and "rowid" not in snames)]
    select = ", ".join(f'"{c}"' if c in snames else c for c in cols)
    order = _order_by(scols)
    later = [cols.index(c) for c in self_refs if c in cols]
    pk = [name for name, pos in sorted(scols, key=lambda c: c[1]) if pos]
    if later and len(pk) != 1:
        raise CopyError(f"表 {table} 引用自身但没有单列主键，无法分两步复制")
    fixups: list[tuple] = []
    n = 0
    cur = src.execute(f'SELECT {select} FROM "{table}" ORDER BY {order}')
    collist = ", ".join(f'"{c}"' for c in cols)
    try:
        with db.conn.raw.cursor() as pgcur:
            with pgcur.copy(f'COPY "{table}" ({collist}) FROM STDIN') as copy:
                while True:
                    rows = cur.fetchmany(batch)
                    if not rows:
                        break
                    for row in rows:
                        if later:
                            row = list(row)
                            values = [row[i] for i in later]
                            if any(v is not None for v in values):
                                fixups.append((row[cols.index(pk[0])], values))
                            for i in later:
                                row[i] = None
                        copy.write_row(row)
                    n += len(rows)
    except Exception as exc:
        import psycopg

        if isinstance(exc, psycopg.Error):
            raise CopyError(f"复制表 {table} 失败，目标数据库未写入任何内容：{translate_error(exc)}") from exc
        raise
    if fixups:
        sets = ", ".join(f'"{cols[i]}" = ?' for i in later)
        db.executemany(f'UPDATE "{table}" SET {sets} WHERE "{pk[0]}" = ?',
                       [[*values, key] for key, values in fixups])
    return n


def _move_sequence(db, table: str, column: str) -> int | None:
    """Set an identity column's sequence to the largest id copied (the next insert gets one more)."""
    row = db.execute(
        f'SELECT setval(pg_get_serial_sequence(?, ?), m) FROM (SELECT max("{column}") AS m FROM "{table}") x'
        " WHERE m IS NOT NULL", [f'"{table}"', column]).fetchone()
    return row[0] if row else None
