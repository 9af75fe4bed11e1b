"""Least privilege on a PostgreSQL desk, for real: `yuqing db roles` run by the desk's own role
(a login role that owns the tables and may create roles, not a superuser), then each role
connects (trust authentication on loopback) and what it may do succeeds while the rest fails
with "permission denied"; the timeline's guard triggers hold even against the desk's own role.
"""
from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import errors as pe

from monitor import store as monitor_store
from responders import anchor
from tests.cli_kit import health_candidate
from tests.loopback import loopback  # noqa: F401 - fixture
from yuqing.cli import cli

# Response actions on a server desk need its timeline key in the desk home (pg-responders); a
# collector on a server needs intake's portable statements and source leases (pg-monitor).
pytestmark = pytest.mark.skipif(not hasattr(anchor, "use_home"),
                                reason="needs response actions on PostgreSQL (branch pg-responders)")
NEEDS_COLLECTOR = pytest.mark.skipif(not hasattr(monitor_store, "claim_due_sources"),
                                     reason="needs the collector on PostgreSQL (branch pg-monitor)")
NOW = "2026-11-27T10:00+08:00"
EVENT = ("INSERT INTO timeline_events (id, incident_id, seq, kind, actor, at, payload, prev_hash, hash)"
         " VALUES (1000, 1, 999, 'note', 'x', '2026-11-27T02:00:00+00:00', '{}', 'p', 'h')")


@pytest.fixture
def server_desk(pg_server, pg_url, tmp_path, monkeypatch):
    """A desk made on ``pg_url`` by its own role ``owner`` (CREATEROLE, CREATE on the schema),
    with one incident; the console and collector roles' names; every role dropped afterwards."""
    monkeypatch.setenv("YUQING_NOW", NOW)
    monkeypatch.delenv("YUQING_DATABASE_URL", raising=False)
    monkeypatch.delenv("YUQING_TIMELINE_KEY", raising=False)
    tag = uuid.uuid4().hex[:8]
    names = {"owner": f"yq_owner_{tag}", "console": f"yq_console_{tag}", "collector": f"yq_collect_{tag}"}
    dbname = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{names["owner"]}" LOGIN CREATEROLE')
        conn.execute(f'GRANT CREATE ON SCHEMA public TO "{names["owner"]}"')
    urls = {k: pg_server.url_for(dbname, user=v) for k, v in names.items()}
    home = tmp_path / "desk"
    runner = CliRunner()

    def run(*args, as_role="owner"):
        return runner.invoke(cli, ["--home", str(home), "--database", urls[as_role], *args])

    assert run("init").exit_code == 0
    cand = health_candidate("s1")
    (tmp_path / "c1.json").write_text(json.dumps(cand), encoding="utf-8")
    res = run("open-incident", str(tmp_path / "c1.json"))
    assert res.exit_code == 0, res.output
    with psycopg.connect(urls["owner"], autocommit=True) as conn:
        conn.execute("INSERT INTO items (source_id, guid, title, text, fetched_at, content_hash)"
                     " VALUES ('hotline', 'g1', '铺镇停水', '铺镇某小区停水', '2026-11-27T00:00:00+00:00', 'c')")
    yield {"names": names, "urls": urls, "run": run, "home": home}
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for name in names.values():
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone():
                conn.execute(f'DROP OWNED BY "{name}" CASCADE')
    with psycopg.connect(pg_server.admin_url, autocommit=True) as conn:
        for name in names.values():
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def _granted(desk) -> None:
    n = desk["names"]
    res = desk["run"]("db", "roles", "--console", n["console"], "--collector", n["collector"])
    assert res.exit_code == 0, res.output
    assert n["console"] in res.output and n["collector"] in res.output


def _outcome(url: str, sql: str) -> str:
    """'ok', 'denied' (permission denied / must be owner) or the error's class name; nothing kept."""
    with psycopg.connect(url) as conn:
        try:
            conn.execute(sql)
            return "ok"
        except pe.InsufficientPrivilege:
            return "denied"
        except psycopg.Error as exc:
            return type(exc).__name__
        finally:
            conn.rollback()


CONSOLE_ALLOWED = [
    "SELECT count(*) FROM items", "SELECT count(*) FROM item_private", "SELECT count(*) FROM staff",
    "SELECT count(*) FROM timeline_events", "SELECT count(*) FROM yuqing_migrations",
    EVENT,
    "UPDATE incidents SET state = state",
    "INSERT INTO labels (item_id, field, value, actor, created_at) VALUES (1, 'topic', '供水', 'x', 'y')",
    "DELETE FROM roster_shifts",
]
CONSOLE_FORBIDDEN = [
    "UPDATE timeline_events SET kind = kind", "DELETE FROM timeline_events", "TRUNCATE timeline_events",
    "ALTER TABLE timeline_events DISABLE TRIGGER ALL", "DROP TRIGGER timeline_no_update ON timeline_events",
    "DROP TABLE timeline_events", "TRUNCATE incidents", "DELETE FROM incidents", "DELETE FROM items",
    "INSERT INTO staff (id, name, role) VALUES ('me', 'me', 'admin')",
    "UPDATE staff SET role = 'admin'", "UPDATE sources SET url = 'http://evil.example/'",
    "DELETE FROM timeline_head", "UPDATE timeline_anchor SET start_event_id = 99",
    "CREATE TABLE mine (x int)",
]
COLLECTOR_ALLOWED = [
    "INSERT INTO items (source_id, guid, title, text, fetched_at, content_hash)"
    " VALUES ('hotline', 'g2', 't', 'x', '2026-11-27T00:00:00+00:00', 'c')",
    "UPDATE items SET metrics = '{}'",
    "INSERT INTO item_metrics (item_id, at, metrics) SELECT id, 'now', '{}' FROM items",
    "INSERT INTO item_private (item_id, name) SELECT id, '张三' FROM items",
    "SELECT id, url, spec FROM sources",
    "UPDATE sources SET next_check_at = 'soon', error_streak = 0, last_error = NULL",
]
COLLECTOR_FORBIDDEN = [
    "SELECT count(*) FROM incidents", "SELECT count(*) FROM timeline_events", "SELECT count(*) FROM staff",
    "SELECT name, phone FROM item_private", EVENT, "UPDATE sources SET url = 'http://evil.example/'",
    "UPDATE sources SET enabled = 1", "INSERT INTO sources (id, name, url, spec, interval, priority)"
    " VALUES ('x', 'x', 'x', '{}', 60, 1)", "DELETE FROM items", "DELETE FROM sources", "TRUNCATE items",
    "INSERT INTO items_fts (rowid, title, text) VALUES (1, 't', 'x')", "UPDATE incidents SET state = state",
]


def test_console_reads_everything_writes_responses_and_never_rewrites_history(server_desk):
    _granted(server_desk)
    url = server_desk["urls"]["console"]
    assert {sql: _outcome(url, sql) for sql in CONSOLE_ALLOWED} == {sql: "ok" for sql in CONSOLE_ALLOWED}
    assert {sql: _outcome(url, sql) for sql in CONSOLE_FORBIDDEN} == {sql: "denied" for sql in CONSOLE_FORBIDDEN}
    # Through the desk's own commands, as a workstation would use them: list, act, verify.
    run = server_desk["run"]
    res = run("incidents", as_role="console")
    assert res.exit_code == 0 and "铺镇卫生院" in res.output, res.output
    actions = [("ack", "1"), ("note", "1", "已联系卫健局核实"), ("grade", "1", "较大"),
               ("assign", "1", "区卫健局", "铺镇"), ("followup", "1", "--text", "值班员电话督办"),
               ("verify-status", "1", "已核实"),
               ("release", "1", "--channel", "政务微博", "--url", "https://weibo.example/2", "--text", "进展"),
               ("instruct", "1", "--text", "请核实", "--due", "2099-01-01 12:00"),
               ("instruct-done", "1", "--text", "已核实")]
    for action in actions:
        res = run(*action, as_role="console")
        assert res.exit_code == 0, (action, res.output)
    res = run("verify", as_role="console")
    assert res.exit_code == 0 and "时间线校验通过" in res.output, res.output


@NEEDS_COLLECTOR
def test_staff_import_hotline_records_as_the_console_role(server_desk):
    _granted(server_desk)
    run = server_desk["run"]
    csv = server_desk["home"].parent / "hotline.csv"
    csv.write_text("编号,标题,内容,来电时间,来电人,电话\nA1,铺镇停水,铺镇某小区停水三天无人管,2026-11-27 08:00,张三,"
                   "13812345678\n", encoding="utf-8")
    res = run("import", "hotline", "--kind", "mailbox", str(csv))  # the first of a kind registers its source
    assert res.exit_code == 0, res.output
    csv.write_text("编号,标题,内容,来电时间,来电人,电话\nA2,夜间施工噪音,夜间施工噪音扰民,2026-11-27 09:00,李四,"
                   "13900000000\n", encoding="utf-8")
    res = run("import", "hotline", "--kind", "mailbox", str(csv), as_role="console")  # manual intake by staff
    assert res.exit_code == 0 and "1 new items stored" in res.output, res.output
    with psycopg.connect(server_desk["urls"]["owner"]) as conn:
        assert conn.execute("SELECT count(*) FROM item_private").fetchone()[0] == 2


def test_collector_writes_only_the_intake_tables(server_desk):
    _granted(server_desk)
    url = server_desk["urls"]["collector"]
    assert {sql: _outcome(url, sql) for sql in COLLECTOR_ALLOWED} == {sql: "ok" for sql in COLLECTOR_ALLOWED}
    assert {sql: _outcome(url, sql) for sql in COLLECTOR_FORBIDDEN} == {sql: "denied" for sql in COLLECTOR_FORBIDDEN}


def test_the_timeline_guards_hold_against_the_desks_own_role(server_desk):
    url = server_desk["urls"]["owner"]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(EVENT)  # the owner appends like anyone
    for sql in ("UPDATE timeline_events SET kind = 'x'", "DELETE FROM timeline_events", "TRUNCATE timeline_events"):
        with psycopg.connect(url) as conn:
            with pytest.raises(psycopg.Error, match="append-only"):
                conn.execute(sql)


def test_grants_print_what_roles_apply_and_a_rerun_gives_the_same(server_desk):
    n = server_desk["names"]
    res = server_desk["run"]("db", "grants", "--console", n["console"], "--collector", n["collector"])
    assert res.exit_code == 0, res.output
    text = res.output
    assert text.startswith("BEGIN;") and text.rstrip().endswith("COMMIT;")
    assert f'GRANT INSERT ON "public"."timeline_events" TO "{n["console"]}";' in text
    assert "UPDATE" not in [line for line in text.splitlines() if '"timeline_events"' in line][0]
    assert '"url"' not in text and '"next_check_at"' in text  # sources: state columns only
    with psycopg.connect(server_desk["urls"]["owner"]) as conn:  # printing created nothing
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", [n["console"]]).fetchone()[0] == 0
    _granted(server_desk)
    _granted(server_desk)  # again: idempotent, nothing left over from the first run
    assert _outcome(server_desk["urls"]["console"], "DELETE FROM timeline_events") == "denied"
    assert _outcome(server_desk["urls"]["collector"], COLLECTOR_ALLOWED[0]) == "ok"


def test_role_names_are_checked(server_desk, tmp_path):
    run = server_desk["run"]
    res = run("db", "roles", "--console", 'x"; DROP TABLE items; --')
    assert res.exit_code == 1 and "角色名" in res.output
    res = run("db", "roles", "--console", server_desk["names"]["owner"])
    assert res.exit_code == 1 and "值班台自己的角色" in res.output
    res = run("db", "roles", "--console", "same", "--collector", "same")
    assert res.exit_code == 1
    res = run("db", "roles")
    assert res.exit_code == 2
    res = CliRunner().invoke(cli, ["--home", str(tmp_path / "sqlite"), "db", "roles", "--console", "c"])
    assert res.exit_code == 1 and "PostgreSQL" in res.output


def _rss(n: int) -> str:
    items = "".join(f"<item><guid>g{i}</guid><title>汉台区铺镇第{i}条停水通知</title>"
                    f"<link>https://news.example/{i}</link><description>正文{i}</description></item>" for i in range(n))
    return f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>{items}</channel></rss>"


@NEEDS_COLLECTOR
def test_a_real_collector_runs_as_the_collector_role(server_desk, loopback):  # noqa: F811
    """`yuqing run --role collect` connected as the collector role fetches a loopback feed and
    stores its items; the source's definition stays the desk's."""
    import os
    import signal
    import subprocess
    import sys
    import time

    loopback.route("/feed.xml", _rss(3))
    home = server_desk["home"]
    (home / "sources.toml").write_text(
        f'[sources.s0]\nname = "测试源"\nurl = "{loopback.url("/feed.xml")}"\nkind = "rss"\ninterval = 60\n',
        encoding="utf-8")
    res = server_desk["run"]("sources")  # the desk's own role takes the new sources.toml in
    assert res.exit_code == 0, res.output
    _granted(server_desk)
    owner = server_desk["urls"]["owner"]
    with psycopg.connect(owner) as conn:
        before = conn.execute("SELECT count(*) FROM items").fetchone()[0]
    err = home / "collector.err"
    with open(err, "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "yuqing", "--home", str(home), "--database",
                                 server_desk["urls"]["collector"], "run", "--role", "collect"],
                                stdout=subprocess.DEVNULL, stderr=stderr,
                                env={**{k: v for k, v in os.environ.items() if k != "YUQING_NOW"},
                                     "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 90
        stored = before
        while time.monotonic() < deadline and proc.poll() is None:
            with psycopg.connect(owner) as conn:
                stored = conn.execute("SELECT count(*) FROM items WHERE source_id = 's0'").fetchone()[0]
            if stored >= 3:
                break
            time.sleep(0.2)
        assert stored == 3, err.read_text("utf-8", errors="replace")[-3000:]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, err.read_text("utf-8", errors="replace")[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    assert "permission denied" not in err.read_text("utf-8", errors="replace")
    with psycopg.connect(owner) as conn:
        row = conn.execute("SELECT url, last_success_at, items_total FROM sources WHERE id = 's0'").fetchone()
    assert row[0] == loopback.url("/feed.xml") and row[1] is not None and row[2] == 3
