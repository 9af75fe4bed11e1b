"""The incident service: candidates, the state machine, releases, merge/split, release detection."""
from __future__ import annotations

from datetime import timedelta

import pytest

from responders import timeline
from responders.candidates import candidate_from_mapping
from responders.exceptions import CandidateError, IllegalTransition, IncidentNotFound, InvalidValue
from responders.release_detect import (
    confirm_proposal, list_proposals, propose_releases, reject_proposal, score_item,
)
from responders.types import OwnChannelItem
from tests.responders_kit import T0, WUXIANG, Clock, candidate, make_service

H = timedelta(hours=1)
# The PostgreSQL half runs the tests whose statements differ in kind (joins, links, merges,
# splits, proposals, the whole path); these add no statement the others do not run.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def clock():
    return Clock(T0 + H)


@pytest.fixture
def svc(tmp_path, clock, backend):
    return make_service(tmp_path, clock, target=backend)


def kinds(svc, iid):
    return [e.kind for e in svc.timeline(iid)]


# ------------------------------------------------------------------ candidates

def test_open_from_candidate(svc):
    joined = svc.open_or_join(candidate())
    inc, opened = joined.incident, joined.opened
    assert opened and inc.state == "发现" and inc.severity == "一般"
    assert inc.clock_started_at == T0 and inc.release_due == T0 + 24 * H
    assert inc.item_ids == ("1", "2") and inc.story_ids == ("s1",)
    assert inc.responsible_units == ("区生态环境分局", "铺镇")
    assert kinds(svc, inc.id) == ["detected", "clock_set", "item_linked"]
    assert len(svc.evidence(inc.id)) == 2


@SQLITE_ONLY
def test_same_town_and_topic_but_another_event_opens_its_own(svc):
    """Same town, same topic, a few hours apart: still two events (the join needs the event)."""
    a = svc.open_or_join(candidate("s1")).incident
    b = svc.open_or_join(candidate("s2", title="铺镇养殖场污水直排河道 村民投诉", item_ids=(5,),
                                   first_published=T0 + 3 * H)).incident
    assert b.id != a.id
    c = svc.open_or_join(candidate("s3", title="铺镇化工厂夜间异味又来了 刺鼻难闻", item_ids=(6,),
                                   first_published=T0 + 4 * H)).incident
    assert c.id == a.id and "同一事件" in [e for e in svc.timeline(a.id) if e.kind == "candidate_joined"][0].payload["reason"]


def test_a_story_telling_the_same_event_joins_under_the_incidents_topic(svc):
    """The story stage found the story telling the same event as an incident (``same_event_as``):
    classified under another topic, it still joins, and the join names the incident's topic."""
    from dataclasses import replace

    a = svc.open_or_join(candidate("s1")).incident
    other = candidate("s2", title="铺镇化工厂夜间异味又来了 刺鼻难闻", item_ids=(6,), topic="安全生产",
                      first_published=T0 + 4 * H)
    assert svc.open_or_join(other).incident.id != a.id  # on its own topic alone it would not join
    again = replace(candidate("s3", title="铺镇化工厂夜间异味又来了 刺鼻难闻", item_ids=(7,), topic="安全生产",
                              first_published=T0 + 4 * H), same_event_as=a.id)
    joined = svc.open_or_join(again)
    b, opened = joined.incident, joined.opened
    assert not opened and b.id == a.id
    reason = [e for e in svc.timeline(a.id) if e.kind == "candidate_joined"][0].payload["reason"]
    assert "同一领域（生态环境）" in reason and "同一事件" in reason


@SQLITE_ONLY
def test_a_story_telling_the_same_event_that_still_does_not_join_opens_under_that_topic(svc):
    """Another event word-wise (the join still needs shared event words): it opens its own
    incident, under the topic of the incident it was found to resemble."""
    from dataclasses import replace

    a = svc.open_or_join(candidate("s1")).incident
    c = replace(candidate("s2", title="铺镇养殖场污水直排河道 村民投诉", item_ids=(5,), topic="农业农村",
                          first_published=T0 + 3 * H), same_event_as=a.id)
    joined = svc.open_or_join(c)
    b, opened = joined.incident, joined.opened
    assert opened and b.id != a.id and b.topic == "生态环境"


def test_same_story_joins(svc):
    a = svc.open_or_join(candidate("s1")).incident
    joined = svc.open_or_join(candidate("s1", item_ids=(3,)))
    b, opened = joined.incident, joined.opened
    assert not opened and b.id == a.id and b.item_ids == ("1", "2", "3")
    assert "candidate_joined" in kinds(svc, a.id)


def test_same_town_and_topic_joins_other_topic_does_not(svc):
    a = svc.open_or_join(candidate("s1")).incident
    b = svc.open_or_join(candidate("s2", item_ids=(5,), first_published=T0 + 3 * H)).incident
    assert b.id == a.id and set(b.story_ids) == {"s1", "s2"}
    c = svc.open_or_join(candidate("s3", item_ids=(6,), topic="教育")).incident
    assert c.id != a.id
    d = svc.open_or_join(candidate("s4", item_ids=(7,), places=(WUXIANG,))).incident
    assert d.id not in (a.id, c.id)
    e = svc.open_or_join(candidate("s5", item_ids=(8,), first_published=T0 + 100 * H)).incident
    assert e.id not in (a.id, c.id, d.id)  # outside the join window


def test_shared_items_join(svc):
    a = svc.open_or_join(candidate("s1", places=(), topic="其他", item_ids=(1, 2))).incident
    b = svc.open_or_join(candidate("s9", places=(), topic="教育", item_ids=(2, 10))).incident
    assert b.id == a.id and "10" in b.item_ids


@SQLITE_ONLY
def test_join_with_earlier_publication_and_higher_severity_moves_the_deadline(svc):
    a = svc.open_or_join(candidate("s1", first_published=T0 + 2 * H)).incident
    assert a.release_due == T0 + 26 * H
    b = svc.open_or_join(candidate("s1", first_published=T0, severity="重大", item_ids=(4,))).incident
    assert b.id == a.id and b.severity == "重大" and b.clock_started_at == T0 and b.release_due == T0 + 5 * H
    assert kinds(svc, a.id).count("clock_set") >= 2 and "graded" in kinds(svc, a.id)


def test_closed_incidents_are_not_joined(svc):
    a = svc.open_or_join(candidate("s1")).incident
    svc.dismiss(a.id, "重复", state="误报")
    b = svc.open_or_join(candidate("s1")).incident
    assert b.id != a.id


@pytest.mark.parametrize("field, value, msg", [
    ("first_published", "yesterday", "first_published"),
    ("detected_at", "2026-06-14T08:00:00", "timezone"),
    ("severity", "很大", "severity"),
    ("places", [{"name": "铺镇"}], "places[0].code"),
    ("item_ids", "1,2", "item_ids"),
])
def test_bad_candidates_name_the_field(field, value, msg):
    d = {"story_id": "s", "title": "t", "first_published": "2026-06-14T00:00:00+00:00",
         "detected_at": "2026-06-14T01:00:00+00:00", field: value}
    with pytest.raises(CandidateError, match=msg.replace("[", r"\[").replace("]", r"\]")):
        candidate_from_mapping(d)
    with pytest.raises(CandidateError, match="title"):
        candidate_from_mapping({"story_id": "s"})


# ------------------------------------------------------------------ state machine

def test_full_path_to_archive(svc, clock):
    inc = svc.open_or_join(candidate()).incident
    assert svc.acknowledge(inc.id, actor="张三").state == "研判"
    assert svc.grade(inc.id, "较大", ["涉及群众健康"], actor="张三").state == "研判"
    assert svc.assign(inc.id, ["区住建局"], actor="张三").state == "交办"
    clock.advance(hours=2)
    rel = svc.record_release(inc.id, channel="政府网站", url="https://gov.example/1", text="情况通报", actor="王五")
    assert rel.kind == "authoritative" and svc.get(inc.id).state == "已发布权威信息"
    svc.record_release(inc.id, channel="政务微博", url="https://weibo.example/2", text="进展")
    assert svc.get(inc.id).state == "持续发布"
    svc.followup(inc.id, "督促整改")
    svc.record_release(inc.id, channel="政务微信", url="https://wx.example/3", text="处置结果", kind="final")
    got = svc.get(inc.id)
    assert got.state == "处置结果已发布" and got.final_at == clock.now and got.released_at == T0 + 3 * H
    assert svc.close(inc.id).state == "归档"
    assert svc.get(inc.id).closed_at == clock.now
    ks = kinds(svc, inc.id)
    for k in ("acknowledged", "graded", "assigned", "release", "followup", "state_changed", "archived"):
        assert k in ks
    assert timeline.verify(svc.db).ok


@pytest.mark.parametrize("state", ["发现", "研判", "交办", "已发布权威信息", "持续发布"])
@SQLITE_ONLY
def test_no_archive_before_final_result(svc, state):
    inc = svc.open_or_join(candidate()).incident
    steps = {
        "研判": lambda: svc.acknowledge(inc.id),
        "交办": lambda: svc.assign(inc.id, ["区住建局"]),
        "已发布权威信息": lambda: svc.record_release(inc.id, channel="政府网站", url="https://g/1"),
        "持续发布": lambda: svc.record_release(inc.id, channel="政府网站", url="https://g/2"),
    }
    order = ["研判", "交办", "已发布权威信息", "持续发布"]
    for s in order[: order.index(state) + 1] if state in order else []:
        steps[s]()
    assert svc.get(inc.id).state == state
    with pytest.raises(IllegalTransition, match="处置结果"):
        svc.close(inc.id)


def test_dismiss_needs_a_reason_and_allows_archive(svc):
    inc = svc.open_or_join(candidate()).incident
    with pytest.raises(InvalidValue, match="理由"):
        svc.dismiss(inc.id, "  ", state="误报")
    with pytest.raises(InvalidValue):
        svc.dismiss(inc.id, "x", state="关闭")
    d = svc.dismiss(inc.id, "经核实为外地事件", state="误报")
    assert d.state == "误报" and d.dismiss_reason == "经核实为外地事件" and not d.is_open
    with pytest.raises(IllegalTransition):
        svc.acknowledge(inc.id)
    with pytest.raises(IllegalTransition):
        svc.dismiss(inc.id, "again")
    assert svc.close(inc.id).state == "归档"
    with pytest.raises(IllegalTransition):
        svc.close(inc.id)


@SQLITE_ONLY
def test_dismiss_after_release_is_allowed(svc):
    inc = svc.open_or_join(candidate()).incident
    svc.record_release(inc.id, channel="政府网站", url="https://g/1")
    assert svc.dismiss(inc.id, "不予处置：已由市级处置").state == "不予处置"


@SQLITE_ONLY
def test_release_rules(svc, clock):
    inc = svc.open_or_join(candidate()).incident
    with pytest.raises(IllegalTransition, match="authoritative"):
        svc.record_release(inc.id, channel="政府网站", url="https://g/1", kind="progress")
    with pytest.raises(InvalidValue, match="渠道"):
        svc.record_release(inc.id, channel="抖音", url="https://g/1")
    with pytest.raises(InvalidValue, match="链接或内容"):
        svc.record_release(inc.id, channel="政府网站")
    with pytest.raises(InvalidValue, match="晚于"):
        svc.record_release(inc.id, channel="政府网站", url="https://g/1", at=clock.now + 2 * H)
    svc.record_release(inc.id, channel="新闻发布会", text="发布会通报", at=clock.now - 0.5 * H)
    with pytest.raises(IllegalTransition, match="首次权威发布"):
        svc.record_release(inc.id, channel="政府网站", url="https://g/2", kind="authoritative")
    svc.record_release(inc.id, channel="政府网站", url="https://g/3", kind="final")
    with pytest.raises(IllegalTransition, match="处置结果"):
        svc.record_release(inc.id, channel="政府网站", url="https://g/4")
    assert svc.clock_state(inc.id).status == "closed"


@SQLITE_ONLY
def test_final_result_as_first_release(svc):
    inc = svc.open_or_join(candidate()).incident
    svc.record_release(inc.id, channel="政府网站", url="https://g/1", kind="final")
    got = svc.get(inc.id)
    assert got.state == "处置结果已发布" and got.released_at == got.final_at


def test_regrade_recomputes_due_and_is_recorded(svc):
    inc = svc.open_or_join(candidate()).incident
    g = svc.grade(inc.id, "重大", ["可能涉及伤亡"])
    assert g.release_due == T0 + 5 * H and g.tier == "重大"
    g = svc.grade(inc.id, "一般", [], tier="ordinary")
    assert g.release_due == T0 + 48 * H and g.tier == "ordinary"
    sets = [e.payload for e in svc.timeline(inc.id) if e.kind == "clock_set"]
    assert [s["reason"] for s in sets] == ["opened", "regrade", "regrade"]
    assert sets[1]["previous_due_at"].startswith("2026-06-15T00:00")
    with pytest.raises(InvalidValue, match="严重程度"):
        svc.grade(inc.id, "超大")
    with pytest.raises(InvalidValue, match="未在"):
        svc.grade(inc.id, "一般", tier="火速")


@SQLITE_ONLY
def test_verification_and_notes(svc):
    inc = svc.open_or_join(candidate()).incident
    assert svc.set_verification(inc.id, "反转", "当事人澄清").verification == "反转"
    with pytest.raises(InvalidValue):
        svc.set_verification(inc.id, "真的")
    with pytest.raises(InvalidValue):
        svc.note(inc.id, "")
    with pytest.raises(IncidentNotFound):
        svc.note(999, "x")


def test_link_and_unlink(svc):
    inc = svc.open_or_join(candidate()).incident
    assert svc.link_items(inc.id, [3, "4", 3]) == ["3", "4"]
    assert svc.unlink_items(inc.id, ["1", "99"], reason="无关") == ["1"]
    assert svc.get(inc.id).item_ids == ("2", "3", "4")
    assert kinds(svc, inc.id).count("item_unlinked") == 1


# ------------------------------------------------------------------ merge and split

def test_merge_moves_everything_and_keeps_the_earliest_clock(svc):
    a = svc.open_or_join(candidate("s1", first_published=T0 + 0.5 * H, item_ids=(1,))).incident
    b = svc.open_or_join(candidate("s2", first_published=T0, places=(WUXIANG,), item_ids=(2,), severity="较大")).incident
    svc.assign(b.id, ["武乡镇"])
    m = svc.merge(a.id, [b.id])
    assert m.id == a.id and set(m.item_ids) == {"1", "2"} and set(m.story_ids) == {"s1", "s2"}
    assert m.clock_started_at == T0 and m.severity == "较大" and m.state == "交办"
    assert {p["name"] for p in m.places} == {"铺镇", "武乡镇"}
    old = svc.get(b.id)
    assert old.merged_into == a.id and not old.is_open and old.item_ids == ()
    assert [i.id for i in svc.list()] == [a.id]
    assert "merged_into" in kinds(svc, b.id) and "merged" in kinds(svc, a.id)
    assert svc.clock_state(b.id).status == "closed"
    with pytest.raises(InvalidValue):
        svc.merge(a.id, [a.id])
    with pytest.raises(IllegalTransition):
        svc.merge(a.id, [b.id])


def test_split_moves_items_to_a_new_incident(svc):
    a = svc.open_or_join(candidate("s1", item_ids=(1, 2, 3))).incident
    n = svc.split(a.id, ["3"], title="另一件事")
    assert n.id != a.id and n.item_ids == ("3",) and n.title == "另一件事" and n.state == "发现"
    assert svc.get(a.id).item_ids == ("1", "2")
    assert n.clock_started_at == T0 + H  # earliest evidence of item 3 (published T0 + 2*30 min)
    assert [e.item_id for e in svc.evidence(n.id)] == ["3"]
    assert "split" in kinds(svc, a.id) and "split_from" in kinds(svc, n.id)
    with pytest.raises(InvalidValue, match="不属于"):
        svc.split(a.id, ["3"])


# ------------------------------------------------------------------ release detection

def own_item(item_id="501", title="关于铺镇化工厂异味问题的情况通报", text="区生态环境分局已对铺镇化工厂排放开展调查。",
             published=T0 + 2 * H):
    return OwnChannelItem(item_id, title, text, f"https://gov.example/{item_id}", published, "hantai-gov", "gov",
                          "汉台区政府网")


def test_merge_moves_proposals_but_keeps_one_the_target_already_has(svc):
    from responders import store
    from storage.db import transaction

    a = svc.open_or_join(candidate("s1", item_ids=(1,))).incident
    b = svc.open_or_join(candidate("s2", places=(WUXIANG,), item_ids=(2,))).incident
    with transaction(svc.db) as conn:
        first = store.insert_proposal(conn, a.id, "501", 0.9, "{}", T0)
        assert first is not None and store.insert_proposal(conn, a.id, "501", 0.9, "{}", T0) is None  # once
        store.insert_proposal(conn, b.id, "501", 0.8, "{}", T0)
        store.insert_proposal(conn, b.id, "502", 0.7, "{}", T0)
    svc.merge(a.id, [b.id])
    rows = store.proposal_rows(svc.db, None, None)
    assert sorted((r["incident_id"], r["item_id"]) for r in rows) == [(a.id, "501"), (a.id, "502"), (b.id, "501")]
    assert store.proposal_row(svc.db, first)["score"] == 0.9


@SQLITE_ONLY
def test_score_explains_itself(svc):
    inc = svc.open_or_join(candidate()).incident
    score, ev = score_item(own_item(), inc, [e.title for e in svc.evidence(inc.id)])
    assert score >= 0.5 and ev["places"] == ["铺镇"] and "区生态环境分局" in ev["departments"]
    assert "提及地点 铺镇" in ev["why"]
    unrelated, _ = score_item(own_item(title="区教体局召开暑期安全工作会议", text="部署学生防溺水工作。"), inc)
    assert unrelated < 0.5


def test_detected_release_is_confirmed_with_one_action(svc, clock):
    inc = svc.open_or_join(candidate()).incident
    clock.advance(hours=2)
    other = svc.open_or_join(candidate("s7", title="武乡镇学校食堂问题", topic="教育", places=(WUXIANG,), item_ids=(70,))).incident
    props = propose_releases(svc, [own_item(), own_item("502", title="区教体局召开暑期安全工作会议", text="防溺水")])
    assert len(props) == 1 and props[0].incident_id == inc.id and props[0].status == "proposed"
    assert propose_releases(svc, [own_item()]) == []  # not proposed twice
    assert "release_proposed" in kinds(svc, inc.id)
    rel = confirm_proposal(svc, props[0].id, actor="张三")
    assert rel.channel == "政府网站" and rel.released_at == T0 + 2 * H and rel.source_item_id == "501"
    assert svc.get(inc.id).state == "已发布权威信息" and svc.get(other.id).released_at is None
    assert list_proposals(svc) == [] and list_proposals(svc, "confirmed")[0].release_id == rel.id
    with pytest.raises(InvalidValue):
        confirm_proposal(svc, props[0].id)


def test_reject_and_auto_confirm(svc):
    inc = svc.open_or_join(candidate()).incident
    p = propose_releases(svc, [own_item()])[0]
    reject_proposal(svc, p.id, "只是转载")
    assert "release_rejected" in kinds(svc, inc.id) and svc.get(inc.id).released_at is None
    auto = propose_releases(svc, [own_item("503")], auto_confirm=True)
    assert auto[0].status == "confirmed" and svc.get(inc.id).state == "已发布权威信息"


@SQLITE_ONLY
def test_items_before_the_issue_are_not_releases(svc):
    svc.open_or_join(candidate(first_published=T0 + 10 * H))
    assert propose_releases(svc, [own_item(published=T0)]) == []


def test_own_channel_items_come_from_the_item_store(tmp_path, clock):
    from monitor import store as mstore
    from monitor.types import ParsedItem, SourceSpec
    from responders.incidents import IncidentService
    from responders.policy import ClockPolicy
    from responders.store import migrations
    from responders.types import OwnChannelItem

    def own_channel_items(db, since_item_id=0):
        return [OwnChannelItem(**d) for d in mstore.own_channel_items(db, since_item_id)]
    from storage.db import open_db

    db = open_db(tmp_path / "both.sqlite", [mstore.migrations, migrations])
    gov = SourceSpec(id="hantai-gov", name="汉台区政府网", url="https://gov.example/feed", own_channel=True,
                     platform="gov")
    news = SourceSpec(id="news", name="新闻", url="https://news.example/feed")
    mstore.sync_sources(db, [gov, news], clock.now)
    for spec, guid, title in [(news, "n1", "铺镇化工厂异味 村民投诉"), (gov, "g1", "关于铺镇化工厂异味问题的情况通报")]:
        mstore.store_fetch(db, spec, [ParsedItem(guid=guid, title=title, link=f"https://x.example/{guid}",
                                                 published=T0 + 2 * H, text="区生态环境分局已开展调查。")],
                           now=clock.now, next_check=clock.now + H, etag=None, last_modified=None, body_digest=None)
    items = own_channel_items(db)
    assert [(i.title, i.platform, i.source_name) for i in items] == [("关于铺镇化工厂异味问题的情况通报", "gov", "汉台区政府网")]
    assert own_channel_items(db, since_item_id=int(items[0].item_id)) == []
    svc = IncidentService(db, ClockPolicy(), clock)
    svc.open_or_join(candidate(item_ids=(101, 102)))
    clock.advance(hours=2)
    assert len(propose_releases(svc, items)) == 1
    assert own_channel_items(make_service(tmp_path, clock, name="bare.sqlite").db) == []


@SQLITE_ONLY
def test_candidates_built_in_code_are_validated(svc):
    from dataclasses import replace
    from datetime import datetime

    good = candidate()
    with pytest.raises(CandidateError, match="first_published"):
        svc.open_or_join(replace(good, first_published=datetime(2026, 6, 14)))
    with pytest.raises(CandidateError, match="evidence\\[0\\].published"):
        svc.open_or_join(replace(good, evidence=({"title": "x", "published": "2026-06-14T08:00:00"},)))
    with pytest.raises(CandidateError, match="severity"):
        svc.open_or_join(replace(good, severity="严重"))
    assert svc.list() == []
    # lists (not tuples) and int item ids are fine
    inc = svc.open_or_join(replace(good, places=[dict(good.places[0])], item_ids=[7, "8"])).incident
    assert inc.item_ids == ("7", "8")


def test_incident_open_follows_merges_and_dismissals(svc):
    """What the alert dispatcher asks before giving up on a breaking alert."""
    from responders.incidents import incident_open

    a = svc.open_or_join(candidate("s1", item_ids=(1,))).incident
    b = svc.open_or_join(candidate("s2", first_published=T0, places=(WUXIANG,), item_ids=(2,))).incident
    assert a.id != b.id
    assert incident_open(svc.db, a.id) and incident_open(svc.db, b.id)
    svc.merge(a.id, [b.id])
    assert incident_open(svc.db, b.id)  # merged into an open incident: still being handled
    svc.dismiss(a.id, "误报核实")
    assert not incident_open(svc.db, a.id) and not incident_open(svc.db, b.id)
    assert not incident_open(svc.db, 999)
