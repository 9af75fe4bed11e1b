"""Story engine: replayable ids, batch-size independence, cached summaries, bounded state."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from classifiers.stories import StoryEngine, StoryItem
from classifiers.stories.cluster import TermStats
from classifiers.stories.dedupe import NearDuplicateIndex, clean_for_dedupe, make_keys

T0 = datetime(2026, 6, 1, tzinfo=timezone.utc)
REPO = Path(__file__).resolve().parents[2]
EVENTS = [
    "汉台区龙江街道一小区地下车库暴雨积水，多辆私家车被淹，业主质疑物业排水设施失修",
    "汉中市博物馆推出端午节非遗展览，市民可免费预约参观，展期一个月",
    "西汉高速汉中段明日起夜间施工，请过往车辆提前绕行，注意安全",
    "铺镇一化工厂发生火灾，浓烟滚滚，附近村民紧急撤离，消防救援正在现场处置",
    "汉台区教体局发布秋季学期中小学招生入学政策，家长可在线报名",
]
ANGLES = ["现场视频来了", "附近居民说声音很大", "官方已经回应", "希望早日解决", "太吓人了", "有知情人透露"]


def stream(seed: int, n: int = 600) -> list[StoryItem]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        r = rng.random()
        base = rng.choice(EVENTS)
        if r < 0.3:
            text = f"{base}，{rng.choice(ANGLES)}，{rng.choice(ANGLES)}"
        elif r < 0.45:
            text = f"转发微博//@用户{rng.randrange(99)}: {base}"
        elif r < 0.55:
            text = base[: 20 + rng.randrange(10)] + "...全文"
        else:
            text = "".join(chr(0x4E00 + rng.randrange(6000)) for _ in range(rng.randint(20, 60)))
        published = T0 + timedelta(seconds=i * 97 + rng.randrange(300))
        metrics = {"reposts": rng.randrange(50)} if rng.random() < 0.3 else {}
        out.append(StoryItem(f"i{i}", "", text, published, f"src{rng.randrange(20)}", metrics))
    return out


def assignments(items, batch):
    eng = StoryEngine(window=timedelta(hours=6))
    out = []
    for k in range(0, len(items), batch):
        out += [(a.item_id, a.story_id, a.duplicate_of, a.hot) for a in eng.add_many(items[k:k + batch])]
    return out, eng


def test_batches_and_single_adds_give_the_same_stories():
    items = stream(1)
    one, _ = assignments(items, 1)
    assert one == assignments(items, 256)[0]
    assert one == assignments(items, 37)[0]
    assert len({a[1] for a in one}) < len(items) // 2  # events do group
    assert any(a[2] for a in one)  # and copies are found


_CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from tests.unit.test_stories_engine import assignments, stream
print(json.dumps(assignments(stream(2), 64)[0]))
"""


def test_story_ids_do_not_depend_on_the_hash_seed():
    """Replaying the same items after a restart (a new process: another str hash seed) gives the same ids."""
    env = dict(os.environ, PYTHONHASHSEED="12345")
    res = subprocess.run([sys.executable, "-c", _CHILD, str(REPO)], env=env, capture_output=True, text=True,
                         timeout=120, cwd=REPO)
    assert res.returncode == 0, res.stderr
    here = [list(a) for a in assignments(stream(2), 64)[0]]
    assert json.loads(res.stdout) == here


def test_summary_is_cached_until_the_story_changes():
    items = stream(3, 200)
    eng = StoryEngine()
    out = eng.add_many(items)
    sid = out[-1].story_id
    first = eng.story(sid)
    assert eng.story(sid) is first  # nothing changed: the same object
    more = [StoryItem("late", "", items[-1].text + "，最新进展", items[-1].published + timedelta(minutes=1), "x")]
    a = eng.add_many(more)[0]
    again = eng.story(a.story_id)
    if a.story_id == sid:
        assert again is not first and "late" in again.item_ids and again.size == first.size + 1
    # the summary follows the clock: an hour later its last-hour count has moved
    eng.add(StoryItem("clock", "", "完全无关的另一件事情发生在别处，与之前所有内容都不一样", items[-1].published
                      + timedelta(hours=2), "y"))
    later = eng.story(sid)
    assert later.items_per_hour == 0.0
    assert later.item_ids == eng.story(sid).item_ids


def test_evicted_items_release_their_words_and_index_rows():
    eng = StoryEngine(window=timedelta(hours=1))
    items = stream(4, 400)
    eng.add_many(items)
    terms = eng._cluster.terms
    # everything left is within the last hour of stream time
    assert len(eng) < 60
    assert terms.docs <= len(eng)
    assert sum(terms.df.values()) > 0
    eng.evict(items[-1].published + timedelta(hours=5))
    assert len(eng) == 0 and terms.docs == 0 and not terms.df and not eng._cluster._postings
    assert len(eng._dedupe) == 0
    assert eng.stories() == []


def test_term_stats_packed_round_trip_recycles_ids():
    ts = TermStats()
    a = ts.add_packed(["汉台", "暴雨", "汉台"])
    b = ts.add_counts({"暴雨": 2, "积水": 1})
    assert ts.df == {"汉台": 2, "暴雨": 3, "积水": 1} and ts.docs == 2
    ts.remove_packed(a)
    assert ts.df == {"暴雨": 2, "积水": 1}
    c = ts.add_packed(["新词"])  # takes the freed id
    ts.remove_packed(b)
    ts.remove_packed(c)
    assert not ts.df and ts.docs == 0


def test_term_stats_packs_wide_ids_when_the_vocabulary_is_large():
    ts = TermStats()
    words = [f"w{i}" for i in range(70_000)]
    big = ts.add_packed(words)  # ids beyond 65,535 need 4 bytes
    small = ts.add_packed(words[:3])
    assert len(small) < 16 < len(big)
    ts.remove_packed(big)
    ts.remove_packed(small)
    assert not ts.df and ts.docs == 0


def test_index_keys_made_before_a_merge_still_find_candidates():
    idx = NearDuplicateIndex(merge_every=8)
    base = "汉台区龙江街道一小区昨夜暴雨后地下车库严重积水多辆车被淹业主质疑物业排水设施长期失修区住建局已派人到场处置"
    texts = [f"{i}号通报{base}" for i in range(40)]
    early = idx.keys([(t, ()) for t in texts[:1]])
    for i, k in enumerate(idx.keys([(t, ()) for t in texts])):
        if i == 0:
            idx.add("0", "0", k, 0.0)
    idx.keys([("无关", ())] * 1)
    for i in range(1, 20):  # many adds: the recent part is merged into the sorted part
        k = idx.keys([(f"别的内容{i}" * 8, ())])[0]
        idx.add(f"x{i}", f"x{i}", k, float(i))
    m = idx.match(idx.keys([(texts[1], ())])[0])
    assert m is not None and m.item_id == "0"
    assert idx.match(early[0]).item_id == "0"  # exact
    plain = make_keys([(texts[2], ())])[0]  # made without the index: looked up when matched
    assert idx.match(plain).item_id == "0"


def test_clean_for_dedupe_fast_path_matches_the_full_rules():
    import re

    markers = re.compile(
        r"转发微博|轉發微博|^\s*(?:转发|轉發|repost|rt)\s*[:：]?|回复\s*@[^:：\s]{1,40}\s*[:：]|"
        r"https?://\S+|www\.\S+|\[[^\[\]\s]{1,8}\]|#[^#\n]{1,60}?#|@[^\s:：,，。!！?？@/]{1,30}", re.I)
    not_word = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
    rng = random.Random(5)
    alphabet = list("汉台区暴雨转發回复@#[]（）， 。!RrTtHhWw.:/：wwwhttp12ab漢\n\t") + ["转发微博", "http://t.cn/x", "[哈哈]"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert clean_for_dedupe(text) == not_word.sub("", markers.sub(" ", text.lower())), text
