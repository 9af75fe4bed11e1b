"""Guess what a decoded document is: json, xml (a feed) or html."""
from __future__ import annotations

import re

__all__ = ["sniff", "strip_jsonp", "root_tag"]

_HTML_TAGS = frozenset("""html head body div table p span a meta title script style link ul ol li
form iframe section article header footer nav main h1 h2 h3 h4 h5 h6 br img center font b i""".split())
_SKIP = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!\[CDATA\[.*?\]\]>)", re.S)
_DOCTYPE = re.compile(r"\s*<!DOCTYPE\s+([A-Za-z_:][\w:.-]*)[^\[>]*(?:\[.*?\]\s*)?>", re.S | re.I)
_TAG = re.compile(r"\s*<([A-Za-z_][\w:.-]*)")
_JSONP_HEAD = re.compile(r"^(?:/\*\*/\s*)?[A-Za-z_$][\w$.]*\s*\(\s*[\[{]")
_JSONP = re.compile(r"^\s*(?:/\*\*/\s*)?[A-Za-z_$][\w$.]*\s*\(\s*([\[{].*[\]}])\s*\)\s*;?\s*$", re.S)


def strip_jsonp(text: str) -> str | None:
    """The JSON inside ``callback({...});``, or None."""
    m = _JSONP.match(text)
    return m.group(1) if m else None


def root_tag(text: str) -> tuple[str | None, str | None]:
    """(doctype name, first element name), lower-cased, skipping comments and PIs."""
    pos, doctype = 0, None
    head = text[:65536]
    for _ in range(200):
        m = _SKIP.match(head, pos)
        if m:
            pos = m.end()
            continue
        m = _DOCTYPE.match(head, pos)
        if m:
            doctype = m.group(1).lower()
            pos = m.end()
            continue
        break
    m = _TAG.match(head, pos)
    return doctype, (m.group(1).lower() if m else None)


def sniff(text: str, content_type: str | None = None) -> str:
    """'json', 'xml', 'html' or 'unknown'."""
    head = text[:4096].lstrip("\ufeff \t\r\n")
    if not head:
        return "unknown"
    c = head[0]
    if c in "{[":
        return "json"
    if c == "<":
        doctype, tag = root_tag(text.lstrip("\ufeff"))
        if tag is None:
            return "html" if doctype == "html" else "xml"
        if tag in _HTML_TAGS or (doctype == "html" and tag not in ("rss", "feed", "rdf:rdf")):
            return "html"
        return "xml"
    ct = (content_type or "").lower()
    if "json" in ct or "javascript" in ct or _JSONP_HEAD.match(head):
        return "json"
    return "unknown"
