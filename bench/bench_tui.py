"""Duty-console speed on a big desk (run by hand, not a test).

    python -m bench.bench_tui [INCIDENTS] [ITEMS] [--db FILE]   # defaults: 5000 incidents, 1,000,000 items

``--db FILE`` keeps the built desk in FILE and reuses it on later runs (same sizes), so
only the first run pays for building it.

Builds a desk in a temp folder (incidents through IncidentService; items, analysis and the
search index inserted in bulk), then times, headless at 120x40: console open (app start ->
board shown), key -> update for the keys staff press (cursor move, open an incident, back,
page switches, a form), the per-second countdown tick, the facade's poll and search.

"key -> X" is measured from posting the key event (as the terminal driver does) to the first
frame the compositor produces in which X is visible (e.g. the incident screen *with* its
detail). Pilot's press() is not used for timing: it sleeps >= 40 ms waiting for idle.
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


class FrameClock:
    """Key -> first frame: posts a key event as the terminal driver would and waits for the first frame
    the compositor produces (``App._display``, called headless too; only the terminal write is skipped)
    for which ``shows()`` holds. Bench-only instrumentation of a private hook."""

    def __init__(self, app) -> None:
        self.app = app
        self.frames: list[tuple[float, bool]] = []
        self.shows = lambda: False
        self.last_key_at = 0.0
        self.cpu: dict[str, list[float]] = {}  # key -> UI-thread CPU ms from the key to the frame
        original = app._display

        def display(screen, renderable):
            if renderable is not None:
                self.frames.append((time.perf_counter(), bool(self.shows()), time.thread_time()))
            return original(screen, renderable)

        app._display = display

    async def quiet(self, seconds: float = 0.15) -> None:
        """Wait until no frame was produced for ``seconds`` and no worker runs."""
        while True:
            await asyncio.sleep(seconds)
            busy = any(w.is_running for w in self.app.workers)
            if not busy and (not self.frames or time.perf_counter() - self.frames[-1][0] >= seconds):
                return

    async def key(self, key: str, shows, timeout: float = 30.0, settle: bool = True) -> float:
        """ms from the key to the first frame where ``shows()``; ``settle`` first waits for a quiet console."""
        from textual import events

        if settle:
            await self.quiet()
        self.shows = shows
        n = len(self.frames)
        cpu0 = time.thread_time()  # the UI thread's CPU time: steadier than wall time on a busy machine
        t0 = self.last_key_at = time.perf_counter()
        self.app._driver.send_message(events.Key(key, key if len(key) == 1 else None))
        while True:
            for at, ok, cpu in self.frames[n:]:
                if ok:
                    self.shows = lambda: False
                    self.cpu.setdefault(key, []).append((cpu - cpu0) * 1000)
                    return (at - t0) * 1000
            n = len(self.frames)
            if time.perf_counter() - t0 > timeout:
                raise TimeoutError(key)
            await asyncio.sleep(0.0005)


def med(values) -> str:
    return f"median {statistics.median(values):.1f} ms (max {max(values):.1f}, n={len(values)})"


async def measure(path: Path, clock) -> None:
    from tui.app import DeskApp
    from tui.screens.incident import IncidentScreen
    from tui.screens.items import ItemsScreen

    async def until(cond, timeout=30.0):
        end = time.perf_counter() + timeout
        while not cond():
            if time.perf_counter() > end:
                raise TimeoutError
            await asyncio.sleep(0.001)

    t = time.perf_counter()
    app = DeskApp(path, clock=clock, poll_seconds=3600)  # no background polls during the timings
    async with app.run_test(size=(120, 40)):
        await until(lambda: app.snapshot is not None and app.screen.query_one("#board").rows_data)
        print(f"console open (start -> board shown): {(time.perf_counter() - t) * 1000:.0f} ms")
        fc = FrameClock(app)
        board = app.screen.query_one("#board")
        worst: dict[str, float] = {}

        def note(name, values):
            worst[name] = statistics.median(values)
            return med(values)

        moves = []
        for _ in range(20):
            row = board.cursor_row
            moves.append(await fc.key("down", lambda: board.cursor_row == row + 1))
        print(f"key -> cursor moved (key event -> first frame showing it): {note('down', moves)}")
        ticks, frames = [], []
        for _ in range(10):
            await fc.quiet()
            n = len(fc.frames)
            fc.shows = lambda: True
            t = time.perf_counter()
            app.screen.tick()
            ticks.append((time.perf_counter() - t) * 1000)
            await until(lambda: len(fc.frames) > n)
            frames.append((fc.frames[n][0] - t) * 1000)
            fc.shows = lambda: False
        print(f"countdown tick (visible rows): median {statistics.median(ticks):.2f} ms;"
              f" tick -> frame painted: {med(frames)}")

        def incident_shown(iid):
            return lambda: (isinstance(app.screen, IncidentScreen) and app.screen.detail is not None
                            and app.screen.detail.incident.id == iid)

        def incident_frame(iid):
            return lambda: isinstance(app.screen, IncidentScreen) and app.screen.incident_id == iid

        first_open = None
        opens, backs, cold, cold_first = [], [], [], []
        for k in range(12):
            iid = board.selected_id()
            seen_first: list[float] = []

            def shows(iid=iid):
                if not seen_first and incident_frame(iid)():
                    seen_first.append(time.perf_counter())
                return incident_shown(iid)()
            # even k: the cursor rested on the row (quiet() waits >= 0.15 s: the read-ahead is done);
            # odd k: Enter right after the move's frame (the read-ahead the move started may still run:
            # the first frame may show the board row's facts, the detail follows)
            ms = await fc.key("enter", shows, settle=k % 2 == 0)
            first_ms = (seen_first[0] - fc.last_key_at) * 1000 if seen_first else ms
            if k == 0:
                first_open = ms
            elif k % 2 == 0:
                opens.append(ms)
            else:
                cold.append(ms)
                cold_first.append(first_ms)
            backs.append(await fc.key("escape", lambda: app.screen is board.screen))
            row = board.cursor_row
            await fc.key("down", lambda row=row: board.cursor_row == row + 1)
        print(f"key -> incident screen with data (first open, screen composed): {first_open:.0f} ms")
        print(f"key -> incident screen with data (cursor rested on the row, read ahead): {note('enter', opens)}")
        print(f"key -> incident screen, first frame (Enter at once after a move): {note('enter-first', cold_first)}")
        print(f"key -> incident screen with data (Enter at once after a move): {note('enter-cold', cold)}")
        print(f"key -> back to the board (Esc): {note('escape', backs)}")
        ms = await fc.key("2", lambda: isinstance(app.screen, ItemsScreen) and bool(app.screen.rows))
        print(f"key -> items screen with 200 newest items (first visit): {ms:.0f} ms")
        again = []
        for _ in range(5):
            await fc.key("1", lambda: app.screen is board.screen)
            again.append(await fc.key("2", lambda: isinstance(app.screen, ItemsScreen)))
        print(f"key -> items screen (later visits): {note('2', again)}")
        for key, name in (("3", "sources"), ("4", "schemes"), ("5", "reports")):
            ms = await fc.key(key, lambda name=name: type(app.screen).__name__.lower().startswith(name))
            print(f"key -> {name} screen (first visit): {ms:.0f} ms")
        await fc.key("1", lambda: app.screen is board.screen)
        forms = []
        from tui.screens.forms import FormScreen
        for _ in range(5):
            await fc.key("enter", incident_shown(board.selected_id()))
            forms.append(await fc.key("n", lambda: isinstance(app.screen, FormScreen)))
            await fc.key("escape", lambda: isinstance(app.screen, IncidentScreen))
            await fc.key("escape", lambda: app.screen is board.screen)
        print(f"key -> note form shown (incident screen, n): {note('form', forms)}")
        name, value = max(worst.items(), key=lambda kv: kv[1])
        print(f"key -> update, slowest repeated key ({name}): median {value:.1f} ms")
        print("UI-thread CPU from key to that frame, median ms: " + ", ".join(
            f"{k} {statistics.median(v):.1f}" for k, v in fc.cpu.items()))
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
    args = sys.argv[1:]
    keep = None
    if "--db" in args:
        i = args.index("--db")
        keep = Path(args[i + 1])
        del args[i:i + 2]
    n_inc = int(args[0]) if len(args) > 0 else 5000
    n_items = int(args[1]) if len(args) > 1 else 1_000_000
    now = T0 + timedelta(hours=2)
    clock = lambda: now  # noqa: E731
    if keep is not None:
        marker = keep.with_name(keep.name + ".built")
        if marker.is_file() and marker.read_text() == f"{n_inc} {n_items}" and keep.is_file():
            print(f"reusing {keep} ({n_inc} incidents, {n_items} items)")
        else:
            for old in (keep, keep.with_name(keep.name + "-wal"), keep.with_name(keep.name + "-shm"), marker):
                old.unlink(missing_ok=True)
            keep.parent.mkdir(parents=True, exist_ok=True)
            build(keep, n_inc, n_items, clock)
            marker.write_text(f"{n_inc} {n_items}")
        asyncio.run(measure(keep, clock))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "desk.sqlite"
        build(path, n_inc, n_items, clock)
        asyncio.run(measure(path, clock))


if __name__ == "__main__":
    main()
