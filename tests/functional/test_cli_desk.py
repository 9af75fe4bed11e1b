"""The intake CLI end to end: init, sources add/test/enable/disable, run, import hotline."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.cli_kit import desk_rows
from tests.loopback import loopback  # noqa: F401  (fixture)
from yuqing.cli import cli

RSS = """<?xml version="1.0" encoding="gb2312"?>
<rss version="2.0"><channel><title>汉中新闻</title><link>http://example.org/</link>
<item><title>汉台区铺镇开展食品安全检查</title><link>http://example.org/a/1</link><guid>n1</guid>
<pubDate>Sat, 14 Jun 2026 10:00:00 +0800</pubDate><description>区市场监管局检查学校食堂。</description></item>
<item><title>汉中市天气晴好</title><link>http://example.org/a/2</link><guid>n2</guid>
<pubDate>Sat, 14 Jun 2026 11:00:00 +0800</pubDate><description>适宜出行。</description></item>
</channel></rss>"""


@pytest.fixture
def home(tmp_path, backend):
    """A fresh desk home on each backend (SQLite, then a PostgreSQL server by YUQING_DATABASE_URL)."""
    path = tmp_path / "desk"
    result = CliRunner().invoke(cli, ["--home", str(path), "init"])
    assert result.exit_code == 0, result.output
    return path


def invoke(home, *args):
    return CliRunner().invoke(cli, ["--home", str(home), *args], catch_exceptions=False)


def test_init_sources_listing(home):
    out = invoke(home, "sources")
    assert out.exit_code == 0
    assert "hantai-own" in out.output and "停用" in out.output


def test_add_test_run_and_health(home, loopback):
    loopback.route("/news.xml", RSS.encode("gb2312"), content_type="application/rss+xml")
    url = loopback.base_url + "/news.xml"
    out = invoke(home, "sources", "add", "hz-news", "--url", url, "--kind", "rss", "--interval", "60", "--local")
    assert out.exit_code == 0, out.output
    out = invoke(home, "sources", "test", "hz-news")
    assert out.exit_code == 0, out.output
    assert "2 items" in out.output and "汉台区铺镇开展食品安全检查" in out.output
    assert desk_rows(home, "SELECT count(*) FROM items") == [(0,)]
    out = invoke(home, "run", "--for", "3")
    assert out.exit_code == 0, out.output
    titles = {r[0] for r in desk_rows(home, "SELECT title FROM items")}
    assert titles == {"汉台区铺镇开展食品安全检查", "汉中市天气晴好"}
    health = [json.loads(line) for line in invoke(home, "sources", "--json").output.splitlines()]
    news = next(h for h in health if h["id"] == "hz-news")
    assert news["items_24h"] == 2 and news["error_streak"] == 0 and news["last_success_at"]
    # a second run sends the ETag-less request again but stores nothing twice
    invoke(home, "run", "--for", "2")
    assert desk_rows(home, "SELECT count(*) FROM items") == [(2,)]


def test_failing_source_shows_in_health(home, loopback):
    loopback.route("/broken", b"oops", status=500)
    invoke(home, "sources", "add", "broken", "--url", loopback.base_url + "/broken", "--interval", "60")
    invoke(home, "run", "--for", "2")
    out = invoke(home, "sources")
    line = next(l for l in out.output.splitlines() if l.startswith("broken"))
    assert "故障" in line and "HTTPStatusError" in line


def test_enable_disable_and_unknown(home):
    assert invoke(home, "sources", "enable", "hantai-own").exit_code == 0
    assert "enabled = true" in (home / "sources.toml").read_text("utf-8")
    out = CliRunner().invoke(cli, ["--home", str(home), "sources", "disable", "nope"])
    assert out.exit_code == 1 and "no source 'nope'" in out.output


def test_import_hotline(home, tmp_path):
    csv_path = tmp_path / "12345.csv"
    csv_path.write_text("工单编号,来电时间,诉求内容\nA1,2026-06-14 09:00,铺镇某路段路灯不亮\nA2,坏时间,内容\n",
                        encoding="utf-8")
    result = CliRunner().invoke(cli, ["--home", str(home), "import", "hotline", str(csv_path)])
    assert result.exit_code == 0
    assert "1 new items stored" in result.output
    assert "row 3: unrecognised time" in result.output


def test_bad_config_is_one_line(home):
    (home / "desk.toml").write_text('[desk]\ndistrict_code = "6107"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--home", str(home), "run", "--for", "1"])
    assert result.exit_code == 1
    assert "desk.toml: [desk].district_name is missing" in result.output
    assert "Traceback" not in result.output
