"""A reusable loopback HTTP server for tests of every area.

The server runs an aiohttp.web app on 127.0.0.1:<free port> in a background thread with
its own event loop, so it serves while a test blocks (sync code, a subprocess, or an
async test on another loop)::

    from tests.loopback import loopback          # the fixture

    def test_x(loopback):
        loopback.route("/feed.xml", RSS, etag='"v1"')
        url = loopback.url("/feed.xml")
        ...
        assert loopback.hits("/feed.xml") == 2
        assert loopback.requests("/feed.xml")[1]["headers"]["If-None-Match"] == '"v1"'

``route`` may be called at any time to (re)define a path. Unknown paths answer 404.
"""
from __future__ import annotations

import asyncio
import gzip as _gzip
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterator, Mapping

import pytest
from aiohttp import web
from multidict import CIMultiDict

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Body = bytes | str | Handler | None


@dataclass
class _Route:
    body: Body
    status: int = 200
    headers: Mapping[str, str] | None = None
    content_type: str | None = "application/xml"
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    gzip: bool = False
    chunked: bool = False


@dataclass
class _Stats:
    hits: int = 0
    active: int = 0
    max_active: int = 0
    requests: list[dict] = field(default_factory=list)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (for connection-refused tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackServer:
    """An HTTP server on 127.0.0.1 in its own thread. ``start()``/``stop()`` or ``with``."""

    def __init__(self, *, host: str = "127.0.0.1"):
        self.host = host
        self.port: int = 0
        self.base_url: str = ""
        self._routes: dict[str, _Route] = {}
        self._stats: dict[str, _Stats] = {}
        self._active_total = 0
        self._max_active_total = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # -- lifecycle --------------------------------------------------------------
    def start(self) -> "LoopbackServer":
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._setup())
            except BaseException as exc:  # report to start(), do not die silently
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name=f"loopback-{id(self):x}", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            self._thread = None
            raise RuntimeError(f"loopback server failed to start: {failure[0]!r}")
        return self

    async def _setup(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # handler_cancellation: a client that gives up (timeout) cancels a delayed handler.
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None,
                                     shutdown_timeout=0.2, handler_cancellation=True)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        self.base_url = f"http://{self.host}:{self.port}"
        site = web.SockSite(self._runner, sock)
        await site.start()

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._runner is not None and loop.is_running():
            fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop)
            try:
                fut.result(5)
            except Exception:  # noqa: BLE001 - stopping must not fail a test
                pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        self._thread = None
        self._loop = None

    def __enter__(self) -> "LoopbackServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- routes -------------------------------------------------------------------
    def url(self, path: str = "/", *, host: str | None = None) -> str:
        """The full URL of ``path``; ``host="localhost"`` gives a second host name for
        the same server (per-host tests)."""
        if not path.startswith("/"):
            path = "/" + path
        return f"http://{host or self.host}:{self.port}{path}"

    def route(
        self,
        path: str,
        body: Body = None,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = "application/xml",
        etag: str | None = None,
        last_modified: str | None = None,
        delay: float = 0.0,
        gzip: bool = False,
        chunked: bool = False,
    ) -> None:
        """(Re)define ``path``. ``body`` may be bytes, str (UTF-8), None (empty) or an async
        handler ``(request) -> Response``. With ``etag``/``last_modified`` set a matching
        If-None-Match/If-Modified-Since gets a 304. ``delay`` sleeps before answering;
        ``gzip`` compresses the body; ``chunked`` streams it without Content-Length."""
        if gzip and not callable(body):  # compress once, here, not on the server's loop
            raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
            if isinstance(body, str) and content_type and "charset" not in content_type:
                content_type += "; charset=utf-8"
            body = _gzip.compress(raw, compresslevel=6)
        with self._lock:
            self._routes[path] = _Route(body, status, dict(headers or {}), content_type, etag,
                                        last_modified, delay, gzip, chunked)
            self._stats.setdefault(path, _Stats())

    def hits(self, path: str) -> int:
        with self._lock:
            stats = self._stats.get(path)
            return stats.hits if stats else 0

    def requests(self, path: str) -> list[dict]:
        """Each request served on ``path``: ``method``, ``headers`` (case-insensitive),
        ``query`` (raw string) and ``time`` (time.monotonic() at arrival)."""
        with self._lock:
            stats = self._stats.get(path)
            return list(stats.requests) if stats else []

    def max_concurrent(self, path: str | None = None) -> int:
        """The most requests that were being served at once (on ``path``, or in all)."""
        with self._lock:
            if path is None:
                return self._max_active_total
            stats = self._stats.get(path)
            return stats.max_active if stats else 0

    def reset(self) -> None:
        """Forget hit counts and recorded requests (routes stay)."""
        with self._lock:
            self._stats = {p: _Stats() for p in self._routes}
            self._active_total = self._max_active_total = 0

    # -- serving --------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        with self._lock:
            spec = self._routes.get(path)
            stats = self._stats.setdefault(path, _Stats())
            stats.hits += 1
            stats.active += 1
            stats.max_active = max(stats.max_active, stats.active)
            self._active_total += 1
            self._max_active_total = max(self._max_active_total, self._active_total)
            stats.requests.append({
                "method": request.method,
                "headers": CIMultiDict(request.headers),
                "query": request.query_string,
                "time": time.monotonic(),
            })
        try:
            if spec is None:
                return web.Response(status=404, text="not found")
            if spec.delay:
                await asyncio.sleep(spec.delay)
            if callable(spec.body):
                return await spec.body(request)
            return await self._respond(request, spec)
        finally:
            with self._lock:
                stats.active -= 1
                self._active_total -= 1

    async def _respond(self, request: web.Request, spec: _Route) -> web.StreamResponse:
        headers: dict[str, Any] = dict(spec.headers or {})
        if spec.etag:
            headers["ETag"] = spec.etag
        if spec.last_modified:
            headers["Last-Modified"] = spec.last_modified
        if spec.status == 200 and (spec.etag or spec.last_modified):
            inm = request.headers.get("If-None-Match")
            ims = request.headers.get("If-Modified-Since")
            if (spec.etag and inm and spec.etag in [t.strip() for t in inm.split(",")]) or (
                not inm and spec.last_modified and ims == spec.last_modified
            ):
                return web.Response(status=304, headers=headers)
        body = spec.body
        data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        if spec.content_type and "Content-Type" not in headers:
            ctype = spec.content_type
            if isinstance(body, str) and "charset" not in ctype:
                ctype += "; charset=utf-8"
            headers["Content-Type"] = ctype
        if spec.gzip:
            headers["Content-Encoding"] = "gzip"  # compressed by route()
        if spec.chunked:
            resp = web.StreamResponse(status=spec.status, headers=headers)
            resp.enable_chunked_encoding()
            try:
                await resp.prepare(request)
                for i in range(0, len(data), 64 * 1024):
                    await resp.write(data[i:i + 64 * 1024])
                await resp.write_eof()
            except (ConnectionError, asyncio.CancelledError):
                pass  # the client hung up (a size cap or a timeout): expected in tests
            return resp
        return web.Response(status=spec.status, body=data, headers=headers)


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    """A started LoopbackServer, stopped after the test (sync, async and subprocess tests)."""
    server = LoopbackServer().start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def serve_app(app: web.Application) -> Iterator[str]:
    """Serve an aiohttp app on 127.0.0.1:<free port> from a background thread; yields its base URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.run_until_complete(runner.cleanup())
        loop.close()


async def send_rss(request: web.Request, entries: list[str]) -> web.StreamResponse:
    """Answer with an RSS 2.0 document of ``entries`` (<item> strings); returns once fully sent,
    so a caller can count what it served only after the client had all of it."""
    body = ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>f</title>"
            + "".join(entries) + "</channel></rss>")
    resp = web.Response(body=body.encode("utf-8"), content_type="application/rss+xml")
    await resp.prepare(request)
    await resp.write_eof()
    return resp
