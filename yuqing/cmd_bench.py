"""`yuqing bench`: run the benchmark suite (:mod:`bench.suite`)."""
from __future__ import annotations

import click


@click.command()
@click.option("--quick", is_flag=True, help="Smaller runs: 300 loopback sources, 100k items for search (minutes).")
@click.option("--only", default="", metavar="NAMES",
              help="Comma-separated subset: help,pipeline,pipeline_stress,fts,alerts,console,loopback, "
                   "and the server measures roles,stmt,scaleout,intake2,conns.")
@click.option("--database", "database", default=None, metavar="URL",
              help="An EMPTY PostgreSQL database (postgresql://user@host:port/dbname): measure per role on "
                   "SQLite and on it side by side (default set: roles,stmt,scaleout,intake2,conns,alerts). A database "
                   "holding a desk or anything else is refused; what the benchmark creates is dropped.")
@click.option("--items", type=click.IntRange(min=50), default=None, metavar="N",
              help="Items for the server measures (roles, stmt, scaleout, intake2) instead of their default "
                   "(quick 1,000-2,000; full 3,000-6,000).")
@click.pass_context
def bench(ctx: click.Context, quick: bool, only: str, database: str | None, items: int | None) -> None:
    """Measure the desk on generated items: pipeline items/s next to rjieba-only segmentation,
    FTS search, alert latency, 1,000 loopback sources (CPU, RSS), console open, `--help` cold start.
    With --database: items/s per core of each role (intake, understanding, the stateful stage,
    the whole pipeline) on SQLite and PostgreSQL, counting the server's CPU; raw statement costs;
    two understanding workers against one; two intake processes against one; connections per
    `run --role`; alert latency on both. Prints one line per measure and a last line with the
    ratios against the goals. docs/scale.md turns the figures into a load model.

    \b
    Example:
      yuqing bench --quick
      yuqing bench --database postgresql://postgres@127.0.0.1:5432/yuqing_bench --quick
    """
    from bench import suite
    from bench.pgdesk import BenchDatabaseError

    names = [s.strip() for s in only.split(",") if s.strip()]
    unknown = [s for s in names if s not in suite.MEASURES]
    if unknown:
        raise click.BadParameter(f"unknown measure(s) {', '.join(unknown)}; known: {', '.join(suite.MEASURES)}",
                                 param_hint="--only")
    # `yuqing --database URL bench` (the global option) means the same; the environment's
    # YUQING_DATABASE_URL does not: a desk's own database is never benchmarked by accident.
    database = database or _global_option(ctx, "database")
    try:
        suite.run(quick, names or None, lambda line: click.echo(line), database=database, items=items)
    except BenchDatabaseError as exc:
        raise click.ClickException(str(exc)) from None


def _global_option(ctx: click.Context, name: str) -> str | None:
    """The group's option as typed on the command line (not from the environment)."""
    parent = ctx.parent
    if parent is None or parent.get_parameter_source(name) != click.core.ParameterSource.COMMANDLINE:
        return None
    return (parent.obj or {}).get(name)
