"""Segmentation: rjieba gives jieba's tokens (user words included), user words stay whole,
the default segmenter is one per process."""
from __future__ import annotations

import csv

import pytest

from classifiers.segment import Segmenter, default_segmenter
from yuqing.gazetteer_io import load_context_gazetteer, load_gazetteer

SAMPLE = [
    "汉台区铺镇联丰村发生火灾，老君镇四联社区居民反映区住建局不作为。",
    "武汉中考成绩公布，南京汉中路地铁站客流创新高",
    "汉中市汉台区北关街道人民路社区居民反映楼道灯不亮已经一个月了",
    "河东店镇褒河社区附近一工地夜间施工噪音扰民，多次向12345热线反映无果。",
    "宗营镇二十里铺村村民反映自来水浑浊，希望区水利局尽快处理。",
    "徐望镇草塘村一养殖场污水直排河道，汉中市生态环境局汉台分局已介入调查。",
    "区卫健局（原区卫计局）通报：七里街道九女村发现一例食物中毒病例。",
    "网友爆料：龙江街道龙江村有人私自占用耕地建房，国土汉台分局回应称将依法处置。",
    "黑龙江省龙江县遭遇暴雪，山西武乡县开展应急演练。",
    "汉王科技发布新品；汉王镇汉王村修路工程进展顺利。",
    "ABC 123 ｆｕｌｌ width，混合English文本 and spaces。",
    "",
    "一",
]


@pytest.fixture(scope="module")
def words():
    return load_gazetteer().user_words() + load_context_gazetteer().user_words()


@pytest.fixture(scope="module")
def engines(words):
    return Segmenter(words, engine="rjieba"), Segmenter(words, engine="jieba")


def test_rjieba_tokens_match_jieba_with_user_words(engines):
    fast, ref = engines
    for text in SAMPLE:
        assert fast.cut(text) == ref.cut(text), text


def test_without_hmm_tokens_match_jieba(engines):
    # the jurisdiction matcher checks word boundaries with dictionary words only
    fast, ref = engines
    for text in SAMPLE + ["汉台北关附近有人打架，中山街一小区停水"]:
        assert fast.cut(text, hmm=False) == ref.cut(text, hmm=False), text


def test_user_words_stay_whole(engines):
    fast, _ = engines
    tokens = fast.cut("汉台区铺镇联丰村发生火灾，老君镇四联社区居民反映区住建局不作为。")
    for word in ("联丰村", "老君镇", "四联社区", "区住建局"):
        assert word in tokens


def test_without_user_words_names_are_split():
    plain = Segmenter()
    assert "区住建局" not in plain.cut("区住建局不作为")


def test_cut_many_equals_cut(engines):
    fast, _ = engines
    assert fast.cut_many(SAMPLE) == [fast.cut(t) for t in SAMPLE]
    assert fast.cut("") == [] and fast.cut_many([]) == []


def test_unknown_engine_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown segmentation engine"):
        Segmenter(engine="pkuseg")


def test_default_segmenter_is_shared_and_learns_words():
    a = default_segmenter()
    b = default_segmenter(["测试专用词语"])
    assert a is b
    assert "测试专用词语" in b.user_words
    assert b.add_words(["测试专用词语"]) == 0


@pytest.mark.shared
def test_rjieba_matches_jieba_on_real_posts(engines, shared_data):
    path = shared_data / "corpora" / "weibo_emotion" / "weibo_emotion_dev.csv"
    with open(path, encoding="utf-8") as fh:
        texts = [row["review"] for _, row in zip(range(2000), csv.DictReader(fh))]
    fast, ref = engines
    same = sum(fast.cut(t) == ref.cut(t) for t in texts)
    # Known differences: rjieba keeps ASCII names with '_' or '-' whole (ai_hg, T-T)
    # where jieba splits them, and ties on repeated characters (怪怪怪) break differently.
    cjk = [_cjk_only(t) for t in texts]
    same_cjk = sum(fast.cut(t) == ref.cut(t) for t in cjk)
    print(f"\nrjieba == jieba on {same}/{len(texts)} weibo posts, {same_cjk}/{len(texts)} without ASCII "
          "(gazetteer user words loaded)")
    assert same / len(texts) >= 0.98
    assert same_cjk / len(texts) >= 0.995


def _cjk_only(text: str) -> str:
    return "".join(ch for ch in text if not ch.isascii())
