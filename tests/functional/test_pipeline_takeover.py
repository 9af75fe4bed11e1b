"""Two `yuqing run --role pipeline` processes on one PostgreSQL database: the leader is killed with
SIGKILL inside a batch transaction and the standby takes over. Afterwards every item is analysed,
indexed and linked exactly once, and the stories and incidents are those a single process makes
from the same items.

The items are prepared (stored through monitor.store, as intake stores them), not collected, so
both runs see the same items in the same order: the district's stories of tests/functional/
test_kill_pipeline.py, quiet posts, outside noise and the district's own channel. The standby
classifies items ahead of the leader while it waits (an understanding worker), so its claims
and the leader's use of them are part of the run. Progress lines are printed (`pytest -s`).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from monitor import store as monitor_store
from monitor.types import ParsedItem, SourceSpec
from pipeline.schema import all_migrations
from storage.db import connect, open_db, transaction
from storage.pg import WRITER_LOCK_KEY
from storage.pglocks import LEADER_LOCK
from tests.functional.test_kill_pipeline import item_content
from tests.pipeline_kit import pipeline_home

pytestmark = [pytest.mark.slow, pytest.mark.postgresql]

SOURCES = {  # source -> (items, spec)
    "news": (260, dict(local=True, platform="news")),
    "weibo": (260, dict(local=True, platform="weibo")),
    "national": (200, dict(platform="news")),
    "own": (8, dict(local=True, own_channel=True, platform="gov")),
}
ROUND = 20  # items stored per source at a time, so every batch mixes sources
BOUND = 240  # seconds: a generous bound for each wait on a slow, busy machine
BATCH_TABLES = ("item_analysis", "items_fts", "incident_items", "incident_stories", "incident_evidence",
                "stories", "notice_outbox")


FIRST_ROUNDS = 1  # stored before the first process starts; the rest once the second stands by


def _store_items(url: str, now: datetime, rounds: slice) -> int:
    """Store those ``rounds`` of the prepared items (published over the last 40 minutes); the
    highest item id."""
    db = open_db(url, all_migrations())
    try:
        specs = {key: SourceSpec(id=key, name=key, url=f"http://127.0.0.1:9/{key}", **kw)
                 for key, (_, kw) in SOURCES.items()}
        monitor_store.sync_sources(db, list(specs.values()), now)
        start = now - timedelta(minutes=40)
        with transaction(db):  # a running pipeline sees the part whole: its batches are the single run's
            for first in list(range(0, max(n for n, _ in SOURCES.values()), ROUND))[rounds]:
                for key, (n, _) in SOURCES.items():
                    items = []
                    for i in range(first, min(first + ROUND, n)):
                        title, text, _ = item_content(key, i)
                        items.append(ParsedItem(guid=f"{key}-{i}", title=title, link=f"http://127.0.0.1/{key}/{i}",
                                                text=text, published=start + timedelta(seconds=2 * i)))
                    if items:
                        monitor_store.store_fetch(db, specs[key], items, now=now, next_check=now + timedelta(days=1),
                                                  etag=None, last_modified=None, body_digest=None)
        return db.execute("SELECT max(id) FROM items").fetchone()[0]
    finally:
        db.close()


def _one(url: str, sql: str, args=()):
    db = connect(url)
    try:
        return db.execute(sql, list(args)).fetchall()
    finally:
        db.close()


def _watermark(url: str) -> int:
    rows = _one(url, "SELECT last_item_id FROM pipeline_state WHERE stage = 'understand'")
    return rows[0][0] if rows else 0


def _lock_sessions(url: str) -> dict[int, bool]:
    """pid of each `yuqing pipeline` process with a leader-lock session -> whether it holds the lock."""
    rows = _one(url, "SELECT a.application_name, EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid"
                     " AND l.locktype = 'advisory' AND l.granted AND l.objid::bigint = ?)"
                     " FROM pg_stat_activity a WHERE a.application_name LIKE 'yuqing pipeline pid=%'", [LEADER_LOCK])
    return {int(name.split("pid=")[1].split()[0]): bool(held) for name, held in rows}


def _in_batch(url: str) -> bool:
    """Whether some session holds the desk's writer lock in the middle of a batch's statements."""
    rows = _one(url, "SELECT a.query FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                     " WHERE l.locktype = 'advisory' AND l.granted AND l.objid::bigint = ?"
                     " AND a.xact_start IS NOT NULL", [WRITER_LOCK_KEY])
    return any(any(t in (q or "") for t in BATCH_TABLES) for (q,) in rows)


def _wait(what: str, cond, bound: float = BOUND, every: float = 0.2):
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(every)
    pytest.fail(f"waited {bound:.0f} s for {what}")


def _pipeline(home, url: str) -> subprocess.Popen:
    log = open(home.path / f"run-{time.monotonic_ns()}.log", "wb")
    return subprocess.Popen([sys.executable, "-m", "yuqing", "--home", str(home.path), "--database", url,
                             "run", "--role", "pipeline"], stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _outcome(url: str) -> dict:
    """What the pipeline made, by guid (item ids are the same in both databases, guids say it plainly)."""
    guid = dict(_one(url, "SELECT id, guid FROM items"))
    stories: dict[str, set[str]] = {}
    for item, sid in _one(url, "SELECT item_id, story_id FROM item_analysis"):
        stories.setdefault(sid, set()).add(guid[item])
    links: dict[int, set[str]] = {}
    for iid, item in _one(url, "SELECT incident_id, item_id FROM incident_items"):
        links.setdefault(iid, set()).add(guid[int(item)])
    story_of: dict[int, set[str]] = {}
    for sid, iid in _one(url, "SELECT story_id, incident_id FROM incident_stories"):
        story_of.setdefault(iid, set()).add(sid)
    events: dict[int, Counter] = {}
    for iid, kind in _one(url, "SELECT incident_id, kind FROM timeline_events"):
        if not kind.startswith(("clock", "alert")):  # when clock alerts fire depends on the wall clock
            events.setdefault(iid, Counter())[kind] += 1
    incidents = sorted(
        (title, topic, severity, tuple(sorted(story_of.get(iid, ()))), tuple(sorted(links.get(iid, ()))),
         tuple(sorted(events.get(iid, Counter()).items())))
        for iid, title, topic, severity in _one(url, "SELECT id, title, topic, severity FROM incidents"))
    return {"stories": sorted((sid, tuple(sorted(g))) for sid, g in stories.items()), "incidents": incidents,
            "proposals": sorted(guid[int(i)] for (i,) in _one(url, "SELECT item_id FROM release_proposals"))}


def _exactly_once(url: str, total: int) -> None:
    ids = [r[0] for r in _one(url, "SELECT id FROM items")]
    assert len(ids) == total
    for table, col in (("item_analysis", "item_id"), ("items_fts", "rowid")):
        got = Counter(r[0] for r in _one(url, f"SELECT {col} FROM {table}"))
        assert got == Counter(ids), f"{table}: items missing or twice"
    per_item = Counter(r[0] for r in _one(url, "SELECT item_id FROM incident_items"))
    assert per_item and set(per_item.values()) == {1}, "an item is linked twice"
    told = Counter(i for (p,) in _one(url, "SELECT payload FROM timeline_events WHERE kind IN"
                                          " ('item_linked', 'candidate_joined', 'detected')")
                   for i in __import__("json").loads(p).get("item_ids", []))
    assert all(n == 1 for n in told.values()), f"an item's link is on the timeline twice: {told.most_common(3)}"
    assert _one(url, "SELECT count(*) FROM item_understanding")[0][0] == 0, "claims left behind"


def test_a_killed_leaders_standby_takes_over_and_the_outcome_is_a_single_runs(tmp_path, pg_server, pg_url):
    t0 = time.monotonic()
    now = datetime.now(timezone.utc)
    home = pipeline_home(tmp_path / "home")  # the topic model trained already, for all three runs
    from yuqing.pipeline import desk_pipeline

    reference = pg_server.create_database()
    try:
        total = sum(n for n, _ in SOURCES.values())
        # The single-process run over the same items, stored in the same two parts.
        pipe = desk_pipeline(reference, home.path, clock=lambda: datetime.now(timezone.utc))
        pipe.open()
        try:
            for part in (slice(None, FIRST_ROUNDS), slice(FIRST_ROUNDS, None)):
                _store_items(reference, now, part)
                while pipe.step() or pipe.last_batch:
                    pass
        finally:
            pipe.close()
        want = _outcome(reference)
        assert want["incidents"] and len(want["stories"]) > 10
        print(f"single run: {len(want['incidents'])} incidents, {len(want['stories'])} stories "
              f"({time.monotonic() - t0:.1f} s)")

        first = _store_items(pg_url, now, slice(None, FIRST_ROUNDS))
        leader = _pipeline(home, pg_url)
        standby = None
        try:
            _wait("the first process to lead", lambda: _lock_sessions(pg_url).get(leader.pid))
            _wait("the first part analysed", lambda: _watermark(pg_url) == first)
            standby = _pipeline(home, pg_url)
            _wait("the second process to stand by", lambda: standby.pid in _lock_sessions(pg_url), every=0.1)
            assert _lock_sessions(pg_url)[standby.pid] is False
            top = _store_items(pg_url, now, slice(FIRST_ROUNDS, None))
            # Kill the leader inside a batch transaction, before the last batch is written.
            claims = Counter()

            def in_batch() -> bool:
                for (who,) in _one(pg_url, "SELECT claimed_by FROM item_understanding"):
                    claims[who] += 0
                claims.update(who for (who,) in _one(pg_url, "SELECT claimed_by FROM item_understanding"
                                                            " WHERE result IS NOT NULL"))
                return _watermark(pg_url) >= top or _in_batch(pg_url)

            _wait("the leader inside a batch", in_batch, every=0.01)
            mark = _watermark(pg_url)
            leader.send_signal(signal.SIGKILL)
            leader.wait(30)
            killed_at = time.monotonic()
            assert mark < top, "the leader finished before it could be killed mid-batch"
            print(f"leader killed inside a batch after item {mark} of {top} ({killed_at - t0:.1f} s); "
                  f"understanding workers seen: {sorted(claims)}")
            _wait("the standby to lead", lambda: _lock_sessions(pg_url).get(standby.pid), every=0.05)
            print(f"standby leads {time.monotonic() - killed_at:.1f} s after the kill")
            _wait("the standby to catch up", lambda: _watermark(pg_url) == top)
            print(f"caught up {time.monotonic() - killed_at:.1f} s after the kill")
            standby.send_signal(signal.SIGTERM)
            assert standby.wait(60) == 0, "SIGTERM must exit cleanly"
        finally:
            for proc in (leader, standby):
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait(30)
        _exactly_once(pg_url, total)
        _exactly_once(reference, total)
        got = _outcome(pg_url)
        assert got["stories"] == want["stories"]
        assert got["incidents"] == want["incidents"]
        assert got["proposals"] == want["proposals"]
        started = _one(pg_url, "SELECT count(*) FROM timeline_events WHERE kind = 'detected'")[0][0]
        assert started == len(want["incidents"])
    finally:
        pg_server.drop_database(reference.rsplit("/", 1)[1])
