"""`yuqing classify`, `yuqing eval` and `yuqing train` through the real CLI."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from yuqing.cli import cli

ITEMS = [
    {"id": "a1", "title": "汉台区铺镇一化工厂发生爆炸", "text": "事故已造成3人死亡、12人受伤，区应急管理局已介入调查。"},
    {"id": 2, "title": "北关街道小区门口占道经营", "text": "每天晚上烧烤摊把路堵死，油烟很大，希望区城管局管一管。"},
    {"id": 3, "title": "国足世预赛客场战平", "text": "比赛在当地时间晚上进行。"},
    {"id": 4, "title": "城固县某地养老金迟迟不发", "text": "城固县老人反映养老金三个月没有到账"},
]
FIELDS = {"id", "topic", "topic_confidence", "sentiment", "sentiment_score", "places", "departments",
          "responsible_units", "schemes", "risk_words", "severity"}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("desk-home")


def run(home, *args, input=None):
    result = CliRunner().invoke(cli, ["--home", str(home), *args], input=input, catch_exceptions=False)
    return result


def jsonl(items):
    return "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items)


def test_classify_contract(home, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(jsonl(ITEMS), encoding="utf-8")
    result = run(home, "classify", str(path))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["a1", 2, 3, 4]
    for r in rows:
        assert FIELDS <= set(r)
        assert 0 <= r["topic_confidence"] <= 1 and -1 <= r["sentiment_score"] <= 1
        assert r["severity"] in ("一般", "较大", "重大", "特别重大")
        assert r["responsible_units"][-1] == "区委宣传部"
    boom, street, football, other_county = rows
    assert boom["topic"] == "安全生产"
    assert boom["sentiment"] == "负面"
    assert {"code": "610702100", "name": "铺镇", "level": "town"}.items() <= boom["places"][0].items()
    assert {"name": "区应急管理局"} in boom["departments"]
    assert boom["responsible_units"] == ["区应急管理局", "铺镇", "区委宣传部"]
    assert "district_emergency" in boom["schemes"] and "town_emergency:铺镇" in boom["schemes"]
    assert {"爆炸", "死亡", "受伤"} <= set(boom["risk_words"])
    assert boom["severity"] == "较大"
    assert street["topic"] == "城市管理"
    assert "北关街道" in street["responsible_units"] and "区城管局" in street["responsible_units"]
    assert football["topic"] == "其他" and football["places"] == [] and football["schemes"] == []
    assert other_county["topic"] == "社会保障"
    assert other_county["responsible_units"] == ["区人社局", "区民政局", "区委宣传部"]
    assert all(not p.get("in_district") for p in other_county["places"])
    assert any(p["code"].startswith("610722") for p in other_county["places"])


def test_bad_lines_keep_order_and_are_reported(home):
    lines = [json.dumps(ITEMS[2], ensure_ascii=False), "{not json", json.dumps([1, 2]),
             json.dumps({"id": 9, "title": 5}), json.dumps({"id": 10, "title": "", "text": ""}), "",
             json.dumps(ITEMS[1], ensure_ascii=False)]
    result = run(home, "classify", "-", input="\n".join(lines) + "\n")
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == [3, None, None, 9, 10, 2]
    assert [("error" in r) for r in rows] == [False, True, True, True, True, False]
    assert "line 2" in rows[1]["error"] and "not valid JSON" in rows[1]["error"]
    assert "line 4" in rows[3]["error"]
    for n in (2, 3, 4, 5):
        assert f"line {n}:" in result.stderr
    assert "Traceback" not in result.stderr


def test_big_input_streams_in_batches(home):
    items = [{"id": i, "title": f"第{i}条：路灯坏了", "text": "晚上一片漆黑。" * 20} for i in range(600)]
    result = run(home, "classify", input=jsonl(items))
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == list(range(600))


def test_missing_file_is_a_clear_error(home, tmp_path):
    result = CliRunner().invoke(cli, ["--home", str(home), "classify", str(tmp_path / "nope.jsonl")])
    assert result.exit_code != 0
    assert "nope.jsonl" in result.output and "Traceback" not in result.output


def test_eval_topics_sentiment_places(home, tmp_path):
    topics = tmp_path / "topics.jsonl"
    topics.write_text(jsonl([
        {"title": "路灯坏了好几个月", "text": "", "topic": "城市管理"},
        {"title": "国足输球", "text": "", "topic": "其他"},
        {"title": "孩子入学划片不合理", "text": "", "topic": ["教育", "其他"]},
        {"title": "养老金没到账", "text": "", "topic": "财政资金"},
    ]), encoding="utf-8")
    result = run(home, "eval", "topics", str(topics), "--json")
    m = json.loads(result.stdout)
    assert m["n"] == 4 and m["accuracy"] == pytest.approx(0.75)
    assert 0 < m["macro_f1"] <= 1
    text = run(home, "eval", "topics", str(topics)).stdout
    assert "accuracy" in text and "macro-F1" in text and "gold\\pred" in text

    senti = tmp_path / "senti.jsonl"
    senti.write_text(jsonl([
        {"title": "太感谢了，问题解决得很快", "sentiment": "正面"},
        {"title": "气死了，投诉半年没人管", "sentiment": "负面"},
        {"title": "区政府召开常务会议", "sentiment": "中性"},
    ]), encoding="utf-8")
    m = json.loads(run(home, "eval", "sentiment", str(senti), "--json").stdout)
    assert m["accuracy"] == 1.0 and m["polar_accuracy"] == 1.0

    places = tmp_path / "places.jsonl"
    places.write_text(jsonl([
        {"title": "汉台区铺镇一民房起火", "places": ["610702100"]},
        {"title": "汉台区武乡镇举行农民丰收节", "places": [{"code": "610702101", "name": "武乡镇"}]},
        {"title": "国足输球", "places": []},
    ]), encoding="utf-8")
    m = json.loads(run(home, "eval", "places", str(places), "--json", "--district-only").stdout)
    assert m["recall"] == 1.0 and m["accuracy"] == 1.0
    assert "recall" in run(home, "eval", "places", str(places)).stdout


def test_eval_without_usable_lines(home, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "x"}\nnot json\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--home", str(home), "eval", "topics", str(bad)])
    assert result.exit_code != 0 and "no usable lines" in result.output


def test_train_prints_cross_validated_accuracy(home):
    result = run(home, "train", "--folds", "2")
    assert result.exit_code == 0, result.output
    assert "cross-validated (2 folds): accuracy 0." in result.stdout
    assert "model cached:" in result.stdout
    assert list((home / "models").glob("topic-*.npz"))


def test_real_process_first_result_and_help(home):
    # the installed entry point, as the acceptance checks call it
    proc = subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), "classify", "-"],
                          input=jsonl(ITEMS[:1]), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["topic"] == "安全生产"
    helptext = CliRunner().invoke(cli, ["classify", "--help"]).output
    assert "Example:" in helptext


def test_town_template_needs_the_town_in_the_district(home):
    items = [{"id": 1, "title": "山西武乡县一煤矿发生爆炸", "text": "事故造成2人死亡"},
             {"id": 2, "title": "汉台区武乡镇一民房坍塌", "text": "1人被困"}]
    rows = [json.loads(line) for line in run(home, "classify", input=jsonl(items)).stdout.splitlines()]
    assert not any(s.startswith("town_emergency:") for s in rows[0]["schemes"])
    assert "town_emergency:武乡镇" in rows[1]["schemes"]


def test_model_cache_drops_temp_files_left_by_a_killed_save(tmp_path):
    import os
    import time

    from yuqing.classify_io import load_classifier

    models = tmp_path / "home" / "models"
    models.mkdir(parents=True)
    stale, fresh = models / ".topic-killed.npz", models / ".topic-writing.npz"
    stale.write_bytes(b"half a model")
    fresh.write_bytes(b"being written by another process")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    load_classifier(tmp_path / "home")  # trains and saves the model
    assert not stale.exists() and fresh.exists()
    assert len(list(models.glob("topic-*.npz"))) == 1
