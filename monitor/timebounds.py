"""Bound a feed's publication time by what the desk itself saw: a claimed time is evidence.

A feed's date can be wrong (a CMS default of 1990-01-01, a year typed as 2099, a zone
mix-up), and a wrong time steers everything downstream: the release clock starts from the
story's earliest publication, the story engine's time follows the latest. At intake a
publication time is therefore checked against three things the desk knows for sure:

- the fetch time: nothing was published after we saw it. A time later than the fetch
  (beyond ``SKEW`` of clock difference) is clamped to the fetch time.
- the item's neighbours, the other dated items of the same fetch: a time far before them
  (before their median by more than ``NEIGHBOUR_SPREAD`` median deviations, and at least
  ``NEIGHBOUR_MIN_GAP``) is an item of today with a broken date, not an archive: an archive
  page's dates are spread out, so its oldest item is no outlier. Clamped to the fetch time.
- the source's history: an item first seen in a later fetch that claims to predate the
  source's first fetch by more than ``HISTORY_GAP`` was never in the feed when we looked;
  the only time the desk knows is when it appeared. Clamped to the fetch time.

A clamped item keeps its original time and the reason (Chinese, shown to staff).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from storage.timeutil import local

__all__ = ["Bounded", "bound_published", "neighbour_floor", "SKEW", "NEIGHBOUR_MIN_GAP", "HISTORY_GAP", "FUTURE", "BEFORE_NEIGHBOURS",
           "BEFORE_SOURCE", "published_note"]

SKEW = timedelta(minutes=10)  # clock difference between a site and the desk
NEIGHBOUR_MIN_NEIGHBOURS = 3  # fewer dated neighbours say nothing about what is usual
NEIGHBOUR_SPREAD = 6.0  # median absolute deviations
NEIGHBOUR_MIN_GAP = timedelta(days=30)  # never call a time an outlier when it is closer than this
HISTORY_GAP = timedelta(days=30)  # longer than any story window: older items could never matter as news

FUTURE = "发布时间晚于抓取时间"
BEFORE_NEIGHBOURS = "发布时间远早于同批其他条目"
BEFORE_SOURCE = "发布时间远早于首次抓取该来源"


@dataclass(frozen=True)
class Bounded:
    published: datetime | None  # the time to use
    original: datetime | None = None  # the feed's own time, when it was clamped
    reason: str | None = None  # why it was clamped (Chinese)


def neighbour_floor(times: Sequence[datetime | None], fetched_at: datetime) -> datetime | None:
    """The earliest usual publication time among one fetch's items, None when too few are dated."""
    ts = [t.timestamp() for t in times if t is not None and t.tzinfo is not None and t <= fetched_at + SKEW]
    if len(ts) < NEIGHBOUR_MIN_NEIGHBOURS + 1:  # the item itself is among them
        return None
    mid = statistics.median(ts)
    mad = statistics.median(abs(t - mid) for t in ts)
    gap = max(NEIGHBOUR_SPREAD * mad, NEIGHBOUR_MIN_GAP.total_seconds())
    return datetime.fromtimestamp(mid - gap, fetched_at.tzinfo)


def bound_published(published: datetime | None, fetched_at: datetime, *, floor: datetime | None = None,
                    source_first_fetch: datetime | None = None) -> Bounded:
    """The publication time to use for an item first seen at ``fetched_at``.

    ``floor`` is :func:`neighbour_floor` of the fetch's publication times; ``source_first_fetch``
    is when the source was first fetched, None on its first fetch (and for manual intake,
    which may bring in old records on purpose).
    """
    if published is None or published.tzinfo is None:  # a naive time is refused where it is stored
        return Bounded(published)
    if published > fetched_at + SKEW:
        return Bounded(fetched_at, published, FUTURE)
    if floor is not None and published < floor:
        return Bounded(fetched_at, published, BEFORE_NEIGHBOURS)
    if source_first_fetch is not None and published < source_first_fetch - HISTORY_GAP:
        return Bounded(fetched_at, published, BEFORE_SOURCE)
    return Bounded(published)


def published_note(original: datetime, reason: str | None = None) -> str:
    """How staff see a clamped time: '按入库时间（发布时间异常：1990-01-02）'."""
    at = local(original)  # desk time
    shown = at.strftime("%Y-%m-%d") if (at.hour, at.minute) == (0, 0) else at.strftime("%Y-%m-%d %H:%M")
    return f"按入库时间（发布时间异常：{shown}{'，' + reason if reason else ''}）"
