"""Do two groups of texts tell the same event? Character bigrams with place names set aside.

Two events in one town share the town's name (and the district's) and the words every incident
report uses (受伤, 现场, 今天 ...): neither says they are one event. :func:`event_bigrams` keeps
what is left of the bigrams two texts share; :func:`place_bigram_test` tells a bigram that comes
from a place name, inside it or across a town's edge ("汉台区铺镇" gives 区铺).

Pure: no I/O.
"""
from __future__ import annotations

import operator
import re
from collections import Counter
from typing import Callable, Iterable

#: Shared bigrams, place names aside, two texts need to be about the same event ...
MIN_SHARED_EVENT_BIGRAMS = 3
#: ... and how many of them must be more than words any incident report uses: an explosion and a
#: crane collapse in one town share 受伤 and 现场, not the event.
MIN_DISTINCT_EVENT_BIGRAMS = 2
GENERIC_EVENT_WORDS = (
    "人受伤", "人死亡", "伤亡", "遇难", "身亡", "现场", "今天", "昨天", "上午", "下午", "中午", "晚上", "凌晨",
    "发生", "事故", "事件", "原因", "正在调查", "目前", "已经", "造成", "送医", "送往医院", "救治", "网友", "视频",
    "发布", "消息", "记者", "多名", "群众", "市民", "相关部门", "情况", "通报", "工作人员", "警方", "消防", "赶到",
    "赶赴", "有关", "关注", "报道", "村民投诉", "居民投诉", "网友反映", "群众反映", "举报", "求助",
)
_HAN = re.compile("[\u4e00-\u9fff]+")


def bigrams(texts: Iterable[str]) -> Counter:
    """Character-bigram counts of a group of texts (Chinese characters only)."""
    han = "".join(_HAN.findall(" ".join(texts)))
    return Counter(map(operator.add, han, han[1:]))


GENERIC_EVENT_BIGRAMS = frozenset(g for w in GENERIC_EVENT_WORDS for g in bigrams([w]))


def place_bigram_test(names: Iterable[str], region_names: Iterable[str] = ()) -> Callable[[str], bool]:
    """A test for bigrams that come from place names: inside a name (towns, the district, the
    city), or across the edge of a town's name ("汉台区铺镇" gives 区铺; "铺镇化工厂" gives 镇化)."""
    names = [n for n in names if n]
    inside = {g for name in (*names, *region_names) for g in bigrams([name])}
    firsts = {n[0] for n in names}
    lasts = {n[-1] for n in names}
    return lambda k: k in inside or k[0] in lasts or k[1] in firsts


def bigram_keys(texts: Iterable[str]) -> set[str]:
    """The bigrams of each text (none across two texts)."""
    return {g for t in texts for g in bigrams([t])}


def regions_before(texts: Iterable[str], town_names: Iterable[str]) -> set[str]:
    """Names of the district or city written just before a town's name ("汉台区铺镇" gives
    汉台区): every report of the town carries them, whatever the event."""
    towns = [re.escape(t) for t in town_names if t]
    if not towns:
        return set()
    pattern = re.compile(r"([\u4e00-\u9fff]{1,3}[省市区县])(?=" + "|".join(towns) + ")")
    return {m.group(1) for t in texts for m in pattern.finditer(t)}


def event_bigrams(common: Iterable[str], is_place: Callable[[str], bool]) -> list[str] | None:
    """The shared bigrams that make two texts one event, or None when they are too few."""
    shared = [k for k in common if not is_place(k)]
    if len(shared) < MIN_SHARED_EVENT_BIGRAMS:
        return None
    if sum(k not in GENERIC_EVENT_BIGRAMS for k in shared) < MIN_DISTINCT_EVENT_BIGRAMS:
        return None
    return shared
