"""`yuqing classify` grades severity from the casualty figures, each bound to its own noun."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from yuqing.cli import cli


@pytest.fixture(scope="module")
def classified(tmp_path_factory):
    home = tmp_path_factory.mktemp("desk-home")
    items = [
        {"id": "bus", "title": "铺镇客车侧翻 1人死亡35人受伤", "text": ""},
        {"id": "two", "title": "2人死亡5人受伤", "text": ""},
        {"id": "mine", "title": "汉台区一煤矿透水", "text": "截至目前，遇难人数升至12人，另有5人被困井下。"},
        {"id": "group", "title": "客车侧翻", "text": "车上35名乘客中1人死亡。"},
        {"id": "none", "title": "铺镇一民房起火", "text": "火灾未造成人员伤亡。"},
    ]
    data = "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items)
    result = CliRunner().invoke(cli, ["--home", str(home), "classify", "-"], input=data, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return {row["id"]: row for row in map(json.loads, result.stdout.splitlines())}


def test_one_death_and_35_injured_is_ordinary_not_most_serious(classified):
    bus = classified["bus"]
    assert bus["severity"] == "一般"
    assert bus["severity_reasons"][0].startswith("定级依据：死亡 1 人")
    # the injured count is reported, with what would change the grade
    assert any(r.startswith("受伤 35 人") and "重伤≥10人则为较大" in r for r in bus["severity_reasons"])


def test_two_deaths_are_read_as_two(classified):
    two = classified["two"]
    assert two["severity"] == "一般"
    assert two["severity_reasons"][0].startswith("定级依据：死亡 2 人")
    assert not any("死亡 5" in r for r in two["severity_reasons"])


def test_updated_deaths_and_trapped_miners(classified):
    mine = classified["mine"]
    reasons = " ".join(mine["severity_reasons"])
    assert "死亡 12 人" in reasons and "被困 5 人" in reasons and "按最坏情况预估死亡（含失踪）17 人" in reasons
    assert mine["severity"] == "重大"


def test_group_size_is_not_a_casualty(classified):
    group = classified["group"]
    assert group["severity"] == "一般"
    assert group["severity_reasons"][0].startswith("定级依据：死亡 1 人")
    assert any("「35名乘客中」为总人数" in r for r in group["severity_reasons"])


def test_negated_casualties_grade_nothing(classified):
    assert classified["none"]["severity"] == "一般"
    assert not any("死亡" in r or "受伤" in r for r in classified["none"]["severity_reasons"])
