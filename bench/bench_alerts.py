"""Alert dispatch cost, by hand: ``python -m bench.bench_alerts [N]``.

Submits N breaking alerts to a loopback 企业微信-style receiver (no rate limit) and
to the console channel, and reports submit latency (median / p99) and throughput.
The design goal is "item in a feed -> alert within the source interval + 2 s"; the
dispatcher's own share should be a few milliseconds.
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import time
from datetime import datetime, timezone

from aiohttp import web

from responders.alerts import Alert, AlertDispatcher, parse_alerts_config


async def main(n: int) -> None:
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
    async with AlertDispatcher(cfg, clock=lambda: datetime.now(timezone.utc)) as d:
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
    print(f"{n} alerts, {got} received: {n / total:.0f} alerts/s; submit median {statistics.median(lat) * 1000:.2f} ms,"
          f" p99 {lat[int(len(lat) * 0.99) - 1] * 1000:.2f} ms")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
