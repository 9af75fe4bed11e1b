"""Pure parsing of fetched documents: bytes in, :class:`ParsedFeed` out.

One entry point, :func:`parse_document`. It raises
:class:`monitor.exceptions.ParseError` (a one-line message) only when nothing
usable came out; otherwise it returns the items plus ``warnings`` for what was
skipped or repaired.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any, Mapping

from monitor.charset import decode_body, normalize_encoding
from monitor.exceptions import ParseError
from monitor.types import MAPPING_PRESETS, ParsedFeed

__all__ = ["parse_document", "KINDS", "MAX_DOCUMENT_BYTES"]

log = logging.getLogger(__name__)

KINDS = ("auto", "rss", "atom", "jsonfeed", "json", "html")
# Fetching caps bodies well below this; this bounds direct callers.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


def _load_json(text: str) -> Any:
    from monitor.parsing.sniff import strip_jsonp

    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        inner = strip_jsonp(text)
        if inner is not None:
            try:
                return json.loads(inner)
            except json.JSONDecodeError:
                pass
        raise ParseError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise ParseError("JSON is nested too deeply") from None


def _inflate(body: bytes, warnings: list[str]) -> bytes:
    """Undo gzip/zlib compression a server forgot to declare, bounded in size."""
    import zlib

    wbits = 31 if body[:2] == b"\x1f\x8b" else 15
    d = zlib.decompressobj(wbits)
    try:
        out = d.decompress(body, MAX_DOCUMENT_BYTES)
    except zlib.error as exc:
        if wbits == 15:
            return body  # "x" followed by such a byte is plausible text: leave it
        raise ParseError(f"corrupt gzip body: {exc}") from None
    if d.unconsumed_tail:
        raise ParseError(f"compressed body expands beyond {MAX_DOCUMENT_BYTES} bytes")
    if not d.eof:
        warnings.append("compressed body is truncated; parsed what was there")
    else:
        warnings.append("body was compressed without a Content-Encoding header; decompressed")
    return out


def _with_warnings(feed: ParsedFeed, early: list[str]) -> ParsedFeed:
    if not early:
        return feed
    return ParsedFeed(title=feed.title, link=feed.link, items=feed.items,
                      warnings=tuple(early) + tuple(feed.warnings),
                      encoding=feed.encoding, kind=feed.kind)


def parse_document(body: bytes | str, *, kind: str = "auto", mapping: str | None = None,
                   fields: Mapping | None = None, url: str | None = None,
                   content_type: str | None = None, encoding: str | None = None,
                   fetched_at: datetime | None = None) -> ParsedFeed:
    """Parse a feed, JSON API response or HTML list page.

    ``kind``: auto | rss | atom | jsonfeed | json | html. ``mapping``: a JSON
    preset (weibo, hotlist). ``fields``: a custom JSON field mapping (with an
    ``items`` path) or HTML CSS selectors (with an ``item`` selector).
    ``fetched_at`` anchors relative times ("3分钟前"); default now.
    """
    try:
        return _parse(body, kind=kind, mapping=mapping, fields=fields, url=url,
                      content_type=content_type, encoding=encoding, fetched_at=fetched_at)
    except ParseError:
        raise
    except (MemoryError, RecursionError) as exc:
        raise ParseError(f"document too complex to parse ({type(exc).__name__})") from None
    except Exception as exc:  # a parser library choking on hostile input
        log.exception("parser crashed on %s", url or "a document")
        raise ParseError(f"parser failed: {type(exc).__name__}: {str(exc)[:120]}") from None


def _parse(body, *, kind, mapping, fields, url, content_type, encoding, fetched_at) -> ParsedFeed:
    kind = (kind or "auto").strip().lower()
    if kind not in KINDS:
        raise ParseError(f"unknown kind {kind!r} (use one of {', '.join(KINDS)})")
    if mapping is not None and mapping not in MAPPING_PRESETS:
        raise ParseError(f"unknown mapping preset {mapping!r} (use one of {', '.join(MAPPING_PRESETS)})")
    if fields is not None and not isinstance(fields, Mapping):
        raise ParseError("fields must be a mapping of field names to paths or selectors")
    if fetched_at is None:
        fetched_at = datetime.now(timezone.utc)
    elif fetched_at.tzinfo is None:
        raise ParseError("fetched_at must be timezone-aware")
    if body is None:
        raise ParseError("empty document")
    if isinstance(body, (bytearray, memoryview)):
        body = bytes(body)
    if len(body) > MAX_DOCUMENT_BYTES:
        raise ParseError(f"document too large ({len(body)} bytes, limit {MAX_DOCUMENT_BYTES})")
    early: list[str] = []
    if isinstance(body, bytes) and body[:2] in (b"\x1f\x8b", b"\x78\x9c", b"\x78\xda", b"\x78\x01"):
        body = _inflate(body, early)
    if isinstance(body, str):
        text, used = body, None  # already text: no charset involved
    else:
        if encoding and normalize_encoding(encoding) is None:
            early.append(f"unknown encoding override {encoding!r}; ignored")
            encoding = None
        text, used, w = decode_body(body, content_type, encoding)
        early.extend(w)
    if not text.strip(" \t\r\n\ufeff\x00"):
        raise ParseError("empty document")

    from monitor.parsing.sniff import sniff

    shape = sniff(text, content_type)
    from monitor.parsing.htmllist import is_html_fields

    html_fields = is_html_fields(fields)
    if kind == "auto" and mapping is not None:
        kind = "json"  # a preset is for JSON APIs
    if kind == "auto":
        if shape == "json":
            kind = "json"
        elif shape == "html":
            if not html_fields:
                raise ParseError("document is an HTML page, not a feed"
                                 " (for a list page use kind = \"html\" with CSS selectors in fields)")
            kind = "html"
        elif shape == "xml":
            kind = "html" if html_fields else "rss"
        else:
            # Never quote the body: a redirect may have led into a network the reader must not see.
            raise ParseError("document is not a feed, JSON or HTML (it starts with neither '<' nor '{' / '[')")

    if kind in ("rss", "atom"):
        if shape == "json":
            raise ParseError(f"expected an {kind.upper()} feed but got JSON")
        from monitor.parsing.feed import parse_feed

        return _with_warnings(parse_feed(text, url=url, fetched_at=fetched_at, encoding=used), early)

    if kind == "html":
        if not html_fields:
            raise ParseError("kind \"html\" needs CSS selectors in fields, with an \"item\" selector")
        if shape == "json":
            raise ParseError("expected an HTML page but got JSON")
        from monitor.parsing.htmllist import parse_html_list

        return _with_warnings(parse_html_list(text, fields, url=url, fetched_at=fetched_at, encoding=used), early)

    # JSON kinds
    if shape == "html":
        raise ParseError(f"expected {'a JSON Feed' if kind == 'jsonfeed' else 'JSON'} but got an HTML page")
    if shape == "xml":
        raise ParseError(f"expected {'a JSON Feed' if kind == 'jsonfeed' else 'JSON'} but got XML")
    doc = _load_json(text)
    from monitor.parsing.jsonfeed import is_jsonfeed, parse_jsonfeed

    if kind == "jsonfeed" or (kind == "json" and mapping is None and not fields and is_jsonfeed(doc)):
        feed = parse_jsonfeed(doc, url=url, fetched_at=fetched_at, encoding=used)
    elif mapping is not None:
        from monitor.parsing.presets import PRESETS

        feed = PRESETS[mapping](doc, url=url, fetched_at=fetched_at, encoding=used)
    elif fields:
        if html_fields:
            raise ParseError("fields has an HTML \"item\" selector but the document is JSON"
                             " (use \"items\" for a JSON path)")
        from monitor.parsing.jsonmap import parse_json_mapping

        feed = parse_json_mapping(doc, fields, url=url, fetched_at=fetched_at, encoding=used)
    elif is_jsonfeed(doc) or (isinstance(doc, dict) and isinstance(doc.get("items"), list)
                              and "version" in doc):
        feed = parse_jsonfeed(doc, url=url, fetched_at=fetched_at, encoding=used)
    else:
        raise ParseError("JSON document needs a mapping preset (weibo, hotlist) or a field mapping"
                         " (fields with an \"items\" path)")
    return _with_warnings(feed, early)
