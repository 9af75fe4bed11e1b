"""Heat index and burst test.

Burst test (a one-sided Poisson test against what is new). Items of one story in a short
period are close to Poisson counts, so we compare k, the story's items published in the
last hour of stream time, with an expected count

    lambda = max(stream floor, own baseline)

* the own baseline is the story's share of the stream before the last hour times the
  stream's volume in the last hour (:func:`own_baseline`): a story that has always
  been big, or grows with the day's rhythm or with the whole crisis, is not a burst.
  It is used once the story has ``own_history_hours`` of history.
* the stream floor is what a comparable story does now: a story that is new (younger
  than ``own_history_hours``, so without history of its own) and not hot. Per hour we
  keep the count of the busiest such story; the floor is the ``floor_quantile`` of
  those hourly counts over the window (at least ``min_floor``). Old stories are left
  out because their own baseline judges them: in a sustained crisis (a flood, an
  epidemic, a long dispute) the crisis's ongoing topics are the busiest stories of
  every hour, and a floor taken from them keeps rising with the crisis until no new
  development (a new announcement, place or figure) can beat it. Hot stories are left
  out because they are the news the floor must let through: once a story turns hot its
  later counts do not raise the bar for the next one. What stays in the floor is the
  background's chance clusters (a generic "加油" gathering posts within an hour), which
  grow only slowly with the stream's volume.

The story turns hot when k >= ``min_count``, k >= ``ratio`` x lambda and the Poisson
tail P(X >= k | lambda) <= ``alpha``. The three conditions keep the background quiet:
``alpha`` alone would fire on tiny lambdas (3 items where 0.1 were expected), the ratio
alone on big streams with noise. It stays hot (hysteresis) while k >= max(min_count/2,
1.5 x lambda). The same test runs over the last ``long_hours`` (3 h, expected 3 x lambda,
at least 1.5 x min_count items) for bursts that build up over an afternoon. Kleinberg's
automaton would need the whole sequence or a costly state per story; the Poisson test is
O(1) per item (the floor is recomputed once an hour of stream time, from at most
``baseline_hours`` numbers) and explains itself in one sentence.

Heat (0-100) adds five capped parts, each explained in words by :func:`explain`.
"""
from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass

__all__ = ["BurstConfig", "StreamBaseline", "own_baseline", "poisson_sf", "BurstResult", "burst_test", "burst_values", "heat_parts",
           "heat_total",
           "explain"]

HOUR = 3600.0


@dataclass(frozen=True)
class BurstConfig:
    min_count: int = 10  # at least this many items in the last hour
    ratio: float = 3.0  # and this many times the expected count
    alpha: float = 1e-6  # and this unlikely under the expected count
    min_floor: float = 1.0  # expected items per hour of any story, at least
    floor_quantile: float = 0.75
    own_history_hours: float = 3.0
    baseline_hours: int = 72
    long_hours: int = 3  # a slower burst: the same test over this many hours
    long_min_factor: float = 1.5  # with at least this many times min_count items


def poisson_sf(k: int, lam: float) -> float:
    """P(X >= k) for X ~ Poisson(lam): the regularised lower incomplete gamma P(k, lam).

    Pure Python (series below the mean, Lentz's continued fraction above it), within
    1e-9 of SciPy's ``pdtrc`` and a few microseconds a call: importing SciPy for this one
    function would keep ~25 MB in the desk's memory."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    a, x = float(k), float(lam)
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:  # the series converges fast here, and keeps tiny tails exact
        term = total = 1.0 / a
        n = a
        for _ in range(100_000):
            n += 1.0
            term *= x / n
            total += term
            if term < total * 1e-15:
                break
        return min(1.0, math.exp(log_front) * total)
    tiny = 1e-300  # Q = 1 - P by the continued fraction (modified Lentz)
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return max(0.0, min(1.0, 1.0 - math.exp(log_front) * h))


class StreamBaseline:
    """Hourly stream volume and the busiest new, not hot, story of each hour (bounded to the window)."""

    def __init__(self, hours: int = 72, quantile: float = 0.75, min_floor: float = 1.0):
        self.hours = hours
        self.quantile = quantile
        self.min_floor = min_floor
        self.totals: dict[int, int] = {}  # hour index -> items
        self.top: dict[int, int] = {}  # hour index -> items of the busiest young, not hot story that hour
        self.times: list[float] = []  # published times of the last hour and more (sorted)
        self._floor_hour = None
        self._floor = min_floor
        # prefix sums of ``totals`` over whole hours below ``_cum_bound`` (None: to rebuild)
        self._cum_hours: list[int] = []
        self._cum: list[int] = [0]
        self._cum_bound: int | None = None
        self._stale = 0  # queries answered without the prefix sums since they were last valid

    def add(self, ts: float, story_hour_count: int, young: bool = True) -> None:
        """One item at ``ts`` whose story now has ``story_hour_count`` items in that hour;
        only ``young`` stories (no history of their own yet) count towards the floor."""
        h = int(ts // HOUR)
        self.totals[h] = self.totals.get(h, 0) + 1
        if self._cum_bound is not None and h < self._cum_bound:
            self._cum_bound = None  # a late item changed a counted hour
            self._stale = 0
        if young and story_hour_count > self.top.get(h, 0):
            self.top[h] = story_hour_count
        insort(self.times, ts)

    def count_since(self, since: float) -> int:
        return len(self.times) - bisect_right(self.times, since)

    def count_between(self, start: float, end: float) -> int:
        """Items published in (start, end], from the hourly totals (whole hours)."""
        h0, h1 = int(start // HOUR), int(end // HOUR)
        if h1 <= h0:
            return 0
        if self._cum_bound is None or h1 > self._cum_bound:
            if self._stale < 16:  # late items keep changing old hours: sum them directly
                self._stale += 1
                return sum(filter(None, map(self.totals.get, range(h0, h1))))
            # rebuilt about once an hour of stream time: hours below h1 are complete
            self._stale = 0
            hours = sorted(h for h in self.totals if h < h1)
            cum = [0]
            for h in hours:
                cum.append(cum[-1] + self.totals[h])
            self._cum_hours, self._cum, self._cum_bound = hours, cum, h1
        hours = self._cum_hours
        return self._cum[bisect_left(hours, h1)] - self._cum[bisect_left(hours, h0)]

    def floor(self, now: float) -> float:
        h = int(now // HOUR)
        if h != self._floor_hour:
            done = sorted(n for k, n in self.top.items() if h - self.hours <= k < h)
            if done:
                q = done[min(len(done) - 1, int(self.quantile * len(done)))]
                self._floor = max(self.min_floor, float(q))
            else:
                self._floor = self.min_floor
            self._floor_hour = h
        return self._floor

    def trim(self, now: float) -> None:
        cut = now - 2 * HOUR
        if self.times and self.times[0] < cut:
            del self.times[: bisect_right(self.times, cut)]
        oldest = int(now // HOUR) - self.hours - 1
        for d in (self.totals, self.top):
            old = [k for k in d if k < oldest]
            for k in old:
                del d[k]
            if old and d is self.totals:
                self._cum_bound = None


def own_baseline(story_before: int, stream_before: int, count: int, others: int) -> float:
    """The story's expected items in the last hour from its own history: its share of the
    stream before the last hour times the whole stream of the last hour (``count`` of the
    story plus ``others``). Given the hour's volume the story's count is binomial with
    that share, so this is its mean: a story that is most of the stream (the ongoing topic
    of a crisis) is expected to stay most of it however the stream grows or dips, and a
    story of small share gains little from its own burst."""
    if stream_before <= 0:
        return 0.0
    return min(1.0, story_before / stream_before) * (count + max(others, 0))


@dataclass(frozen=True)
class BurstResult:
    hot: bool
    count: int  # items in the last hour
    expected: float  # lambda
    floor: float  # the stream's part of lambda
    own: float  # the story's own part of lambda
    p_value: float


def burst_test(cfg: BurstConfig, *, count: int, floor: float, own: float, was_hot: bool,
               count_long: int | None = None) -> BurstResult:
    """``count``: items in the last hour; ``count_long``: items in the last
    ``cfg.long_hours`` (a slower burst: the same test on the longer scale, with
    ``long_min_factor`` x ``min_count`` as its minimum)."""
    return BurstResult(*burst_values(cfg, count, floor, own, was_hot, count_long))


def burst_values(cfg: BurstConfig, count: int, floor: float, own: float, was_hot: bool,
                 count_long: int | None = None) -> tuple[bool, int, float, float, float, float]:
    """:func:`burst_test` as a plain tuple (hot, count, expected, floor, own, p_value):
    the engine runs it for every item and builds the explanation only when asked."""
    lam = max(floor, own)
    # the tail is only needed where it can decide (it is the costliest part)
    p = poisson_sf(count, lam) if count >= cfg.min_count / 2.0 else 1.0
    if was_hot:
        hot = count >= max(cfg.min_count / 2.0, 1.5 * lam)
    else:
        hot = count >= cfg.min_count and count >= cfg.ratio * lam and p <= cfg.alpha
        if not hot and count_long is not None and count_long >= cfg.long_min_factor * cfg.min_count:
            lam_long = lam * cfg.long_hours
            p_long = poisson_sf(count_long, lam_long)
            if count_long >= cfg.ratio * lam_long and p_long <= cfg.alpha:
                hot, p = True, p_long
    return hot, count, lam, floor, own, p


def heat_parts(*, size: int, last_hour: int, sources: int, engagement: int, peak_rank: int | None) -> dict[str, float]:
    """The five parts of the heat index (sum 0..100)."""
    return {
        "volume": 25.0 * min(1.0, math.log10(1 + size) / 3.0),  # 1,000 items = full
        "velocity": 30.0 * min(1.0, math.log2(1 + last_hour) / math.log2(61)),  # 60 an hour = full
        "sources": 15.0 * min(1.0, max(0, sources - 1) / 9.0),  # 10 sources = full
        "engagement": 15.0 * min(1.0, math.log10(1 + max(0, engagement)) / 5.0),  # 100,000 = full
        "rank": 15.0 * max(0.0, (51 - peak_rank) / 50.0) if peak_rank else 0.0,  # No. 1 = full
    }


def heat_total(size: int, last_hour: int, sources: int, engagement: int, peak_rank: int | None) -> float:
    """``sum(heat_parts(...).values())`` without the dict (the same float, summed in the same order)."""
    total = 0
    total += 25.0 * min(1.0, math.log10(1 + size) / 3.0)
    total += 30.0 * min(1.0, math.log2(1 + last_hour) / _LOG2_61)
    total += 15.0 * min(1.0, max(0, sources - 1) / 9.0)
    total += 15.0 * min(1.0, math.log10(1 + max(0, engagement)) / 5.0)
    total += 15.0 * max(0.0, (51 - peak_rank) / 50.0) if peak_rank else 0.0
    return total


_LOG2_61 = math.log2(61)


def explain(parts: dict[str, float], *, size: int, last_hour: int, sources: int, engagement: int,
            peak_rank: int | None, burst: BurstResult | None, hot_since: str | None) -> list[str]:
    total = sum(parts.values())
    lines = [f"热度 {total:.1f}（满分100）"]
    lines.append(f"体量：共 {size} 条 → {parts['volume']:.1f}/25")
    lines.append(f"速度：近1小时 {last_hour} 条 → {parts['velocity']:.1f}/30")
    lines.append(f"来源：{sources} 个不同来源 → {parts['sources']:.1f}/15")
    lines.append(f"互动：转评赞合计 {engagement} → {parts['engagement']:.1f}/15")
    lines.append(f"热榜：最高第 {peak_rank} 名 → {parts['rank']:.1f}/15" if peak_rank
                 else "热榜：未上榜 → 0/15")
    if burst is not None:
        verdict = "突发（热点）" if burst.hot else "未达突发"
        lines.append(
            f"突发检验：近1小时 {burst.count} 条，预期 {burst.expected:.1f} 条"
            f"（同期新事件基线 {burst.floor:.1f}，自身基线 {burst.own:.1f}），泊松尾概率 {burst.p_value:.2g} → {verdict}"
        )
    if hot_since:
        lines.append(f"首次转为热点：{hot_since}")
    return lines
