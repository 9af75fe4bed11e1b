"""The whole scenario through the public CLI: `yuqing demo --headless`, then `yuqing incidents --json`.

data/demo/expected.toml is the oracle: every release of the incident is detected on the own
channel with its kind, no related item (the 专项整治 notice) is taken as a release or even
proposed, and the incident ends in 处置结果已发布.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from yuqing.demo_server import load_expected

ROOT = Path(__file__).resolve().parents[2]
SPEED = 4800.0  # scenario seconds per real second: the 48 h scenario in 36 s
LIMIT = 300.0  # real seconds: a generous upper bound for a busy machine; the run stops once the story ends


def _yuqing(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), *args], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=timeout)


def _env() -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("YUQING_HOME", None)
    return env


def _ended(home: Path, state: str) -> bool:
    run = _yuqing(home, "incidents", "--json", "--all")
    return run.returncode == 0 and any(i["state"] == state for i in json.loads(run.stdout or "[]"))


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    """`yuqing demo --headless` until the incident reaches its final state (or the limit), then SIGINT."""
    home = tmp_path_factory.mktemp("demo-releases") / "home"
    final = load_expected()["incident"]["final_state"]
    proc = subprocess.Popen([sys.executable, "-m", "yuqing", "--home", str(home), "demo", "--headless", "--speed",
                             str(SPEED), "--for", str(LIMIT)], cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + LIMIT + 30
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(3)
            if (home / "desk.sqlite").exists() and _ended(home, final):
                time.sleep(2)  # the batch's notices reach stdout
                proc.send_signal(signal.SIGINT)  # finishes the write in flight and prints the summary
                break
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "演示结束" in stdout, stdout[-2000:] + stderr[-2000:]
    return home, stdout


def _key(url: str) -> str:
    """own:<key> of a demo item link (/own/a/<key>.html)."""
    source, _, name = url.rsplit("/", 3)[-3:]
    return f"{source}:{name.removesuffix('.html')}"


def test_every_release_detected_with_its_kind(demo_home):
    home, stdout = demo_home
    expected = load_expected()["incident"]
    listed = json.loads(_yuqing(home, "incidents", "--json", "--all").stdout)
    assert len(listed) == 1, [i["title"] for i in listed]
    inc = listed[0]
    assert inc["state"] == expected["final_state"] and inc["final_at"] and inc["released_at"]
    detail = json.loads(_yuqing(home, "incident", str(inc["id"]), "--json").stdout)
    got = {_key(r["url"]): r["kind"] for r in detail["releases"]}
    want = {rel["item"]: rel["record"] for rel in expected["releases"].values()}
    assert got == want
    assert "处置结果已发布" in stdout and "检测到权威发布（处置结果" in stdout


def test_no_related_item_is_taken_as_a_release(demo_home):
    home, _ = demo_home
    related = set(load_expected()["related"]["items"])
    detail = json.loads(_yuqing(home, "incident", "1", "--json").stdout)
    proposed = {_key(e["payload"]["url"]) for e in detail["timeline"] if e["kind"] == "release_proposed"}
    released = {_key(r["url"]) for r in detail["releases"]}
    assert not (proposed | released) & related
    assert released == proposed  # every proposal was good enough to confirm by itself
    # Each proposal explains itself: the evidence in words with weights, and the threshold.
    why = [e["payload"]["why"] for e in detail["timeline"] if e["kind"] == "release_proposed"]
    assert all("提及地点 铺镇（+0.30）" in w and "自动确认阈值" in w for w in why), why


def test_the_incident_is_worked_by_the_demo_team(demo_home):
    """The demo's staff work the incident: every event not the desk's own is a staff id of
    data/demo/team.toml; the leader on duty gives an instruction and the officer reports it done;
    the officer acknowledges the breaking alerts; the leader reviews the incident at the end; the
    output says who did what."""
    from yuqing.config import read_toml
    from yuqing.demo_team import TEAM_FILE

    home, stdout = demo_home
    team = {m["role"]: m for m in read_toml(TEAM_FILE)["staff"]}
    officer, leader = team["officer"], team["leader"]
    detail = json.loads(_yuqing(home, "incident", "1", "--json").stdout)
    people = {e["actor"] for e in detail["timeline"] if e["actor"] != "system"}
    assert people and people <= {m["id"] for m in team.values()}, people
    worked = {(e["kind"], e["actor"]) for e in detail["timeline"]}
    assert {("acknowledged", officer["id"]), ("assigned", officer["id"]), ("instruction", leader["id"]),
            ("instruction_done", officer["id"]), ("alert_acked", officer["id"])} <= worked, worked
    (ins,) = json.loads(_yuqing(home, "instructions", "--json").stdout)
    assert (ins["incident_id"], ins["leader"], ins["done_by"]) == (1, leader["id"], officer["id"])
    assert f"带班领导 {leader['name']}：批示 事件 #1" in stdout and f"值班员 {officer['name']}：反馈批示 #1" in stdout
    assert f"领导批示 #1（{leader['name']}" in stdout and "突发预警：已确认" in stdout
    # the leader's short review (复盘) once the final release is out, in the incident's report
    review = json.loads(_yuqing(home, "review", "1", "--json").stdout)
    assert review["updated_by"] == leader["id"] and "确认接报" in review["well"] and "才发现" in review["late"]
    assert [a["unit"] for a in review["actions"]] == [read_toml(TEAM_FILE)["review"]["action_unit"]]
    assert f"复盘（{leader['name']}）" in stdout
    assert "## 七、复盘" in (home / "exports" / "incident-1.md").read_text(encoding="utf-8")
    assert "校验通过" in _yuqing(home, "verify").stdout
