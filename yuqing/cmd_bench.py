"""`yuqing bench`: run the benchmark suite (bench/suite.py) from a source checkout."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import click

SUITE = Path(__file__).resolve().parents[1] / "bench" / "suite.py"


def load_suite():
    if not SUITE.is_file():
        raise click.ClickException(
            f"the benchmark suite is not installed ({SUITE} is missing): run `yuqing bench` from a source checkout")
    spec = importlib.util.spec_from_file_location("yuqing_bench_suite", SUITE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


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
    suite = load_suite()
    names = [s.strip() for s in only.split(",") if s.strip()]
    unknown = [s for s in names if s not in suite.MEASURES]
    if unknown:
        raise click.BadParameter(f"unknown measure(s) {', '.join(unknown)}; known: {', '.join(suite.MEASURES)}",
                                 param_hint="--only")
    suite.run(quick, names or None, lambda line: click.echo(line))
