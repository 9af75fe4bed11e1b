"""monitor.timeparse: feed dates, Chinese dates, Weibo relative times."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from monitor.timeparse import find_time, parse_time

UTC = timezone.utc
# 2026-06-14 12:00 in Shanghai.
NOW = datetime(2026, 6, 14, 4, 0, tzinfo=UTC)


def sh(*args) -> datetime:
    """A Shanghai wall-clock time as UTC."""
    return datetime(*args, tzinfo=timezone(timedelta(hours=8))).astimezone(UTC)


@pytest.mark.parametrize("text,expected", [
    ("刚刚", NOW),
    ("3分钟前", NOW - timedelta(minutes=3)),
    ("2小时前", NOW - timedelta(hours=2)),
    ("30秒前", NOW - timedelta(seconds=30)),
    ("今天 10:02", sh(2026, 6, 14, 10, 2)),
    ("昨天 10:02", sh(2026, 6, 13, 10, 2)),
    ("前天 23:59", sh(2026, 6, 12, 23, 59)),
    ("06-14", sh(2026, 6, 14)),
    ("06-10", sh(2026, 6, 10)),
    ("12-31", sh(2025, 12, 31)),  # would be in the future: last year
    ("2019-06-14", sh(2019, 6, 14)),
    ("Sat Jun 14 10:00:00 +0800 2019", sh(2019, 6, 14, 10, 0)),
])
def test_weibo_created_at_forms(text, expected):
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize("text,expected", [
    ("Sun, 14 Jun 2026 09:30:00 +0800", sh(2026, 6, 14, 9, 30)),
    ("Sun, 14 Jun 2026 01:30:00 GMT", datetime(2026, 6, 14, 1, 30, tzinfo=UTC)),
    ("Sun, 14 Jun 2026 01:30:00 -0000", datetime(2026, 6, 14, 1, 30, tzinfo=UTC)),
    ("Sun, 14 Jun 2026 09:30:00", sh(2026, 6, 14, 9, 30)),  # zone-less: Shanghai
    ("2026-06-14T09:30:00+08:00", sh(2026, 6, 14, 9, 30)),
    ("2026-06-14T01:30:00Z", datetime(2026, 6, 14, 1, 30, tzinfo=UTC)),
    ("2026-06-14 09:30", sh(2026, 6, 14, 9, 30)),
    ("2026年6月14日", sh(2026, 6, 14)),
    ("2026年06月14日 09:30", sh(2026, 6, 14, 9, 30)),
    ("2026/6/14", sh(2026, 6, 14)),
    ("[06-14]", sh(2026, 6, 14)),
    ("【2026-06-14】", sh(2026, 6, 14)),
    (1781395200, datetime.fromtimestamp(1781395200, UTC)),
    (1781395200000, datetime.fromtimestamp(1781395200, UTC)),
    ("1781395200", datetime.fromtimestamp(1781395200, UTC)),
])
def test_absolute_forms(text, expected):
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize("junk", [None, "", "garbage", "13-45", "2026-13-40", [], {}, True, "9999-01-01",
                                  float("nan"), 10**30, "x" * 500])
def test_junk_gives_none(junk):
    assert parse_time(junk, NOW) is None


def test_results_are_aware_utc():
    for text in ("刚刚", "06-14", "2026-06-14", "Sun, 14 Jun 2026 09:30:00 +0800"):
        dt = parse_time(text, NOW)
        assert dt.tzinfo is not None and dt.utcoffset() == timedelta(0)


def test_find_time_inside_text():
    assert find_time("发布时间：2026年6月14日 来源：汉台区政府", NOW) == sh(2026, 6, 14)
    assert find_time("日期: 2026-06-14 10:20", NOW) == sh(2026, 6, 14, 10, 20)
    assert find_time("no date here", NOW) is None
