"""The duty roster through the CLI on a real desk: generated over the 2026 Spring Festival with its
调休 working Saturdays, who is on duty at chosen instants (YUQING_NOW), CSV import with bad rows,
admin-only writes, and gaps warned by `yuqing doctor`."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from yuqing.cli import cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "data" / "roster_pattern.example.toml"
TEAM = [("zhang", "张三", "officer"), ("li", "李四", "officer"), ("wang", "王五", "officer"),
        ("zhao", "赵六", "leader"), ("qian", "钱七", "leader"), ("sun", "孙八", "leader"),
        ("kan", "阚九", "viewer")]


def _run(home, *args, now: str | None = None):
    env = {"YUQING_NOW": now} if now else {"YUQING_NOW": ""}
    return CliRunner().invoke(cli, ["--home", str(home), *args], catch_exceptions=False, env=env)


def _desk(tmp_path):
    home = tmp_path / "home"
    assert _run(home, "init").exit_code == 0
    assert _run(home, "staff", "add", "admin", "--name", "管理员", "--role", "admin").exit_code == 0
    for sid, name, role in TEAM:
        out = _run(home, "staff", "add", sid, "--name", name, "--role", role, "--as", "admin")
        assert out.exit_code == 0, out.output
    return home


def _now(home, at):
    out = _run(home, "roster", "now", "--json", now=at)
    return out.exit_code, json.loads(out.output)


def test_generate_over_the_spring_festival_2026(tmp_path, backend):
    home = _desk(tmp_path)
    refused = _run(home, "roster", "generate", "--from", "2026-02-10", "--to", "2026-03-01",
                   "--pattern", str(EXAMPLE), "--as", "zhang")
    assert refused.exit_code != 0 and "无权" in refused.output
    out = _run(home, "roster", "generate", "--from", "2026-02-10", "--to", "2026-03-01",
               "--pattern", str(EXAMPLE), "--as", "admin")
    assert out.exit_code == 0, out.output
    # 2026-02-14 and 2026-02-28 are 调休 working Saturdays; 02-15..02-23 the holiday (9 days)
    assert "调休上班日：2026-02-14、2026-02-28" in out.output
    assert "法定节假日 9 天" in out.output

    # the make-up Saturday has the working-day shifts (日班 08:30–17:30) ...
    code, sat = _now(home, "2026-02-14 09:00")
    assert code == 0 and sat["shift"] == "日班"
    assert sat["starts_at"] == "2026-02-14T08:30:00+08:00" and sat["ends_at"] == "2026-02-14T17:30:00+08:00"
    assert set(sat) == {"shift", "starts_at", "ends_at", "officer", "leader"}
    # ... its 夜班 crosses midnight into the first holiday morning
    code, night = _now(home, "2026-02-15 03:00")
    assert night["shift"] == "夜班" and night["ends_at"] == "2026-02-15T08:30:00+08:00"
    # a holiday has its own shifts and its own leaders' turn (sun first)
    code, hol = _now(home, "2026-02-15 10:00")
    assert hol["shift"] == "白班" and hol["leader"] == "sun"
    assert hol["starts_at"] == "2026-02-15T08:30:00+08:00" and hol["ends_at"] == "2026-02-15T20:30:00+08:00"
    # the weekend inside the holiday is a holiday too, not a rest day
    assert _now(home, "2026-02-21 12:00")[1]["shift"] == "白班"
    # an ordinary Sunday after it is a rest day: one 24-hour shift
    sunday = _now(home, "2026-03-01 12:00")[1]
    assert sunday["shift"] == "全天" and sunday["ends_at"] == "2026-03-02T08:30:00+08:00"
    # the second make-up Saturday is a working day again
    assert _now(home, "2026-02-28 12:00")[1]["shift"] == "日班"
    # the officers rotate one per shift: consecutive shifts never have the same officer
    listing = json.loads(_run(home, "roster", "--date", "2026-02-10", "--days", "20", "--json").output)
    officers = [s["officer"] for s in listing]
    assert all(a != b for a, b in zip(officers, officers[1:]))
    assert {s["officer"] for s in listing} == {"zhang", "li", "wang"}

    # past the roster: nobody on duty is null with exit status 1
    code, nobody = _now(home, "2026-03-02 12:00")
    assert code == 1 and nobody is None

    # regenerating a period replaces its days as a whole (no duplicates)
    again = _run(home, "roster", "generate", "--from", "2026-02-10", "--to", "2026-03-01",
                 "--pattern", str(EXAMPLE), "--as", "admin")
    assert again.exit_code == 0
    again = json.loads(_run(home, "roster", "--date", "2026-02-10", "--days", "20", "--json").output)
    assert len(again) == len(listing)


def test_pattern_naming_someone_who_cannot_stand_duty_writes_nothing(tmp_path, backend):
    home = _desk(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text("utf-8").replace('officers = ["zhang", "li", "wang"]',
                                                      'officers = ["zhang", "kan", "ghost"]'), encoding="utf-8")
    out = _run(home, "roster", "generate", "--from", "2026-02-10", "--to", "2026-02-12",
               "--pattern", str(bad), "--as", "admin")
    assert out.exit_code != 0
    assert "「ghost」未登记" in out.output and "「kan」（阚九）是只读" in out.output
    assert json.loads(_run(home, "roster", "--date", "2026-02-10", "--days", "3", "--json").output) == []


CSV = """日期,班次,开始,结束,值班员,带班领导
2026-10-01,白班,08:00,20:00,zhang,zhao
2026/10/1,夜班,20:00,08:00,李四,qian
2026-10-02,白班,8:00,20:00,nobody,zhao
2026-10-02,夜班,20:00,25:00,li,wang
2026-10-02,白班,08:00,20:00,kan,sun
2026-02-30,白班,08:00,20:00,wang,sun
2026-10-01,白班,08:00,20:00,wang,sun
"""


def test_csv_import_names_bad_rows_keeps_good_ones_and_replaces_on_reimport(tmp_path, backend):
    home = _desk(tmp_path)
    path = tmp_path / "roster.csv"
    path.write_text(CSV, encoding="utf-8")
    assert _run(home, "roster", "import", str(path), "--as", "li").exit_code != 0  # officers cannot
    out = _run(home, "roster", "import", str(path), "--as", "admin")
    assert out.exit_code == 1
    assert "导入 2 个班次" in out.output and "5 行有误" in out.output
    assert "第 4 行：值班员「nobody」未登记" in out.output
    assert "第 5 行：结束「25:00」无法识别" in out.output and "带班领导「wang」（王五）是值班员" in out.output
    assert "第 6 行：值班员「kan」（阚九）是只读" in out.output
    assert "第 7 行：日期「2026-02-30」无法识别" in out.output
    assert "第 8 行：与第 2 行重复" in out.output
    # the night shift crosses midnight; a staff name resolves to its id
    code, night = _now(home, "2026-10-02 02:00")
    assert code == 0 and night == {"shift": "夜班", "starts_at": "2026-10-01T20:00:00+08:00",
                                   "ends_at": "2026-10-02T08:00:00+08:00", "officer": "li", "leader": "qian"}
    # re-importing the same date and shift replaces it
    fix = tmp_path / "fix.csv"
    fix.write_text("日期,班次,开始,结束,值班员,带班领导\n2026-10-01,夜班,20:00,08:30,wang,sun\n", encoding="gbk")
    out = _run(home, "roster", "import", str(fix), "--as", "admin")
    assert out.exit_code == 0 and "替换原有 1 个" in out.output
    code, night = _now(home, "2026-10-02 08:15")
    assert night["officer"] == "wang" and night["leader"] == "sun"
    assert len(json.loads(_run(home, "roster", "--date", "2026-10-01", "--json").output)) == 2


def test_a_file_without_the_columns_is_refused_whole(tmp_path):
    home = _desk(tmp_path)
    path = tmp_path / "roster.csv"
    path.write_text("date,shift\n2026-10-01,白班\n", encoding="utf-8")
    out = _run(home, "roster", "import", str(path), "--as", "admin")
    assert out.exit_code != 0 and "表头缺少列" in out.output and "值班员" in out.output


def test_gaps_are_warned_ahead_in_doctor_and_roster_gaps(tmp_path):
    home = _desk(tmp_path)
    csv_text = ("日期,班次,开始,结束,值班员,带班领导\n"
                "2026-06-01,全天,08:00,08:00,zhang,zhao\n"
                "2026-06-02,日班,08:00,18:00,li,zhao\n"  # 18:00 to 06-03 08:00 uncovered
                "2026-06-03,全天,08:00,08:00,wang,qian\n")
    path = tmp_path / "june.csv"
    path.write_text(csv_text, encoding="utf-8")
    assert _run(home, "roster", "import", str(path), "--as", "admin").exit_code == 0

    doctor = _run(home, "doctor", "--json", now="2026-06-01 09:00")
    roster_check = next(c for c in json.loads(doctor.output)["checks"] if c["name"] == "roster")
    assert roster_check["status"] == "warn"
    assert "2026-06-02 18:00 至 2026-06-03 08:00" in roster_check["detail"]
    gaps = _run(home, "roster", "gaps", "--json", now="2026-06-01 09:00")
    assert gaps.exit_code == 1
    assert json.loads(gaps.output)[0] == {"start": "2026-06-02T18:00:00+08:00", "end": "2026-06-03T08:00:00+08:00",
                                          "hours": 14.0}
    # the horizon is configurable: 24 hours ahead sees no gap yet
    desk = home / "desk.toml"
    text = desk.read_text("utf-8")
    assert "gap_warning_hours = 72" in text  # the default desk.toml names the setting
    desk.write_text(text.replace("gap_warning_hours = 72", "gap_warning_hours = 24"), encoding="utf-8")
    doctor = _run(home, "doctor", "--json", now="2026-06-01 09:00")
    roster_check = next(c for c in json.loads(doctor.output)["checks"] if c["name"] == "roster")
    assert roster_check["status"] == "ok"
    assert _run(home, "roster", "gaps", now="2026-06-01 09:00").exit_code == 0
    # a member disabled after the roster was made: their coming shift is named
    assert _run(home, "staff", "disable", "li", "--as", "admin").exit_code == 0
    doctor = _run(home, "doctor", "--json", now="2026-06-01 09:00")
    roster_check = next(c for c in json.loads(doctor.output)["checks"] if c["name"] == "roster")
    assert roster_check["status"] == "warn" and "2026-06-02 日班：值班员「li」（李四）已停用" in roster_check["detail"]


def test_the_handover_names_the_outgoing_and_the_incoming_shift(tmp_path):
    home = _desk(tmp_path)
    path = tmp_path / "feb.csv"
    path.write_text("日期,班次,开始,结束,值班员,带班领导\n2026-02-14,日班,08:30,17:30,zhang,zhao\n"
                    "2026-02-14,夜班,17:30,08:30,李四,qian\n", encoding="utf-8")
    assert _run(home, "roster", "import", str(path), "--as", "admin").exit_code == 0
    out = _run(home, "handover", "--json", now="2026-02-14 17:20")
    assert out.exit_code == 0, out.output
    shift = json.loads(out.output)["shift"]
    assert (shift["name"], shift["officer"], shift["officer_name"], shift["leader_name"]) == ("日班", "zhang", "张三", "赵六")
    assert shift["next"]["name"] == "夜班" and shift["next"]["officer"] == "li"
    md = _run(home, "handover", now="2026-02-14 17:20").output
    assert "班次 日班（值班员 张三，带班领导 赵六）" in md and "接班 夜班（值班员 李四）" in md
    # mid-shift there is nothing to hand over yet: the report has no shift
    assert json.loads(_run(home, "handover", "--json", now="2026-02-14 12:00").output)["shift"] is None


def test_a_year_the_calendar_does_not_cover_is_generated_monday_to_friday_with_a_warning(tmp_path):
    home = _desk(tmp_path)
    out = _run(home, "roster", "generate", "--from", "2026-12-28", "--to", "2027-01-03", "--pattern", str(EXAMPLE),
               "--as", "admin")
    assert out.exit_code == 0, out.output
    assert "没有 2027 年的节假日安排" in out.output
    # 2027-01-01 is a Friday: without the schedule it is counted a working day (日班, not 全天)
    assert _now(home, "2027-01-01 12:00")[1]["shift"] == "日班"
    assert _now(home, "2027-01-02 12:00")[1]["shift"] == "全天"
