"""storage.db.transaction: BEGIN IMMEDIATE outside (on PostgreSQL BEGIN with the desk's writer
lock), a SAVEPOINT inside another transaction; on both backends."""
from __future__ import annotations

import pytest

from storage.db import open_db, transaction


@pytest.fixture
def db(tmp_path, backend):
    db = open_db(backend or tmp_path / "t.sqlite")
    db.conn.execute("CREATE TABLE t (v INTEGER)")
    yield db
    db.conn.close()


def _values(db):
    return [r[0] for r in db.conn.execute("SELECT v FROM t ORDER BY v")]


def test_inner_failure_undoes_only_the_inner_block(db):
    with transaction(db) as conn:
        conn.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(ValueError):
            with transaction(db):
                conn.execute("INSERT INTO t VALUES (2)")
                raise ValueError("inner")
        with transaction(db):
            conn.execute("INSERT INTO t VALUES (3)")
    assert _values(db) == [1, 3]
    assert not db.conn.in_transaction


def test_outer_failure_undoes_the_committed_inner_blocks(db):
    with pytest.raises(RuntimeError):
        with transaction(db) as conn:
            with transaction(db):
                conn.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("outer")
    assert _values(db) == []
    assert not db.conn.in_transaction


def test_deep_nesting_commits_once(db):
    with transaction(db) as conn:
        with transaction(db):
            with transaction(db):
                conn.execute("INSERT INTO t VALUES (7)")
        assert db.conn.in_transaction
    assert _values(db) == [7]
