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
    ("医疗卫生", ("区卫健局", "区委宣传部")),
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
    # 区卫计局 is the former name of 区卫健局: listed once, under the canonical name
    assert table.route("医疗卫生", ["区卫计局"]) == ("区卫健局", "区委宣传部")
    assert table.route("其他", ["汉台区卫生健康局", "区卫健委"]) == ("区卫健局", "区委宣传部")


def test_a_matrix_row_under_a_former_name_routes_to_the_canonical_unit(tmp_path):
    from yuqing.classify_io import load_routing
    from yuqing.gazetteer_io import load_gazetteer

    (tmp_path / "routing.toml").write_text('[topics]\n"医疗卫生" = ["区卫计局", "区卫生局"]\n', encoding="utf-8")
    assert load_routing(tmp_path, load_gazetteer()).route("医疗卫生") == ("区卫健局", "区委宣传部")


def test_a_unit_the_gazetteer_does_not_know_is_refused_with_the_nearest(tmp_path):
    from yuqing.classify_io import ClassifyDataError, load_routing
    from yuqing.gazetteer_io import load_gazetteer

    (tmp_path / "routing.toml").write_text('[topics]\n"医疗卫生" = ["区卫健局", "区卫生院"]\n', encoding="utf-8")
    with pytest.raises(ClassifyDataError, match=r"routing.toml: routing: \[topics\]\.医疗卫生: unknown unit '区卫生院' "
                                                r"\(nearest known: 区卫健局"):
        load_routing(tmp_path, load_gazetteer())
    (tmp_path / "routing.toml").write_text('release_owner = "宣传部"\n', encoding="utf-8")
    with pytest.raises(ClassifyDataError, match="release_owner: unknown unit '宣传部'"):
        load_routing(tmp_path, load_gazetteer())


def test_every_bundled_routing_unit_is_a_canonical_gazetteer_name():
    """routing.toml (including its commented example rows) names units as the gazetteer does."""
    import re

    from classifiers.units import UnitNames
    from yuqing.gazetteer_io import load_gazetteer

    units = UnitNames.from_gazetteer(load_gazetteer())
    text = (DATA_DIR / "routing.toml").read_text(encoding="utf-8")
    doc = tomllib.loads(text)
    named = [doc["release_owner"], *doc["default_units"]]
    named += [u for row in doc["topics"].values() for u in row]
    for line in text.splitlines():  # the example rows a desk may add
        m = re.match(r'#\s*"[^"]+"\s*=\s*(\[.*\])\s*$', line)
        if m:
            named += tomllib.loads(f"x = {m.group(1)}")["x"]
    assert len(named) > 20
    wrong = [u for u in named if u != doc["town_placeholder"] and u not in units.names]
    assert wrong == []
    assert doc["town_placeholder"] == "相关镇办" and "相关镇办" not in units.forms


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
