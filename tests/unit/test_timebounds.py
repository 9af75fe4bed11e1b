"""Publication times at intake: strict parsing, and bounds by the fetch, the neighbours and the
source's history (monitor/timebounds.py, monitor/store.py)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from monitor import store
from monitor.parsing import parse_document
from monitor.timebounds import (BEFORE_NEIGHBOURS, BEFORE_SOURCE, FUTURE, bound_published, neighbour_floor,
                                published_note)
from monitor.types import ParsedItem, SourceSpec
from storage.db import open_db

NOW = datetime(2026, 6, 14, 4, 0, tzinfo=timezone.utc)


def _rss(date: str) -> bytes:
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>a</title>'
            f"<link>http://x.example/1</link><guid>1</guid><pubDate>{date}</pubDate></item></channel></rss>").encode()


def _atom(date: str) -> bytes:
    return (f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><title>a'
            f'</title><id>1</id><link href="http://x.example/1"/><updated>{date}</updated></entry></feed>').encode()


@pytest.mark.parametrize("date", ["2026-13-45", "2026-02-30T10:00:00+08:00", "2026-06-31"])
@pytest.mark.parametrize("wrap", [_rss, _atom])
def test_impossible_dates_are_refused_not_rolled_over(date, wrap):
    item = parse_document(wrap(date), fetched_at=NOW).items[0]
    assert item.published is None


def test_a_possible_date_still_parses():
    assert parse_document(_rss("2026-06-14T10:00:00+08:00"), fetched_at=NOW).items[0].published == \
        datetime(2026, 6, 14, 2, 0, tzinfo=timezone.utc)


def test_future_times_are_clamped_to_the_fetch():
    b = bound_published(datetime(2099, 1, 1, tzinfo=timezone.utc), NOW)
    assert b.published == NOW and b.original.year == 2099 and b.reason == FUTURE
    near = NOW + timedelta(minutes=5)  # clock skew between site and desk is no anomaly
    assert bound_published(near, NOW).published == near and bound_published(near, NOW).reason is None


def test_far_before_the_neighbours_is_clamped_an_archive_is_not():
    recent = [NOW - timedelta(hours=h) for h in (1, 2, 3, 5, 8)]
    old = datetime(1990, 1, 2, tzinfo=timezone.utc)
    floor = neighbour_floor(recent + [old], NOW)
    b = bound_published(old, NOW, floor=floor)
    assert b.published == NOW and b.original == old and b.reason == BEFORE_NEIGHBOURS
    assert bound_published(NOW - timedelta(days=3), NOW, floor=floor).reason is None  # within 30 days
    # an archive page: dates spread over years, its oldest item is no outlier
    archive = [NOW - timedelta(days=300 * k) for k in range(8)]
    floor = neighbour_floor(archive, NOW)
    assert all(bound_published(t, NOW, floor=floor).reason is None for t in archive)
    # too few dated neighbours say nothing
    assert neighbour_floor(recent[:2] + [old], NOW) is None


def test_far_before_the_sources_first_fetch_is_clamped():
    first = NOW - timedelta(days=2)
    old = NOW - timedelta(days=400)
    b = bound_published(old, NOW, source_first_fetch=first)
    assert b.published == NOW and b.reason == BEFORE_SOURCE
    assert bound_published(NOW - timedelta(days=20), NOW, source_first_fetch=first).reason is None
    assert bound_published(old, NOW, source_first_fetch=None).reason is None  # the first fetch


def test_published_note_for_staff():
    assert published_note(datetime(1990, 1, 1, 16, 0, tzinfo=timezone.utc)) == "按入库时间（发布时间异常：1990-01-02）"


def test_store_keeps_the_original_and_the_reason(tmp_path, backend):
    db = open_db(backend or tmp_path / "d.sqlite", [store.migrations])
    spec = SourceSpec(id="s", name="s", url="http://127.0.0.1/s")
    store.sync_sources(db, [spec], NOW)
    items = [ParsedItem(guid=f"g{k}", title=f"t{k}", link=f"http://x.example/{k}",
                        published=NOW - timedelta(hours=k + 1)) for k in range(4)]
    items += [ParsedItem(guid="old", title="old", published=datetime(1990, 1, 2, tzinfo=timezone.utc)),
              ParsedItem(guid="future", title="future", published=datetime(2099, 1, 1, tzinfo=timezone.utc))]
    out = store.store_fetch(db, spec, items, now=NOW, next_check=NOW, etag=None, last_modified=None,
                            body_digest=None)
    assert out.clamped == 2
    got = {it.guid: it for it in store.get_items(db, out.new_ids)}
    assert got["old"].published == NOW and got["old"].published_orig.year == 1990
    assert got["old"].published_flag == BEFORE_NEIGHBOURS
    assert got["future"].published == NOW and got["future"].published_flag == FUTURE
    assert got["g0"].published == NOW - timedelta(hours=1) and got["g0"].published_flag is None
    # a later fetch: an item claiming to predate the source's first fetch by a year is clamped
    later = NOW + timedelta(hours=1)
    out = store.store_fetch(db, spec, [ParsedItem(guid="late", title="late", published=NOW - timedelta(days=400))],
                            now=later, next_check=later, etag=None, last_modified=None, body_digest=None)
    late = store.get_items(db, out.new_ids)[0]
    assert late.published == later and late.published_flag == BEFORE_SOURCE
    # manual intake (a hotline import of old calls) is not held to the source's history
    old_call = ParsedItem(guid="call", title="call", published=NOW - timedelta(days=400))
    store.insert_manual_items(db, "hotline", [old_call], NOW)
    out = store.insert_manual_items(db, "hotline", [ParsedItem(guid="call2", title="c2",
                                                               published=NOW - timedelta(days=400))], later)
    assert store.get_items(db, out.new_ids)[0].published_flag is None
    db.conn.close()
