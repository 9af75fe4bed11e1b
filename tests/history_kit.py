"""Tampering with a desk's history as an attacker with full database rights would, on either
backend: the guard triggers taken off (SQLite: dropped; PostgreSQL: disabled, as a superuser or
the tables' owner can) and put back exactly as they were afterwards."""
from __future__ import annotations

from contextlib import contextmanager

from responders.timeline import GUARD_TRIGGERS
from storage.db import connect, dialect


def guards_off(db) -> None:
    if dialect(db) == "postgresql":
        db.execute("ALTER TABLE timeline_events DISABLE TRIGGER USER")
    else:
        for name in GUARD_TRIGGERS:
            db.execute(f"DROP TRIGGER {name}")


def guards_on(db) -> None:
    """A careful attacker puts the triggers back exactly as they were."""
    if dialect(db) == "postgresql":
        db.execute("ALTER TABLE timeline_events ENABLE TRIGGER USER")
    else:
        for sql in GUARD_TRIGGERS.values():
            db.execute(sql)


@contextmanager
def tampering(target, *, restore: bool = True):
    """``with tampering(target) as db: db.execute(...)``: the database (a path or URL) opened
    with its guards off; they are put back (unless ``restore`` is False) and it is closed."""
    db = connect(target)
    try:
        guards_off(db)
        yield db
        if restore:
            guards_on(db)
    finally:
        db.conn.close()
