"""Issue 17.4 and 17.5: files the CLI writes (no silent folders, no silent overwrites, unique backup
names) and the CLI's shape (global --home after the command name; CJK columns by display width)."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from yuqing import cli as climod
from yuqing.cli import COMMANDS, cli, hoist_global_options
from yuqing.clictx import display_width

NOW = "2026-12-06T06:00+08:00"
CANDIDATE = {
    "story_id": "s-1", "title": "铺镇化工厂夜间异味", "first_published": "2026-12-06T04:00:00+08:00",
    "detected_at": "2026-12-06T04:30:00+08:00", "places": [], "departments": [], "responsible_units": ["铺镇"],
    "topic": "生态环境", "severity": "一般", "severity_reasons": [], "item_ids": [1], "trigger": "x", "evidence": [],
}


@pytest.fixture
def yq(tmp_path, monkeypatch, backend):
    """A desk home on each backend (SQLite, then PostgreSQL by YUQING_DATABASE_URL)."""
    return _desk(tmp_path, monkeypatch, backend)


@pytest.fixture
def yq_file(tmp_path, monkeypatch):
    """A desk home on SQLite only, for what reads no database (the gazetteer's files)."""
    monkeypatch.delenv("YUQING_DATABASE_URL", raising=False)
    return _desk(tmp_path, monkeypatch, None)


def _desk(tmp_path, monkeypatch, backend):
    monkeypatch.setenv("YUQING_NOW", NOW)
    monkeypatch.delenv("YUQING_HOME", raising=False)
    home = tmp_path / "home"
    runner = CliRunner()

    def invoke(*args, code=0):
        res = runner.invoke(cli, ["--home", str(home), *args])
        if code is not None:
            assert res.exit_code == code, res.output
        return res

    invoke.home = home
    invoke.suffix = ".dump" if backend else ".sqlite"  # pg_dump's file on a server
    invoke("init")
    return invoke


# ------------------------------------------------------------------ 17.4 files

def test_export_never_creates_a_folder_or_replaces_a_file_unasked(yq, tmp_path):
    (tmp_path / "c.json").write_text(json.dumps(CANDIDATE, ensure_ascii=False), encoding="utf-8")
    yq("open-incident", str(tmp_path / "c.json"))
    target = tmp_path / "nonexistent" / "dir" / "x.md"
    res = yq("export", "1", "--format", "md", "-o", str(target), code=1)
    assert "does not exist" in res.output and "--mkdir" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "nonexistent").exists()
    yq("export", "1", "--format", "md", "-o", str(target), "--mkdir")
    first = target.read_bytes()
    target.write_text("staff notes", encoding="utf-8")
    res = yq("export", "1", "--format", "md", "-o", str(target), code=1)
    assert "already exists" in res.output and "--force" in res.output
    assert target.read_text(encoding="utf-8") == "staff notes"  # nothing lost
    yq("export", "1", "--format", "md", "-o", str(target), "--force")
    assert target.read_bytes() == first
    # reports follow the same rule
    rep = tmp_path / "r" / "daily.md"
    assert "--mkdir" in yq("report", "daily", "-o", str(rep), code=1).output
    yq("report", "daily", "-o", str(rep), "--mkdir")
    assert "--force" in yq("report", "daily", "-o", str(rep), code=1).output


def test_backup_into_a_missing_folder_is_refused_or_created_on_request(yq, tmp_path):
    res = yq("backup", str(tmp_path / "bk") + "/", code=1)
    assert "does not exist" in res.output and "--mkdir" in res.output
    assert not (tmp_path / "bk").exists()  # no file named "bk" either
    out = yq("backup", str(tmp_path / "bk") + "/", "--mkdir").output
    assert (tmp_path / "bk").is_dir() and f"desk-20261206-060000{yq.suffix}" in out


def test_backups_within_one_second_all_stay(yq, tmp_path):
    (tmp_path / "bk").mkdir()
    for _ in range(3):  # YUQING_NOW pins the clock: the same second every time
        yq("backup", str(tmp_path / "bk"))
    x = yq.suffix
    assert sorted(p.name for p in (tmp_path / "bk").iterdir()) == [
        f"desk-20261206-060000-2{x}", f"desk-20261206-060000-3{x}", f"desk-20261206-060000{x}"]


def test_backup_without_a_destination_goes_to_the_homes_backups_folder(yq):
    out = yq("backup").output
    made = yq.home / "backups" / f"desk-20261206-060000{yq.suffix}"
    assert made.is_file() and str(made) in out
    yq("backup")  # the same second again: a second file, the first kept
    assert (yq.home / "backups" / f"desk-20261206-060000-2{yq.suffix}").is_file()


def test_backup_keeps_an_existing_file_without_force(yq, tmp_path):
    dest = tmp_path / "copy.sqlite"
    dest.write_text("precious")
    assert "--force" in yq("backup", str(dest), code=1).output
    assert dest.read_text() == "precious"
    yq("backup", str(dest), "--force")
    assert dest.read_bytes().startswith(b"PGDMP" if yq.suffix == ".dump" else b"SQLite format 3")


# ------------------------------------------------------------------ 17.5 CLI shape

def _all_command_paths():
    """Every command and subcommand as its argv path, e.g. ["sources", "add"]."""
    import click

    paths = []
    for name in COMMANDS:
        cmd = climod.cli.get_command(None, name)
        paths.append([name])
        if isinstance(cmd, click.Group):
            paths += [[name, sub] for sub in cmd.list_commands(None)]
    return paths


@pytest.mark.parametrize("path", _all_command_paths(), ids=" ".join)
def test_home_is_accepted_after_every_command_name(path, tmp_path):
    res = CliRunner().invoke(cli, [*path, "--home", str(tmp_path / "h"), "--help"])
    assert res.exit_code == 0, res.output
    assert "No such option" not in res.output


def test_home_after_the_command_is_the_home_used(tmp_path, monkeypatch):
    monkeypatch.delenv("YUQING_HOME", raising=False)
    home = tmp_path / "X"
    res = CliRunner().invoke(cli, ["init", "--home", str(home)])
    assert res.exit_code == 0, res.output
    assert (home / "desk.toml").is_file() and (home / "desk.sqlite").is_file()
    res = CliRunner().invoke(cli, ["gazetteer", "show", f"--home={home}"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["incidents", "--json", "--home", str(tmp_path / "missing")])
    assert res.exit_code == 1 and "missing" in res.output  # that home was used, not the default


def test_hoisting_keeps_arguments_after_double_dash():
    assert hoist_global_options(["note", "3", "--home", "h", "x"]) == ["--home", "h", "note", "3", "x"]
    assert hoist_global_options(["note", "--home=h", "3"]) == ["--home=h", "note", "3"]
    assert hoist_global_options(["note", "3", "--", "--home"]) == ["note", "3", "--", "--home"]


def _spans(line: str) -> list[tuple[int, int]]:
    """(start, end) display columns of each space-separated token."""
    spans, col = [], 0
    for m in re.finditer(r"\S+| +", line):
        w = display_width(m.group())
        if not m.group().startswith(" "):
            spans.append((col, col + w))
        col += w
    return spans


def test_sources_columns_line_up_by_display_width(yq):
    lines = yq("sources").output.splitlines()
    assert lines[0].startswith("来源") and len(lines) >= 3
    spans = [_spans(line) for line in lines]
    for i in (0, 1, 2):  # left-aligned: 来源 状态 最近成功
        assert len({s[i][0] for s in spans}) == 1, lines
    for i in (-2, -1):  # right-aligned numbers (rows without an error end with them)
        assert len({s[i][1] for s in spans[1:]} | {spans[0][i - 1][1]}) == 1, lines


def test_gazetteer_show_columns_line_up_by_display_width(yq_file):
    lines = yq_file("gazetteer", "show").output.splitlines()
    table = lines[1:]  # after the title line
    assert table[0].startswith("代码") and len(table) > 10
    spans = [_spans(line) for line in table]
    for i in (0, 1, 2):  # 代码 名称 简称
        assert len({s[i][0] for s in spans}) == 1, table
    assert len({s[3][1] for s in spans}) == 1, table  # 村/社区, right-aligned
