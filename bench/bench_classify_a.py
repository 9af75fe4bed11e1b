"""Bench for issue 3 part A: normalisation, segmentation (rjieba vs jieba), jurisdiction.

Run by hand:  python -m bench.bench_classify_a [--n 3000]
Items are ~300 characters: real national news titles and Weibo posts from ../shared
glued together (fallback: synthetic local messages), with a Hantai message mixed in
every 10th item so the matcher's slow path (boundary checks) is exercised.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data" / "corpora"

LOCAL = [
    "汉台区铺镇联丰村村民反映村里道路坑洼不平，希望尽快修复。",
    "汉中北关一小区停水三天，区住建局回应正在抢修。",
    "宗营上街村路灯坏了一个月没人修。",
    "河東店鎮褒河社區附近工地夜間施工噪音擾民。",
]


def _pieces() -> list[str]:
    out: list[str] = []
    thuc = SHARED / "thucnews_titles" / "dev.txt"
    if thuc.exists():
        out += [ln.split("\t")[0] for ln in thuc.read_text(encoding="utf-8").splitlines() if ln.strip()]
    tnews = SHARED / "tnews" / "dev_few_all.json"
    if tnews.exists():
        out += [json.loads(ln)["sentence"] for ln in tnews.read_text(encoding="utf-8").splitlines() if ln.strip()]
    weibo = SHARED / "weibo_emotion" / "weibo_emotion_dev.csv"
    if weibo.exists():
        import csv

        with open(weibo, encoding="utf-8") as fh:
            out += [r["review"] for _, r in zip(range(5000), csv.DictReader(fh))]
    return out or LOCAL * 50


def make_items(n: int, size: int = 300, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    pieces = _pieces()
    items = []
    for i in range(n):
        parts, length = [], 0
        if i % 10 == 0:
            parts.append(rng.choice(LOCAL))
            length += len(parts[0])
        while length < size:
            p = rng.choice(pieces)
            parts.append(p)
            length += len(p) + 1
        items.append("。".join(parts)[:size])
    return items


def rate(fn, items, repeat=3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(items)
        times.append(time.perf_counter() - t)
    return len(items) / statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3000)
    args = ap.parse_args()
    items = make_items(args.n)
    print(f"{len(items)} items, mean {statistics.mean(map(len, items)):.0f} chars")

    t = time.perf_counter()
    from classifiers.normalize import normalize, normalize_many, to_simplified

    to_simplified("漢")
    print(f"cold: opencc import+load {time.perf_counter() - t:.3f}s")
    print(f"normalize (one call per item) {rate(lambda xs: [normalize(x) for x in xs], items):>10,.0f} items/s")
    print(f"normalize_many (one batch)    {rate(normalize_many, items):>10,.0f} items/s")

    from yuqing.gazetteer_io import load_context_gazetteer, load_gazetteer

    t = time.perf_counter()
    gaz, ctx = load_gazetteer(), load_context_gazetteer()
    print(f"cold: load gazetteer files {time.perf_counter() - t:.3f}s")
    words = gaz.user_words() + ctx.user_words()
    from classifiers.segment import Segmenter

    for engine in ("rjieba", "jieba"):
        t = time.perf_counter()
        seg = Segmenter(words, engine=engine)
        seg.cut("预热")
        load = time.perf_counter() - t
        r = rate(seg.cut_many, items[: max(300, len(items) // (10 if engine == "jieba" else 1))], repeat=3)
        print(f"segment {engine:<7} load {load:.2f}s  {r:>10,.0f} items/s")

    from classifiers.jurisdiction import JurisdictionMatcher

    t = time.perf_counter()
    m = JurisdictionMatcher(gaz, context_gazetteer=ctx)
    print(f"cold: build matcher {time.perf_counter() - t:.3f}s")
    t = time.perf_counter()
    m.match(LOCAL[1])
    print(f"first match (loads rjieba) {time.perf_counter() - t:.3f}s")
    print(f"jurisdiction match_many       {rate(m.match_many, items):>10,.0f} items/s "
          f"({sum(j.involves_district for j in m.match_many(items))} of {len(items)} involve the district)")
    texts = [n.text for n in normalize_many(items)]
    print(f"normalize_many + match        {rate(lambda xs: m.match_many([n.text for n in normalize_many(xs)]), items):>10,.0f} items/s")
    assert texts


if __name__ == "__main__":
    main()
