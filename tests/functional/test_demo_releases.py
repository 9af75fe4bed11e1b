"""The whole scenario through the public CLI: `yuqing demo --headless`, then `yuqing incidents --json`.

data/demo/expected.toml is the oracle: every release of the incident is detected on the own
channel with its kind, no related item (the 专项整治 notice) is taken as a release or even
proposed, and the incident ends in 处置结果已发布.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from yuqing.demo_server import load_expected

ROOT = Path(__file__).resolve().parents[2]
SPEED = 4800.0  # scenario seconds per real second: the 48 h scenario in 36 s
FOR = 50.0  # real seconds: the whole scenario and some slack for a busy machine


def _yuqing(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("YUQING_HOME", None)
    return subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("demo-releases") / "home"
    run = _yuqing(home, "demo", "--headless", "--speed", str(SPEED), "--for", str(FOR), timeout=FOR + 120)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return home, run.stdout


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
