"""`yuqing db copy`: a SQLite desk made by the CLI copied into an empty PostgreSQL database.

The desk: hotline items (with their personal data), the pipeline run over them (analysis, the
search index), two incidents with a timeline (acknowledged, noted, split, the first merged into
the second: a row referring to one copied after it). The copy must hold the same rows, keep the
timeline's chain and anchor verifiable, refuse a second copy, and hand out fresh ids afterwards.
"""
from __future__ import annotations

import json
import sqlite3

import psycopg
import pytest
from click.testing import CliRunner

from responders import anchor
from tests.cli_kit import health_candidate, settle_db
from yuqing.cli import cli

# The copy keeps its timeline key in the desk home, where a server desk's key lives (pg-responders).
pytestmark = pytest.mark.skipif(not hasattr(anchor, "use_home"),
                                reason="needs the server desk's timeline key in the desk home (branch pg-responders)")

CSV = ("编号,标题,内容,来电时间,来电人,电话\n"
       "A1,铺镇卫生院输液后不适,铺镇卫生院输液后多名患者不适，家属来电反映,2026-11-27 08:00,张三,13812345678\n"
       "A2,夜间施工噪音,汉台区某工地夜间施工噪音扰民,2026-11-27 09:00,李四,13900000000\n")
NOW = "2026-11-27T10:00+08:00"


@pytest.fixture(scope="module")
def sqlite_desk(tmp_path_factory):
    """A desk home made by the CLI, built once per module; the tests copy it, never change it."""
    mp = pytest.MonkeyPatch()
    mp.setenv("YUQING_NOW", NOW)
    mp.delenv("YUQING_DATABASE_URL", raising=False)
    mp.delenv("YUQING_TIMELINE_KEY", raising=False)
    home = tmp_path_factory.mktemp("dbcopy") / "desk"
    runner = CliRunner()

    def run(*args):
        res = runner.invoke(cli, ["--home", str(home), *args])
        assert res.exit_code == 0, res.output
        return res

    try:
        run("init")
        (home.parent / "in.csv").write_text(CSV, encoding="utf-8")
        run("import", "hotline", str(home.parent / "in.csv"))
        _run_pipeline(home)
        cand = health_candidate("s1")
        cand["item_ids"] = [1, 2]
        (home.parent / "c1.json").write_text(json.dumps(cand), encoding="utf-8")
        run("open-incident", str(home.parent / "c1.json"))
        run("ack", "1")
        run("note", "1", "已联系卫健局核实")
        run("split", "1", "--items", "2", "--title", "工地夜间施工噪音")
        run("merge", "2", "1")  # incident 1 now refers to incident 2, a later row
        run("report", "daily")  # a signed witness of the chain's head, in the home
        settle_db(home / "desk.sqlite")
        yield home
    finally:
        mp.undo()


def _run_pipeline(home):
    """The daemon's pipeline over the stored items, to the end (analysis, stories, search index)."""
    from datetime import datetime

    from storage.timeutil import parse_desk_time
    from yuqing.pipeline import desk_pipeline

    now = parse_desk_time(NOW, name="now")
    pipe = desk_pipeline(home / "desk.sqlite", home, clock=lambda: now)
    try:
        pipe.open()
        for _ in range(100):
            pipe.step()
            if not pipe.last_batch:
                break
    finally:
        pipe.close()
    assert isinstance(now, datetime)


def _sqlite_counts(path) -> dict[str, int]:
    from storage.dbcopy import source_tables

    conn = sqlite3.connect(path)
    try:
        tables, _ = source_tables(conn)
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()


def _pg_counts(url, tables) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def _invoke(home, *args, env=None):
    return CliRunner().invoke(cli, ["--home", str(home), *args], env={"YUQING_NOW": NOW, **(env or {})})


@pytest.fixture
def desk(sqlite_desk, tmp_path, monkeypatch):
    """A private copy of the module's desk home (the key file and witnesses come along)."""
    import shutil

    monkeypatch.setenv("YUQING_NOW", NOW)
    monkeypatch.delenv("YUQING_DATABASE_URL", raising=False)
    monkeypatch.delenv("YUQING_TIMELINE_KEY", raising=False)
    home = tmp_path / "desk"
    shutil.copytree(sqlite_desk, home, ignore=shutil.ignore_patterns("desk.sqlite-*", "desk.lock"))
    return home


def test_copy_holds_every_row_and_the_timeline_verifies(desk, pg_url):
    source = _sqlite_counts(desk / "desk.sqlite")
    assert source["items"] == 2 and source["items_fts"] == 2 and source["item_private"] == 2
    assert source["incidents"] == 2 and source["timeline_events"] >= 6
    res = _invoke(desk, "db", "copy", "--to", pg_url)
    assert res.exit_code == 0, res.output
    assert f"已复制 {len(source)} 张表、{sum(source.values())} 行" in res.output
    assert _pg_counts(pg_url, source) == source
    with psycopg.connect(pg_url) as conn:
        # Rows are the same rows: the forward reference, the hash chain's ends, the search index.
        assert conn.execute("SELECT id, merged_into FROM incidents ORDER BY id").fetchall() == [(1, 2), (2, None)]
        pg_chain = conn.execute("SELECT id, hash, mac FROM timeline_events ORDER BY id").fetchall()
        hits = conn.execute("SELECT rowid FROM items_fts WHERE tsv @@ to_tsquery('simple', '噪音')").fetchall()
    src = sqlite3.connect(desk / "desk.sqlite")
    assert pg_chain == src.execute("SELECT id, hash, mac FROM timeline_events ORDER BY id").fetchall()
    assert all(mac for _id, _h, mac in pg_chain), "the desk's timeline is anchored: every event signed"
    src.close()
    assert hits == [(2,)]
    # The copy verifies with the desk home's key, as the SQLite desk does.
    res = _invoke(desk, "--database", pg_url, "verify")
    assert res.exit_code == 0, res.output
    assert f"时间线校验通过：{source['timeline_events']} 条事件" in res.output
    assert "HMAC 锚定自事件" in res.output
    assert "见证" in res.output and "链头一致" in res.output  # the SQLite desk's witness carried over


def test_a_second_copy_into_the_same_database_is_refused(desk, pg_url):
    assert _invoke(desk, "db", "copy", "--to", pg_url).exit_code == 0
    before = _pg_counts(pg_url, ["items", "timeline_events"])
    res = _invoke(desk, "db", "copy", "--to", pg_url)
    assert res.exit_code == 1
    assert "不是空数据库" in res.output and "db copy 只复制到空数据库" in res.output
    assert _pg_counts(pg_url, ["items", "timeline_events"]) == before
    res = _invoke(desk, "db", "copy", "--to", pg_url, "--dry-run")
    assert res.exit_code == 1 and "不是空数据库" in res.output


def test_new_rows_after_the_copy_get_fresh_ids(desk, pg_url):
    assert _invoke(desk, "db", "copy", "--to", pg_url).exit_code == 0
    with psycopg.connect(pg_url, autocommit=True) as conn:
        item = conn.execute(
            "INSERT INTO items (source_id, guid, title, text, fetched_at, content_hash)"
            " VALUES ('hotline', 'new-1', '新来电', '新内容', '2026-11-27T02:00:00+00:00', 'x') RETURNING id").fetchone()[0]
    assert item == 3
    # Through the desk itself: a new incident is #3 and its timeline continues the chain.
    cand = health_candidate("s-after")
    cand.update(title="铺镇另一起事件", item_ids=[item], responsible_units=["铺镇"], topic="城建环保")
    (desk.parent / "after.json").write_text(json.dumps(cand), encoding="utf-8")
    res = _invoke(desk, "--database", pg_url, "open-incident", str(desk.parent / "after.json"))
    assert res.exit_code == 0, res.output
    with psycopg.connect(pg_url) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM incidents ORDER BY id")]
    assert ids[-1] == 3 or "并入事件" in res.output
    res = _invoke(desk, "--database", pg_url, "verify")
    assert res.exit_code == 0, res.output


def test_dry_run_counts_rows_and_writes_nothing(desk, pg_url):
    source = _sqlite_counts(desk / "desk.sqlite")
    res = _invoke(desk, "db", "copy", "--to", pg_url, "--dry-run")
    assert res.exit_code == 0, res.output
    assert f"将复制 {len(source)} 张表、{sum(source.values())} 行" in res.output
    assert "items_fts_data" in res.output  # named among what is not copied
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0


def test_bad_targets_and_sources_are_one_clear_line(desk, pg_url, tmp_path):
    res = _invoke(desk, "db", "copy", "--to", str(tmp_path / "x.sqlite"))
    assert res.exit_code == 1 and "postgresql://" in res.output
    res = _invoke(desk, "db", "copy", "--to", pg_url, "--from", str(tmp_path / "missing.sqlite"))
    assert res.exit_code == 1 and "找不到" in res.output
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all" * 100)
    res = _invoke(desk, "db", "copy", "--to", pg_url, "--from", str(tmp_path / "junk.sqlite"))
    assert res.exit_code == 1 and "Traceback" not in res.output
    res = _invoke(desk, "db", "copy", "--to", "postgresql://postgres:s3cret@127.0.0.1:1/nowhere")
    assert res.exit_code == 1 and "无法连接数据库" in res.output and "s3cret" not in res.output
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0


def test_a_password_in_the_url_is_never_shown(desk, pg_url):
    url = pg_url.replace("postgres@", "postgres:s3cret@")  # trust authentication ignores it
    for args in (("--dry-run",), ()):
        res = _invoke(desk, "db", "copy", "--to", url, *args)
        assert res.exit_code == 0, res.output
        assert "s3cret" not in res.output and "postgres:***@" in res.output
    res = _invoke(desk, "db", "copy", "--to", url)
    assert res.exit_code == 1 and "s3cret" not in res.output and "不是空数据库" in res.output


def test_a_failed_copy_leaves_the_target_empty(desk, pg_url):
    """A source value the target's schema refuses (text in an integer column, which SQLite keeps):
    the whole copy, schema included, rolls back."""
    conn = sqlite3.connect(desk / "desk.sqlite")
    conn.execute("UPDATE items SET versions = 'two' WHERE id = 2")
    conn.commit()
    conn.close()
    res = _invoke(desk, "db", "copy", "--to", pg_url)
    assert res.exit_code == 1, res.output
    assert "复制表 items 失败" in res.output and "未写入任何内容" in res.output
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0


def _key(folder) -> str:
    return json.loads((folder / "timeline.key").read_text(encoding="utf-8"))["key"]


def test_a_desk_from_another_folder_brings_its_key_into_the_home(desk, pg_url, tmp_path):
    home = tmp_path / "server-home"  # a fresh home for the server desk: no key yet
    res = CliRunner().invoke(cli, ["--home", str(home), "db", "copy", "--to", pg_url,
                                   "--from", str(desk / "desk.sqlite")], env={"YUQING_NOW": NOW})
    assert res.exit_code == 0, res.output
    assert "时间线密钥已复制到" in res.output
    assert _key(home) == _key(desk)
    assert (home / "timeline.key").stat().st_mode & 0o077 == 0
    res = _invoke(home, "--database", pg_url, "verify")
    assert res.exit_code == 0 and "HMAC 锚定自事件" in res.output, res.output


def test_a_home_with_another_key_is_refused_before_anything_is_copied(desk, pg_url, tmp_path):
    home = tmp_path / "other-home"
    home.mkdir()
    (home / "timeline.key").write_text(json.dumps({"key": "ab" * 32, "anchored_from": {}}), encoding="utf-8")
    res = CliRunner().invoke(cli, ["--home", str(home), "db", "copy", "--to", pg_url,
                                   "--from", str(desk / "desk.sqlite")], env={"YUQING_NOW": NOW})
    assert res.exit_code == 1
    assert "另一把时间线密钥" in res.output
    assert _key(home) == "ab" * 32  # the home's key is left alone
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0
