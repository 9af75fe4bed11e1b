"""Throughput per role of the desk, on SQLite and on PostgreSQL side by side; and the scale-out of
understanding workers.

Roles, as `yuqing run --role` splits them across processes and machines:
- intake: storing fetched items (``monitor.store.store_fetch``, one transaction per feed of 50,
  as the collector stores them);
- understanding: classification (``Classifier.classify_many``), pure CPU, no database;
- the stateful stage: stories, incidents, releases and the batch write (the pipeline's step less
  its classification); one process per desk holds it;
- the whole pipeline: intake plus a pipeline step over the same items.

"Per core" divides items by the CPU seconds of the benchmark's process plus those of the
PostgreSQL backends serving it (:class:`bench.pgdesk.ServerCpu`), so a server doing half the work
is not hidden. Run by :mod:`bench.suite` (``--only roles,scaleout``); the understanding worker
also runs as ``python -m bench.roles worker ...`` (the scale-out measure starts it).
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:  # run as a script
    sys.path.insert(0, str(REPO))

FEED = 50  # items per stored fetch, as a busy feed brings them


@dataclass
class Spent:
    """What one phase cost: items, wall seconds, CPU seconds of our process and of the server."""

    items: int
    wall: float
    ours: float
    server: float | None  # None: SQLite (no server) or a server whose processes are not visible
    wal: int | None = None  # bytes of write-ahead log the server wrote meanwhile (PostgreSQL)
    statements: int | None = None  # statements sent to the server meanwhile: its round trips (PostgreSQL)

    @property
    def cpu(self) -> float:
        return self.ours + (self.server or 0.0)

    def per_core(self) -> float:
        return self.items / self.cpu if self.cpu > 0 else float("inf")

    def per_wall(self) -> float:
        return self.items / self.wall if self.wall > 0 else float("inf")

    def split(self) -> str:
        srv = "" if self.server is None else f" + server {self.server:.2f}"
        wal = "" if self.wal is None else f"; WAL {self.wal / self.items:,.0f} bytes/item"
        trips = "" if self.statements is None else f"; {self.statements / self.items:.1f} statements/item"
        return (f"CPU ours {self.ours:.2f}{srv} s, wall {self.wall:.2f} s ({self.per_wall():,.0f} items/s wall)"
                f"{wal}{trips}")

    def __add__(self, other: "Spent") -> "Spent":
        server = None if self.server is None and other.server is None else (self.server or 0) + (other.server or 0)
        wal = None if self.wal is None and other.wal is None else (self.wal or 0) + (other.wal or 0)
        trips = (None if self.statements is None and other.statements is None
                 else (self.statements or 0) + (other.statements or 0))
        return Spent(self.items, self.wall + other.wall, self.ours + other.ours, server, wal, trips)


class _Meter:
    """Reads our CPU, the wall clock and (on a visible server) the server's CPU around a phase."""

    def __init__(self, target, conn=None):
        """``conn``: the PostgreSQL connection whose statements are counted (each is a round trip)."""
        from storage.dburl import is_server

        self.server = None
        self.sent = 0
        self.conn = conn if getattr(conn, "dialect", None) == "postgresql" else None
        if self.conn is not None:  # instrumented, not replaced: every statement still goes to the server
            execute, executemany = self.conn.execute, self.conn.executemany

            def counted(*args, **kwargs):
                self.sent += 1
                return execute(*args, **kwargs)

            def counted_many(*args, **kwargs):
                self.sent += 1
                return executemany(*args, **kwargs)

            self.conn.execute, self.conn.executemany = counted, counted_many
        if is_server(target):
            from bench.pgdesk import ServerCpu

            self.server = ServerCpu(str(target))
            if not self.server.visible:
                self.server.close()
                self.server = None

    def __enter__(self):
        self.s0 = self.server.reading() if self.server else {}
        self.wal0 = self.server.wal_bytes() if self.server else None
        self.c0, self.w0 = time.process_time(), time.monotonic()
        self.sent0 = self.sent
        return self

    def stop(self, items: int) -> Spent:
        wall, ours = time.monotonic() - self.w0, time.process_time() - self.c0
        server = self.server.spent(self.s0, self.server.reading()) if self.server else None
        wal1 = self.server.wal_bytes() if self.server else None
        wal = wal1 - self.wal0 if wal1 is not None and self.wal0 is not None else None
        return Spent(items, wall, ours, server, wal, self.sent - self.sent0 if self.conn is not None else None)

    def __exit__(self, *exc):
        return False

    def close(self) -> None:
        if self.conn is not None:
            del self.conn.execute, self.conn.executemany
            self.conn = None
        if self.server:
            self.server.close()


def backend_name(target) -> str:
    from storage.dburl import is_server

    return "PostgreSQL" if is_server(target) else "SQLite"


def _specs(n: int):
    from monitor.types import SourceSpec

    # Like loopback_feeds: every third source is local (district context).
    return [SourceSpec(id=f"bench-{j}", name=f"基准来源{j}", url=f"http://127.0.0.1:9/feed/{j}", local=j % 3 == 0)
            for j in range(max(1, n // FEED))]


def _parsed(texts: list[tuple[str, str]], tag: str = ""):
    """Feed items of the texts; ``tag`` makes their guids and links new (another round)."""
    from bench.suite import NOW
    from monitor.types import ParsedItem

    rng = random.Random(3)
    return [ParsedItem(guid=f"{tag}b{i}", title=t, link=f"https://news.example/{tag}{i}", text=b,
                       published=NOW - timedelta(seconds=rng.randrange(0, 48 * 3600)))
            for i, (t, b) in enumerate(texts)]


def store_items(target, texts: list[tuple[str, str]]) -> Spent:
    """Intake: a fresh desk at ``target`` stores ``texts`` in feeds of 50; what it cost."""
    from bench.suite import NOW
    from monitor import store
    from pipeline.schema import all_migrations
    from storage.db import open_db

    db = open_db(target, all_migrations())
    specs = _specs(len(texts))
    store.sync_sources(db, specs, NOW)
    items = _parsed(texts)
    meter = _Meter(target, db.conn)
    try:
        with meter:
            for k in range(0, len(items), FEED):
                store.store_fetch(db, specs[(k // FEED) % len(specs)], items[k:k + FEED], now=NOW, next_check=NOW,
                                  etag=None, last_modified=None, body_digest=None)
            spent = meter.stop(len(items))
    finally:
        meter.close()
        db.conn.close()
    return spent


def run_pipeline(target, home_path: Path) -> tuple[Spent, Spent, float]:
    """The pipeline over every stored item at ``target``: (understanding, stateful stage, model
    load seconds). Classification is timed inside the steps; the stage is the rest of the step,
    and the server's CPU (classification reads and writes nothing) is the stage's."""
    from bench.suite import NOW
    from yuqing.pipeline import desk_pipeline

    t0 = time.monotonic()
    pipe = desk_pipeline(target, home_path, clock=lambda: NOW)  # loads the classifier
    pipe.open()
    load_s = time.monotonic() - t0
    classifier = pipe.classifier
    original = classifier.classify_many
    spent = {"cpu": 0.0, "wall": 0.0}

    def timed(items):
        c0, w0 = time.process_time(), time.monotonic()
        try:
            return original(items)
        finally:
            spent["cpu"] += time.process_time() - c0
            spent["wall"] += time.monotonic() - w0

    classifier.classify_many = timed  # instrumented, not replaced: the real classifier runs
    meter = _Meter(target, pipe.db.conn)
    done = 0
    try:
        with meter:
            while True:
                pipe.step()
                if not pipe.last_batch:
                    break
                done += pipe.last_batch
            whole = meter.stop(done)
    finally:
        del classifier.classify_many
        meter.close()
        pipe.close()
    understand = Spent(done, spent["wall"], spent["cpu"], None)
    stage = Spent(done, whole.wall - spent["wall"], whole.ours - spent["cpu"], whole.server, whole.wal,
                  whole.statements)
    return understand, stage, load_s


def sqlite_bytes(path: Path) -> int:
    """The SQLite desk's size on disk: the file and what is left in its WAL."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def desk_bytes(target, sqlite_path: Path) -> dict[str, int]:
    """Bytes on disk of the desk at ``target`` (migrated first): per table on PostgreSQL, the
    file and its WAL on SQLite."""
    from bench.pgdesk import table_bytes
    from pipeline.schema import all_migrations
    from storage.db import open_db
    from storage.dburl import is_server

    open_db(target, all_migrations()).conn.close()
    if is_server(target):
        return table_bytes(str(target))
    return {"file": sqlite_bytes(sqlite_path)}


def measure_roles(n: int, bench_db=None, district_share: float = 0.1, key: str = "roles"):
    """Per-role items/s per core on SQLite (a temp home) and, with ``bench_db``
    (:class:`bench.pgdesk.BenchDatabase`), on PostgreSQL, on the same generated items. A role that
    fails on one backend is reported as failed there; the others are still measured."""
    from bench.suite import Measure, make_stream
    from yuqing.config import init_home
    from yuqing.home import DeskHome

    texts = make_stream(n, district_share)
    tmp = Path(tempfile.mkdtemp(prefix="yuqing-bench-roles-"))
    home = DeskHome(tmp / "home")
    init_home(home, sources_text="")
    targets = [home.db_path] + ([bench_db.url] if bench_db is not None else [])
    mix = f"{district_share:.0%} district items"
    rows: dict[str, dict[str, Spent | str]] = {}  # backend -> role -> what it cost, or why it failed
    sizes: dict[str, tuple[float, str]] = {}
    for target in targets:
        name = backend_name(target)
        row = rows[name] = {}
        if bench_db is not None and target == bench_db.url:
            bench_db.fresh()
        try:
            empty = desk_bytes(target, home.db_path)  # an empty desk's tables and indexes, taken off below
            row["intake"] = store_items(target, texts)
            understand, stage, load_s = run_pipeline(target, home.path)
        except Exception as exc:  # measure what works on this backend; say what does not
            why = f"failed: {exc.__class__.__name__}: {exc}"[:240]
            for role in ("intake", "understand", "stage", "whole"):
                row.setdefault(role, why)
            continue
        row.update(understand=understand, stage=stage, whole=row["intake"] + understand + stage)
        total = desk_bytes(target, home.db_path)
        growth = sorted(((b - empty.get(t, 0), t) for t, b in total.items()), reverse=True)
        grown = sum(b for b, _ in growth)
        top = ", ".join(f"{t} {b / n:,.0f}" for b, t in growth[:6])
        how = ("file + WAL" if name == "SQLite" else "pg_total_relation_size of every table") + \
            f", less an empty desk's, / {n} items"
        sizes[name] = (grown / n, f"{how}; largest: {top}; model load {load_s:.1f} s" if name != "SQLite"
                       else f"{how}; model load {load_s:.1f} s")
    out = []
    labels = {"intake": f"intake: store items (monitor.store, feeds of {FEED})",
              "understand": "understanding: classify (CPU only)",
              "stage": "stateful stage: stories+incidents+releases+batch write",
              "whole": f"whole pipeline: store+classify+stage, {mix}"}
    for role, label in labels.items():
        for name, row in rows.items():
            mkey = f"{key}_{role}_{'pg' if name == 'PostgreSQL' else 'sqlite'}"
            spent = row[role]
            if isinstance(spent, str):
                out.append(Measure(mkey, f"{label} · {name}", None, "items/s/core", note=spent))
                continue
            server_note = ""
            if name == "PostgreSQL" and spent.server is None and role != "understand":
                server_note = "; server CPU not visible (remote server?): ours only"
            out.append(Measure(mkey, f"{label} · {name}", spent.per_core(), "items/s/core",
                               note=spent.split() + server_note))
    for name, (per_item, note) in sizes.items():
        out.append(Measure(f"{key}_bytes_{'pg' if name == 'PostgreSQL' else 'sqlite'}",
                           f"database size per item · {name}", per_item, "bytes", note=note))
    if bench_db is not None:
        bench_db.fresh()
    return out


# ---------------------------------------------------------------- raw statements

def measure_statements(n: int, bench_db=None):
    """What one statement costs on each backend, through the desk's own connection and
    ``transaction``: a point read by primary key, one insert committed alone (on PostgreSQL with
    the desk's writer lock), and inserts committed 50 at a time. CPU (ours + server) and wall per
    statement."""
    from bench.suite import Measure

    tmp = Path(tempfile.mkdtemp(prefix="yuqing-bench-stmt-"))
    targets = [tmp / "probe.sqlite"] + ([bench_db.url] if bench_db is not None else [])
    out = []
    for target in targets:
        name = backend_name(target)
        tag = "pg" if name == "PostgreSQL" else "sqlite"
        if bench_db is not None and target == bench_db.url:
            bench_db.fresh()
        try:
            phases = _statement_costs(target, n)
        except Exception as exc:
            out.append(Measure(f"stmt_{tag}", f"statements · {name}", None, "µs",
                               note=f"failed: {exc.__class__.__name__}: {exc}"[:240]))
            continue
        for i, (what, spent) in enumerate(phases.items()):
            out.append(Measure(f"stmt_{tag}_{i}", f"statement: {what} · {name}", 1e6 * spent.cpu / spent.items,
                               "µs CPU each", note=f"{1e6 * spent.wall / spent.items:,.0f} µs wall each; "
                                                  f"{spent.items} statements; {_cpu_split(spent)}"))
    if bench_db is not None:
        bench_db.fresh()
    return out


def _cpu_split(spent: Spent) -> str:
    each = 1e6 / spent.items
    server = "" if spent.server is None else f" + server {spent.server * each:.1f}"
    return f"CPU µs each: ours {spent.ours * each:.1f}{server}"


def _statement_costs(target, n: int) -> dict[str, Spent]:
    from storage.db import connect, transaction

    db = connect(target)
    db.execute("CREATE TABLE bench_probe (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    meter = _Meter(target)
    phases = {}
    try:
        with transaction(db) as conn:
            conn.executemany("INSERT INTO bench_probe (v) VALUES (?)", [[f"值{i}" * 20] for i in range(n)])
        rng = random.Random(1)
        keys = [rng.randrange(1, n + 1) for _ in range(n)]
        with meter:
            for k in keys:
                db.execute("SELECT v FROM bench_probe WHERE id = ?", [k]).fetchone()
            phases["point read by primary key"] = meter.stop(n)
        alone = max(1, n // 4)
        with meter:
            for i in range(alone):
                with transaction(db):
                    db.execute("INSERT INTO bench_probe (v) VALUES (?) RETURNING id", [f"新{i}"]).fetchone()
            phases["insert, one per transaction"] = meter.stop(alone)
        with meter:
            for k in range(0, n, FEED):
                with transaction(db):
                    for i in range(k, min(n, k + FEED)):
                        db.execute("INSERT INTO bench_probe (v) VALUES (?) RETURNING id", [f"批{i}"]).fetchone()
            phases[f"insert, {FEED} per transaction"] = meter.stop(n)
    finally:
        meter.close()
        db.execute("DROP TABLE bench_probe")
        db.conn.close()
    return phases


# ---------------------------------------------------------------- understanding scale-out

def measure_scaleout(n: int, bench_db=None, repeat: int = 2, rounds: int = 3):
    """Wall time of two understanding workers (separate processes, disjoint halves of the same
    stored items) against one worker doing them all; and what else the machine was doing.

    The three workers load once; then, ``rounds`` times, the one works alone and the two work
    together. The best round of each is kept (the machine is shared: a neighbour's burst
    slows a round, never speeds one up)."""
    from bench.suite import Measure, make_stream
    from yuqing.classify_io import load_classifier
    from yuqing.config import init_home
    from yuqing.home import DeskHome

    tmp = Path(tempfile.mkdtemp(prefix="yuqing-bench-scale-"))
    home = DeskHome(tmp / "home")
    init_home(home, sources_text="")
    target = bench_db.url if bench_db is not None else home.db_path
    if bench_db is not None:
        bench_db.fresh()
    store_items(target, make_stream(n, 0.1))
    load_classifier(home.path, train_in_child=True)  # trains and caches the model once, before the workers
    crews = {1: _start_workers(target, home.path, 1, repeat), 2: _start_workers(target, home.path, 2, repeat)}
    best: dict[int, dict] = {}
    try:
        for _ in range(rounds):
            for size, crew in crews.items():
                got = _round(crew)
                if size not in best or got["wall"] < best[size]["wall"]:
                    best[size] = got
    finally:
        for crew in crews.values():
            _stop(crew)
    if bench_db is not None:
        bench_db.fresh()
    one, two = best[1], best[2]
    factor = one["wall"] / two["wall"] if two["wall"] else float("nan")

    def busy(r):
        return (f"other processes {r['others']:.1f} CPU s in those {r['wall']:.2f} s "
                f"({r['others'] / r['wall']:.2f} cores busy), load average {r['load']:.1f}")

    src = backend_name(target)
    cores = os.cpu_count() or 1
    return [
        Measure("scale_one", f"understanding, 1 worker ({src} items)", one["items"] / one["wall"], "items/s",
                note=f"{one['items']} classifications, wall {one['wall']:.2f} s, CPU {one['cpu']:.2f} s "
                     f"({one['items'] / one['cpu']:,.0f}/CPU s); {busy(one)}; best of {rounds}"),
        Measure("scale_two", f"understanding, 2 workers on disjoint halves ({src} items)",
                two["items"] / two["wall"], "items/s",
                note=f"wall {two['wall']:.2f} s, CPU {two['cpu']:.2f} s ({two['items'] / two['cpu']:,.0f}/CPU s); "
                     f"{busy(two)}; best of {rounds}"),
        Measure("scale_factor", f"scale-out of understanding, 2 workers / 1 ({cores} cores: ceiling "
                                f"{min(2, cores)}×)", factor, "×",
                note="wall time of one / wall time of two on the same items; per CPU second two workers "
                     f"classify {(two['items'] / two['cpu']) / (one['items'] / one['cpu']):.2f}× what one does "
                     "(1.00: they do not slow each other, the work splits cleanly)"),
    ]


def _start_workers(target, home: Path, parts: int, repeat: int) -> list[subprocess.Popen]:
    return _start([["worker", str(target), str(home), str(k), str(parts), str(repeat)] for k in range(parts)])


def _start(arg_lists: list[list[str]]) -> list[subprocess.Popen]:
    """Worker processes (``python -m bench.roles ARGS``), each loaded and waiting for "go"."""
    procs = [subprocess.Popen([sys.executable, "-m", "bench.roles", *args], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=str(REPO),
                              env=dict(os.environ, PYTHONPATH=str(REPO)))
             for args in arg_lists]
    for p in procs:
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError(f"a benchmark worker ({' '.join(arg_lists[0][:1])}) did not start")
    return procs


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.stdin.close()
        p.wait(60)


def _round(procs: list[subprocess.Popen], tag: str = "") -> dict:
    """One round: every worker of the crew does its share at once ("go TAG")."""
    from bench.pgdesk import machine_busy_seconds

    load, busy0 = os.getloadavg()[0], machine_busy_seconds()
    for p in procs:
        p.stdin.write(f"go {tag}\n")
        p.stdin.flush()
    reports = [json.loads(p.stdout.readline()) for p in procs]
    busy = machine_busy_seconds() - busy0
    cpu = sum(r["cpu"] for r in reports)
    return {"wall": max(r["end"] for r in reports) - min(r["start"] for r in reports), "cpu": cpu,
            "items": sum(r["items"] for r in reports), "others": max(0.0, busy - cpu), "load": load,
            "in_tx": sum(r.get("in_tx", 0.0) for r in reports)}


def measure_intake_scaleout(n: int, bench_db=None, rounds: int = 3):
    """Two intake processes (collectors' store step, disjoint sources) storing at once against one
    storing everything, on each backend: wall time of one / wall time of two, best of ``rounds``
    alternating rounds (each round stores new items). Every write transaction takes the desk's one
    writer lock (BEGIN IMMEDIATE on SQLite, the advisory lock on PostgreSQL), so this shows how far
    more collectors raise intake."""
    from bench.suite import Measure

    tmp = Path(tempfile.mkdtemp(prefix="yuqing-bench-intake2-"))
    targets = [tmp / "desk.sqlite"] + ([bench_db.url] if bench_db is not None else [])
    out = []
    for target in targets:
        name = backend_name(target)
        best: dict[int, dict] = {}
        crews = {}
        try:
            _fresh_desk(target, n, bench_db)
            crews = {parts: _start([["store", str(target), str(k), str(parts), str(n)] for k in range(parts)])
                     for parts in (1, 2)}
            for r in range(rounds):
                for parts, crew in crews.items():
                    got = _round(crew, f"r{r}p{parts}")
                    if parts not in best or got["wall"] < best[parts]["wall"]:
                        best[parts] = got
        except Exception as exc:
            out.append(Measure(f"intake2_{name.lower()}", f"intake, 2 processes / 1 · {name}", None, "×",
                               note=f"failed: {exc.__class__.__name__}: {exc}"[:240]))
            continue
        finally:
            for crew in crews.values():
                _stop(crew)
        one, two = best[1], best[2]
        held = one["in_tx"] / one["wall"] if one["wall"] else 0.0
        out.append(Measure(f"intake2_{name.lower()}", f"intake, 2 processes storing at once / 1 · {name}",
                           one["wall"] / two["wall"], "×",
                           note=f"{n} items a round: one {one['items'] / one['wall']:,.0f} items/s wall, two "
                                f"{two['items'] / two['wall']:,.0f} items/s wall (best of {rounds}); one process "
                                f"spends {held:.0%} of its wall time inside write transactions, which take the "
                                f"desk's one writer lock; other processes (a server's backends among them) {one['others'] / one['wall']:.2f} and "
                                f"{two['others'] / two['wall']:.2f} cores busy during the one and the two"))
    if bench_db is not None:
        bench_db.fresh()
    return out


def _fresh_desk(target, n: int, bench_db) -> None:
    """An empty desk with the benchmark's sources at ``target``."""
    from bench.suite import NOW
    from monitor import store
    from pipeline.schema import all_migrations
    from storage.db import open_db
    from storage.dburl import is_server

    if is_server(target):
        bench_db.fresh()
    else:
        for p in (Path(target), Path(f"{target}-wal"), Path(f"{target}-shm")):
            p.unlink(missing_ok=True)
    db = open_db(target, all_migrations())
    store.sync_sources(db, _specs(n), NOW)
    db.conn.close()


def store_worker(target: str, part: int, parts: int, n: int) -> int:
    """One intake process: store its share (every ``parts``-th feed from ``part``) of the
    benchmark's n items for each "go TAG" line, as new items (guids and links carry TAG), on a desk
    made by :func:`_fresh_desk`; one JSON line per round."""
    from bench.suite import NOW, make_stream
    from monitor import store
    from storage.db import connect
    from storage.dburl import as_target

    texts = make_stream(n, 0.1)
    specs = _specs(n)
    db = connect(as_target(target))
    print("ready", flush=True)
    for line in sys.stdin:
        if not line.startswith("go"):
            return 1
        items = _parsed(texts, line[2:].strip())  # new guids and links each round
        feeds = [(specs[(k // FEED) % len(specs)], items[k:k + FEED]) for k in range(0, n, FEED)]
        mine = feeds[part::parts]
        start, c0 = time.time(), time.process_time()
        in_tx = 0.0
        for spec, chunk in mine:
            t0 = time.monotonic()  # store_fetch is one write transaction, start to end
            store.store_fetch(db, spec, chunk, now=NOW, next_check=NOW, etag=None, last_modified=None,
                              body_digest=None)
            in_tx += time.monotonic() - t0
        print(json.dumps({"items": sum(len(c) for _, c in mine), "start": start, "end": time.time(),
                          "cpu": time.process_time() - c0, "in_tx": in_tx}), flush=True)
    db.conn.close()
    return 0


# ---------------------------------------------------------------- connections per role

def measure_connections(bench_db, feeds: int = 30, settle: float = 15.0):
    """Server connections and resident memory of each `yuqing run --role` process on the desk's
    database, with ``feeds`` loopback feeds polled every 10 s, after ``settle`` seconds
    (the figures for max_connections and a connection pooler)."""
    from bench.pgdesk import ServerCpu
    from bench.suite import Measure

    if bench_db is None:
        return [Measure("conns", "connections per role", None, "", note="needs --database (a server)")]
    bench_db.fresh()
    tmp = Path(tempfile.mkdtemp(prefix="yuqing-bench-conns-"))
    home = tmp / "home"
    home.mkdir()
    server = subprocess.Popen([sys.executable, str(HERE / "loopback_feeds.py"), "-n", str(feeds), "--period", "30",
                               "--sources-toml", str(home / "sources.toml"), "--interval", "10"],
                              stdout=subprocess.PIPE, text=True)
    out = []
    watch = None
    try:
        server.stdout.readline()
        for _ in range(100):
            if (home / "sources.toml").exists():
                break
            time.sleep(0.05)
        (home / "desk.toml").write_text('[desk]\ndistrict_code = "610702"\ndistrict_name = "汉台区"\n'
                                        'timezone = "Asia/Shanghai"\n', encoding="utf-8")
        watch = ServerCpu(bench_db.url)
        for role in ("collect", "pipeline", "all"):
            before = set(watch.pids())
            proc = subprocess.Popen([sys.executable, "-m", "yuqing", "--home", str(home), "--database", bench_db.url,
                                     "run", "--role", role], stdout=subprocess.DEVNULL,
                                    stderr=open(tmp / f"{role}.err", "w"), cwd=str(REPO),
                                    env=dict(os.environ, PYTHONPATH=str(REPO)))
            try:
                # Until its connections stop changing (the pipeline loads its model first), 60 s at most.
                t0, seen, stable_since = time.monotonic(), -1, time.monotonic()
                while time.monotonic() - t0 < 60 and proc.poll() is None:
                    time.sleep(1.0)
                    conns = len(set(watch.pids()) - before)
                    if conns != seen:
                        seen, stable_since = conns, time.monotonic()
                    elif time.monotonic() - t0 >= settle and time.monotonic() - stable_since >= 8:
                        break
                waited = time.monotonic() - t0
                alive = proc.poll() is None
                conns = len(set(watch.pids()) - before)
                rss = _rss_mb(proc.pid) if alive else None
            finally:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
            note = f"after {waited:.0f} s (8 s unchanged) with {feeds} loopback feeds polled every 10 s"
            if rss is not None:
                note += f"; RSS {rss:.0f} MB"
            if not alive:
                why = (tmp / f"{role}.err").read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
                out.append(Measure(f"conns_{role}", f"server connections of `yuqing run --role {role}`", None, "",
                                   note=f"the process ended early: {why[0][:160]}"))
                continue
            out.append(Measure(f"conns_{role}", f"server connections of `yuqing run --role {role}`", conns,
                               "connections", note=note))
            time.sleep(1.0)  # its backends end with its connections
    finally:
        if watch is not None:
            watch.close()
        server.terminate()
        server.wait(10)
    bench_db.fresh()
    return out


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def worker(target: str, home: str, part: int, parts: int, repeat: int) -> int:
    """One understanding worker: classify the stored items whose id % parts == part, in the
    pipeline's batches, ``repeat`` times for each "go" line read; print "ready" once loaded and
    one JSON line per round of what it did."""
    from monitor import store
    from pipeline.stages import BATCH
    from storage.db import connect
    from storage.dburl import as_target
    from yuqing.classify_io import load_classifier

    classifier = load_classifier(Path(home), train_in_child=True)
    db = connect(as_target(target))
    items, last = [], 0
    while True:
        chunk = store.items_after(db, last, 1000)
        if not chunk:
            break
        last = chunk[-1].id
        items += [it for it in chunk if it.id % parts == part]
    db.conn.close()
    print("ready", flush=True)
    for line in sys.stdin:
        if not line.startswith("go"):
            return 1
        start, c0 = time.time(), time.process_time()
        done = 0
        for _ in range(repeat):
            for k in range(0, len(items), BATCH):
                done += len(classifier.classify_many([(it.title, it.text, False) for it in items[k:k + BATCH]]))
        print(json.dumps({"items": done, "start": start, "end": time.time(), "cpu": time.process_time() - c0}),
              flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "worker":
        sys.exit(worker(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])))
    if len(sys.argv) == 6 and sys.argv[1] == "store":
        sys.exit(store_worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])))
    print("usage: python -m bench.roles worker TARGET HOME PART PARTS REPEAT | store TARGET PART PARTS N "
          "(started by bench.suite)", file=sys.stderr)
    sys.exit(2)
