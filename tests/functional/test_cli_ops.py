"""`yuqing backup / doctor / retention / bench`, and a table of CLI misuse: every error names
what to fix, none prints a traceback."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta

import pytest
from click.testing import CliRunner

from monitor import store
from monitor.types import ParsedItem, SourceSpec
from storage.db import open_db
from storage.timeutil import utcnow
from yuqing import cli as climod
from pipeline.schema import all_migrations

OPS = {"backup": ("yuqing.cmd_ops", "backup"), "doctor": ("yuqing.cmd_ops", "doctor"),
       "retention": ("yuqing.cmd_ops", "retention"), "bench": ("yuqing.cmd_bench", "bench")}


@pytest.fixture
def yq(tmp_path, monkeypatch):
    return _yq(tmp_path, monkeypatch)


@pytest.fixture
def yq_both(tmp_path, monkeypatch, backend):
    """``yq`` on each backend: SQLite, then a PostgreSQL server (YUQING_DATABASE_URL)."""
    invoke = _yq(tmp_path, monkeypatch)
    invoke.server = backend
    return invoke


def _yq(tmp_path, monkeypatch):
    for name, (mod, attr) in OPS.items():
        if name not in climod.COMMANDS:
            monkeypatch.setitem(climod.COMMANDS, name, (mod, attr, name))
    runner = CliRunner()
    home = tmp_path / "home"

    def invoke(*args, code=0, home_arg=True):
        argv = (["--home", str(home)] if home_arg else []) + [str(a) for a in args]
        res = runner.invoke(climod.cli, argv)
        assert "Traceback" not in res.output
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            raise AssertionError(f"{argv}: uncaught {res.exception!r}\n{res.output}")
        if code is not None:
            assert res.exit_code == code, (argv, res.output)
        return res

    invoke.home = home
    return invoke


def _fill(home, n_old=5, n_new=2):
    from tests.cli_kit import desk_target

    db = open_db(desk_target(home), all_migrations())
    spec = SourceSpec(id="news", name="新闻", url="http://127.0.0.1:9/feed")
    now = utcnow()
    store.sync_sources(db, [spec], now)
    for k, (n, age) in enumerate(((n_old, 400), (n_new, 1))):
        items = [ParsedItem(guid=f"{k}-{i}", title=f"标题{k}-{i}", text="正文") for i in range(n)]
        store.store_fetch(db, spec, items, now=now - timedelta(days=age), next_check=now, etag=None,
                          last_modified=None, body_digest=None)
    db.conn.close()


def test_backup_doctor_retention_end_to_end(yq_both, tmp_path):
    yq = yq_both
    yq("init")
    _fill(yq.home)
    copy = tmp_path / ("copy.dump" if yq.server else "copy.sqlite")
    out = yq("backup", copy).output
    assert "已备份" in out and "校验 ok" in out
    if yq.server:  # pg_dump's custom format, restorable with pg_restore (tests/test_cli_server.py)
        assert copy.read_bytes().startswith(b"PGDMP") and "pg_dump" in out
    else:
        assert sqlite3.connect(copy).execute("SELECT count(*) FROM items").fetchone()[0] == 7
    assert "--force" in yq("backup", copy, code=1).output

    res = yq("doctor", "--json")
    report = json.loads(res.output)
    assert report["ok"] is True, report
    file_checks = {"locks"} if yq.server else {"wal", "integrity"}
    assert {c["name"] for c in report["checks"]} >= {"disk", "database", "schema", "sources", "timeline",
                                                     *file_checks}
    assert "结论" in yq("doctor", "--full").output

    out = yq("retention", "--days", "365", "--dry-run").output
    assert "旧条目 5 条" in out and "将删除: items 5" in out
    out = yq("retention", "--days", "365").output
    assert "已删除: items 5" in out
    assert "retention: deleted" in (yq.home / "logs" / "desk.log").read_text(encoding="utf-8")


def test_doctor_exits_1_on_a_broken_chain(yq):
    yq("init")
    _fill(yq.home)
    from responders.incidents import IncidentService
    from responders.policy import ClockPolicy
    from tests.responders_kit import candidate

    db = open_db(yq.home / "desk.sqlite", all_migrations())
    svc = IncidentService(db, ClockPolicy())
    inc = svc.open_or_join(candidate("s1")).incident
    svc.note(inc.id, "甲")
    db.conn.execute("DROP TRIGGER timeline_no_update")
    db.conn.execute("UPDATE timeline_events SET actor = '某人' WHERE id = 1")
    db.conn.close()
    out = yq("doctor", code=1).output
    assert "[故障] timeline" in out and "event 1" in out


def _broken_desk(home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "desk.toml").write_text("[desk\n", encoding="utf-8")
    (home / "sources.toml").write_text("", encoding="utf-8")


MISUSE = [
    # (setup, args, words the message must contain, exit code)
    (None, ["no-such-command"], ["No such command", "no-such-command"], 2),
    (None, ["backup"], ["no desk database", "yuqing init"], 1),
    ("init", ["backup", "/no/such/dir/x.sqlite"], ["/no/such/dir", "does not exist"], 1),
    (None, ["backup", "{tmp}/x.sqlite"], ["no desk database", "yuqing init"], 1),
    (None, ["retention"], ["Missing option", "--days"], 2),
    (None, ["retention", "--days", "0"], ["--days", "0"], 2),
    (None, ["retention", "--days", "abc"], ["--days", "abc"], 2),
    (None, ["retention", "--days", "30"], ["no desk database", "yuqing init"], 1),
    (None, ["bench", "--only", "nonsense"], ["--only", "nonsense", "known"], 2),
    ("broken", ["sources"], ["desk.toml", "not valid TOML", "line 1"], 1),
    ("init", ["sources", "test", "nosuch"], ["no source 'nosuch'", "sources.toml"], 1),
    ("init", ["sources", "enable", "nosuch"], ["nosuch"], 1),
    ("init", ["import", "hotline", "{tmp}/missing.csv"], ["missing.csv", "does not exist"], 2),
    ("init", ["incident", "999"], ["999"], 1),
    ("init", ["run", "--for", "soon"], ["--for", "soon"], 2),
    ("file_home", ["doctor"], ["--home", "is a file"], 2),
]


@pytest.mark.parametrize("setup,args,words,code", MISUSE, ids=[" ".join(m[1]) for m in MISUSE])
def test_misuse_names_what_to_fix(yq, tmp_path, setup, args, words, code):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if setup == "init":
        yq("init")
    elif setup == "broken":
        _broken_desk(yq.home)
    elif setup == "file_home":
        (tmp_path / "home").write_text("not a folder")
    res = yq(*args, code=None)
    assert res.exit_code == code, res.output
    for w in words:
        assert w in res.output, (w, res.output)
    assert res.output.strip().count("\n") < 6, res.output  # short, not a dump


@pytest.mark.parametrize("argv,env,words", [
    (["--home", "{tmp}/f", "sources"], {}, ["is a file"]),
    (["sources"], {"YUQING_HOME": "{tmp}/broken"}, ["desk.toml", "not valid TOML"]),
    (["import", "hotline", "{tmp}/nope.csv"], {"YUQING_HOME": "{tmp}/h"}, ["nope.csv"]),
    (["nosuch"], {}, ["No such command"]),
])
def test_misuse_in_a_real_process_prints_no_traceback(tmp_path, argv, env, words):
    (tmp_path / "f").write_text("x")
    _broken_desk(tmp_path / "broken")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    env = {k: v.replace("{tmp}", str(tmp_path)) for k, v in env.items()}
    proc = subprocess.run([sys.executable, "-m", "yuqing", *argv], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    for w in words:
        assert w in proc.stderr, proc.stderr


def test_every_ops_command_has_help_with_an_example(yq):
    for name in OPS:
        out = yq(name, "--help").output
        assert "Example:" in out, name
