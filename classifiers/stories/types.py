"""Domain types of story clustering and heat. Pure data, no I/O.

Every datetime is timezone-aware (UTC inside the engine).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from common.hashing import content_hash

__all__ = ["StoryItem", "Assignment", "RankSpan", "Story", "EvidenceSnapshot", "content_hash"]


@dataclass(frozen=True)
class StoryItem:
    """One item entering the story stage.

    ``metrics`` keys (all optional): ``reposts``, ``comments``, ``likes``, ``rank``,
    ``heat`` (numbers); ``on_list_at``, ``off_list_at`` (ISO 8601 strings) for hot lists.
    ``words`` may carry the item's segmented words when the pipeline has them already
    (the engine then skips its own segmentation).
    """

    id: str
    title: str
    text: str
    published: datetime
    source: str
    metrics: Mapping[str, Any] = field(default_factory=dict)
    url: str | None = None
    words: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.published.tzinfo is None:
            raise ValueError(f"item {self.id!r}: published must be timezone-aware")


@dataclass(frozen=True)
class Assignment:
    """Where one item went: its story, the item it duplicates (if any) and the story's
    state at that moment."""

    item_id: str
    story_id: str
    duplicate_of: str | None
    hot: bool
    heat: float
    new_story: bool = False

    def to_json(self) -> dict:
        return {"id": self.item_id, "story": self.story_id, "duplicate_of": self.duplicate_of, "hot": self.hot}


@dataclass(frozen=True)
class RankSpan:
    """One stay of a story on one hot list (上榜 .. 下榜)."""

    source: str
    on_list: datetime  # 上榜: first seen on the list
    off_list: datetime | None  # 下榜: left the list (None: still on it as far as we know)
    last_seen: datetime
    peak_rank: int

    def to_json(self) -> dict:
        return {
            "source": self.source,
            "on_list": self.on_list.isoformat(),
            "off_list": self.off_list.isoformat() if self.off_list else None,
            "last_seen": self.last_seen.isoformat(),
            "peak_rank": self.peak_rank,
        }


@dataclass(frozen=True)
class EvidenceSnapshot:
    """An item as it was when the story was detected (frozen for the incident report)."""

    item_id: str
    title: str
    text: str
    url: str | None
    published: datetime
    rank: int | None
    content_hash: str  # sha256 hex of title + "\n" + text

    @classmethod
    def of(cls, item: StoryItem) -> "EvidenceSnapshot":
        return cls(
            item_id=item.id,
            title=item.title,
            text=item.text,
            url=item.url,
            published=item.published,
            rank=_rank_of(item.metrics),
            content_hash=content_hash(item.title, item.text),
        )

    def to_json(self) -> dict:
        return {
            "item_id": self.item_id,
            "title": self.title,
            "text": self.text,
            "url": self.url,
            "published": self.published.isoformat(),
            "rank": self.rank,
            "content_hash": self.content_hash,
        }


@dataclass(frozen=True)
class Story:
    """A summary of one story at one moment (a copy: later items do not change it)."""

    id: str
    label: str  # the title: a phrase from the story's items (classifiers.stories.titles)
    keywords: tuple[str, ...]  # the top keywords (secondary: what the title does not say)
    size: int  # items assigned, duplicates included
    unique_size: int  # items that are not near-duplicates of an earlier one
    first_id: str  # 首发: the earliest published item
    first_source: str
    first_published: datetime
    last_published: datetime
    sources: tuple[str, ...]  # distinct sources, in order of first appearance
    items_per_hour: float  # over the last hour of the story's own time
    engagement: Mapping[str, int]  # summed reposts / comments / likes
    rank_history: tuple[RankSpan, ...]
    peak_rank: int | None
    heat: float
    peak_heat: float
    hot: bool
    hot_since: datetime | None
    item_ids: tuple[str, ...]  # the items still in the window, oldest first
    evidence: tuple[EvidenceSnapshot, ...] = ()

    def to_summary_json(self) -> dict:
        """The CLI's ``--summary`` line (plus a few extra keys at the end)."""
        return {
            "story": self.id,
            "size": self.size,
            "label": self.label,
            "first_id": self.first_id,
            "first_source": self.first_source,
            "first_published": self.first_published.isoformat(),
            "sources": list(self.sources),
            "hot_since": self.hot_since.isoformat() if self.hot_since else None,
            "peak_heat": round(self.peak_heat, 2),
            "unique_size": self.unique_size,
            "engagement": dict(self.engagement),
            "peak_rank": self.peak_rank,
            "rank_history": [r.to_json() for r in self.rank_history],
            "keywords": list(self.keywords),
        }


def _rank_of(metrics: Mapping[str, Any]) -> int | None:
    rank = metrics.get("rank") if metrics else None
    if rank is None:
        return None
    try:
        rank = int(rank)
    except (TypeError, ValueError):
        return None
    return rank if rank > 0 else None
