"""Story titles: phrases from the story's own items, without @-mentions, URLs or emoji codes."""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from classifiers.stories import StoryEngine, StoryItem
from classifiers.stories.titles import clean_for_title, leading_phrase
from yuqing.cmd_stories import stories as stories_cmd

T0 = datetime(2026, 6, 1, tzinfo=timezone.utc)


def test_cleaning_drops_mentions_urls_chains_and_emoji():
    assert clean_for_title("转发微博//@汉中生活圈: 龙江街道停水通知[泪] http://t.cn/A6x") == "龙江街道停水通知"
    assert clean_for_title("回复@路人甲: 真的假的") == "真的假的"
    assert clean_for_title("太过分了！@新闻哥 @Sunny_77 看看这个//@陕西头条: 原文") == "太过分了！ 看看这个"
    assert "@" not in clean_for_title("@人民日报：今天的发布会😀")


def test_leading_phrase_headline_clause_and_length():
    assert leading_phrase("【汉台区发布停水通知】明天9时至18时，龙江街道停水") == "汉台区发布停水通知"
    assert leading_phrase("好。汉台区龙江街道一小区昨晚发生燃气爆炸，多户居民窗户被震碎") == "汉台区龙江街道一小区昨晚发生燃气爆炸"
    long = "汉台区龙江街道一小区昨晚发生燃气爆炸多户居民窗户被震碎有人受伤送医消防和燃气公司已到场处置"
    p = leading_phrase(long)
    assert len(p) <= 30 and long.startswith(p)


def _story_items():
    root = "汉台区龙江街道一小区昨晚发生燃气爆炸，多户居民窗户被震碎，有人受伤送医。"
    users = ["汉中生活圈", "路人甲", "小明同学", "新闻哥"]
    items = [StoryItem("a0", "", root, T0, "weibo")]
    for i in range(1, 12):
        text = f"太吓人了//@{users[i % 4]}: 转发微博//@{users[(i + 1) % 4]}: {root}"
        items.append(StoryItem(f"a{i}", "", text, T0 + timedelta(minutes=i), "weibo"))
    return root, items


def test_repost_story_is_titled_by_its_original_not_its_mentions():
    root, items = _story_items()
    eng = StoryEngine()
    out = eng.add_many(items)
    story = eng.story(out[0].story_id)
    assert story.size == 12
    assert story.label == "汉台区龙江街道一小区昨晚发生燃气爆炸"
    assert story.keywords and story.label != " ".join(story.keywords)


def test_shared_hashtag_titles_the_story():
    eng = StoryEngine()
    texts = ["#汉台区停水# 龙江街道明天全天停水，请居民提前储水", "#汉台区停水# 龙江街道明天全天停水，请居民提前储水！",
             "#汉台区停水# 龙江街道明天全天停水，请居民们提前储水", "#汉台区停水# 龙江街道明天全天停水 请居民提前储水"]
    out = eng.add_many([StoryItem(f"t{i}", "", t, T0 + timedelta(minutes=i), "weibo") for i, t in enumerate(texts)])
    assert len({a.story_id for a in out}) == 1
    assert eng.story(out[0].story_id).label == "汉台区停水"


def test_news_story_is_titled_by_a_news_title():
    eng = StoryEngine()
    items = [StoryItem("n0", "汉中市汉台区启动防汛四级应急响应", "汉台区防汛指挥部今日启动防汛四级应急响应，各镇办加强巡查。",
                       T0, "news"),
             StoryItem("n1", "汉台区启动防汛四级应急响应 各镇办加强巡查", "记者获悉，汉台区防汛指挥部启动防汛四级应急响应。",
                       T0 + timedelta(minutes=5), "news2")]
    out = eng.add_many(items)
    assert out[0].story_id == out[1].story_id
    assert eng.story(out[0].story_id).label in ("汉中市汉台区启动防汛四级应急响应", "汉台区启动防汛四级应急响应 各镇办加强巡查")


def test_cli_summary_label_is_the_title(tmp_path):
    _, items = _story_items()
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps({"id": it.id, "title": "", "text": it.text, "source": it.source,
                                        "published": it.published.isoformat()}, ensure_ascii=False) + "\n"
                            for it in items), encoding="utf-8")
    res = CliRunner().invoke(stories_cmd, [str(path), "--summary"])
    assert res.exit_code == 0, res.output
    summary = [json.loads(line) for line in res.output.splitlines() if '"story"' in line and '"label"' in line]
    assert summary[0]["label"] == "汉台区龙江街道一小区昨晚发生燃气爆炸"
    assert summary[0]["keywords"]


@pytest.mark.shared
def test_titles_are_phrases_of_their_items_on_real_posts(shared_data):
    """Real Weibo posts with reposts (chains of @-mentions), copies and noise: every title
    is a substring of one of its story's items after the same cleaning, and has no @."""
    from tests.unit.test_quality_stories import _t2s, build_dup_set, load_posts

    rng = random.Random(3)
    entries = build_dup_set(load_posts(shared_data), rng, _t2s(), n_groups=400, n_single=1200)
    texts = {iid: text for iid, text, _ in entries}
    eng = StoryEngine()
    eng.add_many([StoryItem(iid, "", text, T0 + timedelta(seconds=i * 20), "weibo")
                  for i, (iid, text, _) in enumerate(entries)])
    stories = eng.stories()
    titled = [s for s in stories if s.label]
    phrases = [s for s in titled if any(s.label in clean_for_title(texts[i]) for i in s.item_ids)]
    share = len(phrases) / len(stories)
    print(f"\n{len(stories)} stories: {len(phrases)} titles are phrases of their items ({share:.3f}); "
          f"{len(stories) - len(titled)} untitled")
    assert not [s.label for s in stories if "@" in s.label or "http" in s.label]
    assert len(phrases) == len(titled) and share >= 0.99
    multi = [s for s in stories if s.size >= 3]
    assert multi and all(len(s.label) <= 40 for s in multi)


def test_two_items_sharing_a_hashtag_are_titled_by_it():
    eng = StoryEngine()
    out = eng.add_many([StoryItem("h0", "", "#龙江街道停水# 明天全天停水，请提前储水", T0, "weibo"),
                        StoryItem("h1", "", "转发微博//@路人甲: #龙江街道停水# 明天全天停水，请提前储水",
                                  T0 + timedelta(minutes=3), "weibo")])
    assert out[0].story_id == out[1].story_id
    assert eng.story(out[0].story_id).label == "龙江街道停水"
