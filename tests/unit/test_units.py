"""Canonical unit names from the gazetteer (classifiers/units.py)."""
from __future__ import annotations

import pytest

from classifiers.units import UnitNames


@pytest.fixture(scope="module")
def units() -> UnitNames:
    from yuqing.gazetteer_io import load_unit_names

    return load_unit_names()


@pytest.mark.parametrize("form, canonical", [
    ("区卫健局", "区卫健局"),
    ("区卫计局", "区卫健局"),  # former name
    ("区卫生局", "区卫健局"),  # former name
    ("区卫健委", "区卫健局"),  # alias
    ("汉台区卫生健康局", "区卫健局"),  # official name
    ("汉台区卫计局", "区卫健局"),  # a 区... form with the district in front
    ("区生态环境分局", "生态环境局汉台分局"),
    ("区教育局", "区教体局"),
    (" 区住建局 ", "区住建局"),
    ("区住建局", "区住建局"),
    ("北关", "北关街道"),  # a street office's short name
    ("汉台区铺镇", "铺镇"),
    ("区委宣传部", "区委宣传部"),
])
def test_every_known_form_maps_to_the_canonical_name(units, form, canonical):
    assert units.canonical(form) == canonical
    assert canonical in units.names


@pytest.mark.parametrize("name", ["相关镇办", "区卫生院", "勉县卫健局", "", "某某局"])
def test_unknown_names_are_not_guessed(units, name):
    assert units.canonical(name) is None
    assert units.canonicalize(name) == name.strip()  # old data stays as written


@pytest.mark.parametrize("typo, first", [
    ("区卫健委员会局", "区卫健局"), ("区住建", "区住建局"), ("宣传部", "区委宣传部"), ("区市场监督局", "区市场监管局"),
    ("北关街办", "北关街道"),
])
def test_nearest_known_names_for_a_typo(units, typo, first):
    near = units.nearest(typo)
    assert near and near[0] == first and len(near) <= 3
    assert all(n in units.names for n in near)


def test_names_are_unique_and_canonicalize_all_dedupes(units):
    assert len(units.names) == len(set(units.names)) >= 50  # 36 departments + 15 towns/street offices
    assert units.canonicalize_all(["区卫计局", "区卫健局", "铺镇", "汉台区铺镇", "某某局"]) == ("区卫健局", "铺镇", "某某局")


def test_a_villages_name_is_not_a_unit(units):
    assert units.canonical("人民路社区") is None and units.canonical("人民路居委会") is None
