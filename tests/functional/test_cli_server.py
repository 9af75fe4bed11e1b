"""Server mode from the command line (issue 16): which database a command uses (--database, then
YUQING_DATABASE_URL, then desk.toml's [database] url), `init` recording the URL without its
password, `backup` by pg_dump, `doctor` on a server, `demo` refusing a database that holds a
desk, and a password in a URL never shown by any command, failing or not, nor logged.
"""
from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner

from yuqing.cli import cli

pytestmark = pytest.mark.postgresql

SECRET = "Pw-9f3kq7-s3cret"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("YUQING_DATABASE_URL", "YUQING_HOME", "YUQING_PG_DUMP", "PGPASSWORD"):
        monkeypatch.delenv(name, raising=False)


def _with_password(url: str) -> str:
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@")


def _run(home, *args, env=None):
    return CliRunner().invoke(cli, ["--home", str(home), *args], env=env)


def _count(url: str, table: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_init_records_the_database_without_its_password(pg_url, tmp_path):
    home = tmp_path / "desk"
    res = _run(home, "--database", _with_password(pg_url), "init")
    assert res.exit_code == 0, res.output
    assert SECRET not in res.output
    assert "postgresql://postgres:***@" in res.output  # the database used, its password hidden
    assert "PGPASSWORD" in res.output
    toml = (home / "desk.toml").read_text(encoding="utf-8")
    assert f'url = "{pg_url}"' in toml and SECRET not in toml
    assert not (home / "desk.sqlite").exists()
    assert _count(pg_url, "yuqing_migrations") > 0
    # later commands find the database by desk.toml alone
    res = _run(home, "incidents", "--json")
    assert res.exit_code == 0 and json.loads(res.output) == []


def test_option_then_environment_then_desk_toml(pg_server, pg_url, tmp_path):
    home = tmp_path / "desk"
    assert _run(home, "--database", pg_url, "init").exit_code == 0
    other = pg_server.create_database()
    try:
        # the environment wins over desk.toml: a database without a desk is refused, by its name
        res = _run(home, "incidents", env={"YUQING_DATABASE_URL": other})
        assert res.exit_code == 1 and "no desk in database" in res.output and other in res.output
        # the option wins over the environment
        res = _run(home, "--database", pg_url, "incidents", env={"YUQING_DATABASE_URL": other})
        assert res.exit_code == 0, res.output
        # after the command name too
        res = _run(home, "incidents", "--database", other)
        assert res.exit_code == 1 and other in res.output
    finally:
        pg_server.drop_database(other.rsplit("/", 1)[1])


def test_a_password_in_desk_toml_is_refused_without_showing_it(pg_url, tmp_path):
    home = tmp_path / "desk"
    assert _run(home, "--database", pg_url, "init").exit_code == 0
    toml = home / "desk.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(pg_url, _with_password(pg_url)), encoding="utf-8")
    res = _run(home, "sources")
    assert res.exit_code == 1 and "[database].url" in res.output and "PGPASSWORD" in res.output
    assert SECRET not in res.output


def test_a_password_never_appears_in_any_output(pg_server, pg_url, tmp_path):
    """Failing commands (unreachable server, missing database, no desk yet, bad arguments after
    connecting) and succeeding ones: the password is in no output and in no log line."""
    home = tmp_path / "desk"
    good = _with_password(pg_url)
    missing = _with_password(pg_server.url_for("no_such_db"))
    closed = f"postgresql://postgres:{SECRET}@127.0.0.1:1/x"
    empty = _with_password(pg_server.create_database())
    outputs = []
    try:
        for url in (closed, missing, empty):
            for args in (["incidents"], ["doctor"], ["backup"], ["verify"], ["retention", "--days", "3"],
                         ["staff", "list"], ["export", "1", "--format", "md", "-o", str(tmp_path / "x.md")],
                         ["ack", "1"]):
                res = _run(home, "--database", url, *args)
                assert res.exit_code != 0, (args, res.output)
                outputs.append(res.output)
        res = _run(home, "--database", good, "init")
        assert res.exit_code == 0, res.output
        outputs.append(res.output)
        for args in (["incident", "999"], ["ack", "999"], ["backup", str(tmp_path / "no" / "dir") + "/"],
                     ["retention", "--days", "0"], ["demo", "--headless", "--for", "1"]):
            res = _run(home, "--database", good, *args)
            assert res.exit_code != 0, (args, res.output)
            outputs.append(res.output)
        for args in (["backup"], ["retention", "--days", "3"], ["incidents"]):
            res = _run(home, "--database", good, *args)
            assert res.exit_code == 0, (args, res.output)
            outputs.append(res.output)
        outputs.append(_run(home, "--database", good, "doctor").output)
    finally:
        pg_server.drop_database(empty.rsplit("/", 1)[1])
    for out in outputs:
        assert SECRET not in out, out
    assert any("***@" in out for out in outputs)
    for path in home.rglob("*"):
        if path.is_file() and path.suffix != ".dump":
            assert SECRET.encode() not in path.read_bytes(), path


def test_backup_by_pg_dump_restores(pg_server, pg_url, tmp_path):
    from yuqing.server_ops import find_tool

    if find_tool("pg_dump") is None:
        pytest.skip("pg_dump not installed")
    home = tmp_path / "desk"
    assert _run(home, "--database", pg_url, "init").exit_code == 0
    res = _run(home, "backup", env={"YUQING_NOW": "2026-12-06T06:00+08:00"})
    assert res.exit_code == 0, res.output
    dump = home / "backups" / "desk-20261206-060000.dump"
    assert dump.is_file() and "pg_dump" in res.output and "校验 ok" in res.output
    res = _run(home, "backup", str(dump), env={"YUQING_NOW": "2026-12-06T06:00+08:00"})
    assert res.exit_code == 1 and "--force" in res.output  # never replaced unasked
    copy = pg_server.create_database()
    try:
        done = subprocess.run([str(find_tool("pg_restore")), "--no-owner", f"--dbname={copy}", str(dump)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert _count(copy, "yuqing_migrations") == _count(pg_url, "yuqing_migrations") > 0
        assert _count(copy, "timeline_events") == _count(pg_url, "timeline_events")
    finally:
        pg_server.drop_database(copy.rsplit("/", 1)[1])


def test_backup_without_pg_dump_says_what_to_do(pg_url, tmp_path):
    home = tmp_path / "desk"
    assert _run(home, "--database", pg_url, "init").exit_code == 0
    res = _run(home, "backup", env={"YUQING_PG_DUMP": str(tmp_path / "no-pg_dump")})
    assert res.exit_code == 1 and "pg_dump not found" in res.output and "postgresql-client" in res.output
    assert not list((home / "backups").glob("*")) if (home / "backups").exists() else True


def test_doctor_on_a_server(pg_url, tmp_path):
    home = tmp_path / "desk"
    assert _run(home, "--database", pg_url, "init").exit_code == 0
    res = _run(home, "doctor", "--json")
    checks = {c["name"]: c for c in json.loads(res.output)["checks"]}
    assert "PostgreSQL" in checks["database"]["detail"] and "connection ok" in checks["database"]["detail"]
    assert pg_url.rsplit("/", 1)[1] in checks["database"]["detail"]
    assert checks["schema"]["status"] == "ok" and checks["schema"]["detail"].startswith("up to date")
    assert "desk lock: free" in checks["locks"]["detail"]
    assert not {"integrity", "wal"} & set(checks)  # the SQLite file's PRAGMA checks


def test_demo_refuses_a_database_holding_a_desk(pg_url, tmp_path):
    home = tmp_path / "desk"
    assert _run(home, "--database", pg_url, "init").exit_code == 0
    before = _count(pg_url, "yuqing_migrations"), _count(pg_url, "timeline_events")
    demo_home = tmp_path / "demo"
    res = CliRunner().invoke(cli, ["--home", str(demo_home), "demo", "--headless", "--for", "1"],
                             env={"YUQING_DATABASE_URL": pg_url})
    assert res.exit_code == 1 and "已有值班台数据" in res.output and "createdb" in res.output, res.output
    assert not demo_home.exists()
    res = CliRunner().invoke(cli, ["--database", pg_url, "demo", "--headless", "--for", "1"])
    assert res.exit_code == 1 and "已有值班台数据" in res.output
    assert (_count(pg_url, "yuqing_migrations"), _count(pg_url, "timeline_events")) == before


def test_staff_labels_on_the_server_train_the_topic_model(pg_url, tmp_path):
    """`yuqing label` stores a correction on the server; `yuqing train` (and the daemon's model)
    learn from it there, not from a SQLite file in the home."""
    home = tmp_path / "desk"
    assert _run(home, "--database", pg_url, "init").exit_code == 0
    csv = tmp_path / "12345.csv"
    csv.write_text("工单编号,来电时间,诉求内容\nA1,2026-06-14 09:00,铺镇某路段路灯不亮\n", encoding="utf-8")
    res = _run(home, "import", "hotline", str(csv))
    assert res.exit_code == 0 and "1 new items stored" in res.output, res.output
    assert _run(home, "label", "1", "topic", "城市管理").exit_code == 0
    res = _run(home, "train", "--folds", "2")
    assert res.exit_code == 0, res.output
    assert "+ 1 staff labels" in res.output
    assert not (home / "desk.sqlite").exists()
