"""Alert dispatch cost, by hand: ``python -m bench.bench_alerts [N] [--sqlite | --database URL]``.

Submits N breaking alerts to a loopback 企业微信-style receiver (no rate limit) and
to the console channel, and reports submit latency (median / p95 / p99) and throughput.
The design goal is "item in a feed -> alert within the source interval + 2 s"; the
dispatcher's own share should be a few milliseconds. By default the dispatcher keeps its
state in memory; ``--sqlite`` persists it (dedup keys, queued sends, escalation timers) in a
temp desk file as the desk does, ``--database URL`` in an empty PostgreSQL database (refused
when it holds a desk or anything else; what the run creates is dropped at the end).
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # run as a script: python bench/bench_alerts.py
    sys.path.insert(0, str(HERE.parent))

from aiohttp import web  # noqa: E402

from responders.alerts import Alert, AlertDispatcher, parse_alerts_config  # noqa: E402


async def main(n: int, db=None, where: str = "memory") -> None:
    got = 0

    async def receive(request):
        nonlocal got
        await request.read()
        got += 1
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    app = web.Application()
    app.router.add_post("/send", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    cfg = parse_alerts_config({
        "channels": {"w": {"type": "wecom", "url": f"http://{host}:{port}/send?key=k", "rate_limits": []},
                     "console": {"type": "tui"}},
        "rules": [{"channels": ["w", "console"]}],
    })
    lat = []
    async with AlertDispatcher(cfg, clock=lambda: datetime.now(timezone.utc), db=db) as d:
        t0 = time.perf_counter()
        for i in range(n):
            a = Alert.new(key=f"k{i}", lane="breaking", title=f"汉台区舆情 {i}", body_markdown="正文 13812345678 " * 20,
                          created_at=datetime.now(timezone.utc), severity="较大")
            s = time.perf_counter()
            await d.submit(a)
            lat.append(time.perf_counter() - s)
        total = time.perf_counter() - t0
    await runner.cleanup()
    lat.sort()

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(round(q * (len(lat) - 1))))] * 1000

    print(f"{n} alerts, {got} received, state in {where}: {n / total:.0f} alerts/s; submit median "
          f"{statistics.median(lat) * 1000:.2f} ms, p95 {pct(0.95):.2f} ms, p99 {pct(0.99):.2f} ms")


def cli(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", nargs="?", type=int, default=1000, help="alerts to submit (default 1000)")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--sqlite", action="store_true", help="persist the dispatcher's state in a temp SQLite desk")
    where.add_argument("--database", default="", metavar="URL", help="persist it in this empty PostgreSQL database")
    args = ap.parse_args(argv)
    if args.database:
        from bench.pgdesk import BenchDatabaseError, claim
        from storage.dburl import redacted

        try:
            bench_db = claim(args.database)
        except BenchDatabaseError as exc:
            ap.exit(1, f"{exc}\n")
        try:
            asyncio.run(main(args.n, args.database, f"PostgreSQL {redacted(args.database)}"))
        finally:
            bench_db.fresh()
    elif args.sqlite:
        path = Path(tempfile.mkdtemp(prefix="yuqing-bench-alerts-")) / "desk.sqlite"
        asyncio.run(main(args.n, path, f"SQLite {path}"))
    else:
        asyncio.run(main(args.n))
    return 0


if __name__ == "__main__":
    sys.exit(cli())
