"""Duty-console speed on a big desk (run by hand, not a test).

    python bench/bench_tui.py [INCIDENTS] [ITEMS]      # defaults: 5000 incidents, 1,000,000 items

Builds a desk in a temp folder (incidents through IncidentService; items, analysis and the
search index inserted in bulk), then times, headless at 120x40: console open (app start ->
board shown), key -> screen update (cursor move, open an incident, switch to the items
screen), the per-second countdown tick, the facade's poll (snapshot) and search.
Goals (issue 6): open < 1.5 s, key -> update < 50 ms, search < 100 ms.
"""
from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.store import sync_sources  # noqa: E402
from monitor.types import SourceSpec  # noqa: E402
from responders.candidates import candidate_from_mapping  # noqa: E402
from responders.incidents import IncidentService  # noqa: E402
from storage.db import transaction  # noqa: E402
from storage.timeutil import to_db  # noqa: E402

UTC = timezone.utc
T0 = datetime(2026, 6, 14, tzinfo=UTC)
WORDS = "汉台 铺镇 武乡镇 化工厂 异味 投诉 道路 积水 学校 食堂 医院 排队 拆迁 补偿 停水 停电 物业 噪音 堵车 暴雨".split()


def build(path: Path, n_incidents: int, n_items: int, clock) -> None:
    from tui.facade import DeskFacade

    f = DeskFacade(path, clock=clock)  # creates the schema
    db = f.db
    sync_sources(db, [SourceSpec(id=f"s{i}", name=f"信源{i}", url=f"http://127.0.0.1:9/{i}") for i in range(50)],
                 clock())
    t = time.perf_counter()
    batch = 20000
    for start in range(0, n_items, batch):
        rows, ana, fts = [], [], []
        for i in range(start + 1, min(n_items, start + batch) + 1):
            words = [WORDS[(i * k) % len(WORDS)] for k in (1, 3, 7, 11)]
            title = "".join(words[:3]) + f"{i}"
            at = to_db(clock() - timedelta(seconds=(n_items - i) * 2))
            rows.append((i, f"s{i % 50}", f"g{i}", None, None, title, " ".join(words), None, at, at, "{}", f"h{i}"))
            ana.append((i, WORDS[i % 5], 0.9, "负面" if i % 3 else "中性", -0.5, "一般", "[]",
                        json.dumps([{"name": "铺镇", "level": "town"}] if i % 7 == 0 else [], ensure_ascii=False),
                        "[]", "[]", "[]", "[]", 1, int(i % 50 == 0), None, None, 0, 1.0, at))
            fts.append((i, " ".join(words[:3]), " ".join(words)))
        with transaction(db) as conn:
            conn.executemany("INSERT INTO items (id, source_id, guid, url, canonical_url, title, text, author,"
                             " published, fetched_at, metrics, content_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            conn.executemany("INSERT INTO item_analysis VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", ana)
            conn.executemany("INSERT INTO items_fts (rowid, title, text) VALUES (?, ?, ?)", fts)
    print(f"built {n_items} items in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    svc = IncidentService(db, clock=clock)
    for k in range(n_incidents):
        fp = T0 - timedelta(hours=(k % 40))
        svc.open_or_join(candidate_from_mapping({
            "story_id": f"st{k}", "title": f"事件{k} {WORDS[k % len(WORDS)]}{WORDS[(k * 7) % len(WORDS)]}",
            "first_published": fp.isoformat(), "detected_at": (fp + timedelta(minutes=30)).isoformat(),
            "places": [{"code": f"61070210{k % 9}", "name": f"镇{k}", "level": "town"}],
            "responsible_units": [f"单位{k % 30}"], "topic": f"主题{k}", "severity": "一般",
            "item_ids": [k + 1], "evidence": [], "trigger": "bench"}))
    print(f"opened {n_incidents} incidents in {time.perf_counter() - t:.1f}s")
    f.close()


async def measure(path: Path, clock) -> None:
    from tui.app import DeskApp
    from tui.screens.incident import IncidentScreen

    async def until(pilot, cond, timeout=30.0):
        end = time.perf_counter() + timeout
        while not cond():
            if time.perf_counter() > end:
                raise TimeoutError
            await asyncio.sleep(0.001)

    t = time.perf_counter()
    app = DeskApp(path, clock=clock, poll_seconds=3600)  # no background polls during the timings
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.screen.query_one("#board").rows_data)
        print(f"console open (start -> board shown): {(time.perf_counter() - t) * 1000:.0f} ms")
        board = app.screen.query_one("#board")
        idle = []
        for _ in range(20):  # Pilot's own cost for a key nobody handles: subtract it from the timings below
            t = time.perf_counter()
            await pilot.press("z")
            idle.append(time.perf_counter() - t)
        print(f"pilot.press of an unbound key (harness overhead): median {statistics.median(idle) * 1000:.1f} ms")
        moves = []
        for _ in range(20):
            row = board.cursor_row
            t = time.perf_counter()
            await pilot.press("down")
            await until(pilot, lambda: board.cursor_row == row + 1)
            moves.append(time.perf_counter() - t)
        print(f"key -> cursor moved (pilot.press incl. its idle wait): median {statistics.median(moves) * 1000:.1f} ms")
        ticks = []
        for _ in range(20):
            t = time.perf_counter()
            app.screen.tick()
            ticks.append(time.perf_counter() - t)
        print(f"countdown tick (visible rows): median {statistics.median(ticks) * 1000:.2f} ms")
        opens = []
        for _ in range(5):
            t = time.perf_counter()
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.detail is not None)
            opens.append(time.perf_counter() - t)
            await pilot.press("escape")
            await pilot.pause()
        print(f"key -> incident screen with data: median {statistics.median(opens) * 1000:.0f} ms")
        t = time.perf_counter()
        await pilot.press("2")
        await until(pilot, lambda: getattr(app.screen, "rows", None))
        print(f"key -> items screen with 200 newest items: {(time.perf_counter() - t) * 1000:.0f} ms")
    from tui.facade import DeskFacade
    from tui.types import ItemFilter

    f = DeskFacade(path, clock=clock)
    polls = []
    for _ in range(5):
        t = time.perf_counter()
        f.snapshot()
        polls.append(time.perf_counter() - t)
    print(f"poll (facade.snapshot, worker thread): median {statistics.median(polls) * 1000:.0f} ms")
    f.items(ItemFilter(query="化工厂"))  # load the segmenter once
    for q in ("化工厂", "铺镇 积水", "食堂"):
        t = time.perf_counter()
        n = len(f.items(ItemFilter(query=q)))
        print(f"search {q!r}: {n} rows in {(time.perf_counter() - t) * 1000:.0f} ms")


def main() -> None:
    n_inc = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    n_items = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    now = T0 + timedelta(hours=2)
    clock = lambda: now  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "desk.sqlite"
        build(path, n_inc, n_items, clock)
        asyncio.run(measure(path, clock))


if __name__ == "__main__":
    main()
