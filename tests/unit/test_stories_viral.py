"""A viral story (thousands of reposts of one post) costs bounded work and memory per item,
and a restart's replay rebuilds the same stories as the live run."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from classifiers.stories import StoryEngine, StoryItem
from classifiers.stories.dedupe import MAX_BUCKET, NEWEST_PREFIX

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 12, 5, 6, 0, tzinfo=timezone.utc)
BANDS = 16  # NearDuplicateIndex's default


def reposts(n: int, start: int = 0) -> list[StoryItem]:
    return [StoryItem(f"r{i}", "", f"转发：汉台区铺镇化工厂爆炸 现场视频{i}", T0 + timedelta(seconds=3 * i), "weibo")
            for i in range(start, start + n)]


def mixed(n: int) -> list[StoryItem]:
    """A big story of reposts, quoted copies and chains, between ordinary unrelated posts."""
    post = "【汉台区铺镇化工厂发生爆炸】12月5日14时许，汉台区铺镇一化工厂发生爆炸，现场浓烟滚滚，伤亡情况正在核实。"
    other = ["汉江边的樱花开了，周末去看的人很多", "兴元湖公园今晚有灯光秀，停车位紧张", "汉中面皮哪家最好吃？求推荐",
             "天汉大道修路，早高峰堵了半小时", "明天汉中有小雨，出门记得带伞"]
    out = []
    for i in range(n):
        ts = T0 + timedelta(seconds=5 * i)
        if i % 7 == 0:
            text = f"{other[i % 5]}，第{i}条"
        elif i % 3 == 0:
            text = f"太吓人了{i % 11}//@用户{i % 97}:{post}"
        else:
            text = f"转发：汉台区铺镇化工厂爆炸 现场视频{i}"
        out.append(StoryItem(str(i + 1), "", text, ts, f"src{i % 4}"))
    return out


def feed(items: list[StoryItem], batch: int) -> tuple[StoryEngine, list[tuple]]:
    eng = StoryEngine(segment=str.split)
    out = []
    for k in range(0, len(items), batch):
        out += [(a.item_id, a.story_id, a.duplicate_of) for a in eng.add_many(items[k:k + batch])]
    return eng, out


def test_a_story_of_reposts_is_compared_with_a_bounded_number_of_items():
    n = 3000
    eng, out = feed(reposts(n), 256)
    work = eng.work_counts()
    # without a bound every copy was compared with every earlier copy sharing a band key: ~n^2/2
    assert work["compared"] <= n * BANDS * MAX_BUCKET
    assert work["compared"] <= n * 200  # in practice far fewer than the bound
    assert work["largest_bucket"] <= max(MAX_BUCKET, NEWEST_PREFIX)
    # and the copies are still found: nearly all of them are duplicates, in one or a few stories
    assert sum(1 for _, _, dup in out if dup) >= 0.9 * n
    assert len({sid for _, sid, _ in out}) <= n // 50


_CHILD = r"""
import resource, sys
sys.path.insert(0, sys.argv[1])
from tests.unit.test_stories_viral import reposts
from classifiers.stories import StoryEngine
eng = StoryEngine(segment=str.split)
items = reposts(int(sys.argv[2]))
for k in range(0, len(items), 1024):  # the replay's chunk size
    eng.add_many(items[k:k + 1024])
try:  # this process's own peak: ru_maxrss starts from the parent's when it forked (Linux)
    print(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) // 1024)
except OSError:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def test_peak_memory_of_a_big_story_stays_small():
    # 5,000 copies peaked above 2 GB when every copy was compared with all the others
    res = subprocess.run([sys.executable, "-c", _CHILD, str(REPO), "5000"], capture_output=True, text=True,
                         timeout=600, cwd=REPO)
    assert res.returncode == 0, res.stderr
    peak_mb = int(res.stdout.split()[-1])
    assert peak_mb < 250, f"peak RSS {peak_mb} MB"


def test_batches_do_not_change_the_stories():
    """Live batches and the replay's chunks differ in size: the bounded candidates must not
    depend on them, or a restart would regroup a big story."""
    items = mixed(1400)
    _, one = feed(items, 1)
    _, live = feed(items, 256)
    eng, replay = feed(items, 1024)
    assert live == one
    assert replay == one
    sizes = sorted((s.size for s in eng.stories()), reverse=True)
    assert sizes[0] > 4 * MAX_BUCKET  # the story outgrew the bucket bound


def test_a_replay_with_the_known_assignments_skips_the_matching_and_gives_the_same_stories():
    items = mixed(1400)
    live_eng, live = feed(items, 256)
    known = [(sid, dup) for _, sid, dup in live]
    eng = StoryEngine(segment=str.split)
    replay = []
    for k in range(0, len(items), 1024):
        replay += [(a.item_id, a.story_id, a.duplicate_of) for a in eng.add_many(items[k:k + 1024], known[k:k + 1024])]
    assert replay == live
    assert [(s.id, s.item_ids, s.unique_size, s.first_id) for s in eng.stories()] == \
        [(s.id, s.item_ids, s.unique_size, s.first_id) for s in live_eng.stories()]
    assert eng.work_counts()["compared"] == 0  # no copy was matched again
    assert live_eng.work_counts()["compared"] > 0
    # the window's start cut the stories' first items off: those stories are gone, their
    # items are matched afresh (as without ``known``) instead of joining a missing story
    late = StoryEngine(segment=str.split)
    cut = 100
    out = late.add_many(items[cut:], known[cut:])
    assert {a.story_id for a in out} <= {sid for _, sid, _ in live} | {"s-" + it.id for it in items[cut:]}
    assert all(late.has_story(a.story_id) for a in out[-10:])
    fresh, _ = feed(items[cut:], 1024)
    assert [s.item_ids for s in late.stories()] == [s.item_ids for s in fresh.stories()]


# ---- the pipeline: restart after a viral story ---------------------------------------------

def _desk(tmp_path: Path, items: list[StoryItem]):
    from monitor import store
    from monitor.types import ParsedItem, SourceSpec
    from storage.db import open_db
    from yuqing.config import init_home
    from yuqing.home import DeskHome
    from pipeline.schema import all_migrations

    home = DeskHome(tmp_path / "home")
    init_home(home, sources_text="")
    db = open_db(home.db_path, all_migrations())
    specs = [SourceSpec(id=f"src{j}", name=f"微博{j}", url=f"http://127.0.0.1:9/feed/{j}", local=j == 0)
             for j in range(4)]
    now = items[-1].published + timedelta(minutes=5)
    store.sync_sources(db, specs, now)
    parsed = [ParsedItem(guid=it.id, title=it.title, link=f"https://weibo.example/{it.id}", text=it.text,
                         published=it.published) for it in items]
    for k in range(0, len(parsed), 50):
        store.store_fetch(db, specs[(k // 50) % 4], parsed[k:k + 50], now=now, next_check=now, etag=None,
                          last_modified=None, body_digest=None)
    db.conn.close()
    return home, now


def _stories(engine) -> list[tuple]:
    return sorted((s.id, s.size, s.unique_size, s.first_id, tuple(s.item_ids)) for s in engine.stories())


def test_a_restart_after_a_big_story_rebuilds_the_same_stories(tmp_path):
    from pipeline.schema import all_migrations
    from yuqing.pipeline import desk_pipeline

    home, now = _desk(tmp_path, mixed(700))
    pipe = desk_pipeline(home.db_path, home.path, clock=lambda: now)
    pipe.open()
    try:
        while True:
            pipe.step()
            if not pipe.last_batch:
                break
        live = _stories(pipe.engine)
    finally:
        pipe.close()
    again = desk_pipeline(home.db_path, home.path, clock=lambda: now)
    again.open()  # replays the window in chunks of another size than the live batches
    try:
        replayed = _stories(again.engine)
        counts = again.engine.work_counts()
    finally:
        again.close()
    assert replayed == live
    assert max(size for _, size, *_ in live) > 2 * MAX_BUCKET
    assert counts["largest_bucket"] <= max(MAX_BUCKET, NEWEST_PREFIX)
    con = sqlite3.connect(home.db_path)
    stored = {str(i): s for i, s in con.execute("SELECT item_id, story_id FROM item_analysis")}
    con.close()
    assert {iid: sid for sid, *_, ids in live for iid in ids} == stored
