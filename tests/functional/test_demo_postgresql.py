"""The whole demo on a PostgreSQL server, through the public CLI (issue 16).

`yuqing --database URL demo --headless` runs the offline scenario with its desk in a fresh
PostgreSQL database (tests/pgserver.py), until the incident reaches its final state; then every
export (md, html, json, csv, docx, the period reports, the handover) is produced from the server,
`yuqing verify` passes on its timeline and `yuqing doctor` reports the server. A second demo on the
same database is refused and writes nothing.
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

pytestmark = [pytest.mark.postgresql]

ROOT = Path(__file__).resolve().parents[2]
SPEED = 4800.0  # scenario seconds per real second: the 48 h scenario in 36 s
LIMIT = 300.0  # real seconds: a generous upper bound for a busy machine; the run stops once the story ends


def _env() -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("YUQING_HOME", "YUQING_DATABASE_URL", "YUQING_NOW"):
        env.pop(name, None)
    return env


def _yuqing(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """A command on the demo's home: desk.toml names the server, so no --database is needed."""
    return subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), *args], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=timeout)


def _ended(home: Path, state: str) -> bool:
    run = _yuqing(home, "incidents", "--json", "--all")
    return run.returncode == 0 and any(i["state"] == state for i in json.loads(run.stdout or "[]"))


def _count(url: str, table: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture(scope="module")
def pg_demo(pg_server, tmp_path_factory):
    """`yuqing --database URL demo --headless` until the incident's final state (or the limit), then SIGINT."""
    url = pg_server.create_database()
    home = tmp_path_factory.mktemp("demo-pg") / "home"
    final = load_expected()["incident"]["final_state"]
    proc = subprocess.Popen([sys.executable, "-m", "yuqing", "--home", str(home), "--database", url, "demo",
                             "--headless", "--speed", str(SPEED), "--for", str(LIMIT)], cwd=ROOT, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + LIMIT + 30
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(3)
            if (home / "desk.toml").exists() and _ended(home, final):
                time.sleep(2)  # the batch's notices reach stdout
                proc.send_signal(signal.SIGINT)  # finishes the write in flight and prints the summary
                break
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "演示结束" in stdout, stdout[-2000:] + stderr[-2000:]
    yield home, url, stdout
    pg_server.drop_database(url.rsplit("/", 1)[1])


def test_the_demo_desk_lives_on_the_server(pg_demo):
    home, url, stdout = pg_demo
    assert not (home / "desk.sqlite").exists()
    assert f'url = "{url}"' in (home / "desk.toml").read_text(encoding="utf-8")
    assert _count(url, "items") > 0 and _count(url, "timeline_events") > 0
    expected = load_expected()["incident"]
    listed = json.loads(_yuqing(home, "incidents", "--json", "--all").stdout)
    assert len(listed) == 1, [i["title"] for i in listed]
    assert listed[0]["state"] == expected["final_state"] and listed[0]["released_at"]
    assert "检测到权威发布（处置结果" in stdout


def test_every_export_from_the_server(pg_demo, tmp_path):
    home, _url, stdout = pg_demo
    exported = home / "exports"
    for name in ("incident-1.md", "incident-1.html", "incident-1.json", "incident-1.csv", "incident-1.docx",
                 "handover.md"):
        assert (exported / name).stat().st_size > 0, name
    assert "## 七、复盘" in (exported / "incident-1.md").read_text(encoding="utf-8")
    assert "交接班报告：在办事件" in stdout
    for fmt in ("md", "html", "json", "csv", "docx"):
        out = tmp_path / f"report.{fmt}"
        run = _yuqing(home, "export", "1", "--format", fmt, "-o", str(out))
        assert run.returncode == 0, run.stderr
        assert out.stat().st_size > 0
    assert "铺镇" in (tmp_path / "report.md").read_text(encoding="utf-8")
    for kind, fmt in (("daily", "md"), ("weekly", "docx"), ("performance", "csv")):
        out = tmp_path / f"{kind}.{fmt}"
        run = _yuqing(home, "report", kind, "--format", fmt, "-o", str(out))
        assert run.returncode == 0, run.stderr
        assert out.stat().st_size > 0
    out = tmp_path / "handover.md"
    run = _yuqing(home, "handover", "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert "在办事件" in out.read_text(encoding="utf-8")


def test_verify_and_doctor_on_the_server(pg_demo):
    home, url, _ = pg_demo
    verify = _yuqing(home, "verify")
    assert verify.returncode == 0 and "校验通过" in verify.stdout, verify.stdout + verify.stderr
    doctor = _yuqing(home, "doctor", "--json")
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["database"]["status"] == "ok" and "PostgreSQL" in checks["database"]["detail"]
    assert url.rsplit("/", 1)[1] in checks["database"]["detail"]
    assert checks["schema"]["status"] == "ok" and checks["timeline"]["status"] == "ok"
    assert "integrity" not in checks and "wal" not in checks  # SQLite's file checks have no place here
    assert doctor.returncode == 0, doctor.stdout


def test_a_second_demo_on_the_same_database_is_refused(pg_demo, tmp_path):
    home, url, _ = pg_demo
    before = (_count(url, "items"), _count(url, "timeline_events"), _count(url, "staff"))
    run = subprocess.run([sys.executable, "-m", "yuqing", "--database", url, "demo", "--headless", "--for", "5"],
                         cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "已有值班台数据" in run.stderr and url in run.stderr, run.stderr
    assert (_count(url, "items"), _count(url, "timeline_events"), _count(url, "staff")) == before
    other = tmp_path / "other-home"
    run = _yuqing(other, "--database", url, "demo", "--headless", "--for", "5")
    assert run.returncode != 0 and "已有值班台数据" in run.stderr
    assert not other.exists()  # nothing written: not even the demo's home
