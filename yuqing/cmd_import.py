"""`yuqing import hotline FILE.csv`: manual intake of 12345 hotline and 领导信箱 records."""
from __future__ import annotations

import click

from monitor.exceptions import MonitorError
from yuqing.clictx import act_on_desk, actor_options, check_desk_db, db_errors, load_config_or_exit, open_desk_db


@click.group("import")
def import_() -> None:
    """Import manual intake records from CSV exports."""


@import_.command("hotline")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", type=click.Choice(["hotline", "mailbox"]), default="hotline",
              help="hotline = 12345 热线工单, mailbox = 领导信箱.")
@click.option("--source", "source_id", default=None, help="Source id to file them under (default: the kind).")
@actor_options
@click.pass_context
def hotline(ctx, file, kind, source_id, as_id, actor) -> None:
    """Import a CSV of 12345 hotline work orders or 领导信箱 letters.

    Columns are found by header (编号/工单编号, 标题, 内容/诉求内容, 来电时间/提交时间, 来电人, 联系电话, 地址,
    所属区域, 诉求类型); UTF-8 or GBK. Bad rows are reported by row number and the good rows are kept.
    Importing the same file twice adds nothing.

    Example: yuqing import hotline 12345-2026-06-14.csv
    """
    from monitor.hotline import import_rows, parse_intake_csv
    from storage.timeutil import utcnow

    cfg = load_config_or_exit(ctx)
    check_desk_db(cfg.home.db_target, must_exist=False)  # before reading: refuse a bad database first
    act_on_desk(cfg.home.db_target, as_id, actor, "write")
    try:
        with open(file, "rb") as fh:
            result = parse_intake_csv(fh.read(), kind=kind)
    except MonitorError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    except OSError as exc:
        raise click.ClickException(f"{file}: cannot read: {exc.strerror}") from None
    for err in result.errors:
        click.echo(f"{file}: {err}", err=True)
    db = open_desk_db(cfg.home.db_target, must_exist=False)
    with db_errors(cfg.home.db_target):
        outcome = import_rows(db, source_id or kind, result.rows, utcnow())
    click.echo(f"{file}: {len(result.rows)} rows read, {len(outcome.new_ids)} new items stored, "
               f"{len(result.rows) - len(outcome.new_ids)} already known, {len(result.errors)} rows with errors")
    if result.errors and not result.rows:
        ctx.exit(1)
