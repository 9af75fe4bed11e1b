"""Quality of near-duplicates and burst detection on real Weibo posts (../shared).

Variants of real posts: reposts, truncated copies, Traditional copies, noise.
Skipped when ../shared is absent. Run with -s to see the numbers.
"""
from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta, timezone
from itertools import combinations

import pytest

from classifiers.stories import StoryEngine, StoryItem
from classifiers.stories.dedupe import clean_for_dedupe

pytestmark = pytest.mark.shared

T0 = datetime(2026, 6, 1, tzinfo=timezone.utc)
EMOJI = ["[哈哈]", "[怒]", "[泪]", "[doge]", "[赞]", "[思考]"]
TAGS = ["#热点#", "#汉中身边事#", "#今日话题#", "#微博热搜#"]
USERS = ["汉中生活圈", "路人甲", "小明同学", "新闻哥", "Sunny_77", "陕西头条"]
COMMENTS = ["转发微博", "真的假的", "太过分了！", "关注", "支持一下", "这是怎么回事？", ""]


def load_posts(shared_data, limit=None):
    path = shared_data / "corpora" / "weibo_emotion" / "weibo_emotion_dev.csv"
    with open(path, encoding="utf-8") as fh:
        rows = [r["review"].strip() for r in csv.DictReader(fh)]
    seen, out = set(), []
    for r in rows:
        key = clean_for_dedupe(r)
        if key in seen or not r:
            continue
        seen.add(key)
        out.append(r)
    return out[:limit] if limit else out


def _t2s():
    import opencc

    return opencc.OpenCC("s2t.json")


def variant(text: str, kind: str, rng: random.Random, s2t) -> str:
    if kind == "repost":
        form = rng.randrange(3)
        if form == 0:
            return f"{rng.choice(COMMENTS)}//@{rng.choice(USERS)}: {text}"
        if form == 1:
            return f"{rng.choice(COMMENTS)}//@{rng.choice(USERS)}:{rng.choice(COMMENTS)}//@{rng.choice(USERS)}: {text}"
        return f"回复@{rng.choice(USERS)}: {text}"
    if kind == "truncate":
        cut = max(20, int(len(text) * rng.uniform(0.45, 0.8)))
        return text[:cut] + rng.choice(["...全文", "…展开全文", "... 全文", "...展开全文c"])
    if kind == "traditional":
        return s2t.convert(text)
    # noise: punctuation, emoji, hashtag, URL
    out = text.replace("，", rng.choice([",", " ", "，，"])).replace("。", rng.choice(["", "!!", "。。。"]))
    if rng.random() < 0.6:
        out = rng.choice(TAGS) + out
    if rng.random() < 0.6:
        pos = rng.randrange(len(out) + 1)
        out = out[:pos] + rng.choice(EMOJI) + out[pos:]
    if rng.random() < 0.5:
        out += f" http://t.cn/A{rng.randrange(10**6)}"
    return out


def build_dup_set(posts, rng, s2t, n_groups=2500, n_single=6000, min_chars=8):
    """(items, truth group per item id): groups of an original plus 1-3 variants.
    Originals have at least ``min_chars`` characters once cleaned: shorter posts
    ("辛苦了", "哈哈哈") are written independently by many people and are never
    called duplicates. Distractors have any length."""
    rng.shuffle(posts)
    long_enough = [p for p in posts if len(clean_for_dedupe(p)) >= min_chars]
    groups = long_enough[:n_groups]
    chosen = set(groups)
    singles = [p for p in posts if p not in chosen][:n_single]
    entries = []
    for g, text in enumerate(groups):
        entries.append((f"g{g}-0", text, g))
        kinds = ["repost", "traditional", "noise"] + (["truncate"] if len(text) >= 40 else [])
        for j, kind in enumerate(rng.sample(kinds, rng.randint(1, min(3, len(kinds))))):
            entries.append((f"g{g}-{j + 1}-{kind}", variant(text, kind, rng, s2t), g))
    for i, text in enumerate(singles):
        entries.append((f"u{i}", text, f"u{i}"))
    rng.shuffle(entries)
    return entries


def pairwise(groups_pred: dict, groups_true: dict):
    def pairs(groups):
        by = {}
        for k, g in groups.items():
            by.setdefault(g, []).append(k)
        return {frozenset(p) for members in by.values() for p in combinations(sorted(members), 2)}

    pred, true = pairs(groups_pred), pairs(groups_true)
    tp = len(pred & true)
    return tp / max(len(pred), 1), tp / max(len(true), 1), len(pred), len(true)


def run_dups(entries):
    eng = StoryEngine()
    items = [StoryItem(iid, "", text, T0 + timedelta(seconds=i * 20), "weibo") for i, (iid, text, _) in enumerate(entries)]
    out = eng.add_many(items)
    pred = {a.item_id: (a.duplicate_of or a.item_id) for a in out}
    true = {iid: g for iid, _, g in entries}
    return pairwise(pred, true), out


def test_near_duplicate_precision_recall(shared_data):
    rng = random.Random(4)
    posts = load_posts(shared_data)
    entries = build_dup_set(posts, rng, _t2s())
    (precision, recall, npred, ntrue), _ = run_dups(entries)
    print(f"\nnear-duplicates on {len(entries)} items: precision {precision:.4f} recall {recall:.4f} "
          f"(pairs predicted {npred}, true {ntrue})")
    assert precision >= 0.95
    assert recall >= 0.90


def test_near_duplicate_by_form(shared_data):
    rng = random.Random(5)
    posts = [p for p in load_posts(shared_data) if len(p) >= 40][:800]
    s2t = _t2s()
    for kind in ("repost", "truncate", "traditional", "noise"):
        entries = []
        for g, text in enumerate(posts):
            entries.append((f"g{g}-0", text, g))
            entries.append((f"g{g}-1", variant(text, kind, rng, s2t), g))
        (precision, recall, _, _), _ = run_dups(entries)
        print(f"\n{kind}: precision {precision:.4f} recall {recall:.4f}")
        assert precision >= 0.95 and recall >= 0.9, kind


def simulate_days(posts, rng, s2t, days=6, per_day=None, burst_day=3, burst_size=60, burst_minutes=60):
    """Background posts spread over days (with a day/night rhythm) and one planted
    burst: variants of one story within an hour on ``burst_day`` (0-based)."""
    per_day = per_day or min(2000, len(posts) // days)
    base_texts = posts[: days * per_day]
    items = []
    k = 0
    for d in range(days):
        for _ in range(per_day):
            hour = rng.choices(range(24), weights=[1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 8, 6, 4, 2])[0]
            ts = T0 + timedelta(days=d, hours=hour, seconds=rng.randrange(3600))
            items.append(StoryItem(f"b{k}", "", base_texts[k], ts, f"user{rng.randrange(5000)}"))
            k += 1
    story = ("汉台区龙江街道一小区昨晚发生燃气爆炸，多户居民窗户被震碎，有人受伤送医，"
             "消防和燃气公司已到场处置，原因正在调查中。")
    angles = ["现场视频来了", "附近居民说听到很大一声响", "受伤的人已经送到3201医院", "燃气公司正在排查管道",
              "小区居民被紧急疏散", "区应急管理局已介入调查", "希望大家没事", "太吓人了"]
    burst_start = T0 + timedelta(days=burst_day, hours=19, minutes=10)
    for i in range(burst_size):
        ts = burst_start + timedelta(seconds=rng.randrange(burst_minutes * 60))
        kind = rng.choice(["repost", "traditional", "noise", "angle", "angle"])
        if kind == "angle":
            text = f"汉台区龙江街道小区燃气爆炸，{rng.choice(angles)}，{rng.choice(angles)}"
        else:
            text = variant(story, kind, rng, s2t)
        items.append(StoryItem(f"burst{i}", "", text, ts, f"user{rng.randrange(5000)}"))
    items.sort(key=lambda it: it.published)
    return items


@pytest.mark.parametrize("size,minutes", [(60, 60), (30, 60), (40, 240)], ids=["60-in-1h", "30-in-1h", "40-in-4h"])
def test_planted_burst_hot_background_quiet(shared_data, size, minutes):
    rng = random.Random(6)
    posts = load_posts(shared_data)
    rng.shuffle(posts)
    items = simulate_days(posts, rng, _t2s(), burst_size=size, burst_minutes=minutes)
    eng = StoryEngine()
    out = eng.add_many(items)
    hot_bg = [a for a, it in zip(out, items) if a.hot and not it.id.startswith("burst")]
    burst = [a for a, it in zip(out, items) if it.id.startswith("burst")]
    burst_stories = {a.story_id for a in burst}
    hot_burst = [a for a in burst if a.hot]
    hot_days = {it.published.date() for a, it in zip(out, items) if a.hot}
    print(f"\nburst {size} items in {minutes} min: {len(hot_burst)}/{len(burst)} burst items hot, {len(burst_stories)} stories; "
          f"background hot items {len(hot_bg)}/{len(items) - len(burst)}; hot days {sorted(map(str, hot_days))}")
    assert hot_burst, "the planted burst was not flagged hot"
    assert hot_days == {(T0 + timedelta(days=3)).date()}
    assert len(hot_bg) == 0
