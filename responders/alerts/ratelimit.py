"""Per-channel rate limits with an injected clock, and folding of queued alerts.

The platforms count messages per sliding window (企业微信 and 钉钉: 20 per minute;
飞书: 5 per second and 100 per minute). A classic token bucket of 20 with a refill
of 20/min lets ~40 messages through in one 60 s window (a full bucket, then the
refill), which the platform answers with "freq out of limit"; so each limit here is
a bucket that refills each token exactly ``period`` seconds after it was spent (a
sliding-window log), which never exceeds ``n`` in any window of ``period``.

When a channel is over its limit, alerts are not dropped: they queue, and the next
free slot carries one digest message — the first alert plus "另有 N 条" — built by
``fold``.
"""
from __future__ import annotations

import re
import uuid
from collections import deque
from datetime import datetime, timedelta
from typing import Callable, Iterable, Sequence

from responders.alerts.types import Alert, severity_rank

Clock = Callable[[], datetime]

_FOLD_SUFFIX = re.compile(r"（另有 \d+ 条）$")
#: How many folded alerts a digest lists by title; the rest are counted.
FOLD_LIST_MAX = 20


class TokenBucket:
    """``capacity`` tokens; each spent token comes back ``period`` seconds after it was spent."""

    def __init__(self, capacity: int, period: float, clock: Clock):
        if capacity < 1 or period <= 0:
            raise ValueError(f"rate limit needs capacity >= 1 and period > 0, got {capacity}/{period}s")
        self.capacity = capacity
        self.period = timedelta(seconds=period)
        self.clock = clock
        self._spent: deque[datetime] = deque()

    def _refill(self, now: datetime) -> None:
        while self._spent and self._spent[0] + self.period <= now:
            self._spent.popleft()

    def tokens(self) -> int:
        self._refill(self.clock())
        return self.capacity - len(self._spent)

    def next_free_at(self) -> datetime:
        now = self.clock()
        self._refill(now)
        if len(self._spent) < self.capacity:
            return now
        return self._spent[0] + self.period

    def take(self) -> bool:
        now = self.clock()
        self._refill(now)
        if len(self._spent) >= self.capacity:
            return False
        self._spent.append(now)
        return True

    def restore(self, spent: Iterable[datetime]) -> None:
        """Seed the window with earlier sends (e.g. read back after a restart):
        those still inside ``period`` count, at most ``capacity`` of them."""
        now = self.clock()
        recent = sorted(t for t in spent if t + self.period > now and t <= now)
        merged = sorted(list(self._spent) + recent[-self.capacity:])
        self._spent = deque(merged[-self.capacity:])


class RateLimiter:
    """All of several buckets at once (e.g. 5/s and 100/min). No limits: always free."""

    def __init__(self, limits: Iterable[tuple[int, float]], clock: Clock):
        self.clock = clock
        self.buckets = [TokenBucket(n, p, clock) for n, p in limits]

    def available(self) -> bool:
        return all(b.tokens() > 0 for b in self.buckets)

    def try_acquire(self) -> bool:
        """Spend one token from every bucket, or none when any bucket is empty."""
        if not self.available():
            return False
        for b in self.buckets:
            b.take()
        return True

    def next_free_at(self) -> datetime:
        now = self.clock()
        return max([now] + [b.next_free_at() for b in self.buckets])

    def restore(self, spent: Iterable[datetime]) -> None:
        """Seed every bucket with earlier send times (see :meth:`TokenBucket.restore`)."""
        spent = list(spent)
        for b in self.buckets:
            b.restore(spent)


# ---------------------------------------------------------------- folding

def priority(alert: Alert) -> tuple:
    """Sort key: breaking first, then higher severity, then older."""
    return (0 if alert.lane == "breaking" else 1, -severity_rank(alert.severity), alert.created_at)


def constituents(alerts: Iterable[Alert]) -> tuple[str, ...]:
    """The ids of the original alerts behind ``alerts`` (digests expanded)."""
    out: list[str] = []
    for a in alerts:
        out.extend(a.folded or (a.id,))
    return tuple(dict.fromkeys(out))


def fold(alerts: Sequence[Alert], now: datetime, *, heading: str = "舆情告警汇总") -> Alert:
    """One digest message for several queued alerts: the most urgent one in full,
    then "另有 N 条" with the others' titles (the first ``FOLD_LIST_MAX``). One alert
    is returned unchanged."""
    if not alerts:
        raise ValueError("fold() needs at least one alert")
    if len(alerts) == 1:
        return alerts[0]
    ordered = sorted(alerts, key=priority)
    first, rest = ordered[0], ordered[1:]
    ids = constituents(ordered)
    n_rest = len(ids) - 1
    lines_md = [f"**{heading}（共 {len(ids)} 条）**", "", first.body_markdown, "", f"**另有 {n_rest} 条：**"]
    lines_tx = [f"{heading}（共 {len(ids)} 条）", "", first.body_text, "", f"另有 {n_rest} 条："]
    for a in rest[:FOLD_LIST_MAX]:
        extra = f"（{a.count} 条）" if a.folded else ""
        lines_md.append(f"- 【{a.severity}】{a.title}{extra}")
        lines_tx.append(f"- 【{a.severity}】{a.title}{extra}")
    if len(rest) > FOLD_LIST_MAX:
        more = sum(a.count for a in rest[FOLD_LIST_MAX:])
        lines_md.append(f"- ……其余 {more} 条见值班台")
        lines_tx.append(f"- ……其余 {more} 条见值班台")
    incidents = {a.incident_id for a in ordered}
    items: list = []
    for a in ordered:
        items.extend(a.item_ids)
    return Alert(
        id="fold-" + uuid.uuid4().hex[:10],
        key="fold:" + ",".join(ids),
        lane="breaking" if any(a.lane == "breaking" for a in ordered) else "digest",
        title=f"{_FOLD_SUFFIX.sub('', first.title)}（另有 {n_rest} 条）",
        body_markdown="\n".join(lines_md),
        body_text="\n".join(lines_tx),
        created_at=now,
        severity=max((a.severity for a in ordered), key=severity_rank),
        incident_id=incidents.pop() if len(incidents) == 1 else None,
        item_ids=tuple(dict.fromkeys(items)),
        topics=tuple(dict.fromkeys(t for a in ordered for t in a.topics)),
        towns=tuple(dict.fromkeys(t for a in ordered for t in a.towns)),
        url=first.url,
        folded=ids,
        escalation_tier=max(a.escalation_tier for a in ordered),
        mentions=tuple({(m.staff_id, m.duty): m for a in ordered for m in a.mentions}.values()),
        resent=any(a.resent for a in ordered),
    )
