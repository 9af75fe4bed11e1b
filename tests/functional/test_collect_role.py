"""Several collectors on one desk (`yuqing run --role collect`): source leases.

Two collectors against one loopback feed server fetch each source once per interval (the
server counts the requests per path); a collector that dies holding a lease blocks its source
only until the lease expires. The asyncio tests run real collectors, each on its own database
connection; the last one runs real `yuqing run --role collect` processes on PostgreSQL.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from monitor import store
from monitor.collector import LEASE_FACTOR, Collector
from monitor.fetch import FetchPolicy
from monitor.types import SourceSpec
from storage.db import connect
from tests.loopback import loopback  # noqa: F401 - fixture
from tests.responders_kit import Clock

T0 = datetime(2026, 6, 14, 2, 0, tzinfo=timezone.utc)


def _rss(k: int, n: int = 2) -> str:
    items = "".join(f"<item><guid>s{k}-{i}</guid><title>汉台区第{k}号源通知{i}</title>"
                    f"<link>https://news.example/s{k}/{i}</link><description>正文{i}</description></item>"
                    for i in range(n))
    return f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>{items}</channel></rss>"


def _feeds(loopback, n: int, interval: int = 60) -> list[SourceSpec]:  # noqa: F811
    for k in range(n):
        loopback.route(f"/s{k}.xml", _rss(k), etag=f'"v{k}"')
    return [SourceSpec(id=f"s{k}", name=f"源{k}", url=loopback.url(f"/s{k}.xml"), interval=interval)
            for k in range(n)]


async def _one_interval(*collectors: Collector) -> None:
    """Let the collectors tick side by side until none of them finds a due source."""
    while True:
        started = [t for ts in await asyncio.gather(*(c.tick() for c in collectors)) for t in ts]
        if not started:
            return
        await asyncio.gather(*started)


async def test_two_collectors_fetch_each_source_once_per_interval(pg_url, loopback):  # noqa: F811
    n = 12
    specs = _feeds(loopback, n)
    clock = Clock(T0)
    # A small claim per tick (2 x total_concurrency), so both collectors get a share of every interval.
    policy = FetchPolicy(per_host_spacing=0, per_host_concurrency=4, total_concurrency=2)
    async with Collector(pg_url, clock=clock, jitter=0, policy=policy) as a, \
            Collector(pg_url, clock=clock, jitter=0, policy=policy) as b:
        await a.sync_sources(specs)
        for k in range(1, 5):
            await _one_interval(a, b)
            assert [loopback.hits(f"/s{i}.xml") for i in range(n)] == [k] * n, f"interval {k}"
            clock.advance(seconds=30)  # half an interval: nothing is due
            await _one_interval(a, b)
            assert [loopback.hits(f"/s{i}.xml") for i in range(n)] == [k] * n
            clock.advance(seconds=30)
        assert a.stats.checks + b.stats.checks == 4 * n
        assert a.stats.checks > 0 and b.stats.checks > 0, "both collectors share the sources"
        assert await a.read(store.count_items) == 2 * n  # every item stored once
        leased = await a.read(lambda db: db.execute(
            "SELECT count(*) FROM sources WHERE lease_owner IS NOT NULL").fetchone()[0])
        assert leased == 0  # every fetch's write ended its lease


async def test_two_collectors_store_a_shared_link_once(pg_url, loopback):  # noqa: F811
    """Sources fetched side by side by two collectors all carry the same three links: each link is
    stored once, every other source's item is a sighting of it (the writes queue on the server)."""
    n = 6
    for k in range(n):
        items = "".join(f"<item><guid>s{k}-{i}</guid><title>汉台区通报{i}</title>"
                        f"<link>https://news.example/shared/{i}?utm_source=s{k}</link></item>"
                        for i in range(3))
        loopback.route(f"/s{k}.xml", "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
                       f"<title>t</title>{items}</channel></rss>")
    specs = [SourceSpec(id=f"s{k}", name=f"源{k}", url=loopback.url(f"/s{k}.xml"), interval=60) for k in range(n)]
    policy = FetchPolicy(per_host_spacing=0, per_host_concurrency=8, total_concurrency=2)
    async with Collector(pg_url, jitter=0, policy=policy) as a, Collector(pg_url, jitter=0, policy=policy) as b:
        await a.sync_sources(specs)
        await _one_interval(a, b)
        assert a.stats.checks + b.stats.checks == n
        counts = await a.read(lambda db: db.execute(
            "SELECT count(*), count(canonical_url), count(DISTINCT canonical_url) FROM items").fetchone())
        sightings = await a.read(lambda db: db.execute("SELECT count(*) FROM item_sightings").fetchone()[0])
    assert tuple(counts) == (3 * n, 3, 3)  # every source's item kept; the link held by the first only
    assert sightings == 3 * (n - 1)


async def test_a_dead_collectors_lease_holds_its_source_only_until_it_expires(tmp_path, loopback, backend):  # noqa: F811
    specs = _feeds(loopback, 2)
    clock = Clock(T0)
    async with Collector(backend or tmp_path / "desk.sqlite", clock=clock, jitter=0,
                         policy=FetchPolicy(per_host_spacing=0)) as col:
        await col.sync_sources(specs)
        # A collector on another machine claimed s0 and died before fetching it.
        claimed = await col.read(lambda db: store.claim_due_sources(db, T0, "gone:1:dead", 90.0, exclude=["s1"]))
        assert [spec.id for spec, _ in claimed] == ["s0"]
        assert [o.source_id for o in await col.run_once()] == ["s1"]
        clock.advance(seconds=89)  # s1 is due again; s0's lease still runs
        assert [o.source_id for o in await col.run_once()] == ["s1"]
        assert loopback.hits("/s0.xml") == 0
        clock.advance(seconds=2)  # the lease has expired: this collector takes s0
        assert sorted(o.source_id for o in await col.run_once()) == ["s0"]
        assert loopback.hits("/s0.xml") == 1
        row = await col.read(store.source_row, "s0")
        assert row["lease_owner"] is None and row["lease_until"] is None
        assert datetime.fromisoformat(row["next_check_at"]) == clock() + timedelta(seconds=60)


async def test_a_fetch_waiting_for_its_hosts_turn_keeps_its_lease(tmp_path, loopback, backend):  # noqa: F811
    specs = _feeds(loopback, 2)
    loopback.route("/s0.xml", _rss(0), delay=1.0)  # one slot for the host: s1 waits for s0
    clock = Clock(T0)
    policy = FetchPolicy(per_host_spacing=0, per_host_concurrency=1, total_timeout=10)
    async with Collector(backend or tmp_path / "desk.sqlite", clock=clock, jitter=0, policy=policy) as col:
        await col.sync_sources(specs)
        tasks = await col.tick()
        assert len(tasks) == 2
        clock.advance(seconds=col.lease_seconds * 0.6)  # past half the lease, both still in flight
        assert await col.tick() == []
        leases = {sid: (await col.read(store.source_row, sid))["lease_until"] for sid in ("s0", "s1")}
        assert {datetime.fromisoformat(t) for t in leases.values()} == {clock() + timedelta(seconds=col.lease_seconds)}
        # Another collector finds nothing to take while this one lives, though the first leases ran out.
        clock.advance(seconds=col.lease_seconds * 0.6)
        assert await col.read(lambda db: store.claim_due_sources(db, clock(), "other", 20)) == []
        await asyncio.gather(*tasks)
    assert loopback.hits("/s0.xml") == loopback.hits("/s1.xml") == 1


# ---------------------------------------------------------------- real processes

INTERVAL = 2  # seconds, per source
TOTAL_TIMEOUT = 4  # seconds, per fetch: a lease lasts LEASE_FACTOR times this
LEASE = LEASE_FACTOR * TOTAL_TIMEOUT


def _home(path, base_url: str, n: int):
    path.mkdir()
    (path / "desk.toml").write_text(
        '[desk]\ndistrict_code = "610702"\ndistrict_name = "汉台区"\ntimezone = "Asia/Shanghai"\n'
        f"[fetch]\nper_host_concurrency = 8\nper_host_spacing = 0\ntotal_concurrency = 2\n"
        f"total_timeout = {TOTAL_TIMEOUT}\n", encoding="utf-8")
    (path / "sources.toml").write_text("".join(
        f'[sources.s{k}]\nurl = "{base_url}/s{k}.xml"\nkind = "rss"\ninterval = {INTERVAL}\n\n'
        for k in range(n)), encoding="utf-8")
    return path


def _collector(home, url: str) -> subprocess.Popen:
    with open(home / "stderr.txt", "ab") as err:
        return subprocess.Popen([sys.executable, "-m", "yuqing", "--home", str(home), "--database", url,
                                 "run", "--role", "collect"],
                                stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"waited {seconds:g} s for {what}")


def test_role_collect_runs_the_collectors_only(tmp_path, loopback, backend):  # noqa: F811
    loopback.route("/s0.xml", _rss(0))
    home = _home(tmp_path / "desk", loopback.url("").rstrip("/"), 1)
    run = subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), "run", "--role", "collect",
                          "--for", "3"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "claims due sources with leases of 8 s" in "".join(p.read_text("utf-8") for p in (home / "logs").glob("*.log"))
    db = connect(backend or home / "desk.sqlite")
    try:
        assert store.count_items(db) == 2
        # No understanding ran: the pipeline would have analysed both items by now.
        assert not db["item_analysis"].exists() or not db.execute("SELECT count(*) FROM item_analysis").fetchone()[0]
    finally:
        db.close()


def test_collect_processes_share_sources_and_take_over_a_killed_ones(tmp_path, pg_url, loopback):  # noqa: F811
    n = 6
    for k in range(n):
        # No validators: every check is a full fetch; a slow answer keeps each fetch in flight a while.
        loopback.route(f"/s{k}.xml", _rss(k), delay=0.4)
    base = loopback.url("").rstrip("/")
    home_a, home_b = _home(tmp_path / "a", base, n), _home(tmp_path / "b", base, n)
    procs = [_collector(home_a, pg_url)]
    try:
        _wait_for(lambda: loopback.hits("/s0.xml") >= 1, 60, "the first collector's first fetch")
        procs.append(_collector(home_b, pg_url))
        # Both run for several intervals: no source is ever fetched twice within one interval.
        _wait_for(lambda: min(loopback.hits(f"/s{k}.xml") for k in range(n)) >= 4, 90, "four intervals")
        for k in range(n):
            times = [r["time"] for r in loopback.requests(f"/s{k}.xml")]
            gaps = [b - a for a, b in zip(times, times[1:])]
            assert min(gaps) >= INTERVAL - 0.5, f"s{k} fetched twice within an interval: gaps {gaps}"
        procs[1].send_signal(signal.SIGTERM)  # a clean stop releases its leases
        assert procs[1].wait(30) == 0, (home_b / "stderr.txt").read_text("utf-8")[-2000:]
        # The one left stalls on s0 and is killed mid-fetch, holding s0's lease.
        before = loopback.hits("/s0.xml")
        loopback.route("/s0.xml", _rss(0), delay=60)
        _wait_for(lambda: loopback.hits("/s0.xml") > before, 30, "a fetch of s0")
        stalled_at = loopback.requests("/s0.xml")[-1]["time"]
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait(30)
        loopback.route("/s0.xml", _rss(0), delay=0.4)
        procs.append(_collector(home_b, pg_url))
        _wait_for(lambda: loopback.hits("/s0.xml") > before + 1, 60, "another collector to take s0 over")
        taken_at = loopback.requests("/s0.xml")[before + 1]["time"]
        assert taken_at - stalled_at >= LEASE - 1, "s0 was taken while the dead collector's lease ran"
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(30)
    db = connect(pg_url)
    try:
        assert store.count_items(db) == 2 * n  # every item once, whoever fetched it
    finally:
        db.close()
