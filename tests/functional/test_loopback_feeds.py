"""bench/loopback_feeds.py: the benchmark's feed server works as documented."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import aiohttp
import pytest

from monitor.exceptions import HTTPStatusError
from monitor.fetch import Fetcher, FetchPolicy

_PATH = Path(__file__).resolve().parents[2] / "bench" / "loopback_feeds.py"


@pytest.fixture(scope="module")
def lf():
    spec = importlib.util.spec_from_file_location("loopback_feeds", _PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["loopback_feeds"] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("loopback_feeds", None)


async def test_feeds_etag_publish_and_sources(lf):
    import feedparser
    import tomllib

    runner, base_url = await lf.serve(6, items=4, period=600, hosts=3)
    try:
        urls = lf.feed_urls(base_url, 6)
        assert len({u.split("/")[2] for u in urls}) == 3  # three loopback hosts
        async with Fetcher(FetchPolicy(per_host_spacing=0)) as f:
            first = await f.fetch(urls[4])
            feed = feedparser.parse(first.body)
            assert not feed.bozo and len(feed.entries) == 4
            assert first.etag
            again = await f.fetch(urls[4], etag=first.etag)
            assert again.status == 304
            async with aiohttp.ClientSession() as session:
                async with session.post(f"{base_url}/feed/4/publish", json={"title": "汉台区测试突发"}) as resp:
                    info = await resp.json()
            changed = await f.fetch(urls[4], etag=first.etag)
            entries = feedparser.parse(changed.body).entries
            assert changed.status == 200 and entries[0].title == "汉台区测试突发"
            assert entries[0].id == info["guid"] and len(entries) == 4
            sources = tomllib.loads((await f.fetch(f"{base_url}/sources.toml?interval=60")).body.decode())
            assert len(sources["sources"]) == 6
            assert sources["sources"]["bench-0004"]["url"] == urls[4]
            assert sources["sources"]["bench-0004"]["interval"] == 60
            stats = json.loads((await f.fetch(f"{base_url}/stats")).body)
            assert stats["not_modified"] == 1 and stats["published"] == 1
            with pytest.raises(HTTPStatusError) as err:
                await f.fetch(f"{base_url}/feed/99.xml")
            assert err.value.status == 404
    finally:
        await runner.cleanup()
