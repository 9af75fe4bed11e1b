"""Bench: classifier throughput per core and cold start of `yuqing classify` (run by hand).

    python -m bench.bench_classify [--items 3000] [--batch 256]

Items are ~300 characters (title + body) composed from the bundled seed corpus with
district place names mixed in. Reports items/s for the whole `Classifier.classify_many`
once loaded, a per-stage breakdown, and the wall time from starting `yuqing classify`
to its first output line, with the topic model cached and with a fresh desk home
(model trained at first use). Goal: >= 3,000 items/s per core; first result < 2 s.
Rates are per CPU second of this process (``time.process_time``), so other work on the
machine inflates them less than wall time would; compare runs on a quiet machine.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PLACES = ["汉台区", "铺镇", "武乡镇", "北关街道", "汉中市", "城固县", "河东店镇", "龙江街道", "七里街道", ""]


def make_items(n: int, seed: int = 1) -> list[tuple[str, str]]:
    from yuqing.classify_io import load_seed

    rows = load_seed()
    rng = random.Random(seed)
    items = []
    for _ in range(n):
        title, text, _ = rng.choice(rows)
        body = rng.choice(PLACES) + text
        while len(title) + len(body) < 300:
            body += rng.choice(rows)[1]
        items.append((title, body[: 300 - len(title)]))
    return items


def throughput(clf, items, batch: int) -> float:
    """items/s of CPU time (process time: other processes on the machine do not count)."""
    t = time.process_time()
    for i in range(0, len(items), batch):
        clf.classify_many(items[i:i + batch])
    return len(items) / (time.process_time() - t)


def stages(clf, items, batch: int) -> dict[str, float]:
    """items/s of each stage alone, run the way ``classify_many`` runs it (CPU time)."""
    from classifiers.normalize import normalize_many
    from classifiers.pipeline import _join, _join_tokens

    n = len(items)
    out = {}
    t = time.process_time()
    normed = normalize_many([x[0] for x in items] + [x[1] for x in items])
    out["normalize"] = time.process_time() - t
    titles, bodies = [x.text for x in normed[:n]], [x.text for x in normed[n:]]
    full = list(map(_join, titles, bodies))
    own = list(map(_join, [x.own for x in normed[:n]], [x.own for x in normed[n:]]))
    t = time.process_time()
    cut = clf.segmenter.cut_many(titles + bodies)
    out["segment"] = time.process_time() - t
    tokens = list(map(_join_tokens, titles, bodies, cut[:n], cut[n:]))
    t = time.process_time()
    for i in range(0, n, batch):
        clf.topic_model.predict_many(tokens[i:i + batch], full[i:i + batch])
    out["topic"] = time.process_time() - t
    jurs = []
    t = time.process_time()
    for x in full:
        jurs.append(clf.matcher.match(x))
    out["jurisdiction"] = time.process_time() - t
    t = time.process_time()
    for x in own:
        clf.sentiment.analyze(x)
    out["sentiment"] = time.process_time() - t
    t = time.process_time()
    for x, j in zip(full, jurs):
        clf._scheme_hits(x, j)
    out["schemes"] = time.process_time() - t
    t = time.process_time()
    for x in full:
        clf.risk.assess(x, clf.risk.find(x))
    out["risk+severity"] = time.process_time() - t
    t = time.process_time()
    for j in jurs:
        clf.route("安全生产", j)
    out["routing"] = time.process_time() - t
    return {k: n / v for k, v in out.items()}


def first_result(home: Path, item: dict) -> float:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="0")
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "yuqing", "--home", str(home), "classify", "-"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    proc.stdin.write(json.dumps(item, ensure_ascii=False) + "\n")
    proc.stdin.flush()
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - t
    proc.stdin.close()
    proc.wait(timeout=60)
    if not line:
        raise SystemExit(f"no output: {proc.stderr.read()}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # per core
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        item = {"id": 1, "title": "汉台区铺镇一化工厂发生爆炸", "text": "已造成3人死亡、12人受伤。"}
        cold_train = first_result(home, item)
        cold_cached = min(first_result(home, item) for _ in range(3))
        print(f"first result, fresh home (trains the topic model): {cold_train:.2f} s")
        print(f"first result, model cached (best of 3):            {cold_cached:.2f} s")

        from yuqing.classify_io import load_classifier

        t = time.perf_counter()
        clf = load_classifier(home)
        print(f"load_classifier in-process (model cached):          {time.perf_counter() - t:.2f} s")
        items = make_items(args.items)
        avg = sum(len(a) + len(b) for a, b in items) / len(items)
        throughput(clf, items[:300], args.batch)  # warm caches
        rates = sorted(throughput(clf, items, args.batch) for _ in range(args.runs))
        print(f"classify_many, {len(items)} items of ~{avg:.0f} chars, batch {args.batch}: "
              f"median {rates[len(rates) // 2]:,.0f} items/s, best {rates[-1]:,.0f} "
              f"(runs: {', '.join(f'{r:,.0f}' for r in rates)})")
        best: dict[str, float] = {}
        for _ in range(args.runs):  # best of the runs: each stage alone is short and noisy
            for name, rate in stages(clf, items, args.batch).items():
                best[name] = max(best.get(name, 0.0), rate)
        total = sum(1e6 / r for r in best.values())
        print(f"  per stage, best of {args.runs} (us/item of the {total:.0f} us the stages sum to):")
        for name, rate in best.items():
            print(f"  {name:14s} {rate:10,.0f} items/s  {1e6 / rate:6.1f} us/item")


if __name__ == "__main__":
    main()
