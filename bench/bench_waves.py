"""Burst detection through a sustained crisis, by hand (needs ../shared):

    python -m bench.bench_waves [--days 200,2000,10000,15000,20000,20000] [--seed 7]

Builds a multi-day stream from real Weibo posts whose background grows 100x, with news
events of 150-1200 posts planted on later days (tests/waves.py), runs the story engine
over it and prints, per event, its size and the day it turned hot, and per day the
stories turning hot (background ones apart).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from classifiers.stories import StoryEngine  # noqa: E402
from tests.waves import T0, build_stream, evaluate, load_sources  # noqa: E402

SHARED = REPO.parent / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", default="200,2000,10000,15000,20000,20000")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--floors", action="store_true", help="print the stream floor's range per day")
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit("../shared/data is not present")
    import opencc

    per_day = [int(x) for x in args.days.split(",")]
    posts, titles = load_sources(SHARED)
    items, events = build_stream(posts, titles, per_day, seed=args.seed, s2t=opencc.OpenCC("s2t.json"))
    t = time.process_time()
    eng = StoryEngine()
    out = []
    floors: dict[int, list[float]] = {}
    titles: dict[str, tuple[int, str]] = {}
    for i in range(0, len(items), 200):
        got = eng.add_many(items[i:i + 200])
        out.extend(got)
        for a, it in zip(got, items[i:i + 200]):
            if a.hot and a.story_id not in titles:
                titles[a.story_id] = ((it.published - T0).days, eng.story(a.story_id).label)
        if args.floors:
            floors.setdefault((items[i].published - T0).days, []).append(eng._baseline.floor(eng.now.timestamp()))
    cpu = time.process_time() - t
    res = evaluate(items, out, events, len(per_day))
    print(f"{len(items)} items, {cpu:.0f} s CPU ({len(items) / cpu:.0f} items/s)")
    print("background per day:", per_day)
    for j, ev in enumerate(events):
        d = res["detected"][j]
        print(f"event {j}: day {ev.day} {ev.hour:4.1f}h size {ev.size:5d} tau {ev.tau_hours}h -> "
              f"{'hot on day ' + str(d) if d is not None else 'NOT hot'}  {ev.name}")
    print("stories turning hot per day:", res["hot_per_day"])
    print("of them background:         ", res["background_hot_per_day"])
    for sid, (d, title) in titles.items():
        print(f"hot on day {d}: {sid}  {title}")
    for d, fl in sorted(floors.items()):
        print(f"day {d}: floor {min(fl):.0f}..{max(fl):.0f}")


if __name__ == "__main__":
    main()
