"""Drives the pipeline from the daemon's event loop: its thread, the alert dispatcher, the outbox.

The pipeline runs in one thread of its own (its database connection and classifier live
there); the runner hands each batch's notices to the alert dispatcher and prints them,
and records on the incident timeline how their deliveries went. On a shared PostgreSQL
database only the leader (``pipeline.leader``) runs batches, clocks and the dispatcher; the
runner of a standby keeps its classifier loaded and tries to take the lead on every tick.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from datetime import tzinfo
from pathlib import Path
from typing import Callable

from pipeline.errors import NotLeader
from pipeline.leader import Leadership
from storage.db import connection_lost
from storage.dburl import as_target, redacted

log = logging.getLogger("yuqing.pipeline")


class PipelineRunner:
    """Drives a :class:`pipeline.stages.DeskPipeline` (built by ``make_pipeline`` in the pipeline
    thread) and an alert dispatcher configured by ``alerts`` (``responders.alerts.AlertsConfig``),
    which learns who is on duty from ``duty`` and how to reach them from ``people``."""

    def __init__(self, make_pipeline: Callable[[], object], *, db_path: Path, clock, alerts,
                 timezone: tzinfo, echo: Callable[[str], None] | None = None,
                 duty: Callable | None = None, people: Callable | None = None, role: str = "pipeline"):
        self.make_pipeline = make_pipeline
        self.db_path = as_target(db_path)
        self.clock = clock
        self.alerts = alerts
        self.duty = duty
        self.people = people
        self.timezone = timezone
        self.echo = echo
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="yuqing-pipeline")
        self.pipeline = None
        self.dispatcher = None
        self._opened = False
        self._tasks: set[asyncio.Task] = set()
        self._failing: set[tuple[str, str]] = set()  # (alert id, channel) whose failure is on the timeline
        self.leadership = Leadership(self.db_path, role)
        self._leading = asyncio.Lock()
        self._told_standby = False
        self._reconnect = False  # the pipeline was dropped with its lost connection: make a new one
        self.worker = f"{socket.gethostname()}:{os.getpid()}"  # names this process's understanding claims

    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    async def start(self) -> None:
        self.pipeline = await self._run(self.make_pipeline)  # the classifier is ready before any takeover
        await self._lead()

    async def _lead(self) -> bool:
        """Lead if this process may (always on SQLite; on a server when the leader lock is free):
        rebuild the window, start the dispatcher, hand over what the outbox holds. True when leading."""
        async with self._leading:
            if self._opened:
                return True
            if self.pipeline is None:  # still loading the classifier
                return False
            if not await self._run(self.leadership.try_take):
                if self.leadership.shared and not self._told_standby:
                    self._told_standby = True
                    who = await self._run(self.leadership.holder)
                    log.info("pipeline standing by: %s leads on %s", (who or {}).get("name", "another process"),
                             redacted(self.db_path))
                return False
            self._told_standby = False
            if self.leadership.shared:
                log.info("pipeline leader on %s: rebuilding the story window", redacted(self.db_path))
                self.pipeline.guard = self.leadership.check
            try:
                await self._run(self.pipeline.open)
                self.dispatcher = await self._make_dispatcher()
            except BaseException:
                await self._run(self.leadership.give_up)
                raise
            self._opened = True
            pending = await self._run(self.pipeline.pending_notices)
            if pending:
                log.info("%d notice(s) decided before the last stop were never handed over: sending now", len(pending))
                await self._announce(pending)
            return True

    async def _step_down(self, exc: BaseException) -> None:
        """This process lost the leader lock (or its connection): stop writing, stop the
        dispatcher, stand by."""
        if self._opened:
            log.warning("pipeline no longer leads (%s): standing by", " ".join(str(exc).split())[:300])
        async with self._leading:
            self._opened = False
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            if self.dispatcher is not None:
                dispatcher, self.dispatcher = self.dispatcher, None
                try:
                    await dispatcher.aclose()
                except Exception:  # noqa: BLE001 - its connection may be gone too; the next leader resends
                    log.exception("stopping the alert dispatcher failed")
            await self._run(self.leadership.give_up)

    async def _make_dispatcher(self):
        from responders.alerts import AlertDispatcher

        dispatcher = AlertDispatcher(self.alerts, clock=self.clock, on_delivery=self._on_delivery,
                                     db=self.db_path, incident_open=self._incident_open,
                                     duty=self.duty, people=self.people)
        await dispatcher.__aenter__()
        return dispatcher

    def _incident_open(self, incident_id) -> bool:
        """For the dispatcher (rarely: after a breaking alert's retries ran out)."""
        from responders.incidents import incident_open
        from storage.db import connect

        db = connect(self.db_path, readonly=True)
        try:
            return incident_open(db, int(incident_id))
        finally:
            db.conn.close()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.dispatcher is not None:
            await self.dispatcher.aclose()
        if self.pipeline is not None:
            await self._run(self.pipeline.close)
        await self._run(self.leadership.give_up)
        self._thread.shutdown(wait=True)

    async def understand(self) -> None:
        if self.pipeline is None and self._reconnect:  # fails (and is retried) while the server is away
            self.pipeline = await self._run(self.make_pipeline)
            self._reconnect = False
        if not await self._lead():
            if self.leadership.shared and self.pipeline is not None:
                await self._understand_ahead()
            return
        try:
            while True:  # drain what intake stored, a batch at a time
                await self._announce(await self._run(self.pipeline.step))
                if not self.pipeline.last_batch:
                    break
        except NotLeader as exc:
            await self._step_down(exc)
        except Exception as exc:
            if not await self._reconnected(exc):
                raise

    async def _reconnected(self, exc: Exception) -> bool:
        """After a failed step: when the server database's connection is lost for good, stop
        leading and drop this pipeline (a new one, with a new connection, is made on the next
        tick and leads again when it may). True when that was the failure."""
        if self.pipeline is None or not self.leadership.shared or not connection_lost(self.pipeline.db):
            return False
        await self._step_down(exc)
        old, self.pipeline, self._reconnect = self.pipeline, None, True
        try:
            await self._run(old.close)
        except Exception:  # noqa: BLE001 - the connection is gone already
            pass
        return True

    async def _understand_ahead(self) -> None:
        """A standby classifies items ahead of the leader, a chunk per tick (so it still tries the
        lead every tick); a failure here must not hold up a takeover."""
        try:
            await self._run(self.pipeline.understand_ahead, self.worker)
        except Exception as exc:  # noqa: BLE001 - the leader classifies what is left undone
            if not await self._reconnected(exc):
                log.warning("understanding ahead of the leader failed: %s", exc)

    async def clocks(self) -> None:
        if not self._opened:
            return
        try:
            await self._announce(await self._run(self.pipeline.clock_step))
        except NotLeader as exc:
            await self._step_down(exc)
            return
        except Exception as exc:
            if not await self._reconnected(exc):
                raise
            return
        await self.dispatcher.tick(wait=False)  # a robot that hangs must not hold up the clocks

    async def _announce(self, notices) -> None:
        from responders.alerts import Alert

        for n in notices:
            stamp = self.clock().astimezone(self.timezone).strftime("%m-%d %H:%M")
            log.info("%s: %s", n.title, n.body)
            if self.echo:
                self.echo(f"[{stamp}] {n.title}\n          {n.body}")
            alert = Alert.new(key=n.key or n.title, lane=n.lane, title=n.title, created_at=self.clock(),
                              body_text=f"{n.title}\n{n.body}", body_markdown=f"### {n.title}\n\n{n.body}",
                              severity=n.severity, incident_id=n.incident_id, item_ids=n.item_ids,
                              topics=n.topics, towns=n.towns)
            task = asyncio.create_task(self._hand_over(n, alert))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _hand_over(self, notice, alert) -> None:
        await self.dispatcher.submit(alert, wait=False)  # stored by the dispatcher before it sends
        try:
            await self._run(self.pipeline.notice_sent, notice)
        except Exception:  # noqa: BLE001 - the notice is repeated at the next start; dedup drops it
            log.exception("could not clear notice %s from the outbox", notice.outbox_id)

    async def _on_delivery(self, alert, channel, ok, error) -> None:
        if alert.incident_id is None or channel == "console":
            return
        # a breaking alert is retried for as long as its incident is open: the timeline gets
        # its first failure per channel, the recovery and a final give-up, not every retry
        streak = (alert.id, channel)
        if ok or "放弃发送" in (error or ""):  # the streak ends: success, or given up
            self._failing.discard(streak)
        elif streak in self._failing:
            return
        else:
            self._failing.add(streak)
        try:
            await self._run(self.pipeline.record_delivery, alert.incident_id, channel, ok, error, alert.title)
        except Exception:
            log.exception("could not record the delivery of %s", alert.id)
