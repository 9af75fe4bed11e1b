"""How soon a console shows a change another process commits (run by hand, not a test).

    python bench/bench_console_notify.py postgresql://user@host:port/EMPTY_DB [N]   # default N = 20

Builds a small desk (3 incidents) in a temp SQLite file and in the given empty PostgreSQL
database, opens a headless console on each, then N times: another connection adds a note to an
incident (as the daemon or a colleague's console would) and the time from that commit to the
console's next snapshot is taken. SQLite consoles see it at their next poll (every 1.5 s);
PostgreSQL consoles are woken by the server's notification (storage/pgnotify.py) and their poll
is set to an hour here, so nothing else can explain the refresh. The 1 s coalescing of close
notifications is switched off to measure the path itself; commits are 1-2.5 s apart anyway, at
random phases of the SQLite console's poll.
"""
from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from responders.candidates import candidate_from_mapping  # noqa: E402
from responders.incidents import IncidentService  # noqa: E402

T0 = datetime(2026, 6, 14, tzinfo=timezone.utc)


def clock() -> datetime:
    return T0 + timedelta(hours=1)


def build(target) -> None:
    from pipeline.schema import all_migrations
    from storage.db import open_db

    db = open_db(target, all_migrations())
    svc = IncidentService(db, clock=clock)
    for k in range(3):
        svc.open_or_join(candidate_from_mapping({
            "story_id": f"st{k}", "title": f"事件{k}", "first_published": T0.isoformat(),
            "detected_at": (T0 + timedelta(minutes=30)).isoformat(),
            "places": [{"code": f"61070210{k}", "name": f"镇{k}", "level": "town"}],
            "responsible_units": ["区住建局"], "topic": "城建", "severity": "一般",
            "item_ids": [], "evidence": [], "trigger": "bench"}))
    db.conn.close()


async def measure(target, home: Path, n: int, poll: float) -> list[float]:
    from pipeline.schema import all_migrations
    from storage.db import open_db
    from tui.app import DeskApp

    app = DeskApp(target, clock=clock, poll_seconds=poll, home=home)
    app.CHANGE_MIN_SECONDS = 0.0
    writer = IncidentService(open_db(target, all_migrations()), clock=clock)
    out = []
    pause = random.Random(7)  # commits at random phases of the SQLite console's poll
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 60
        while (app.snapshot is None or (app.on_server and not app.listening)) and time.monotonic() < deadline:
            await pilot.pause(0.05)
        for k in range(n):
            await asyncio.sleep(pause.uniform(1.0, 2.5))
            before = app.snapshot
            writer.note(1, f"备注{k}", actor="bench")
            committed = time.perf_counter()
            while app.snapshot is before and time.perf_counter() - committed < 30:
                await asyncio.sleep(0.002)
            out.append(time.perf_counter() - committed)
    writer.db.conn.close()
    return out


def main() -> None:
    url = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    tmp = Path(tempfile.mkdtemp())
    for name, target, poll in (("sqlite (poll 1.5 s)", tmp / "desk.sqlite", 1.5),
                               ("postgresql (LISTEN/NOTIFY)", url, 3600.0)):
        build(target)
        got = asyncio.run(measure(target, tmp, n, poll))
        got.sort()
        print(f"{name}: commit -> console snapshot median {statistics.median(got) * 1000:.0f} ms, "
              f"p90 {got[int(len(got) * 0.9) - 1] * 1000:.0f} ms, max {got[-1] * 1000:.0f} ms (n={len(got)})")


if __name__ == "__main__":
    main()
