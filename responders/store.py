"""Tables owned by ``responders``: incidents, their items, evidence, releases,
release proposals and the timeline (hash chain). Opened through
``storage.db.open_db(path, [migrations])``.

The ``incidents`` row is a materialised view of the incident's current state,
updated in the same transaction as the timeline event that explains the change.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import sqlite_utils
from sqlite_utils import Migrations

from storage.db import open_db

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
    db.execute("""
        CREATE TRIGGER timeline_no_update BEFORE UPDATE ON timeline_events
        BEGIN SELECT RAISE(ABORT, 'timeline_events is append-only'); END""")
    db.execute("""
        CREATE TRIGGER timeline_no_delete BEFORE DELETE ON timeline_events
        BEGIN SELECT RAISE(ABORT, 'timeline_events is append-only'); END""")


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
    queries = {"incident_items": "SELECT CAST(item_id AS INTEGER) FROM incident_items",
               "incident_evidence": "SELECT CAST(item_id AS INTEGER) FROM incident_evidence WHERE item_id IS NOT NULL",
               "release_proposals": "SELECT CAST(item_id AS INTEGER) FROM release_proposals"}
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
    """Rows of the first ``limit`` incidents in ``states`` (not merged away): unreleased first,
    then by release due time."""
    return db.execute_returning_dicts(
        f"SELECT * FROM incidents WHERE {_in_states(states)} ORDER BY released_at IS NOT NULL, release_due, id LIMIT ?",
        [*states, limit])
