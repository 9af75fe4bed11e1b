"""Redirects into the desk's own network (issue 18, item 5), against real loopback servers.

A "public" source is reached the way many desks reach the internet: through an HTTP proxy
(``trust_env``), here a loopback server answering for ``feeds.example``. Internal addresses
are in NO_PROXY, so a followed redirect would really reach the internal server.
"""
from __future__ import annotations

import pytest

from monitor.exceptions import RetrieveError
from monitor.fetch import Fetcher, FetchPolicy
from monitor.parsing import parse_document
from tests.loopback import LoopbackServer

SECRET = "INTERNAL-ADMIN-PAGE token=abc"
POLICY = FetchPolicy(connect_timeout=2, read_timeout=2, total_timeout=5, per_host_spacing=0, trust_env=True)


@pytest.fixture
def servers(monkeypatch):
    with LoopbackServer() as proxy, LoopbackServer() as internal:
        internal.route("/secret", SECRET, content_type="text/plain")
        monkeypatch.setenv("HTTP_PROXY", proxy.url("").rstrip("/"))
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,127.1,0x7f000001,[::ffff:127.0.0.1],10.0.0.1,169.254.169.254")
        for name in ("http_proxy", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        yield proxy, internal


def _targets(port: int) -> list[tuple[str, int]]:
    return [
        (f"http://127.0.0.1:{port}/secret", 302),
        (f"http://localhost:{port}/secret", 301),
        (f"http://user@127.0.0.1:{port}/secret", 302),
        (f"http://127.0.0.1:{port}/secret", 307),
        (f"http://127.1:{port}/secret", 302),
        (f"http://0x7f000001:{port}/secret", 308),
        (f"http://[::ffff:127.0.0.1]:{port}/secret", 302),
        ("http://10.0.0.1/admin", 302),
        ("http://169.254.169.254/latest/meta-data/", 302),
    ]


@pytest.mark.parametrize("case", range(9))
async def test_public_source_may_not_redirect_inside(servers, case):
    proxy, internal = servers
    target, status = _targets(internal.port)[case]
    proxy.route("/feed.xml", "", status=status, headers={"Location": target})
    proxy.route("/ok", "fine", content_type="text/plain")
    async with Fetcher(POLICY) as f:
        assert (await f.fetch("http://feeds.example/ok")).body == b"fine"  # the proxy path works
        with pytest.raises(RetrieveError) as info:
            await f.fetch("http://feeds.example/feed.xml")
    msg = str(info.value)
    assert "desk's own network" in msg and "feeds.example" in msg
    assert internal.hits("/secret") == 0
    assert "INTERNAL" not in msg and "abc" not in msg


async def test_public_to_public_redirect_still_followed(servers):
    proxy, _internal = servers
    proxy.route("/feed.xml", "", status=302, headers={"Location": "http://mirror.example/rss"})
    proxy.route("/rss", "<rss version='2.0'><channel><title>t</title></channel></rss>")
    async with Fetcher(POLICY) as f:
        res = await f.fetch("http://feeds.example/feed.xml")
    assert res.status == 200 and res.url == "http://mirror.example/rss"


async def test_intranet_source_may_redirect_inside(servers):
    """A desk may watch an intranet site on purpose: its own redirects stay allowed."""
    _proxy, internal = servers
    with LoopbackServer() as intranet:
        intranet.route("/feed", "", status=302, headers={"Location": internal.url("/secret", host="localhost")})
        async with Fetcher(POLICY) as f:
            res = await f.fetch(intranet.url("/feed"))
    assert res.status == 200 and res.body == SECRET.encode()


def test_parse_errors_quote_no_body():
    with pytest.raises(Exception) as info:
        parse_document(SECRET.encode(), kind="auto")
    assert "INTERNAL" not in str(info.value) and "abc" not in str(info.value)
