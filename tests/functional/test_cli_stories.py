"""`yuqing stories` through click's runner: the JSONL contract, bad lines, --summary."""
from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from yuqing.cmd_stories import stories

ORIGINAL = "汉台区龙江街道一小区昨夜暴雨后地下车库严重积水，多辆车被淹，业主质疑物业排水设施长期失修"
LINES = [
    {"id": "1", "title": "", "text": ORIGINAL, "published": 1780000000, "source": "weibo"},
    {"id": "2", "title": "", "text": "转发微博//@汉中生活圈: " + ORIGINAL, "published": "2026-05-29T04:30:00+08:00",
     "source": "weibo2", "metrics": {"reposts": 3, "rank": 7}},
    {"id": 3, "title": "西汉高速汉中段夜间施工", "text": "西汉高速汉中段明日起夜间施工，请过往车辆提前绕行",
     "published": "2026-05-29 05:00:00", "source": "news"},
]


def jsonl(rows) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows)


def run(args, text):
    return CliRunner().invoke(stories, args, input=text)


def test_stream_one_line_per_input():
    res = run([], jsonl(LINES))
    assert res.exit_code == 0, res.output
    out = [json.loads(line) for line in res.stdout.splitlines()]
    assert [o["id"] for o in out] == ["1", "2", "3"]
    assert all(set(o) == {"id", "story", "duplicate_of", "hot"} for o in out)
    assert out[1]["duplicate_of"] == "1" and out[1]["story"] == out[0]["story"]
    assert out[0]["duplicate_of"] is None and out[2]["story"] != out[0]["story"]
    assert not any(o["hot"] for o in out)


def test_summary_lines_after_the_stream(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_text(jsonl(LINES), encoding="utf-8")
    res = run([str(path), "--summary"], "")
    assert res.exit_code == 0, res.output
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    stream, summary = lines[:3], lines[3:]
    assert len(summary) == 2
    first = summary[0]
    assert first["story"] == stream[0]["story"] and first["size"] == 2
    assert first["first_id"] == "1" and first["first_source"] == "weibo"
    assert first["first_published"].startswith("2026-05-28T20:26:40")
    assert first["sources"] == ["weibo", "weibo2"] and first["hot_since"] is None
    assert isinstance(first["peak_heat"], float) and first["label"]
    # a time without zone is Asia/Shanghai
    assert summary[1]["first_published"].startswith("2026-05-28T21:00:00")


def test_bad_lines_are_named_and_skipped():
    rows = [LINES[0], "{not json", {"id": "x", "text": "无时间"}, {"id": "y", "text": "t", "published": "昨天"},
            {"text": "没有编号", "published": 1}, [1, 2], {"id": "z", "text": "", "published": 1},
            {"id": "m", "text": "指标错", "published": 1, "metrics": [1]}, LINES[2]]
    res = run([], jsonl(rows))
    assert res.exit_code == 0
    assert [json.loads(line)["id"] for line in res.stdout.splitlines()] == ["1", "3"]
    err = res.stderr
    for n in (2, 3, 4, 5, 6, 7, 8):
        assert f"line {n}:" in err
    assert "Traceback" not in err


def test_no_valid_line_fails_cleanly():
    res = run([], "garbage\n")
    assert res.exit_code == 1
    assert "line 1: not valid JSON" in res.stderr


def test_missing_file_is_a_clear_error(tmp_path):
    res = run([str(tmp_path / "nope.jsonl")], "")
    assert res.exit_code == 2 and "nope.jsonl" in res.stderr


def test_runs_as_a_process_from_stdin():
    code = "from yuqing.cmd_stories import stories; stories()"
    proc = subprocess.run([sys.executable, "-c", code, "-", "--summary"], input=jsonl(LINES).encode(),
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    assert len(proc.stdout.decode().splitlines()) == 5
