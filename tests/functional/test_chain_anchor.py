"""The timeline's anchor end to end: a real desk home, each tampering case of issue 18 made
directly with sqlite3, and `python3 -m yuqing --home H verify` must exit non-zero naming it."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from responders.timeline import event_hash

REPO = Path(__file__).resolve().parents[2]
NOW = "2026-06-14T12:00:00+08:00"
CANDIDATE = {
    "story_id": "story-42", "title": "铺镇化工厂夜间异味 村民投诉",
    "first_published": "2026-06-14T08:00:00+08:00", "detected_at": "2026-06-14T09:30:00+08:00",
    "places": [{"code": "610702100", "name": "铺镇", "level": "town"}], "departments": ["区生态环境分局"],
    "responsible_units": ["区生态环境分局", "铺镇"], "topic": "生态环境", "severity": "较大",
    "severity_reasons": ["负面情绪集中"], "item_ids": [11, 12], "trigger": "热度突增",
    "evidence": [],
}
GUARDS = {
    "timeline_no_update": "CREATE TRIGGER timeline_no_update BEFORE UPDATE ON timeline_events"
                          " BEGIN SELECT RAISE(ABORT, 'timeline_events is append-only'); END",
    "timeline_no_delete": "CREATE TRIGGER timeline_no_delete BEFORE DELETE ON timeline_events"
                          " BEGIN SELECT RAISE(ABORT, 'timeline_events is append-only'); END",
}


def yq(home: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k != "YUQING_TIMELINE_KEY"}
    e.update(PYTHONPATH=str(REPO), YUQING_NOW=NOW, **(env or {}))
    return subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), *args, *(
        ["--actor", "值班员"] if args[0] not in ("doctor",) else [])],
        capture_output=True, text=True, env=e, timeout=120)


def ok(home: Path, *args: str, env: dict | None = None) -> str:
    res = yq(home, *args, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout + res.stderr


def seed(home: Path, tmp: Path, env: dict | None = None) -> None:
    cand = tmp / "cand.json"
    cand.write_text(json.dumps(CANDIDATE, ensure_ascii=False), encoding="utf-8")
    ok(home, "open-incident", str(cand), env=env)
    second = dict(CANDIDATE, story_id="story-43", title="龙江镇道路塌陷", item_ids=[21],
                  places=[], topic="城乡建设")
    cand.write_text(json.dumps(second, ensure_ascii=False), encoding="utf-8")
    ok(home, "open-incident", str(cand), env=env)
    ok(home, "ack", "1", env=env)
    ok(home, "release", "1", "--channel", "政府网站", "--url", "https://www.hantai.gov.cn/1",
       "--text", "情况通报", "--at", "2026-06-14T11:00", env=env)
    ok(home, "note", "2", "已电话联系龙江镇", env=env)


def db(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "desk.sqlite", isolation_level=None)


def drop_guards(con) -> None:
    con.execute("DROP TRIGGER timeline_no_update")
    con.execute("DROP TRIGGER timeline_no_delete")


def restore_guards(con) -> None:
    """A careful attacker puts the triggers back exactly as they were."""
    for sql in GUARDS.values():
        con.execute(sql)


def rechain_from(con, first_id: int) -> None:
    """Recompute every hash from ``first_id`` with the public event_hash, and the head."""
    rows = con.execute("SELECT id, incident_id, seq, kind, actor, at, payload FROM timeline_events"
                       " WHERE id >= ? ORDER BY id", [first_id]).fetchall()
    prev = con.execute("SELECT hash FROM timeline_events WHERE id = ?", [first_id - 1]).fetchone()
    prev = prev[0] if prev else "0" * 64
    for eid, iid, seq, kind, actor, at, payload in rows:
        h = event_hash(eid, iid, seq, kind, actor, at, json.loads(payload), prev)
        con.execute("UPDATE timeline_events SET prev_hash = ?, hash = ? WHERE id = ?", [prev, h, eid])
        prev = h
    n, last = con.execute("SELECT COUNT(*), MAX(id) FROM timeline_events").fetchone()
    con.execute("UPDATE timeline_head SET last_event_id = ?, last_hash = ?, count = ?", [last, prev, n])


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("seed")
    home = tmp / "home"
    seed(home, tmp)
    return home


@pytest.fixture
def home(seeded, tmp_path) -> Path:
    h = tmp_path / "home"
    shutil.copytree(seeded, h)
    return h


def fails(home: Path, *words: str, env: dict | None = None) -> str:
    res = yq(home, "verify", env=env)
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    assert "Traceback" not in out
    for w in words:
        assert w in out, out
    return out


def test_untouched_desk_verifies_with_the_anchor(home):
    out = ok(home, "verify")
    assert "HMAC 锚定自事件 1 起" in out and "校验通过" in out
    key = home / "timeline.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert json.loads(key.read_text())["anchored_from"] == {"desk.sqlite": 1}


def test_truncated_tail_with_rewritten_head(home):
    con = db(home)
    drop_guards(con)
    n = con.execute("SELECT MAX(id) FROM timeline_events").fetchone()[0]
    con.execute("DELETE FROM timeline_events WHERE id > ?", [n - 2])
    last, h = con.execute("SELECT id, hash FROM timeline_events ORDER BY id DESC LIMIT 1").fetchone()
    con.execute("UPDATE timeline_head SET last_event_id = ?, last_hash = ?, count = ?", [last, h, last])
    restore_guards(con)
    con.close()
    fails(home, "校验失败", "head HMAC")


def test_all_events_and_head_deleted(home):
    con = db(home)
    drop_guards(con)
    con.execute("DELETE FROM timeline_events")
    con.execute("DELETE FROM timeline_head")
    restore_guards(con)
    con.close()
    fails(home, "校验失败", "事件")


def test_everything_of_the_timeline_deleted_including_the_anchor_row(home):
    con = db(home)
    drop_guards(con)
    con.execute("DELETE FROM timeline_events")
    con.execute("DELETE FROM timeline_head")
    con.execute("DELETE FROM timeline_anchor")
    restore_guards(con)
    con.close()
    fails(home, "锚定记录被删除")


def test_edited_event_with_the_chain_recomputed(home):
    con = db(home)
    drop_guards(con)
    eid = con.execute("SELECT id FROM timeline_events WHERE kind = 'note'").fetchone()[0]
    con.execute("UPDATE timeline_events SET payload = ? WHERE id = ?", ['{"text":"从未联系"}', eid])
    rechain_from(con, eid)
    restore_guards(con)
    con.close()
    fails(home, f"事件 {eid}", "HMAC does not match")


def test_edited_incident_row(home):
    con = db(home)
    con.execute("UPDATE incidents SET severity = '一般' WHERE id = 1")
    con.close()
    fails(home, "事件 #1 的 severity", "incidents 表被直接改动")


def test_edited_incident_state(home):
    con = db(home)
    con.execute("UPDATE incidents SET state = '归档' WHERE id = 2")
    con.close()
    fails(home, "事件 #2 的 state")


def test_deleted_incident_row(home):
    con = db(home)
    con.execute("PRAGMA foreign_keys = OFF")
    con.execute("DELETE FROM incident_items WHERE incident_id = 2")
    con.execute("DELETE FROM incident_stories WHERE incident_id = 2")
    con.execute("DELETE FROM incidents WHERE id = 2")
    con.close()
    fails(home, "incidents 表中却没有它")


def test_edited_and_deleted_release_rows(home):
    con = db(home)
    con.execute("UPDATE releases SET released_at = '2026-06-14T01:00:00.000000+00:00' WHERE id = 1")
    con.close()
    fails(home, "发布记录 1 的 released_at", "releases 表被直接改动")
    con = db(home)
    con.execute("DELETE FROM releases")
    con.close()
    fails(home, "发布记录被删除")


def test_inserted_release_row(home):
    con = db(home)
    con.execute("INSERT INTO releases (incident_id, kind, channel, url, released_at, text, recorded_at, actor)"
                " VALUES (2, 'authoritative', '政府网站', 'https://x', '2026-06-14T02:00:00.000000+00:00', '',"
                " '2026-06-14T02:00:00.000000+00:00', 'x')")
    con.close()
    fails(home, "releases 表被直接插入")


def test_triggers_neutered_through_writable_schema(home):
    con = db(home)
    con.execute("PRAGMA writable_schema = ON")
    con.execute("UPDATE sqlite_master SET sql = 'CREATE TRIGGER timeline_no_delete BEFORE DELETE ON"
                " timeline_events BEGIN SELECT 1; END' WHERE name = 'timeline_no_delete'")
    con.execute("PRAGMA writable_schema = OFF")
    con.close()
    out = fails(home, "timeline_no_delete")
    assert "doctor" not in out
    res = yq(home, "doctor")
    assert res.returncode != 0 and "timeline_no_delete" in res.stdout + res.stderr


def test_deleted_key_file(home):
    (home / "timeline.key").unlink()
    fails(home, "找不到时间线密钥")


def test_restored_older_copy_is_caught_by_the_witness(home, tmp_path):
    old = tmp_path / "old.sqlite"
    shutil.copy(home / "desk.sqlite", old)  # the attacker keeps a copy (its head MAC is genuine)
    ok(home, "note", "1", "区生态环境分局已到场")
    out = ok(home, "report", "daily", "-o", str(tmp_path / "daily.md"))
    text = (tmp_path / "daily.md").read_text(encoding="utf-8")
    assert "时间线见证" in text
    paper = text.split("时间线见证 ")[1].split("（")[0]
    ok(home, "verify", "--witness", paper)
    shutil.copy(old, home / "desk.sqlite")
    out = fails(home, "事件被删除")
    assert "日报" in out
    # the paper copy alone catches it too, even when the witness file went with the attacker
    (home / "timeline.witness").unlink()
    res = yq(home, "verify", "--witness", paper)
    assert res.returncode == 1 and "事件被删除" in res.stderr


def test_server_mode_key_from_the_environment(tmp_path):
    home = tmp_path / "home"
    env = {"YUQING_TIMELINE_KEY": "s3rver-mode-secret-key-0123456789"}
    seed(home, tmp_path, env=env)
    assert not (home / "timeline.key").exists()
    assert "HMAC 锚定自事件 1 起" in ok(home, "verify", env=env)
    fails(home, "找不到时间线密钥")  # run without the key
    fails(home, "HMAC", env={"YUQING_TIMELINE_KEY": "another-key-of-enough-length"})
    con = db(home)
    drop_guards(con)
    con.execute("UPDATE timeline_events SET actor = 'mallory' WHERE id = 2")
    rechain_from(con, 2)
    restore_guards(con)
    con.close()
    fails(home, "事件 2", "HMAC does not match", env=env)


def test_existing_desk_without_a_key_is_anchored_from_its_next_event(home):
    # what a desk made before anchoring looks like after the schema upgrade
    (home / "timeline.key").unlink()
    con = db(home)
    drop_guards(con)
    con.execute("UPDATE timeline_events SET mac = NULL")
    con.execute("UPDATE timeline_head SET mac = NULL")
    con.execute("DELETE FROM timeline_anchor")
    restore_guards(con)
    n = con.execute("SELECT COUNT(*) FROM timeline_events").fetchone()[0]
    con.close()
    out = ok(home, "verify")
    assert "未找到时间线密钥" in out
    ok(home, "note", "1", "升级后第一条")
    out = ok(home, "verify")
    assert f"HMAC 锚定自事件 {n + 1} 起" in out and f"事件 1–{n} 早于密钥" in out
    # the older events are still checked by the plain chain
    con = db(home)
    drop_guards(con)
    con.execute("UPDATE timeline_events SET actor = 'mallory' WHERE id = 1")
    restore_guards(con)
    con.close()
    fails(home, "事件 1", "edited")


# ------------------------------------------------------------------ the same on a PostgreSQL server
# The desk's database on a server, its timeline key in the desk home; tampering done as the
# server's superuser (the guards disabled with ALTER TABLE ... DISABLE TRIGGER, put back after).

def _dbname(url: str) -> str:
    return url.rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def pg_seeded(pg_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pgseed")
    url = pg_server.create_database()
    seed(tmp / "home", tmp, env={"YUQING_DATABASE_URL": url})
    yield tmp / "home", url
    pg_server.drop_database(_dbname(url))


@pytest.fixture
def pg_home(pg_seeded, pg_server, tmp_path):
    """A copy of the seeded server desk: its database (CREATE DATABASE ... TEMPLATE) and its home,
    whose key file names the copy's database. Yields (home, env for yq, url)."""
    import uuid

    seed_home, seed_url = pg_seeded
    name = f"anchor_{uuid.uuid4().hex[:8]}"
    pg_server._admin(f'CREATE DATABASE "{name}" TEMPLATE "{_dbname(seed_url)}"')
    home = tmp_path / "home"
    shutil.copytree(seed_home, home)
    key = json.loads((home / "timeline.key").read_text())
    key["anchored_from"] = {f"postgresql:{name}": start for start in key["anchored_from"].values()}
    (home / "timeline.key").write_text(json.dumps(key))
    yield home, {"YUQING_DATABASE_URL": pg_server.url_for(name)}, pg_server.url_for(name)
    pg_server.drop_database(name)


def test_pg_untouched_desk_verifies_with_the_key_in_the_home(pg_seeded):
    home, url = pg_seeded
    out = ok(home, "verify", env={"YUQING_DATABASE_URL": url})
    assert "HMAC 锚定自事件 1 起" in out and "校验通过" in out
    assert not (home / "desk.sqlite").exists()
    key = home / "timeline.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert json.loads(key.read_text())["anchored_from"] == {f"postgresql:{_dbname(url)}": 1}


def test_pg_edited_event_is_named(pg_home):
    from tests.history_kit import tampering

    home, env, url = pg_home
    with tampering(url) as con:
        eid = con.execute("SELECT id FROM timeline_events WHERE kind = 'note'").fetchone()[0]
        con.execute("UPDATE timeline_events SET payload = ? WHERE id = ?", ['{"text":"从未联系"}', eid])
    fails(home, f"事件 {eid}", "edited", env=env)
    with tampering(url) as con:  # the chain recomputed without the key: the HMAC names it
        rechain_from(con, eid)
    fails(home, f"事件 {eid}", "HMAC does not match", env=env)


def test_pg_deleted_events_are_caught(pg_home):
    from tests.history_kit import tampering

    home, env, url = pg_home
    with tampering(url) as con:
        con.execute("DELETE FROM timeline_events WHERE id = 3")
    fails(home, "事件 4", "events missing", env=env)
    with tampering(url) as con:  # the tail cut and the head rewritten to match
        n = con.execute("SELECT MAX(id) FROM timeline_events").fetchone()[0]
        con.execute("DELETE FROM timeline_events WHERE id >= 3")
        last, h = con.execute("SELECT id, hash FROM timeline_events ORDER BY id DESC LIMIT 1").fetchone()
        con.execute("UPDATE timeline_head SET last_event_id = ?, last_hash = ?, count = ?", [last, h, last])
        assert n > last
    fails(home, "校验失败", "head HMAC", env=env)


def test_pg_guard_left_disabled_fails_verify(pg_home):
    # (dropped triggers and a rewritten function: tests/unit/test_timeline.py, without a process each)
    from storage.db import connect

    home, env, url = pg_home
    con = connect(url)
    con.execute("ALTER TABLE timeline_events DISABLE TRIGGER timeline_no_delete")
    con.close()
    out = fails(home, "timeline_no_delete 被停用", env=env)
    assert "时间线不再只能追加" in out


def test_pg_a_machine_without_the_key_refuses_to_append_until_given_it(pg_home, tmp_path):
    home, env, url = pg_home
    other = tmp_path / "workstation"
    res = yq(other, "note", "1", "另一台机器的备注", env=env)
    out = res.stdout + res.stderr
    assert res.returncode != 0 and "timeline.key" in out and "Traceback" not in out, out
    assert not (other / "timeline.key").exists()
    fails(other, "找不到时间线密钥", "timeline.key", env=env)  # nor can it vouch for the timeline
    ok(home, "verify", env=env)  # nothing was written
    other.mkdir(exist_ok=True)
    (other / "timeline.key").write_text(json.dumps({"key": "ab" * 32, "anchored_from": {}}))
    res = yq(other, "note", "1", "另一台机器的备注", env=env)  # a key of its own is no better
    assert res.returncode != 0 and "密钥与锚定所用的不同" in res.stdout + res.stderr
    shutil.copy(home / "timeline.key", other / "timeline.key")
    ok(other, "note", "1", "另一台机器的备注", env=env)
    assert "校验通过" in ok(home, "verify", env=env) and "校验通过" in ok(other, "verify", env=env)
