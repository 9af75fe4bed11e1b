"""One daemon per desk: a second `yuqing run` (or `yuqing demo`) on the same home is refused
naming the holder; the lock goes with the holder's process, even SIGKILLed; `yuqing doctor`
reports the holder and any second daemon."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from yuqing.cli import cli
from yuqing.desklock import holder


def _yuqing(home: Path, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "yuqing", "--home", str(home), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _wait_for_holder(db: Path, pid: int, proc: subprocess.Popen) -> dict:
    deadline = time.monotonic() + 120  # a generous bound: start-up on a slow, busy machine
    while time.monotonic() < deadline:
        held = holder(db)
        if held and held.get("pid") == pid:
            return held
        assert proc.poll() is None, f"the daemon exited: {proc.communicate()}"
        time.sleep(0.05)
    pytest.fail("the daemon never took the desk's lock")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


def _doctor(home: Path) -> dict:
    out = subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), "doctor", "--json"],
                         capture_output=True, text=True, timeout=120)
    return next(c for c in json.loads(out.stdout)["checks"] if c["name"] == "daemon")


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "desk"
    result = CliRunner().invoke(cli, ["--home", str(path), "init"])
    assert result.exit_code == 0, result.output
    return path


@pytest.mark.slow
def test_second_daemon_is_refused_and_doctor_names_the_holder(home):
    db = home / "desk.sqlite"
    assert _doctor(home)["detail"].startswith("not running")
    first = _yuqing(home, "run", "--role", "collect")
    try:
        held = _wait_for_holder(db, first.pid, first)
        assert held["host"] == socket.gethostname()
        second = subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), "run", "--for", "30"],
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 1
        assert f"PID {first.pid} on host {socket.gethostname()}" in second.stderr
        assert "already running" in second.stderr and "Traceback" not in second.stderr
        check = _doctor(home)
        assert check["status"] == "ok" and f"PID {first.pid}" in check["detail"], check
        assert first.poll() is None, "the probe of doctor must not disturb the daemon"

        # A daemon that got past the lock (its file deleted while the first ran) is reported.
        (home / "desk.lock").unlink()
        other = _yuqing(home, "run", "--intake-only")
        try:
            _wait_for_holder(db, other.pid, other)
            check = _doctor(home)
            assert check["status"] == "fail" and "second daemon" in check["detail"], check
            assert str(first.pid) in check["detail"] and str(other.pid) in check["detail"]
        finally:
            _stop(other)
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=60)
    # SIGKILL released the lock: the desk starts again at once.
    again = subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), "run", "--for", "1",
                            "--intake-only"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr


@pytest.mark.slow
def test_second_demo_on_one_home_is_refused(tmp_path):
    home = tmp_path / "demo"
    first = _yuqing(home, "demo", "--headless", "--for", "300", env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        _wait_for_holder(home / "desk.sqlite", first.pid, first)
        second = subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), "demo", "--headless",
                                 "--for", "5"], capture_output=True, text=True, timeout=120)
        assert second.returncode == 1 and f"PID {first.pid}" in second.stderr, second.stderr
    finally:
        _stop(first)
