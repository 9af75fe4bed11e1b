"""Throughput and memory of the story stage (dedupe + clustering + heat), by hand:

    python -m bench.bench_stories [--items 300000] [--window-items 100000] [--batch 200] [--pre-segmented]

Items are ~150-300 characters made from real Weibo posts when ../shared is present
(otherwise from a synthetic vocabulary), with 20 % near-duplicates (reposts,
truncations, Traditional copies). Published times are spaced so that the 72 h window
holds ``--window-items`` items; throughput is measured once the window is full.
As the desk pipeline does, every story a batch touched is summarised once after the
batch (``--no-summaries`` to skip). Reported per phase: items/s of CPU time (one core;
robust to a shared machine) and of wall time, resident memory and bytes per item in
the window.

Run it both ways: ``--pre-segmented`` is the desk pipeline's path (the pipeline hands the
engine the rjieba words classification already cut, so segmentation is not the story
stage's cost); without it the engine segments the first 400 characters itself (rjieba),
which is what ``yuqing stories`` on a file does. Compare versions by interleaving runs
(or running two at once) and taking medians: CPU time on a shared 2-core machine moves by
±15 %.
"""
from __future__ import annotations

import argparse
import csv
import random
import resource
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from classifiers.stories import StoryEngine, StoryItem  # noqa: E402

CORPUS = REPO.parent / "shared" / "data" / "corpora" / "weibo_emotion" / "weibo_emotion_dev.csv"


def rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sentences(rng: random.Random) -> list[str]:
    if CORPUS.is_file():
        with open(CORPUS, encoding="utf-8") as fh:
            return [r["review"] for r in csv.DictReader(fh) if r["review"].strip()]
    chars = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    return ["".join(rng.choice(chars) for _ in range(rng.randint(10, 60))) for _ in range(15000)]


def make_items(n: int, window_items: int, rng: random.Random):
    import opencc

    s2t = opencc.OpenCC("s2t.json")
    pool = sentences(rng)
    t0 = datetime(2026, 6, 1, tzinfo=timezone.utc)
    step = 72 * 3600 / window_items
    recent: list[str] = []
    out = []
    for i in range(n):
        r = rng.random()
        if recent and r < 0.2:
            base = rng.choice(recent)
            kind = rng.randrange(3)
            text = (f"转发微博//@用户{rng.randrange(999)}: {base}" if kind == 0 else
                    base[: int(len(base) * 0.6)] + "...全文" if kind == 1 else s2t.convert(base))
        else:
            parts, length = [], 0
            target = rng.randint(150, 300)
            while length < target:
                s = rng.choice(pool)
                parts.append(s)
                length += len(s)
            text = "，".join(parts)
            recent.append(text)
            if len(recent) > 2000:
                recent.pop(0)
        out.append(StoryItem(f"i{i}", "", text, t0 + timedelta(seconds=i * step), f"src{rng.randrange(300)}"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=300_000)
    ap.add_argument("--window-items", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--no-summaries", action="store_true", help="do not ask for the touched stories' summaries")
    ap.add_argument("--pre-segmented", action="store_true",
                    help="give the engine the words (as the pipeline does once it has segmented for the classifiers)")
    args = ap.parse_args()
    rng = random.Random(1)
    t = time.perf_counter()
    items = make_items(args.items, args.window_items, rng)
    print(f"built {len(items)} items in {time.perf_counter() - t:.1f}s; mean length "
          f"{sum(len(i.text) for i in items) / len(items):.0f} chars; rss {rss_mb():.0f} MB")
    t = time.perf_counter()
    acc = 0
    for i in range(1_000_000):
        acc += i
    print(f"machine check: a plain Python loop costs {(time.perf_counter() - t) * 1e3:.0f} ns per iteration "
          f"(~40 ns on an idle core; higher means the core is shared)")
    from classifiers.segment import default_segmenter

    seg = default_segmenter()
    sample = [i.text for i in items[:20000]]
    seg.cut(sample[0])
    t = time.perf_counter()
    cut = [tuple(seg.cut(x)) for x in sample]
    print(f"reference: rjieba segmentation alone {len(sample) / (time.perf_counter() - t):.0f} items/s")
    del cut
    if args.pre_segmented:
        import dataclasses

        from classifiers.normalize import normalize_many

        def with_words(batch):
            # as the pipeline: the words of the normalised text, made per batch (holding the words
            # of every item would only load the garbage collector); their cost is not counted
            texts = [n.text for n in normalize_many([it.text for it in batch])]
            return [dataclasses.replace(it, words=tuple(seg.cut(x))) for it, x in zip(batch, texts)]

        print("items carry their words (segmented per batch, not timed)")
    else:
        def with_words(batch):
            return batch
    base_rss = rss_mb()
    eng = StoryEngine()
    eng.add_many(with_words(items[:10]))  # load rjieba and OpenCC outside the timing
    done = 10
    report_every = args.window_items // 2
    t_phase, c_phase, n_phase = time.perf_counter(), time.process_time(), 0
    while done < len(items):
        c0, t0 = time.process_time(), time.perf_counter()
        batch = with_words(items[done: done + args.batch])
        c_phase += time.process_time() - c0  # not the story stage's time
        t_phase += time.perf_counter() - t0
        out = eng.add_many(batch)
        if not args.no_summaries:
            for sid in dict.fromkeys(a.story_id for a in out):
                eng.story(sid)
        done += len(batch)
        n_phase += len(batch)
        if done % report_every < args.batch:
            dt, dc = time.perf_counter() - t_phase, time.process_time() - c_phase
            grown = rss_mb() - base_rss
            print(f"{done:>8} items  {n_phase / dc:>7.0f} items/s (cpu)  {n_phase / dt:>7.0f} items/s (wall)  "
                  f"in window {len(eng):>7}  stories {len(eng._stories):>7}  rss +{grown:.0f} MB "
                  f"({grown * 1048576 / max(len(eng), 1):,.0f} B/item)")
            t_phase, c_phase, n_phase = time.perf_counter(), time.process_time(), 0


if __name__ == "__main__":
    main()
