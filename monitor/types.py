"""Domain types of the intake half of the desk.

Every datetime here is timezone-aware UTC. Parsing is pure: bytes in,
:class:`ParsedFeed` out. Fetching returns :class:`FetchResult`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

SOURCE_KINDS = ("auto", "rss", "atom", "jsonfeed", "json", "html", "manual")
MAPPING_PRESETS = ("weibo", "hotlist")


@dataclass(frozen=True)
class ParsedItem:
    """One entry of a parsed document, before storage."""

    guid: str
    title: str
    link: str | None = None
    published: datetime | None = None
    author: str | None = None
    text: str = ""  # plain text: HTML already turned into text
    metrics: Mapping[str, Any] = field(default_factory=dict)
    # metrics keys: reposts, comments, likes, rank, heat (numbers);
    # on_list_at, off_list_at (ISO 8601 UTC strings) for hot lists.

    def to_json(self) -> dict:
        return {
            "guid": self.guid,
            "title": self.title,
            "link": self.link,
            "published": self.published.isoformat() if self.published else None,
            "author": self.author,
            "text": self.text,
            "metrics": dict(self.metrics),
        }


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    link: str | None
    items: tuple[ParsedItem, ...]
    warnings: tuple[str, ...] = ()
    encoding: str | None = None  # the charset the body was read with
    kind: str | None = None  # the kind actually parsed (rss, atom, jsonfeed, json, html)

    def to_json(self) -> dict:
        return {
            "feed": {"title": self.title, "link": self.link},
            "items": [i.to_json() for i in self.items],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class SourceSpec:
    """A source as configured in sources.toml."""

    id: str  # short slug, unique; the key in sources.toml
    name: str
    url: str
    kind: str = "auto"  # one of SOURCE_KINDS
    mapping: str | None = None  # a preset in MAPPING_PRESETS, for kind = json
    fields: Mapping[str, Any] = field(default_factory=dict)  # custom JSON mapping / CSS selectors
    interval: int = 300  # seconds between checks
    priority: int = 5  # 1 = most urgent .. 9
    encoding: str | None = None  # override the declared charset
    enabled: bool = True
    own_channel: bool = False  # the district's own release channel
    local: bool = False  # a local source: its items carry district context
    platform: str = "news"  # news | weibo | hotlist | gov | own | hotline | other


@dataclass(frozen=True)
class FetchResult:
    """What one HTTP fetch produced (success or 304)."""

    url: str  # final URL after redirects
    status: int
    body: bytes | None  # None on 304
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    retry_after: float | None = None  # seconds, when the server asked
    elapsed: float = 0.0

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class StoredItem:
    id: int
    source_id: str
    guid: str
    url: str | None
    canonical_url: str | None
    title: str
    text: str
    author: str | None
    published: datetime | None
    fetched_at: datetime
    metrics: Mapping[str, Any]
    content_hash: str
    published_orig: datetime | None = None  # the feed's own time when ``published`` was clamped at intake
    published_flag: str | None = None  # why it was clamped (Chinese)


@dataclass(frozen=True)
class SourceHealth:
    source_id: str
    name: str
    enabled: bool
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None  # "Type: message"
    error_streak: int
    items_24h: int
    last_new_item_at: datetime | None
    next_check_at: datetime | None
    silent: bool  # no new items for several times the usual gap
    sightings_24h: int = 0  # of items_24h, those whose link another source's item already had
    edited_24h: int = 0  # known items re-served with another title or text
