"""Monitoring schemes: the boolean language, proximity, templates, errors with columns."""
from __future__ import annotations

import tomllib

import pytest

from classifiers.schemes import SchemeError, SchemeSet, SchemeSyntaxError, compile_scheme
from data import DATA_DIR


def hit(expr: str, text: str):
    return compile_scheme("s", expr).match(text)


@pytest.mark.parametrize("expr", [
    "汉台 AND 爆炸", "汉台 & 爆炸", "汉台 + 爆炸", "汉台 爆炸", "汉台 and 爆炸", "(汉台)(爆炸)",
])
def test_and_forms(expr):
    assert hit(expr, "汉台区一工厂爆炸")
    assert not hit(expr, "汉台区一工厂起火")


@pytest.mark.parametrize("expr", ["爆炸 OR 坍塌", "爆炸 | 坍塌", "爆炸｜坍塌", "爆炸 or 坍塌"])
def test_or_forms(expr):
    assert hit(expr, "厂房坍塌")
    assert hit(expr, "厂房爆炸")
    assert not hit(expr, "厂房起火")


@pytest.mark.parametrize("expr", ["爆炸 NOT 演练", "爆炸 -演练", "爆炸 !演练", "爆炸 AND NOT 演练", "爆炸 ！演练"])
def test_not_forms(expr):
    assert hit(expr, "化工厂爆炸")
    assert not hit(expr, "化工厂爆炸应急演练")


def test_industry_form_with_groups_and_phrases():
    s = compile_scheme("区域事件", '(汉台 OR "汉中市区") AND (爆炸 OR 坍塌) NOT (演练 OR 电视剧)', alert=True)
    h = s.match("汉中市区某商场坍塌，多人被困")
    assert h is not None and h.alert
    assert h.words == ("汉中市区", "坍塌")
    assert "「汉中市区」" in h.explanation and "演练" in h.explanation
    assert s.match("汉台区电视剧拍摄现场模拟爆炸") is None
    assert s.match("南京某地坍塌") is None


def test_or_binds_looser_than_and():
    # a OR b c  ==  a OR (b AND c)
    assert hit("甲 OR 乙 丙", "只有甲")
    assert not hit("甲 OR 乙 丙", "只有乙")
    assert hit("(甲 OR 乙) 丙", "乙和丙")


def test_quoted_phrase_keeps_operators_and_spaces():
    assert hit('"A & B" 公司', "A & B 公司发布公告")
    assert not hit('"A & B"', "A B")
    assert hit("「汉台 区」", "在汉台 区")


def test_near_operator_counts_characters_between():
    s = compile_scheme("n", "NEAR/5(汉台, 爆炸)")
    assert s.match("汉台区化工厂爆炸")  # 区化工厂: 4 characters apart
    assert s.match("爆炸发生在汉台")  # either order
    assert not s.match("汉台区今日召开会议，下午某地化工厂爆炸")
    h = s.match("汉台区化工厂爆炸")
    assert "相距4字" in h.explanation


def test_tilde_proximity_with_or_groups():
    s = compile_scheme("n", '(汉台|汉中) ~4 (爆炸|起火) NOT 演练')
    assert s.match("汉中一仓库起火")
    assert not s.match("汉中今日天气晴朗，仓库起火")
    assert not s.match("汉中一仓库起火演练")


def test_near_picks_closest_pair_among_repeats():
    s = compile_scheme("n", "NEAR/2(汉台, 爆炸)")
    assert s.match("汉台开会。很久很久以后……汉台爆炸")


def test_scheme_with_only_not_matches_text_without_word():
    s = compile_scheme("n", "NOT 广告")
    assert s.match("普通新闻") is not None
    assert s.match("一则广告") is None


@pytest.mark.parametrize("expr, column, fragment", [
    ("汉台 AND", 7, "expected a word"),
    ("(汉台 OR 爆炸", 10, "expected ')' to close the '(' at column 1"),
    ("汉台)", 3, "unbalanced ')'"),
    ('"汉台 爆炸', 1, "unterminated phrase"),
    ("", 1, "empty expression"),
    ("OR 爆炸", 1, "found OR"),
    ("NEAR/x(汉台, 爆炸)", 6, "distance"),
    ("NEAR/3(汉台 爆炸)", 8, "proximity operand"),
    ("NEAR/3(汉台, 爆炸", 14, "expected ')' to close NEAR/3("),
    ("NEAR/3 汉台", 8, "expected '(' after NEAR/3"),
    ("汉台 ~ 爆炸", 6, "distance in characters after '~'"),
    ("(汉台 AND 爆炸) ~3 伤亡", 1, "proximity operand"),
    ("()", 2, "empty parentheses"),
    ("汉台 AND OR 爆炸", 8, "found OR"),
])
def test_syntax_errors_name_the_column(expr, column, fragment):
    with pytest.raises(SchemeSyntaxError) as err:
        compile_scheme("bad", expr)
    assert err.value.column == column
    assert fragment in str(err.value)
    assert f"column {column}" in str(err.value)
    assert "scheme 'bad'" in str(err.value)


TOWNS = [("铺镇",), ("武乡镇", "武乡"), ("北关街道", "北关")]


def test_template_expands_every_town_times_events():
    doc = {"templates": {"town_emergency": {"places": "towns", "events": ["爆炸", "坍塌"], "exclude": ["演练"],
                                            "alert": True}}}
    ss = SchemeSet.from_mapping(doc, towns=TOWNS)
    assert ss.names() == ["town_emergency:铺镇", "town_emergency:武乡镇", "town_emergency:北关街道"]
    hits = ss.match("武乡一民房坍塌")
    assert [h.scheme for h in hits] == ["town_emergency:武乡镇"]
    assert hits[0].words == ("武乡", "坍塌") and hits[0].alert
    assert ss.match("北关街道开展坍塌演练") == []


def test_template_with_place_list_and_near():
    doc = {"templates": {"t": {"places": ["汉江"], "events": ["死鱼"], "near": 6}}}
    ss = SchemeSet.from_mapping(doc)
    assert ss.match("汉江边出现大量死鱼")
    assert not ss.match("汉江今日水位平稳，隔壁鱼塘出现死鱼")


def test_scheme_set_matches_only_schemes_whose_words_occur():
    doc = {"schemes": {"a": {"expr": "汉台 爆炸"}, "b": {"expr": "讨薪 OR 欠薪", "alert": True},
                       "c": {"expr": "NOT 汉台"}}}
    ss = SchemeSet.from_mapping(doc)
    assert [h.scheme for h in ss.match("汉台区某厂爆炸")] == ["a"]
    assert [h.scheme for h in ss.match("农民工讨薪")] == ["b", "c"]
    assert [h.scheme for h in ss.match("")] == ["c"]


@pytest.mark.parametrize("doc, fragment", [
    ({"schemes": {"a": {}}}, "[schemes.a].expr: missing"),
    ({"schemes": {"a": {"expr": 3}}}, "expected a string"),
    ({"schemes": {"a": {"expr": "x", "alert": "yes"}}}, "[schemes.a].alert: expected true or false"),
    ({"schemes": {"a": {"expr": "x", "colour": 1}}}, "[schemes.a].colour: unknown key"),
    ({"templates": {"t": {"places": "towns"}}}, "[templates.t].events: missing"),
    ({"templates": {"t": {"events": ["x"], "near": -1}}}, "[templates.t].near"),
    ({"other": {}}, "[other]: unknown section"),
])
def test_mapping_errors_name_the_key(doc, fragment):
    with pytest.raises(SchemeError) as err:
        SchemeSet.from_mapping(doc, towns=TOWNS)
    assert fragment in str(err.value)


def test_template_towns_without_gazetteer_is_an_error():
    with pytest.raises(SchemeError, match="no towns are known"):
        SchemeSet.from_mapping({"templates": {"t": {"events": ["爆炸"]}}})


def test_syntax_error_in_mapping_names_the_scheme():
    with pytest.raises(SchemeSyntaxError) as err:
        SchemeSet.from_mapping({"schemes": {"broken": {"expr": "汉台 AND (爆炸"}}})
    assert err.value.scheme == "broken"


def test_bundled_schemes_file_compiles_with_hantai_towns():
    from yuqing.gazetteer_io import load_gazetteer

    gaz = load_gazetteer()
    towns = [(t.name, *t.short_names) for t in gaz.towns]
    with open(DATA_DIR / "schemes.toml", "rb") as fh:
        ss = SchemeSet.from_mapping(tomllib.load(fh), towns=towns)
    assert len(ss) > len(towns)
    names = {h.scheme for h in ss.match("汉台区铺镇一化工厂发生爆炸，已造成2人死亡")}
    assert {"district_emergency", "town_emergency:铺镇"} <= names
    assert ss.match("汉台区举行消防爆炸应急演练") == [] or all(
        not h.scheme.startswith(("district_emergency", "town_emergency")) for h in ss.match("汉台区举行消防爆炸应急演练"))
