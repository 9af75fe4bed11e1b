"""Wiring of the pipeline for `yuqing run` and the demo: what it is built from a desk home.

The classifier comes from the home's data files and model cache, the incident service
and the release clock from desk.toml; :func:`build_run` adds the pipeline's stages to
the daemon.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable

from yuqing.config import DeskConfig
from yuqing.daemon import DeskRun, Stage


def desk_pipeline(db_path: Path, home_path: Path | None, *, clock: Callable[[], datetime], policy=None,
                  triggers=None, auto_confirm_releases: bool = False):
    """A :class:`pipeline.stages.DeskPipeline` on the desk database, with the home's classifier
    (a missing topic model is trained in a child process). Call it in the thread that runs it."""
    from pipeline.schema import all_migrations
    from pipeline.stages import DeskPipeline
    from responders.incidents import IncidentService
    from storage.db import open_db
    from yuqing.classify_io import load_classifier

    db = open_db(db_path, all_migrations())
    try:
        classifier = load_classifier(home_path, train_in_child=True, database=db_path)
    except BaseException:
        db.conn.close()
        raise
    tune_gc()
    return DeskPipeline(db, clock=clock, classifier=classifier,
                        incidents=IncidentService(db, policy, clock=clock), triggers=triggers,
                        auto_confirm_releases=auto_confirm_releases)


GC_THRESHOLD = (20_000, 20, 20)


def tune_gc() -> None:
    """Collect cyclic garbage less often in the pipeline's process. The story window keeps
    hundreds of thousands of long-lived objects and a batch allocates tens of thousands more,
    so the default thresholds (700, 10, 10) spend a noticeable share of the pipeline's CPU on
    collections that find little: the pipeline makes little cyclic garbage. Thresholds
    already set higher are kept."""
    import gc

    gc.set_threshold(*(max(a, b) for a, b in zip(gc.get_threshold(), GC_THRESHOLD)))


def pipeline_runner(cfg: DeskConfig, clock, echo: Callable[[str], None] | None = None,
                    auto_confirm_releases: bool = False, role: str = "pipeline"):
    """The :class:`pipeline.runner.PipelineRunner` of a desk configuration."""
    from functools import partial

    from pipeline.runner import PipelineRunner
    from pipeline.triggers import parse_triggers
    from responders.alerts import parse_alerts_config
    from responders.alerts.config import DEFAULT_ALERTS_TOML
    from responders.policy import policy_from_mapping
    from storage.tomlfile import parse_toml
    from yuqing.alert_duty import duty_source, people_source

    pipeline_cfg = cfg.sections.get("pipeline", {})
    make = partial(desk_pipeline, cfg.home.db_target, cfg.home.path, clock=clock,
                   policy=policy_from_mapping(cfg.sections.get("clock")),
                   triggers=parse_triggers(cfg.sections.get("triggers")),
                   auto_confirm_releases=bool(pipeline_cfg.get("auto_confirm_releases", auto_confirm_releases)))
    table = cfg.sections.get("alerts")
    if table is None:
        table = parse_toml(DEFAULT_ALERTS_TOML, "default [alerts]").get("alerts", {})
    alerts = parse_alerts_config(table, require_secrets=False)
    return PipelineRunner(make, db_path=cfg.home.db_target, clock=clock, alerts=alerts, timezone=cfg.timezone,
                          echo=echo, duty=duty_source(cfg.home.db_target, alerts),
                          people=people_source(cfg.home.db_target), role=role)


def build_run(cfg: DeskConfig, *, echo: Callable[[str], None] | None = None, pipeline: bool = True,
              **kwargs) -> DeskRun:
    """The daemon with its pipeline stages; ``pipeline=False`` runs intake only."""
    run = DeskRun(cfg, **kwargs)
    if not pipeline:
        return run
    runner = pipeline_runner(cfg, run.clock, echo=echo, role=run.role)
    run.before_start.append(runner.start)
    run.after_stop.append(runner.stop)
    run.stages.append(Stage("understand", runner.understand, 0.5))
    run.stages.append(Stage("clocks", runner.clocks, 1.0))
    run.runner = runner
    return run
