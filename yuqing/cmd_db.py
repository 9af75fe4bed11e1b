"""`yuqing db`: moving a desk to a PostgreSQL server and its least-privilege roles.

``db copy`` copies the SQLite desk into an empty PostgreSQL database (``storage.dbcopy``) and
keeps its timeline verifiable there (the anchor key stays with the desk home).
``db grants`` prints, and ``db roles`` applies, the grants of the console and collector roles
(``yuqing.dbaccess`` decides which table gets what).
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import click

from yuqing.clictx import fail, home_from


@click.group()
def db() -> None:
    """Server mode: copy a desk to PostgreSQL, least-privilege roles."""


@db.command("copy")
@click.option("--to", "target", required=True, metavar="URL",
              help="The empty PostgreSQL database: postgresql://user@host:port/dbname.")
@click.option("--from", "source", default=None, type=click.Path(dir_okay=False),
              help="The SQLite desk file to copy (default: desk.sqlite in the desk home).")
@click.option("--dry-run", is_flag=True, help="Only show what would be copied (rows per table); write nothing.")
@click.pass_context
def copy(ctx: click.Context, target: str, source: str | None, dry_run: bool) -> None:
    """Copy a SQLite desk into an EMPTY PostgreSQL database: the schema, then every table's rows
    (items, stories, incidents, the timeline with its chain) in one transaction: all or nothing.
    A database that already holds tables is refused. Afterwards `yuqing --database URL verify`
    passes on the copy; keep using the same desk home (it holds the timeline key).

    Example: yuqing db copy --to postgresql://yuqing@db.example:5432/desk
    """
    import sqlite3

    from responders import anchor_copy
    from storage.dbcopy import CopyError, copy_desk, plan
    from storage.dburl import is_server, redacted
    from yuqing.clictx import open_desk_db

    target = target.strip()
    if not is_server(target):
        fail("--to: 需要 postgresql://用户@主机:端口/库名 形式的地址")
    home = home_from(ctx)
    src = Path(source).expanduser() if source else home.db_path
    if not src.is_file():
        fail(f"{src}: 找不到要复制的 SQLite 桌面数据库" + ("" if source else "（用 --from 指定文件，或用 --home 指定桌面目录）"))
    try:
        if dry_run:
            report = plan(src, target)
            notes: list[str] = []
        else:
            open_desk_db(src).conn.close()  # bring an older desk's schema up to this version first
            with _connections(src, target) as (src_conn, dst_conn):
                kept = anchor_copy.prepare(src_conn, dst_conn, target, home.path)
            report = copy_desk(src, target, _migrations(),
                               progress=lambda t, n: click.echo(f"  {t:<24} {n:>9} 行", err=True))
            try:
                with _connections(src, target) as (_src_conn, dst_conn):
                    notes = anchor_copy.finish(kept, dst_conn)
            except OSError as exc:
                fail(f"已复制，但时间线密钥未能存入桌面目录 {home.path}（{exc}）：请把来源桌面的 timeline.key "
                     "复制到该目录后再运行 verify")
    except (CopyError, anchor_copy.AnchorCopyError) as exc:
        fail(str(exc))
        return
    except sqlite3.Error as exc:
        from yuqing.clictx import db_error_message

        fail(db_error_message(target, exc))
        return
    verb = "将复制" if dry_run else "已复制"
    if dry_run:
        for table, n in report.counts.items():
            click.echo(f"  {table:<24} {n:>9} 行")
        if report.skipped:
            click.echo(f"  （不复制：{', '.join(report.skipped)}）")
    click.echo(f"{verb} {len(report.counts)} 张表、{report.total} 行：{src} → {redacted(target)}")
    for note in notes:
        click.echo(f"  · {note}")
    if not dry_run:
        click.echo(f"下一步：yuqing --database '{redacted(target)}' verify")


def _migrations():
    from pipeline.schema import all_migrations

    return all_migrations()


@contextmanager
def _connections(src: Path, target: str):
    """Read-only connections to the SQLite desk and the server database (the timeline anchor's)."""
    from storage.db import connect

    src_db = connect(src, readonly=True)
    try:
        dst_db = connect(target, readonly=True)
        try:
            yield src_db.conn, dst_db.conn
        finally:
            dst_db.close()
    finally:
        src_db.conn.close()


def _role_options(fn):
    fn = click.option("--collector", default=None, metavar="NAME",
                      help="Collector role: writes only the intake tables, reads the sources.")(fn)
    return click.option("--console", default=None, metavar="NAME",
                        help="Console role: reads everything, writes the response tables, "
                             "appends to the timeline but never changes or deletes it.")(fn)


def _role_statements(ctx: click.Context, console: str | None, collector: str | None):
    """(the server desk's target, its database, the statements for the roles asked for)."""
    from storage.db import connect
    from storage.pgroles import RoleError, current_role, role_statements
    from yuqing import dbaccess

    if not console and not collector:
        raise click.UsageError("give --console NAME and/or --collector NAME")
    home = home_from(ctx)
    if not home.on_server:
        fail("角色只用于 PostgreSQL 服务器上的值班台：用 --database postgresql://… 指定（SQLite 文件的权限由操作系统管理）")
    if console and console == collector:
        fail("--console 与 --collector 不能是同一个角色")
    target = home.db_target
    db = connect(target)
    try:
        owner = current_role(db)
        statements = []
        for name, grants, read_all, what in ((console, dbaccess.console_grants(), True, "--console"),
                                             (collector, dbaccess.collector_grants(), False, "--collector")):
            if not name:
                continue
            if name == owner:
                fail(f"{what} {name}：这是值班台自己的角色（表的所有者），不能降为受限角色；请另起一个名字")
            statements += role_statements(db, name, grants, read_all=read_all)
    except RoleError as exc:
        db.close()
        fail(str(exc))
    return target, db, statements


@db.command("grants")
@_role_options
@click.pass_context
def grants(ctx: click.Context, console: str | None, collector: str | None) -> None:
    """Print the SQL that creates the least-privilege roles and their grants on the desk's
    database (for a DBA to review and run as a role that may create roles). Writes nothing.

    Example: yuqing --database postgresql://yuqing@db/desk db grants --console yq_console --collector yq_collect
    """
    _target, db, statements = _role_statements(ctx, console, collector)
    db.close()
    click.echo("BEGIN;")
    for sql in statements:
        click.echo(sql + ";")
    click.echo("COMMIT;")


@db.command("roles")
@_role_options
@click.pass_context
def roles(ctx: click.Context, console: str | None, collector: str | None) -> None:
    """Create the least-privilege roles (login roles, when missing) and grant them exactly what
    `yuqing db grants` prints, in one transaction. Run it as the desk's own role (the tables'
    owner) with the right to create roles; run it again after an upgrade that added tables.
    Passwords are not set here: ALTER ROLE … PASSWORD, or certificate authentication.

    Example: yuqing --database postgresql://yuqing@db/desk db roles --console yq_console --collector yq_collect
    """
    import sqlite3

    from storage.dburl import redacted
    from storage.pgroles import apply
    from yuqing.clictx import db_error_message

    target, db, statements = _role_statements(ctx, console, collector)
    try:
        apply(db, statements)
    except sqlite3.Error as exc:
        hint = ("；没有建角色的权限时，请 DBA 执行 yuqing db grants 打印的 SQL"
                if "permission denied to create role" in str(exc) else "")
        fail(db_error_message(target, exc) + hint)
    finally:
        db.close()
    for name, what in ((console, "值班终端（console）"), (collector, "采集（collector）")):
        if name:
            click.echo(f"已授权 {what} 角色 {name}：{redacted(target)}")
