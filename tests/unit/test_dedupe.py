"""Near-duplicates: each form of copy, what is not a copy, and bounded memory."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from classifiers.normalize import normalize
from classifiers.stories import StoryEngine, StoryItem
from classifiers.stories.dedupe import NearDuplicateIndex, clean_for_dedupe

T0 = datetime(2026, 6, 1, 8, tzinfo=timezone.utc)
ORIGINAL = ("汉台区龙江街道一小区昨夜暴雨后地下车库严重积水，多辆车被淹，业主质疑物业排水设施长期失修，"
            "区住建局已派人到场处置，目前积水已基本排除。")
TRADITIONAL = ("漢台區龍江街道一小區昨夜暴雨後地下車庫嚴重積水，多輛車被淹，業主質疑物業排水設施長期失修，"
               "區住建局已派人到場處置，目前積水已基本排除。")
OTHER = "今天天气不错，和朋友去汉江边散步，拍了好多晚霞的照片，心情特别好。"


def pair(first: str, second: str) -> str | None:
    eng = StoryEngine()
    eng.add(StoryItem("a", "", first, T0, "weibo"))
    return eng.add(StoryItem("b", "", second, T0 + timedelta(minutes=3), "weibo")).duplicate_of


@pytest.mark.parametrize("copy", [
    "转发微博//@汉中生活圈: " + ORIGINAL,
    "//@汉中生活圈:" + ORIGINAL,
    "太气人了，物业必须给个说法！//@路人甲: " + ORIGINAL,
    "哈哈//@小明:这是怎么回事？//@汉中生活圈: " + ORIGINAL,
    "回复@汉中生活圈: " + ORIGINAL,
], ids=["bare-repost", "chain-only", "repost-with-comment", "repost-chain", "reply"])
def test_reposts_are_duplicates(copy):
    assert pair(ORIGINAL, copy) == "a"


@pytest.mark.parametrize("marker", ["...全文", "…展开全文", "... 全文", "展开全文c"])
def test_truncated_copies_are_duplicates(marker):
    assert pair(ORIGINAL, ORIGINAL[:40] + marker) == "a"


def test_original_after_its_truncated_copy_is_a_duplicate():
    assert pair(ORIGINAL[:45] + "...全文", ORIGINAL) == "a"


def test_traditional_copy_is_duplicate():
    assert pair(ORIGINAL, TRADITIONAL) == "a"


def test_noise_copy_is_duplicate():
    noisy = "#汉中暴雨# " + ORIGINAL.replace("，", ",").replace("。", "!!!") + "[怒][怒] http://t.cn/A6xYz 网页链接"
    assert pair(ORIGINAL, noisy) == "a"


def test_edited_copy_is_duplicate():
    edited = "【转】" + ORIGINAL.replace("多辆车被淹", "好几辆车被淹了") + "（来源：汉中日报）"
    assert pair(ORIGINAL, edited) == "a"


def test_unrelated_and_short_texts_are_not_duplicates():
    assert pair(ORIGINAL, OTHER) is None
    assert pair("哈哈哈哈哈哈哈哈", "哈哈哈哈哈哈哈哈") is None
    assert pair("转发微博", "转发微博") is None
    # same generic comment, different originals
    assert pair("这是怎么回事？//@a: " + ORIGINAL, "这是怎么回事？//@b: " + OTHER) is None


def test_duplicate_of_points_to_the_group_root():
    eng = StoryEngine()
    eng.add(StoryItem("a", "", ORIGINAL, T0, "weibo"))
    eng.add(StoryItem("b", "", "转发微博//@x: " + ORIGINAL, T0 + timedelta(minutes=1), "weibo"))
    c = eng.add(StoryItem("c", "", "转发微博//@y: " + TRADITIONAL, T0 + timedelta(minutes=2), "weibo"))
    assert c.duplicate_of == "a"
    assert c.story_id == eng.add(StoryItem("d", "", ORIGINAL[:50] + "...全文", T0, "x")).story_id


def test_clean_for_dedupe_strips_noise():
    assert clean_for_dedupe("#话题#你好,世界[哈哈] http://t.cn/x @某人 转发微博") == "你好世界"


def test_index_memory_is_bounded_by_window_and_max_items():
    idx = NearDuplicateIndex(max_items=500)
    texts = [f"第{i}条消息：" + "".join(chr(0x4E00 + (i * 7919 + j * 104729) % 20000) for j in range(30))
             for i in range(3000)]
    keys = idx.keys((normalize(t).own, ()) for t in texts)
    for i, k in enumerate(keys):
        idx.add(str(i), str(i), k, float(i))
    assert len(idx) == 500
    idx.evict(2900.0)
    assert len(idx) == 100
    # a recent item is still found, an evicted one is not
    assert idx.match(keys[2999]).item_id == "2999"
    assert idx.match(keys[10]) is None
