"""Misuse of the CLI and its files: every error is one or two lines on stderr naming the file,
option or value and what to do, a non-zero exit, no traceback, and nothing lost or half-written."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from tests.cli_kit import settle_db
from yuqing.cli import cli

NOW = "2026-11-27T10:00+08:00"
CANDIDATE = {"story_id": "s1", "title": "铺镇某小区停水三天", "first_published": "2026-11-27T08:00+08:00",
             "detected_at": "2026-11-27T08:30+08:00", "severity": "一般"}
CSV = "编号,标题,内容,来电时间\nA1,停水,铺镇某小区停水三天无人管,2026-11-27 08:00\nA2,噪音,夜间施工噪音扰民,2026-11-27 09:00\n"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A desk home with incident #1 and hotline items 1-2, built once per module."""
    root = tmp_path_factory.mktemp("misuse")
    home = root / "desk"
    runner = CliRunner(env={"YUQING_NOW": NOW})
    assert runner.invoke(cli, ["--home", str(home), "init"]).exit_code == 0
    (root / "c.json").write_text(json.dumps(CANDIDATE, ensure_ascii=False), encoding="utf-8")
    (root / "in.csv").write_text(CSV, encoding="utf-8")
    assert runner.invoke(cli, ["--home", str(home), "open-incident", str(root / "c.json")]).exit_code == 0
    assert runner.invoke(cli, ["--home", str(home), "import", "hotline", str(root / "in.csv")]).exit_code == 0
    settle_db(home / "desk.sqlite")
    return home


class Desk:
    def __init__(self, home, tmp_path):
        self.home = home
        self.tmp = tmp_path
        self.db = home / "desk.sqlite"

    def __call__(self, *args, home=None):
        return CliRunner(env={"YUQING_NOW": NOW}).invoke(cli, ["--home", str(self.home if home is None else home), *args])

    def file(self, name: str, data) -> str:
        path = self.tmp / name
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return str(path)

    def digest(self) -> str:
        """The desk database's content (file plus WAL), to show nothing was written."""
        h = hashlib.sha256()
        for suffix in ("", "-wal"):
            p = self.db.with_name(self.db.name + suffix)
            if p.exists():
                h.update(p.read_bytes())
        return h.hexdigest()

    def count(self, sql: str) -> int:
        con = sqlite3.connect(self.db)
        try:
            return con.execute(sql).fetchone()[0]
        finally:
            con.close()


@pytest.fixture
def desk(seeded, tmp_path):
    home = tmp_path / "desk"
    shutil.copytree(seeded, home, ignore=shutil.ignore_patterns("desk.sqlite-*"))
    return Desk(home, tmp_path)


def refused(res, *needles, code=1):
    """One or two lines on stderr, naming what to fix; no traceback; a non-zero exit."""
    assert res.exit_code == code, (res.exit_code, res.output, res.exception)
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert 1 <= len(lines) <= (3 if code == 2 else 2), res.stderr  # click usage errors: Usage/Try/Error
    assert "Traceback" not in res.output
    for needle in needles:
        assert needle in res.stderr, (needle, res.stderr)
    return res.stderr


# ------------------------------------------------------------------ ids, dates, enums

BAD_VALUES = [
    (["incident", "999"], ["事件 #999 不存在"]),
    (["incident", "abc"], ["not an incident id: 'abc'"]),
    (["incident", "9" * 40], ["not an incident id"]),  # was an OverflowError traceback
    (["ack", ""], ["not an incident id: ''"]),
    (["merge", "1", "x"], ["not an incident id: 'x'"]),
    (["grade", "1", "超级大"], ["'超级大'", "一般/较大/重大/特别重大"]),
    (["verify-status", "1", "maybe"], ["'maybe'", "待核实/已核实/不实信息/反转"]),
    (["release", "1", "--channel", "火星电视台"], ["'火星电视台'", "政府网站"]),
    (["release", "1", "--channel", "政府网站", "--text", "x", "--at", "yesterday"], ["--at", "ISO 8601"]),
    (["release", "1", "--channel", "政府网站", "--text", "x", "--at", "0001-01-01T00:00"], ["--at", "out of range"]),
    (["report", "daily", "--from", "2026-13-01"], ["--from", "YYYY-MM-DD"]),
    (["report", "performance", "--from", "0001-01-01", "--to", "9999-12-31"], ["--from", "out of range"]),
    (["report", "weekly", "--from", "2026-06-10", "--to", "2026-06-01"], ["--to must not be before --from"]),
    (["note", "1", ""], ["备注内容不能为空"]),
    (["close", "1"], ["release --kind final"]),
    (["confirm-release", "99"], ["#99"]),
]


@pytest.mark.parametrize("args, needles", BAD_VALUES)
def test_bad_ids_dates_and_values(desk, args, needles):
    before = desk.digest()
    refused(desk(*args), *needles)
    assert desk.digest() == before


@pytest.fixture(scope="module")
def server_desk(pg_server, tmp_path_factory):
    """The seeded desk on a PostgreSQL server (its home's desk.toml names the database)."""
    url = pg_server.create_database()
    root = tmp_path_factory.mktemp("misuse-pg")
    home = root / "desk"
    runner = CliRunner(env={"YUQING_NOW": NOW, "YUQING_DATABASE_URL": url})
    (root / "c.json").write_text(json.dumps(CANDIDATE, ensure_ascii=False), encoding="utf-8")
    (root / "in.csv").write_text(CSV, encoding="utf-8")
    for args in (["init"], ["open-incident", str(root / "c.json")], ["import", "hotline", str(root / "in.csv")]):
        res = runner.invoke(cli, ["--home", str(home), *args])
        assert res.exit_code == 0, res.output
    yield ServerDesk(home, root, url)
    pg_server.drop_database(url.rsplit("/", 1)[1])


class ServerDesk(Desk):
    def __init__(self, home, tmp_path, url):
        super().__init__(home, tmp_path)
        self.url = url

    def __call__(self, *args, home=None):
        return CliRunner(env={"YUQING_NOW": NOW, "YUQING_DATABASE_URL": None}).invoke(
            cli, ["--home", str(self.home if home is None else home), *args])

    def digest(self) -> str:
        """Row counts and last ids of the tables a command could write."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            return str([conn.execute(f"SELECT count(*), max(id) FROM {t}").fetchone()
                        for t in ("incidents", "timeline_events", "items", "releases", "release_proposals")])


@pytest.mark.postgresql
@pytest.mark.parametrize("args, needles", BAD_VALUES)
def test_bad_ids_dates_and_values_on_a_server(server_desk, args, needles):
    before = server_desk.digest()
    refused(server_desk(*args), *needles)
    assert server_desk.digest() == before


@pytest.mark.parametrize("args, needle", [
    (["release", "1", "--channel", "政府网站", "--kind", "bogus"], "--kind"),
    (["export", "1", "--format", "pdf", "-o", "x.pdf"], "--format"),
    (["dismiss", "1", "--reason", "x", "--state", "bogus"], "--state"),
    (["report", "monthly"], "monthly"),
    (["import", "hotline", "in.csv", "--kind", "fax"], "--kind"),
])
def test_bad_enum_choices_are_usage_errors(desk, args, needle):
    refused(desk(*args), needle, code=2)


def test_yuqing_now_bad(desk):
    res = CliRunner(env={"YUQING_NOW": "tomorrow"}).invoke(cli, ["--home", str(desk.home), "incidents"])
    refused(res, "YUQING_NOW", "ISO 8601")


def test_open_incident_bad_candidates(desk):
    refused(desk("open-incident", desk.file("a.json", "{oops")), "a.json", "invalid JSON")
    refused(desk("open-incident", desk.file("b.json", "[1, 2]")), "expected an object")
    refused(desk("open-incident", desk.file("c.json", '{"title": "停水"}')), "story_id: missing")
    refused(desk("open-incident", str(desk.tmp / "nope.json")), "nope.json", "No such file")
    assert desk.count("SELECT count(*) FROM incidents") == 1


# ------------------------------------------------------------------ the desk database

def test_missing_database_is_not_created_by_reading_commands(desk, tmp_path):
    typo = tmp_path / "dsek"
    for args in (["incidents"], ["verify"], ["proposals"], ["labels"], ["note", "1", "x"]):
        refused(desk(*args, home=typo), "no desk database at", "yuqing init")
    refused(desk("incidents", "--db", str(tmp_path / "nope" / "x.sqlite")), "no desk database at")
    assert not typo.exists() and not (tmp_path / "nope").exists()


def test_not_sqlite_database_is_refused_and_kept(desk):
    for p in desk.home.glob("desk.sqlite-*"):
        p.unlink()
    desk.db.write_bytes(b"these are the minutes of the duty meeting\n" * 50)
    before = desk.db.read_bytes()
    csv = desk.file("in.csv", CSV)
    for args in (["incidents"], ["note", "1", "x"], ["sources"], ["import", "hotline", csv], ["retention", "--days", "30"],
                 ["label", "1", "topic", "教育"], ["labels"], ["run", "--for", "1"], ["tui"], ["init"],
                 ["sources", "disable", "hantai-own"], ["train"]):
        refused(desk(*args), str(desk.db), "not an SQLite database")
    assert desk.db.read_bytes() == before


WHOLE_DESK = (["sources"], ["run", "--for", "1"], ["retention", "--days", "1"])


@pytest.mark.parametrize("mset, step, commands", [
    # a newer step of a set every command uses: everyone refuses
    ("responders", "m999_from_the_future", (["incidents"], ["note", "1", "不应写入"], ["verify"], ["tui"]) + WHOLE_DESK),
    ("analysis", "m999_from_the_future", (["label", "1", "topic", "教育"], ["labels"], ["import", "hotline", "{csv}"])),
    # a whole set this version does not know: the commands that open the whole desk refuse
    ("hologram", "m001_new_set", WHOLE_DESK + (["import", "hotline", "{csv}"],)),
])
def test_database_from_a_newer_yuqing_is_refused(desk, mset, step, commands):
    con = sqlite3.connect(desk.db)
    con.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES (?, ?, '2030-01-01')",
                [mset, step])
    con.commit()
    con.close()
    before = desk.digest()
    csv = desk.file("in2.csv", "编号,内容\nZ9,新的工单\n")
    for args in commands:
        refused(desk(*[a.replace("{csv}", csv) for a in args]), "written by a newer yuqing", f"{mset}.{step}",
                "upgrade yuqing")
    assert desk.digest() == before
    doctor = desk("doctor")
    assert doctor.exit_code == 1 and "[故障] schema" in doctor.output and f"{mset}.{step}" in doctor.output


def test_database_path_is_a_folder(desk):
    for p in desk.home.glob("desk.sqlite*"):
        p.unlink()
    desk.db.mkdir()
    for args in (["incidents"], ["sources"], ["label", "1", "topic", "教育"], ["run", "--for", "1"]):
        refused(desk(*args), str(desk.db), "is a folder")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_database(desk):  # pragma: no cover - CI runs as root
    for p in desk.home.glob("desk.sqlite*"):
        p.chmod(0o444)
    try:
        refused(desk("note", "1", "x"), str(desk.db))
        refused(desk("import", "hotline", desk.file("in.csv", CSV.replace("A1", "R1"))), str(desk.db))
    finally:
        for p in desk.home.glob("desk.sqlite*"):
            p.chmod(0o644)


# ------------------------------------------------------------------ desk.toml, sources.toml, schemes, routing

def test_desk_toml_problems_name_the_file(desk):
    toml = desk.home / "desk.toml"
    good = toml.read_text("utf-8")
    toml.write_bytes("[desk]\ndistrict_name = '汉台区'\n".encode("gbk"))
    for args in (["incidents"], ["tui"], ["run", "--for", "1"], ["sources"]):
        refused(desk(*args), str(toml), "UTF-8")
    toml.write_text("[desk\ndistrict_code = 1", encoding="utf-8")
    for args in (["incidents"], ["tui"], ["run", "--for", "1"]):
        refused(desk(*args), str(toml), "not valid TOML")
    refused(desk("init"), str(toml), "move that file away and run `yuqing init` again")
    toml.write_text(good.replace("Asia/Shanghai", "Mars/Olympus"), encoding="utf-8")
    refused(desk("run", "--for", "1"), "[desk].timezone", "Mars/Olympus")
    toml.write_text(good.replace("read_timeout = 20", "read_timeout = 0"), encoding="utf-8")
    refused(desk("sources"), "[fetch].read_timeout", "must be positive")
    toml.write_text(good.replace("[fetch]", "[fetch]\nread_timeout = 5", 1), encoding="utf-8")
    refused(desk("sources"), str(toml), "may appear only once")
    toml.write_text(good.replace('start = "first_published"', 'start = "whenever"'), encoding="utf-8")
    refused(desk("tui"), str(toml), "[clock] start")


BAD_SOURCES = {
    "dup": ("[sources.a]\nurl = 'https://example.org/a'\n[sources.a]\nurl = 'https://example.org/b'\n",
            "may appear only once"),
    "not-table": ("sources = 5\n", "'sources' must be a table"),
    "url": ("[sources.a]\nurl = 'ftp://x'\n", "[sources.a].url"),
    "interval": ("[sources.a]\nurl = 'https://example.org/rss'\ninterval = 0\n", "[sources.a].interval"),
    "unknown-key": ("[sources.a]\nurl = 'https://example.org/rss'\ncolour = 'red'\n", "unknown key 'colour'"),
    "gbk": ("[sources.a]\nname = '汉台'\nurl = 'https://example.org/rss'\n".encode("gbk"), "not UTF-8"),
}


@pytest.mark.parametrize("case", sorted(BAD_SOURCES))
def test_broken_sources_toml_is_named_and_never_rewritten(desk, case):
    text, needle = BAD_SOURCES[case]
    path = desk.home / "sources.toml"
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    before = path.read_bytes()
    for args in (["sources"], ["run", "--for", "1"], ["sources", "disable", "a"],
                 ["sources", "add", "zz", "--url", "https://example.org/x"]):
        refused(desk(*args), str(path), needle)
    assert path.read_bytes() == before


def test_sources_toml_missing_or_a_folder(desk):
    path = desk.home / "sources.toml"
    path.unlink()
    for args in (["sources"], ["sources", "enable", "a"], ["sources", "add", "zz", "--url", "https://example.org/x"]):
        refused(desk(*args), str(path), "yuqing init")
    path.mkdir()
    for args in (["sources"], ["sources", "disable", "a"]):
        refused(desk(*args), str(path), "Is a directory")


@pytest.mark.parametrize("args, needle", [
    (["sources", "add", "hantai-own", "--url", "https://example.org/x"], "already exists"),
    (["sources", "add", "zz", "--url", "nope"], "not an http(s) URL"),
    (["sources", "add", "zz", "--url", "https://example.org/x", "--interval", "0"], "interval"),
    (["sources", "add", "zz", "--url", "https://example.org/x", "--kind", "pdf"], "'pdf'"),
    (["sources", "enable", "nope"], "no source 'nope'"),
    (["sources", "test", "nope"], "no source 'nope'"),
])
def test_sources_subcommand_misuse(desk, args, needle):
    before = (desk.home / "sources.toml").read_bytes()
    refused(desk(*args), needle)
    assert (desk.home / "sources.toml").read_bytes() == before


def test_broken_schemes_and_routing_stop_run_and_classify(desk):
    items = desk.file("one.jsonl", '{"title": "停水", "text": "铺镇停水"}\n')
    schemes = desk.home / "schemes.toml"
    schemes.write_text("[[scheme\n", encoding="utf-8")
    for args in (["run", "--for", "1"], ["classify", items]):
        refused(desk(*args), str(schemes), "not valid TOML")
    schemes.unlink()
    routing = desk.home / "routing.toml"
    routing.write_text("rules = 5\n", encoding="utf-8")
    for args in (["run", "--for", "1"], ["classify", items]):
        refused(desk(*args), str(routing), "unknown key 'rules'")


def test_home_data_files_in_gbk_or_a_folder(desk):
    items = desk.file("one.jsonl", '{"title": "停水", "text": "铺镇停水"}\n')
    routing = desk.home / "routing.toml"
    routing.write_bytes("# 路由\n".encode("gbk"))
    for args in (["run", "--for", "1"], ["classify", items]):
        refused(desk(*args), str(routing), "not UTF-8")  # was a UnicodeDecodeError traceback
    routing.unlink()
    (desk.home / "schemes.toml").mkdir()  # would silently mean the bundled schemes
    refused(desk("classify", items), str(desk.home / "schemes.toml"), "is a folder")


def test_classify_warns_about_a_gbk_file(desk):
    items = desk.file("gbk.jsonl", '{"id": 1, "title": "停水", "text": "铺镇停水"}\n'.encode("gbk"))
    res = desk("classify", items)
    assert res.exit_code == 0  # every line is still answered, in order
    assert len(res.stdout.splitlines()) == 1
    assert f"{items}: line 1: not UTF-8 text" in res.stderr and "save the file as UTF-8" in res.stderr


def test_empty_home_option_is_not_the_default_home(desk):
    for args in (["init"], ["incidents"], ["labels"], ["sources"]):
        refused(desk(*args, home=""), "--home: empty folder name")


def test_demo_never_runs_in_a_real_desk(desk):
    before = {p.name: p.read_bytes() for p in desk.home.iterdir() if p.is_file()}
    refused(desk("demo", "--headless", "--for", "5"), str(desk.home), "not a demo home", "YUQING_HOME")
    res = CliRunner(env={"YUQING_HOME": str(desk.home)}).invoke(cli, ["demo", "--headless", "--for", "5"])
    refused(res, "not a demo home")
    assert {p.name: p.read_bytes() for p in desk.home.iterdir() if p.is_file()} == before
    refused(desk("demo", "--headless", "--for", "-1", home=desk.tmp / "new"), "--for", code=2)


def test_run_for_must_be_positive(desk):
    refused(desk("run", "--for", "0"), "--for", code=2)
    refused(desk("run", "--for", "-1"), "--for", code=2)


def test_init_where_the_home_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    refused(CliRunner().invoke(cli, ["--home", str(tmp_path / "f"), "init"]), "is a file", code=2)


# ------------------------------------------------------------------ import and parse

def test_import_gbk_with_bad_rows_keeps_the_good_ones(desk):
    data = ("编号,标题,内容,来电时间\n"
            "G1,停水,铺镇停水三天,2026-11-27 08:00\n"
            "G2,空,,2026-11-27 08:10\n"
            "G3,坏时间,内容,明天上午\n"
            "G4,噪音,夜间施工,2026-11-27 09:00\n").encode("gbk")
    path = desk.file("gbk.csv", data)
    res = desk("import", "hotline", path)
    assert res.exit_code == 0, res.output
    assert f"{path}: row 3: content is empty" in res.stderr
    assert f"{path}: row 4: unrecognised time '明天上午'" in res.stderr
    assert "2 new items stored" in res.output and "2 rows with errors" in res.output
    titles = {r[0] for r in sqlite3.connect(desk.db).execute("SELECT title FROM items WHERE guid LIKE 'hotline:G%'")}
    assert titles == {"停水", "噪音"}


@pytest.mark.parametrize("data, needle", [
    ("编号,标题,时间\n1,a,2026-01-01\n", "no content column"),
    ("", "the CSV file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\xff\xfe", "no content column"),
])
def test_import_unusable_files(desk, data, needle):
    before = desk.count("SELECT count(*) FROM items")
    refused(desk("import", "hotline", desk.file("x.csv", data)), "x.csv", needle)
    assert desk.count("SELECT count(*) FROM items") == before


def test_import_unclosed_quote_and_multiline_rows_are_named(desk):
    path = desk.file("q.csv", '编号,标题,内容\nQ1,多行,"第一行\n第二行"\nQ2,空,\nQ3,好,内容三\nQ4,坏,"没有结束的引号\nQ5,吞掉,这一行\n')
    res = desk("import", "hotline", path)
    assert res.exit_code == 0, res.output
    assert f"{path}: row 3: (line 4) content is empty" in res.stderr
    assert f"{path}: row 5: (line 6) unreadable CSV: unexpected end of data" in res.stderr
    assert "never closed" in res.stderr
    assert "2 new items stored" in res.output  # Q1 and Q3; Q5 is inside the unclosed quote


def test_import_all_rows_bad_exits_non_zero(desk):
    res = desk("import", "hotline", desk.file("x.csv", "编号,内容,来电时间\nB1,,2026-11-27\n"))
    assert res.exit_code == 1 and "row 2: content is empty" in res.stderr and "Traceback" not in res.output


def test_import_paths(desk):
    refused(desk("import", "hotline", str(desk.tmp / "nope.csv")), "nope.csv", code=2)
    refused(desk("import", "hotline", str(desk.tmp)), "is a directory", code=2)


@pytest.mark.parametrize("args, data, needle", [
    (["parse", "{f}"], os.urandom(0) + b"\x00\x9f\x92garbage\xff" * 50, "yuqing parse"),
    (["parse", "{f}"], b"", "yuqing parse"),
    (["parse", "{f}", "--kind", "json"], b"[1, 2, 3]", "yuqing parse"),
    (["parse", "{f}", "--kind", "html", "--fields", "{oops"], b"<html></html>", "--fields is not valid JSON"),
    (["parse", "{f}", "--mapping", "weibo"], b'{"data": 5}', "yuqing parse"),
    (["parse", "{f}", "--url", "::::"], b"<rss></rss>", "--url '::::' is not an absolute http(s) URL"),
    (["parse", "{f}", "--kind", "html", "--fields", "@{f}.missing"], b"<html></html>", "--fields @"),
])
def test_parse_garbage(desk, args, data, needle):
    f = desk.file("doc", data)
    res = desk(*[a.replace("{f}", f) for a in args])
    refused(res, needle)
