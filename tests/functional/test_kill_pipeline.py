"""SIGKILL the whole desk again and again while it understands items, opens and joins
incidents, fires clock alerts, and staff write notes, acknowledgements, labels, assignments
and gradings: afterwards nothing is lost or duplicated and the timeline's hash chain verifies.

The loopback feeds carry stories that involve the district (an explosion in 铺镇, tainted
water in 武乡镇, a tower crane in 北关街道, food poisoning at a 龙江街道 school, unpaid
wages in 老君镇, a forced demolition in 徐望镇; they break one after another), quiet local
posts, outside noise and the district's own channel answering the 铺镇 story. A compressed
release clock makes warnings and overdue alerts fall due during the run. The daemon
(`yuqing run`) is killed with SIGKILL at seeded random moments (see MODES): during start-up
and intake, inside the first batch transaction after a restart, or after a batch committed.
Staff writers (`yuqing note/ack/assign/grade`, labels through the console facade) run in
parallel subprocesses and are killed at random too; a write that exited 0 must be stored
exactly once, a killed one at most once. Then one clean run catches up and everything is
checked. Progress lines are printed (`pytest -s` shows them).
"""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from aiohttp import web

from tests.loopback import send_rss, serve_app

SEED = 20261127
T0 = time.monotonic()  # reset by the test, for the progress lines it prints
WINDOW = 60  # items per feed document (the newest ones), like a real feed

# Stories: (key, town, title templates, text). Every title carries the town; most carry risk words.
EVENTS = [
    ("puzhen", "铺镇", ["汉台区铺镇某化工厂发生爆炸 已致3人受伤", "铺镇化工厂爆炸现场视频曝光 浓烟滚滚",
                        "汉台区铺镇化工厂爆炸事故续：伤者已送医救治"],
     "现场浓烟滚滚，有群众称听到巨响，消防救援人员已赶到现场处置。"),
    ("wuxiang", "武乡镇", ["武乡镇多名村民饮用自来水后腹泻 疑似水源污染", "汉台区武乡镇自来水浑浊发臭 村民腹泻就医",
                          "武乡镇水源污染调查：多名村民腹泻"],
     "村民反映自来水浑浊发臭，已有多人出现腹泻症状到卫生院就医。"),
    ("beiguan", "北关街道", ["汉台区北关街道一工地塔吊倒塌致2名工人死亡", "北关街道工地塔吊倒塌 2人死亡",
                            "北关街道塔吊倒塌事故 死亡工人家属赶到现场"],
     "事发时工人正在高空作业，塔吊突然倒塌，现场已被围挡。"),
    ("longjiang", "龙江街道", ["汉台区龙江街道一小学学生集体食物中毒 10余名学生送医", "龙江街道小学多名学生午餐后呕吐",
                              "龙江街道学校食物中毒事件 家长聚集学校门口"],
     "家长称孩子午餐后呕吐腹痛，学校已停止供餐并配合调查。"),
    ("laojun", "老君镇", ["老君镇某工地拖欠农民工工资 数十名工人讨薪维权", "汉台区老君镇工地欠薪 工人聚集讨薪",
                         "老君镇农民工讨薪维权 项目部大门紧闭"],
     "工人聚集在项目部门口，要求结清拖欠的工资，现场有民警维持秩序。"),
    ("xuwang", "徐望镇", ["徐望镇村民称遭强拆 征地补偿款迟迟未到位", "汉台区徐望镇强拆纠纷 村民多次上访",
                         "徐望镇征地强拆争议 补偿款去向成谜"],
     "村民质疑征地程序，称补偿款迟迟未到位，多次上访无果。"),
]
QUIET = ("武乡镇自来水这两天发黄有异味 大家家里也这样吗", "村里自来水颜色不对，不知道怎么回事。")
NOISE = [("西安今日天气晴 气温回升", "全市天气晴好，最高气温十八度。"),
         ("宝鸡举办秋季农产品展销会", "展销会吸引了上万名市民前来选购。"),
         ("咸阳新开通两条公交线路", "新线路方便了市民出行。")]
OWN = ("汉台区铺镇人民政府关于化工厂爆炸事故的情况通报", "经初步调查，事故造成3人受伤，均已送医，无生命危险，事故原因正在调查中。")


@dataclass(frozen=True)
class Feed:
    key: str
    rate: float  # new items per second
    spec: str  # the rest of its sources.toml table


FEEDS = [
    Feed("news", 3, 'kind = "rss"\nlocal = true\nplatform = "news"\n'),
    Feed("weibo", 4, 'kind = "rss"\nlocal = true\nplatform = "weibo"\n'),
    Feed("national", 3, 'kind = "rss"\nplatform = "news"\n'),  # half of it is outside noise
    Feed("own", 0.25, 'kind = "rss"\nlocal = true\nown_channel = true\nplatform = "gov"\n'),
]


RATES = {f.key: f.rate for f in FEEDS}
STAGGER = 6.0
GROW_SECONDS = 30.0  # by then every story has broken (6 x STAGGER)


def item_content(feed: str, i: int) -> tuple[str, str, str | None]:
    """(title, text, story key or None) of item ``i`` of a feed: deterministic."""
    if feed == "national" and i % 2:
        title, text = NOISE[i % len(NOISE)]
        return f"{title}（{i}）", f"{text}第{i}期。", None
    if feed == "own":
        return f"{OWN[0]}（第{i + 1}号）", OWN[1], None
    if i % 9 == 4:
        return f"{QUIET[0]} {i}", QUIET[1], "quiet"
    # Stories break one after another (every STAGGER seconds), so incidents open in later lives too.
    live = EVENTS[:min(len(EVENTS), 1 + int(i / RATES[feed] / STAGGER))]
    key, town, titles, text = live[(i * 5 + len(feed)) % len(live)]
    title = titles[(i // len(EVENTS)) % len(titles)]
    prefix = "" if feed != "national" else "陕西汉中："
    return f"{prefix}{title}（{feed}{i}）", f"{text}记者{i}号现场报道。", key


class GrowingFeeds:
    """RSS feeds whose items keep growing while not frozen; records what was fully served."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.wall0 = datetime.now(timezone.utc) - timedelta(minutes=20, seconds=50)
        self.frozen_at: float | None = None
        self.served: dict[str, set[str]] = {f.key: set() for f in FEEDS}
        self.lock = threading.Lock()
        self.rates = RATES
        self.hooked: Counter = Counter()  # alert keys (or "fold:<alert ids>") the webhook received

    async def hook(self, request: web.Request) -> web.Response:
        payload = await request.json()
        with self.lock:
            self.hooked[payload.get("key")] += 1
        return web.json_response({"ok": True})

    def delivered(self, db: Path) -> Counter:
        """Alert keys the webhook received, folded messages expanded through the alert tracks."""
        keys = {tid: json.loads(alert).get("key") for tid, alert in _query(db, "SELECT id, alert FROM alert_tracks")}
        out: Counter = Counter()
        with self.lock:
            for key, n in self.hooked.items():
                if key.startswith("fold:"):
                    for tid in key[5:].split(","):
                        out[keys.get(tid, f"unknown alert {tid}")] += n
                else:
                    out[key] += n
        return out

    def count(self, feed: str) -> int:
        now = self.frozen_at if self.frozen_at is not None else time.monotonic()
        # Growth stops after GROW_SECONDS: a slow machine gets no more work than a fast one.
        return int(min(now - self.t0, GROW_SECONDS) * self.rates[feed]) + 1

    async def handle(self, request: web.Request) -> web.Response:
        feed = request.match_info["feed"]
        n = self.count(feed)
        entries, guids = [], []
        for i in range(n - 1, max(n - WINDOW, 0) - 1, -1):
            guid = f"{feed}-{i}"
            guids.append(guid)
            title, text, _ = item_content(feed, i)
            pub = format_datetime(self.wall0 + timedelta(seconds=i * 2 / max(self.rates[feed], 1)))
            entries.append(
                f"<item><title>{title}</title><link>http://127.0.0.1/{feed}/{i}</link>"
                f"<guid isPermaLink='false'>{guid}</guid><pubDate>{pub}</pubDate>"
                f"<description>{text}</description></item>")
        resp = await send_rss(request, entries)
        with self.lock:  # only count as served once fully sent
            self.served[feed].update(guids)
        return resp


@pytest.fixture
def feeds():
    state = GrowingFeeds()
    app = web.Application()
    app.router.add_get("/f/{feed}", state.handle)
    app.router.add_post("/hook", state.hook)
    with serve_app(app) as base:
        state.base = base
        yield state


# A compressed clock: stories were first published ~21 min before the test starts and are due
# 21 min after that, so warnings (72/54/36/18 s left), overdue (breaking: sent to the webhook)
# and its repeats fire while the daemon is being killed; each must be recorded once, none lost.
CLOCK = """[clock]
start = "first_published"
warnings_hours = [0.02, 0.015, 0.01, 0.005]
overdue_repeat_hours = 0.005
late_grace_seconds = 5
[clock.release_due_hours]
"特别重大" = 0.35
"重大" = 0.35
"较大" = 0.35
"一般" = 0.35
"""


# Breaking alerts (incident opened, overdue) go to a loopback webhook as well as the console.
ALERTS = """[alerts]
enabled = true
dedup_window_minutes = 600
[alerts.channels.console]
type = "tui"
[alerts.channels.hook]
type = "webhook"
url = "BASE/hook"
rate_limits = ["1000/s"]
quiet_hours = false
[[alerts.rules]]
name = "breaking"
lanes = ["breaking"]
channels = ["console", "hook"]
[[alerts.rules]]
name = "digest"
lanes = ["digest"]
channels = ["console"]
"""


def _write_home(home: Path, base: str) -> None:
    home.mkdir()
    (home / "desk.toml").write_text(
        '[desk]\ndistrict_code = "610702"\ndistrict_name = "汉台区"\ntimezone = "Asia/Shanghai"\n'
        "[fetch]\nper_host_concurrency = 5\nper_host_spacing = 0.01\n" + ALERTS.replace("BASE", base) + CLOCK,
        encoding="utf-8")
    (home / "sources.toml").write_text("\n".join(
        f'[sources.{f.key}]\nname = "{f.key}"\nurl = "{base}/f/{f.key}"\ninterval = 2\n{f.spec}' for f in FEEDS),
        encoding="utf-8")


def _yuqing(home: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "yuqing", "--home", str(home), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


_LABEL_SCRIPT = """
import sys
from tui.facade import DeskFacade
db, item, field, value, actor = sys.argv[1:]
f = DeskFacade(db, actor=actor)
f.correct(int(item), field, value)
f.close()
"""


def _query(db: Path, sql: str, args=()) -> list:
    """One read on a fresh connection; [] while the database is not there yet or busy."""
    if not db.exists():
        return []
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()
    except sqlite3.OperationalError:
        return []


def _watermark(db: Path) -> int:
    rows = _query(db, "SELECT last_item_id FROM pipeline_state WHERE stage = 'understand'")
    return rows[0][0] if rows else 0


STAFF_KINDS = ("note", "ack", "label", "assign", "grade")
ASSIGNABLE = ("区住建局", "区教体局", "区卫健局", "区市场监管局", "铺镇", "北关街道")


@dataclass
class Write:
    kind: str  # one of STAFF_KINDS
    tag: str  # the unique actor (and note text) of this write
    iid: str = ""  # the incident written to
    rc: int | None = None
    killed: bool = False
    err: str = ""


class Staff:
    """Writers in parallel subprocesses, some killed at a random moment; records each outcome."""

    def __init__(self, home: Path, seed: int):
        self.home = home
        self.db = home / "desk.sqlite"
        self.rng = random.Random(seed)
        self.writes: list[Write] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def enough(self) -> bool:
        done = Counter(w.kind for w in list(self.writes) if w.rc == 0)
        return all(done[k] >= 2 for k in STAFF_KINDS)

    def _loop(self) -> None:
        n = 0
        while not self.stop.is_set():
            incidents = [r[0] for r in _query(self.db, "SELECT id FROM incidents")]
            items = [r[0] for r in _query(self.db, "SELECT id FROM items ORDER BY id DESC LIMIT 200")]
            kind = STAFF_KINDS[n % len(STAFF_KINDS)]
            if (kind != "label" and not incidents) or not items:
                time.sleep(0.2)
                continue
            n += 1
            tag = f"{kind}-{n}"
            iid = str(self.rng.choice(incidents)) if incidents else ""
            if kind == "label":
                field, value = self.rng.choice([("sentiment", "负面"), ("sentiment", "中性"), ("place", "铺镇")])
                argv = [sys.executable, "-c", _LABEL_SCRIPT, str(self.db), str(self.rng.choice(items)), field,
                        value, tag]
            else:
                # assign: a gazetteer unit the incident does not have, replacing the list, so each
                # successful write records one "assigned" event
                held = set(json.loads((_query(self.db, "SELECT assigned_units FROM incidents WHERE id = ?",
                                                 [int(iid)]) or [("[]",)])[0][0])) if kind == "assign" else set()
                unit = self.rng.choice([u for u in ASSIGNABLE if u not in held])
                args = {"note": ["note", iid, f"值班备注 {tag}"], "ack": ["ack", iid],
                        "assign": ["assign", iid, unit, "--replace"],
                        "grade": ["grade", iid, self.rng.choice(["较大", "重大"]), "--reason", tag]}[kind]
                argv = [sys.executable, "-m", "yuqing", "--home", str(self.home), *args, "--actor", tag]
            proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            w = Write(kind, tag, iid)
            self.writes.append(w)
            # The first round of writes always finishes; later ones are killed at random moments.
            timeout = self.rng.uniform(0.05, 1.2) if n > 2 * len(STAFF_KINDS) and self.rng.random() < 0.5 else 30
            try:
                w.err = (proc.communicate(timeout=timeout)[1].strip().splitlines() or [""])[-1]
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                w.killed = True
                proc.communicate()
            w.rc = proc.returncode
            time.sleep(self.rng.uniform(0.1, 0.6))


def _pipeline_starts(home: Path) -> int:
    """How many times the pipeline has resumed from a watermark (lines in the desk log)."""
    try:
        return (home / "logs" / "desk.log").read_bytes().count("pipeline resumed after item".encode())
    except FileNotFoundError:
        return 0


# How each life ends: during start-up and intake; a random instant after the pipeline resumed
# (most often inside its first batch transaction, the backlog of the dead time); a random
# instant after a batch committed (between or inside later batches, incidents opening).
MIN_LIVES = 6
BUDGET = 40.0  # seconds of lives; past it (a slow machine) no new life starts after MIN_LIVES
STORIES = 3  # stories that must have broken before the feeds freeze
CATCH_UP = 300  # seconds the clean run may take (a generous bound for a slow, busy machine)
MODES = ["early", "commit", "batch", "commit", "early", "batch", "commit", "batch"]


def _kill_lives(home: Path, rng: random.Random) -> dict[str, int]:
    """Run and SIGKILL the daemon once per MODES entry; how many lives ended in each mode."""
    db = home / "desk.sqlite"
    ended: Counter = Counter()
    for life, mode in enumerate(MODES):
        if life >= MIN_LIVES and time.monotonic() - T0 > BUDGET:
            break  # a busy machine: fewer lives, the test stays short
        start_mark, starts = _watermark(db), _pipeline_starts(home)
        proc = _yuqing(home, "run")
        deadline = time.monotonic() + 20
        try:
            if mode == "early":  # model loading, first fetches, the replay of the story window
                time.sleep(rng.uniform(0.3, 2.5))
            elif mode == "batch":
                while time.monotonic() < deadline and proc.poll() is None and _pipeline_starts(home) == starts \
                        and _watermark(db) == start_mark:
                    time.sleep(0.02)
                time.sleep(rng.uniform(0.0, 1.2))
            else:
                while time.monotonic() < deadline and proc.poll() is None and _watermark(db) == start_mark:
                    time.sleep(0.02)
                time.sleep(rng.uniform(0.0, 1.0))
            assert proc.poll() is None, "the daemon died on its own"
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        ended[mode] += 1
        print(f"life {life} ({mode}): killed at {time.monotonic() - T0:.1f} s, "
              f"watermark {start_mark} -> {_watermark(db)}")
    return ended


def _pending_clock_alerts(db: Path, at: datetime) -> list[str]:
    """Clock alerts due at ``at`` that no clock_alert event records yet (read only)."""
    from responders.incidents import IncidentService
    from responders.policy import policy_from_toml_text
    from storage.db import connect

    con = connect(db, readonly=True)
    try:
        svc = IncidentService(con, policy_from_toml_text(CLOCK))
        return [f"#{inc.id} {alert.key}" for inc, _, alert in svc.pending_clock_alerts(at)]
    except sqlite3.OperationalError:
        return ["(busy)"]
    finally:
        con.conn.close()


def _expected_hooks(db: Path) -> set[str]:
    """Keys of the breaking alerts the desk owes the webhook: each incident's opening, each overdue."""
    keys = {f"incident:{iid}:opened" for (iid,) in _query(db, "SELECT id FROM incidents")}
    for iid, payload in _query(db, "SELECT incident_id, payload FROM timeline_events WHERE kind = 'clock_alert'"):
        p = json.loads(payload)
        if p.get("kind") == "overdue":
            keys.add(f"clock:{iid}:{p['key']}")
    return keys


def _broken_stories(feeds: GrowingFeeds) -> set[str]:
    """The stories the local feeds carry so far (whatever the machine's speed)."""
    return {key for f in ("news", "weibo") for i in range(feeds.count(f))
            if (key := item_content(f, i)[2]) in {e[0] for e in EVENTS}}


def _catch_up(home: Path, feeds: GrowingFeeds) -> None:
    """Freeze the feeds once enough stories broke; one clean run until everything served is
    stored and analysed, and every clock alert that fell due (also while the desk was down) is
    recorded."""
    db = home / "desk.sqlite"
    wait_until = time.monotonic() + 120  # a generous bound: stories break every STAGGER seconds
    while len(_broken_stories(feeds)) < STORIES and time.monotonic() < wait_until:
        time.sleep(0.1)
    feeds.frozen_at = time.monotonic()
    started = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    proc = _yuqing(home, "run")
    deadline = time.monotonic() + CATCH_UP
    print(f"catch-up from {time.monotonic() - T0:.1f} s")
    pending: list[str] = []
    unsent: set[str] = set()
    waiting = "the daemon to start"
    try:
        while time.monotonic() < deadline:
            time.sleep(0.3)
            checked = _query(db, "SELECT count(*) FROM sources WHERE last_check_at > ?", [started])
            if not checked or checked[0][0] < len(FEEDS):
                waiting = f"every feed checked ({checked})"
                continue
            stored = {(s, g) for s, g in _query(db, "SELECT source_id, guid FROM items")}
            served = {(k, g) for k, guids in feeds.served.items() for g in guids}
            top = _query(db, "SELECT max(id) FROM items")
            if not (served <= stored and top and _watermark(db) == top[0][0]):
                waiting = f"{len(served - stored)} served items to store, watermark {_watermark(db)} of {top}"
                continue
            waiting = "clock alerts, deliveries and the outbox"
            pending = _pending_clock_alerts(db, datetime.now(timezone.utc) - timedelta(seconds=2))
            unsent = _expected_hooks(db) - set(feeds.delivered(db))
            if not pending and not unsent and not _query(db, "SELECT 1 FROM notice_outbox LIMIT 1"):
                break
        else:
            pytest.fail(f"the clean run did not catch up within {CATCH_UP} s (waiting for {waiting}; "
                        f"clock alerts not fired: {pending};"
                        f" breaking alerts never delivered: {sorted(unsent)})")
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(20)
    assert rc == 0, "SIGTERM must exit cleanly"
    print(f"caught up at {time.monotonic() - T0:.1f} s, watermark {_watermark(db)}")


def _events(con, kind: str) -> list[tuple[int, str, dict]]:
    return [(iid, actor, json.loads(p)) for iid, actor, p in con.execute(
        "SELECT incident_id, actor, payload FROM timeline_events WHERE kind = ? ORDER BY id", [kind])]


@pytest.mark.slow
def test_sigkill_during_pipeline_and_staff_writes_loses_and_duplicates_nothing(tmp_path, feeds):
    global T0
    T0 = time.monotonic()
    home = tmp_path / "home"
    _write_home(home, feeds.base)
    db = home / "desk.sqlite"
    staff = Staff(home, SEED + 1)
    staff.thread.start()
    try:
        ended = _kill_lives(home, random.Random(SEED))
        # A busy machine may end the lives before every kind of write completed twice: the
        # staff go on against the stopped desk until they have (bounded, not a speed test).
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not staff.enough():
            time.sleep(0.2)
    finally:
        staff.stop.set()
        staff.thread.join(60)
    _catch_up(home, feeds)

    verify = subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), "verify"],
                            capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr

    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        items = con.execute("SELECT id, source_id, guid FROM items").fetchall()
        ids = [r[0] for r in items]
        keys = [(r[1], r[2]) for r in items]
        story_of = {r[0]: item_content(r[1], int(r[2].rsplit("-", 1)[1]))[2] for r in items}

        # Intake: every served item stored once.
        served = {(k, g) for k, guids in feeds.served.items() for g in guids}
        assert len(keys) == len(set(keys)), "an item was stored twice"
        missing = served - set(keys)
        assert not missing, f"{len(missing)} served items never stored, e.g. {sorted(missing)[:3]}"

        # Understanding: every stored item analysed once and indexed once.
        analysed = [r[0] for r in con.execute("SELECT item_id FROM item_analysis")]
        assert Counter(analysed) == Counter(ids), "item_analysis differs from items"
        indexed = [r[0] for r in con.execute("SELECT rowid FROM items_fts")]
        assert Counter(indexed) == Counter(ids), "items_fts differs from items"

        # Incidents: one per story, each item linked once, the timeline agrees with the links.
        incidents = {r[0]: r[1] for r in con.execute("SELECT id, title FROM incidents WHERE merged_into IS NULL")}
        story_incidents = Counter(r[0] for r in con.execute("SELECT story_id FROM incident_stories"))
        assert all(n == 1 for n in story_incidents.values()), \
            f"a story belongs to several incidents: {[s for s, n in story_incidents.items() if n > 1]}"
        links = con.execute("SELECT incident_id, item_id FROM incident_items").fetchall()
        per_item = Counter(item for _, item in links)
        assert all(n == 1 for n in per_item.values()), \
            f"items linked to several incidents: {[i for i, n in per_item.items() if n > 1][:5]}"
        by_story: dict[str, set[int]] = {}
        for iid, item in links:
            by_story.setdefault(story_of.get(int(item)), set()).add(iid)
        reported = {story_of[r[0]] for r in items if r[1] in ("news", "weibo")}  # by local sources
        for key in [e[0] for e in EVENTS] + ["quiet"]:
            got = sorted(by_story.get(key, ()))
            assert len(got) <= 1, f"story {key}: several incidents {[(i, incidents.get(i)) for i in got]}"
            assert got or key == "quiet" or key not in reported, f"story {key}: no incident opened"
        assert len(reported & {e[0] for e in EVENTS}) >= STORIES, "too few stories broke before the feeds froze"
        assert None not in by_story, "an outside or own-channel item was linked to an incident"
        assert set(incidents) == set().union(*by_story.values()), f"incidents without a story: {incidents}"

        detected = Counter(iid for iid, _, _ in _events(con, "detected"))
        assert set(detected) == set(incidents) and set(detected.values()) == {1}, f"detected events: {detected}"
        timeline_links: dict[int, list[str]] = {}
        for kind in ("item_linked", "candidate_joined"):
            for iid, _, p in _events(con, kind):
                timeline_links.setdefault(iid, []).extend(p.get("item_ids", []))
        for iid in incidents:
            linked = sorted(str(item) for i, item in links if i == iid)
            told = timeline_links.get(iid, [])
            assert len(told) == len(set(told)), f"incident {iid}: an item's link is on the timeline twice"
            assert sorted(told) == linked, f"incident {iid}: timeline and incident_items disagree"
        # No link lost: every item of a story that belongs to an incident is linked to it.
        own = {r[0] for r in items if r[1] == "own"}
        story_items: dict[str, set[str]] = {}
        for item, sid in con.execute("SELECT item_id, story_id FROM item_analysis"):
            if item not in own:
                story_items.setdefault(sid, set()).add(str(item))
        linked_to: dict[int, set[str]] = {}
        for iid, item in links:
            linked_to.setdefault(iid, set()).add(item)
        for sid, iid in con.execute("SELECT story_id, incident_id FROM incident_stories"):
            lost = story_items.get(sid, set()) - linked_to.get(iid, set())
            assert not lost, f"story {sid} of incident {iid}: items {sorted(lost)[:5]} not linked"
        evidence = con.execute("SELECT incident_id, content_hash, count(*) FROM incident_evidence"
                               " WHERE content_hash IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1").fetchall()
        assert not evidence, f"evidence stored twice: {evidence}"
        proposed = Counter(p["proposal_id"] for _, _, p in _events(con, "release_proposed"))
        rows = {r[0] for r in con.execute("SELECT id FROM release_proposals")}
        assert set(proposed) == rows and set(proposed.values()) <= {1}, "release proposals and timeline disagree"
        per_own = Counter(r[0] for r in con.execute("SELECT item_id FROM release_proposals"))
        assert all(n == 1 for n in per_own.values()), f"an own-channel item was proposed twice: {per_own}"

        alerts = Counter((iid, p.get("key")) for iid, _, p in _events(con, "clock_alert"))
        assert all(n == 1 for n in alerts.values()), f"a clock alert fired twice: {alerts}"
        assert alerts, "no clock alert fired: the compressed clock did not run"

        # Alerts: every breaking alert reached the webhook, or (fired just before the clean stop)
        # waits in the outbox or the webhook's queue for the next start.
        owed, delivered = _expected_hooks(db), feeds.delivered(db)
        waiting = {json.loads(n).get("key") for (n,) in con.execute("SELECT notice FROM notice_outbox")}
        waiting |= {json.loads(a).get("key") for (a,) in con.execute(
            "SELECT alert FROM alert_queue WHERE channel = 'hook'")}
        lost = owed - set(delivered) - waiting
        assert not lost, f"breaking alerts never delivered: {sorted(lost)}"
        overdue = sum(1 for k in owed if k.startswith("clock:"))
        resent = {k: n for k, n in delivered.items() if n > 1}  # at-least-once: a kill mid-send repeats it

        # Staff writes: acknowledged (exit 0) exactly once; killed at most once; failed never.
        by_actor = {kind: Counter(actor for _, actor, _ in _events(con, event))
                    for kind, event in (("ack", "acknowledged"), ("assign", "assigned"), ("grade", "graded"))}
        notes = Counter(p["text"] for _, _, p in _events(con, "note"))
        by_actor["note"] = Counter({t.removeprefix("值班备注 "): n for t, n in notes.items()})
        by_actor["label"] = Counter(r[0] for r in con.execute("SELECT actor FROM labels"))
        # A repeated ack is a no-op: each incident is acknowledged once, by the first ack that exited 0
        # (or by one that was killed after its commit).
        acks = Counter(iid for iid, _, _ in _events(con, "acknowledged"))
        assert all(n == 1 for n in acks.values()), f"an incident was acknowledged twice: {acks}"
        for w in staff.writes:
            n = by_actor[w.kind][w.tag]
            if w.kind == "ack" and w.rc == 0:
                assert n <= 1 and acks[int(w.iid)] == 1, f"ack {w.tag} exited 0 but incident {w.iid} has {n}"
            elif w.rc == 0:
                assert n == 1, f"{w.kind} {w.tag} exited 0 but is stored {n} times"
            elif w.killed:
                assert n <= 1, f"{w.kind} {w.tag} (killed) is stored {n} times"
            else:
                assert n == 0, f"{w.kind} {w.tag} failed (exit {w.rc}: {w.err}) but is stored {n} times"
        assert not [w for w in staff.writes if not w.killed and w.rc != 0], \
            f"staff writes failed: {[(w.tag, w.rc, w.err) for w in staff.writes if not w.killed and w.rc]}"
    finally:
        con.close()

    done = Counter(w.kind for w in staff.writes if w.rc == 0)
    print(f"{len(ids)} items, {len(incidents)} incidents, {len(alerts)} clock alerts ({overdue} overdue), "
          f"{sum(delivered.values())} alerts to the webhook (repeated: {resent}), staff writes done {dict(done)}, "
          f"killed {sum(w.killed for w in staff.writes)}")
    assert sum(ended.values()) >= MIN_LIVES and ended["batch"] >= 2 and ended["commit"] >= 2
    assert all(done[k] >= 2 for k in STAFF_KINDS), f"too few staff writes completed: {done}"
