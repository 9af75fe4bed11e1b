"""The desk's change notifications on PostgreSQL: a writing transaction notifies as it commits,
reading or rolled-back ones do not; a dropped connection is an OperationalError and is seen as lost."""
from __future__ import annotations

import sqlite3

import psycopg
import pytest

from storage.db import connect, connection_lost, transaction
from storage.pgnotify import DeskListener

WAIT = 30.0  # generous: a notification normally arrives within milliseconds


@pytest.fixture
def desk(pg_url):
    db = connect(pg_url)
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    listener = DeskListener(pg_url)
    yield pg_url, db, listener
    listener.close()
    db.close()


def test_a_write_notifies_when_it_commits(desk):
    url, db, listener = desk
    with transaction(db):
        db.execute("INSERT INTO notes (text) VALUES (?)", ["甲"])
        assert listener.wait(0.3) == 0  # not yet visible, not yet notified
    assert listener.wait(WAIT) >= 1
    assert listener.wait(0.3) == 0  # one commit, one wake-up


def test_several_commits_are_all_counted(desk):
    url, db, listener = desk
    for text in ("甲", "乙", "丙"):
        with transaction(db):
            db.execute("INSERT INTO notes (text) VALUES (?)", [text])
    seen = 0
    while seen < 3:
        got = listener.wait(WAIT)
        assert got, "a notification went missing"
        seen += got
    assert seen == 3


def test_reading_and_rolled_back_transactions_do_not_notify(desk):
    url, db, listener = desk
    with transaction(db):
        db.execute("SELECT count(*) FROM notes").fetchone()
    with pytest.raises(RuntimeError):
        with transaction(db):
            db.execute("INSERT INTO notes (text) VALUES (?)", ["撤销"])
            raise RuntimeError("rolled back")
    reader = connect(url, readonly=True)
    try:
        with transaction(reader):
            reader.execute("SELECT count(*) FROM notes").fetchone()
    finally:
        reader.close()
    with transaction(db):  # a marker: everything before it has been delivered by now
        db.execute("INSERT INTO notes (text) VALUES (?)", ["标记"])
    assert listener.wait(WAIT) == 1
    assert db.execute("SELECT text FROM notes ORDER BY id").fetchall() == [("标记",)]


def test_a_dropped_connection_is_an_operational_error_and_lost(desk, pg_server):
    url, db, listener = desk
    dbname = url.rsplit("/", 1)[1]
    assert not connection_lost(db)
    with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      " WHERE datname = %s AND pid <> pg_backend_pid()", [dbname])
    with pytest.raises(sqlite3.OperationalError):
        listener.wait(WAIT)
    with pytest.raises(sqlite3.OperationalError):
        db.execute("SELECT 1")
    assert connection_lost(db)
    assert not connection_lost(connect(url))


def test_sqlite_connections_are_never_lost(tmp_path):
    db = connect(tmp_path / "desk.sqlite")
    assert not connection_lost(db)


def test_network_defaults_keep_what_the_url_says():
    from pathlib import Path

    from psycopg.conninfo import conninfo_to_dict

    from storage.dburl import with_defaults

    url = with_defaults("postgresql://duty:pw@db.example:5432/desk?keepalives=0&sslmode=require")
    params = conninfo_to_dict(url)
    assert params["keepalives"] == "0" and params["sslmode"] == "require" and params["password"] == "pw"
    assert params["connect_timeout"] == "10" and params["keepalives_idle"] == "5"
    assert with_defaults(url) == url  # nothing missing any more
    assert with_defaults(Path("/desk/desk.sqlite")) == Path("/desk/desk.sqlite")


def test_server_connections_notice_a_dead_link_and_keep_their_url(pg_url):
    from storage.pg import PgConnection

    conn = PgConnection(pg_url)
    try:
        params = conn.raw.info.get_parameters()
        assert params.get("keepalives_idle") == "5" and params.get("connect_timeout") == "10"
        assert conn.url == pg_url  # what the timeline key and the lock holders are found by
    finally:
        conn.close()
