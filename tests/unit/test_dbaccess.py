"""The least-privilege policy (yuqing/dbaccess.py) decides about every table the desk has, and
never lets a restricted role change history."""
from __future__ import annotations

import sqlite3

from pipeline.schema import all_migrations
from storage.db import open_db
from storage.dbcopy import source_tables
from yuqing import dbaccess


def _desk_tables(tmp_path) -> set[str]:
    db = open_db(tmp_path / "desk.sqlite", all_migrations())
    db.conn.close()
    conn = sqlite3.connect(tmp_path / "desk.sqlite")
    try:
        return set(source_tables(conn)[0])
    finally:
        conn.close()


def test_every_table_is_decided(tmp_path):
    tables = _desk_tables(tmp_path) | {"yuqing_migrations"}  # the server's migration records
    assert tables - dbaccess.classified() == set(), "new tables: decide in yuqing/dbaccess.py who may write them"


def test_history_is_append_only_for_every_restricted_role():
    assert dbaccess.CONSOLE_WRITES["timeline_events"] == ("INSERT",)
    assert "timeline_anchor" not in dbaccess.COLLECTOR and "timeline_events" not in dbaccess.COLLECTOR
    assert all("DELETE" not in privs for t, privs in dbaccess.CONSOLE_WRITES.items() if t.startswith("timeline"))
    assert "staff" not in dbaccess.CONSOLE_WRITES  # roles and logins: administration only
    collector = {g.table: g for g in dbaccess.collector_grants()}
    assert set(dbaccess.SOURCE_DEFINITION) <= set(collector["sources"].update_except)
    assert set(collector) - {"yuqing_migrations"} == set(dbaccess.COLLECTOR)
