"""One viral story through the desk pipeline: memory of a first run and of a restart.

    python -m bench.bench_viral [--items 50000] [--hours 24] [--repo PATH]

A real viral post is reposted tens of thousands of times within hours: bare reposts
("转发：... 现场视频{i}"), reposts with a comment quoting the post
("太吓人了//@用户12:【汉台区铺镇化工厂发生爆炸】..."), repost chains two or three deep,
truncated copies ("...全文") and a few sentences of the same event in other words. Here
``--items`` of them (one story), from a handful of sources (some local), are stored in a
temporary desk and then, each in its own process (so the peak resident memory is that
stage's alone: VmHWM of /proc/self/status, as ``resource.getrusage`` would count the
parent's memory at the fork):

* first run: the pipeline opens and understands every stored item (step by step, as
  ``yuqing run`` does);
* restart: the pipeline opens again, which replays the 72 h window from the database
  into the story engine before it resumes. The restart time is that of ``open()``
  (the classifier's load included: it is what staff wait for).

Goals (issue 17): peak memory under 300 MB, restart under 10 s. ``--repo`` runs the
two stages with another checkout's code (to compare versions on the same database).
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

UTC = timezone.utc
POST = ("【汉台区铺镇化工厂发生爆炸】12月5日14时许，汉中市汉台区铺镇一化工厂发生爆炸，现场浓烟滚滚，"
        "附近居民称听到巨响、窗户玻璃被震碎。消防、应急部门已赶赴现场处置，伤亡情况正在核实中。")
TITLE = "汉台区铺镇化工厂爆炸"
COMMENTS = ["太吓人了", "转发", "希望大家平安", "现场什么情况？", "求官方通报", "离我家不远", "天哪", "关注",
            "祈福🙏", "附近的朋友注意安全", "有没有人受伤", "刚才听到了巨响", "别乱传，等通报", "扩散",
            "这个厂之前就有人举报过", "消防员辛苦了", "[泪][泪]", "铺镇的朋友还好吗", "看到浓烟了", "@汉中发布 请回应"]
OTHER_WORDS = ["汉台区铺镇一化工厂下午发生爆炸，消防已到场，暂无伤亡通报。",
               "铺镇化工厂爆炸现场视频：浓烟冲天，周边道路已封闭。",
               "网传汉台区铺镇化工厂爆炸，应急管理局称正在核实处置。",
               "实拍：汉中铺镇化工厂爆炸后浓烟，附近居民紧急疏散。"]


def viral_texts(n: int, seed: int = 17) -> list[tuple[str, str]]:
    """(title, text) of ``n`` reposts of one post."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        r = rng.random()
        if r < 0.5:  # the bare repost with a counter, as a repost bot or a hot-list scraper makes it
            out.append(("", f"转发：{TITLE} 现场视频{i}"))
        elif r < 0.75:  # a repost with a comment quoting the post
            out.append(("", f"{rng.choice(COMMENTS)}//@用户{rng.randrange(1, 5000)}:{POST}"))
        elif r < 0.87:  # a chain two or three deep
            chain = "".join(f"//@用户{rng.randrange(1, 5000)}:{rng.choice(COMMENTS)}" for _ in range(rng.randint(1, 2)))
            out.append(("", f"{rng.choice(COMMENTS)}{chain}//@汉中发布:{POST}"))
        elif r < 0.95:  # a truncated copy
            out.append((TITLE, POST[: rng.randint(30, len(POST) - 10)] + "...全文"))
        else:  # the same event in other words
            out.append(("", f"{rng.choice(OTHER_WORDS)}{rng.choice(COMMENTS)}"))
    return out


def build(tmp: Path, n: int, hours: float) -> tuple[Path, datetime]:
    """A desk home with ``n`` stored items of one story; returns (home path, the desk clock)."""
    from monitor import store
    from monitor.types import ParsedItem, SourceSpec
    from storage.db import open_db
    from yuqing.config import init_home
    from yuqing.home import DeskHome
    from pipeline.schema import all_migrations

    home = DeskHome(tmp / "home")
    init_home(home, sources_text="")
    db = open_db(home.db_target, all_migrations())
    specs = [SourceSpec(id=f"viral-{j}", name=f"微博{j}", url=f"http://127.0.0.1:9/feed/{j}", local=j % 3 == 0,
                        platform="weibo") for j in range(6)]
    start = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
    now = start + timedelta(hours=hours, minutes=5)
    store.sync_sources(db, specs, now)
    rng = random.Random(5)
    texts = viral_texts(n)
    # the reposts come faster and faster, then fade: sorted times over the span
    times = sorted(start + timedelta(seconds=hours * 3600 * rng.random() ** 2) for _ in range(n))
    items = [ParsedItem(guid=f"v{i}", title=t, link=f"https://weibo.example/{i}", text=b, published=ts,
                        metrics={"reposts": rng.randrange(0, 50), "comments": rng.randrange(0, 20),
                                 "likes": rng.randrange(0, 200)})
             for i, ((t, b), ts) in enumerate(zip(texts, times))]
    for k in range(0, n, 50):  # one transaction per fetch of 50, as the collector does
        store.store_fetch(db, specs[(k // 50) % len(specs)], items[k:k + 50], now=now, next_check=now, etag=None,
                          last_modified=None, body_digest=None)
    db.conn.close()
    return home.path, now


_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from datetime import datetime
sys.path.insert(0, {repo!r})
from yuqing.home import DeskHome
from yuqing.pipeline import desk_pipeline
home = DeskHome(Path({home!r}))
now = datetime.fromisoformat({now!r})
def peak_kb():  # this process's own peak: ru_maxrss starts from the parent's when it forked (Linux)
    try:
        return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0, c0 = time.monotonic(), time.process_time()
pipe = desk_pipeline(home.db_target, home.path, clock=lambda: now)  # loads the classifier
pipe.open()
open_s, open_cpu = time.monotonic() - t0, time.process_time() - c0
t0 = time.monotonic()
done = 0
while {step!r}:
    pipe.step()
    if not pipe.last_batch:
        break
    done += pipe.last_batch
step_s = time.monotonic() - t0
stories = pipe.engine.stories()
big = max((s.size for s in stories), default=0)
pipe.close()
print(json.dumps({{"open_s": open_s, "open_cpu": open_cpu, "step_s": step_s, "items": done, "window": len(pipe.engine), "stories": len(stories),
                  "largest": big, "peak_mb": peak_kb() / 1024}}))
"""


def stage(repo: Path, home: Path, now: datetime, step: bool) -> dict:
    code = _CHILD.format(repo=str(repo), home=str(home), now=now.isoformat(), step=step)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"the {'first run' if step else 'restart'} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--hours", type=float, default=24.0, help="span of the reposts' published times")
    ap.add_argument("--repo", type=Path, default=REPO, help="checkout whose code runs the pipeline")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="yuqing-bench-viral-") as tmp:
        t0 = time.monotonic()
        home, now = build(Path(tmp), args.items, args.hours)
        print(f"stored {args.items:,} reposts of one post in {time.monotonic() - t0:.1f}s")
        first = stage(args.repo, home, now, step=True)
        print(f"first run: {first['items']:,} items understood in {first['step_s']:.1f}s "
              f"(open {first['open_s']:.1f}s); {first['stories']} stories, largest {first['largest']:,} items; "
              f"peak RSS {first['peak_mb']:.0f} MB (goal < 300 MB)")
        again = stage(args.repo, home, now, step=False)
        print(f"restart: {again['window']:,} items replayed, open {again['open_s']:.1f}s "
              f"({again['open_cpu']:.1f}s CPU; goal < 10 s); "
              f"{again['stories']} stories, largest {again['largest']:,} items; "
              f"peak RSS {again['peak_mb']:.0f} MB (goal < 300 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
