"""Topic model: training from the seed, calibrated probabilities, cache, staff labels."""
from __future__ import annotations

import json

import numpy as np
import pytest

from classifiers.segment import default_segmenter
from classifiers.topic import KeywordIndex, Sample, TopicModel, features
from classifiers.types import TOPICS
from yuqing.classify_io import (SEED_PATH, add_label, load_keywords, load_seed, load_topic_model,
                                training_samples)


@pytest.fixture(scope="module")
def seg():
    return default_segmenter()


@pytest.fixture(scope="module")
def model(seg):
    return TopicModel.train(training_samples(seg, load_seed()), load_keywords())


def predict(model, seg, text):
    return model.predict(seg.cut(text), text)


def test_seed_covers_every_topic_with_enough_items():
    rows = load_seed()
    counts = {t: 0 for t in TOPICS}
    for _title, _text, topic in rows:
        counts[topic] += 1
    assert min(counts.values()) >= 60, counts
    assert len({(t, x) for t, x, _ in rows}) == len(rows)  # no duplicates


@pytest.mark.parametrize("text, topic", [
    ("楼下烧烤摊每天晚上占道经营，油烟和噪音太大了", "城市管理"),
    ("河沟里有工厂偷偷排放黄色的污水，鱼都死光了", "生态环境"),
    ("我爸退休半年了养老金还没发下来", "社会保障"),
    ("孩子学校老师暗示家长报她的补习班", "教育"),
    ("我们村修路占了耕地，补偿款到现在没给", "征地拆迁"),
    ("开发商说好去年交房，现在楼盘停工了", "住房保障"),
    ("镇上办事大厅的工作人员上班时间玩手机，态度恶劣", "政务作风"),
    ("昨晚小区好几辆电动车被偷了", "社会治安"),
    ("连续暴雨导致后山出现滑坡，村民连夜转移", "自然灾害"),
    ("国足客场一比二输给对手", "其他"),
    ("某演员新电影票房破十亿", "其他"),
])
def test_unseen_items(model, seg, text, topic):
    assert predict(model, seg, text).label == topic


def test_probabilities_are_calibrated_distribution(model, seg):
    texts = ["路灯坏了", "景区门票太贵", "股市大涨"]
    proba = model.proba_many(seg.cut_many(texts), texts)
    assert proba.shape == (3, len(TOPICS))
    assert np.allclose(proba.sum(axis=1), 1.0)
    r = predict(model, seg, "景区门票太贵，导游强制购物")
    assert r.label == "旅游市场" and 0.5 < r.probability <= 1.0
    assert len(r.alternatives) == 2 and r.alternatives[0][1] <= r.probability


def test_batch_equals_single(model, seg):
    texts = ["路灯坏了没人修", "医院挂号太难", "物业费涨价", "国足输了"]
    batch = model.predict_many(seg.cut_many(texts), texts)
    single = [predict(model, seg, t) for t in texts]
    assert [b.label for b in batch] == [s.label for s in single]
    assert [b.probability for b in batch] == pytest.approx([s.probability for s in single], abs=1e-3)


def test_empty_text_is_answered(model):
    r = model.predict([], "")
    assert r.label in TOPICS


def test_arrays_roundtrip(model, seg):
    again = TopicModel.from_arrays(model.to_arrays(), model.keywords)
    text = "小区垃圾清运不及时"
    assert again.predict(seg.cut(text), text) == predict(model, seg, text)


def test_keyword_hints_are_features_and_explain():
    kw = KeywordIndex({"教育": ["学校"], "交通运输": ["公交"]})
    assert "kw:教育" in features(["学校"], "学校门口", kw)
    assert kw.hits("公交和学校") == [("交通运输", "公交"), ("教育", "学校")]
    with pytest.raises(ValueError, match="unknown topic"):
        KeywordIndex({"天气": ["下雨"]})


def test_train_rejects_unknown_labels():
    with pytest.raises(ValueError, match="unknown topic label"):
        TopicModel.train([Sample(("a",), "a", "天气"), Sample(("b",), "b", "教育")])


def test_cache_and_staff_labels(tmp_path, seg):
    from storage.db import open_db
    from pipeline.store import migrations

    home = tmp_path / "home"
    m1, info1 = load_topic_model(home, seg)
    assert info1.trained and info1.path.is_file()
    m2, info2 = load_topic_model(home, seg)
    assert not info2.trained and info2.path == info1.path
    text = "小区垃圾清运不及时"
    assert m2.predict(seg.cut(text), text) == m1.predict(seg.cut(text), text)
    # a staff label changes the fingerprint: retrained once, older cache dropped
    db = open_db(home / "desk.sqlite", [migrations])
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, title TEXT, text TEXT)")
    db.execute("INSERT INTO items (id, title, text) VALUES (1, '关于跳广场舞的意见', '广场舞音乐太吵')")
    add_label(db, 1, "topic", "城市管理", actor="值班员")
    add_label(db, 1, "topic", "城市管理", actor="值班员")
    m3, info3 = load_topic_model(home, seg)
    assert info3.trained and info3.label_samples == 1 and info3.path != info1.path
    assert not info1.path.exists()
    with pytest.raises(ValueError, match="unknown topic"):
        add_label(db, 1, "topic", "天气")


def test_broken_cache_is_retrained(tmp_path, seg, capsys):
    home = tmp_path / "home"
    _m, info = load_topic_model(home, seg)
    info.path.write_bytes(b"not a model")
    _m, again = load_topic_model(home, seg)
    assert again.trained
    assert "unusable" in capsys.readouterr().err


def test_seed_file_is_jsonl_with_title_text_topic():
    for line in SEED_PATH.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        assert set(obj) == {"title", "text", "topic"} and obj["topic"] in TOPICS
