"""Multi-day streams of a sustained crisis from real posts, with planted events (tests and bench).

The background is real Weibo posts (../shared weibo_emotion: posts of the COVID-19 weeks)
at a volume that grows day by day (e.g. 200 -> 20,000 a day), a third of them reposts of
recent background posts (repost chains with @-mentions), some as Traditional or noisy
copies. Planted events are real news titles (../shared thucnews_titles, society), each
arriving on a later day as a wave: the news post, reposts of it with comments, posts in
the poster's own words around the title, copies; exponential decay from a start hour.
"""
from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from classifiers.stories import StoryItem

T0 = datetime(2026, 1, 20, tzinfo=timezone.utc)
USERS = ["汉中生活圈", "路人甲", "小明同学", "新闻哥", "Sunny_77", "陕西头条", "人民日报", "央视新闻", "头条新闻",
         "北京青年报", "梨视频", "新京报"]
COMMENTS = ["转发微博", "真的假的", "太过分了！", "关注", "支持一下", "这是怎么回事？", "", "希望没事", "天哪",
            "严查！", "心疼", "[怒]", "[泪]", "转发", "等后续"]
RHYTHM = [1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 8, 6, 4, 2]


@dataclass(frozen=True)
class Event:
    name: str  # the news title
    day: int
    hour: float  # start, hours after midnight (UTC of the stream)
    size: int
    tau_hours: float  # mean delay of an item after the start (exponential)


def load_sources(shared: Path) -> tuple[list[str], list[str]]:
    with open(shared / "corpora" / "weibo_emotion" / "weibo_emotion_dev.csv", encoding="utf-8") as fh:
        posts = list(dict.fromkeys(r["review"].strip() for r in csv.DictReader(fh) if r["review"].strip()))
    titles = []
    with open(shared / "corpora" / "thucnews_titles" / "dev.txt", encoding="utf-8") as fh:
        for line in fh:
            t, _, lab = line.rstrip("\n").rpartition("\t")
            if lab == "5" and 12 <= len(t) <= 30:
                titles.append(t.replace("(图)", "").replace("(组图)", "").strip())
    return posts, titles


def default_events(titles: list[str], rng: random.Random, scale: float = 1.0) -> list[Event]:
    """Events of different sizes on days 1..5 (day 0 is the quiet first day)."""
    plan = [(1, 150, 1.5), (2, 300, 2.0), (2, 1200, 3.0), (3, 600, 2.0), (3, 200, 6.0), (4, 1000, 2.5),
            (4, 150, 1.0), (5, 400, 3.0)]
    picked = rng.sample(titles, len(plan))
    events = [Event(t, d, rng.uniform(7, 17), max(20, int(n * scale)), tau) for t, (d, n, tau) in zip(picked, plan)]
    # new developments inside the crisis itself (headlines of January 2020): its vocabulary
    crisis = [(2, 500, 2.0, "湖北省启动重大突发公共卫生事件一级响应"),
              (3, 300, 2.0, "武汉市城市公交地铁轮渡长途客运暂停运营"),
              (4, 800, 3.0, "钟南山：新型冠状病毒肺炎肯定人传人"),
              (5, 250, 2.5, "火神山医院正式交付 首批患者入院治疗")]
    events += [Event(t, d, rng.uniform(7, 17), max(20, int(n * scale)), tau) for d, n, tau, t in crisis]
    return events


def _variant(text: str, rng: random.Random, s2t) -> str:
    k = rng.random()
    if k < 0.15 and s2t is not None:
        return s2t.convert(text)
    if k < 0.35:
        out = text.replace("，", rng.choice([",", " "]))
        if rng.random() < 0.5:
            out += f" http://t.cn/A{rng.randrange(10**6)}"
        return out + rng.choice(["", "[泪]", "[doge]"])
    return text


def _repost(text: str, rng: random.Random) -> str:
    chain = "".join(f"{rng.choice(COMMENTS)}//@{rng.choice(USERS)}:" for _ in range(rng.randrange(2)))
    return f"{rng.choice(COMMENTS)}{chain}//@{rng.choice(USERS)}: {text}"


def build_stream(posts: list[str], titles_or_events, per_day: list[int], seed: int = 7, s2t=None,
                 repost_share: float = 0.3) -> tuple[list[StoryItem], list[Event]]:
    """Items sorted by published time; ids ``b...`` background, ``e<j>-...`` event j."""
    rng = random.Random(seed)
    events = titles_or_events if titles_or_events and isinstance(titles_or_events[0], Event) \
        else default_events(titles_or_events, rng)
    pool = posts[:]
    rng.shuffle(pool)
    items: list[StoryItem] = []
    recent: list[str] = []
    crisis_posts = [p for p in pool if any(w in p for w in ("疫情", "肺炎", "武汉", "口罩", "病毒", "确诊"))]
    ongoing = crisis_posts[:40]  # the crisis's ongoing topics
    zipf = [1.0 / (r + 1) for r in range(len(ongoing))]
    k = 0
    for d, n in enumerate(per_day):
        hours = rng.choices(range(24), weights=RHYTHM, k=n)
        hours.sort()
        for h in hours:
            ts = T0 + timedelta(days=d, hours=h, seconds=rng.randrange(3600))
            r = rng.random()
            if r < repost_share / 2:  # the crisis's ongoing topics: a few posts reposted day after day
                text = _repost(rng.choices(ongoing, weights=zipf)[0], rng)
            elif recent and r < repost_share:
                text = _repost(rng.choice(recent[-300:]), rng)
            else:
                text = _variant(pool[k % len(pool)], rng, s2t)
                recent.append(pool[k % len(pool)])
                k += 1
            items.append(StoryItem(f"b{len(items)}", "", text, ts, f"user{rng.randrange(20000)}"))
    for j, ev in enumerate(events):
        start = T0 + timedelta(days=ev.day, hours=ev.hour)
        head = f"【{ev.name}】"
        for i in range(ev.size):
            ts = start + timedelta(hours=min(20.0, rng.expovariate(1.0 / ev.tau_hours)))
            r = rng.random()
            if i == 0 or r < 0.05:
                text, src = head + rng.choice(COMMENTS), rng.choice(USERS)
            elif r < 0.5:
                text, src = _repost(head, rng), f"user{rng.randrange(20000)}"
            elif r < 0.8:
                cut = ev.name[: rng.randint(max(6, len(ev.name) // 2), len(ev.name))]
                text, src = f"{cut}，{rng.choice(pool)[:40]}", f"user{rng.randrange(20000)}"
            else:
                text, src = _variant(head + ev.name[:6], rng, s2t), f"user{rng.randrange(20000)}"
            items.append(StoryItem(f"e{j}-{i}", "", text, ts if i else start, src))
    items.sort(key=lambda it: it.published)
    return items, events


def evaluate(items: list[StoryItem], assignments, events: list[Event], days: int) -> dict:
    """Per event: the day (0-based) it first turned hot (None: never); per day: stories
    turning hot, those of the background apart."""
    first_hot: dict[str, datetime] = {}
    story_events: dict[str, set[int]] = {}
    detected: dict[int, int | None] = {j: None for j in range(len(events))}
    for it, a in zip(items, assignments):
        if it.id.startswith("e"):
            j = int(it.id[1:].split("-")[0])
            story_events.setdefault(a.story_id, set()).add(j)
            if a.hot and detected[j] is None:
                detected[j] = (it.published - T0).days
        if a.hot and a.story_id not in first_hot:
            first_hot[a.story_id] = it.published
    hot_per_day = [0] * days
    bg_per_day = [0] * days
    for sid, when in first_hot.items():
        day = (when - T0).days
        hot_per_day[day] += 1
        if not story_events.get(sid):
            bg_per_day[day] += 1
    return {"detected": detected, "hot_per_day": hot_per_day, "background_hot_per_day": bg_per_day}
