"""The headless desk: the collector ticking under APScheduler, plus the pipeline stages.

The scheduler only ticks; the database decides which sources are due. Stages
(classification, stories, incidents, alerts) are callables the pipeline adds;
each runs on its own tick and must be restartable from what is stored.
"""
from __future__ import annotations

import asyncio
import logging
import signal
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Awaitable, Callable

from monitor.collector import CheckOutcome, Collector
from storage.db import is_disk_full
from storage.dburl import redacted
from storage.timeutil import utcnow
from yuqing.config import DeskConfig

log = logging.getLogger("yuqing.daemon")

#: The longest pause of a failing pipeline stage: it resumes within this long once it can.
STAGE_MAX_BACKOFF = 60.0


@dataclass
class Stage:
    """A periodic job of the pipeline: ``fn()`` is awaited every ``seconds``."""

    name: str
    fn: Callable[[], Awaitable[object]]
    seconds: float = 1.0


@dataclass
class DeskRun:
    cfg: DeskConfig
    clock: Callable[[], datetime] = utcnow
    tick_seconds: float = 1.0
    on_outcome: Callable[[CheckOutcome], None] | None = None
    transform: Callable | None = None
    stages: list[Stage] = field(default_factory=list)
    collector: Collector | None = None
    stop_event: asyncio.Event | None = None
    before_start: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    after_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    runner: object | None = None
    role: str = "all"  # "collect": intake only; "pipeline": no intake (yuqing run --role)

    async def run(self, *, duration: float | None = None, install_signals: bool = False) -> Collector:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self.stop_event = self.stop_event or asyncio.Event()
        loop = asyncio.get_running_loop()
        if install_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self._on_signal, sig)
        collector = None
        if self.role != "pipeline":
            collector = Collector(
                self.cfg.home.db_target, policy=self.cfg.fetch_policy(), clock=self.clock,
                transform=self.transform, on_outcome=self.on_outcome,
            )
            self.collector = collector
            await collector.start()
        scheduler = AsyncIOScheduler(timezone="UTC")
        started = []
        hooks_task = None
        try:
            if collector is None:
                log.info("desk pipeline running (role pipeline), database %s", redacted(self.cfg.home.db_target))
            else:
                await collector.sync_sources(self.cfg.sources)
                enabled = sum(1 for s in self.cfg.sources if s.enabled)
                log.info("desk running: %d sources (%d enabled), database %s", len(self.cfg.sources), enabled,
                         redacted(self.cfg.home.db_target))
                scheduler.add_job(self._guard(Stage("collector", collector.tick)), "interval",
                                  seconds=self.tick_seconds, id="collector",
                                  max_instances=1, coalesce=True, next_run_time=datetime.now(tz=utcnow().tzinfo))
            for stage in self.stages:
                scheduler.add_job(self._guard(stage), "interval", seconds=stage.seconds, id=stage.name,
                                  max_instances=1, coalesce=True)
            scheduler.start()
            # Slow starts (loading models) happen while intake already runs.
            hooks_task = asyncio.create_task(self._start_hooks(started))
            if duration is None:
                await self.stop_event.wait()
            else:
                try:
                    await asyncio.wait_for(self.stop_event.wait(), timeout=duration)
                except asyncio.TimeoutError:
                    pass
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=False)
            if hooks_task is not None and not hooks_task.done():
                hooks_task.cancel()
                await asyncio.gather(hooks_task, return_exceptions=True)
            if collector is not None:
                await collector.close()
            if started:
                for hook in self.after_stop:
                    try:
                        await hook()
                    except Exception:
                        log.exception("stopping a pipeline part failed")
            if install_signals:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)
            if collector is None:
                log.info("desk pipeline stopped")
            else:
                log.info("desk stopped: %d checks, %d new items, %d errors", collector.stats.checks,
                         collector.stats.new_items, collector.stats.errors)
        return collector

    async def _start_hooks(self, started: list) -> None:
        for hook in self.before_start:
            try:
                await hook()
            except Exception:
                log.exception("starting a pipeline part failed; intake goes on without it")
                return
            started.append(hook)

    def _on_signal(self, sig) -> None:
        log.info("received %s: finishing the write in flight and stopping", signal.Signals(sig).name)
        self.stop_event.set()

    def stop(self) -> None:
        if self.stop_event is not None:
            self.stop_event.set()

    @staticmethod
    def _guard(stage: Stage):
        """Run ``stage`` on its ticks; after a failure skip ticks, twice as long after each
        further one (up to STAGE_MAX_BACKOFF). One log line per streak of failures: a full
        disk without a traceback, anything else with one (a bug)."""
        fails, not_before = 0, 0.0

        async def job():
            nonlocal fails, not_before
            if time.monotonic() < not_before:
                return
            try:
                await stage.fn()
            except asyncio.CancelledError:  # shutting down: the job just ends
                return
            except Exception as exc:  # a stage failing must not stop intake
                fails += 1
                not_before = time.monotonic() + min(stage.seconds * 2 ** min(fails, 30), STAGE_MAX_BACKOFF)
                if fails > 1:
                    log.debug("pipeline stage %s failed again (%d in a row): %s", stage.name, fails, exc)
                elif is_disk_full(exc):
                    log.error("pipeline stage %s cannot write the database (disk or database full): %s; "
                              "retrying with backoff, nothing is lost", stage.name, " ".join(str(exc).split())[:300])
                else:
                    log.exception("pipeline stage %s failed; retrying with backoff", stage.name)
                return
            if fails:
                log.warning("pipeline stage %s works again after %d failed attempts", stage.name, fails)
                fails, not_before = 0, 0.0
        return job
