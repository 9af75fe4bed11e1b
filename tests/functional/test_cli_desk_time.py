"""Desk time everywhere a person types or reads a time (issue 12.4): every command that takes or
prints a time, on a real desk home, with the desk clock pinned to 2026-12-06 06:00 Beijing time.

Input without an offset is Beijing time; printed times are Beijing time with +08:00 (JSON: ISO 8601
with +08:00); storage stays UTC."""
from __future__ import annotations

import csv
import io
import json
import re
import sqlite3

import pytest
from click.testing import CliRunner

from yuqing.cli import cli

NOW = "2026-12-06T06:00+08:00"  # = 2026-12-05T22:00Z: the UTC day differs from the desk's day
HOTLINE = ("编号,标题,内容,来电时间\n"
           "A1,铺镇停水,铺镇某小区停水三天无人管,2026-12-06 05:10\n")
CANDIDATE = {
    "story_id": "s-1", "title": "铺镇化工厂夜间异味", "first_published": "2026-12-06T04:00:00+08:00",
    "detected_at": "2026-12-06T04:30:00+08:00", "places": [{"code": "610702100", "name": "铺镇", "level": "town"}],
    "departments": [], "responsible_units": ["铺镇"], "topic": "生态环境", "severity": "一般",
    "severity_reasons": [], "item_ids": [1], "trigger": "热度突增", "evidence": [],
}
UTC_TEXT = re.compile(r"\+00:00|T\d\d:\d\d(:\d\d)?Z\b|UTC")

# Every command that takes or prints a time, and what this test does with it.
TIME_COMMANDS = {
    "import hotline": "takes 来电时间 without an offset: Beijing time",
    "release --at": "takes a time without an offset: Beijing time; a future one is refused in Beijing time",
    "incident": "prints the clock, releases and the timeline (text and --json)",
    "incidents": "prints deadlines (text and --json)",
    "grade": "prints the new deadline",
    "followup": "prints when it was recorded",
    "note": "prints when it was recorded",
    "report --from/--to": "takes Beijing-time days",
    "export": "json/csv/md carry Beijing time",
    "label / labels": "prints when a label was made (text and --json)",
    "retention": "prints (and logs) the cutoff",
    "backup": "names the file by Beijing time",
    "sources --json": "prints last success/error (ISO 8601 with the desk offset)",
}


@pytest.fixture
def yq(tmp_path, monkeypatch):
    monkeypatch.setenv("YUQING_NOW", NOW)
    home = tmp_path / "home"
    runner = CliRunner()

    def invoke(*args, code=0):
        res = runner.invoke(cli, [*args, "--home", str(home)])  # --home after the command (issue 17.5)
        if code is not None:
            assert res.exit_code == code, res.output
        return res

    invoke.home = home
    invoke("init")
    (tmp_path / "in.csv").write_text(HOTLINE, encoding="utf-8")
    invoke("import", "hotline", str(tmp_path / "in.csv"))
    (tmp_path / "c.json").write_text(json.dumps(CANDIDATE, ensure_ascii=False), encoding="utf-8")
    invoke("open-incident", str(tmp_path / "c.json"))
    return invoke


def _stored(home, sql):
    con = sqlite3.connect(home / "desk.sqlite")
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_every_time_command_takes_and_shows_desk_time(yq, tmp_path):
    walked = set()

    # import hotline: naive 05:10 is Beijing time -> 21:10Z the day before
    assert _stored(yq.home, "SELECT published FROM items").startswith("2026-12-05T21:10:00")
    walked.add("import hotline")

    # release --at: 05:40 Beijing is in the past at 06:00 Beijing (it was refused as future when read as UTC)
    yq("release", "1", "--channel", "政府网站", "--text", "情况通报", "--at", "2026-12-06 05:40")
    assert _stored(yq.home, "SELECT released_at FROM releases").startswith("2026-12-05T21:40:00")
    late = yq("release", "1", "--channel", "政府网站", "--text", "x", "--at", "2026-12-06 07:40", code=1).output
    assert "2026-12-06 07:40 +08:00" in late and "2026-12-06 06:00 +08:00" in late and not UTC_TEXT.search(late)
    bad = yq("release", "1", "--channel", "政府网站", "--text", "x", "--at", "明早", code=1).output
    assert "2026-12-06 05:40" in bad  # an example of what to type
    walked.add("release --at")

    shown = yq("incident", "1").output
    assert "首次权威发布 政府网站 2026-12-06 05:40 +08:00" in shown
    assert "2026-12-06 04:00 +08:00 起" in shown and not UTC_TEXT.search(shown)
    detail = json.loads(yq("incident", "1", "--json").output)
    assert detail["released_at"] == "2026-12-06T05:40:00+08:00"
    assert detail["releases"][0]["released_at"] == "2026-12-06T05:40:00+08:00"
    assert all(ev["at"] == "2026-12-06T06:00:00+08:00" for ev in detail["timeline"])
    walked.add("incident")

    listed = yq("incidents").output
    assert "截止 2026-12-07 04:00 +08:00" in listed
    assert json.loads(yq("incidents", "--json").output)[0]["release_due"] == "2026-12-07T04:00:00+08:00"
    walked.add("incidents")

    assert "发布时限 2026-12-07 04:00 +08:00" in yq("grade", "1", "重大").output  # released: the deadline stays
    walked.add("grade")
    assert "2026-12-06 06:00 +08:00" in yq("followup", "1", "--text", "已督促").output
    walked.add("followup")
    assert "2026-12-06 06:00 +08:00" in yq("note", "1", "已回访").output
    walked.add("note")

    # report days are Beijing-time days: 12-06 holds the incident (in UTC it began on 12-05)
    day = yq("report", "daily", "--from", "2026-12-06", "--to", "2026-12-06").output
    assert "本期事件（1 起）" in day and "本期发布（1 次）" in day and "2026-12-06 至 2026-12-06" in day
    before = yq("report", "daily", "--from", "2026-12-05", "--to", "2026-12-05").output
    assert "本期事件（0 起）" in before and "本期发布（0 次）" in before
    walked.add("report --from/--to")

    out = tmp_path / "out"
    out.mkdir()
    for fmt in ("json", "csv", "md"):
        yq("export", "1", "--format", fmt, "-o", str(out / f"r.{fmt}"))
    report = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert report["incident"]["released_at"] == "2026-12-06T05:40:00+08:00"
    rows = list(csv.reader(io.StringIO((out / "r.csv").read_text(encoding="utf-8-sig"))))
    assert rows[0][2] == "时间（北京时间）" and rows[1][2] == "2026-12-06 06:00"
    assert "2026-12-06 05:40" in (out / "r.md").read_text(encoding="utf-8")
    walked.add("export")

    assert "已保存更正" in yq("label", "1", "topic", "城市管理").output
    assert "2026-12-06 06:00 +08:00" in yq("labels").output
    assert json.loads(yq("labels", "--json").output)[0]["created_at"] == "2026-12-06T06:00:00+08:00"
    walked.add("label / labels")

    dry = yq("retention", "--days", "1", "--dry-run").output
    assert "截止 2026-12-05 06:00:00 +08:00" in dry and not UTC_TEXT.search(dry)
    yq("retention", "--days", "1")
    log = (yq.home / "logs" / "desk.log").read_text(encoding="utf-8")
    line = next(x for x in log.splitlines() if "retention: deleting" in x)
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00 INFO ", line), line
    assert "before 2026-12-05 06:00 +08:00" in line
    walked.add("retention")

    (tmp_path / "bk").mkdir()
    assert "desk-20261206-060000.sqlite" in yq("backup", str(tmp_path / "bk")).output
    walked.add("backup")

    for row in map(json.loads, yq("sources", "--json").output.splitlines()):
        for key in ("last_success_at", "last_error_at"):
            assert row[key] is None or row[key].endswith("+08:00")
    walked.add("sources --json")

    assert walked == set(TIME_COMMANDS)


@pytest.mark.parametrize("typed, utc", [
    ("2026-12-06 05:40", "2026-12-05T21:40:00+00:00"),
    ("2026-12-06T05:40", "2026-12-05T21:40:00+00:00"),
    ("2026/12/06 05:40", "2026-12-05T21:40:00+00:00"),
    ("2026-12-06 05:40 +08:00", "2026-12-05T21:40:00+00:00"),  # what the desk prints reads back
    ("2026-12-05T21:40Z", "2026-12-05T21:40:00+00:00"),
    ("2026-12-06T05:40:00+09:00", "2026-12-05T20:40:00+00:00"),  # an explicit offset is kept
    ("2026-12-06", "2026-12-05T16:00:00+00:00"),
])
def test_one_parser_for_typed_times(typed, utc):
    from storage.timeutil import desk_text, parse_desk_time

    got = parse_desk_time(typed)
    assert got.isoformat() == utc
    assert parse_desk_time(desk_text(got)) == got.replace(second=0)


def test_bad_typed_time_names_the_option_in_both_languages():
    from storage.timeutil import TimeInputError, parse_desk_time

    with pytest.raises(TimeInputError) as err:
        parse_desk_time("下午三点", name="--at")
    text = str(err.value)
    assert text.startswith("--at:") and "无法识别" in text and "not an ISO 8601 time" in text
    assert "2026-12-06 05:40" in text and "北京时间" in text


@pytest.fixture
def tokyo_desk(yq, monkeypatch):
    """The same desk with [desk] timezone = Asia/Tokyo (+09:00); the zone is reset afterwards."""
    from storage.timeutil import set_desk_tz

    toml = yq.home / "desk.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('"Asia/Shanghai"', '"Asia/Tokyo"'), encoding="utf-8")
    yield yq
    set_desk_tz(None)


def test_the_desk_zone_comes_from_desk_toml(tokyo_desk):
    yq = tokyo_desk
    # 06:40 Tokyo = 05:40 Beijing = 21:40Z; the pinned clock is 07:00 Tokyo
    yq("release", "1", "--channel", "政府网站", "--text", "情况通报", "--at", "2026-12-06 06:40")
    assert _stored(yq.home, "SELECT released_at FROM releases").startswith("2026-12-05T21:40:00")
    assert "首次权威发布 政府网站 2026-12-06 06:40 +09:00" in yq("incident", "1").output
    assert json.loads(yq("incident", "1", "--json").output)["released_at"] == "2026-12-06T06:40:00+09:00"
    assert "Asia/Tokyo" in yq("report", "daily").output
