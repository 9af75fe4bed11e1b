"""The classifier facade: the words it hands on (title_tokens / text_tokens), and the fast
paths of its parts giving the same answers as the plain way of computing them."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.normalize import normalize, to_simplified
from classifiers.pipeline import Classifier, _join, _join_tokens
from classifiers.schemes import SchemeSet
from classifiers.segment import Segmenter
from classifiers.sentiment import SentimentAnalyzer
from classifiers.casualties import parse_casualties
from classifiers.severity import RiskDetector, extract_counts
from classifiers.topic import KeywordIndex, Sample, TopicModel
from classifiers.types import Classification
from yuqing.classify_io import load_risk_lexicon, load_schemes, load_sentiment_lexicon
from yuqing.gazetteer_io import load_gazetteer

# Chinese words, digits and the punctuation the joins and the segmenter care about
PIECES = ["汉台区", "铺镇", "发生", "爆炸", "已造成", "3人", "死亡", "受伤", "村民", "反映", "污水", "漢臺區", "鋪鎮",
          "abc", "A1", "2024", ".", "。", "！", "？", "!", "?", "；", ";", "…", "，", " ", "\n", "——", "//@网友:",
          "#话题#", "１２", "ＡＢ", "网页链接", "展开全文", "的", "了"]
texts = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


@pytest.fixture(scope="module")
def seg():
    return Segmenter(load_gazetteer().user_words())


@pytest.fixture(scope="module")
def tiny_model(seg):
    """A topic model from a handful of items: enough to run the pipeline, fast to train."""
    rows = [("汉台区铺镇一化工厂发生爆炸", "安全生产"), ("工地坍塌致工人受伤", "安全生产"), ("小区污水横流臭气熏天", "生态环境"),
            ("河道漂浮大量死鱼", "生态环境"), ("医院排队挂号难", "医疗卫生"), ("卫生院医生态度差", "医疗卫生")]
    samples = [Sample(tuple(seg.cut(t)), t, label) for t, label in rows]
    return TopicModel.train(samples, KeywordIndex({"安全生产": ["爆炸"]}), folds=2)


@pytest.fixture(scope="module")
def clf(seg, tiny_model):
    gaz = load_gazetteer()
    towns = [(t.name, *t.short_names) for t in gaz.towns]
    return Classifier(topic_model=tiny_model, segmenter=seg, schemes=load_schemes(None, towns),
                      sentiment=SentimentAnalyzer(load_sentiment_lexicon()),
                      risk=RiskDetector(load_risk_lexicon()))


def test_tokens_are_the_normalised_simplified_title_and_body(clf, seg):
    c = clf.classify("漢臺區鋪鎮一化工廠發生爆炸", "已造成３人死亡。 网页链接")
    assert "".join(c.title_tokens) == "汉台区铺镇一化工厂发生爆炸"
    assert c.title_tokens == tuple(seg.cut("汉台区铺镇一化工厂发生爆炸"))
    assert "".join(c.text_tokens) == "已造成3人死亡。"  # width folded, crawler residue gone
    assert c.text_tokens == tuple(seg.cut(normalize("已造成３人死亡。 网页链接").text))


def test_tokens_for_every_item_of_a_batch(clf, seg):
    items = [("标题一", "正文"), ("", "只有正文"), ("只有标题", ""), ("", ""), ("同一句话", "同一句话，后面还有")]
    out = clf.classify_many(items)
    assert [("".join(c.title_tokens), "".join(c.text_tokens)) for c in out] == [
        ("标题一", "正文"), ("", "只有正文"), ("只有标题", ""), ("", ""), ("同一句话", "同一句话，后面还有")]
    assert all(isinstance(c.title_tokens, tuple) and isinstance(c.text_tokens, tuple) for c in out)


def test_segment_many_gives_the_words_of_classify_many(clf):
    items = [("漢臺區鋪鎮發生爆炸", "已造成３人死亡 网页链接"), ("", "只有正文//@网友:转发"), ("只有标题", ""), ("", "")]
    got = clf.segment_many([t for t, _ in items], [x for _, x in items])
    want = [(c.title_tokens, c.text_tokens) for c in clf.classify_many(items)]
    assert list(zip(*got)) == want
    assert Classifier().segment_many(["a"], ["b"]) == ([()], [()])
    with pytest.raises(ValueError, match="2 titles but 1 texts"):
        clf.segment_many(["a", "b"], ["c"])


def test_no_segmenter_no_tokens():
    c = Classifier().classify("标题", "正文")
    assert c.title_tokens == () and c.text_tokens == ()
    assert c.topic.label == "其他"


def test_tokens_stay_out_of_comparisons_and_json(clf):
    from yuqing.cmd_classify import classification_json

    c = clf.classify("汉台区铺镇一化工厂发生爆炸", "已造成3人死亡")
    bare = Classification(c.topic, c.sentiment, c.jurisdiction, c.schemes, c.risk_words, c.severity,
                          c.responsible_units, c.release_owner)
    assert c.title_tokens and bare == c and hash(bare) == hash(c)
    assert "tokens" not in repr(c)
    assert not any("token" in key for key in classification_json(1, c))


def test_topic_reads_the_words_of_the_joined_text(clf, seg, tiny_model):
    items = [("汉台区铺镇一化工厂发生爆炸", "已造成3人死亡"), ("标题！", "正文"), ("同一句话", "同一句话，后面还有"),
             ("", "只有正文"), ("只有标题", "")]
    got = clf.classify_many(items)
    for (title, body), c in zip(items, got):
        joined = _join(normalize(title).text, normalize(body).text)
        assert c.topic == tiny_model.predict(seg.cut(joined), joined)


@settings(max_examples=300, deadline=None)
@given(texts, texts)
def test_join_tokens_equals_cutting_the_joined_text(seg, title, body):
    title, body = normalize(title).text, normalize(body).text
    assert _join_tokens(title, body, seg.cut(title), seg.cut(body)) == seg.cut(_join(title, body))
    # the words keep every character: joined, they give back the normalised text
    assert "".join(seg.cut(title)) == title and "".join(seg.cut(body)) == body


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["3", "12", "三", "十二", "数十", "几", "多", "上百", "人", "名", "死亡", "受伤", "遇难",
                                 "村民", "聚集", "讨薪", "未造成", "一家", "上午", "，", "。", " ", "余", "致"]),
                max_size=16).map("".join))
def test_each_clause_is_read_alone(text):
    # the parser reads clause by clause: the whole text gives what its sentences give one by one
    whole = parse_casualties(text)
    parts = [m for piece in text.split("。") for m in parse_casualties(piece).mentions]
    assert [(m.kind, m.low, m.noun) for m in whole.mentions] == [(m.kind, m.low, m.noun) for m in parts]


def test_counts_of_a_mixed_text():
    c = extract_counts("事故已造成3人死亡、12人受伤，数十名村民聚集讨薪")
    assert (c.deaths, c.injured, c.gathering) == (3, 12, 20)
    assert extract_counts("某地召开会议") == extract_counts("")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["铺镇", "武乡", "北关街道", "爆炸", "坍塌", "演练", "汉台", "讨薪", "欠薪", "，", "发生",
                                 "武乡县"]), max_size=8).map("".join))
def test_scheme_set_equals_each_scheme_alone(text):
    doc = {"schemes": {"a": {"expr": "汉台 爆炸"}, "b": {"expr": "讨薪 OR 欠薪"}, "c": {"expr": "NOT 汉台"},
                       "d": {"expr": "(汉台 OR 铺镇) AND NOT 演练"}, "e": {"expr": "NEAR/3(北关, 坍塌)"}},
           "templates": {"t": {"places": "towns", "events": ["爆炸", "坍塌"], "exclude": ["演练"]},
                         "n": {"places": "towns", "events": ["讨薪"], "near": 4}}}
    ss = SchemeSet.from_mapping(doc, towns=[("铺镇",), ("武乡镇", "武乡"), ("北关街道", "北关")])
    alone = [h for h in (s.match(text) for s in ss) if h is not None]
    assert ss.match(text) == alone


def test_sentiment_words_and_scores_on_tricky_clauses():
    an = SentimentAnalyzer(load_sentiment_lexicon())
    r = an.analyze("希望有关部门尽快解决，谢谢！服务很满意")
    assert r.label == "正面" and "谢谢" in r.words
    assert an.analyze("").label == "中性"
    assert an.analyze("[泪]").label == "负面"


def test_to_simplified_is_what_the_tokens_hold(clf):
    c = clf.classify("臺灣", "")
    assert "".join(c.title_tokens) == to_simplified("臺灣")


def test_release_owner_and_units_without_routing(clf):
    c = clf.classify("铺镇发生爆炸", "")
    assert c.release_owner == "区委宣传部" and c.responsible_units == ()
    assert re.fullmatch(r"[\u4e00-\u9fff]+", "".join(c.title_tokens))
