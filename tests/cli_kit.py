"""Helpers for tests that drive the CLI in-process (click's CliRunner) on a real desk home."""
from __future__ import annotations


def settle_db(db_path) -> None:
    """Close what the in-process commands left open and fold the WAL into the file, so a
    seeded home copies as one consistent file."""
    import gc
    import sqlite3

    gc.collect()
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
