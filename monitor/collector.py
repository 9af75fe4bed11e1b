"""The collector: fetch due sources concurrently, parse, store — one feed never waits for another.

A tick claims from the database the sources that are due (``next_check_at``) and
not leased to another collector, and starts a task for each; it does not wait for
them. Fetches run on the event loop (aiohttp); parsing and every database access run
in one writer thread, so the loop never blocks on the database.

Several collectors (``yuqing run --role collect`` on several machines, PostgreSQL)
share the due sources through leases (:func:`monitor.store.claim_due_sources`): a
claimed source is this collector's until its fetch is written or the lease runs out
(``LEASE_FACTOR`` times the fetch's total timeout), so a collector that dies holds its
sources no longer than that. A fetch still waiting for its host's turn after half its
lease has the lease renewed by the next tick: a live collector keeps what it claimed.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Sequence

from monitor import store
from monitor.exceptions import MonitorError, ParseError, RetrieveError
from monitor.fetch import Fetcher, FetchPolicy
from monitor.schedule import DEFAULT_MAX_BACKOFF, next_check_at
from monitor.types import ParsedItem, SourceSpec
from storage.db import dialect, is_disk_full, open_db
from storage.timeutil import utcnow
from storage.dburl import as_target

log = logging.getLogger("yuqing.collector")

#: The longest wait after failures that were the database's (disk full), not the source's:
#: intake resumes within this long once space returns.
FULL_MAX_BACKOFF = 300.0

#: A lease lasts this many times the fetch's total timeout: a fetch always ends (or times out)
#: well within it, and a dead collector's sources are taken over soon after.
LEASE_FACTOR = 2.0
#: Sources this collector holds at most (in flight, claimed), as a multiple of the fetcher's
#: total concurrency: enough to keep it busy, the rest left for other collectors.
CLAIM_FACTOR = 2

Transform = Callable[[SourceSpec, Sequence[ParsedItem]], Sequence[ParsedItem]]


@dataclass(frozen=True)
class CheckOutcome:
    source_id: str
    status: str  # new | not_modified | unchanged | error
    new_ids: tuple[int, ...] = ()
    updated: int = 0
    duplicates: int = 0
    parsed: int = 0
    error: str | None = None
    warnings: tuple[str, ...] = ()
    elapsed: float = 0.0
    sightings: int = 0  # of new_ids, items whose link another source's item already has
    edited: int = 0  # known items re-served with another title or text
    clamped: int = 0  # new items whose publication time was clamped


@dataclass
class CollectorStats:
    checks: int = 0
    errors: int = 0
    new_items: int = 0
    outcomes: list[CheckOutcome] = field(default_factory=list)


def describe_error(exc: BaseException) -> str:
    """``Type: message`` on one line, for source health."""
    msg = " ".join(str(exc).split()) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {msg}"


class Collector:
    def __init__(
        self,
        db_path: str | Path,
        *,
        policy: FetchPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        transform: Transform | None = None,
        on_outcome: Callable[[CheckOutcome], None] | None = None,
        jitter: float = 0.1,
        keep_outcomes: int = 0,
    ):
        self.db_path = as_target(db_path)
        self.policy = policy or FetchPolicy()
        self.clock = clock
        self.transform = transform
        self.on_outcome = on_outcome
        self.jitter = jitter
        self.keep_outcomes = keep_outcomes
        self.stats = CollectorStats()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="yuqing-writer")
        self._db = None
        self._fetcher: Fetcher | None = None
        self._inflight: dict[str, asyncio.Task] = {}
        self._leased_at: dict[str, datetime] = {}  # in-flight source -> when its lease was taken or renewed
        self._closing = False
        # Errors the database could not record (disk full): source -> (error streak, next check),
        # so the backoff still grows while nothing can be written.
        self._held: dict[str, tuple[int, datetime]] = {}
        self._unwritable = False  # said once per streak of failed writes
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"  # the leaseholder name
        self.lease_seconds = LEASE_FACTOR * self.policy.total_timeout

    # -- lifecycle -------------------------------------------------------
    async def start(self) -> "Collector":
        self._db = await self._in_writer(open_db, self.db_path, [store.migrations])
        if dialect(self._db) == "sqlite":
            # A SQLite desk has one collector (the desk lock): leases left by a killed one are void.
            await self._in_writer(store.release_leases, self._db)
        self._fetcher = Fetcher(self.policy)
        await self._fetcher.__aenter__()
        log.info("collector %s: claims due sources with leases of %g s", self.owner, self.lease_seconds)
        return self

    async def close(self) -> None:
        """Stop: drop fetches in flight, let the write in flight finish, close."""
        self._closing = True
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._fetcher is not None:
            await self._fetcher.__aexit__(None, None, None)
            self._fetcher = None
        # Waits for the transaction in flight (if any) to commit.
        await asyncio.get_running_loop().run_in_executor(None, self._writer.shutdown, True)
        if self._db is not None:
            try:  # the dropped fetches' sources: free for other collectors at once
                store.release_leases(self._db, self.owner)
            except Exception as exc:  # e.g. disk full or server gone: the leases simply expire
                log.warning("could not release this collector's leases: %s", describe_error(exc))
            self._db.conn.close()
            self._db = None

    async def __aenter__(self):
        return await self.start()

    async def __aexit__(self, *exc):
        await self.close()

    def _in_writer(self, fn, *args, **kwargs):
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._writer, lambda: fn(*args, **kwargs))

    # -- scheduling ------------------------------------------------------
    async def sync_sources(self, specs: Sequence[SourceSpec]) -> None:
        await self._in_writer(store.sync_sources, self._db, specs, self.clock())

    async def tick(self, exclude: Sequence[str] = ()) -> list[asyncio.Task]:
        """Claim due sources (not in flight, not leased to another collector, not in ``exclude``)
        up to this collector's capacity and start a check for each; return the new tasks."""
        if self._closing:
            return []
        now = self.clock()
        await self._renew(now)
        skip = list(self._inflight) + [sid for sid, (_, at) in self._held.items() if at > now] + list(exclude)
        room = CLAIM_FACTOR * self.policy.total_concurrency - len(self._inflight)
        try:
            due = await self._in_writer(store.claim_due_sources, self._db, now, self.owner, self.lease_seconds,
                                        limit=room, exclude=skip)
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            # Nothing can be written, leases included: check the due sources unleased (a fetch
            # twice is harmless while nothing is stored), each backing off on its own as it fails.
            self._cannot_write(exc)
            due = (await self._in_writer(store.due_sources, self._db, now, skip))[:max(room, 0)]
        started = []
        for spec, row in due:
            if spec.id in self._inflight or self._closing:
                continue
            task = asyncio.create_task(self._check_row(spec, row), name=f"check:{spec.id}")
            self._inflight[spec.id] = task
            self._leased_at[spec.id] = now
            task.add_done_callback(lambda _, sid=spec.id: self._forget(sid))
            started.append(task)
        return started

    def _forget(self, sid: str) -> None:
        self._inflight.pop(sid, None)
        self._leased_at.pop(sid, None)

    async def _renew(self, now: datetime) -> None:
        """Renew the leases of fetches in flight for half their lease or more (queued behind their
        host's other fetches), so no other collector takes those sources meanwhile."""
        old = [sid for sid, at in self._leased_at.items() if (now - at).total_seconds() >= self.lease_seconds / 2]
        if not old:
            return
        try:
            await self._in_writer(store.renew_leases, self._db, self.owner, old,
                                  now + timedelta(seconds=self.lease_seconds))
        except Exception as exc:  # e.g. disk full: the leases run out, at worst a source is fetched twice
            log.debug("could not renew leases: %s", describe_error(exc))
            return
        for sid in old:
            self._leased_at[sid] = now

    async def run_once(self) -> list[CheckOutcome]:
        """Check every due source once and wait for all of them (tests, `sources test`, benchmarks)."""
        outcomes: list[CheckOutcome] = []
        checked: set[str] = set()
        while tasks := await self.tick(exclude=list(checked)):  # claims are capped: claim until none is left
            checked.update(t.get_name().removeprefix("check:") for t in tasks)
            outcomes += await asyncio.gather(*tasks)
        return outcomes

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    # -- one source ------------------------------------------------------
    async def check(self, spec: SourceSpec) -> CheckOutcome:
        row = await self._in_writer(store.source_row, self._db, spec.id)
        return await self._check_row(spec, row or {})

    async def _check_row(self, spec: SourceSpec, row: dict) -> CheckOutcome:
        t0 = time.monotonic()
        streak = max(int(row.get("error_streak") or 0), self._held.get(spec.id, (0, None))[0])
        try:
            result = await self._fetcher.fetch(
                spec.url, etag=row.get("etag"), last_modified=row.get("last_modified")
            )
        except asyncio.CancelledError:
            raise
        except RetrieveError as exc:
            return await self._record_error(spec, streak, exc, t0)
        except Exception as exc:  # a bug in fetching must not stop the desk: record it loudly
            log.exception("unexpected error fetching %s", spec.id)
            return await self._record_error(spec, streak, exc, t0)
        now = self.clock()
        nxt = next_check_at(now, spec.interval, retry_after=result.retry_after, jitter=self.jitter, seed=spec.id)
        digest = store.body_hash(result.body or b"")
        if result.not_modified or digest == row.get("body_hash"):
            try:
                await self._in_writer(store.record_not_modified, self._db, spec.id, now, nxt)
            except MonitorError as exc:  # e.g. store.StoreFull
                return await self._record_error(spec, streak, exc, t0)
            self._written(spec.id)
            status = "not_modified" if result.not_modified else "unchanged"
            return self._done(CheckOutcome(spec.id, status, elapsed=time.monotonic() - t0))
        try:
            outcome = await self._in_writer(self._parse_and_store, spec, result, now, nxt, digest)
        except (ParseError, MonitorError) as exc:
            return await self._record_error(spec, streak, exc, t0)
        except Exception as exc:
            log.exception("unexpected error storing %s", spec.id)
            return await self._record_error(spec, streak, exc, t0)
        self._written(spec.id)
        parsed, warnings, stored = outcome
        for w in warnings[:5]:
            log.info("source %s: %s", spec.id, w)
        if stored.sightings or stored.edited or stored.clamped:
            log.info("source %s: %d new items, %d of them sightings of items other sources have (same link);"
                     " %d known items changed (versions kept); %d publication times clamped",
                     spec.id, len(stored.new_ids), stored.sightings, stored.edited, stored.clamped)
        return self._done(CheckOutcome(
            spec.id, "new", stored.new_ids, stored.updated, stored.duplicates, parsed, None,
            tuple(warnings), time.monotonic() - t0, stored.sightings, stored.edited, stored.clamped,
        ))

    def _parse_and_store(self, spec: SourceSpec, result, now: datetime, nxt: datetime, digest: str):
        from monitor.parsing import parse_document

        feed = parse_document(
            result.body or b"", kind=spec.kind, mapping=spec.mapping, fields=spec.fields or None,
            url=result.url, content_type=result.content_type, encoding=spec.encoding, fetched_at=now,
        )
        items: Sequence[ParsedItem] = feed.items
        if self.transform is not None:
            items = self.transform(spec, items)
        stored = store.store_fetch(
            self._db, spec, items, now=now, next_check=nxt, etag=result.etag,
            last_modified=result.last_modified, body_digest=digest,
        )
        return len(feed.items), list(feed.warnings), stored

    async def _record_error(self, spec: SourceSpec, streak: int, exc: BaseException, t0: float) -> CheckOutcome:
        now = self.clock()
        retry_after = getattr(exc, "retry_after", None)
        full = is_disk_full(exc)
        nxt = next_check_at(now, spec.interval, error_streak=streak + 1, retry_after=retry_after,
                            jitter=self.jitter, seed=spec.id,
                            max_backoff=FULL_MAX_BACKOFF if full else DEFAULT_MAX_BACKOFF)
        message = describe_error(exc)
        if full:
            self._cannot_write(exc)
        else:
            log.warning("source %s failed (%d in a row): %s", spec.id, streak + 1, message)
        try:
            await self._in_writer(store.record_error, self._db, spec.id, now, message, nxt)
            self._held.pop(spec.id, None)
        except Exception as write_exc:  # e.g. the disk is full: back off in memory instead
            self._held[spec.id] = (streak + 1, nxt)
            if is_disk_full(write_exc):
                self._cannot_write(write_exc)
            else:
                log.warning("could not record the error of source %s: %s", spec.id, describe_error(write_exc))
        return self._done(CheckOutcome(spec.id, "error", error=message, elapsed=time.monotonic() - t0))

    def _cannot_write(self, exc: BaseException) -> None:
        """One line for a whole streak of writes failing for want of space."""
        if not self._unwritable:
            self._unwritable = True
            log.error("the database cannot be written (disk or database full): %s; intake backs off and "
                      "retries, nothing is lost", " ".join(str(exc).split())[:300])

    def _written(self, source_id: str) -> None:
        self._held.pop(source_id, None)
        if self._unwritable:
            self._unwritable = False
            log.warning("the database can be written again: intake resumes")

    def _done(self, outcome: CheckOutcome) -> CheckOutcome:
        self.stats.checks += 1
        self.stats.new_items += len(outcome.new_ids)
        if outcome.status == "error":
            self.stats.errors += 1
        if self.keep_outcomes:
            self.stats.outcomes.append(outcome)
            del self.stats.outcomes[:-self.keep_outcomes]
        if self.on_outcome is not None:
            try:
                self.on_outcome(outcome)
            except Exception:  # a listener must not break collection
                log.exception("outcome listener failed")
        return outcome

    # -- reads for callers ----------------------------------------------
    async def read(self, fn, *args):
        """Run ``fn(db, *args)`` in the writer thread (the only thread touching the connection)."""
        return await self._in_writer(fn, self._db, *args)
