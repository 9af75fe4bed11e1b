"""Run inside a private mount namespace (`unshare -rm`) by test_disk_full.py: the desk on a small
tmpfs that a filler file makes full, then frees. Prints one JSON line of what happened.

argv: source home, mount point, stderr file, seconds full
"""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

src, mnt, err_path, full_seconds = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4])
BOUND = 300  # seconds: a generous bound for each awaited condition


def wait_for(what, condition):
    deadline = time.monotonic() + BOUND
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def count(db: Path, sql: str) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(sql).fetchone()[0] or 0
        finally:
            con.close()
    except sqlite3.Error:
        return -1


mnt.mkdir(parents=True, exist_ok=True)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mnt)], check=True)
home = mnt / "home"
shutil.copytree(src, home)
db = home / "desk.sqlite"
items = "SELECT count(*) FROM items"
watermark = "SELECT max(last_item_id) FROM pipeline_state"
with open(err_path, "w") as err:
    proc = subprocess.Popen([sys.executable, "-m", "yuqing", "--home", str(home), "run"],
                            stdout=subprocess.DEVNULL, stderr=err)
try:
    wait_for("the first items understood", lambda: count(db, items) > 0 and count(db, watermark) > 0)
    filler = mnt / "filler"
    with open(filler, "wb") as f:  # fill the file system to the last block
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
        try:
            os.fsync(f.fileno())
        except OSError:
            pass
    full_from = time.monotonic()
    time.sleep(full_seconds)  # an observation window: a slower machine only fetches less in it
    full_until = time.monotonic()
    stored_while_full = count(db, items)
    filler.unlink()
    wait_for("intake to store again", lambda: count(db, items) > stored_while_full)
    wait_for("the pipeline to catch up", lambda: count(db, watermark) >= count(db, "SELECT max(id) FROM items"))
finally:
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(60)
con = sqlite3.connect(db)
integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
con.close()
log = (home / "logs" / "desk.log").read_text("utf-8", errors="replace")
print(json.dumps({"full_from": full_from, "full_until": full_until, "rc": rc, "integrity": integrity,
                  "log": log}))
