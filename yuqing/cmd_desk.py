"""`yuqing init` and `yuqing run`."""
from __future__ import annotations

import asyncio

import click

from yuqing.clictx import home_from, load_config_or_exit


@click.command()
@click.option("--force", is_flag=True, help="Overwrite desk.toml and sources.toml if they exist.")
@click.pass_context
def init(ctx: click.Context, force: bool) -> None:
    """Write a default desk home: desk.toml, sources.toml and the database.

    Example: yuqing --home ./desk init
    """
    from storage.db import open_db
    from yuqing.config import init_home, load_config
    from yuqing.pipeline import all_migrations

    home = home_from(ctx)
    written = init_home(home, force=force)
    for path in written:
        click.echo(f"wrote {path}")
    cfg = load_config(home)
    db = open_db(home.db_path, all_migrations())
    db.conn.close()
    from yuqing.classify_io import load_classifier

    load_classifier(home.path)  # trains and caches the topic model now, so the first item is fast
    click.echo(f"desk home ready: {home.path} ({len(cfg.sources)} sources, database {home.db_path.name})")


@click.command()
@click.option("--for", "duration", type=float, default=None, metavar="SECONDS",
              help="Stop after this many seconds (default: until SIGINT/SIGTERM).")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.option("--intake-only", is_flag=True,
              help="Run the collectors only (no understanding, incidents or alerts), e.g. on a collection box.")
@click.pass_context
def run(ctx: click.Context, duration: float | None, verbose: bool, intake_only: bool) -> None:
    """Run the headless daemon: collectors and the pipeline, logging to the desk home.

    SIGINT/SIGTERM finish the write in flight and exit cleanly.
    Example: yuqing --home ./desk run
    """
    from yuqing.logs import setup_logging
    from yuqing.pipeline import build_run

    cfg = load_config_or_exit(ctx)
    setup_logging(cfg.home, verbose=verbose)
    desk_run = build_run(cfg, pipeline=not intake_only)
    asyncio.run(desk_run.run(duration=duration, install_signals=True))
