"""Sentiment: lexicon, negation, degree words, questions, Weibo emoticons."""
from __future__ import annotations

import pytest

from classifiers.sentiment import SentimentAnalyzer, SentimentLexicon, parse_weighted_lines
from yuqing.classify_io import load_sentiment_lexicon


@pytest.fixture(scope="module")
def bundled():
    return SentimentAnalyzer(load_sentiment_lexicon())


@pytest.fixture
def small():
    lex = SentimentLexicon(positive={"好": 1.0, "满意": 1.0, "不错": 1.0}, negative={"差": 1.0, "难过": 1.0},
                           degree={"很": 1.5, "有点": 0.7}, negation=frozenset({"不", "没"}),
                           emoticons={"哈哈": 1.5, "泪": -1.5}, cues={"？": -0.3})
    return SentimentAnalyzer(lex)


def test_plain_words(small):
    assert small.analyze("服务很满意").label == "正面"
    assert small.analyze("服务太差").label == "负面"
    assert small.analyze("今天开会").label == "中性"
    assert small.analyze("今天开会").score == 0.0


def test_negation_flips_positive_and_softens_negative(small):
    neg = small.analyze("我不满意")
    assert neg.label == "负面" and neg.score < 0
    soft = small.analyze("没难过")
    assert soft.score > 0
    assert abs(soft.score) < abs(small.analyze("难过").score)


def test_longest_word_wins_over_negator(small):
    # 不错 is a positive word, not 不 + 错
    assert small.analyze("不错").label == "正面"


def test_negation_stays_in_its_clause(small):
    assert small.analyze("不知道，很满意").label == "正面"


def test_degree_words_scale(small):
    assert small.analyze("很满意").score > small.analyze("满意").score > small.analyze("有点满意").score


def test_question_damps_positive(small):
    assert small.analyze("这就是你们说的满意？").score < small.analyze("满意。").score


def test_emoticons_count(small):
    assert small.analyze("今天下雨了[泪]").label == "负面"
    assert small.analyze("今天下雨了[哈哈]").label == "正面"
    assert small.analyze("[未知表情]").label == "中性"


def test_cues_only_without_words(small):
    assert small.analyze("这是怎么回事？").label == "负面"
    assert small.analyze("满意？").score > 0


def test_score_bounded_and_words_reported(bundled):
    r = bundled.analyze("太好了太好了太好了太好了，非常开心非常感谢，[哈哈][赞]")
    assert r.label == "正面" and 0.9 < r.score <= 1.0
    assert "[赞]" in r.words
    r = bundled.analyze("太恶心了，气死我了，什么垃圾服务[怒]")
    assert r.label == "负面" and -1.0 <= r.score < -0.5


@pytest.mark.parametrize("text, label", [
    ("感谢汉台区住建局的工作人员，问题很快就解决了，非常满意！", "正面"),
    ("小区污水横流，臭气熏天，多次投诉没人管，太让人失望了", "负面"),
    ("祝大家新年快乐，身体健康！", "正面"),
    ("孩子被打了，老师不管，家长很愤怒", "负面"),
    ("区政府召开常务会议研究部署下阶段工作", "中性"),
    ("这样的服务态度不好", "负面"),
    ("一路走好[蜡烛]", "负面"),
])
def test_bundled_lexicon_on_typical_items(bundled, text, label):
    assert bundled.analyze(text).label == label


def test_parse_weighted_lines():
    assert parse_weighted_lines(["# c", "好\t1.5", "棒", "", "差 0.5  # note"]) == {"好": 1.5, "棒": 1.0, "差": 0.5}
    with pytest.raises(ValueError, match="bad weight"):
        parse_weighted_lines(["好\tx"])
