"""The `yuqing run` pipeline: which tables exist and which stages run after intake."""
from __future__ import annotations

from yuqing.config import DeskConfig
from yuqing.daemon import DeskRun


def all_migrations() -> list:
    """Every package's migration set, in dependency order."""
    from monitor.store import migrations as monitor_migrations

    sets = [monitor_migrations]
    return sets


def build_run(cfg: DeskConfig, **kwargs) -> DeskRun:
    return DeskRun(cfg, **kwargs)
