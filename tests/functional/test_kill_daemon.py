"""SIGKILL the daemon again and again during ingestion: afterwards every item the
server served is stored exactly once."""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest
from aiohttp import web

from tests.loopback import send_rss, serve_app

N_FEEDS = 12
ITEMS_PER_SECOND = 8  # per feed


class GrowingFeeds:
    """RSS feeds whose items keep growing while `growing` is set; records what it served."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.frozen_at: float | None = None
        self.served: dict[int, set[str]] = {k: set() for k in range(N_FEEDS)}
        self.lock = threading.Lock()

    def count(self) -> int:
        now = self.frozen_at if self.frozen_at is not None else time.monotonic()
        return int((now - self.t0) * ITEMS_PER_SECOND) + 1

    async def handle(self, request: web.Request) -> web.Response:
        k = int(request.match_info["k"])
        n = self.count()
        base = datetime(2026, 6, 14, tzinfo=timezone.utc)
        entries = []
        guids = []
        for i in range(n - 1, -1, -1):
            guid = f"feed{k}-item{i}"
            guids.append(guid)
            pub = format_datetime(base + timedelta(seconds=i))
            entries.append(
                f"<item><title>第{k}号源 第{i}条</title><link>http://127.0.0.1/f{k}/{i}</link>"
                f"<guid isPermaLink='false'>{guid}</guid><pubDate>{pub}</pubDate><description>正文{i}</description></item>")
        resp = await send_rss(request, entries)
        with self.lock:  # only count as served once fully sent
            self.served[k].update(guids)
        return resp


@pytest.fixture
def feeds():
    state = GrowingFeeds()
    app = web.Application()
    app.router.add_get("/f/{k}", state.handle)
    with serve_app(app) as base:
        state.base = base
        yield state


def _write_home(home, base):
    home.mkdir()
    (home / "desk.toml").write_text(
        '[desk]\ndistrict_code = "610702"\ndistrict_name = "汉台区"\ntimezone = "Asia/Shanghai"\n'
        "[fetch]\nper_host_concurrency = 4\nper_host_spacing = 0.01\n", encoding="utf-8")
    lines = []
    for k in range(N_FEEDS):
        lines.append(f'[sources.f{k}]\nurl = "{base}/f/{k}"\nkind = "rss"\ninterval = 1\n')
    (home / "sources.toml").write_text("\n".join(lines), encoding="utf-8")


def _daemon(home):
    return subprocess.Popen(
        [sys.executable, "-m", "yuqing", "--home", str(home), "run"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.mark.slow
def test_sigkill_loses_and_duplicates_nothing(tmp_path, feeds):
    home = tmp_path / "home"
    _write_home(home, feeds.base)
    rng = random.Random(20260614)
    kills = 0
    for _ in range(12):
        proc = _daemon(home)
        time.sleep(rng.uniform(0.8, 2.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        kills += 1
    feeds.frozen_at = time.monotonic()  # the world stops growing; one clean run catches up
    started = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    proc = _daemon(home)
    deadline = time.monotonic() + 30
    expected = {g for k in range(N_FEEDS) for g in feeds.served[k]}
    con = sqlite3.connect(home / "desk.sqlite")
    try:
        while time.monotonic() < deadline:
            time.sleep(0.5)
            try:
                stored = [r[0] for r in con.execute("SELECT guid FROM items")]
                checked = con.execute("SELECT count(*) FROM sources WHERE last_check_at > ?",
                                      [started]).fetchone()[0]
            except sqlite3.OperationalError:
                continue
            expected = {g for k in range(N_FEEDS) for g in feeds.served[k]}
            if checked == N_FEEDS and expected <= set(stored):
                break
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0, "SIGTERM must exit cleanly"
        stored = [r[0] for r in con.execute("SELECT guid FROM items")]
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    assert kills == 12
    assert len(stored) == len(set(stored)), "an item was stored twice"
    missing = expected - set(stored)
    assert not missing, f"{len(missing)} served items never stored, e.g. {sorted(missing)[:3]}"
    assert set(stored) <= {f"feed{k}-item{i}" for k in range(N_FEEDS) for i in range(feeds.count())}
