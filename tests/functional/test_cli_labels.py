"""`yuqing label` / `yuqing labels`: staff corrections from the command line, used by `yuqing train`."""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from tests.cli_kit import settle_db
from yuqing.cli import cli

CSV = ("编号,标题,内容,来电时间\n"
       "A1,铺镇停水 来电13812345678,铺镇某小区停水三天无人管,2026-11-27 08:00\n"
       "A2,夜间施工噪音,夜间施工噪音扰民,2026-11-27 09:00\n")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A desk home with two hotline items (ids 1 and 2), built once per module."""
    home = tmp_path_factory.mktemp("labels") / "desk"
    runner = CliRunner()
    assert runner.invoke(cli, ["--home", str(home), "init"]).exit_code == 0
    csv = home.parent / "in.csv"
    csv.write_text(CSV, encoding="utf-8")
    res = runner.invoke(cli, ["--home", str(home), "import", "hotline", str(csv)])
    assert res.exit_code == 0, res.output
    settle_db(home / "desk.sqlite")
    return home


@pytest.fixture
def desk(seeded, tmp_path, monkeypatch):
    monkeypatch.setenv("YUQING_NOW", "2026-11-27T10:00+08:00")
    home = tmp_path / "desk"
    shutil.copytree(seeded, home, ignore=shutil.ignore_patterns("desk.sqlite-*"))

    def invoke(*args):
        return CliRunner().invoke(cli, ["--home", str(home), *args])

    invoke.home = home
    return invoke


def test_label_then_labels_lists_the_latest_per_item_and_field(desk):
    res = desk("label", "1", "topic", "社会治安", "--actor", "张三")
    assert res.exit_code == 0, res.output
    assert "#1" in res.output and "社会治安" in res.output
    assert desk("label", "#1", "topic", " 城市管理 ", "--actor", "李四").exit_code == 0  # the latest wins
    assert desk("label", "1", "sentiment", "负面").exit_code == 0
    assert desk("label", "2", "place", "铺镇").exit_code == 0
    rows = json.loads(desk("labels", "--json").output)
    got = {(r["item_id"], r["field"]): (r["value"], r["actor"]) for r in rows}
    assert got[(1, "topic")] == ("城市管理", "李四")
    assert got[(1, "sentiment")][0] == "负面" and got[(2, "place")][0] == "铺镇"
    assert len(rows) == 3
    assert rows[0]["created_at"] == "2026-11-27T10:00:00+08:00"
    topic_only = json.loads(desk("labels", "--field", "topic", "--json").output)
    assert [(r["item_id"], r["value"]) for r in topic_only] == [(1, "城市管理")]
    text = desk("labels").output
    assert "城市管理" in text and "铺镇" in text and "社会治安" not in text


def test_labels_mask_personal_data_in_titles(desk):
    desk("label", "1", "place", "铺镇")
    assert json.loads(desk("labels", "--json").output)[0]["title"] == "铺镇停水 来电138****5678"
    assert "138****5678" in desk("labels").output
    assert "13812345678" in desk("labels", "--no-mask").output


@pytest.mark.parametrize("args, expected", [
    (("99", "topic", "城市管理"), "no item #99"),
    (("abc", "topic", "城市管理"), "not an item id: 'abc'"),
    (("99999999999999999999999", "topic", "城市管理"), "not an item id"),
    (("1", "colour", "red"), "label field must be one of topic, sentiment, place"),
    (("1", "topic", "城管"), "unknown topic '城管'"),
    (("1", "sentiment", "愤怒"), "unknown sentiment '愤怒'"),
    (("1", "place", "  "), "label value is empty"),
])
def test_label_refuses_bad_input_with_one_line(desk, args, expected):
    res = desk("label", *args)
    assert res.exit_code == 1
    assert expected in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert json.loads(desk("labels", "--json").output) == []  # nothing written


def test_labels_bad_field_and_missing_desk(desk, tmp_path):
    res = desk("labels", "--field", "colour")
    assert res.exit_code == 1 and "--field: unknown field 'colour'" in res.output
    res = CliRunner().invoke(cli, ["--home", str(tmp_path / "nowhere"), "labels"])
    assert res.exit_code == 1 and "no desk database at" in res.output and "yuqing init" in res.output
    assert not (tmp_path / "nowhere").exists()  # a typo'd home is not created
    res = CliRunner().invoke(cli, ["--home", str(tmp_path / "nowhere"), "label", "1", "topic", "教育"])
    assert res.exit_code == 1 and "no desk database at" in res.output


def test_labels_empty(desk):
    res = desk("labels")
    assert res.exit_code == 0 and "没有人工标注" in res.output


def test_train_learns_from_a_cli_label(desk):
    from yuqing.classify_io import labelled_topic_items

    assert desk("label", "2", "topic", "教育").exit_code == 0
    assert desk("label", "2", "topic", "城市管理").exit_code == 0
    assert labelled_topic_items(desk.home / "desk.sqlite") == [("夜间施工噪音", "夜间施工噪音扰民", "城市管理")]
    res = desk("train", "--folds", "2")
    assert res.exit_code == 0, res.output
    assert "+ 1 staff labels" in res.output
