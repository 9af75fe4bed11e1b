"""tests/pgserver.py: the private PostgreSQL server, its fresh databases and the two-backend fixture."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.pgserver import DATABASE_URL_ENV

REPO = Path(__file__).resolve().parents[2]


def _connect(url):
    psycopg = pytest.importorskip("psycopg")
    return psycopg.connect(url, autocommit=True)


def test_a_fresh_database_stores_and_returns_rows(pg_url):
    with _connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0
        conn.execute("CREATE TABLE t (id SERIAL PRIMARY KEY, title TEXT NOT NULL)")
        ids = [conn.execute("INSERT INTO t (title) VALUES (%s) RETURNING id", (t,)).fetchone()[0]
               for t in ("汉台区通报", "second")]
        rows = conn.execute("SELECT id, title FROM t ORDER BY id").fetchall()
        assert rows == [(ids[0], "汉台区通报"), (ids[1], "second")]
        assert conn.execute("SHOW server_encoding").fetchone()[0] == "UTF8"


def test_the_server_listens_on_loopback_with_the_promised_url(pg_server):
    assert pg_server.admin_url == f"postgresql://postgres@127.0.0.1:{pg_server.port}/postgres"
    assert pg_server.url_for("x", user="desk") == f"postgresql://desk@127.0.0.1:{pg_server.port}/x"
    assert (pg_server.bindir / "initdb").exists()
    with _connect(pg_server.admin_url) as conn:
        assert int(conn.execute("SHOW server_version_num").fetchone()[0]) >= 130000
        assert conn.execute("SHOW fsync").fetchone()[0] == "off"


def test_each_test_gets_its_own_database(pg_server, pg_url):
    other = pg_server.create_database()
    try:
        assert other != pg_url
        with _connect(pg_url) as conn:
            conn.execute("CREATE TABLE only_here (v INT)")
        with _connect(other) as conn:
            assert conn.execute("SELECT to_regclass('only_here')").fetchone()[0] is None
    finally:
        pg_server.drop_database(other.rsplit("/", 1)[1])
    with _connect(pg_server.admin_url) as conn:
        names = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
    assert other.rsplit("/", 1)[1] not in names
    assert pg_url.rsplit("/", 1)[1] in names


_seen_backends = []


def test_backend_runs_on_both_and_sets_the_url_only_for_postgresql(backend, request):
    param = request.node.callspec.params["backend"]
    _seen_backends.append(param)
    if param == "sqlite":
        assert backend is None
        assert DATABASE_URL_ENV not in os.environ
        assert request.node.get_closest_marker("postgresql") is None
    else:
        assert backend.startswith("postgresql://postgres@127.0.0.1:")
        assert os.environ[DATABASE_URL_ENV] == backend
        assert request.node.get_closest_marker("postgresql") is not None
        with _connect(backend) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)


def test_the_environment_is_restored_after_a_backend_test():
    # Runs after both halves above (default file order); under random order it has nothing to check.
    if not _seen_backends:
        pytest.skip("the backend test has not run before this one")
    assert DATABASE_URL_ENV not in os.environ


def _pytest_in_child(tmp_path, env_extra, *args):
    """Run a tiny test file through pytest in a child, as CI would, and return its output."""
    test = tmp_path / "test_child_pg.py"
    test.write_text(textwrap.dedent("""
        def test_uses_both(backend):
            assert True
    """))
    conftest = tmp_path / "conftest.py"
    conftest.write_text('pytest_plugins = ("tests.pgserver",)\n')
    env = {**os.environ, "PYTHONPATH": str(REPO), **env_extra}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
                           "-c", os.devnull, str(test), *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def test_without_binaries_the_postgresql_half_skips_with_the_reason(tmp_path):
    code, out = _pytest_in_child(tmp_path, {"YUQING_TEST_PG_BINDIR": str(tmp_path / "nowhere")})
    assert code == 0, out
    assert "1 passed, 1 skipped" in out, out
    assert "PostgreSQL not available" in out and "nowhere" in out, out


def test_not_postgresql_deselects_the_server_half(tmp_path):
    code, out = _pytest_in_child(tmp_path, {}, "-m", "not postgresql")
    assert code == 0, out
    assert "1 passed, 1 deselected" in out, out
