"""The offline demo: a loopback HTTP server playing a scripted scenario.

Scenario files live in ``data/demo/`` (see its README.md): ``scenario.toml``
declares the sources, and one ``<source>.toml`` per source lists its items with
times as offsets from the scenario's t0 (``at = "-3h20m"``). The server maps t0
to ``clock.start`` and, on every request, shows only what is published by the
scenario clock's *now*, newest first, like a real feed window.

Formats served: RSS 2.0 (with ETag / If-None-Match), an m.weibo.cn-style JSON
timeline with relative ``created_at``, a DailyHotApi-style hot list whose ranks
move with time, and a GBK-encoded government HTML list page with detail pages.
"""
from __future__ import annotations

import hashlib
import html
import json
import math
import re
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import data
from yuqing.demo_clock import ScenarioClock
from yuqing.demo_scenario import (  # noqa: F401  (re-exported: the demo's public API)
    LOCAL_TZ,
    DemoItem,
    DemoSource,
    HotEntry,
    Scenario,
    ScenarioError,
    load_scenario,
    parse_offset,
    read_scenario_toml,
    render_text,
)

__all__ = [
    "DemoServer", "Scenario", "ScenarioClock", "ScenarioError", "load_expected", "load_scenario",
    "mid_to_bid", "parse_offset", "weibo_created_at",
]

UTC = timezone.utc
RSS_WINDOW = 30
HOTLIST_SIZE = 30
GOV_WINDOW = 20
COUNT_GROWTH = timedelta(hours=6)  # weibo counters reach their final value after this age


# --------------------------------------------------------------------------- rendering

_B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def mid_to_bid(mid: str) -> str:
    """Weibo's mid -> bid: 7-digit groups from the right, each in base 62 (4 chars, padded)."""
    out: list[str] = []
    end = len(mid)
    while end > 0:
        start = max(0, end - 7)
        n = int(mid[start:end])
        s = ""
        while n:
            n, r = divmod(n, 62)
            s = _B62[r] + s
        out.append(s.rjust(4, "0") if start > 0 else (s or "0"))
        end = start
    return "".join(reversed(out))


def weibo_created_at(published: datetime, now: datetime) -> str:
    """How m.weibo.cn shows a post's time relative to *now* (Asia/Shanghai)."""
    age = (now - published).total_seconds()
    pub, cur = published.astimezone(LOCAL_TZ), now.astimezone(LOCAL_TZ)
    if age < 60:
        return "刚刚"
    if age < 3600:
        return f"{int(age // 60)}分钟前"
    if age < 86400 and pub.date() == cur.date():
        return f"{int(age // 3600)}小时前"
    if pub.date() == cur.date() - timedelta(days=1):
        return f"昨天 {pub:%H:%M}"
    if pub.year == cur.year:
        return f"{pub:%m-%d}"
    return f"{pub:%Y-%m-%d}"


def _strip_tags(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())


class _Renderer:
    def __init__(self, scenario: Scenario, t0: datetime, base: str):
        self.s, self.t0, self.base = scenario, t0, base

    def visible(self, sid: str, offset: timedelta, limit: int) -> list[DemoItem]:
        shown = [i for i in self.s.items[sid] if i.at <= offset]
        return list(reversed(shown))[:limit]

    def when(self, item: DemoItem) -> datetime:
        return self.t0 + item.at

    def link(self, item: DemoItem) -> str:
        return f"{self.base}/{item.source}/a/{item.key}.html"

    def rss(self, src: DemoSource, offset: timedelta) -> bytes:
        shown = self.visible(src.id, offset, RSS_WINDOW)
        tz = LOCAL_TZ if src.pub_tz == "+0800" else UTC
        # lastBuildDate follows the newest item, so an unchanged window keeps its ETag
        now = self.when(shown[0]) if shown else self.t0
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">',
            "<channel>",
            f"<title>{html.escape(src.title)}</title>",
            f"<link>{self.base}/{src.id}</link>",
            f"<description>{html.escape(src.description)}</description>",
            f"<language>{html.escape(src.language)}</language>",
            f"<lastBuildDate>{format_datetime(now.astimezone(tz), usegmt=tz is UTC)}</lastBuildDate>",
        ]
        for it in shown:
            body = render_text(it.text, self.t0)
            out += [
                "<item>",
                f"<title>{html.escape(render_text(it.title, self.t0))}</title>",
                f"<link>{self.link(it)}</link>",
                # stable across demo restarts on another port
                f'<guid isPermaLink="false">yuqing-demo:{it.source}:{it.key}</guid>',
                f"<pubDate>{format_datetime(self.when(it).astimezone(tz), usegmt=tz is UTC)}</pubDate>",
            ]
            if it.author:
                out.append(f"<dc:creator>{html.escape(it.author)}</dc:creator>")
            if it.category:
                out.append(f"<category>{html.escape(it.category)}</category>")
            out += [f"<description><![CDATA[{_paragraphs(body)}]]></description>", "</item>"]
        out += ["</channel>", "</rss>", ""]
        return "\n".join(out).encode("utf-8")

    def _mblog(self, it: DemoItem, now: datetime, offset: timedelta) -> dict:
        mid = str(5_200_000_000_000_000 + (int(it.at.total_seconds()) + 1_000_000) * 1000
                  + sum(map(ord, it.key)) % 1000)
        growth = min(1.0, max(0.0, (offset - it.at) / COUNT_GROWTH))
        uid = 5_000_000_000 + int(hashlib.sha1((it.author or "").encode()).hexdigest()[:8], 16) % 999_999_999
        blog: dict[str, Any] = {
            "id": mid,
            "mid": mid,
            "bid": mid_to_bid(mid),
            "created_at": weibo_created_at(self.when(it), now),
            "text": render_text(it.text, self.t0),
            "source": it.extra.get("client", ""),
            "isLongText": False,
            "user": {
                "id": uid,
                "screen_name": it.author,
                "verified": bool(it.extra.get("verified")),
                "profile_url": f"https://m.weibo.cn/u/{uid}",
            },
            "reposts_count": math.floor(it.extra.get("reposts", 0) * growth),
            "comments_count": math.floor(it.extra.get("comments", 0) * growth),
            "attitudes_count": math.floor(it.extra.get("likes", 0) * growth),
        }
        return blog

    def weibo(self, src: DemoSource, offset: timedelta) -> bytes:
        now = self.t0 + offset
        by_key = {i.key: i for i in self.s.items[src.id]}
        cards = []
        for it in self.visible(src.id, offset, RSS_WINDOW):
            blog = self._mblog(it, now, offset)
            if it.extra.get("repost_of"):
                blog["retweeted_status"] = self._mblog(by_key[it.extra["repost_of"]], now, offset)
            cards.append({"card_type": 9, "itemid": f"seqid:{blog['mid']}", "scheme":
                          f"https://m.weibo.cn/status/{blog['bid']}", "mblog": blog})
        doc = {"ok": 1, "data": {"cardlistInfo": {"containerid": "100103type=61&q=汉中", "page": None,
                                                  "title_top": src.title}, "cards": cards}}
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")

    def hot_board(self, offset: timedelta) -> list[tuple[HotEntry, int]]:
        live = [(h, h.heat(offset)) for h in self.s.hot if h.on <= offset < h.off]
        live.sort(key=lambda p: (-p[1], p[0].key))
        return live[:HOTLIST_SIZE]

    def hotlist(self, src: DemoSource, offset: timedelta) -> bytes:
        now = self.t0 + offset
        rows = []
        for h, heat in self.hot_board(offset):
            rows.append({
                "id": h.key,
                "title": h.title,
                "desc": h.desc,
                "author": "",
                "hot": heat,
                "url": f"https://s.weibo.com/weibo?q={quote('#' + h.title + '#')}&Refer=top",
                "mobileUrl": f"https://m.weibo.cn/search?containerid={quote('100103type=1&q=#' + h.title + '#')}",
                "timestamp": int((self.t0 + h.on).timestamp() * 1000),
            })
        doc = {"code": 200, "name": "weibo", "title": "微博", "type": "热搜榜", "description": src.description,
               "link": "https://s.weibo.com/top/summary/", "total": len(rows),
               "updateTime": now.isoformat(timespec="seconds").replace("+00:00", "Z"), "fromCache": False,
               "data": rows}
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")

    def gov(self, src: DemoSource, offset: timedelta) -> bytes:
        shown = self.visible(src.id, offset, GOV_WINDOW)
        lis = "\n".join(
            f'<li><a href="/{src.id}/a/{it.key}.html" target="_blank" title="{html.escape(render_text(it.title, self.t0))}">'
            f"{html.escape(render_text(it.title, self.t0))}</a>"
            f'<span class="date">{self.when(it).astimezone(LOCAL_TZ):%Y-%m-%d}</span></li>'
            for it in shown
        )
        page = _GOV_PAGE.format(site=html.escape(src.title), column=html.escape(src.description or "通知公告"),
                                items=lis, total=len([i for i in self.s.items[src.id] if i.at <= offset]))
        return page.encode(src.encoding)

    def detail(self, src: DemoSource, it: DemoItem) -> bytes:
        title = html.escape(render_text(it.title, self.t0) or _strip_tags(render_text(it.text, self.t0))[:30])
        when = self.when(it).astimezone(LOCAL_TZ)
        page = _DETAIL_PAGE.format(
            charset=src.encoding, site=html.escape(src.title), title=title,
            when=f"{when:%Y-%m-%d %H:%M}", author=html.escape(it.author or src.title),
            body=_paragraphs(render_text(it.text, self.t0)) if src.format != "weibo" else render_text(it.text, self.t0),
        )
        return page.encode(src.encoding)


_GOV_PAGE = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gbk" />
<title>{column}_{site}</title>
</head>
<body>
<div class="header"><div class="logo">{site}</div>
<div class="nav"><a href="/">首页</a> | <a href="#">政务公开</a> | <a href="#">通知公告</a> | <a href="#">便民服务</a></div></div>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="#">政务公开</a> &gt; {column}</div>
<div class="main">
<h2 class="column-title">{column}</h2>
<ul class="list">
{items}
</ul>
<div class="page">共{total}条 首页 上一页 1 下一页 尾页</div>
</div>
<div class="footer">主办：{site} &nbsp; 陕ICP备00000000号 &nbsp; 网站标识码：6107020000</div>
</body>
</html>
"""

_DETAIL_PAGE = """<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}" />
<title>{title}_{site}</title>
</head>
<body>
<div class="article">
<h1>{title}</h1>
<div class="info">发布时间：{when} &nbsp; 来源：{author}</div>
<div class="content">{body}</div>
</div>
</body>
</html>
"""


# --------------------------------------------------------------------------- server


class DemoServer:
    """Serve a scenario on a loopback port, in the caller's event loop."""

    def __init__(
        self,
        clock: ScenarioClock,
        scenario_dir: Path = data.DEMO_DIR,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        scenario: Scenario | None = None,
        t0: datetime | None = None,
    ) -> None:
        """*t0* is the instant scenario offset 0 maps to: ``clock.start`` unless given (pass
        ``t0 = clock.start - parse_offset("8h")`` to start the demo 8 scenario hours in)."""
        self.clock: Callable[[], datetime] = clock
        self.scenario = scenario or load_scenario(scenario_dir)
        self.t0: datetime = (t0 or clock.start).astimezone(UTC)
        self.duration: timedelta = self.scenario.duration
        self.host, self.port = host, port
        self.base_url: str | None = None
        self._runner = None

    def offset(self) -> timedelta:
        """Scenario time since t0 (negative never: items at t < 0 are already out)."""
        return self.clock() - self.t0

    async def start(self) -> str:
        from aiohttp import web

        app = web.Application()
        app.router.add_get("/", self._index)
        app.router.add_get("/clock", self._clock)
        for src in self.scenario.sources:
            app.router.add_get(f"/{src.id}", self._feed_handler(src))
            app.router.add_get(f"/{src.id}/a/{{key}}.html", self._detail_handler(src))
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.port = port
        self.base_url = f"http://{self.host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "DemoServer":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    def url(self, source_id: str) -> str:
        if self.base_url is None:
            raise RuntimeError("DemoServer is not started: await start() first")
        self.scenario.source(source_id)
        return f"{self.base_url}/{source_id}"

    def sources_toml(self) -> str:
        """A sources.toml text pointing at this (started) server."""
        import tomli_w

        tables: dict[str, Any] = {}
        for src in self.scenario.sources:
            table: dict[str, Any] = {"name": src.name, "url": self.url(src.id)}
            table.update({k: v for k, v in src.config.items() if k != "fields"})
            table.setdefault("enabled", True)
            if "fields" in src.config:
                table["fields"] = dict(src.config["fields"])
            tables[src.id] = table
        head = ("# Offline demo sources, served on the loopback interface by yuqing.demo_server.\n"
                "# Intervals are in scenario seconds.\n\n")
        return head + tomli_w.dumps({"sources": tables})

    def _renderer(self) -> _Renderer:
        assert self.base_url is not None
        return _Renderer(self.scenario, self.t0, self.base_url)

    def _feed_handler(self, src: DemoSource):
        from aiohttp import web

        render = {"rss": _Renderer.rss, "weibo": _Renderer.weibo, "hotlist": _Renderer.hotlist,
                  "gov": _Renderer.gov}[src.format]
        ctype = {"rss": "application/rss+xml; charset=utf-8", "weibo": "application/json; charset=utf-8",
                 "hotlist": "application/json; charset=utf-8", "gov": "text/html"}[src.format]

        async def handler(request: web.Request) -> web.StreamResponse:
            renderer, offset = self._renderer(), self.offset()
            body = render(renderer, src, offset)
            etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
            headers = {"ETag": etag, "Cache-Control": "no-cache"}
            newest = None
            if src.format in ("rss", "gov"):  # their bodies change only when an item appears
                shown = renderer.visible(src.id, offset, 1)
                newest = renderer.when(shown[0]).replace(microsecond=0) if shown else self.t0.replace(microsecond=0)
                headers["Last-Modified"] = format_datetime(newest, usegmt=True)
            inm = request.headers.get("If-None-Match")
            if inm is not None:
                if etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*":
                    return web.Response(status=304, headers=headers)
            elif newest is not None and request.if_modified_since is not None:
                if newest <= request.if_modified_since:
                    return web.Response(status=304, headers=headers)
            return web.Response(body=body, headers={**headers, "Content-Type": ctype})

        return handler

    def _detail_handler(self, src: DemoSource):
        from aiohttp import web

        async def handler(request: web.Request) -> web.StreamResponse:
            key = request.match_info["key"]
            for it in self.scenario.items.get(src.id, ()):
                if it.key == key and it.at <= self.offset():
                    body = self._renderer().detail(src, it)
                    ctype = "text/html" if src.format == "gov" else "text/html; charset=utf-8"
                    return web.Response(body=body, headers={"Content-Type": ctype})
            raise web.HTTPNotFound(text="页面不存在或尚未发布")

        return handler

    async def _index(self, request):
        from aiohttp import web

        rows = "".join(f'<li><a href="/{s.id}">{html.escape(s.name)}</a> ({s.format})</li>'
                       for s in self.scenario.sources)
        body = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(self.scenario.title)}"
                f"</title></head><body><h1>{html.escape(self.scenario.title)}</h1><ul>{rows}</ul></body></html>")
        return web.Response(text=body, content_type="text/html")

    async def _clock(self, request):
        from aiohttp import web

        now = self.clock()
        return web.json_response({
            "now": now.isoformat(), "t0": self.t0.isoformat(),
            "offset_seconds": (now - self.t0).total_seconds(),
            "duration_seconds": self.duration.total_seconds(),
            "speed": getattr(self.clock, "speed", 1.0),
        })


def load_expected(scenario_dir: Path = data.DEMO_DIR) -> dict:
    """``expected.toml`` of a scenario: what the desk should detect (see data/demo/README.md)."""
    return read_scenario_toml(Path(scenario_dir) / "expected.toml")


async def _serve(speed: float, port: int, skip: str) -> None:  # pragma: no cover - manual use
    import asyncio

    now = datetime.now(UTC)
    clock = ScenarioClock(now, speed=speed)
    server = DemoServer(clock, port=port, t0=now - parse_offset(skip))
    base = await server.start()
    print(f"demo feeds at {base}/ (speed x{speed:g}, scenario t0 = {server.t0.isoformat()})")
    print(server.sources_toml())
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


if __name__ == "__main__":  # pragma: no cover - `python -m yuqing.demo_server --speed 60`
    import argparse
    import asyncio

    ap = argparse.ArgumentParser(description="Serve the offline demo scenario on 127.0.0.1.")
    ap.add_argument("--speed", type=float, default=60.0, help="scenario seconds per real second")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--skip", default="0m", help="start this far into the scenario, e.g. 8h")
    args = ap.parse_args()
    try:
        asyncio.run(_serve(args.speed, args.port, args.skip))
    except KeyboardInterrupt:
        pass
