"""RSS 0.9x/1.0/2.0 and Atom through feedparser, fed UTF-8 that cannot be misread.

The body is decoded first (monitor.charset), entity-declaring DOCTYPEs are cut
out (XML bombs, external entities), the XML declaration is rewritten to say
UTF-8, and feedparser gets UTF-8 bytes with a matching charset header.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from classifiers.htmltext import html_to_text, one_line, strip_huge_tags
from monitor.exceptions import ParseError
from monitor.parsing.common import short, stable_guid
from monitor.textutil import clean_link
from monitor.timeparse import parse_time
from monitor.types import ParsedFeed, ParsedItem

__all__ = ["parse_feed", "neutralize_doctype"]

_XML_DECL = re.compile(r"^(\s*<\?xml\b[^>]*?)\bencoding\s*=\s*([\"'])[^\"']*\2", re.I)
_FIRST_ELEMENT = re.compile(r"<[A-Za-z_]")
_ENTITY_DECL = re.compile(r"<!ENTITY", re.I)
_DOCTYPE = re.compile(r"<!DOCTYPE\b", re.I)
_SUBSET_END = re.compile(r"\]\s*>")
_ROOT_AFTER = re.compile(r"<(?:rss|feed|rdf:RDF|channel)\b", re.I)
_HTML_ROOT = re.compile(r"<(?:!doctype\s+html|html|head|body)\b", re.I)

# feedparser exceptions that only describe what we already handled.
_QUIET_BOZO = ("CharacterEncodingOverride", "NonXMLContentType", "CharacterEncodingUnknown")


def neutralize_doctype(text: str) -> tuple[str, str | None]:
    """Remove a DOCTYPE that declares entities. Returns (text, warning or None)."""
    first = _FIRST_ELEMENT.search(text)
    prolog_end = first.start() if first else len(text)
    if not _ENTITY_DECL.search(text, 0, prolog_end):
        return text, None
    warning = "DOCTYPE declaring entities removed before parsing (possible XML bomb or external entity)"
    m = _DOCTYPE.search(text, 0, prolog_end)
    if m is None:
        # Entity declarations without a DOCTYPE: drop them.
        prolog = re.sub(r"<!ENTITY\b[^>]*>", "", text[:prolog_end], flags=re.I)
        return prolog + text[prolog_end:], warning
    start = m.start()
    gt = text.find(">", start)
    lb = text.find("[", start)
    if lb != -1 and (gt == -1 or lb < gt):
        close = _SUBSET_END.search(text, lb)
        end = close.end() if close else -1
    else:
        end = gt + 1 if gt != -1 else -1
    if end <= 0:
        # Unterminated: drop everything up to the root element.
        el = _ROOT_AFTER.search(text, start)
        end = el.start() if el else len(text)
    return text[:start] + text[end:], warning


def _utf8_bytes(text: str) -> bytes:
    m = _XML_DECL.match(text)
    if m:
        text = text[: m.start()] + m.group(1) + 'encoding="utf-8"' + text[m.end():]
    return text.encode("utf-8", errors="replace")


def _struct_to_dt(st) -> datetime | None:
    try:
        dt = datetime(*st[:6], tzinfo=timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return None
    return dt if 1990 <= dt.year <= 2100 else None


def _entry_time(entry, fetched_at: datetime) -> datetime | None:
    # dict.get: FeedParserDict.get maps updated->published with a DeprecationWarning.
    refused = set()
    for key in ("published", "updated", "created", "issued", "modified", "dc_date"):
        raw = dict.get(entry, key)
        if raw:
            dt = parse_time(raw, fetched_at)
            if dt is not None:
                return dt
            refused.add(key)
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # feedparser normalises impossible dates (2026-13-45 -> 2027-01-01): its struct is
        # only used for a field whose text we did not already refuse.
        st = dict.get(entry, key)
        if st and key.removesuffix("_parsed") not in refused:
            dt = _struct_to_dt(st)
            if dt is not None:
                return dt
    return None


def _entry_text(entry) -> str:
    content = entry.get("content")
    if content:
        parts = [c.get("value", "") for c in content if isinstance(c, dict)]
        best = max(parts, key=len, default="")
        if best:
            return html_to_text(best)
    return html_to_text(entry.get("summary") or entry.get("description") or "")


def _author(entry) -> str | None:
    name = entry.get("author")
    if not name:
        detail = entry.get("author_detail") or {}
        name = detail.get("name") or detail.get("email")
    if not name:
        authors = entry.get("authors") or []
        if authors and isinstance(authors[0], dict):
            name = authors[0].get("name")
    name = one_line(html_to_text(name)) if name else ""
    return name or None


def parse_feed(text: str, *, url: str | None, fetched_at: datetime, encoding: str | None,
               expected: str = "auto") -> ParsedFeed:
    import feedparser

    warnings: list[str] = []
    text, w = neutralize_doctype(text)
    if w:
        warnings.append(w)
    text, huge = strip_huge_tags(text)
    if huge:
        warnings.append(f"{huge} oversized tags lost their attributes before parsing")
    headers = {"content-type": "application/xml; charset=utf-8"}
    if url:
        headers["content-location"] = url
    try:
        d = feedparser.parse(_utf8_bytes(text), response_headers=headers,
                             sanitize_html=False, resolve_relative_uris=False)
    except RecursionError:
        raise ParseError("feed is nested too deeply to parse") from None
    version = d.get("version") or ""
    feed = d.get("feed") or {}
    entries = d.get("entries") or []
    bozo = d.get("bozo_exception") if d.get("bozo") else None
    if not entries and not version and not feed.get("title"):
        if _HTML_ROOT.search(text[:4096]):
            raise ParseError("expected a feed but got an HTML page"
                             " (for a list page use kind = \"html\" with CSS selectors)")
        reason = f": {short(bozo, 120)}" if bozo else ""
        raise ParseError(f"not an RSS or Atom feed{reason}")
    if bozo is not None and type(bozo).__name__ not in _QUIET_BOZO:
        warnings.append(f"malformed XML, kept what parsed: {short(bozo, 160)}")

    base = url or feed.get("link")
    items: list[ParsedItem] = []
    undated = 0
    for n, entry in enumerate(entries, 1):
        title = one_line(html_to_text(entry.get("title") or ""))
        link = clean_link(entry.get("link"), base)
        body = _entry_text(entry)
        if not title and not link and not body:
            warnings.append(f"entry {n}: no title, link or text; skipped")
            continue
        if not title:
            title = body.split("\n", 1)[0][:60] if body else (link or "")
        published = _entry_time(entry, fetched_at)
        if published is None:
            undated += 1
        raw_id = entry.get("id")
        guid = (one_line(raw_id) if isinstance(raw_id, str) else "") or link or stable_guid(title, published, body[:200])
        items.append(ParsedItem(guid=guid, title=title, link=link, published=published,
                                author=_author(entry), text=body, metrics={}))
    if undated:
        warnings.append(f"{undated} of {len(entries)} entries have no usable date")
    if not entries:
        warnings.append("the feed has no entries")
    kind = "atom" if version.startswith("atom") else "rss"
    feed_title = one_line(html_to_text(feed.get("title") or "")) or None
    feed_link = clean_link(feed.get("link"), url)
    return ParsedFeed(title=feed_title, link=feed_link, items=tuple(items),
                      warnings=tuple(warnings), encoding=encoding, kind=kind)
