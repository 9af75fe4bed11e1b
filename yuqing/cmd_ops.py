"""`yuqing backup`, `yuqing doctor`, `yuqing retention`: keeping a desk healthy."""
from __future__ import annotations

import json

import click

from yuqing.clictx import act_on_desk, actor_options, check_desk_db, db_errors, fail, home_from, setup_logging_or_exit

_MARK = {"ok": "正常", "warn": "注意", "fail": "故障"}


@click.command()
@click.argument("dest", type=click.Path(dir_okay=True, file_okay=True), required=False)
@click.option("--force", "--overwrite", "overwrite", is_flag=True, help="Replace DEST if it exists.")
@click.option("--mkdir", is_flag=True, help="Create DEST's folder if it does not exist.")
@click.pass_context
def backup(ctx: click.Context, dest: str | None, overwrite: bool, mkdir: bool) -> None:
    """Copy the desk database to DEST: a file, or a folder (existing, or ending in /) for a file
    named by Beijing time, desk-YYYYMMDD-HHMMSS.sqlite (-2, -3, ... if taken). An existing file is
    never replaced without --force; a missing folder is refused unless --mkdir. Without DEST: the
    home's backups/ folder.

    Uses SQLite's online backup API: safe and consistent while `yuqing run` is writing.
    The copy is checked before it is put in place. In server mode (PostgreSQL) the database is
    dumped with pg_dump (custom format, desk-YYYYMMDD-HHMMSS.dump; restore with pg_restore).

    Example: yuqing backup /mnt/usb/desk-backup.sqlite
    """
    from yuqing.clictx import now_fn
    from yuqing.ops import OpsError, backup as do_backup

    home = home_from(ctx)
    if dest is None:
        dest, mkdir = str(home.path / "backups") + "/", True
    try:
        result = do_backup(home.db_target, dest, now=now_fn()(), overwrite=overwrite, mkdir=mkdir)
    except OpsError as exc:
        fail(str(exc))
        return
    if home.on_server:
        click.echo(f"已备份: {result.path} (pg_dump, {result.size} 字节, 校验 {result.check}, "
                   f"{result.seconds:.2f} 秒; 恢复: pg_restore -d <空数据库> {result.path})")
        return
    click.echo(f"已备份: {result.path} ({result.size} 字节, {result.pages} 页, 校验 {result.check}, "
               f"{result.seconds:.2f} 秒)")


@click.command()
@click.option("--full", is_flag=True, help="Run PRAGMA integrity_check (slower) instead of quick_check (SQLite).")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.pass_context
def doctor(ctx: click.Context, full: bool, as_json: bool) -> None:
    """Check the desk: database integrity, schema versions, failing sources,
    the timeline's hash chain, free disk space, WAL size, and which daemon holds the
    desk's lock (a second daemon on the same desk fails the check). Read-only. On a
    PostgreSQL server: the connection, server version, database and size, schema, and who
    holds the desk's lock and the pipeline leader's, instead of the file checks.

    Exit status: 0 when nothing failed, 1 when a check failed.

    Example: yuqing doctor --full
    """
    from yuqing.clictx import now_fn
    from yuqing.ops import doctor as run_doctor

    home = home_from(ctx)
    report = run_doctor(home.path, home.db_target, now=now_fn()(), full=full)
    if as_json:
        click.echo(json.dumps({"ok": report.ok, "checks": [
            {"name": c.name, "status": c.status, "detail": c.detail} for c in report.checks]},
            ensure_ascii=False))
    else:
        for c in report.checks:
            click.echo(f"[{_MARK[c.status]}] {c.name:<10} {c.detail}")
        click.echo({"ok": "结论: 正常", "warn": "结论: 有需要注意的项", "fail": "结论: 有故障, 请处理"}[report.worst])
    if not report.ok:
        ctx.exit(1)


@click.command()
@click.option("--days", type=click.IntRange(min=1), required=True,
              help="Delete raw items fetched more than this many days ago (incident items and labelled items are kept).")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@actor_options
@click.pass_context
def retention(ctx: click.Context, days: int, dry_run: bool, as_id: str | None, actor: str | None) -> None:
    """Delete old raw items that no incident, evidence, release proposal or label refers to,
    with their metrics, analysis and search rows. The timeline is never touched. Deleting is for
    an admin; --dry-run for anyone.

    Example: yuqing retention --days 180 --dry-run
    """
    from storage.db import connect
    from storage.timeutil import desk_text
    from yuqing.clictx import now_fn
    from yuqing.ops import OpsError, retention as run_retention

    home = home_from(ctx)
    check_desk_db(home.db_target)  # a missing desk, an unreachable server: one line, password hidden
    act_on_desk(home.db_target, as_id, actor, "read" if dry_run else "admin")
    if not dry_run:
        setup_logging_or_exit(home, stderr=False)
    with db_errors(home.db_target):
        db = connect(home.db_target)
        try:
            result = run_retention(db, days=days, now=now_fn()(), dry_run=dry_run)
        except OpsError as exc:
            fail(str(exc))
            return
        finally:
            db.conn.close()
    verb = "将删除" if result.dry_run else "已删除"
    click.echo(f"截止 {desk_text(result.cutoff, seconds=True)}: 旧条目 {result.old_items} 条, "
               f"因关联事件保留 {result.kept_linked} 条, 因人工标注保留 {result.kept_labelled} 条")
    click.echo(f"{verb}: " + ", ".join(f"{t} {n}" for t, n in result.deleted.items()))
