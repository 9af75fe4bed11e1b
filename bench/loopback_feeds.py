"""Serve N synthetic RSS feeds on 127.0.0.1 for the 1,000-source benchmark.

Run it in its own process, so that serving does not eat the collector's CPU::

    python -m bench.loopback_feeds -n 1000 --port 8765 --sources-toml /tmp/bench-sources.toml
    # prints the base URL, then serves until killed (Ctrl-C / SIGTERM)

Endpoints
- Feeds are spread over several loopback addresses (127.0.0.1, 127.0.0.2, ...; default
  min(n, 250) hosts, one port) so per-host politeness does not serialise the benchmark;
  use :func:`feed_urls` or the written sources.toml for the URLs.
- ``GET /feed/{i}.xml`` (i = 0..n-1): RSS 2.0, the newest ``items`` entries (default 20).
  Feed i gets a new entry every ``period`` seconds (default 600) at its own phase, so about
  n/period feeds change per second. ``ETag`` and ``Last-Modified`` are set; a matching
  ``If-None-Match`` / ``If-Modified-Since`` gets 304. An entry's ``pubDate`` is the instant
  it appeared in the feed: alert latency = alert time - pubDate.
- ``POST /feed/{i}/publish`` (optional JSON ``{"title": ..., "text": ...}``): add an entry
  to feed i now; answers JSON ``{"guid", "published", "title"}`` (for planted-item latency).
- ``GET /stats``: JSON counters (requests, 200s, 304s, bytes sent, uptime).
- ``GET /sources.toml``: a sources file with one source per feed (``?interval=300``).

From Python (inside a running event loop)::

    runner, base_url = await serve(1000)      # port 0 = a free port
    urls = feed_urls(base_url, 1000)          # spread over 250 loopback hosts 127.0.0.1..
    ...
    await runner.cleanup()
"""
from __future__ import annotations

import argparse
import asyncio
import math
import random
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from xml.sax.saxutils import escape

from aiohttp import web

# Official divisions of 汉台区 (facts), and a few departments, for realistic-looking text.
PLACES = (
    "北关街道", "东大街街道", "汉中路街道", "中山街街道", "东关街道", "龙江街道", "七里街道",
    "鑫源街道", "铺镇", "武乡镇", "河东店镇", "宗营镇", "老君镇", "汉王镇", "徐望镇",
)
UNITS = ("区住建局", "区教体局", "区卫计局", "区人社局", "区民政局", "区财政局", "区市场监管局", "区城管局")
EVENTS = (
    "小区停水多日居民反映强烈", "学校周边交通拥堵问题引关注", "农贸市场食品抽检结果公布",
    "老旧小区改造进度缓慢", "河道疑似排污群众举报", "医院挂号难问题再引热议",
    "道路施工扬尘扰民", "养老保险认证办理指南发布", "安置房交付延期业主维权",
    "暴雨导致部分路段积水", "景区门票价格调整引发讨论", "供暖费收费标准公示",
    "召开安全生产专题会议", "开展城市管理专项整治行动", "举办惠民文化活动",
)
FILLER = (
    "据网友反映，", "记者从相关部门了解到，", "有市民表示，", "相关负责人称，", "截至目前，",
    "目前，相关部门已介入调查，", "此事在网络上引发广泛关注。", "下一步将持续跟进处理情况。",
)


@dataclass
class _Extra:
    appeared: float
    title: str
    text: str
    guid: str


@dataclass
class _State:
    n: int
    items: int
    period: float
    epoch: float  # the instant item 0 of a feed with phase 0 appeared
    hosts: int = 1
    base_url: str = ""
    started: float = field(default_factory=time.time)
    cache: dict[int, tuple[tuple, bytes, str, str]] = field(default_factory=dict)
    extras: dict[int, list[_Extra]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=lambda: {"requests": 0, "ok": 0, "not_modified": 0,
                                                              "bytes": 0, "published": 0})

    def phase(self, i: int) -> float:
        return ((i * 7919) % 1000) / 1000.0 * self.period

    def newest(self, i: int, now: float) -> int:
        return int(math.floor((now - self.epoch - self.phase(i)) / self.period))

    def appeared(self, i: int, k: int) -> float:
        return self.epoch + self.phase(i) + k * self.period


def _item_text(i: int, k: int) -> tuple[str, str]:
    rnd = random.Random(i * 1_000_003 + k)
    place = rnd.choice(PLACES)
    event = rnd.choice(EVENTS)
    district = "汉台区" if rnd.random() < 0.7 else "汉中市"
    title = f"{district}{place}{event}"
    parts = [f"{rnd.choice(FILLER)}{place}{event}。"]
    for _ in range(rnd.randint(3, 8)):
        parts.append(f"{rnd.choice(FILLER)}{rnd.choice(UNITS)}表示将依法依规处理{rnd.choice(PLACES)}相关问题。")
    return title, "".join(parts)


def _rfc822(ts: float) -> str:
    return format_datetime(datetime.fromtimestamp(ts, timezone.utc), usegmt=True)


def _render(state: _State, i: int, now: float) -> tuple[bytes, str, str]:
    k = state.newest(i, now)
    extras = [e for e in state.extras.get(i, ()) if e.appeared <= now]
    key = (k, len(extras))
    cached = state.cache.get(i)
    if cached and cached[0] == key:
        return cached[1], cached[2], cached[3]
    entries = []  # (appeared, guid, title, text)
    for j in range(max(0, k - state.items + 1), k + 1):
        title, text = _item_text(i, j)
        entries.append((state.appeared(i, j), f"feed{i}-item{j}", title, text))
    for e in extras:
        entries.append((e.appeared, e.guid, e.title, e.text))
    entries.sort(key=lambda e: e[0], reverse=True)
    entries = entries[: state.items]
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>',
        f"<title>基准测试源 {i}</title><link>{state.base_url}/feed/{i}.xml</link>",
        "<description>synthetic feed for the Yuqing Desk benchmark</description>",
    ]
    for appeared, guid, title, text in entries:
        out.append(
            f"<item><title>{escape(title)}</title>"
            f"<link>{state.base_url}/item/{escape(guid)}</link>"
            f'<guid isPermaLink="false">{escape(guid)}</guid>'
            f"<pubDate>{_rfc822(appeared)}</pubDate>"
            f"<description>{escape(text)}</description></item>"
        )
    out.append("</channel></rss>\n")
    body = "".join(out).encode("utf-8")
    etag = f'"{i}-{k}-{len(extras)}"'
    last_modified = _rfc822(entries[0][0]) if entries else _rfc822(state.epoch)
    state.cache[i] = (key, body, etag, last_modified)
    return body, etag, last_modified


def _feed_index(request: web.Request, state: _State) -> int:
    raw = request.match_info["i"]
    try:
        i = int(raw)
    except ValueError:
        raise web.HTTPNotFound(text="no such feed") from None
    if not 0 <= i < state.n:
        raise web.HTTPNotFound(text="no such feed")
    return i


def _make_app(state: _State) -> web.Application:
    async def feed(request: web.Request) -> web.Response:
        state.counters["requests"] += 1
        i = _feed_index(request, state)
        body, etag, last_modified = _render(state, i, time.time())
        headers = {"ETag": etag, "Last-Modified": last_modified}
        inm = request.headers.get("If-None-Match")
        ims = request.headers.get("If-Modified-Since")
        fresh = False
        if inm is not None:
            fresh = etag in [t.strip() for t in inm.split(",")]
        elif ims:
            try:
                fresh = parsedate_to_datetime(ims) >= parsedate_to_datetime(last_modified)
            except (TypeError, ValueError):
                fresh = False
        if fresh:
            state.counters["not_modified"] += 1
            return web.Response(status=304, headers=headers)
        state.counters["ok"] += 1
        state.counters["bytes"] += len(body)
        return web.Response(body=body, headers=headers, content_type="application/rss+xml", charset="utf-8")

    async def publish(request: web.Request) -> web.Response:
        i = _feed_index(request, state)
        data = {}
        if request.can_read_body:
            try:
                data = await request.json()
            except (ValueError, UnicodeDecodeError):
                raise web.HTTPBadRequest(text="body must be JSON") from None
            if not isinstance(data, dict):
                raise web.HTTPBadRequest(text="body must be a JSON object")
        now = time.time()
        state.counters["published"] += 1
        seq = state.counters["published"]
        default_title, default_text = _item_text(i, 10_000_000 + seq)
        extra = _Extra(now, str(data.get("title") or f"【突发】{default_title}"),
                       str(data.get("text") or default_text), f"feed{i}-planted{seq}")
        state.extras.setdefault(i, []).append(extra)
        del state.extras[i][:-state.items]
        return web.json_response({"guid": extra.guid, "published": _rfc822(now), "published_ts": now,
                                  "title": extra.title})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({**state.counters, "feeds": state.n, "uptime": time.time() - state.started})

    async def sources_toml(request: web.Request) -> web.Response:
        try:
            interval = int(request.query.get("interval", "300"))
        except ValueError:
            raise web.HTTPBadRequest(text="interval must be a whole number") from None
        return web.Response(text=sources_file(state.base_url, state.n, interval=interval, hosts=state.hosts),
                            content_type="application/toml", charset="utf-8")

    app = web.Application()
    app.router.add_get("/feed/{i}.xml", feed)
    app.router.add_post("/feed/{i}/publish", publish)
    app.router.add_get("/stats", stats)
    app.router.add_get("/sources.toml", sources_toml)
    return app


def sources_file(base_url: str, n: int, *, interval: int = 300, hosts: int | None = None) -> str:
    """A sources.toml text with one RSS source per feed (ids ``bench-0000`` ...)."""
    import tomli_w

    urls = feed_urls(base_url, n, hosts)
    doc = {"sources": {
        f"bench-{i:04d}": {
            "name": f"基准测试源 {i}", "url": urls[i], "kind": "rss",
            "interval": interval, "priority": 5, "platform": "news", "local": i % 3 == 0,
        } for i in range(n)
    }}
    return tomli_w.dumps(doc)


def host_address(h: int) -> str:
    """The loopback address of host number ``h``: 127.0.0.1, 127.0.0.2, ... (all of 127/8 is
    loopback on Linux), so the fetcher's per-host limits see distinct hosts."""
    if not 0 <= h < 250 * 250:
        raise ValueError(f"host number out of range: {h}")
    return f"127.0.{h // 250}.{h % 250 + 1}"


def feed_urls(base_url: str, n: int, hosts: int | None = None) -> list[str]:
    """The URL of each of the ``n`` feeds, spread round-robin over ``hosts`` loopback
    addresses (default: what :func:`serve` used for this base_url in this process, else
    ``min(n, 250)``; from another process pass the same ``hosts`` as the server's)."""
    port = int(base_url.rsplit(":", 1)[1].split("/")[0])
    if hosts is None:
        hosts = _SERVED_HOSTS.get(base_url) or _default_hosts(n)
    return [f"http://{host_address(i % hosts)}:{port}/feed/{i}.xml" for i in range(n)]


_SERVED_HOSTS: dict[str, int] = {}


def _default_hosts(n: int) -> int:
    return max(1, min(n, 250))


def _bind_all(addresses: list[str], port: int) -> list[socket.socket]:
    socks: list[socket.socket] = []
    try:
        for addr in addresses:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((addr, port))
            port = sock.getsockname()[1]
            sock.listen(1024)
        return socks
    except OSError:
        for sock in socks:
            sock.close()
        raise


async def serve(n: int = 1000, port: int = 0, *, items: int = 20, period: float = 600.0,
                hosts: int | None = None) -> tuple[web.AppRunner, str]:
    """Start serving ``n`` feeds in the running loop; returns ``(runner, base_url)``.

    Every feed is reachable on every address, but :func:`feed_urls` (and ``/sources.toml``)
    spread them over ``hosts`` loopback addresses (default ``min(n, 250)``), all on one
    port: with 1,000 feeds on a single host the fetcher's per-host spacing alone would
    make one round take ``1000 * per_host_spacing`` seconds. ``base_url`` is the first
    address. Stop with ``await runner.cleanup()``."""
    if n < 1 or items < 1 or period <= 0:
        raise ValueError("serve: n and items must be >= 1 and period > 0")
    hosts = _default_hosts(n) if hosts is None else hosts
    if not 1 <= hosts <= 250 * 250:
        raise ValueError(f"serve: hosts must be between 1 and {250 * 250}")
    now = time.time()
    state = _State(n=n, items=items, period=period, epoch=now - items * period, hosts=hosts)
    addresses = [host_address(h) for h in range(hosts)]
    for attempt in range(20):  # port 0: the first socket picks a port, the others must get it too
        try:
            socks = _bind_all(addresses, port)
            break
        except OSError:
            if port or attempt == 19:
                raise
    runner = web.AppRunner(_make_app(state), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    state.base_url = f"http://{addresses[0]}:{socks[0].getsockname()[1]}"
    for sock in socks:
        await web.SockSite(runner, sock, backlog=1024).start()
    _SERVED_HOSTS[state.base_url] = hosts
    return runner, state.base_url


async def _main(args: argparse.Namespace) -> None:
    runner, base_url = await serve(args.n, args.port, items=args.items, period=args.period,
                                   hosts=args.hosts)
    if args.sources_toml:
        with open(args.sources_toml, "w", encoding="utf-8") as fh:
            fh.write(sources_file(base_url, args.n, interval=args.interval, hosts=args.hosts))
    print(base_url, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def measure(n: int, spacing: float | None = None) -> int:
    """Start this server in a child process, fetch every feed twice with monitor.fetch
    (a full round, then a conditional round) and print the times."""
    import subprocess

    from monitor.fetch import Fetcher, FetchPolicy

    child = subprocess.Popen([sys.executable, __file__, "-n", str(n)], stdout=subprocess.PIPE, text=True)
    try:
        base_url = (child.stdout.readline() if child.stdout else "").strip()
        if not base_url:
            print("loopback_feeds: the server did not start", file=sys.stderr)
            return 2
        urls = feed_urls(base_url, n)
        policy = FetchPolicy() if spacing is None else FetchPolicy(per_host_spacing=spacing)

        async def rounds() -> None:
            async with Fetcher(policy) as fetcher:
                t0 = time.monotonic()
                first = await asyncio.gather(*(fetcher.fetch(u) for u in urls), return_exceptions=True)
                t1 = time.monotonic()
                etags = [r.etag if not isinstance(r, BaseException) else None for r in first]
                second = await asyncio.gather(*(fetcher.fetch(u, etag=e) for u, e in zip(urls, etags)),
                                              return_exceptions=True)
                t2 = time.monotonic()
            errors = sum(isinstance(r, BaseException) for r in first + second)
            size = sum(len(r.body or b"") for r in first if not isinstance(r, BaseException))
            n304 = sum(1 for r in second if not isinstance(r, BaseException) and r.status == 304)
            print(f"{n} feeds over {len({u.split('/')[2] for u in urls})} hosts, "
                  f"per_host_spacing={policy.per_host_spacing:g} s, total_concurrency={policy.total_concurrency}")
            print(f"full round:        {t1 - t0:6.2f} s  ({n / (t1 - t0):.0f} fetches/s, {size / 1e6:.1f} MB)")
            print(f"conditional round: {t2 - t1:6.2f} s  ({n304} x 304)   errors: {errors}")

        asyncio.run(rounds())
        return 0
    finally:
        child.terminate()
        child.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="number of feeds (default 1000)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--items", type=int, default=20, help="entries per feed (default 20)")
    parser.add_argument("--period", type=float, default=600.0,
                        help="seconds between new entries of one feed (default 600)")
    parser.add_argument("--hosts", type=int, default=None,
                        help="loopback addresses to spread the feeds over (default min(n, 250))")
    parser.add_argument("--sources-toml", help="also write a sources.toml for all feeds to this path")
    parser.add_argument("--interval", type=int, default=300, help="interval in the written sources.toml")
    parser.add_argument("--measure", action="store_true",
                        help="serve in a child process and time two fetch rounds with monitor.fetch")
    parser.add_argument("--spacing", type=float, default=None,
                        help="with --measure: per_host_spacing to use (default: FetchPolicy's)")
    args = parser.parse_args(argv)
    if args.measure:
        return measure(args.n, args.spacing)
    try:
        asyncio.run(_main(args))
    except KeyboardInterrupt:
        pass
    except (ValueError, OSError) as exc:
        print(f"loopback_feeds: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
