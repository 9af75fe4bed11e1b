"""`yuqing tui`: open the duty console (Textual) on the desk: the home's SQLite file, or a desk
on a PostgreSQL server (``--database URL``), e.g. from a staff member's own workstation."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import click

from yuqing.clictx import act_on_desk, actor_options


@click.command(name="tui")
@actor_options
@click.option("--db", "db_path", default=None, type=click.Path(dir_okay=False),
              help="Desk database file (default: <home>/desk.sqlite).")
@click.pass_context
def tui(ctx: click.Context, as_id: str | None, actor: str | None, db_path: str | None) -> None:
    """Open the duty console: incident board with live countdowns, item stream and actions.

    On a desk with staff the console works as one staff member (--as ID, else the OS login
    mapped by `yuqing staff add --login`); a viewer (只读) sees everything and changes nothing.
    Several consoles may run at once against one desk; the daemon (`yuqing run`) collects.
    On a PostgreSQL desk (--database URL) the console may run on any machine that reaches the
    server: it refreshes as soon as the desk changes (LISTEN/NOTIFY) and reconnects when the
    connection drops; schemes and exports use this machine's desk home.
    Keys: 1 值班台 2 检索 3 信源 4 方案 5 报表 6 值班 7 批示 8 告警, Enter opens an incident, Ctrl+P command palette,
    Ctrl+Q quit. Example: yuqing --home ~/desk tui; yuqing --database postgresql://duty@desk-db/yuqing tui
    """
    from yuqing.clictx import check_desk_db, clock_policy, db_error_message, home_from, now_fn

    home = home_from(ctx)
    from storage.dburl import as_target

    target = as_target(db_path) if db_path else home.db_target
    if isinstance(target, Path) and not target.exists():
        raise click.ClickException(f"no desk database at {target}: run `yuqing init` (or `yuqing demo`) first")
    check_desk_db(target)  # a server desk: reachable, holds a desk, not from a newer yuqing
    # who works this console: checked now (a viewer may open it to read); every action is checked again
    who = act_on_desk(target, as_id, actor, "read")
    clock = now_fn(pinned_only=True)
    policy = clock_policy(home.desk_toml)
    from tui.app import run_console
    from yuqing.gazetteer_io import GazetteerError, gazetteer_dir, load_unit_names

    try:
        units = load_unit_names(gazetteer_dir(home.path))
    except GazetteerError as exc:
        raise click.ClickException(f"gazetteer: {exc}") from None
    try:
        from yuqing.cmd_roster import gap_horizon

        gap_hours = int(gap_horizon(home.path).total_seconds() // 3600)
        run_console(target, clock=clock, actor=who, policy=policy, units=units, gap_hours=gap_hours,
                    home=home.path)
    except sqlite3.Error as exc:
        raise click.ClickException(db_error_message(target, exc)) from None
