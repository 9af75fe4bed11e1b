"""Hostile numbers and shapes in the desk's inputs get one clear line each, never a traceback:
every number in desk.toml has a sane range, TOML and scheme expressions have a depth limit,
and the JSONL tools report a bad line (too deep, too long) and go on with the rest."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from yuqing.cli import cli

DESK = '[desk]\ndistrict_code = "610702"\ndistrict_name = "汉台区"\ntimezone = "Asia/Shanghai"\n'
TIERS = '"特别重大" = 1\n"重大" = 2\n"较大" = 4\n'
WEBHOOK = '[alerts.channels.hook]\ntype = "webhook"\nurl = "http://127.0.0.1:9/x"\n'


def _home(tmp_path, extra: str):
    home = tmp_path / "desk"
    home.mkdir()
    (home / "desk.toml").write_text(DESK + extra, encoding="utf-8")
    (home / "sources.toml").write_text("", encoding="utf-8")
    return home


@pytest.mark.parametrize("extra, key", [
    ("[fetch]\nread_timeout = nan\n", "read_timeout"),
    ("[fetch]\ntotal_timeout = inf\n", "total_timeout"),
    ("[fetch]\nmax_bytes = 100000000000000000\n", "max_bytes"),
    ("[fetch]\nconnect_timeout = 1e29\n", "connect_timeout"),
    ("[fetch]\nmax_redirects = 1000000\n", "max_redirects"),
    (f"[clock.release_due_hours]\n{TIERS}\"一般\" = 1e308\n", "release_due_hours.一般"),
    (f"[clock]\nlate_grace_seconds = 1e300\n[clock.release_due_hours]\n{TIERS}\"一般\" = 8\n", "late_grace_seconds"),
    (f"[clock]\noverdue_repeat_hours = nan\n[clock.release_due_hours]\n{TIERS}\"一般\" = 8\n", "overdue_repeat_hours"),
    (f"[alerts]\n{WEBHOOK}timeout = inf\n", "timeout"),
    (f"[alerts]\n{WEBHOOK}max_bytes = 1e29\n", "max_bytes"),
    ("[alerts]\ndedup_window_minutes = nan\n", "dedup_window_minutes"),
    ("[alerts]\n[alerts.retry]\nmax_seconds = 1e300\n", "max_seconds"),
    ("[triggers]\nstory_window_hours = nan\n", "story_window_hours"),
    ("[triggers]\nstory_window_hours = 1e308\n", "story_window_hours"),
    ("[fetch]\nx = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
], ids=lambda v: v[:40] if isinstance(v, str) else None)
def test_numbers_out_of_range_and_deep_toml_are_one_line_errors(tmp_path, extra, key):
    home = _home(tmp_path, extra)
    result = CliRunner().invoke(cli, ["--home", str(home), "run", "--for", "1"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and key in lines[0] and "desk.toml" in lines[0], result.output


@pytest.mark.parametrize("expr", ["(" * 250 + "汉台" + ")" * 250, "NOT " * 10000 + "汉台",
                                  "汉台 " + "-" * 300 + "爆炸", "NEAR/5(" * 100 + "a, b" + ")" * 100],
                         ids=["parentheses", "not", "minus", "near"])
def test_deeply_nested_scheme_is_refused_before_the_desk_starts(tmp_path, expr):
    home = _home(tmp_path, "")
    (home / "schemes.toml").write_text(f"[schemes.deep]\nexpr = {json.dumps(expr)}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--home", str(home), "run", "--for", "1"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "nested more than 32 deep" in result.output and "schemes.toml" in result.output


def test_deeply_nested_scheme_in_the_console_preview(tmp_path):
    from tui.facade import DeskFacade

    facade = DeskFacade(tmp_path / "desk.sqlite", home=tmp_path)
    try:
        preview = facade.preview_scheme("deep", "(" * 300 + "汉台" + ")" * 300)
    finally:
        facade.close()
    assert not preview.ok and "嵌套过深" in preview.error  # said in Chinese on the console


def _peak_run(args, stdin_path):
    """Run `python -m yuqing ARGS < stdin_path`; (completed process, peak RSS in MB)."""
    probe = ("import resource, subprocess, sys\n"
             "with open(sys.argv[1], 'rb') as fh:\n"
             "    r = subprocess.run(sys.argv[2:], stdin=fh, capture_output=True)\n"
             "sys.stderr.buffer.write(r.stderr)\nsys.stdout.buffer.write(r.stdout)\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, file=sys.stderr)\n"
             "sys.exit(r.returncode)\n")
    out = subprocess.run([sys.executable, "-c", probe, str(stdin_path), sys.executable, "-m", "yuqing", *args],
                         capture_output=True, text=True, timeout=600)
    *err, peak = out.stderr.strip().splitlines()
    out.stderr = "\n".join(err)
    return out, int(peak)


def test_stories_reports_a_too_deep_and_a_huge_line_and_goes_on(tmp_path):
    good = [{"id": str(i), "title": f"汉台区铺镇道路施工第{i}段", "text": "施工进展顺利。", "published": 1760000000 + i}
            for i in range(3)]
    path = tmp_path / "in.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(good[0], ensure_ascii=False) + "\n")
        fh.write("[" * 100_000 + "\n")
        fh.write(json.dumps(good[1], ensure_ascii=False) + "\n")
        fh.write('{"id": "big", "title": "' + "长" * (50 * 1024 * 1024 // 3) + '"}\n')  # 50 MB on one line
        fh.write(json.dumps(good[2], ensure_ascii=False) + "\n")
    out, peak_mb = _peak_run(["stories"], path)
    assert out.returncode == 0, out.stderr
    assert [json.loads(line)["id"] for line in out.stdout.splitlines()] == ["0", "1", "2"]
    assert "line 2: not valid JSON (nested too deeply)" in out.stderr
    assert "line 4: line longer than" in out.stderr and "Traceback" not in out.stderr
    assert peak_mb < 400, f"peak {peak_mb} MB for a 50 MB line"


def test_classify_answers_a_too_deep_line_with_an_error_and_goes_on(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": 1, "title": "汉台区铺镇一化工厂发生爆炸"}, ensure_ascii=False) + "\n"
                    + "[" * 100_000 + "\n" + '{"id": 3, "title": "' + "x" * (2 * 1024 * 1024) + '"}\n'
                    + json.dumps({"id": 4, "title": "北关街道小区门口占道经营"}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "classify", str(path)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r.get("id") for r in rows] == [1, None, None, 4]
    assert "nested too deeply" in rows[1]["error"] and "longer than" in rows[2]["error"]
    assert "topic" in rows[0] and "topic" in rows[3]
