"""Benchmark: 1,000 feeds on loopback, 60 s interval, collected by `yuqing run`.

Runs the feed server (bench/loopback_feeds.py) and the daemon as separate processes and
reports for the daemon: time of the first full cycle (every source fetched, parsed, stored),
items/s into the store during it, CPU share over the following steady-state minutes (mostly
304s and a few changed feeds), and peak RSS. Goal: a 1,000-source cycle under 25 % of one
core and under 300 MB.

    python -m bench.bench_collect [-n 1000] [--interval 60] [--steady 120] [--database URL]

With ``--database URL`` (an empty PostgreSQL database; one holding a desk or anything else is
refused, and what the run creates is dropped at the end) the daemon stores into that server, and
the steady state also reports the CPU of the server backends serving it and the CPU per check.
"""
from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path[:1]:  # run as a script: this checkout's packages first
    sys.path.insert(0, str(HERE.parent))
CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK  # utime + stime


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--interval", type=int, default=60)
    ap.add_argument("--steady", type=float, default=120, help="seconds of steady state to measure")
    ap.add_argument("--warmup", type=float, default=0, help="seconds to wait after the first cycle")
    ap.add_argument("--pipeline", action="store_true",
                    help="run the whole pipeline too (default: intake only, `yuqing run --intake-only`)")
    ap.add_argument("--database", default="", metavar="URL", help="store into this empty PostgreSQL database")
    args = ap.parse_args()
    bench_db = None
    if args.database:
        from bench.pgdesk import BenchDatabaseError, claim

        try:
            bench_db = claim(args.database)
        except BenchDatabaseError as exc:
            ap.exit(1, f"{exc}\n")
    try:
        return _run(args, bench_db)
    finally:
        if bench_db is not None:
            bench_db.fresh()


def _count(target, sql: str, params=()) -> int:
    from storage.db import connect

    db = connect(target, readonly=True)
    try:
        return db.execute(sql, list(params)).fetchone()[0]
    finally:
        db.conn.close()


def _run(args, bench_db) -> int:
    from bench.pgdesk import ServerCpu

    target = bench_db.url if bench_db is not None else None
    tmp = Path(tempfile.mkdtemp(prefix="yuqing-bench-"))
    home = tmp / "home"
    home.mkdir()
    server = subprocess.Popen(
        [sys.executable, str(HERE / "loopback_feeds.py"), "-n", str(args.n), "--period", "600",
         "--sources-toml", str(home / "sources.toml"), "--interval", str(args.interval)],
        stdout=subprocess.PIPE, text=True)
    base = server.stdout.readline().strip()
    while not (home / "sources.toml").exists():
        time.sleep(0.1)
    (home / "desk.toml").write_text(
        '[desk]\ndistrict_code = "610702"\ndistrict_name = "汉台区"\ntimezone = "Asia/Shanghai"\n'
        "[fetch]\nper_host_concurrency = 50\nper_host_spacing = 0.001\ntotal_concurrency = 100\n",
        encoding="utf-8")
    t0 = time.monotonic()
    where = ["--database", target] if target else []
    cmd = [sys.executable, "-m", "yuqing", "--home", str(home), *where, "run"] + \
        ([] if args.pipeline else ["--intake-only"])
    daemon = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=dict(os.environ, PYTHONPATH=str(HERE.parent)))
    target = target or home / "desk.sqlite"
    watch = None
    try:
        cycle = None
        while time.monotonic() - t0 < 600:
            time.sleep(0.25)
            if bench_db is None and not Path(target).exists():
                continue
            try:
                checked = _count(target, "SELECT count(*) FROM sources WHERE last_check_at IS NOT NULL")
            except sqlite3.Error:  # not created yet (either backend)
                continue
            if checked >= args.n:
                cycle = time.monotonic() - t0
                break
        items = _count(target, "SELECT count(*) FROM items")
        cpu_first = cpu_seconds(daemon.pid)
        print(f"first full cycle: {cycle:.1f} s for {args.n} sources (incl. process start), "
              f"{items} items stored, {items / cycle:.0f} items/s, CPU {cpu_first:.1f} s")
        time.sleep(args.warmup)
        if bench_db is not None:
            watch = ServerCpu(bench_db.url)
        s0 = watch.reading() if watch else {}
        c0, w0 = cpu_seconds(daemon.pid), time.monotonic()
        time.sleep(args.steady)
        c1, w1 = cpu_seconds(daemon.pid), time.monotonic()
        server_cpu = watch.spent(s0, watch.reading()) if watch else None
        items2 = _count(target, "SELECT count(*) FROM items")
        from datetime import datetime, timedelta, timezone
        since = (datetime.now(timezone.utc) - timedelta(seconds=args.steady)).isoformat(timespec="microseconds")
        checks = _count(target, "SELECT count(*) FROM sources WHERE last_check_at >= ?", [since])
        share = (c1 - c0) / (w1 - w0) * 100
        srv = "" if server_cpu is None else f" + server backends {server_cpu / (w1 - w0) * 100:.1f} %"
        print(f"steady state over {w1 - w0:.0f} s at {args.interval} s interval: CPU {share:.1f} % of one core{srv}, "
              f"{items2 - items} new items, peak RSS {peak_rss_mb(daemon.pid):.0f} MB")
        per = "" if not checks else f"; CPU per check {(c1 - c0) / checks * 1000:.2f} ms" + (
            "" if server_cpu is None else f" + server {server_cpu / checks * 1000:.2f} ms")
        print(f"sources checked in the last {int(args.steady)} s: {checks}{per}")
    finally:
        if watch is not None:
            watch.close()
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
