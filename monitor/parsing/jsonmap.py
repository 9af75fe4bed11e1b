"""Generic JSON APIs through a declarative field mapping.

``fields`` maps our item fields to dotted paths in each entry::

    {"items": "data.list", "guid": "id", "title": "title", "link": "url",
     "published": "time", "text": "desc", "author": "user.name",
     "metrics.heat": "hot"}

Paths use dots and ``[n]`` indexes; ``items`` points at the entry list (the
document itself when omitted and it is a list). ``text`` and ``title`` may be
HTML. ``metrics.*`` values are counts ("43.4万" -> 434000) when they look like
counts, else kept as short strings.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from classifiers.htmltext import html_to_text, one_line
from monitor.exceptions import ParseError
from monitor.parsing.common import (MISSING, parse_count, resolve_path, short,
                                    stable_guid, title_from_text)
from monitor.textutil import clean_link
from monitor.timeparse import parse_time
from monitor.types import ParsedFeed, ParsedItem

__all__ = ["parse_json_mapping", "items_at", "KNOWN_FIELDS"]

KNOWN_FIELDS = ("items", "guid", "title", "link", "published", "text", "author",
                "feed_title", "feed_link")


def items_at(doc: Any, path: str | None) -> list:
    """The entry list at ``path``; ParseError naming the path when it is absent."""
    if not path:
        if isinstance(doc, list):
            return doc
        raise ParseError("no \"items\" path in the field mapping and the document is not a list")
    found = resolve_path(doc, path)
    if found is MISSING:
        raise ParseError(f"items path {path!r} not found in the JSON document")
    if isinstance(found, dict):
        # A single object, or an id -> entry map.
        if all(isinstance(v, dict) for v in found.values()) and found:
            return list(found.values())
        return [found]
    if not isinstance(found, list):
        raise ParseError(f"items path {path!r} is a {type(found).__name__}, not a list")
    return found


def _scalar_text(value: Any) -> str:
    if value is MISSING or value is None:
        return ""
    if isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _metric(value: Any) -> Any:
    n = parse_count(value)
    if n is not None:
        return n
    if isinstance(value, float) and value == value:
        return value
    if isinstance(value, str) and value.strip():
        return short(value, 64)
    return None


def flatten_fields(fields: Mapping) -> dict:
    """Accept ``{"metrics": {"heat": "hot"}}`` (what TOML's ``metrics.heat = "hot"``
    gives) as well as ``{"metrics.heat": "hot"}``."""
    flat: dict = {}
    for key, value in fields.items():
        if key == "metrics" and isinstance(value, Mapping):
            for name, path in value.items():
                flat[f"metrics.{name}"] = path
        else:
            flat[key] = value
    return flat


def validate_fields(fields: Mapping) -> None:
    for key, path in fields.items():
        if not isinstance(key, str):
            raise ParseError(f"field mapping key {key!r} is not a string")
        if key not in KNOWN_FIELDS and not key.startswith("metrics."):
            raise ParseError(f"unknown field {key!r} in the JSON mapping "
                             f"(known: {', '.join(KNOWN_FIELDS)}, metrics.NAME)")
        if not isinstance(path, str):
            raise ParseError(f"field {key!r}: path must be a string, not {type(path).__name__}")


def parse_json_mapping(doc: Any, fields: Mapping, *, url: str | None, fetched_at: datetime,
                       encoding: str | None) -> ParsedFeed:
    fields = flatten_fields(fields)
    validate_fields(fields)
    entries = items_at(doc, fields.get("items"))
    get = {k: v for k, v in fields.items() if k != "items" and v}
    metric_paths = [(k.split(".", 1)[1], p) for k, p in get.items() if k.startswith("metrics.")]
    warnings: list[str] = []
    items: list[ParsedItem] = []
    undated = 0
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, (dict, list)):
            warnings.append(f"entry {n}: not an object ({short(entry, 40)}); skipped")
            continue

        def val(key: str) -> Any:
            path = get.get(key)
            return resolve_path(entry, path) if path else MISSING

        text = html_to_text(_scalar_text(val("text")))
        title = one_line(html_to_text(_scalar_text(val("title"))))
        link = clean_link(_scalar_text(val("link")), url)
        if not title:
            title = title_from_text(text) if text else ""
        if not title and not link:
            warnings.append(f"entry {n}: no title, text or link at the mapped paths; skipped")
            continue
        raw_pub = val("published")
        published = None
        if raw_pub is not MISSING and raw_pub not in (None, ""):
            published = parse_time(raw_pub, fetched_at)
            if published is None:
                warnings.append(f"entry {n}: unreadable date {short(raw_pub, 40)!r}")
        if published is None:
            undated += 1
        guid = one_line(_scalar_text(val("guid")))
        guid = guid or link or stable_guid(title, published, text[:200])
        author = one_line(html_to_text(_scalar_text(val("author")))) or None
        metrics = {}
        for name, path in metric_paths:
            v = _metric(resolve_path(entry, path))
            if v is not None:
                metrics[name] = v
        items.append(ParsedItem(guid=guid, title=title, link=link, published=published,
                                author=author, text=text, metrics=metrics))
    if undated and "published" in get:
        warnings.append(f"{undated} of {len(entries)} entries have no usable date")
    if entries and not items:
        raise ParseError(f"none of the {len(entries)} entries at {fields.get('items') or 'the top level'!r}"
                         " had a title, text or link at the mapped paths")
    feed_title = one_line(_scalar_text(resolve_path(doc, fields["feed_title"]))) if fields.get("feed_title") else ""
    feed_link = one_line(_scalar_text(resolve_path(doc, fields["feed_link"]))) if fields.get("feed_link") else ""
    return ParsedFeed(title=feed_title or None, link=clean_link(feed_link) or url, items=tuple(items),
                      warnings=tuple(warnings), encoding=encoding, kind="json")
