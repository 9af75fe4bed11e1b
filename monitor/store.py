"""The item store and source state: the tables owned by ``monitor``.

Items are stored exactly once per (source, guid) and once per canonical URL.
A feed's new items, its conditional-GET validators and its schedule are written
in one transaction, so a crash at any point either keeps the whole fetch or
none of it: the next fetch then stores the same items again, once. A source is
leased to the collector fetching it (several collectors share one desk on a
PostgreSQL server); the fetch's write ends the lease.
"""
from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Sequence

import sqlite_utils
from sqlite_utils import Migrations

from common.hashing import content_hash
from monitor.exceptions import MonitorError
from monitor.schedule import DEFAULT_MAX_BACKOFF
from monitor.timebounds import Bounded, bound_published, neighbour_floor, published_note
from monitor.types import ParsedItem, SourceHealth, SourceSpec, StoredItem
from monitor.urls import canonical_url
from storage.db import dialect, is_disk_full, transaction
from storage.dburl import redacted
from storage.timeutil import from_db, to_db

migrations = Migrations("monitor")

SILENT_FACTOR = 4.0  # silent when no new item for this many times the usual gap
SILENT_MIN_EVENTS = 3  # ... once the usual gap is known from at least this many arrivals


@migrations()
def m001_sources_and_items(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE sources (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            url TEXT NOT NULL,
            spec TEXT NOT NULL,              -- the SourceSpec as JSON
            enabled INTEGER NOT NULL DEFAULT 1,
            interval INTEGER NOT NULL,
            priority INTEGER NOT NULL,
            next_check_at TEXT,
            etag TEXT,
            last_modified TEXT,
            body_hash TEXT,
            last_check_at TEXT,
            last_success_at TEXT,
            last_error_at TEXT,
            last_error TEXT,
            error_streak INTEGER NOT NULL DEFAULT 0,
            last_new_item_at TEXT,
            new_item_events INTEGER NOT NULL DEFAULT 0,
            avg_gap_seconds REAL,
            items_total INTEGER NOT NULL DEFAULT 0
        )""")
    db.execute("""
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            source_id TEXT NOT NULL,
            guid TEXT NOT NULL,
            url TEXT,
            canonical_url TEXT,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            author TEXT,
            published TEXT,
            fetched_at TEXT NOT NULL,
            metrics TEXT NOT NULL DEFAULT '{}',
            content_hash TEXT NOT NULL,
            UNIQUE (source_id, guid)
        )""")
    db.execute("CREATE UNIQUE INDEX items_canonical_url ON items(canonical_url) WHERE canonical_url IS NOT NULL")
    db.execute("CREATE INDEX items_source_fetched ON items(source_id, fetched_at)")
    db.execute("CREATE INDEX items_published ON items(published)")
    db.execute("CREATE INDEX items_content_hash ON items(content_hash)")
    # Metric history (hot-list rank, heat, repost counts) per sighting of an item.
    db.execute("""
        CREATE TABLE item_metrics (
            item_id INTEGER NOT NULL REFERENCES items(id),
            at TEXT NOT NULL,
            metrics TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX item_metrics_item ON item_metrics(item_id, at)")


@migrations()
def m002_item_private(db: sqlite_utils.Database) -> None:
    # Personal data from manual intake (caller name, phone, address), kept apart from item text.
    db.execute(
        "CREATE TABLE item_private (item_id INTEGER PRIMARY KEY REFERENCES items(id),"
        " name TEXT, phone TEXT, address TEXT)"
    )


@migrations()
def m003_published_bounds(db: sqlite_utils.Database) -> None:
    # A publication time clamped at intake (monitor/timebounds.py): the feed's own time and why.
    db.execute("ALTER TABLE items ADD COLUMN published_orig TEXT")
    db.execute("ALTER TABLE items ADD COLUMN published_flag TEXT")


@migrations()
def m004_item_sightings(db: sqlite_utils.Database) -> None:
    # A known link seen on another source: that source's item is stored (without the canonical
    # URL, which stays the first item's) and recorded here as a sighting of the first item.
    db.execute("""
        CREATE TABLE item_sightings (
            sighting_id INTEGER PRIMARY KEY REFERENCES items(id),
            item_id INTEGER NOT NULL REFERENCES items(id),
            source_id TEXT NOT NULL,
            seen_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX item_sightings_item ON item_sightings(item_id)")


@migrations()
def m005_item_versions(db: sqlite_utils.Database) -> None:
    # An item re-served under the same guid with another title or text: every version seen.
    db.execute("""
        CREATE TABLE item_versions (
            item_id INTEGER NOT NULL REFERENCES items(id),
            version INTEGER NOT NULL,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            PRIMARY KEY (item_id, version)
        )""")
    # How many versions the item has (1: never changed): a re-served item is compared with the
    # versions table only when it has changed before.
    db.execute("ALTER TABLE items ADD COLUMN versions INTEGER NOT NULL DEFAULT 1")


@migrations()
def m006_content_hash_sha256(db: sqlite_utils.Database) -> None:
    # Stored hashes were sha1 of the same text: recompute them with the desk's one content hash.
    db.conn.executemany("UPDATE items SET content_hash = ? WHERE id = ?",
                   [(content_hash(t, x), i) for i, t, x in db.execute("SELECT id, title, text FROM items")])
    db.conn.executemany("UPDATE item_versions SET content_hash = ? WHERE item_id = ? AND version = ?",
                   [(content_hash(t, x), i, v)
                    for i, v, t, x in db.execute("SELECT item_id, version, title, text FROM item_versions")])


@migrations()
def m007_source_leases(db: sqlite_utils.Database) -> None:
    # Several collectors share the due sources: a source being fetched is leased to one of them
    # until lease_until (a leaseholder that dies leaves a lease that simply expires).
    db.execute("ALTER TABLE sources ADD COLUMN lease_owner TEXT")
    db.execute("ALTER TABLE sources ADD COLUMN lease_until TEXT")
    # The claim's order (_URGENT), so a claim reads the most urgent rows instead of sorting them all.
    # SQLite puts NULLs first in an ascending index by itself (and takes no NULLS FIRST there).
    nulls_first = " NULLS FIRST" if dialect(db) == "postgresql" else ""
    db.execute(f"CREATE INDEX sources_due ON sources(priority, next_check_at{nulls_first}, id)")


MAX_VERSIONS = 50  # per item: a feed whose text changes at every fetch must not grow without bound


class StoreFull(MonitorError):
    """The database or its disk is full: nothing of this write was stored (it is retried)."""


def _db_file(db) -> str:
    """The database's file, or its server URL without a password."""
    if dialect(db) == "postgresql":
        return redacted(db.url)
    try:
        return db.conn.execute("PRAGMA database_list").fetchone()[2] or ":memory:"
    except sqlite3.Error:  # pragma: no cover
        return "the desk database"


def _full_is_clear(fn):
    """Turn "database or disk is full" (SQLite's, or the server's "no space left") into a
    one-line StoreFull naming the database."""
    @functools.wraps(fn)
    def wrapper(db, *args, **kwargs):
        try:
            return fn(db, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            if not is_disk_full(exc):
                raise
            raise StoreFull(f"磁盘/数据库已满: {_db_file(db)} ({exc}); free disk space — nothing was lost,"
                            " the source is fetched again on its next check") from None
    return wrapper


def body_hash(body: bytes) -> str:
    return hashlib.sha1(body).hexdigest()


@dataclass(frozen=True)
class StoreOutcome:
    new_ids: tuple[int, ...]
    updated: int  # known items whose metrics changed
    duplicates: int  # items this source already has under another guid (same canonical URL)
    sightings: int = 0  # new items whose link another source's item already has (stored, as sightings)
    edited: int = 0  # known items re-served with another title or text (a new version kept)
    clamped: int = 0  # new items whose publication time was implausible (clamped, original kept)


# ---------------------------------------------------------------- sources

def sync_sources(db: sqlite_utils.Database, specs: Sequence[SourceSpec], now: datetime) -> None:
    """Make the sources table match the configuration; keep each source's state.

    Sources no longer configured are disabled, never deleted: their items stay. Only what differs
    is written, so a collector whose sources.toml matches the desk's changes no definition (its
    database role may update a source's schedule and health only).
    """
    with transaction(db):
        stored = {r[0]: tuple(r[1:]) for r in db.execute(
            "SELECT id, name, url, spec, enabled, interval, priority FROM sources")}
        for spec in specs:
            spec_json = json.dumps(_spec_dict(spec), ensure_ascii=False, sort_keys=True)
            values = (spec.name, spec.url, spec_json, int(spec.enabled), spec.interval, spec.priority)
            if spec.id in stored:
                if stored[spec.id] != values:
                    db.execute("UPDATE sources SET name=?, url=?, spec=?, enabled=?, interval=?, priority=? WHERE id=?",
                               [*values, spec.id])
            else:
                db.execute(
                    "INSERT INTO sources (id, name, url, spec, enabled, interval, priority, next_check_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [spec.id, *values, to_db(now)])
        configured = {s.id for s in specs}
        gone = [sid for sid, row in stored.items() if sid not in configured and row[3] != 0]
        if gone:
            db.execute(f"UPDATE sources SET enabled = 0 WHERE id IN ({','.join('?' * len(gone))})", gone)


def _spec_dict(spec: SourceSpec) -> dict[str, Any]:
    return {
        "id": spec.id, "name": spec.name, "url": spec.url, "kind": spec.kind, "mapping": spec.mapping,
        "fields": dict(spec.fields), "interval": spec.interval, "priority": spec.priority,
        "encoding": spec.encoding, "enabled": spec.enabled, "own_channel": spec.own_channel,
        "local": spec.local, "platform": spec.platform,
    }


def spec_from_row(row: dict) -> SourceSpec:
    d = json.loads(row["spec"])
    d["enabled"] = bool(row["enabled"])
    return SourceSpec(**d)


LEASE_CLOCK_SLACK = 4  # a lease ending more than this many leases ahead was taken by a clock running ahead
_DUE = "enabled = 1 AND (next_check_at IS NULL OR next_check_at <= ? OR next_check_at > ?)"
_URGENT = "priority, next_check_at NULLS FIRST, id"  # most urgent first (the sources_due index)


def due_sources(db: sqlite_utils.Database, now: datetime, exclude: Iterable[str] = ()) -> list[tuple[SourceSpec, dict]]:
    """Enabled sources whose next check is due, most urgent first (leases not considered).

    A next check further ahead than any schedule can put it (twice the longest wait:
    backoff cap or interval, with full jitter) means the system clock went back: such a
    source is due now instead of stalling until the wall clock catches up.
    """
    rows = db.execute_returning_dicts(f"SELECT * FROM sources WHERE {_DUE} ORDER BY {_URGENT}", _due_params(now))
    return _due_rows(rows, now, exclude)


def claim_due_sources(db: sqlite_utils.Database, now: datetime, owner: str, lease_seconds: float, *,
                      limit: int | None = None, exclude: Iterable[str] = ()) -> list[tuple[SourceSpec, dict]]:
    """Lease up to ``limit`` due sources to collector ``owner`` until ``now + lease_seconds``, most
    urgent first, and return them as :func:`due_sources` does.

    A source leased to another collector is not due until its lease ends: several collectors (on
    several machines, PostgreSQL) never fetch one source at once, and a collector that died
    holds its sources no longer than its lease. A lease ending further ahead than any lease can
    (``LEASE_CLOCK_SLACK`` leases) was taken while the clock was ahead: it is void.

    On PostgreSQL the rows are claimed with ``FOR UPDATE SKIP LOCKED`` outside the desk's
    writer lock, so concurrent claims neither queue nor take the same row; SQLite's one write
    lock serialises claims by itself. The fetch's write (:func:`store_fetch`,
    :func:`record_not_modified`, :func:`record_error`) ends the lease and sets the next check.
    """
    if limit is not None and limit <= 0:
        return []
    skip_locked = " FOR UPDATE SKIP LOCKED" if dialect(db) == "postgresql" else ""
    with transaction(db, desk_lock=False):
        rows = db.execute_returning_dicts(
            f"SELECT * FROM sources WHERE {_DUE} AND (lease_until IS NULL OR lease_until <= ? OR lease_until > ?)"
            f" ORDER BY {_URGENT}{' LIMIT ?' if limit is not None else ''}{skip_locked}",
            _due_params(now) + [to_db(now), to_db(now + timedelta(seconds=LEASE_CLOCK_SLACK * lease_seconds))]
            + ([limit] if limit is not None else []))
        picked = _due_rows(rows, now, exclude)
        if picked:
            ids = [spec.id for spec, _ in picked]
            db.execute(f"UPDATE sources SET lease_owner = ?, lease_until = ? WHERE id IN ({','.join('?' * len(ids))})",
                       [owner, to_db(now + timedelta(seconds=lease_seconds)), *ids])
    return picked


def renew_leases(db: sqlite_utils.Database, owner: str, source_ids: Sequence[str], until: datetime) -> int:
    """Extend collector ``owner``'s leases on ``source_ids`` (fetches still waiting for their
    host's turn) to ``until``; a lease another collector holds by now is left alone. How many
    were renewed."""
    if not source_ids:
        return 0
    with transaction(db, desk_lock=False):
        return db.execute(
            f"UPDATE sources SET lease_until = ? WHERE lease_owner = ? AND id IN ({','.join('?' * len(source_ids))})",
            [to_db(until), owner, *source_ids]).rowcount


def release_leases(db: sqlite_utils.Database, owner: str | None = None) -> int:
    """End the leases of collector ``owner`` (every lease with None), e.g. of the fetches a
    stopping collector dropped, so others take those sources at once; how many were held."""
    where, params = ("lease_owner = ?", [owner]) if owner is not None else ("lease_owner IS NOT NULL", [])
    with transaction(db, desk_lock=False):
        return db.execute(f"UPDATE sources SET lease_owner = NULL, lease_until = NULL WHERE {where}",
                          params).rowcount


def _due_params(now: datetime) -> list:
    return [to_db(now), to_db(now + timedelta(seconds=2 * DEFAULT_MAX_BACKOFF))]


def _due_rows(rows: list[dict], now: datetime, exclude: Iterable[str]) -> list[tuple[SourceSpec, dict]]:
    skip = set(exclude)
    out = []
    for r in rows:
        if r["id"] in skip:
            continue
        nxt = from_db(r["next_check_at"])
        if nxt is not None and nxt > now:
            longest = 2 * max(DEFAULT_MAX_BACKOFF, float(r["interval"])) + 60
            if (nxt - now).total_seconds() <= longest:
                continue
        out.append((spec_from_row(r), r))
    return out


def source_specs(db: sqlite_utils.Database) -> dict[str, dict]:
    """Every source's id -> its spec as stored (the decoded JSON object), enabled or not."""
    return {r["id"]: json.loads(r["spec"]) for r in db.execute_returning_dicts("SELECT id, spec FROM sources")}


def _own_channels(specs: dict[str, dict]) -> set[str]:
    """Ids of the sources whose stored spec says own_channel (read in Python: JSON functions
    differ between the backends, and the sources table is small)."""
    return {sid for sid, d in specs.items() if d.get("own_channel") is True or d.get("own_channel") == 1}


def source_row(db: sqlite_utils.Database, source_id: str) -> dict | None:
    rows = db.execute_returning_dicts("SELECT * FROM sources WHERE id = ?", [source_id])
    return rows[0] if rows else None


def source_names(db: sqlite_utils.Database) -> dict[str, str]:
    """Source id -> its configured display name (what staff read instead of the id)."""
    return {sid: name for sid, name in db.execute("SELECT id, name FROM sources") if name}


_END_LEASE = "lease_owner = NULL, lease_until = NULL"  # the fetch is written: the source is free again


@_full_is_clear
def record_not_modified(db, source_id: str, now: datetime, next_check: datetime) -> None:
    """A 304 or an unchanged body: a success that moves the schedule."""
    with transaction(db):
        db.execute(
            "UPDATE sources SET last_check_at=?, last_success_at=?, error_streak=0, next_check_at=?,"
            f" {_END_LEASE} WHERE id=?",
            [to_db(now), to_db(now), to_db(next_check), source_id],
        )


@_full_is_clear
def record_error(db, source_id: str, now: datetime, error: str, next_check: datetime) -> None:
    with transaction(db):
        db.execute(
            "UPDATE sources SET last_check_at=?, last_error_at=?, last_error=?, error_streak=error_streak+1,"
            f" next_check_at=?, {_END_LEASE} WHERE id=?",
            [to_db(now), to_db(now), error[:500], to_db(next_check), source_id],
        )


@_full_is_clear
def store_fetch(
    db: sqlite_utils.Database,
    spec: SourceSpec,
    items: Sequence[ParsedItem],
    *,
    now: datetime,
    next_check: datetime,
    etag: str | None,
    last_modified: str | None,
    body_digest: str | None,
) -> StoreOutcome:
    """Store one successful fetch: new items, metric updates, validators and schedule, atomically.

    A new item's publication time is bounded by the fetch time, its neighbours and the
    source's history (:mod:`monitor.timebounds`); a known item re-served with another title
    or text gets a new version; a new item whose link another source's item already has is
    stored as a sighting of that item.
    """
    new_ids: list[int] = []
    updated = duplicates = sightings = edited = clamped = 0
    now_s = to_db(now)
    conn = db.conn
    floor = neighbour_floor([item.published for item in items], now)
    with transaction(db):
        first_fetch = None
        if spec.kind != "manual":  # manual intake may bring in old records on purpose
            first_fetch = from_db(conn.execute("SELECT min(fetched_at) FROM items WHERE source_id = ?",
                                               [spec.id]).fetchone()[0])
        # What the database already has for this fetch, in a few statements instead of a few per
        # item (round trips to a server, under the desk's writer lock); kept up to date below, so
        # an item repeated within the fetch is seen as the database would show it.
        known, holders, sighted = _fetch_context(conn, spec.id, items)
        for item in items:
            metrics_json = json.dumps(dict(item.metrics), ensure_ascii=False, sort_keys=True)
            chash = content_hash(item.title, item.text)
            row = known.get(item.guid)
            if row is not None:
                if item.metrics and row[1] != metrics_json:
                    conn.execute("UPDATE items SET metrics = ? WHERE id = ?", [metrics_json, row[0]])
                    conn.execute(
                        "INSERT INTO item_metrics (item_id, at, metrics) VALUES (?, ?, ?)",
                        [row[0], now_s, metrics_json],
                    )
                    updated += 1
                    row = (row[0], metrics_json, row[2], row[3])
                added = _keep_version(conn, row, item, chash, now_s)
                edited += added
                known[item.guid] = (row[0], row[1], row[2], row[3] + added)
                continue
            canon = canonical_url(item.link)
            bounded = bound_published(item.published, now, floor=floor, source_first_fetch=first_fetch)
            clamped += bounded.reason is not None
            holder = None
            if canon is not None:
                holder = holders.get(canon)
                if holder is not None and (holder[1] == spec.id or holder[0] in sighted):
                    duplicates += 1  # this source's own item (or its sighting) under a new guid
                    continue
            inserted = conn.execute(
                "INSERT INTO items (source_id, guid, url, canonical_url, title, text, author,"
                " published, fetched_at, metrics, content_hash, published_orig, published_flag)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING RETURNING id",
                [spec.id, item.guid, item.link, None if holder else canon, item.title, item.text, item.author,
                 to_db(bounded.published), now_s, metrics_json, chash, to_db(bounded.original), bounded.reason],
            ).fetchall()  # consumed whole: the statement must be finished before COMMIT
            if not inserted:  # pragma: no cover - guid and link were checked above
                duplicates += 1
                continue
            item_id = inserted[0][0]
            new_ids.append(item_id)
            known[item.guid] = (item_id, metrics_json, chash, 1)
            if holder is not None:
                conn.execute("INSERT INTO item_sightings (sighting_id, item_id, source_id, seen_at) VALUES (?,?,?,?)",
                             [item_id, holder[0], spec.id, now_s])
                sighted.add(holder[0])
                sightings += 1
            elif canon is not None:
                holders[canon] = (item_id, spec.id)
            if item.metrics:
                conn.execute(
                    "INSERT INTO item_metrics (item_id, at, metrics) VALUES (?, ?, ?)",
                    [item_id, now_s, metrics_json],
                )
        _update_source_after_success(conn, spec.id, now, next_check, etag, last_modified, body_digest,
                                     len(new_ids))
    return StoreOutcome(tuple(new_ids), updated, duplicates, sightings, edited, clamped)


_CHUNK = 500  # values per IN (...) list: well within both backends' parameter limits


def _chunks(values: list, size: int = _CHUNK):
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _fetch_context(conn, source_id: str, items: Sequence[ParsedItem]):
    """For a fetch's items: the source's known items by guid {guid: (id, metrics, content_hash,
    versions)}, the items holding their links {canonical URL: (id, source_id)}, and the ids of
    those holders this source already has a sighting of."""
    known: dict[str, tuple] = {}
    for part in _chunks(list(dict.fromkeys(item.guid for item in items))):
        for item_id, guid, metrics, chash, versions in conn.execute(
                "SELECT id, guid, metrics, content_hash, versions FROM items WHERE source_id = ?"
                f" AND guid IN ({','.join('?' * len(part))})", [source_id, *part]):
            known[guid] = (item_id, metrics, chash, versions)
    canons = list(dict.fromkeys(c for c in (canonical_url(item.link) for item in items if item.guid not in known)
                                if c is not None))
    holders: dict[str, tuple[int, str]] = {}
    for part in _chunks(canons):
        for canon, item_id, holder_source in conn.execute(
                f"SELECT canonical_url, id, source_id FROM items WHERE canonical_url IN ({','.join('?' * len(part))})",
                part):
            holders[canon] = (item_id, holder_source)
    others = [item_id for item_id, holder_source in holders.values() if holder_source != source_id]
    sighted: set[int] = set()
    for part in _chunks(others):
        sighted.update(r[0] for r in conn.execute(
            f"SELECT item_id FROM item_sightings WHERE source_id = ? AND item_id IN ({','.join('?' * len(part))})",
            [source_id, *part]))
    return known, holders, sighted


@dataclass(frozen=True)
class FetchPreview:
    """What :func:`store_fetch` would do with a fetch's items (nothing is written)."""

    new: int = 0
    known: int = 0  # already stored from this source
    edited: int = 0  # ... and re-served with another title or text
    sightings: int = 0  # new, but another source's item has the link
    duplicates: int = 0  # this source's own item under another guid
    clamped: tuple[tuple[int, Bounded], ...] = ()  # (index in the fetch, bounded time) of clamped new items


def preview_fetch(db: sqlite_utils.Database, spec: SourceSpec, items: Sequence[ParsedItem],
                  now: datetime) -> FetchPreview:
    """Classify a fetch's items the way :func:`store_fetch` would, without writing (``sources test``)."""
    conn = db.conn
    counts = dict(new=0, known=0, edited=0, sightings=0, duplicates=0)
    clamped = []
    floor = neighbour_floor([item.published for item in items], now)
    first_fetch = None
    if spec.kind != "manual":
        first_fetch = from_db(conn.execute("SELECT min(fetched_at) FROM items WHERE source_id = ?",
                                           [spec.id]).fetchone()[0])
    seen_guids: set[str] = set()
    seen_links: set[str] = set()
    for i, item in enumerate(items):
        row = conn.execute("SELECT id, content_hash, versions FROM items WHERE source_id = ? AND guid = ?",
                           [spec.id, item.guid]).fetchone()
        if row is not None or item.guid in seen_guids:
            counts["known"] += 1
            if row is not None:
                last = row[1] if row[2] == 1 else conn.execute(
                    "SELECT content_hash FROM item_versions WHERE item_id = ? AND version = ?", [row[0], row[2]]
                ).fetchone()[0]
                counts["edited"] += content_hash(item.title, item.text) != last
            continue
        seen_guids.add(item.guid)
        canon = canonical_url(item.link)
        holder = None
        if canon is not None:
            holder = conn.execute("SELECT id, source_id FROM items WHERE canonical_url = ?", [canon]).fetchone()
            if canon in seen_links or (holder is not None and (holder[1] == spec.id or conn.execute(
                    "SELECT 1 FROM item_sightings WHERE item_id = ? AND source_id = ?",
                    [holder[0], spec.id]).fetchone())):
                counts["duplicates"] += 1
                continue
            seen_links.add(canon)
        counts["new"] += 1
        counts["sightings"] += holder is not None
        bounded = bound_published(item.published, now, floor=floor, source_first_fetch=first_fetch)
        if bounded.reason:
            clamped.append((i, bounded))
    return FetchPreview(**counts, clamped=tuple(clamped))


def _keep_version(conn, row, item: ParsedItem, chash: str, now_s: str) -> int:
    """Record a new version of a known item when its title or text changed; 1 when it did.

    The item's own row stays as first seen (what was analysed and linked as evidence);
    the versions table holds every version, the first included.
    """
    item_id, _, first_hash, versions = row
    if versions == 1:
        if chash == first_hash:
            return 0
        conn.execute("INSERT INTO item_versions (item_id, version, title, text, content_hash, seen_at)"
                     " SELECT id, 1, title, text, content_hash, fetched_at FROM items WHERE id = ?", [item_id])
    elif versions >= MAX_VERSIONS or chash == conn.execute(
            "SELECT content_hash FROM item_versions WHERE item_id = ? AND version = ?", [item_id, versions]).fetchone()[0]:
        return 0
    conn.execute("INSERT INTO item_versions (item_id, version, title, text, content_hash, seen_at)"
                 " VALUES (?, ?, ?, ?, ?, ?)", [item_id, versions + 1, item.title, item.text, chash, now_s])
    conn.execute("UPDATE items SET versions = ? WHERE id = ?", [versions + 1, item_id])
    return 1


def _update_source_after_success(conn, source_id, now, next_check, etag, last_modified, body_digest,
                                 n_new) -> None:
    row = conn.execute(
        "SELECT last_new_item_at, new_item_events, avg_gap_seconds FROM sources WHERE id = ?", [source_id]
    ).fetchone()
    last_new, events, avg_gap = row if row else (None, 0, None)
    if n_new:
        prev = from_db(last_new)
        if prev is not None:
            gap = max((now - prev).total_seconds(), 1.0)
            avg_gap = gap if avg_gap is None else 0.7 * avg_gap + 0.3 * gap
        last_new = to_db(now)
        events += 1
    conn.execute(
        "UPDATE sources SET last_check_at=?, last_success_at=?, error_streak=0, next_check_at=?, etag=?,"
        " last_modified=?, body_hash=?, last_new_item_at=?, new_item_events=?, avg_gap_seconds=?,"
        f" items_total=items_total+?, {_END_LEASE} WHERE id=?",
        [to_db(now), to_db(now), to_db(next_check), etag, last_modified, body_digest, last_new, events,
         avg_gap, n_new, source_id],
    )


def insert_manual_items(db: sqlite_utils.Database, source_id: str, items: Sequence[ParsedItem],
                        now: datetime) -> StoreOutcome:
    """Manual intake (hotline CSV, TUI entry): no schedule, same exactly-once rules."""
    spec = SourceSpec(id=source_id, name=source_id, url="manual:" + source_id, kind="manual",
                      platform="hotline", interval=MAX_MANUAL_INTERVAL)
    ensure_manual_source(db, spec, now)
    return store_fetch(db, spec, items, now=now, next_check=now + timedelta(days=3650), etag=None,
                       last_modified=None, body_digest=None)


MAX_MANUAL_INTERVAL = 7 * 86400


def keep_private(db: sqlite_utils.Database, source_id: str,
                 people: Sequence[tuple[str, str, str, str]]) -> None:
    """Keep callers' personal data apart from the item text: (guid, name, phone, address) of
    items of ``source_id``, each stored once (an item already kept is left as it is)."""
    with transaction(db):
        for guid, name, phone, address in people:
            found = db.execute("SELECT id FROM items WHERE source_id = ? AND guid = ?", [source_id, guid]).fetchone()
            if found and (name or phone or address):
                db.execute("INSERT INTO item_private (item_id, name, phone, address) VALUES (?, ?, ?, ?)"
                           " ON CONFLICT (item_id) DO NOTHING",
                           [found[0], name, phone, address])


def ensure_manual_source(db, spec: SourceSpec, now: datetime) -> None:
    if source_row(db, spec.id) is None:
        with transaction(db):
            db.execute(
                "INSERT INTO sources (id, name, url, spec, enabled, interval, priority, next_check_at)"
                " VALUES (?, ?, ?, ?, 0, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                [spec.id, spec.name, spec.url, json.dumps(_spec_dict(spec), ensure_ascii=False),
                 spec.interval, spec.priority, to_db(now + timedelta(days=3650))],
            )


# ---------------------------------------------------------------- reading

def get_items(db: sqlite_utils.Database, ids: Sequence[int]) -> list[StoredItem]:
    if not ids:
        return []
    rows = db.execute_returning_dicts(
        f"SELECT * FROM items WHERE id IN ({','.join('?' * len(ids))}) ORDER BY id", list(ids)
    )
    return [_stored(r) for r in rows]


def items_after(db: sqlite_utils.Database, last_id: int, limit: int = 500) -> list[StoredItem]:
    rows = db.execute_returning_dicts("SELECT * FROM items WHERE id > ? ORDER BY id LIMIT ?", [last_id, limit])
    return [_stored(r) for r in rows]


def clock_items(db: sqlite_utils.Database, since: datetime) -> list[tuple[StoredItem, bool]]:
    """Items fetched since ``since`` from manual intake (12345 hotline, 领导信箱: platform
    ``hotline``) or from own channels, each with whether its source is an own channel; by id.
    What working-day clocks are started from. [] on a database without intake tables."""
    if not db["sources"].exists() or not db["items"].exists():
        return []
    specs = source_specs(db)
    own = _own_channels(specs)
    sources = sorted(sid for sid, d in specs.items() if d.get("platform") == "hotline" or sid in own)
    out: list[tuple[StoredItem, bool]] = []
    for source_id in sources:  # one indexed range per source (items_source_fetched)
        rows = db.execute_returning_dicts(
            "SELECT * FROM items WHERE source_id = ? AND fetched_at >= ?", [source_id, to_db(since)])
        out += [(_stored(r), source_id in own) for r in rows]
    return sorted(out, key=lambda pair: pair[0].id)


def _stored(r: dict) -> StoredItem:
    return StoredItem(
        id=r["id"], source_id=r["source_id"], guid=r["guid"], url=r["url"], canonical_url=r["canonical_url"],
        title=r["title"], text=r["text"], author=r["author"], published=from_db(r["published"]),
        fetched_at=from_db(r["fetched_at"]), metrics=json.loads(r["metrics"] or "{}"),
        content_hash=r["content_hash"], published_orig=from_db(r.get("published_orig")),
        published_flag=r.get("published_flag"),
    )


def count_items(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT count(*) FROM items").fetchone()[0]


def last_item_id(db: sqlite_utils.Database) -> int:
    """The newest item's id (0 when there are none)."""
    return db.execute("SELECT coalesce(max(id), 0) FROM items").fetchone()[0]


def count_fetched_since(db: sqlite_utils.Database, since: datetime, *, after_id: int = 0) -> int:
    """How many items were fetched at or after ``since`` (only those with an id above ``after_id``)."""
    return db.execute("SELECT count(*) FROM items WHERE id > ? AND fetched_at >= ?",
                      [after_id, to_db(since)]).fetchone()[0]


def fetched_times_since(db: sqlite_utils.Database, since: datetime) -> list[datetime]:
    """When each item fetched at or after ``since`` was fetched."""
    return [from_db(t) for (t,) in db.execute("SELECT fetched_at FROM items WHERE fetched_at >= ?", [to_db(since)])]


def recent_texts(db: sqlite_utils.Database, limit: int) -> list[tuple[int, str, str]]:
    """(id, title, text) of the newest ``limit`` items, newest first."""
    return [tuple(r) for r in db.execute("SELECT id, title, text FROM items ORDER BY id DESC LIMIT ?", [limit])]


def own_channel_items(db: sqlite_utils.Database, since_item_id: int = 0, limit: int = 500) -> list[dict]:
    """Items (after an id) from sources whose spec has own_channel = true, as release detection takes
    them: {item_id, title, text, url, published, source_id, platform, source_name}."""
    own = sorted(_own_channels(source_specs(db))) if db["items"].exists() else []
    rows = db.execute_returning_dicts(
        "SELECT items.id, items.title, items.text, items.url, items.published, items.source_id,"
        " sources.name AS source_name, sources.spec FROM items JOIN sources ON sources.id = items.source_id"
        f" WHERE items.id > ? AND items.source_id IN ({','.join('?' * len(own))}) ORDER BY items.id LIMIT ?",
        [since_item_id, *own, limit]) if own else []
    return [{"item_id": str(r["id"]), "title": r["title"], "text": r["text"], "url": r["url"],
             "published": from_db(r["published"]), "source_id": r["source_id"],
             "platform": json.loads(r["spec"]).get("platform", "own"), "source_name": r["source_name"]}
            for r in rows]


def source_ids(db: sqlite_utils.Database) -> list[str]:
    return [r[0] for r in db.execute("SELECT id FROM sources ORDER BY id") if r[0]]


def source_checks(db: sqlite_utils.Database) -> list[dict]:
    """Each source's {enabled, interval, last_check_at (datetime or None), error_streak}."""
    rows = db.execute_returning_dicts("SELECT enabled, interval, last_check_at, error_streak FROM sources")
    return [r | {"last_check_at": from_db(r["last_check_at"])} for r in rows]


def source_health(db: sqlite_utils.Database, now: datetime) -> list[SourceHealth]:
    since = to_db(now - timedelta(hours=24))
    counts = dict(db.execute(
        "SELECT source_id, count(*) FROM items WHERE fetched_at >= ? GROUP BY source_id", [since]
    ).fetchall())
    sightings = dict(db.execute(
        "SELECT source_id, count(*) FROM item_sightings WHERE seen_at >= ? GROUP BY source_id", [since]
    ).fetchall())
    edited = dict(db.execute(
        "SELECT i.source_id, count(DISTINCT v.item_id) FROM item_versions v JOIN items i ON i.id = v.item_id"
        " WHERE v.version > 1 AND v.seen_at >= ? GROUP BY i.source_id", [since]
    ).fetchall())
    out = []
    for r in db.execute_returning_dicts("SELECT * FROM sources ORDER BY priority, id"):
        last_new = from_db(r["last_new_item_at"])
        silent = False
        if r["enabled"] and last_new is not None and r["new_item_events"] >= SILENT_MIN_EVENTS and r["avg_gap_seconds"]:
            usual = max(r["avg_gap_seconds"], r["interval"])
            silent = (now - last_new).total_seconds() > SILENT_FACTOR * usual
        out.append(SourceHealth(
            source_id=r["id"], name=r["name"], enabled=bool(r["enabled"]),
            last_success_at=from_db(r["last_success_at"]), last_error_at=from_db(r["last_error_at"]),
            last_error=r["last_error"], error_streak=r["error_streak"], items_24h=counts.get(r["id"], 0),
            last_new_item_at=last_new, next_check_at=from_db(r["next_check_at"]), silent=silent,
            sightings_24h=sightings.get(r["id"], 0), edited_24h=edited.get(r["id"], 0),
        ))
    return out


def set_enabled(db: sqlite_utils.Database, source_id: str, enabled: bool, now: datetime) -> bool:
    with transaction(db):
        cur = db.execute(
            "UPDATE sources SET enabled = ?, next_check_at = ? WHERE id = ?",
            [int(enabled), to_db(now), source_id],
        )
    return cur.rowcount > 0


def published_flags(db: sqlite_utils.Database, ids: Sequence[int]) -> dict[int, tuple[datetime, datetime, str]]:
    """Item id -> (published used, the feed's own time, why it was clamped), for clamped items only."""
    ids = [int(i) for i in ids if str(i).isdigit()]
    if not ids:
        return {}
    rows = db.execute(
        f"SELECT id, published, published_orig, published_flag FROM items WHERE id IN ({','.join('?' * len(ids))})"
        " AND published_flag IS NOT NULL", ids).fetchall()
    return {r[0]: (from_db(r[1]), from_db(r[2]), r[3]) for r in rows}


def sighting_of(db: sqlite_utils.Database, ids: Sequence[int]) -> dict[int, int]:
    """Sighting item id -> the id of the item first stored with that link (another source's)."""
    ids = [int(i) for i in ids]
    if not ids:
        return {}
    return dict(db.execute(
        f"SELECT sighting_id, item_id FROM item_sightings WHERE sighting_id IN ({','.join('?' * len(ids))})",
        ids).fetchall())


def version_counts(db: sqlite_utils.Database, ids: Sequence[int]) -> dict[int, int]:
    """Item id -> how many versions were seen, for items that changed (2 or more)."""
    ids = [int(i) for i in ids if str(i).isdigit()]
    if not ids:
        return {}
    return dict(db.execute(
        f"SELECT item_id, max(version) FROM item_versions WHERE item_id IN ({','.join('?' * len(ids))})"
        " GROUP BY item_id", ids).fetchall())


def item_versions(db: sqlite_utils.Database, item_id: int) -> list[dict]:
    """Every version of an item that changed, oldest first: version, title, text, seen_at."""
    return [dict(r, seen_at=from_db(r["seen_at"])) for r in db.execute_returning_dicts(
        "SELECT version, title, text, seen_at FROM item_versions WHERE item_id = ? ORDER BY version", [item_id])]


def item_notes(db: sqlite_utils.Database, ids: Sequence[int | str]) -> dict[int, dict]:
    """What staff should know about items' dates and content, for items with something to say:
    {"published_orig", "published_flag", "published_note"} when the publication time was clamped
    (the note in staff's words), {"versions"} when
    the item was re-served changed. Empty when the database has no item tables (a desk fed by hand)."""
    if not db["items"].exists():
        return {}
    ids = [int(i) for i in ids if str(i).isdigit()]
    out: dict[int, dict] = {}
    if "published_flag" in db["items"].columns_dict:  # not yet migrated by the intake: nothing clamped
        for iid, (_, orig, flag) in published_flags(db, ids).items():
            out.setdefault(iid, {}).update(published_orig=orig, published_flag=flag,
                                           published_note=published_note(orig, flag))
    if db["item_versions"].exists():
        for iid, n in version_counts(db, ids).items():
            out.setdefault(iid, {})["versions"] = n
    return out


# ---------------------------------------------------------------- retention

#: Monitor's tables whose rows hang off an item id and go with it: (table, column).
ITEM_CHILDREN = (("item_metrics", "item_id"), ("item_private", "item_id"), ("item_versions", "item_id"),
                 ("item_sightings", "sighting_id"), ("item_sightings", "item_id"))


def _old_items(cutoff: datetime, below_id: int) -> tuple[str, list]:
    return "fetched_at < ? AND id < ?", [to_db(cutoff), below_id]


def max_item_id(conn) -> int:
    return conn.execute("SELECT max(id) FROM items").fetchone()[0] or 0


def count_old_items(conn, cutoff: datetime, below_id: int, *, among: Sequence[str] | None = None,
                    excluding: Sequence[str] = ()) -> int:
    """Items fetched before ``cutoff`` with an id below ``below_id``; with ``among`` only those some
    of these queries (each selecting item ids) return, with ``excluding`` none of those do."""
    where, params = _old_items(cutoff, below_id)
    return conn.execute(f"SELECT count(*) FROM items WHERE {where}{_in(among, excluding)}", params).fetchone()[0]


def old_item_ids(conn, cutoff: datetime, below_id: int, limit: int, *, excluding: Sequence[str] = ()) -> list[int]:
    """The first ``limit`` ids of :func:`count_old_items`' items that none of ``excluding`` returns."""
    where, params = _old_items(cutoff, below_id)
    return [r[0] for r in conn.execute(
        f"SELECT id FROM items WHERE {where}{_in(None, excluding)} ORDER BY id LIMIT ?", params + [limit])]


def _in(among: Sequence[str] | None, excluding: Sequence[str]) -> str:
    sql = ""
    if among is not None:
        sql += f" AND id IN ({' UNION '.join(among) or 'SELECT CAST(NULL AS INTEGER) WHERE 1 = 0'})"
    for query in excluding:
        sql += f" AND id NOT IN ({query})"
    return sql


def delete_items(conn, ids: Sequence[int], tables: set[str]) -> dict[str, int]:
    """Delete the items and their rows in monitor's tables (those in ``tables``, the existing
    ones) inside the caller's transaction; rows deleted per table."""
    marks = ",".join("?" * len(ids))
    deleted: dict[str, int] = {}
    for table, col in ITEM_CHILDREN:
        if table in tables:
            cur = conn.execute(f"DELETE FROM {table} WHERE {col} IN ({marks})", list(ids))
            deleted[table] = deleted.get(table, 0) + max(cur.rowcount, 0)
    deleted["items"] = conn.execute(f"DELETE FROM items WHERE id IN ({marks})", list(ids)).rowcount
    return deleted

