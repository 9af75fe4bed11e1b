"""Heat index and burst test on synthetic streams."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from classifiers.stories import BurstConfig, StoryEngine, StoryItem
from classifiers.stories.heat import burst_test, heat_parts, poisson_sf

T0 = datetime(2026, 6, 1, tzinfo=timezone.utc)
BURST = "汉台区铺镇一化工厂发生爆炸起火，浓烟滚滚，附近村民紧急撤离，消防救援正在现场处置"
ANGLES = ["现场视频来了", "附近村民说声音很大", "伤者已送往医院", "区应急管理局已介入", "空气监测正在进行", "太吓人了"]


def random_text(rng: random.Random) -> str:
    return "".join(chr(0x4E00 + rng.randrange(8000)) for _ in range(rng.randint(15, 40)))


def stream(rng, days=4, per_hour=12, burst_day=None, burst_size=40):
    items = []
    for h in range(days * 24):
        for j in range(per_hour):
            ts = T0 + timedelta(hours=h, seconds=rng.randrange(3600))
            items.append(StoryItem(f"bg{h}-{j}", "", random_text(rng), ts, f"u{rng.randrange(999)}"))
    if burst_day is not None:
        start = T0 + timedelta(days=burst_day, hours=15)
        for i in range(burst_size):
            text = f"{BURST}，{rng.choice(ANGLES)}" if i % 2 else f"转发微博//@u{i}: {BURST}"
            items.append(StoryItem(f"burst{i}", "", text, start + timedelta(seconds=rng.randrange(3600)), f"s{i}"))
    items.sort(key=lambda it: it.published)
    return items


def test_poisson_sf():
    assert poisson_sf(0, 3.0) == 1.0
    assert poisson_sf(1, 2.0) == pytest.approx(1 - 2.718281828 ** -2, rel=1e-6)
    assert poisson_sf(30, 3.0) < 1e-15
    assert poisson_sf(5, 0.0) == 0.0


def test_burst_rules_and_hysteresis():
    cfg = BurstConfig()
    assert not burst_test(cfg, count=5, floor=0.1, own=0, was_hot=False).hot  # below min_count
    assert not burst_test(cfg, count=12, floor=5.0, own=0, was_hot=False).hot  # within 3x
    assert burst_test(cfg, count=20, floor=1.0, own=0, was_hot=False).hot
    assert not burst_test(cfg, count=20, floor=1.0, own=12.0, was_hot=False).hot  # own baseline
    assert burst_test(cfg, count=6, floor=1.0, own=0, was_hot=True).hot  # stays hot a while
    assert not burst_test(cfg, count=3, floor=1.0, own=0, was_hot=True).hot


def test_planted_burst_is_hot_and_background_stays_quiet():
    rng = random.Random(3)
    items = stream(rng, days=4, burst_day=2)
    eng = StoryEngine()
    out = eng.add_many(items)
    hot = [(a, it) for a, it in zip(out, items) if a.hot]
    assert hot and all(it.id.startswith("burst") for _, it in hot)
    burst_story = {a.story_id for a, it in zip(out, items) if it.id.startswith("burst")}
    assert len(burst_story) == 1
    st = eng.story(burst_story.pop())
    assert st.hot_since is not None and st.hot_since.date() == (T0 + timedelta(days=2)).date()
    assert st.evidence and st.evidence[0].item_id == st.first_id and len(st.evidence[0].content_hash) == 64
    assert st.peak_heat > 30


def test_background_alone_never_hot():
    rng = random.Random(4)
    out = StoryEngine().add_many(stream(rng, days=3, per_hour=30))
    assert not any(a.hot for a in out)


def test_heat_parts_grow_with_each_signal():
    base = dict(size=1, last_hour=1, sources=1, engagement=0, peak_rank=None)
    h0 = sum(heat_parts(**base).values())
    for change in (dict(size=500), dict(last_hour=40), dict(sources=8), dict(engagement=50_000), dict(peak_rank=1)):
        assert sum(heat_parts(**{**base, **change}).values()) > h0
    assert sum(heat_parts(size=10**6, last_hour=999, sources=50, engagement=10**7, peak_rank=1).values()) == 100


def test_slower_burst_over_three_hours():
    cfg = BurstConfig()
    # 8 an hour for 3 hours: below min_count each hour, a burst over 3 h
    assert burst_test(cfg, count=8, floor=1.0, own=0, was_hot=False, count_long=24).hot
    assert not burst_test(cfg, count=8, floor=4.0, own=0, was_hot=False, count_long=24).hot


def test_poisson_sf_matches_the_exact_tail_over_small_and_big_counts():
    """Against the tail summed exactly in rational arithmetic (no SciPy in the desk)."""
    from fractions import Fraction
    import math

    def exact(k: int, lam: int) -> float:  # 1 - sum_{i<k} e^-lam lam^i / i!
        term, head = Fraction(1), Fraction(0)
        for i in range(k):
            head += term
            term = term * lam / (i + 1)
        return float(1 - head * Fraction(math.exp(-lam)))

    for k, lam in [(1, 1), (3, 2), (10, 3), (12, 10), (25, 5), (40, 30), (60, 100), (130, 100)]:
        want = exact(k, lam)
        assert poisson_sf(k, float(lam)) == pytest.approx(want, rel=1e-7, abs=1e-15), (k, lam)
    assert poisson_sf(101_500, 99_000.0) < 1e-10 < 0.01 < poisson_sf(99_500, 99_000.0) < 0.1  # 7.9 and 1.6 sd


CRISIS = "汉江汉中段洪水超警戒水位，沿江低洼地带居民连夜转移安置"
CRISIS_ANGLES = ["安置点物资充足", "志愿者在搬运沙袋", "堤防巡查不停", "大家注意安全", "水还在涨", "加油汉中"]
NEW_EVENT = "汉台区铺镇防洪堤出现管涌险情，武警官兵正在紧急抢险封堵"


def test_a_sustained_crisis_does_not_raise_the_bar_for_a_new_development():
    """The crisis's ongoing story grows from 20 to 110 items an hour (it is the busiest story
    of every hour); a new development of 40 items within an hour on day 3 still turns hot,
    and the ongoing story does not turn hot again as it grows."""
    rng = random.Random(5)
    items = stream(rng, days=4, per_hour=8)
    for h in range(4 * 24):
        for j in range(20 + h):
            text = f"{CRISIS}，{rng.choice(CRISIS_ANGLES)}" if j % 3 else f"转发微博//@u{rng.randrange(99)}: {CRISIS}"
            items.append(StoryItem(f"c{h}-{j}", "", text, T0 + timedelta(hours=h, seconds=rng.randrange(3600)),
                                   f"u{rng.randrange(999)}"))
    start = T0 + timedelta(days=3, hours=10)
    for i in range(40):
        text = f"{NEW_EVENT}，{rng.choice(CRISIS_ANGLES)}" if i % 2 else f"转发微博//@u{i}: {NEW_EVENT}"
        items.append(StoryItem(f"new{i}", "", text, start + timedelta(seconds=rng.randrange(3600)), f"s{i}"))
    items.sort(key=lambda it: it.published)
    eng = StoryEngine()
    out = eng.add_many(items)
    new_story = {a.story_id for a, it in zip(out, items) if it.id.startswith("new")}
    assert len(new_story) == 1
    st = eng.story(new_story.pop())
    assert st.hot_since is not None and st.hot_since.date() == start.date()
    crisis_hot_days = {it.published.date() for a, it in zip(out, items) if a.hot and it.id.startswith("c")}
    assert crisis_hot_days <= {T0.date()}  # its first hours at most: then it is the background
    assert not any(a.hot for a, it in zip(out, items) if it.id.startswith("bg"))
