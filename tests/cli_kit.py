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


def health_candidate(story_id: str) -> dict:
    """A 一般 incident candidate at 铺镇 whose routing suggested 区卫健局 (stored under its former
    name 区卫计局, as an older desk wrote it), 区医保局 and the town; 区委宣传部 owns the release."""
    return {
        "story_id": story_id, "title": "铺镇卫生院输液后多名患者不适",
        "first_published": "2026-06-14T08:00:00+08:00", "detected_at": "2026-06-14T09:00:00+08:00",
        "places": [{"code": "610702100", "name": "铺镇", "level": "town"}], "departments": ["区卫计局"],
        "responsible_units": ["区卫计局", "区医保局", "铺镇", "区委宣传部"], "topic": "医疗卫生",
        "severity": "一般", "severity_reasons": [], "item_ids": [1], "trigger": "负面",
    }


def desk_with_incident(home, story_id: str):
    """A fresh desk home with the health incident (#1) opened; returns ``run(*args)``, which runs
    a command on it in-process and asserts it succeeded."""
    import json

    from click.testing import CliRunner

    from yuqing.cli import cli

    runner = CliRunner()

    def run(*args):
        res = runner.invoke(cli, ["--home", str(home), *args])
        assert res.exit_code == 0, res.output
        return res

    run("init")
    cand = home.parent / f"{story_id}.json"
    cand.write_text(json.dumps(health_candidate(story_id)), encoding="utf-8")
    run("open-incident", str(cand))
    return run


def desk_target(home):
    """The database a desk home uses: its SQLite file, or the server named by YUQING_DATABASE_URL
    (the `backend` fixture's PostgreSQL half) or desk.toml's [database] url."""
    from pathlib import Path

    from yuqing.home import DeskHome

    return DeskHome(Path(home)).db_target


def desk_rows(home, sql: str, params=()) -> list:
    """Rows of one query on a desk home's database, on either backend (read only)."""
    from storage.db import connect

    db = connect(desk_target(home), readonly=True)
    try:
        return [tuple(r) for r in db.conn.execute(sql, list(params)).fetchall()]
    finally:
        db.conn.close()
