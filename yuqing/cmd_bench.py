"""`yuqing bench`: run the benchmark suite (:mod:`bench.suite`)."""
from __future__ import annotations

import click


@click.command()
@click.option("--quick", is_flag=True, help="Smaller runs: 300 loopback sources, 100k items for search (minutes).")
@click.option("--only", default="", metavar="NAMES",
              help="Comma-separated subset: help,pipeline,pipeline_stress,fts,alerts,console,loopback.")
def bench(quick: bool, only: str) -> None:
    """Measure the desk on generated items: pipeline items/s next to rjieba-only segmentation,
    FTS search, alert latency, 1,000 loopback sources (CPU, RSS), console open, `--help` cold start.
    Prints one line per measure and a last line with the ratios against the goals.

    Example: yuqing bench --quick
    """
    from bench import suite

    names = [s.strip() for s in only.split(",") if s.strip()]
    unknown = [s for s in names if s not in suite.MEASURES]
    if unknown:
        raise click.BadParameter(f"unknown measure(s) {', '.join(unknown)}; known: {', '.join(suite.MEASURES)}",
                                 param_hint="--only")
    suite.run(quick, names or None, lambda line: click.echo(line))
