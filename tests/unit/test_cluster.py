"""Same-event grouping, first publisher, spread, engagement, rank history, window."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from classifiers.stories import StoryEngine, StoryItem

T0 = datetime(2026, 6, 1, 8, tzinfo=timezone.utc)


def item(iid, text, minutes=0, source="weibo", **metrics):
    return StoryItem(iid, "", text, T0 + timedelta(minutes=minutes), source, metrics)


EVENT = [
    "汉台区龙江街道一小区地下车库暴雨积水，多辆私家车被淹，业主质疑物业排水设施失修",
    "龙江街道小区车库积水严重，业主说物业排水泵坏了很久，私家车泡在水里",
    "记者探访汉台区龙江街道积水小区：物业排水设施失修，车库私家车被淹",
]
OTHER = [
    "汉中市博物馆推出端午节非遗展览，市民可免费预约参观",
    "西汉高速汉中段明日起夜间施工，请过往车辆提前绕行",
]


def test_same_event_merges_other_events_create():
    eng = StoryEngine()
    out = [eng.add(item(f"e{i}", t, i * 10)) for i, t in enumerate(EVENT)]
    assert out[0].new_story and not out[1].new_story
    assert {a.story_id for a in out} == {out[0].story_id}
    assert all(a.duplicate_of is None for a in out)
    others = [eng.add(item(f"o{i}", t, 40 + i)) for i, t in enumerate(OTHER)]
    assert all(a.new_story for a in others)
    assert len({a.story_id for a in others} | {out[0].story_id}) == 3


def test_first_publisher_with_out_of_order_arrival():
    eng = StoryEngine()
    a = eng.add(item("late-arrival", EVENT[0], 60, source="news"))
    eng.add(item("second", EVENT[1], 70, source="weibo"))
    eng.add(item("earliest", EVENT[2], 5, source="汉中日报"))  # published first, arrives last
    st = eng.story(a.story_id)
    assert (st.first_id, st.first_source) == ("earliest", "汉中日报")
    assert st.first_published == T0 + timedelta(minutes=5)
    assert st.sources == ("news", "weibo", "汉中日报")
    assert st.size == 3 and set(st.item_ids) == {"late-arrival", "second", "earliest"}


def test_engagement_rank_history_and_updates():
    eng = StoryEngine()
    a = eng.add(item("h1", EVENT[0], 0, source="weibo-hot", reposts=10, comments=5, likes=100, rank=12))
    eng.add(item("h2", EVENT[1], 10, source="weibo", reposts=1, comments=2, likes=3))
    # the hot-list entry is polled again: better rank, more engagement (no double counting)
    again = eng.add(item("h1", EVENT[0], 0, source="weibo-hot", reposts=50, comments=5, likes=100, rank=3))
    assert again.story_id == a.story_id
    st = eng.story(a.story_id)
    assert st.size == 2
    assert dict(st.engagement) == {"reposts": 51, "comments": 7, "likes": 103}
    assert st.peak_rank == 3
    (span,) = st.rank_history
    assert span.source == "weibo-hot" and span.peak_rank == 3 and span.off_list is None
    summary = st.to_summary_json()
    for key in ("story", "size", "label", "first_id", "first_source", "first_published", "sources",
                "hot_since", "peak_heat"):
        assert key in summary
    assert summary["label"]


def test_window_evicts_stories_and_reports_them():
    gone = []
    eng = StoryEngine(window=timedelta(hours=2), on_evict=gone.append)
    first = eng.add(item("old", EVENT[0], 0))
    for i in range(30):
        eng.add(item(f"n{i}", f"第{i}号通知：" + OTHER[i % 2], 200 + i))
    eng.evict(T0 + timedelta(minutes=240))
    assert first.story_id in {s.id for s in gone}
    assert "old" not in {i for s in eng.stories() for i in s.item_ids}
    assert all(s.id != first.story_id for s in eng.stories())


def test_explain_heat_is_in_words():
    eng = StoryEngine()
    a = eng.add(item("x", EVENT[0]))
    lines = eng.explain_heat(a.story_id)
    assert lines[0].startswith("热度")
    assert any("突发检验" in line for line in lines)
