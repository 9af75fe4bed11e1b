"""How the console names things: actors, sources, schemes, units in a narrow column, errors."""
from __future__ import annotations

import re

import pytest
from rich.cells import cell_len

from classifiers.scheme_parser import explain_zh
from classifiers.schemes import SchemeSet, compile_scheme, scheme_labels
from tui.display import (
    DisplayNames, actor_label, fit_names, relabel_schemes, scheme_label, source_error_label,
)

LABELS = {"district_emergency": "区级突发事件", "town_emergency": "镇办突发事件"}


@pytest.mark.parametrize("actor, expected", [
    ("system", "系统"), ("[system]", "系统"), ("", "系统"), (None, "系统"), ("SYSTEM", "系统"),
    ("zhang3", "张三"), ("[zhang3]", "张三"), ("root", "张三"),  # by staff id, by OS login
    ("值班员", "值班员"),  # a desk without staff: the actor as recorded
])
def test_actor_label(actor, expected):
    assert actor_label(actor, {"zhang3": "张三", "root": "张三"}) == expected


def test_scheme_labels_and_template_instances():
    assert scheme_label("district_emergency", LABELS) == "区级突发事件"
    assert scheme_label("town_emergency:铺镇", LABELS) == "镇办突发事件（铺镇）"
    assert scheme_label("unlabelled", LABELS) == "unlabelled"
    text = "命中告警方案（district_emergency、school_safety、town_emergency:铺镇）"
    assert relabel_schemes(text, LABELS) == "命中告警方案（区级突发事件、school_safety、镇办突发事件（铺镇））"
    assert relabel_schemes("my_district_emergency_x", LABELS) == "my_district_emergency_x"  # whole names only


def test_every_bundled_scheme_has_a_chinese_label():
    import tomllib
    from pathlib import Path

    doc = tomllib.loads((Path(__file__).resolve().parents[2] / "data" / "schemes.toml").read_text(encoding="utf-8"))
    labels = scheme_labels(doc)
    names = set(doc["schemes"]) | set(doc["templates"])
    assert set(labels) == names
    assert all(re.fullmatch(r"[\u4e00-\u9fff（）]+", label) for label in labels.values())
    SchemeSet.from_mapping(doc, towns=["铺镇"])  # label is a known key


def test_label_must_be_text():
    from classifiers.scheme_parser import SchemeError

    with pytest.raises(SchemeError, match="label"):
        SchemeSet.from_mapping({"schemes": {"a": {"expr": "汉台", "label": 3}}})


@pytest.mark.parametrize("names, width, expected", [
    (("区住建局",), 18, "区住建局"),
    (("区应急管理局", "生态环境局汉台分局", "铺镇"), 18, "区应急管理局 等3个"),
    (("区卫健局", "区教体局", "铺镇", "区市场监管局"), 26, "区卫健局、区教体局 等4个"),
    (("铺镇", "武乡镇"), 13, "铺镇、武乡镇"),
    ((), 10, "—"),
])
def test_fit_names_never_cuts_a_name(names, width, expected):
    out = fit_names(names, width)
    assert out == expected and (cell_len(out) <= width or len(names) == 1)


@pytest.mark.parametrize("stored, expected", [
    ("ConnectError: cannot connect to http://x/: Connection refused", "无法连接网站"),
    ("ConnectError: cannot resolve the host name of http://x/", "无法解析网站域名"),
    ("HTTPStatusError: HTTP 503 from http://x/", "网站返回错误状态码 503"),
    ("FetchTimeout: timed out: http://x/ took more than 30 s in all", "超时：网站长时间没有响应"),
    ("ParseError: document is an HTML page, not a feed", "内容无法解析（格式不符或页面改版）"),
    ("RuntimeError: boom", "采集出错"),
    (None, "无"),
])
def test_source_errors_in_chinese(stored, expected):
    assert source_error_label(stored) == expected


@pytest.mark.parametrize("expr", [
    '汉台 AND (', '汉台 )', '"汉台', '""', 'NEAR/(汉台, 爆炸)', '汉台 ~ 爆炸', '()', 'AND', 'NEAR/5 汉台',
    'NEAR/5(汉台 爆炸)', 'NEAR/5(汉台, 爆炸', '汉台 AND', "(" * 40 + "汉台" + ")" * 40,
])
def test_scheme_syntax_errors_in_chinese(expr):
    with pytest.raises(ValueError) as info:
        compile_scheme("x", expr)
    text = explain_zh(info.value)
    assert text.startswith("第 ") and "语法错误" not in text, (expr, str(info.value))
    assert not re.search(r"\b(expected|found|column)\b", text)


def test_display_names_defaults():
    names = DisplayNames(sources={"weibo": "微博搜索"})
    assert names.source("weibo") == "微博搜索" and names.source("unknown") == "unknown" and names.source("") == "—"


def test_symbolic_operators_are_the_same_expression():
    """Every bundled scheme (and town template) shown with + | - compiles to the same expression."""
    import tomllib
    from pathlib import Path

    from classifiers.scheme_parser import parse, symbolic

    doc = tomllib.loads((Path(__file__).resolve().parents[2] / "data" / "schemes.toml").read_text(encoding="utf-8"))
    exprs = [s.expr for s in SchemeSet.from_mapping(doc, towns=[("铺镇", "铺镇"), ("龙江街道", "龙江")])]
    exprs += ['汉台 and not "NOT 演练"', "NEAR/10(汉台, 爆炸) OR 火灾", "a OR b AND NOT c"]
    for expr in exprs:
        shown = symbolic(expr)
        assert not re.search(r"\b(AND|OR|NOT)\b", shown, re.I) or '"NOT 演练"' in shown, shown
        assert parse(shown) == parse(expr), (expr, shown)
    assert symbolic("汉台 AND (") == "汉台 AND ("  # not an expression: left as typed
