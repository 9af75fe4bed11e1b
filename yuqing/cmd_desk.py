"""`yuqing init` and `yuqing run`."""
from __future__ import annotations

import asyncio

import click

from common.errors import ConfigError
from monitor.exceptions import MonitorError
from yuqing.clictx import (act_on_desk, actor_options, check_desk_db, db_errors, fail, hold_desk_lock, home_from,
                           load_config_or_exit, open_desk_db, setup_logging_or_exit)


@click.command()
@click.option("--force", is_flag=True, help="Overwrite desk.toml and sources.toml if they exist (admin only).")
@actor_options
@click.pass_context
def init(ctx: click.Context, force: bool, as_id: str | None, actor: str | None) -> None:
    """Write a default desk home: desk.toml, sources.toml and the database.

    Example: yuqing --home ./desk init
    """
    from yuqing.config import init_home, load_config

    home = home_from(ctx)
    if home.path.exists() and not home.path.is_dir():
        fail(f"{home.path}: is a file, not a folder (pass a folder to --home)")
    check_desk_db(home.db_target, must_exist=False)  # never write config next to a database we cannot use
    if force:  # replaces the desk's configuration: an admin's edit once the desk has staff
        act_on_desk(home.db_target, as_id, actor, "admin")
    try:
        written = init_home(home, force=force)
    except OSError as exc:
        fail(f"{exc.filename or home.path}: cannot write the desk home ({exc.strerror}): "
             "choose a folder this user may write (--home or YUQING_HOME)")
    for path in written:
        click.echo(f"wrote {path}")
    if home.on_server:
        _record_database(home)
    try:
        cfg = load_config(home)
    except (ConfigError, MonitorError) as exc:
        fail(f"{exc} (fix it, or move that file away and run `yuqing init` again for a default one)")
    db = open_desk_db(home.db_target, must_exist=False)
    db.conn.close()
    from classifiers.gazetteer import GazetteerError
    from yuqing.classify_io import ClassifyDataError, load_classifier

    try:
        load_classifier(home.path, database=home.db_target)  # trains and caches the topic model now, so the first item is fast
    except (ClassifyDataError, GazetteerError) as exc:
        fail(f"{exc} (the desk home is written; fix that file before `yuqing run`)")
    from storage.dburl import redacted

    where = redacted(home.db_target) if home.on_server else home.db_path.name
    click.echo(f"desk home ready: {home.path} ({len(cfg.sources)} sources, database {where})")


def _record_database(home) -> None:
    """Server mode: desk.toml names the database (without its password), so later commands on
    this home find it without --database."""
    from storage.dburl import has_password, redacted, without_password
    from yuqing.config import record_database

    try:
        named = record_database(home, str(home.db_target))
    except ConfigError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename or home.desk_toml}: cannot write the desk home ({exc.strerror})")
    if named is None:
        return
    if named != without_password(home.db_target):
        click.echo(f"note: {home.desk_toml} names database {redacted(named)}; this command used "
                   f"{redacted(home.db_target)} (--database and YUQING_DATABASE_URL win over desk.toml)")
    else:
        click.echo(f"{home.desk_toml}: [database] url = {named}")
    if has_password(home.db_target):
        click.echo("the password is not written to desk.toml: give it by PGPASSWORD or ~/.pgpass")
    if home.db_path.is_file():
        click.echo(f"note: {home.db_path} (this home's SQLite desk) is no longer used; copy its data to the "
                   "server with `yuqing db copy --to URL`, or keep it as a backup")


@click.command()
@click.option("--for", "duration", type=float, default=None, metavar="SECONDS",
              help="Stop after this many seconds (default: until SIGINT/SIGTERM).")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.option("--intake-only", is_flag=True,
              help="Run the collectors only (no understanding, incidents or alerts), e.g. on a collection box.")
@click.option("--role", type=click.Choice(["all", "collect", "pipeline"]), default="all", show_default=True,
              help="What this process runs: collect (intake only), pipeline (understanding, stories, incidents, "
                   "alerts; on a PostgreSQL database one process leads, others stand by and take over) or all.")
@click.pass_context
def run(ctx: click.Context, duration: float | None, verbose: bool, intake_only: bool, role: str) -> None:
    """Run the headless daemon: collectors and the pipeline, logging to the desk home.

    SIGINT/SIGTERM finish the write in flight and exit cleanly.
    Example: yuqing --home ./desk run
    Server mode: yuqing --database postgresql://desk@db/desk run --role pipeline
    """
    from storage.dburl import is_server

    from yuqing.pipeline import build_run

    if duration is not None and duration <= 0:
        raise click.BadParameter(f"must be more than 0 seconds, got {duration:g}", param_hint="--for")
    if intake_only:
        if role == "pipeline":
            raise click.BadParameter("--intake-only is --role collect", param_hint="--role")
        role = "collect"
    cfg = load_config_or_exit(ctx)
    check_desk_db(cfg.home.db_target, must_exist=False)
    if role == "all" or not is_server(cfg.home.db_target):  # on a server, role processes share the database
        hold_desk_lock(cfg.home.db_target)
    if role != "collect":  # the pipeline needs the classifier's data files: name a broken one now
        _check_classifier_files(cfg.home.path)
    setup_logging_or_exit(cfg.home, verbose=verbose)
    with db_errors(cfg.home.db_target):
        desk_run = build_run(cfg, pipeline=role != "collect", role=role)
        asyncio.run(desk_run.run(duration=duration, install_signals=True))


def _check_classifier_files(home_path) -> None:
    from classifiers.gazetteer import GazetteerError
    from yuqing.classify_io import ClassifyDataError, load_routing, load_schemes
    from yuqing.gazetteer_io import gazetteer_dir, load_gazetteer

    try:
        gaz = load_gazetteer(gazetteer_dir(home_path))
        load_schemes(home_path, [(t.name, *t.short_names) for t in gaz.towns])
        load_routing(home_path, gaz)
    except (ClassifyDataError, GazetteerError) as exc:
        fail(str(exc))
