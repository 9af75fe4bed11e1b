"""Sliding token buckets with an injected clock, and folding."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from responders.alerts.ratelimit import RateLimiter, TokenBucket, fold
from responders.alerts.types import Alert

T0 = datetime(2026, 6, 14, 2, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, t=T0):
        self.t = t

    def __call__(self):
        return self.t

    def advance(self, seconds):
        self.t += timedelta(seconds=seconds)


def test_bucket_never_exceeds_n_in_any_window():
    clock = Clock()
    bucket = TokenBucket(20, 60, clock)
    sent = []
    for _ in range(600):  # 5 minutes in 0.5 s steps, trying every step
        if bucket.take():
            sent.append(clock())
        clock.advance(0.5)
    assert len(sent) >= 100
    for i in range(len(sent) - 20):
        assert sent[i + 20] - sent[i] >= timedelta(seconds=60)


def test_bucket_refills_exactly_after_period():
    clock = Clock()
    bucket = TokenBucket(2, 1, clock)
    assert bucket.take() and bucket.take() and not bucket.take()
    assert bucket.next_free_at() == T0 + timedelta(seconds=1)
    clock.advance(0.999)
    assert not bucket.take()
    clock.advance(0.001)
    assert bucket.take()


def test_limiter_applies_all_limits_feishu():
    clock = Clock()
    lim = RateLimiter([(5, 1), (100, 60)], clock)
    per_second = []
    for s in range(60):
        if s:
            clock.advance(1)
        n = 0
        while lim.try_acquire():
            n += 1
        per_second.append(n)
    assert max(per_second) == 5
    assert sum(per_second) == 100  # t = 59 s: the minute's 100 are spent
    assert not lim.available()
    assert lim.next_free_at() == T0 + timedelta(seconds=60)
    clock.advance(1)
    assert lim.try_acquire()


def test_restored_sends_count_in_the_window():
    clock = Clock()
    lim = RateLimiter([(5, 1), (100, 60)], clock)
    earlier = [T0 - timedelta(seconds=s) for s in (120, 59.5, 30, 0.5, 0.4, 0.3, 0.2, 0.1)]
    lim.restore(earlier)  # 120 s ago is outside both windows; 5 sent in the last second
    assert not lim.available()
    assert lim.next_free_at() == T0 + timedelta(seconds=0.5)
    clock.advance(0.5)
    assert lim.try_acquire()
    assert lim.buckets[1].tokens() == 100 - 7  # 59.5 s ago has left the minute by now


def test_no_limits_is_always_free():
    lim = RateLimiter([], Clock())
    assert all(lim.try_acquire() for _ in range(1000))


def test_bad_limit_is_refused():
    with pytest.raises(ValueError):
        TokenBucket(0, 60, Clock())


def _alert(i, lane="digest", severity="一般"):
    return Alert.new(key=f"k{i}", lane=lane, title=f"标题{i}", body_markdown=f"正文{i}", created_at=T0 + timedelta(seconds=i),
                     severity=severity, incident_id=i, item_ids=(i,))


def test_fold_one_is_identity_and_many_says_how_many_more():
    a = _alert(1)
    assert fold([a], T0) is a
    alerts = [_alert(i) for i in range(30)] + [_alert(99, lane="breaking", severity="重大")]
    msg = fold(alerts, T0)
    assert msg.title.startswith("标题99") and "另有 30 条" in msg.title
    assert "另有 30 条" in msg.body_markdown and "另有 30 条" in msg.body_text
    assert "其余 10 条" in msg.body_text
    assert msg.lane == "breaking" and msg.severity == "重大"
    assert len(msg.folded) == 31 and msg.count == 31
    assert set(msg.item_ids) == set(range(30)) | {99}
    again = fold([msg, _alert(100)], T0)
    assert len(again.folded) == 32 and "另有 31 条" in again.title
