"""Salient words of an item and the label (top keywords) of a story."""
from __future__ import annotations

import re
from itertools import groupby
from operator import itemgetter
from typing import Iterable, Mapping

__all__ = ["STOPWORDS", "content_words", "top_keywords", "label_of"]

# Function words and Weibo boilerplate that say nothing about what a story is.
STOPWORDS = frozenset("""
我们 你们 他们 她们 它们 咱们 大家 自己 人家 别人 什么 怎么 怎样 为什么 为何 哪里 那里 这里 这儿 那儿
这个 那个 这些 那些 这样 那样 这么 那么 这种 那种 一个 一些 一下 一点 一起 一直 一定 一般 一切 一样 一次
没有 就是 还是 可以 因为 所以 但是 不过 如果 虽然 已经 现在 今天 昨天 明天 今年 去年 时候 时间 以后 之后
之前 以前 然后 还有 而且 或者 而是 不是 只是 真的 知道 觉得 感觉 认为 看到 看看 出来 起来 下来 上来 过来
回来 不会 不能 不要 需要 应该 可能 能够 还要 也是 都是 就是说 其实 当然 特别 非常 比较 好像 一样 这是 那是
我的 你的 他的 她的 我是 你是 他是 还是 有点 有些 很多 许多 所有 每个 各种 其他 另外 以及 并且 对于 关于
通过 进行 作为 由于 根据 目前 之一 之间 其中 方面 问题 情况 地方 东西 事情 这次 那次 的话 一天 一年 不了
转发 微博 全文 展开 收起 网页 链接 视频 秒拍 回复 评论 点赞 哈哈 哈哈哈 哈哈哈哈 呵呵 嘻嘻 嘿嘿 啊啊 啊啊啊
http https www com cn html the and for you
""".split())

_WEIGHT = itemgetter(1)
_KEEP = re.compile(r"[\u3400-\u9fffA-Za-z]")
_DIGITS = re.compile(r"^[0-9.%:：\-年月日号点时分]+$")


_CACHE: dict[str, str] = {}  # word -> its judged form, "" when it carries no meaning
_CACHE_MAX = 50_000  # ~5 MB; cleared when full (judging a word again is cheap)


def _judge(w: str) -> str | None:
    w = w.strip()
    if len(w) < 2 or not _KEEP.search(w):
        return None
    if w.isascii():
        w = w.lower()
        if len(w) < 3 and not w.isalpha():
            return None
    if w in STOPWORDS or _DIGITS.match(w):
        return None
    return w


def content_words(words: Iterable[str], max_chars: int | None = None) -> list[str]:
    """Words that can carry meaning: two characters or more, not a stopword, not a
    number or date, not punctuation. ASCII words are lower-cased. With ``max_chars``,
    only the words within the first ``max_chars`` characters of the text are read."""
    words = _opening(words, max_chars) if max_chars is not None else words
    if not isinstance(words, (list, tuple)):
        words = list(words)
    cache = _CACHE
    vals = list(map(cache.get, words))  # the judged form, "" when rejected, None when new
    if None in vals:
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        for i, v in enumerate(vals):
            if v is None:
                w = words[i]
                v = cache[w] = (_judge(w) or "") if len(w) >= 2 else ""
                vals[i] = v
    return list(filter(None, vals))


def _opening(words: Iterable[str], max_chars: int) -> Iterable[str]:
    if isinstance(words, (list, tuple)) and sum(map(len, words)) <= max_chars:  # short: all of it
        return words
    out = []
    n = 0
    for w in words:
        n += len(w)
        if n > max_chars:
            break
        out.append(w)
    return out


def top_keywords(weights: Mapping[str, float], k: int = 4) -> tuple[str, ...]:
    """The ``k`` heaviest words; a word contained in a heavier chosen one is skipped."""
    chosen: list[str] = []
    # heaviest first, equal weights in word order (== key (-weight, word)); the words of a run of
    # equal weights are sorted only when the run is reached
    for _, run in groupby(sorted(weights.items(), key=_WEIGHT, reverse=True), key=_WEIGHT):
        run = list(run)
        if len(run) > 1:
            run.sort()
        for w, _ in run:
            if any(w in c or c in w for c in chosen):
                continue
            chosen.append(w)
            if len(chosen) >= k:
                return tuple(chosen)
    return tuple(chosen)


def label_of(keywords: Iterable[str]) -> str:
    return " ".join(keywords)
