"""Responsible units from the routing matrix."""
from __future__ import annotations

import tomllib

import pytest

from classifiers.routing import RoutingError, RoutingTable
from data import DATA_DIR


@pytest.fixture(scope="module")
def table():
    from yuqing.classify_io import load_routing
    from yuqing.gazetteer_io import load_gazetteer

    return load_routing(None, load_gazetteer())


@pytest.mark.parametrize("topic, units", [
    ("住房保障", ("区住建局", "区保障性住房管理中心", "相关镇办", "区委宣传部")),
    ("征地拆迁", ("区住建局", "国土汉台分局", "区委宣传部")),
    ("社会保障", ("区人社局", "区民政局", "区委宣传部")),
    ("教育", ("区教体局", "区委宣传部")),
    ("医疗卫生", ("区卫计局", "区委宣传部")),
    ("财政资金", ("区财政局", "区委宣传部")),
    ("公共资源交易", ("区行政服务中心", "区信息中心", "区委宣传部")),
    ("政务作风", ("区委督查室", "区政府督查室", "区审计局", "区委宣传部")),
    ("安全生产", ("区政府办公室", "区委宣传部")),
    ("其他", ("区政府办公室", "区委宣传部")),
])
def test_matrix_rows(table, topic, units):
    assert table.route(topic) == units


def test_named_towns_replace_the_placeholder(table):
    assert table.route("住房保障", [], ["铺镇", "北关街道"]) == (
        "区住建局", "区保障性住房管理中心", "铺镇", "北关街道", "区委宣传部")


def test_other_domain_goes_to_named_department_and_towns(table):
    assert table.route("安全生产", ["区应急管理局"], ["武乡镇"]) == ("区应急管理局", "武乡镇", "区委宣传部")
    assert table.route("交通运输", [], ["北关街道"]) == ("区政府办公室", "北关街道", "区委宣传部")


def test_named_departments_are_co_responsible_and_aliases_dedupe(table):
    assert table.route("教育", ["区财政局"]) == ("区教体局", "区财政局", "区委宣传部")
    # 区卫健局 is the current name of 区卫计局: listed once
    assert table.route("医疗卫生", ["区卫健局"]) == ("区卫计局", "区委宣传部")


def test_release_owner_always_last_once(table):
    units = table.route("社会治安", ["区委宣传部", "区公安分局"])
    assert units == ("区公安分局", "区委宣传部")
    assert table.release_owner == "区委宣传部"


def test_bundled_file_parses():
    with open(DATA_DIR / "routing.toml", "rb") as fh:
        t = RoutingTable.from_mapping(tomllib.load(fh))
    assert t.default_units == ("区政府办公室",)


@pytest.mark.parametrize("doc, fragment", [
    ({"topics": {"天气": ["x"]}}, "unknown topic"),
    ({"topics": {"教育": "区教体局"}}, "expected a list"),
    ({"release_owner": ""}, "release_owner"),
    ({"owner": "x"}, "unknown key 'owner'"),
])
def test_errors_name_the_key(doc, fragment):
    with pytest.raises(RoutingError, match=fragment):
        RoutingTable.from_mapping(doc)
