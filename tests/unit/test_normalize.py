"""Normalisation: Traditional → Simplified, HTML, width, whitespace, residue, repost chains."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.normalize import (NormalizedText, html_to_text, normalize, normalize_many, to_simplified,
                                   to_simplified_many)


def test_traditional_to_simplified():
    assert to_simplified("漢臺區鋪鎮發生火災") == "汉台区铺镇发生火灾"
    assert to_simplified("汉台区") == "汉台区"
    assert to_simplified("") == ""


def test_batch_conversion_keeps_items_apart():
    texts = ["漢中", "", "網頁\n鏈接", "河東店鎮"]
    assert to_simplified_many(texts) == ["汉中", "", "网页\n链接", "河东店镇"]
    assert to_simplified_many([]) == []


def test_full_width_letters_digits_become_half_width_chinese_punctuation_stays():
    n = normalize("ＡＢＣ１２３，测试！")
    assert n.text == "ABC123，测试！"


def test_whitespace_is_collapsed_and_invisible_characters_dropped():
    assert normalize("  汉台\u3000\u3000区\t\t铺镇\u200b  ").text == "汉台 区 铺镇"
    assert normalize("第一行 \n\n  第二行").text == "第一行\n第二行"


def test_weibo_residue_is_removed():
    assert normalize("小区停水三天了...全文").text == "小区停水三天了"
    assert normalize("小区停水三天了…全文").text == "小区停水三天了"
    assert normalize("路灯坏了 收起全文d").text == "路灯坏了"
    assert normalize("路灯坏了展开全文c").text == "路灯坏了"
    assert normalize("详情见 O网页链接 ").text == "详情见"
    # the word 全文 inside a sentence stays
    assert normalize("请阅读全文后再评论").text == "请阅读全文后再评论"


def test_repost_chain_is_kept_apart_from_own_words():
    n = normalize("说得对，支持！//@张三：汉台区铺镇停水了//@李四: 求转发 #汉中停水#")
    assert n.own == "说得对，支持！"
    assert n.reposts == ("@张三: 汉台区铺镇停水了", "@李四: 求转发 #汉中停水#")
    assert n.hashtags == ("汉中停水",)
    assert "汉台区铺镇停水了" in n.text


def test_full_width_repost_markers_are_recognised():
    n = normalize("转发微博／／＠王五：鋪鎮停電")
    assert n.own == "转发微博"
    assert n.reposts == ("@王五: 铺镇停电",)


def test_no_repost_means_own_is_everything():
    n = normalize("#汉台区#河东店镇一处民房倒塌")
    assert n == NormalizedText("#汉台区#河东店镇一处民房倒塌", "#汉台区#河东店镇一处民房倒塌", (), ("汉台区",))


def test_html_to_text():
    html = "<html><head><title>t</title><style>p{}</style></head><body><p>漢中&amp;汉台</p>" \
           "<script>alert(1)</script><div>第二段<br>第三行</div></body></html>"
    assert html_to_text(html) == "漢中&汉台\n第二段\n第三行"
    assert normalize(html, html=True).text == "汉中&汉台\n第二段\n第三行"
    assert html_to_text("") == ""
    assert html_to_text("plain text") == "plain text"


def test_broken_html_never_raises():
    assert "半截" in html_to_text("<div><p>半截<b>标签</div></p><<<>")


def test_normalize_many_equals_normalize():
    texts = ["漢臺區", "小区停水...全文", "a//@b:c", "", "ＡＢＣ"]
    assert normalize_many(texts) == [normalize(t) for t in texts]
    assert normalize_many(["<p>漢</p>"], html=True) == [normalize("<p>漢</p>", html=True)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=6))
def test_normalize_is_total_and_batch_consistent(texts):
    out = normalize_many(texts)
    assert len(out) == len(texts)
    for t, n in zip(texts, out):
        assert n == normalize(t)
        assert n.own in n.text or n.own == ""
