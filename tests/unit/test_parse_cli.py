"""`yuqing parse`: JSON out, exit codes, one-line errors, no tracebacks."""
from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from yuqing.cli import cli


def run(*args, input=None):
    result = CliRunner().invoke(cli, ["parse", *args], input=input)
    return result


def test_parse_rss_file(test_data):
    result = run(str(test_data / "feeds" / "rss_gb2312.xml"), "--url", "http://www.hantai.gov.cn/")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["feed"]["title"] == "汉台区人民政府 - 政务动态"
    assert doc["items"][0]["title"] == "汉台区召开防汛工作部署会"
    assert set(doc["items"][0]) == {"guid", "title", "link", "published", "author", "text", "metrics"}
    assert "汉台区" in result.stdout  # ensure_ascii=False
    assert doc["warnings"]


def test_parse_stdin_with_mapping(test_data):
    body = (test_data / "feeds" / "weibo_cards.json").read_bytes()
    result = run("-", "--mapping", "weibo", input=body)
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)["items"]) == 4


def test_parse_html_with_fields(test_data):
    fields = json.dumps({"item": "ul.list li", "title": "a", "published": "span.date"})
    result = run(str(test_data / "feeds" / "govlist_gb2312.html"), "--fields", fields)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["items"]


def test_encoding_override(tmp_path):
    f = tmp_path / "f.xml"
    f.write_bytes('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><item>'
                  '<title>汉台区</title><link>http://x.example/1</link></item></channel></rss>'.encode("gbk"))
    result = run(str(f), "--encoding", "gbk")
    assert json.loads(result.stdout)["items"][0]["title"] == "汉台区"


def test_errors_are_one_line_and_exit_1(tmp_path):
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"a": [1,,]}')
    for args, needle in [((str(empty),), "empty document"),
                         ((str(bad), "--mapping", "hotlist"), "invalid JSON at line 1"),
                         ((str(tmp_path / "missing.xml"),), "missing.xml"),
                         ((str(bad), "--fields", "{nope"), "--fields is not valid JSON")]:
        result = run(*args)
        assert result.exit_code == 1
        assert needle in result.stderr
        assert result.stderr.count("\n") == 1
        assert "Traceback" not in result.output


def test_real_process_never_prints_a_traceback(tmp_path):
    f = tmp_path / "page.html"
    f.write_bytes(b"<html><body>hello</body></html>")
    proc = subprocess.run([sys.executable, "-m", "yuqing", "parse", str(f)], capture_output=True)
    assert proc.returncode == 1
    assert b"Traceback" not in proc.stderr
    assert b"HTML page" in proc.stderr and str(f).encode() in proc.stderr
