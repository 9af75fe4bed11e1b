"""Working-day clocks through the CLI on a real desk: 12345 hotline items imported with `yuqing
import hotline` must be accepted within 1 working day, own-channel 行政许可/行政处罚 decisions
disclosed within 7; both across the 2026 Spring Festival and National Day holidays (YUQING_NOW)."""
from __future__ import annotations

import json
from datetime import datetime

from click.testing import CliRunner

from monitor.store import store_fetch, sync_sources
from monitor.types import ParsedItem, SourceSpec
from storage.db import open_db
from storage.timeutil import DEFAULT_TZ
from yuqing.cli import cli
from pipeline.schema import all_migrations

HOTLINE = """工单编号,来电时间,诉求内容
HT-1,2026-02-13 16:20,铺镇某小区停水三天无人处理
HT-2,2026-02-14 10:05,汉台区某路段路灯不亮
HT-3,2026-02-24 09:00,噪音扰民
"""


def _run(home, *args, now: str | None = None):
    return CliRunner().invoke(cli, ["--home", str(home), *args], catch_exceptions=False,
                              env={"YUQING_NOW": now or ""})


def _clocks(home, now, *flags):
    out = _run(home, "workday-clocks", "--json", *flags, now=now)
    return out.exit_code, {c["item_id"]: c for c in json.loads(out.output)}


def _t(text):
    return datetime.fromisoformat(text).replace(tzinfo=DEFAULT_TZ)


def _desk(tmp_path):
    home = tmp_path / "home"
    assert _run(home, "init").exit_code == 0
    csv_path = tmp_path / "12345.csv"
    csv_path.write_text(HOTLINE, encoding="utf-8")
    out = _run(home, "import", "hotline", str(csv_path))
    assert out.exit_code == 0, out.output
    return home


def _by_title(clocks, fragment):
    return next(c for c in clocks.values() if fragment in c["title"])


def test_hotline_acceptance_within_one_working_day_across_the_spring_festival(tmp_path):
    home = _desk(tmp_path)
    code, clocks = _clocks(home, "2026-02-14 12:00")
    assert code == 0
    friday, saturday = _by_title(clocks, "停水"), _by_title(clocks, "路灯")
    # received Friday 02-13: due by the end of the make-up working Saturday 02-14
    assert friday["due_date"] == "2026-02-14" and friday["due_at"] == "2026-02-15T00:00:00+08:00"
    assert friday["status"] == "open" and friday["workdays_left"] == 1
    # received on the make-up Saturday: the holiday follows, due by the end of 02-24
    assert saturday["due_date"] == "2026-02-24" and saturday["kind"] == "hotline"

    # during the holiday the Friday call is overdue, the Saturday one still open
    code, clocks = _clocks(home, "2026-02-18 10:00")
    assert code == 1
    assert _by_title(clocks, "停水")["status"] == "overdue"
    assert _by_title(clocks, "路灯")["status"] == "open"
    code, late = _clocks(home, "2026-02-18 10:00", "--overdue")
    assert [c["title"] for c in late.values()] == ["铺镇某小区停水三天无人处理"]

    # accepting the Saturday call on 02-24 is on time; recording it twice is refused
    sat_id = _by_title(clocks, "路灯")["item_id"]
    done = _run(home, "workday-done", str(sat_id), "--note", "受理编号 1", "--at", "2026-02-24 09:30",
                now="2026-02-24 10:00")
    assert done.exit_code == 0 and "按时完成" in done.output, done.output
    again = _run(home, "workday-done", str(sat_id), now="2026-02-24 10:05")
    assert again.exit_code != 0 and "已于" in again.output
    code, every = _clocks(home, "2026-02-25 10:00", "--all")
    assert every[sat_id]["status"] == "done_on_time" and every[sat_id]["note"] == "受理编号 1"
    # the Friday call accepted late
    fri_id = _by_title(every, "停水")["item_id"]
    assert _run(home, "workday-done", str(fri_id), now="2026-02-25 10:00").exit_code == 0
    code, every = _clocks(home, "2026-02-25 10:00", "--all")
    assert every[fri_id]["status"] == "done_late"
    # doctor warns about what is overdue: here the 02-24 call, due by the end of 02-25
    doctor = json.loads(_run(home, "doctor", "--json", now="2026-02-26 09:00").output)
    check = next(c for c in doctor["checks"] if c["name"] == "workdays")
    assert check["status"] == "warn" and "#" in check["detail"] and "截止 2026-02-25" in check["detail"]


def test_configured_working_days_per_kind(tmp_path):
    home = _desk(tmp_path)
    desk = home / "desk.toml"
    text = desk.read_text("utf-8")
    assert "hotline = 1 " in text  # the default desk.toml names the setting
    desk.write_text(text.replace("hotline = 1 ", "hotline = 3 "), encoding="utf-8")
    code, clocks = _clocks(home, "2026-02-14 12:00")
    # three working days after Friday 02-13: 02-14, 02-24, 02-25
    assert _by_title(clocks, "停水")["due_date"] == "2026-02-25" and _by_title(clocks, "停水")["workdays"] == 3
    desk.write_text(desk.read_text("utf-8").replace("hotline = 3", "hotline = 0"), encoding="utf-8")
    assert _clocks(home, "2026-02-14 12:00")[1] == {}
    desk.write_text(desk.read_text("utf-8").replace("hotline = 0", "hotline = -1"), encoding="utf-8")
    bad = _run(home, "workday-clocks", now="2026-02-14 12:00")
    assert bad.exit_code != 0 and "hotline" in bad.output and "0–60" in bad.output


def test_licence_and_penalty_decisions_on_own_channels_start_a_seven_day_clock(tmp_path):
    home = _desk(tmp_path)
    spec = SourceSpec(id="htgov", name="汉台区政府网", url="https://www.htq.gov.cn/xxgk", own_channel=True,
                      platform="gov")
    other = SourceSpec(id="news", name="某新闻网", url="https://news.example.cn/", platform="news")
    db = open_db(home / "desk.sqlite", all_migrations())
    fetched = _t("2026-09-30 10:00")
    sync_sources(db, [spec, other], fetched)
    own_items = [
        ParsedItem(guid="p1", title="汉台区市场监督管理局行政处罚决定书 汉台市监罚〔2026〕12号", link=None,
                   published=_t("2026-09-30 09:00"), author=None, text="当事人：某超市", metrics={}),
        ParsedItem(guid="p2", title="关于准予汉台区某公司取水许可的决定", link=None,
                   published=_t("2026-09-29 15:00"), author=None, text="准予取水许可", metrics={}),
        ParsedItem(guid="p3", title="汉台区召开安全生产工作会议", link=None,
                   published=_t("2026-09-30 08:00"), author=None, text="会议", metrics={}),
    ]
    store_fetch(db, spec, own_items, now=fetched, next_check=fetched, etag=None, last_modified=None, body_digest=None)
    news = [ParsedItem(guid="n1", title="某公司行政处罚决定书 罚〔2026〕1号", link=None, published=fetched,
                       author=None, text="转载", metrics={})]
    store_fetch(db, other, news, now=fetched, next_check=fetched, etag=None, last_modified=None, body_digest=None)
    db.conn.close()

    code, clocks = _clocks(home, "2026-10-05 12:00")
    disclosure = {c["title"]: c for c in clocks.values() if c["kind"] == "license_penalty_disclosure"}
    assert set(disclosure) == {own_items[0].title, own_items[1].title}  # not the meeting, not other sources
    penalty = disclosure[own_items[0].title]
    # published Wednesday 09-30; 7 working days: 10-08, 10-09, Sat 10-10, 10-12, 10-13, 10-14, 10-15
    assert penalty["decision"] == "行政处罚" and penalty["due_date"] == "2026-10-15"
    licence = disclosure[own_items[1].title]
    # published Tuesday 09-29: 09-30, 10-08, 10-09, 10-10, 10-12, 10-13, 10-14
    assert licence["decision"] == "行政许可" and licence["due_date"] == "2026-10-14"
    assert licence["workdays_left"] == 6  # on holiday 10-05: 10-08 .. 10-14 are six working days
    code, late = _clocks(home, "2026-10-15 09:00", "--overdue")
    assert code == 1 and [c["title"] for c in late.values() if c["kind"] == "license_penalty_disclosure"] == \
        [own_items[1].title]
