"""A full disk under the running desk: one clear line per streak, no tracebacks, the fetches back
off (each source's attempts grow apart) and so does the pipeline; when space returns the desk
stores and understands again, and the database is sound.

The desk runs on a small tmpfs in a private mount namespace (`unshare -rm`, no privileges
needed where user namespaces are enabled; the test skips elsewhere), filled by a filler file.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from email.utils import format_datetime
from datetime import datetime, timezone
from pathlib import Path

import pytest
from aiohttp import web
from click.testing import CliRunner

from tests.loopback import send_rss, serve_app
from yuqing.cli import cli

CHILD = Path(__file__).with_name("_disk_full_child.py")
FULL_SECONDS = 20.0
FEEDS = ("a", "b", "c")


def _unshare_works() -> bool:
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return False
    try:
        probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt 2>/dev/null"
                                " || mount -t tmpfs -o size=1m tmpfs /tmp"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


class Feeds:
    """RSS feeds that grow by one item per request (so every fetch has something to store)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.hits: dict[str, list[float]] = {f: [] for f in FEEDS}

    async def handle(self, request: web.Request) -> web.Response:
        feed = request.match_info["feed"]
        with self.lock:
            self.hits[feed].append(time.monotonic())
            n = len(self.hits[feed])
        pub = format_datetime(datetime.now(timezone.utc))
        entries = [f"<item><title>汉台区{feed}新闻第{i}条 铺镇道路施工</title><link>http://127.0.0.1/{feed}/{i}</link>"
                   f"<guid isPermaLink='false'>{feed}-{i}</guid><pubDate>{pub}</pubDate>"
                   f"<description>{'铺镇道路施工进展顺利，' * 40}{i}</description></item>"
                   for i in range(max(0, n - 20), n)]
        return await send_rss(request, entries)


@pytest.mark.slow
def test_full_disk_backs_off_says_so_once_and_recovers(tmp_path):
    if not _unshare_works():
        pytest.skip("needs `unshare -rm` and tmpfs mounts (user namespaces)")
    feeds = Feeds()
    app = web.Application()
    app.router.add_get("/f/{feed}", feeds.handle)
    with serve_app(app) as base:
        home = tmp_path / "home"
        assert CliRunner().invoke(cli, ["--home", str(home), "init"]).exit_code == 0
        (home / "sources.toml").write_text("".join(
            f'[sources.{f}]\nname = "{f}"\nurl = "{base}/f/{f}"\ninterval = 1\nkind = "rss"\nlocal = true\n'
            for f in FEEDS), encoding="utf-8")
        err = tmp_path / "stderr.txt"
        out = subprocess.run(["unshare", "-rm", sys.executable, str(CHILD), str(home), str(tmp_path / "mnt"),
                              str(err), str(FULL_SECONDS)], capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    stderr = err.read_text("utf-8", errors="replace")

    assert report["integrity"] == "ok" and report["rc"] == 0
    assert "Traceback" not in stderr and "Logging error" not in stderr, stderr[-3000:]
    assert "Traceback" not in report["log"], report["log"][-3000:]
    # One line per streak: intake says it once, each pipeline stage at most once.
    said = [line for line in stderr.splitlines() if "cannot be written" in line or "cannot write the database" in line]
    assert 1 <= len(said) <= 3, said
    assert sum("cannot be written" in line for line in said) == 1, said
    assert len(stderr.encode()) < 20_000, f"{len(stderr)} bytes of stderr"
    assert "can be written again" in stderr
    # Backoff: with a 1 s interval, doubling waits allow about log2(window) attempts per source,
    # not one a second.
    window = (report["full_from"] + 1, report["full_until"])
    for feed, hits in feeds.hits.items():
        during = [t for t in hits if window[0] <= t <= window[1]]
        assert len(during) <= 7, f"source {feed}: {len(during)} fetches in {FULL_SECONDS:g} s of a full disk"
