"""The desk's benchmark suite: one line per measure, then one line of ratios against the goals.

    python -m bench.suite [--quick] [--only pipeline,pipeline_stress,fts,help,loopback,alerts,console,...]
                          [--database postgresql://user@host:port/emptydb]
    yuqing bench [--quick] [--only ...] [--database URL]

Everything runs on generated, realistic items (the bundled seed corpus with district
place names, as bench/bench_classify.py makes them) in temporary folders, on loopback.
Goals (issue 7): pipeline >= 0.25 of rjieba-only segmentation; 1,000 loopback sources
< 25 % of a core and < 300 MB; alert p95 < 2 s from the fetch that sees the item; FTS
search over 1,000,000 items < 100 ms; console with 5,000 incidents opens < 1.5 s;
`yuqing --help` < 300 ms. --quick runs smaller versions (fewer sources, 100k items).

Server mode (issue 16): with ``--database URL`` (an empty PostgreSQL database: one holding a
desk or anything else is refused) the default set is the server measures: ``roles`` (items/s
per core of intake, understanding, the stateful stage and the whole pipeline on SQLite and
PostgreSQL side by side, counting the server's CPU too), ``stmt`` (raw statement costs),
``scaleout`` (two understanding workers against one), ``intake2`` (two intake processes
against one: every write takes the desk's one writer lock), ``conns`` (server connections and
memory of each `yuqing run --role` process) and ``alerts`` (alert latency with the
desk on the server). What the benchmark creates in the database is dropped when it ends.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:  # run as a script: python bench/suite.py
    sys.path.insert(0, str(REPO))

UTC = timezone.utc
NOW = datetime(2026, 6, 14, 4, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    value: float | None  # None: not measured (see note)
    unit: str
    goal: float | None = None
    higher_is_better: bool = False
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """value / goal, oriented so that <= 1.0 meets the goal."""
        if self.value is None or not self.goal:
            return None
        return self.goal / self.value if self.higher_is_better and self.value else self.value / self.goal

    def line(self) -> str:
        if self.value is None:
            return f"{self.label}: 未测 ({self.note})"
        goal = ""
        if self.goal is not None:
            goal = f"  goal {'>=' if self.higher_is_better else '<'} {self.goal:g} {self.unit}"
            goal += "  ✓" if (self.ratio or 0) <= 1.0 else "  ✗"
        note = f"  [{self.note}]" if self.note else ""
        digits = 0 if isinstance(self.value, int) else _digits(self.value)  # counts print as counts
        return f"{self.label}: {self.value:,.{digits}f} {self.unit}{goal}{note}"


def _digits(v: float) -> int:
    return 0 if abs(v) >= 100 else 1 if abs(v) >= 10 else 2 if abs(v) >= 0.1 else 3


def _cpu() -> float:
    return time.process_time()


# ---------------------------------------------------------------- pipeline vs segmentation

# Places put in front of seed texts. A district desk's feeds are mostly regional and national
# news: in the default mix one item in ten names a place of the district (the demo scenario's
# own feeds are about as mixed); the stress mix makes six in ten district items, nearly all
# negative with risk words, so most stories open or join incidents.
DISTRICT_PLACES = ["汉台区", "铺镇", "武乡镇", "北关街道", "河东店镇", "龙江街道", "七里街道", "汉台区汉中路街道"]
ELSEWHERE = ["城固县", "西安市雁塔区", "宝鸡市渭滨区", "咸阳市", "北京市朝阳区", "成都市武侯区", "广州市天河区", ""]


def make_stream(n: int, district_share: float, seed: int = 7) -> list[tuple[str, str]]:
    """~300-character (title, text) items from the bundled seed corpus; ``district_share`` of
    them name a place of the district."""
    import re

    from yuqing.classify_io import load_seed
    from yuqing.gazetteer_io import load_gazetteer

    # The seed corpus was written about the district: outside the district share its place and
    # department names are taken out, so only the chosen place says where an item happens.
    gaz = load_gazetteer()
    names = {gaz.district_name, "汉台", "汉中市", "汉中"}
    for d in gaz.divisions.values():
        if d.code.startswith(gaz.district_code):
            names.update((d.name, *d.short_names))
    for dep in gaz.departments:
        names.update(dep.forms())
    local = re.compile("|".join(sorted((re.escape(x) for x in names if len(x) >= 2), key=len, reverse=True)))
    rows = load_seed()
    rng = random.Random(seed)
    items = []
    for _ in range(n):
        title, text, _ = rng.choice(rows)
        district = rng.random() < district_share
        clean = (lambda x: x) if district else (lambda x: local.sub("", x))
        title = clean(title)
        body = rng.choice(DISTRICT_PLACES if district else ELSEWHERE) + clean(text)
        while len(title) + len(body) < 300:
            body += clean(rng.choice(rows)[1])
        items.append((title, body[: 300 - len(title)]))
    return items


def measure_pipeline(n: int, district_share: float = 0.1, key: str = "pipeline") -> list[Measure]:
    import rjieba

    from monitor import store
    from monitor.types import ParsedItem, SourceSpec
    from storage.db import open_db
    from yuqing.config import init_home
    from yuqing.home import DeskHome
    from pipeline.schema import all_migrations
    from yuqing.pipeline import desk_pipeline

    texts = make_stream(n, district_share)
    t0 = _cpu()
    for title, body in texts:
        rjieba.cut(title)
        rjieba.cut(body)
    seg_rate = n / (_cpu() - t0)

    tmp = Path(tempfile.mkdtemp(prefix="yuqing-bench-pipe-"))
    home = DeskHome(tmp / "home")
    init_home(home, sources_text="")
    db = open_db(home.db_target, all_migrations())
    # Like loopback_feeds: every third source is local (district context).
    specs = [SourceSpec(id=f"bench-{j}", name=f"基准来源{j}", url=f"http://127.0.0.1:9/feed/{j}", local=j % 3 == 0)
             for j in range(max(1, n // 50))]
    store.sync_sources(db, specs, NOW)
    rng = random.Random(3)
    items = [ParsedItem(guid=f"b{i}", title=t, link=f"https://news.example/{i}", text=b,
                        published=NOW - timedelta(seconds=rng.randrange(0, 48 * 3600)))
             for i, (t, b) in enumerate(texts)]
    t0 = _cpu()
    for k in range(0, n, 50):  # one transaction per feed of 50, as the collector does
        store.store_fetch(db, specs[(k // 50) % len(specs)], items[k:k + 50], now=NOW, next_check=NOW, etag=None, last_modified=None,
                          body_digest=None)
    store_rate = n / (_cpu() - t0)
    db.conn.close()

    t0 = time.monotonic()
    pipe = desk_pipeline(home.db_target, home.path, clock=lambda: NOW)  # loads the classifier
    pipe.open()
    open_s = time.monotonic() - t0
    t0 = _cpu()
    done = 0
    while True:
        pipe.step()
        if not pipe.last_batch:
            break
        done += pipe.last_batch
    stage_rate = done / (_cpu() - t0)
    pipe.close()
    whole = 1.0 / (1.0 / store_rate + 1.0 / stage_rate)
    incidents = sqlite3.connect(home.db_target).execute("SELECT count(*) FROM incidents").fetchone()[0]
    mix = f"{district_share:.0%} district items"
    return [
        Measure(f"{key}_segment", f"rjieba-only segmentation (title+text, ~300 chars), {mix}", seg_rate,
                "items/s/core", note=f"{n} items"),
        Measure(key, f"pipeline store+normalise+segment+classify+stories+incidents+index, {mix}", whole,
                "items/s/core", note=f"stages {stage_rate:,.0f}/s, raw store {store_rate:,.0f}/s, "
                                     f"{incidents} incidents opened, model load {open_s:.1f}s"),
        Measure(f"{key}_ratio", f"pipeline / rjieba-only, {mix}", whole / seg_rate, "×", 0.25, True),
    ]


# ---------------------------------------------------------------- FTS search

def measure_fts(n: int, queries: int = 40) -> list[Measure]:
    import rjieba

    from bench.bench_classify import make_items
    from pipeline.store import search_items
    from storage.db import open_db, transaction
    from pipeline.schema import all_migrations

    tmp = Path(tempfile.mkdtemp(prefix="yuqing-bench-fts-"))
    db = open_db(tmp / "desk.sqlite", all_migrations())
    pool = make_items(2000, seed=11)
    seg = [(" ".join(rjieba.cut(t)), " ".join(rjieba.cut(b))) for t, b in pool]
    now_s = NOW.isoformat()
    t0 = time.monotonic()
    chunk = 20_000
    for start in range(0, n, chunk):
        rows, fts = [], []
        for i in range(start, min(n, start + chunk)):
            k = i % len(pool)
            title, body = pool[k]
            tag = f"编号{i % 5000}"  # a rarer token, ~n/5000 hits
            rows.append((i + 1, "bench", f"g{i}", title, body, now_s, "{}", f"h{i}"))
            fts.append((i + 1, seg[k][0], seg[k][1] + " " + tag))
        with transaction(db) as conn:
            conn.executemany("INSERT INTO items (id, source_id, guid, title, text, fetched_at, metrics,"
                             " content_hash) VALUES (?,?,?,?,?,?,?,?)", rows)
            conn.executemany("INSERT INTO items_fts (rowid, title, text) VALUES (?,?,?)", fts)
    build_s = time.monotonic() - t0
    db.conn.execute("INSERT INTO items_fts(items_fts) VALUES ('optimize')")
    words = [w for t in seg[:200] for w in t[0].split() if len(w) >= 2]
    rng = random.Random(5)
    qs = [[rng.choice(words)] for _ in range(queries // 2)]
    qs += [[rng.choice(words), rng.choice(words)] for _ in range(queries // 4)]
    qs += [[f"编号{rng.randrange(5000)}"] for _ in range(queries - len(qs))]
    times = []
    for q in qs:
        t0 = time.perf_counter()
        search_items(db, q, limit=100)
        times.append((time.perf_counter() - t0) * 1000)
    db.conn.close()
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    return [Measure("fts", f"FTS search over {n:,} items (p95 of {len(qs)} queries, newest 100)", p95, "ms",
                    100, note=f"median {statistics.median(times):.1f} ms; index built in {build_s:.0f}s")]


# ---------------------------------------------------------------- cold start

def measure_help(runs: int = 7) -> list[Measure]:
    import shutil

    exe = shutil.which("yuqing")
    cmd = [exe, "--help"] if exe else [sys.executable, "-m", "yuqing", "--help"]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t0) * 1000)
    return [Measure("help", "`yuqing --help` cold start (median)", statistics.median(times), "ms", 300,
                    note=f"{runs} runs, {' '.join(cmd[:1])}")]


# ---------------------------------------------------------------- 1,000 loopback sources

def measure_loopback(n: int, steady: float) -> list[Measure]:
    """Runs bench/bench_collect.py (server and daemon in their own processes) and reads its lines."""
    proc = subprocess.run([sys.executable, str(HERE / "bench_collect.py"), "-n", str(n), "--interval", "60",
                           "--steady", str(steady)], capture_output=True, text=True, timeout=900 + steady)
    out = proc.stdout
    cpu = re.search(r"CPU ([\d.]+) % of one core", out)
    rss = re.search(r"peak RSS ([\d.]+) MB", out)
    cycle = re.search(r"first full cycle: ([\d.]+) s", out)
    if proc.returncode or not cpu or not rss:
        why = (proc.stderr.strip().splitlines() or ["no output"])[-1][:120]
        return [Measure("loop_cpu", f"{n} loopback sources CPU", None, "%", note=f"bench_collect failed: {why}")]
    note = f"{n} sources at 60 s, {steady:g} s steady" + (f", first cycle {cycle.group(1)} s" if cycle else "")
    return [Measure("loop_cpu", f"{n} loopback sources: CPU share", float(cpu.group(1)), "% of a core", 25,
                    note=note),
            Measure("loop_rss", f"{n} loopback sources: peak RSS", float(rss.group(1)), "MB", 300)]


# ---------------------------------------------------------------- alert latency

TOWNS = ("铺镇", "武乡镇", "河东店镇", "宗营镇", "老君镇", "汉王镇", "徐望镇", "北关街道", "龙江街道", "七里街道")
ACCIDENTS = (("化工厂", "爆炸"), ("在建工地", "塔吊倒塌"), ("农贸市场", "火灾"), ("中学", "食物中毒"),
             ("自建房", "坍塌"), ("加油站", "起火"), ("养老院", "燃气泄漏"), ("煤矿", "透水"),
             ("幼儿园", "踩踏"), ("水库", "溃坝"))


PLANTS = (
    lambda town, place, what, j: (f"突发：汉台区{town}{place}发生{what} 已致{j + 2}人死亡",
                                  f"今日凌晨汉台区{town}{place}发生{what}，已造成{j + 2}人死亡，伤者送医抢救，村民质疑监管缺位。"),
    lambda town, place, what, j: (f"{town}{what}事故现场视频流出 网友质问{place}安全责任",
                                  f"网传视频显示汉台区{town}{place}{what}，多名群众受伤，现场混乱，网友质问为何迟迟无人回应。"),
    lambda town, place, what, j: (f"汉台{town}居民聚集维权 称{place}{what}隐患长期无人管",
                                  f"数十名{town}居民聚集在{place}门口维权，反映{what}隐患，双方发生冲突，有人受伤。"),
    lambda town, place, what, j: (f"紧急！汉台区{town}{place}{what}被困{j + 3}人",
                                  f"汉台区{town}{place}{what}，目前仍有{j + 3}人被困，救援正在进行，家属情绪激动要求说法。"),
    lambda town, place, what, j: (f"{place}{what}致{j + 1}死 汉台区{town}相关负责人被约谈",
                                  f"汉台区{town}一{place}{what}致{j + 1}人死亡，舆论质疑监管失职，网友要求彻查追责。"),
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _receiver(port: int, got: list[tuple[float, str]]):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class H(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            text = body.decode("utf-8", "replace")
            try:
                text = json.dumps(json.loads(text), ensure_ascii=False)
            except ValueError:
                pass
            got.append((time.time(), text))
            data = b'{"errcode":0,"errmsg":"ok"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", port), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def measure_alerts(k: int, interval: int = 2, bench_db=None) -> list[Measure]:
    """Plant k breaking items (distinct towns and accidents) into loopback feeds while `yuqing run`
    polls them every ``interval`` s; latency = alert received - the item's fetched_at. With
    ``bench_db`` (:class:`bench.pgdesk.BenchDatabase`) the desk's database is that server."""
    import urllib.request

    from storage.db import connect

    tmp = Path(tempfile.mkdtemp(prefix="yuqing-bench-alert-"))
    home = tmp / "home"
    home.mkdir()
    got: list[tuple[float, str]] = []
    rport = _free_port()
    srv = _receiver(rport, got)
    feeds = 3 * k  # loopback_feeds marks every third feed local (i % 3 == 0)
    server = subprocess.Popen(
        [sys.executable, str(HERE / "loopback_feeds.py"), "-n", str(feeds), "--period", "1e9", "--items", "3",
         "--sources-toml", str(home / "sources.toml"), "--interval", str(interval)],
        stdout=subprocess.PIPE, text=True)
    base = server.stdout.readline().strip()
    for _ in range(100):
        if (home / "sources.toml").exists():
            break
        time.sleep(0.05)
    (home / "desk.toml").write_text(
        '[desk]\ndistrict_code = "610702"\ndistrict_name = "汉台区"\ntimezone = "Asia/Shanghai"\n'
        "[alerts]\nenabled = true\nmask_personal = true\ndedup_window_minutes = 30\n"
        "[alerts.channels.bench]\ntype = \"wecom\"\nurl_env = \"YUQING_BENCH_WEBHOOK\"\nquiet_hours = false\n"
        "[[alerts.rules]]\nname = \"bench\"\nlanes = [\"breaking\"]\nchannels = [\"bench\"]\n",
        encoding="utf-8")
    env = dict(os.environ, YUQING_BENCH_WEBHOOK=f"http://127.0.0.1:{rport}/hook")
    if bench_db is not None:
        bench_db.fresh()
    where = ["--database", bench_db.url] if bench_db is not None else []
    daemon = subprocess.Popen([sys.executable, "-m", "yuqing", "--home", str(home), *where, "run"],
                              stdout=subprocess.DEVNULL, stderr=open(tmp / "daemon.err", "w"), env=env)
    planted: list[str] = []
    try:
        time.sleep(6 + interval)  # first cycle and model load
        base_count = len(got)
        for j in range(k):
            town = TOWNS[j % len(TOWNS)]
            place, what = ACCIDENTS[(j * 3 + j // len(TOWNS)) % len(ACCIDENTS)]
            title, text = PLANTS[j % len(PLANTS)](town, place, what, j)
            req = urllib.request.Request(f"{base}/feed/{3 * j}/publish", method="POST",
                                         data=json.dumps({"title": title, "text": text}).encode(),
                                         headers={"Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=5).read()
            planted.append(title)
            time.sleep(interval + 1.5)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(got) - base_count < k:
            time.sleep(0.2)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
        server.terminate()
        server.wait(10)
        srv.shutdown()
    db = connect(bench_db.url if bench_db is not None else home / "desk.sqlite", readonly=True)
    lat = []
    for title in planted:
        row = db.execute("SELECT fetched_at FROM items WHERE title = ?", [title]).fetchone()
        if not row:
            continue
        fetched = datetime.fromisoformat(row[0]).timestamp()
        hits = [t for t, body in got if title[:12] in body]
        if hits:
            lat.append(min(hits) - fetched)
    db.conn.close()
    if bench_db is not None:
        bench_db.fresh()
    (tmp / "received.jsonl").write_text("".join(json.dumps([t, b], ensure_ascii=False) + "\n" for t, b in got),
                                       encoding="utf-8")
    on = " · PostgreSQL" if bench_db is not None else " · SQLite"
    if not lat:
        return [Measure("alert_p95", f"alert latency{on}", None, "s",
                        note=f"no alert matched ({len(got)} received, {len(planted)} planted; see {tmp})")]
    lat.sort()
    p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
    return [Measure("alert_p95" + ("_pg" if bench_db is not None else ""), f"alert latency{on}, fetch -> webhook received (p95 of {len(lat)}/{k})", p95, "s", 2.0,
                    note=f"median {statistics.median(lat):.2f} s, max {lat[-1]:.2f} s; poll every {interval} s")]


# ---------------------------------------------------------------- console

def measure_console(n: int, items: int) -> list[Measure]:
    """Runs bench/bench_tui.py (the console helper's bench) and reads its lines."""
    script = HERE / "bench_tui.py"
    if not script.exists():
        return [Measure("console", f"console open with {n:,} incidents", None, "ms",
                        note="bench/bench_tui.py not present (the console is not built)")]
    proc = subprocess.run([sys.executable, str(script), str(n), str(items)], capture_output=True, text=True,
                          timeout=1200)
    opened = re.search(r"console open[^:]*: ([\d.]+) ms", proc.stdout)
    key = re.search(r"key -> cursor moved[^:]*: median ([\d.]+) ms", proc.stdout)
    if not opened:
        why = (proc.stderr.strip().splitlines() or ["no output"])[-1][:120]
        return [Measure("console", "console open", None, "ms", note=f"bench_tui.py: {why}")]
    out = [Measure("console", f"console open with {n:,} incidents, {items:,} items", float(opened.group(1)), "ms",
                   1500)]
    slowest = re.search(r"key -> update, slowest repeated key \(([^)]*)\): median ([\d.]+) ms", proc.stdout)
    if key:
        out.append(Measure("console_key", "console key -> update (cursor move, median)", float(key.group(1)), "ms",
                           50, note="key event -> first frame showing it"))
    if slowest:
        out.append(Measure("console_key_slowest", "console key -> update, slowest repeated key (median)",
                           float(slowest.group(2)), "ms", 50, note=slowest.group(1)))
    return out


# ---------------------------------------------------------------- driver

@dataclass(frozen=True)
class Options:
    """What a measure is asked for: ``quick`` (smaller runs), the claimed PostgreSQL database
    (None: SQLite only) and ``items`` (the server measures' item count instead of their default)."""

    quick: bool = False
    bench_db: object = None
    items: int | None = None

    def n(self, quick: int, full: int) -> int:
        return self.items or (quick if self.quick else full)


def _roles(o: Options) -> list[Measure]:
    from bench.roles import measure_roles

    return measure_roles(o.n(1500, 4000), o.bench_db)


def _statements(o: Options) -> list[Measure]:
    from bench.roles import measure_statements

    return measure_statements(o.n(1000, 4000), o.bench_db)


def _scaleout(o: Options) -> list[Measure]:
    from bench.roles import measure_scaleout

    return measure_scaleout(o.n(1500, 3000), o.bench_db)


def _intake_scaleout(o: Options) -> list[Measure]:
    from bench.roles import measure_intake_scaleout

    return measure_intake_scaleout(o.n(2000, 6000), o.bench_db)


def _connections(o: Options) -> list[Measure]:
    from bench.roles import measure_connections

    return measure_connections(o.bench_db)


def _alerts(o: Options) -> list[Measure]:
    """Alert latency on SQLite, and with a server next to it on PostgreSQL."""
    k = 5 if o.quick else len(TOWNS)  # one item per town: more would join the towns' open incidents
    out = measure_alerts(k)
    if o.bench_db is not None:
        out += measure_alerts(k, bench_db=o.bench_db)
    return out


MEASURES: dict[str, Callable[[Options], list[Measure]]] = {
    "help": lambda o: measure_help(),
    "pipeline": lambda o: measure_pipeline(2000 if o.quick else 10_000),
    "pipeline_stress": lambda o: measure_pipeline(2000 if o.quick else 10_000, 0.6, "pipeline_stress"),
    "fts": lambda o: measure_fts(100_000 if o.quick else 1_000_000),
    "alerts": _alerts,
    "console": lambda o: measure_console(5000, 100_000 if o.quick else 1_000_000),
    "loopback": lambda o: measure_loopback(300 if o.quick else 1000, 75 if o.quick else 120),  # steady > interval
    "roles": _roles,
    "stmt": _statements,
    "scaleout": _scaleout,
    "intake2": _intake_scaleout,
    "conns": _connections,
}
SERVER_MEASURES = ("roles", "stmt", "scaleout", "intake2", "conns", "alerts")  # what --database runs unless --only says otherwise


def run(quick: bool = False, only: list[str] | None = None, echo: Callable[[str], None] = print,
        database: str | None = None, items: int | None = None) -> list[Measure]:
    """Run the chosen measures (all but the server ones by default; with ``database``, an empty
    PostgreSQL database, the server ones). Raises BenchDatabaseError for a database it must not use."""
    bench_db = None
    if database:
        from bench.pgdesk import claim

        bench_db = claim(database)
        echo(f"{bench_db.settings()} at {bench_db} (empty; what the benchmark creates there is dropped at the end); "
             f"SQLite: a temp folder. {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    # Without a server the suite is what it was; the per-role measures run on SQLite alone when named.
    chosen = only or (list(SERVER_MEASURES) if bench_db is not None
                      else [k for k in MEASURES if k == "alerts" or k not in SERVER_MEASURES])
    results: list[Measure] = []
    try:
        for key, fn in MEASURES.items():
            if key not in chosen:
                continue
            try:
                got = fn(Options(quick, bench_db, items))
            except Exception as exc:  # one measure failing must not lose the others
                got = [Measure(key, key, None, "", note=f"failed: {exc.__class__.__name__}: {exc}"[:300])]
            for m in got:
                echo(m.line())
            results.extend(got)
    finally:
        if bench_db is not None:
            bench_db.fresh()
    ratios = [f"{m.key} {m.ratio:.2f}" for m in results if m.ratio is not None]
    met = sum(1 for m in results if m.ratio is not None and m.ratio <= 1.0)
    echo(f"ratios vs goals (<= 1.00 meets the goal): {', '.join(ratios) or 'none'} — "
         f"{met}/{len(ratios)} goals met ({'quick' if quick else 'full'} run, {os.cpu_count()} cores)")
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller runs (minutes, not tens of minutes)")
    ap.add_argument("--only", default="", help=f"comma-separated subset of: {','.join(MEASURES)}")
    ap.add_argument("--database", default="", metavar="URL",
                    help="an empty PostgreSQL database: run the server measures there, next to SQLite")
    ap.add_argument("--items", type=int, default=None, metavar="N",
                    help="items for the server measures (roles, stmt, scaleout, intake2) instead of their default")
    args = ap.parse_args(argv)
    if args.items is not None and args.items < 50:
        ap.error("--items must be at least 50 (one feed)")
    only = [s.strip() for s in args.only.split(",") if s.strip()] or None
    unknown = [s for s in only or [] if s not in MEASURES]
    if unknown:
        ap.error(f"unknown measure(s) {', '.join(unknown)}; known: {', '.join(MEASURES)}")
    from bench.pgdesk import BenchDatabaseError

    try:
        run(args.quick, only, lambda s: print(s, flush=True), database=args.database or None, items=args.items)
    except BenchDatabaseError as exc:
        ap.exit(1, f"{exc}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
