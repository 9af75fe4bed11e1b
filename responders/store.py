"""Tables owned by ``responders``: incidents, their stories, items, evidence, releases,
release proposals and the timeline (hash chain). Their migrations, and every statement on
them but the timeline's (``responders/timeline.py`` keeps its chain), live here; the incident
service and release detection call these functions. Opened through
``storage.db.open_db(path, [migrations])``.

The ``incidents`` row is a materialised view of the incident's current state,
updated in the same transaction as the timeline event that explains the change.
Functions taking ``conn`` write inside the caller's transaction; ``db`` ones read.
"""
from __future__ import annotations

import json
from pathlib import Path
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

import sqlite_utils
from sqlite_utils import Migrations

from storage.db import dialect, open_db
from storage.timeutil import from_db, to_db

migrations = Migrations("responders")


@migrations()
def m001_incidents(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE incidents (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            state TEXT NOT NULL,
            severity TEXT NOT NULL,
            tier TEXT NOT NULL,
            verification TEXT NOT NULL DEFAULT '待核实',
            topic TEXT NOT NULL DEFAULT '其他',
            first_published TEXT NOT NULL,
            detected_at TEXT NOT NULL,
            clock_started_at TEXT NOT NULL,
            release_due TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            places TEXT NOT NULL DEFAULT '[]',
            departments TEXT NOT NULL DEFAULT '[]',
            responsible_units TEXT NOT NULL DEFAULT '[]',
            assigned_units TEXT NOT NULL DEFAULT '[]',
            severity_reasons TEXT NOT NULL DEFAULT '[]',
            trigger TEXT NOT NULL DEFAULT '',
            acknowledged_at TEXT,
            released_at TEXT,
            final_at TEXT,
            closed_at TEXT,
            dismiss_reason TEXT,
            merged_into INTEGER REFERENCES incidents(id)
        )""")
    db.execute("CREATE INDEX incidents_state ON incidents(state)")
    db.execute("CREATE INDEX incidents_due ON incidents(release_due)")
    db.execute("CREATE INDEX incidents_topic ON incidents(topic, first_published)")
    db.execute("""
        CREATE TABLE incident_stories (
            story_id TEXT NOT NULL,
            incident_id INTEGER NOT NULL REFERENCES incidents(id),
            PRIMARY KEY (story_id, incident_id)
        )""")
    db.execute("""
        CREATE TABLE incident_items (
            incident_id INTEGER NOT NULL REFERENCES incidents(id),
            item_id TEXT NOT NULL,
            linked_at TEXT NOT NULL,
            PRIMARY KEY (incident_id, item_id)
        )""")
    db.execute("CREATE INDEX incident_items_item ON incident_items(item_id)")
    db.execute("""
        CREATE TABLE incident_evidence (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incidents(id),
            item_id TEXT,
            title TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL DEFAULT '',
            url TEXT,
            published TEXT,
            source TEXT,
            rank INTEGER,
            content_hash TEXT,
            added_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX incident_evidence_incident ON incident_evidence(incident_id)")
    db.execute("""
        CREATE TABLE releases (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incidents(id),
            kind TEXT NOT NULL,
            channel TEXT NOT NULL,
            url TEXT NOT NULL DEFAULT '',
            released_at TEXT NOT NULL,
            text TEXT NOT NULL DEFAULT '',
            recorded_at TEXT NOT NULL,
            actor TEXT NOT NULL,
            source_item_id TEXT
        )""")
    db.execute("CREATE INDEX releases_incident ON releases(incident_id, released_at)")
    db.execute("""
        CREATE TABLE release_proposals (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incidents(id),
            item_id TEXT NOT NULL,
            score REAL NOT NULL,
            evidence TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'proposed',
            created_at TEXT NOT NULL,
            decided_at TEXT,
            release_id INTEGER REFERENCES releases(id),
            UNIQUE (incident_id, item_id)
        )""")
    # The timeline: one global hash chain over every incident (ordered by id);
    # seq numbers events within an incident. Append-only, enforced by triggers.
    db.execute("""
        CREATE TABLE timeline_events (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            at TEXT NOT NULL,
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            UNIQUE (incident_id, seq)
        )""")
    db.execute("CREATE INDEX timeline_kind ON timeline_events(kind, incident_id)")
    db.execute("""
        CREATE TABLE timeline_head (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            last_event_id INTEGER NOT NULL,
            last_hash TEXT NOT NULL,
            count INTEGER NOT NULL
        )""")
    if dialect(db) == "postgresql":
        for sql in PG_GUARD_SQL:
            db.execute(sql)
        return
    db.execute("""
        CREATE TRIGGER timeline_no_update BEFORE UPDATE ON timeline_events
        BEGIN SELECT RAISE(ABORT, 'timeline_events is append-only'); END""")
    db.execute("""
        CREATE TRIGGER timeline_no_delete BEFORE DELETE ON timeline_events
        BEGIN SELECT RAISE(ABORT, 'timeline_events is append-only'); END""")


# PostgreSQL's form of the append-only guard: one function refusing every change, fired before
# UPDATE and DELETE of any row and before TRUNCATE. Triggers bind the table's owner too, so
# history holds even against the desk's own role; the owner or a superuser could still drop,
# disable or rewrite them, which ``timeline.verify`` reports (and the chain shows any edit made).
PG_GUARD_BODY = " BEGIN RAISE EXCEPTION 'timeline_events is append-only'; END "
PG_GUARD_FUNCTION = (
    "CREATE OR REPLACE FUNCTION timeline_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    f" $${PG_GUARD_BODY}$$")
PG_GUARD_TRIGGERS = {
    "timeline_no_update": "CREATE TRIGGER timeline_no_update BEFORE UPDATE ON timeline_events"
                          " FOR EACH ROW EXECUTE FUNCTION timeline_append_only()",
    "timeline_no_delete": "CREATE TRIGGER timeline_no_delete BEFORE DELETE ON timeline_events"
                          " FOR EACH ROW EXECUTE FUNCTION timeline_append_only()",
    "timeline_no_truncate": "CREATE TRIGGER timeline_no_truncate BEFORE TRUNCATE ON timeline_events"
                            " FOR EACH STATEMENT EXECUTE FUNCTION timeline_append_only()",
}
PG_GUARD_SQL = (PG_GUARD_FUNCTION, *PG_GUARD_TRIGGERS.values())


@migrations()
def m002_timeline_anchor(db: sqlite_utils.Database) -> None:
    # HMAC anchoring (responders/anchor.py): a MAC per event and on the head, and the event
    # from which MACs are required (older desks were chained before they had a key).
    db.execute("ALTER TABLE timeline_events ADD COLUMN mac TEXT")
    db.execute("ALTER TABLE timeline_head ADD COLUMN mac TEXT")
    db.execute("""
        CREATE TABLE timeline_anchor (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            start_event_id INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            mac TEXT NOT NULL
        )""")


def open_desk(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the desk DB with the responders tables, staff, roster, reviews."""
    from responders.instructions import migrations as instructions_migrations
    from responders.review import migrations as review_migrations
    from responders.roster import migrations as roster_migrations
    from responders.staff import migrations as staff_migrations
    from responders.workday_clocks import migrations as workday_migrations

    return open_db(path, [migrations, staff_migrations, roster_migrations, workday_migrations,
                          instructions_migrations, review_migrations])


def item_references(tables: set[str]) -> list[str]:
    """Queries selecting the ids of items an incident refers to (linked, frozen as evidence or
    proposed as a release), for those of the tables that exist: such items are never pruned."""
    # Only ids made of digits name a stored item (a candidate may carry any text: PostgreSQL
    # refuses to cast that, SQLite makes it 0); BIGINT as item ids are 64-bit.
    digits = "item_id <> '' AND trim(item_id, '0123456789') = ''"
    queries = {"incident_items": f"SELECT CAST(item_id AS BIGINT) FROM incident_items WHERE {digits}",
               "incident_evidence": f"SELECT CAST(item_id AS BIGINT) FROM incident_evidence WHERE {digits}",
               "release_proposals": f"SELECT CAST(item_id AS BIGINT) FROM release_proposals WHERE {digits}"}
    return [q for table, q in queries.items() if table in tables]


def dumps(value: Any) -> str:
    """Canonical JSON used for stored JSON columns and hashing."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def loads(value: str | None, default: Any = None) -> Any:
    if value is None or value == "":
        return default
    return json.loads(value)


def _in_states(states: Sequence[str]) -> str:
    return f"merged_into IS NULL AND state IN ({','.join('?' * len(states))})"


def board_counts(db: sqlite_utils.Database, states: Sequence[str]) -> tuple[int, int]:
    """(incidents in ``states`` not merged away, how many of them nobody acknowledged yet)."""
    total, waiting = db.execute(
        f"SELECT count(*), count(*) - count(acknowledged_at) FROM incidents WHERE {_in_states(states)}",
        list(states)).fetchone()
    return total, waiting


def board_rows(db: sqlite_utils.Database, states: Sequence[str], limit: int) -> list[dict]:
    """What the board shows of the first ``limit`` incidents in ``states`` (not merged away):
    unreleased first, then by release due time."""
    return db.execute_returning_dicts(
        "SELECT id, title, state, severity, places, responsible_units, assigned_units, release_due, released_at,"
        f" acknowledged_at FROM incidents WHERE {_in_states(states)}"
        " ORDER BY released_at IS NOT NULL, release_due, id LIMIT ?", [*states, limit])



# ---------------------------------------------------------------- incidents

def incident_row(db: sqlite_utils.Database, incident_id: int) -> dict | None:
    rows = db.execute_returning_dicts("SELECT * FROM incidents WHERE id = ?", [int(incident_id)])
    return rows[0] if rows else None


def incident_rows(db: sqlite_utils.Database, ids: Sequence[int]) -> dict[int, dict]:
    """id -> row of the incidents asked for (missing ids left out)."""
    if not ids:
        return {}
    rows = db.execute_returning_dicts(f"SELECT * FROM incidents WHERE id IN ({','.join('?' * len(ids))})", list(ids))
    return {r["id"]: r for r in rows}


def listed_rows(db: sqlite_utils.Database, states: Sequence[str] | None = None) -> list[dict]:
    """Rows by release due time: all, or those in ``states`` not merged away."""
    if states is None:
        return db.execute_returning_dicts("SELECT * FROM incidents ORDER BY release_due, id")
    return db.execute_returning_dicts(
        f"SELECT * FROM incidents WHERE {_in_states(states)} ORDER BY release_due, id", list(states))


def state_of(db: sqlite_utils.Database, incident_id: Any) -> tuple[str, int | None] | None:
    """(state, merged_into) of an incident, None when there is no such incident (or no such id:
    PostgreSQL would refuse to compare text that is not a number with the id column)."""
    try:
        incident_id = int(incident_id)
    except (TypeError, ValueError):
        return None
    row = db.execute("SELECT state, merged_into FROM incidents WHERE id = ?", [incident_id]).fetchone()
    return None if row is None else (row[0], row[1])


_INCIDENT_COLUMNS = ("title", "state", "severity", "tier", "topic", "first_published", "detected_at",
                     "clock_started_at", "release_due", "created_at", "updated_at", "places", "departments",
                     "responsible_units", "severity_reasons", "trigger")


def insert_incident(conn, fields: Mapping[str, Any]) -> int:
    """A new incidents row from ``fields`` (every column of :data:`_INCIDENT_COLUMNS`); its id."""
    cur = conn.execute(f"INSERT INTO incidents ({', '.join(_INCIDENT_COLUMNS)})"
                       f" VALUES ({', '.join('?' * len(_INCIDENT_COLUMNS))}) RETURNING id",
                       [fields[c] for c in _INCIDENT_COLUMNS])
    return cur.fetchone()[0]


def update_incident(conn, incident_id: int, fields: Mapping[str, Any]) -> None:
    cols = ", ".join(f"{k} = ?" for k in fields)
    conn.execute(f"UPDATE incidents SET {cols} WHERE id = ?", [*fields.values(), incident_id])


def open_row_of_story(db: sqlite_utils.Database, story_id: str, states: Sequence[str]) -> dict | None:
    """The row of the incident in ``states`` (lowest id, not merged away) that holds the story, or None."""
    rows = db.execute_returning_dicts(
        "SELECT i.* FROM incident_stories s JOIN incidents i ON i.id = s.incident_id"
        f" WHERE s.story_id = ? AND i.merged_into IS NULL AND i.state IN ({','.join('?' * len(states))})"
        " ORDER BY i.id LIMIT 1", [story_id, *states])
    return rows[0] if rows else None


def join_candidate_ids(db: sqlite_utils.Database, states: Sequence[str], *, story_id: str,
                       item_ids: Sequence[str], topic: str, town_codes: Sequence[str],
                       window: tuple[datetime, datetime]) -> list[int]:
    """Ids of incidents in ``states`` (not merged away) that might take a candidate, each once, in
    this order: those holding its story, those sharing an item, then those of its topic with a
    first publication inside ``window`` naming one of ``town_codes`` (by release due time)."""
    open_sql = f"merged_into IS NULL AND state IN ({','.join('?' * len(states))})"
    ids: list[int] = []
    for (iid,) in db.execute(
            f"SELECT i.id FROM incident_stories s JOIN incidents i ON i.id = s.incident_id"
            f" WHERE s.story_id = ? AND {open_sql} ORDER BY i.id", [story_id, *states]):
        ids.append(iid)
    if item_ids:
        for (iid,) in db.execute(
                f"SELECT DISTINCT i.id FROM incident_items x JOIN incidents i ON i.id = x.incident_id"
                f" WHERE x.item_id IN ({','.join('?' * len(item_ids))}) AND {open_sql} ORDER BY i.id",
                [*item_ids, *states]):
            ids.append(iid)
    if town_codes:
        # The places JSON is read here rather than in SQL (JSON functions differ by backend); the
        # topic, window and state already narrow the rows to a handful.
        wanted = set(town_codes)
        for iid, places in db.execute(
                f"SELECT id, places FROM incidents WHERE topic = ? AND first_published BETWEEN ? AND ? AND {open_sql}"
                " ORDER BY release_due, id",
                [topic, to_db(window[0]), to_db(window[1]), *states]):
            if any(isinstance(p, dict) and p.get("level") == "town" and p.get("code") in wanted
                   for p in loads(places, [])):
                ids.append(iid)
    return list(dict.fromkeys(ids))


# ---------------------------------------------------------------- stories and items of incidents

def incident_links(db: sqlite_utils.Database, ids: Sequence[int], only_items: Sequence[str] | None = None,
                   only_stories: Sequence[str] | None = None) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """({incident id: story ids}, {incident id: item ids by link time}); ``only_items`` /
    ``only_stories`` limit them to those items / stories (empty: none read)."""
    stories: dict[int, list[str]] = {i: [] for i in ids}
    items: dict[int, list[str]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start:start + 500])
        marks = ",".join("?" * len(chunk))
        if only_stories is None:
            sql, params = (f"SELECT incident_id, story_id FROM incident_stories WHERE incident_id IN ({marks})",
                           chunk)
        else:
            wanted = list(only_stories)[:500]
            sql = (f"SELECT incident_id, story_id FROM incident_stories WHERE incident_id IN ({marks})"
                   f" AND story_id IN ({','.join('?' * len(wanted))})")
            params = [*chunk, *wanted]
        if only_stories is None or wanted:
            for iid, sid in db.execute(sql, params):
                stories[iid].append(sid)
        if only_items is not None:
            wanted = list(only_items)[:500]
            if not wanted:
                continue
            sql = (f"SELECT incident_id, item_id FROM incident_items WHERE incident_id IN ({marks})"
                   f" AND item_id IN ({','.join('?' * len(wanted))}) ORDER BY linked_at, item_id")
            params = [*chunk, *wanted]
        else:
            sql = (f"SELECT incident_id, item_id FROM incident_items WHERE incident_id IN ({marks})"
                   " ORDER BY linked_at, item_id")
            params = chunk
        for iid, item in db.execute(sql, params):
            items[iid].append(item)
    return stories, items


def add_story(conn, incident_id: int, story_id: str) -> bool:
    """Link a story to the incident; False when it was linked already."""
    return conn.execute("INSERT INTO incident_stories (story_id, incident_id) VALUES (?, ?)"
                        " ON CONFLICT (story_id, incident_id) DO NOTHING", [story_id, incident_id]).rowcount > 0


def add_items(conn, incident_id: int, item_ids: Iterable[int | str], now: datetime) -> list[str]:
    """Link items to the incident; returns those that were not linked yet."""
    added = []
    for item in item_ids:
        cur = conn.execute("INSERT INTO incident_items (incident_id, item_id, linked_at) VALUES (?, ?, ?)"
                           " ON CONFLICT (incident_id, item_id) DO NOTHING", [incident_id, str(item), to_db(now)])
        if cur.rowcount:
            added.append(str(item))
    return added


def remove_item(conn, incident_id: int, item_id: str) -> bool:
    return conn.execute("DELETE FROM incident_items WHERE incident_id = ? AND item_id = ?",
                        [incident_id, str(item_id)]).rowcount > 0


def linked_items(db, incident_id: int) -> list[str]:
    """The incident's item ids (``db``: a Database or, inside a transaction, its connection)."""
    return [r[0] for r in db.execute("SELECT item_id FROM incident_items WHERE incident_id = ?", [incident_id])]


def move_everything(conn, from_id: int, to_id: int, now: datetime) -> list[str]:
    """Move an incident's items, stories, evidence, releases and release proposals to another
    (a merge); returns the items moved."""
    items = linked_items(conn, from_id)
    add_items(conn, to_id, items, now)
    conn.execute("DELETE FROM incident_items WHERE incident_id = ?", [from_id])
    conn.execute("INSERT INTO incident_stories (story_id, incident_id)"
                 " SELECT story_id, ? FROM incident_stories WHERE incident_id = ?"
                 " ON CONFLICT (story_id, incident_id) DO NOTHING", [to_id, from_id])
    conn.execute("UPDATE incident_evidence SET incident_id = ? WHERE incident_id = ?", [to_id, from_id])
    conn.execute("UPDATE releases SET incident_id = ? WHERE incident_id = ?", [to_id, from_id])
    # A proposal of an item the target was proposed already stays with the merged-away incident.
    conn.execute("UPDATE release_proposals SET incident_id = ? WHERE incident_id = ? AND item_id NOT IN"
                 " (SELECT item_id FROM release_proposals WHERE incident_id = ?)", [to_id, from_id, to_id])
    return items


def move_items(conn, from_id: int, to_id: int, item_ids: Sequence[str]) -> None:
    """Move some items and their evidence to another incident (a split)."""
    marks = ",".join("?" * len(item_ids))
    conn.execute(f"UPDATE incident_items SET incident_id = ? WHERE incident_id = ? AND item_id IN ({marks})",
                 [to_id, from_id, *item_ids])
    conn.execute(f"UPDATE incident_evidence SET incident_id = ? WHERE incident_id = ? AND item_id IN ({marks})",
                 [to_id, from_id, *item_ids])


# ---------------------------------------------------------------- evidence

def evidence_titles(db: sqlite_utils.Database, incident_ids: Sequence[int]) -> list[tuple[int, str]]:
    """(incident id, title) of these incidents' evidence, each incident's in the order of
    :func:`evidence_rows`."""
    out: list[tuple[int, str]] = []
    for start in range(0, len(incident_ids), 500):
        chunk = list(incident_ids[start:start + 500])
        out += db.execute("SELECT incident_id, title FROM incident_evidence WHERE incident_id IN"
                          f" ({','.join('?' * len(chunk))}) ORDER BY incident_id, published IS NULL, published, id",
                          chunk).fetchall()
    return out


def linked_story_ids(db: sqlite_utils.Database) -> set[str]:
    """Ids of the stories any incident holds (open, closed or merged)."""
    return {sid for (sid,) in db.execute("SELECT story_id FROM incident_stories")}


def evidence_rows(db: sqlite_utils.Database, incident_id: int) -> list[dict]:
    """The incident's evidence, dated first by publication time."""
    return db.execute_returning_dicts(
        "SELECT * FROM incident_evidence WHERE incident_id = ? ORDER BY published IS NULL, published, id",
        [int(incident_id)])


def evidence_published(db: sqlite_utils.Database, incident_id: int, item_ids: Sequence[str]) -> list[datetime]:
    """Publication times of the incident's evidence from these items (those known)."""
    return [from_db(r[0]) for r in db.execute(
        f"SELECT published FROM incident_evidence WHERE incident_id = ? AND item_id IN ({','.join('?' * len(item_ids))})"
        " AND published IS NOT NULL", [incident_id, *item_ids])]


def has_evidence(conn, incident_id: int, content_hash: Any, url: Any) -> bool:
    return conn.execute("SELECT 1 FROM incident_evidence WHERE incident_id = ? AND (content_hash = ? OR url = ?)",
                        [incident_id, content_hash, url]).fetchone() is not None


def insert_evidence(conn, rows: Sequence[Sequence[Any]]) -> None:
    """Rows of (incident_id, item_id, title, text, url, published, source, rank, content_hash, added_at)."""
    conn.executemany(
        "INSERT INTO incident_evidence (incident_id, item_id, title, text, url, published, source,"
        " rank, content_hash, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def evidence_keys(conn, incident_id: int) -> tuple[set, set]:
    """The content hashes and URLs of the incident's evidence."""
    hashes: set = set()
    urls: set = set()
    for h, url in conn.execute("SELECT content_hash, url FROM incident_evidence WHERE incident_id = ?",
                               [incident_id]):
        hashes.add(h)
        urls.add(url)
    return hashes, urls


# ---------------------------------------------------------------- releases and proposals

def insert_release(conn, incident_id: int, kind: str, channel: str, url: str, at: datetime, text: str,
                   recorded_at: datetime, actor: str, source_item_id: str | None) -> int:
    cur = conn.execute(
        "INSERT INTO releases (incident_id, kind, channel, url, released_at, text, recorded_at, actor,"
        " source_item_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [incident_id, kind, channel, url, to_db(at), text, to_db(recorded_at), actor, source_item_id])
    return cur.fetchone()[0]


def release_rows(db: sqlite_utils.Database, incident_id: int) -> list[dict]:
    return db.execute_returning_dicts(
        "SELECT * FROM releases WHERE incident_id = ? ORDER BY released_at, id", [int(incident_id)])


def insert_proposal(conn, incident_id: int, item_id: str, score: float, evidence: str, now: datetime) -> int | None:
    """A new proposed release; None when the item was proposed for the incident already."""
    cur = conn.execute(
        "INSERT INTO release_proposals (incident_id, item_id, score, evidence, status, created_at)"
        " VALUES (?, ?, ?, ?, 'proposed', ?) ON CONFLICT (incident_id, item_id) DO NOTHING RETURNING id",
        [incident_id, item_id, score, evidence, to_db(now)])
    row = cur.fetchone()
    return row[0] if row else None


def proposal_row(db: sqlite_utils.Database, proposal_id: int) -> dict | None:
    rows = db.execute_returning_dicts("SELECT * FROM release_proposals WHERE id = ?", [int(proposal_id)])
    return rows[0] if rows else None


def proposal_rows(db: sqlite_utils.Database, status: str | None, incident_id: int | None) -> list[dict]:
    sql, params = "SELECT * FROM release_proposals WHERE 1=1", []
    if status:
        sql += " AND status = ?"
        params.append(status)
    if incident_id is not None:
        sql += " AND incident_id = ?"
        params.append(int(incident_id))
    return db.execute_returning_dicts(sql + " ORDER BY id", params)


def decide_proposal(conn, proposal_id: int, status: str, now: datetime, release_id: int | None = None) -> None:
    """Mark a proposal confirmed (with the release it became) or rejected."""
    if release_id is None:
        conn.execute("UPDATE release_proposals SET status = ?, decided_at = ? WHERE id = ?",
                     [status, to_db(now), proposal_id])
    else:
        conn.execute("UPDATE release_proposals SET status = ?, decided_at = ?, release_id = ? WHERE id = ?",
                     [status, to_db(now), release_id, proposal_id])
