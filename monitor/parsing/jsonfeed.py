"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1)."""
from __future__ import annotations

from datetime import datetime

from classifiers.htmltext import clean_text, html_to_text, one_line
from monitor.exceptions import ParseError
from monitor.parsing.common import short, stable_guid, title_from_text
from monitor.textutil import clean_link
from monitor.timeparse import parse_time
from monitor.types import ParsedFeed, ParsedItem

__all__ = ["parse_jsonfeed", "is_jsonfeed"]

VERSION_PREFIX = "https://jsonfeed.org/version/"


def is_jsonfeed(doc) -> bool:
    return isinstance(doc, dict) and str(doc.get("version", "")).startswith(VERSION_PREFIX)


def _author(obj: dict, feed_author: str | None) -> str | None:
    authors = obj.get("authors")
    if isinstance(authors, list):
        for a in authors:
            if isinstance(a, dict) and a.get("name"):
                return one_line(str(a["name"])) or None
    a = obj.get("author")
    if isinstance(a, dict) and a.get("name"):
        return one_line(str(a["name"])) or None
    return feed_author


def parse_jsonfeed(doc, *, url: str | None, fetched_at: datetime, encoding: str | None) -> ParsedFeed:
    if not isinstance(doc, dict):
        raise ParseError("JSON Feed must be a JSON object")
    items_raw = doc.get("items")
    if not isinstance(items_raw, list):
        raise ParseError("JSON Feed has no \"items\" list")
    warnings: list[str] = []
    if not is_jsonfeed(doc):
        warnings.append("no JSON Feed version URL; read as JSON Feed anyway")
    base = url or (doc.get("home_page_url") if isinstance(doc.get("home_page_url"), str) else None)
    feed_author = _author(doc, None)
    items: list[ParsedItem] = []
    undated = 0
    for n, it in enumerate(items_raw, 1):
        if not isinstance(it, dict):
            warnings.append(f"item {n}: not an object; skipped")
            continue
        raw_id = it.get("id")
        link = clean_link(it.get("url"), base) or clean_link(it.get("external_url"), base)
        if isinstance(it.get("content_text"), str) and it["content_text"].strip():
            text = clean_text(it["content_text"])  # plain text: no markup to strip
        elif isinstance(it.get("content_html"), str):
            text = html_to_text(it["content_html"])
        elif isinstance(it.get("summary"), str):
            text = html_to_text(it["summary"])
        else:
            text = ""
        title = one_line(html_to_text(str(it["title"]))) if it.get("title") is not None else ""
        if not title:
            title = title_from_text(text) if text else (link or "")
        if not title and not text:
            warnings.append(f"item {n} ({short(raw_id, 40)}): no title or content; skipped")
            continue
        published = parse_time(it.get("date_published"), fetched_at) or parse_time(it.get("date_modified"), fetched_at)
        if published is None:
            undated += 1
        guid = one_line(str(raw_id)) if raw_id not in (None, "") and not isinstance(raw_id, (dict, list)) else ""
        guid = guid or link or stable_guid(title, published, text[:200])
        items.append(ParsedItem(guid=guid, title=title, link=link, published=published,
                                author=_author(it, feed_author), text=text, metrics={}))
    if undated:
        warnings.append(f"{undated} of {len(items_raw)} items have no usable date")
    title = doc.get("title")
    home = doc.get("home_page_url")
    return ParsedFeed(title=one_line(str(title)) or None if title is not None else None,
                      link=clean_link(home), items=tuple(items),
                      warnings=tuple(warnings), encoding=encoding, kind="jsonfeed")
