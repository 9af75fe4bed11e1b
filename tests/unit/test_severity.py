"""Risk words and severity tiers with reasons."""
from __future__ import annotations

import pytest

from classifiers.severity import RiskDetector, estimate_severity, extract_counts, parse_cn_number
from yuqing.classify_io import load_risk_lexicon


@pytest.fixture(scope="module")
def risk():
    return RiskDetector(load_risk_lexicon())


@pytest.mark.parametrize("text, value", [
    ("3", 3), ("十", 10), ("十二", 12), ("二十五", 25), ("一百零五", 105), ("两千", 2000), ("三万", 30000),
    ("数十", 20), ("上百", 100), ("十余", 10), ("几", 2), ("近百", 90), ("三四十", 30), ("３５", 35),
])
def test_chinese_numbers(text, value):
    assert parse_cn_number(text) == value


@pytest.mark.parametrize("text, deaths, injured", [
    ("铺镇客车侧翻 1人死亡35人受伤", 1, 35),
    ("2人死亡5人受伤", 2, 5),
    ("死亡2人受伤3人", 2, 3),
    ("35名乘客中1人死亡", 1, 0),
    ("事故已造成3人死亡、12人受伤", 3, 12),
    ("致5人受伤", 0, 5),
    ("某煤矿透水事故致三十二人遇难", 32, 0),
    ("死亡人数升至十二人", 12, 0),
    ("一名儿童溺亡", 1, 0),
    ("未造成人员伤亡", 0, 0),
    ("2024年3月发布", 0, 0),
])
def test_counts(text, deaths, injured):
    c = extract_counts(text)
    assert (c.deaths, c.injured) == (deaths, injured)


def test_trapped_missing_are_their_own_figures():
    c = extract_counts("已造成2人死亡、3人失联，仍有2名工人被困井下")
    assert (c.deaths, c.missing, c.trapped) == (2, 3, 2)


def test_gathering_counts():
    assert extract_counts("数十名村民聚集在镇政府门口").gathering == 20
    assert extract_counts("约300余名工人堵路讨薪").gathering == 300


@pytest.mark.parametrize("text, level", [
    ("铺镇一民房起火，未造成人员伤亡", "一般"),
    ("一化工厂爆炸，造成1人死亡", "一般"),
    ("一化工厂爆炸，造成3人死亡", "较大"),
    ("隧道坍塌致12人遇难", "重大"),
    ("煤矿瓦斯爆炸致三十二人遇难", "特别重大"),
    ("客车侧翻致55人受伤", "较大"),  # plain 受伤 grades one tier below 重伤
    ("客车侧翻致55人重伤", "重大"),
    ("铺镇客车侧翻 1人死亡35人受伤", "一般"),
    ("煤矿透水事故，22名矿工被困井下", "重大"),
    ("某地发生特别重大道路交通事故", "特别重大"),
    ("数百名村民聚集堵路", "较大"),
    ("上千名群众聚集", "特别重大"),
    ("某小学发生食物中毒，多名学生送医", "较大"),
    ("今天天气晴好", "一般"),
])
def test_levels(risk, text, level):
    assert risk.assess(text).level == level


def test_reasons_are_words(risk):
    r = risk.assess("一化工厂爆炸，已造成3人死亡、12人受伤")
    assert r.level == "较大"
    assert r.reasons[0].startswith("定级依据：死亡 3 人") and "较大" in r.reasons[0]
    assert any(x.startswith("受伤 12 人") and "重伤≥10人则为较大" in x for x in r.reasons)


def test_vague_amounts_grade_by_lower_bound_and_say_so(risk):
    r = risk.assess("隧道坍塌，十余人遇难")
    assert r.level == "重大" and "「十余」为约数，按下限10人计" in r.reasons[0]


def test_negated_risk_words_do_not_count(risk):
    assert "伤亡" not in risk.find("火灾未造成人员伤亡")
    assert "受伤" not in risk.find("所幸无人受伤")
    assert risk.find("火灾造成人员伤亡") == ("火灾", "伤亡")


def test_spread_raises_one_level(risk):
    words = risk.find("一工厂爆炸，1人死亡")
    assert risk.assess("一工厂爆炸，1人死亡", words).level == "一般"
    r = risk.assess("一工厂爆炸，1人死亡", words, reposts=50000)
    assert r.level == "较大" and any("传播广" in x for x in r.reasons)
    assert estimate_severity("今天天气晴好", {}, reposts=50000).level == "一般"


def test_mass_incident_without_numbers(risk):
    r = risk.assess("村民堵路讨要征地补偿款")
    assert r.level == "较大" and r.reasons
