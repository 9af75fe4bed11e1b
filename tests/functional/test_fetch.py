"""The fetcher against real loopback HTTP servers (no internet, no mocks)."""
from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from aiohttp import web

from monitor.exceptions import (
    ConnectError,
    FetchTimeout,
    HTTPStatusError,
    ResponseTooLarge,
    RetrieveError,
    TooManyRedirects,
)
from monitor.fetch import Fetcher, FetchPolicy
from tests.loopback import LoopbackServer, free_port, loopback  # noqa: F401 - fixture

RSS = "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>汉台</title></channel></rss>"
FAST = FetchPolicy(connect_timeout=1, read_timeout=0.3, total_timeout=2, per_host_spacing=0,
                   max_bytes=64 * 1024)
NOW = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
async def fetcher():
    async with Fetcher(FAST, clock=lambda: NOW) as f:
        yield f


# -- success, conditional GET ------------------------------------------------------

async def test_etag_then_304(loopback, fetcher):
    loopback.route("/feed.xml", RSS, etag='"v1"')
    first = await fetcher.fetch(loopback.url("/feed.xml"))
    assert first.status == 200 and first.body == RSS.encode()
    assert first.etag == '"v1"' and not first.not_modified
    assert first.content_type.startswith("application/xml")
    second = await fetcher.fetch(loopback.url("/feed.xml"), etag=first.etag)
    assert second.status == 304 and second.not_modified and second.body is None
    assert second.etag == '"v1"'
    sent = loopback.requests("/feed.xml")
    assert "If-None-Match" not in sent[0]["headers"]
    assert sent[1]["headers"]["If-None-Match"] == '"v1"'
    assert "rss+xml" in sent[0]["headers"]["Accept"]
    assert sent[0]["headers"]["User-Agent"].startswith("YuqingDesk/")


async def test_last_modified_then_304(loopback, fetcher):
    stamp = "Fri, 27 Nov 2026 07:00:00 GMT"
    loopback.route("/lm.xml", RSS, last_modified=stamp)
    first = await fetcher.fetch(loopback.url("/lm.xml"))
    assert first.last_modified == stamp and first.etag is None
    second = await fetcher.fetch(loopback.url("/lm.xml"), last_modified=first.last_modified)
    assert second.status == 304
    assert second.last_modified == stamp  # kept even when the 304 does not repeat it
    assert loopback.requests("/lm.xml")[1]["headers"]["If-Modified-Since"] == stamp


async def test_changed_etag_gives_new_body(loopback, fetcher):
    loopback.route("/f", "one", etag='"1"')
    first = await fetcher.fetch(loopback.url("/f"))
    loopback.route("/f", "two", etag='"2"')
    second = await fetcher.fetch(loopback.url("/f"), etag=first.etag)
    assert second.status == 200 and second.body == b"two" and second.etag == '"2"'


async def test_empty_200_is_empty_bytes(loopback, fetcher):
    loopback.route("/empty", b"", content_type="text/plain")
    result = await fetcher.fetch(loopback.url("/empty"))
    assert result.status == 200 and result.body == b""


async def test_gzip_body_is_decompressed(loopback, fetcher):
    loopback.route("/gz", RSS * 50, gzip=True)
    result = await fetcher.fetch(loopback.url("/gz"))
    assert result.body == (RSS * 50).encode()


async def test_extra_headers_are_sent(loopback, fetcher):
    loopback.route("/h", "ok")
    await fetcher.fetch(loopback.url("/h"), headers={"X-Test": "1", "Accept": "application/json"})
    sent = loopback.requests("/h")[0]["headers"]
    assert sent["X-Test"] == "1" and sent["Accept"] == "application/json"


# -- HTTP errors and Retry-After ----------------------------------------------------

async def test_500_is_http_status_error(loopback, fetcher):
    loopback.route("/boom", "oops", status=500)
    with pytest.raises(HTTPStatusError) as info:
        await fetcher.fetch(loopback.url("/boom"))
    assert info.value.status == 500 and info.value.retry_after is None
    assert str(info.value) == f"HTTP 500 Internal Server Error from {loopback.url('/boom')}"
    assert info.value.kind == "http"


async def test_429_retry_after_seconds(loopback, fetcher):
    loopback.route("/busy", "slow down", status=429, headers={"Retry-After": "120"})
    with pytest.raises(HTTPStatusError) as info:
        await fetcher.fetch(loopback.url("/busy"))
    assert info.value.status == 429 and info.value.retry_after == 120
    assert "retry after 120 s" in str(info.value)


async def test_503_retry_after_http_date(loopback, fetcher):
    when = format_datetime(NOW + timedelta(minutes=5), usegmt=True)
    loopback.route("/down", "", status=503, headers={"Retry-After": when})
    with pytest.raises(HTTPStatusError) as info:
        await fetcher.fetch(loopback.url("/down"))
    assert info.value.status == 503 and info.value.retry_after == 300


async def test_404_and_unknown_status(loopback, fetcher):
    with pytest.raises(HTTPStatusError) as info:
        await fetcher.fetch(loopback.url("/missing"))
    assert info.value.status == 404
    loopback.route("/odd", "", status=599)
    with pytest.raises(HTTPStatusError) as info:
        await fetcher.fetch(loopback.url("/odd"))
    assert info.value.status == 599


# -- timeouts and slow hosts ----------------------------------------------------------

async def test_slow_server_times_out_quickly(loopback, fetcher):
    # The server would answer after a minute: a timeout (not the answer) proves the read limit.
    loopback.route("/slow", RSS, delay=60)
    with pytest.raises(FetchTimeout) as info:
        await fetcher.fetch(loopback.url("/slow"))
    assert loopback.url("/slow") in str(info.value) and "no data for 0.3 s" in str(info.value)


async def test_total_timeout_bounds_a_trickling_body(loopback):
    async def trickle(request):
        resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await resp.prepare(request)
        for _ in range(6000):  # ten minutes of trickle: only the total limit can end it early
            await resp.write(b"x")
            await asyncio.sleep(0.1)
        return resp

    loopback.route("/trickle", trickle)
    policy = FetchPolicy(read_timeout=60, total_timeout=0.5, per_host_spacing=0)
    async with Fetcher(policy) as f:
        with pytest.raises(FetchTimeout, match="more than 0.5 s in all"):
            await f.fetch(loopback.url("/trickle"))


def _held_until(release: threading.Event):
    """A handler that answers only once ``release`` is set (a host that hangs, by event)."""
    async def hold(request):
        while not release.is_set():
            await asyncio.sleep(0.01)
        return web.Response(text=RSS, content_type="application/xml")
    return hold


async def _until(condition, bound: float = 60) -> None:
    """Wait for ``condition()`` (generous bound), without blocking the event loop."""
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, "condition never came true"
        await asyncio.sleep(0.01)


async def test_hanging_host_does_not_delay_another_host(loopback):
    release = threading.Event()
    loopback.route("/hang", _held_until(release))
    policy = FetchPolicy(read_timeout=120, total_timeout=120, per_host_concurrency=2, per_host_spacing=0.05)
    try:
        with LoopbackServer() as other:
            other.route("/fast", RSS)
            async with Fetcher(policy) as f:
                # more hanging fetches than the host has slots: the rest queue on that host only
                slow = [asyncio.create_task(f.fetch(loopback.url("/hang"))) for _ in range(5)]
                await _until(lambda: loopback.max_concurrent("/hang") == 2)
                fast = await f.fetch(other.url("/fast"))  # answered while the host still hangs
                assert fast.status == 200
                assert not any(t.done() for t in slow) and loopback.hits("/hang") == 2
                release.set()
                results = await asyncio.gather(*slow)
    finally:
        release.set()
    assert all(r.status == 200 for r in results)
    assert loopback.max_concurrent("/hang") <= 2


async def test_hanging_source_holds_only_one_slot_of_its_host(loopback):
    release = threading.Event()
    loopback.route("/hang", _held_until(release))
    loopback.route("/fast", RSS)
    policy = FetchPolicy(read_timeout=120, total_timeout=120, per_host_concurrency=2, per_host_spacing=0)
    try:
        async with Fetcher(policy) as f:
            slow = asyncio.create_task(f.fetch(loopback.url("/hang")))
            await _until(lambda: loopback.hits("/hang") == 1)
            for _ in range(3):
                assert (await f.fetch(loopback.url("/fast"))).status == 200
            assert not slow.done()
            release.set()
            assert (await slow).status == 200
    finally:
        release.set()


async def test_localhost_is_another_host_of_the_same_server(loopback):
    release = threading.Event()
    loopback.route("/hang", _held_until(release))
    loopback.route("/fast", RSS)
    policy = FetchPolicy(read_timeout=120, total_timeout=120, per_host_concurrency=1, per_host_spacing=0)
    try:
        async with Fetcher(policy) as f:
            slow = asyncio.create_task(f.fetch(loopback.url("/hang")))
            await _until(lambda: loopback.hits("/hang") == 1)
            result = await f.fetch(loopback.url("/fast", host="localhost"))
            assert result.status == 200 and not slow.done()
            release.set()
            assert (await slow).status == 200
    finally:
        release.set()


# -- size caps ------------------------------------------------------------------------

async def test_oversized_with_content_length(loopback, fetcher):
    loopback.route("/big", b"x" * (FAST.max_bytes + 1), content_type="text/plain")
    with pytest.raises(ResponseTooLarge) as info:
        await fetcher.fetch(loopback.url("/big"))
    assert "Content-Length" in str(info.value)
    # exactly at the cap is fine
    loopback.route("/cap", b"x" * FAST.max_bytes, content_type="text/plain")
    assert len((await fetcher.fetch(loopback.url("/cap"))).body) == FAST.max_bytes


async def test_oversized_without_content_length(loopback, fetcher):
    loopback.route("/stream", b"x" * (4 * FAST.max_bytes), chunked=True, content_type="text/plain")
    with pytest.raises(ResponseTooLarge) as info:
        await fetcher.fetch(loopback.url("/stream"))
    assert "stopped reading" in str(info.value)
    # the fetcher stays usable afterwards
    loopback.route("/ok", "fine")
    assert (await fetcher.fetch(loopback.url("/ok"))).body == b"fine"


@pytest.mark.parametrize("chunked", [False, True])
async def test_gzip_bomb_is_stopped(loopback, fetcher, chunked):
    loopback.route("/bomb", b"\0" * (8 * 1024 * 1024), gzip=True, chunked=chunked)
    with pytest.raises(ResponseTooLarge):
        await fetcher.fetch(loopback.url("/bomb"))


# -- redirects ------------------------------------------------------------------------

async def test_redirect_loop(loopback, fetcher):
    loopback.route("/a", status=302, headers={"Location": "/b"})
    loopback.route("/b", status=301, headers={"Location": "/a"})
    with pytest.raises(TooManyRedirects) as info:
        await fetcher.fetch(loopback.url("/a"))
    assert "loop" in str(info.value)
    assert loopback.hits("/a") + loopback.hits("/b") == FAST.max_redirects + 1


async def test_redirect_chain_limit(loopback, fetcher):
    for i in range(10):
        loopback.route(f"/r{i}", status=307, headers={"Location": f"/r{i + 1}"})
    loopback.route("/r10", RSS)
    with pytest.raises(TooManyRedirects) as info:
        await fetcher.fetch(loopback.url("/r0"))
    assert "more than 5 redirects" in str(info.value)
    # exactly max_redirects hops is allowed
    result = await fetcher.fetch(loopback.url("/r5"))
    assert result.status == 200 and result.url == loopback.url("/r10")


async def test_relative_redirect_followed(loopback, fetcher):
    loopback.route("/old/feed", status=301, headers={"Location": "../new/feed.xml?x=1"})
    loopback.route("/new/feed.xml", RSS, etag='"n"')
    result = await fetcher.fetch(loopback.url("/old/feed"), etag='"n"')
    assert result.status == 304 and result.url == loopback.url("/new/feed.xml?x=1")
    assert loopback.requests("/new/feed.xml")[0]["query"] == "x=1"


async def test_redirect_without_location_or_to_other_scheme(loopback, fetcher):
    loopback.route("/noloc", status=302)
    with pytest.raises(HTTPStatusError) as info:
        await fetcher.fetch(loopback.url("/noloc"))
    assert "Location" in str(info.value)
    loopback.route("/ftp", status=302, headers={"Location": "ftp://example.org/x"})
    with pytest.raises(RetrieveError) as info:
        await fetcher.fetch(loopback.url("/ftp"))
    assert "unusable address" in str(info.value)


async def test_cross_origin_redirect_drops_credentials(loopback, fetcher):
    with LoopbackServer() as other:
        other.route("/there", RSS)
        loopback.route("/here", status=302, headers={"Location": other.url("/there")})
        await fetcher.fetch(loopback.url("/here"), headers={"Authorization": "Bearer s3cret", "X-Keep": "1"})
        sent = other.requests("/there")[0]["headers"]
    assert "Authorization" not in sent and sent["X-Keep"] == "1"
    assert loopback.requests("/here")[0]["headers"]["Authorization"] == "Bearer s3cret"


# -- connection failures and bad URLs -----------------------------------------------

async def test_connection_refused_without_leaking_secrets(fetcher):
    url = f"http://admin:hunter2@127.0.0.1:{free_port()}/feed?access_token=TOPSECRET&sign=abc&page=2"
    with pytest.raises(ConnectError) as info:
        await fetcher.fetch(url)
    msg = str(info.value)
    assert "\n" not in msg and "127.0.0.1" in msg and "page=2" in msg
    for secret in ("hunter2", "admin", "TOPSECRET", "abc"):
        assert secret not in msg
    assert info.value.kind == "connect"


async def test_server_disconnect_is_connect_error(loopback, fetcher):
    async def hang_up(request):
        request.transport.close()
        await asyncio.sleep(0.5)
        return web.Response(text="never")

    loopback.route("/bye", hang_up)
    with pytest.raises(ConnectError):
        await fetcher.fetch(loopback.url("/bye"))


async def test_truncated_body_is_connect_error(loopback, fetcher):
    async def short(request):
        resp = web.StreamResponse(headers={"Content-Length": "1000", "Content-Type": "text/plain"})
        await resp.prepare(request)
        await resp.write(b"x" * 10)
        request.transport.close()
        return resp

    loopback.route("/short", short)
    with pytest.raises(ConnectError):
        await fetcher.fetch(loopback.url("/short"))


@pytest.mark.parametrize("payload", [
    b"\x1b[31mhello\x1b[0m world\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
])
async def test_garbage_response_is_connect_error(fetcher, payload):
    async def answer(reader, writer):
        await reader.read(1000)
        writer.write(payload)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(ConnectError) as info:
            await fetcher.fetch(f"http://127.0.0.1:{port}/x")
    finally:
        server.close()
    msg = str(info.value)
    assert msg.isprintable() and len(msg) < 300 and f"127.0.0.1:{port}/x" in msg


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "http:///nohost", "not a url", "", "http://h:99999/"])
async def test_bad_urls_are_retrieve_errors(fetcher, url):
    with pytest.raises(RetrieveError):
        await fetcher.fetch(url)


# -- politeness: per-host concurrency, total concurrency, spacing --------------------

async def test_per_host_concurrency_cap(loopback):
    loopback.route("/slowish", RSS, delay=0.15)
    policy = FetchPolicy(per_host_concurrency=2, per_host_spacing=0)
    async with Fetcher(policy) as f:
        results = await asyncio.gather(*(f.fetch(loopback.url("/slowish")) for _ in range(6)))
    assert all(r.status == 200 for r in results)
    assert loopback.max_concurrent("/slowish") == 2


async def test_total_concurrency_cap(loopback):
    loopback.route("/slowish", RSS, delay=0.15)
    policy = FetchPolicy(per_host_concurrency=10, total_concurrency=3, per_host_spacing=0)
    async with Fetcher(policy) as f:
        await asyncio.gather(*(f.fetch(loopback.url("/slowish")) for _ in range(7)))
    assert loopback.max_concurrent() == 3


async def test_per_host_spacing(loopback):
    loopback.route("/s", RSS)
    spacing = 0.1
    policy = FetchPolicy(per_host_concurrency=4, per_host_spacing=spacing)
    async with Fetcher(policy) as f:
        start = time.monotonic()
        await asyncio.gather(*(f.fetch(loopback.url("/s")) for _ in range(4)))
        other = await f.fetch(loopback.url("/s", host="localhost"))  # another host: no wait
    assert other.status == 200
    # The k-th request cannot reach the server before it was sent, k spacings after the start:
    # a lower bound that a busy machine can only make later, never earlier.
    times = sorted(r["time"] for r in loopback.requests("/s"))[:4]
    assert len(times) == 4
    assert all(t >= start + k * spacing - 1e-3 for k, t in enumerate(times)), [t - start for t in times]


def test_usable_from_sync_code(loopback):
    loopback.route("/sync", "ok", content_type="text/plain")

    async def go():
        async with Fetcher(FAST) as f:
            return await f.fetch(loopback.url("/sync"))

    assert asyncio.run(go()).body == b"ok"
    assert loopback.hits("/sync") == 1


def test_loopback_serves_while_a_subprocess_runs(loopback):
    import subprocess
    import sys

    loopback.route("/sub", "来自回环", content_type="text/plain")
    code = "import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1]).read())"
    out = subprocess.run([sys.executable, "-c", code, loopback.url("/sub")], capture_output=True, timeout=20)
    assert out.returncode == 0 and out.stdout.decode("utf-8") == "来自回环"
    assert loopback.hits("/sub") == 1


async def test_unsendable_etag_and_bad_location_are_retrieve_errors(loopback, fetcher):
    loopback.route("/f", RSS)
    with pytest.raises(RetrieveError):
        await fetcher.fetch(loopback.url("/f"), etag='"a"\r\nX-Injected: 1')
    loopback.route("/badloc", status=302, headers={"Location": "http://[::1/x"})
    with pytest.raises(RetrieveError) as info:
        await fetcher.fetch(loopback.url("/badloc"))
    assert "unusable address" in str(info.value)
