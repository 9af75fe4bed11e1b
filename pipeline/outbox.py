"""The notice outbox: what the pipeline decided people must hear about, written in the same
transaction as the batch that caused it, and removed only once the alert dispatcher has
taken it. A crash between the commit and the hand-over therefore repeats the notice at
the next start instead of losing it (the dispatcher drops repeats by key).
"""
from __future__ import annotations

import json
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any, Iterable

import sqlite_utils
from sqlite_utils import Migrations

from storage.timeutil import to_db

migrations = Migrations("outbox")


@migrations()
def m001_outbox(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE notice_outbox (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            notice TEXT NOT NULL
        )""")


def put(conn, notices: Iterable[Any], now: datetime) -> None:
    """Record notices (dataclass instances) inside the caller's transaction; sets ``outbox_id``."""
    for n in notices:
        n.outbox_id = conn.execute("INSERT INTO notice_outbox (created_at, notice) VALUES (?, ?) RETURNING id",
                                   [to_db(now), json.dumps(asdict(n), ensure_ascii=False, default=str)]).fetchall()[0][0]


def pending(conn, notice_type: type) -> list[Any]:
    """Notices not yet handed over, oldest first (unreadable rows are skipped, not lost)."""
    names = {f.name for f in fields(notice_type)}
    out = []
    for oid, text in conn.execute("SELECT id, notice FROM notice_outbox ORDER BY id"):
        try:
            data = {k: v for k, v in json.loads(text).items() if k in names}
            for key in ("towns", "topics", "item_ids"):
                data[key] = tuple(data.get(key) or ())
            notice = notice_type(**data)
        except (ValueError, TypeError):
            continue
        notice.outbox_id = oid
        out.append(notice)
    return out


def done(conn, outbox_id: int | None) -> None:
    if outbox_id is not None:
        conn.execute("DELETE FROM notice_outbox WHERE id = ?", [outbox_id])
