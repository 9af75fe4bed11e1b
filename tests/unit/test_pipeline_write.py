"""The pipeline's batch write stores exactly what the row-by-row write stored: analysis JSON
byte for byte, story upserts, evidence de-duplication with and without the per-batch cache."""
from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import store as analysis
from responders.incidents import IncidentService
from storage.db import open_db, transaction

from tests.responders_kit import T0, Clock, candidate, make_service

JSON_COLUMNS = ("severity_reasons", "places", "departments", "units", "schemes", "risk_words")

texts = st.text(max_size=12)  # any characters: quotes, backslashes, control characters, CJK, surrogates
places = st.fixed_dictionaries({"code": texts, "name": texts, "level": st.sampled_from(["town", "village"]),
                                "in_district": st.booleans(), "reason": texts})
schemes = st.fixed_dictionaries({"scheme": texts, "words": st.lists(texts, max_size=3), "alert": st.booleans()})


def _analysis(item_id: int, data) -> analysis.ItemAnalysis:
    return analysis.ItemAnalysis(
        item_id=item_id, topic="生态环境", topic_p=0.5, sentiment="负面", sentiment_score=-0.5, severity="一般",
        severity_reasons=tuple(data.draw(st.lists(texts, max_size=3))),
        places=tuple(data.draw(st.lists(places, max_size=3))),
        departments=tuple(data.draw(st.lists(texts, max_size=3))), units=tuple(data.draw(st.lists(texts, max_size=3))),
        schemes=tuple(data.draw(st.lists(schemes, max_size=2))), risk_words=tuple(data.draw(st.lists(texts, max_size=3))),
        involves_district=True, flagged=False, story_id=f"s-{item_id}", duplicate_of=None, hot=False, heat=1.5,
        analysed_at=T0)


def _db(path):
    return open_db(path, [analysis.migrations])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_batch_analysis_rows_hold_the_json_json_dumps_writes(tmp_path_factory, data):
    rows = [_analysis(i, data) for i in range(1, 4)]
    one, many = _db(tmp_path_factory.mktemp("one") / "d.sqlite"), _db(tmp_path_factory.mktemp("many") / "d.sqlite")
    with transaction(one) as conn:
        for a in rows:
            analysis.save_analysis(conn, a)
    with transaction(many) as conn:
        analysis.save_analyses(conn, rows)
    stored = many.execute("SELECT * FROM item_analysis ORDER BY item_id").fetchall()
    assert stored == one.execute("SELECT * FROM item_analysis ORDER BY item_id").fetchall()
    cols = [d[0] for d in many.execute("SELECT * FROM item_analysis LIMIT 0").description]
    for a, row in zip(rows, stored):
        got = dict(zip(cols, row))
        for col in JSON_COLUMNS:
            assert got[col] == json.dumps(list(getattr(a, col)), ensure_ascii=False)
        assert got["analysed_at"] == "2026-06-14T00:00:00.000000+00:00"
    assert analysis.get_analysis(many, [1, 2, 3]) == {a.item_id: a for a in rows}


def test_batch_story_upsert_matches_one_by_one(tmp_path):
    a, b = _db(tmp_path / "a.sqlite"), _db(tmp_path / "b.sqlite")
    first = [{"id": "s-1", "label": "化工厂", "size": 2, "heat": 3.0, "peak_heat": 5.0, "hot": True},
             {"id": "s-2", "label": "停水", "size": 1, "first_item_id": 7, "first_published": "2026-06-14T00:00:00"}]
    second = [{"id": "s-1", "label": "化工厂 排放", "size": 3, "heat": 1.0, "peak_heat": 1.0, "explanation": ["新条目"]}]
    for stories, at in ((first, T0), (second, T0 + timedelta(minutes=5))):
        with transaction(a) as conn:
            for s in stories:
                analysis.save_story(conn, s, at)
        with transaction(b) as conn:
            analysis.save_stories(conn, stories, at)
    rows = b.execute("SELECT * FROM stories ORDER BY id").fetchall()
    assert rows == a.execute("SELECT * FROM stories ORDER BY id").fetchall()
    s1 = b.execute_returning_dicts("SELECT * FROM stories WHERE id = 's-1'")[0]
    assert (s1["size"], s1["peak_heat"], s1["explanation"]) == (3, 5.0, '["新条目"]')  # the peak is kept


def _evidence(n: int, **kw) -> dict:
    e = {"item_id": n, "title": f"报道{n}", "text": "正文", "url": f"https://news.example/{n}",
         "published": (T0 + timedelta(minutes=n)).isoformat(), "source": "来源", "rank": n,
         "content_hash": f"h{n}"}
    e.update(kw)
    return e


# Snapshots that are new, repeat a stored hash or URL, repeat one of the same call, have no
# hash or URL, or an empty one (SQL compares '' like any other text).
CALLS = [
    [_evidence(1), _evidence(2)],
    [_evidence(3, content_hash="h1"), _evidence(4, url="https://news.example/2"), _evidence(5)],
    [_evidence(6, content_hash=None), _evidence(7, content_hash=None, url="https://news.example/6"),
     _evidence(8, url=None), _evidence(9, url=None, content_hash="h8")],
    [_evidence(10, content_hash=None, url=None), _evidence(11, content_hash=None, url=None)],
    [_evidence(12, content_hash="", url="https://news.example/12"), _evidence(13, content_hash="", url=None),
     _evidence(14, content_hash=None, url="")],
    [_evidence(15, content_hash="h5", url="https://news.example/new")],
]


def _evidence_rows(svc: IncidentService, iid: int) -> list[tuple]:
    return svc.db.execute("SELECT item_id, title, url, published, rank, content_hash FROM incident_evidence"
                          " WHERE incident_id = ? ORDER BY id", [iid]).fetchall()


@pytest.mark.parametrize("cached", [False, True])
def test_evidence_is_deduplicated_alike_with_and_without_the_batch_cache(tmp_path, cached):
    svc = make_service(tmp_path, Clock())
    inc = svc.open_or_join(candidate("s1", evidence=[])).incident
    with transaction(svc.db):
        if cached:
            with svc.batch_cache():
                for ev in CALLS:
                    svc.link_items(inc.id, [], evidence=ev)
        else:
            for ev in CALLS:
                svc.link_items(inc.id, [], evidence=ev)
    assert [r[0] for r in _evidence_rows(svc, inc.id)] == ["1", "2", "5", "6", "8", "10", "11", "12", "13", "14"]


def test_the_batch_cache_needs_a_transaction_and_ends_with_its_block(tmp_path):
    svc = make_service(tmp_path, Clock())
    with pytest.raises(RuntimeError, match="transaction"):
        with svc.batch_cache():
            pass
    with transaction(svc.db), svc.batch_cache():
        svc.open_or_join(candidate("s1"))
    assert svc._evidence_seen is None


def test_a_failed_write_inside_the_batch_cache_is_forgotten(tmp_path):
    """Evidence that could not be written (its savepoint rolled back) is not remembered as stored."""
    svc = make_service(tmp_path, Clock())
    inc = svc.open_or_join(candidate("s1", evidence=[])).incident
    with transaction(svc.db), svc.batch_cache():
        with pytest.raises(sqlite3.Error):  # an unbindable value fails the insert
            svc.link_items(inc.id, [], evidence=[_evidence(1), _evidence(2, source=object())])
        assert svc.link_items(inc.id, [9], evidence=[_evidence(1)]) == ["9"]
    assert [r[0] for r in _evidence_rows(svc, inc.id)] == ["1"]


def test_a_failed_join_inside_the_batch_cache_is_forgotten(tmp_path):
    svc = make_service(tmp_path, Clock())
    svc.open_or_join(candidate("s1", item_ids=(1,)))
    bad = candidate("s1", item_ids=(2,), evidence=[_evidence(2), _evidence(3, source=object())])
    with transaction(svc.db), svc.batch_cache():
        with pytest.raises(sqlite3.Error):
            svc.open_or_join(bad)
        joined = svc.open_or_join(candidate("s1", item_ids=(2,), evidence=[_evidence(2)]))
        iid, opened = joined.incident_id, joined.opened
    assert opened is None
    assert [r[0] for r in _evidence_rows(svc, iid)] == ["1", "2"]


def test_listing_without_links_leaves_only_the_ids_out(tmp_path):
    svc = make_service(tmp_path, Clock())
    svc.open_or_join(candidate("s1", item_ids=(1, 2)))
    full, = svc.list()
    light, = svc.list(links=False)
    assert (full.item_ids, full.story_ids) == (("1", "2"), ("s1",))
    assert (light.item_ids, light.story_ids) == ((), ())
    assert light == type(full)(**{**full.__dict__, "item_ids": (), "story_ids": ()})
