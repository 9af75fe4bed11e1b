"""The government taxonomy's 517 third-level classes each have a home among our 19 topics, and
citizen messages of the 12345 / 领导信箱 kind get an acceptable topic (``yuqing eval topics``)."""
from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from classifiers.types import TOPICS
from yuqing.classify_io import ClassifyDataError, load_topic_taxonomy_map
from yuqing.cli import cli

DATA = Path(__file__).resolve().parents[1] / "data"


def test_bundled_map_is_complete_and_valid():
    mapping = load_topic_taxonomy_map()
    assert len(mapping) == 517
    assert set(mapping.values()) == set(TOPICS)
    # the confusion the table was written for: property management is housing, not city management
    assert mapping[("城乡建设", "住房保障与房地产", "物业服务")] == "住房保障"
    assert mapping[("城乡建设", "城市建设和市政管理", "小区管理")] == "住房保障"
    assert mapping[("城乡建设", "城市建设和市政管理", "城管执法")] == "城市管理"


def test_every_shared_taxonomy_class_is_mapped(shared_data):
    path = shared_data / "corpora" / "gov_taxonomy" / "fj1_taxonomy_3level.csv"
    with open(path, encoding="utf-8") as fh:
        classes = [tuple(r) for r in list(csv.reader(fh))[1:] if r]
    mapping = load_topic_taxonomy_map()
    missing = [c for c in classes if c not in mapping]
    assert not missing, missing[:5]
    assert set(mapping) == set(classes)


def test_bad_map_rows_are_named(tmp_path):
    bad = tmp_path / "map.csv"
    bad.write_text("一级分类,二级分类,三级分类,topic,note\n城乡建设,安全生产,事故处理,天气,\n", encoding="utf-8")
    with pytest.raises(ClassifyDataError, match="line 2"):
        load_topic_taxonomy_map(bad)
    bad.write_text("一级分类,二级分类,三级分类,topic,note\n城乡建设,安全生产,事故处理,安全生产,\n"
                   "城乡建设,安全生产,事故处理,其他,\n", encoding="utf-8")
    with pytest.raises(ClassifyDataError, match="mapped twice"):
        load_topic_taxonomy_map(bad)


def _eval_topics(home, name):
    result = CliRunner().invoke(cli, ["--home", str(home), "eval", "topics", str(DATA / name), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_citizen_messages_topic_accuracy(tmp_path):
    rows = [json.loads(line) for line in (DATA / "topics_citizen.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 150
    first = Counter(r["topic"] if isinstance(r["topic"], str) else r["topic"][0] for r in rows)
    assert set(first) == set(TOPICS)
    m = _eval_topics(tmp_path, "topics_citizen.jsonl")
    print(f"\ntopics_citizen: accuracy {m['accuracy']:.3f} macro-F1 {m['macro_f1']:.3f} on {m['n']} messages")
    assert m["accuracy"] >= 0.93  # 0.983; hint words were added after seeing this set's failures


def test_held_out_citizen_messages(tmp_path):
    # written and labelled after the seed and hint words were final (0.786 before, 0.875 after)
    m = _eval_topics(tmp_path, "topics_citizen_holdout.jsonl")
    print(f"\ntopics_citizen_holdout: accuracy {m['accuracy']:.3f} on {m['n']} messages")
    assert m["n"] >= 50 and m["accuracy"] >= 0.83


def test_property_management_is_housing_through_classify(tmp_path):
    items = ["小区物业不作为，楼道垃圾没人清，业主要求更换物业公司",
             "业主委员会成立两年没开过业主大会，账目也不公开",
             "物业把小区消防通道划成车位出租"]
    lines = "\n".join(json.dumps({"id": i, "title": t, "text": ""}, ensure_ascii=False) for i, t in enumerate(items))
    result = CliRunner().invoke(cli, ["--home", str(tmp_path), "classify", "-"], input=lines + "\n")
    assert result.exit_code == 0, result.output
    topics = [json.loads(line)["topic"] for line in result.stdout.splitlines() if line.strip()]
    assert topics[:2] == ["住房保障", "住房保障"]
    assert topics[2] in ("住房保障", "安全生产")
