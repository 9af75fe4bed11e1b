"""Story facts, candidate triggers and the weak join of quiet stories (pipeline/triggers.py)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipeline.triggers import (StoryFacts, TriggerConfig, bigrams, cosine, norm, parse_triggers, trigger_reason,
                             weak_join_reason)

T0 = datetime(2026, 6, 14, 4, 0, tzinfo=timezone.utc)
PUZHEN = {"code": "610702100", "name": "铺镇", "level": "town", "in_district": True}
WUXIANG = {"code": "610702101", "name": "武乡镇", "level": "town", "in_district": True}


def _facts(place, *, sentiment="负面", risk=("爆炸",), text="铺镇化工厂发生爆炸，多人受伤送医") -> StoryFacts:
    f = StoryFacts()
    f.add({"places": [place] if place else [], "topic": "安全生产", "sentiment": sentiment, "risk_words": risk,
           "severity": "较大", "severity_reasons": ["有人受伤"], "involves_district": bool(place)})
    f.remember(text[:12], text, T0)
    return f


def test_negative_district_story_with_risk_words_is_a_candidate():
    assert "风险词（爆炸）" in trigger_reason(_facts(PUZHEN), TriggerConfig())
    assert trigger_reason(_facts(PUZHEN), TriggerConfig(negative_with_risk=False)) is None
    assert trigger_reason(_facts(PUZHEN, sentiment="中性"), TriggerConfig()) is None
    assert trigger_reason(_facts(None), TriggerConfig()) is None  # not the district's


def test_texts_are_kept_only_for_district_stories_and_first_publication_is_the_earliest():
    elsewhere = _facts(None)
    assert elsewhere.texts == [] and elsewhere.first_published == T0
    local = _facts(PUZHEN)
    assert len(local.texts) == 1
    for k in range(20):
        local.remember("标题", f"正文{k}", T0 - timedelta(minutes=k))
    assert len(local.texts) == StoryFacts.MAX_TEXTS
    assert local.first_published == T0 - timedelta(minutes=19)


def test_weak_join_needs_the_same_town_and_similar_content():
    quiet = _facts(PUZHEN, sentiment="中性", risk=(), text="铺镇化工厂附近冒出浓烟，网友拍下视频")
    incident = bigrams(["铺镇化工厂发生爆炸 多人受伤", "铺镇一化工厂冒出浓烟 现场视频"])
    why = weak_join_reason(quiet, {"610702100"}, incident, incident_norm=norm(incident),
                           incident_keys=frozenset(incident))
    assert why and "铺镇" in why
    assert weak_join_reason(quiet, {"610702101"}, incident) is None  # another town
    unrelated = bigrams(["铺镇中学举行运动会 学生表演精彩节目"])
    assert weak_join_reason(quiet, {"610702100"}, unrelated) is None


def test_weak_join_needs_the_same_event_not_only_the_town_name():
    """Two events in one town share the town's name (and 汉台区铺镇 across it): that is not enough."""
    place = {**PUZHEN, "level": "town"}
    county = {"code": "610702", "name": "汉台区", "level": "county", "in_district": True}
    food = _facts(place, risk=("食物中毒",), text="汉台区铺镇中心小学多名学生在食堂就餐后呕吐，疑似食物中毒")
    food.add({"places": [county], "topic": "食品药品", "involves_district": True})
    incident = bigrams(["汉台区铺镇一化工厂发生爆炸 已致3人受伤", "汉台区铺镇化工厂爆炸 现场浓烟滚滚"])
    assert cosine(food.bigrams[0], incident) > 0.2  # what joined them before: the place name
    assert weak_join_reason(food, {"610702100"}, incident) is None
    same = _facts(place, text="汉台区铺镇化工厂爆炸受伤工人情况稳定，爆炸原因正在调查")
    assert "同一事件" in weak_join_reason(same, {"610702100"}, incident)


@pytest.mark.parametrize("a,b", [("化工厂发生爆炸", "化工厂爆炸"), ("今天天气很好", "化工厂爆炸"), ("", "爆炸")])
def test_cosine_with_key_sets_equals_plain_cosine(a, b):
    x, y = bigrams([a]), bigrams([b])
    plain = cosine(x, y)
    assert cosine(x, y, norm(x), norm(y), a_keys=frozenset(x), b_keys=frozenset(y)) == pytest.approx(plain)
    assert 0.0 <= plain <= 1.0


def test_bigrams_ignore_non_chinese_characters():
    assert bigrams(["铺镇 abc 爆炸"]) == bigrams(["铺镇爆炸"])


def test_trigger_config_errors_name_the_key():
    with pytest.raises(ValueError, match="story_window_hours"):
        parse_triggers({"story_window_hours": 0})
    with pytest.raises(ValueError, match="unknown key"):
        parse_triggers({"hott": True})


def test_place_names_and_the_district_before_a_town_are_not_event_words():
    from classifiers.same_event import event_bigrams, place_bigram_test, regions_before

    texts = ["汉台区铺镇一化工厂发生爆炸 已致3人受伤", "陕西汉中市汉台区铺镇工地塔吊倒塌 现场2人受伤"]
    assert "汉台区" in regions_before(texts, ["铺镇"]) and regions_before(["铺镇中心小学"], ["铺镇"]) == set()
    is_place = place_bigram_test(["铺镇"], ["汉台区"])
    assert all(is_place(k) for k in ("铺镇", "区铺", "镇一", "汉台", "台区")) and not is_place("化工")
    common = sorted(bigrams([texts[0]]).keys() & bigrams([texts[1]]).keys())
    assert event_bigrams(common, is_place) is None  # 受伤 and the place are all they share
    assert event_bigrams(["化工", "工厂", "爆炸", "受伤"], is_place) == ["化工", "工厂", "爆炸", "受伤"]
