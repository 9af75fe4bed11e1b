"""An incident's title from its story: the 首发 item's title, shortened to its first sentence.

A story joining batch after batch brings the same 首发 title each time, so each
:class:`IncidentTitles` keeps the titles it shortened (bounded).
"""
from __future__ import annotations

import re

from classifiers.normalize import to_simplified

CACHE_SIZE = 4096


class IncidentTitles:
    """Incident titles for candidates, with the shortened titles remembered."""

    def __init__(self) -> None:
        self._short: dict[tuple[str, int], str] = {}

    def title(self, story, ev: list[dict], batch: list[dict]) -> str:
        """The 首发 item's title (what people recognise), else the first evidence title, else the label."""
        for e in list(ev) + list(batch):
            if str(e.get("item_id")) == str(story.first_id) and e.get("title"):
                return self.short(e["title"])
        for e in list(ev) + list(batch):
            if e.get("title"):
                return self.short(e["title"])
        return story.label or "未命名事件"

    def short(self, title: str, limit: int = 40) -> str:
        """Simplified, without emoticons like [泪] or #话题# marks, cut at the first sentence end."""
        got = self._short.get((title, limit))
        if got is None:
            if len(self._short) >= CACHE_SIZE:
                self._short.clear()
            got = self._short[(title, limit)] = shorten_title(title, limit)
        return got


def shorten_title(title: str, limit: int = 40) -> str:
    """:meth:`IncidentTitles.short` without the cache."""
    text = re.sub(r"\[[^\[\]]{1,6}\]", "", to_simplified(title)).replace("#", " ").strip()
    first = ""
    for sentence in re.split(r"(?<=[。！？!?])", text):
        first += sentence.strip()
        if len(first) >= 12:
            break
    first = first or text
    return first if len(first) <= limit else first[:limit - 1] + "…"
