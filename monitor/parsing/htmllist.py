"""HTML list pages (government sites without feeds) through CSS selectors.

``fields``::

    {"item": "ul.list li", "title": "a", "link": "a@href",
     "published": "span.date", "text": ".summary", "author": ".source"}

``item`` selects one node per entry; the other selectors apply inside it.
``sel@attr`` reads an attribute, ``@attr`` an attribute of the item node
itself, ``""`` / ``"."`` the item node's text. Links resolve against ``url``
(or the page's ``<base href>``). Dates may be embedded in text:
"2026-06-14", "2026年6月14日", "[06-14]", "发布时间：...".
"""
from __future__ import annotations

from datetime import datetime
from typing import Mapping
from urllib.parse import urljoin

from classifiers.htmltext import MAX_NESTING, clean_text, nesting_depth, one_line, strip_huge_tags
from monitor.exceptions import ParseError
from monitor.parsing.common import short, stable_guid
from monitor.textutil import clean_link
from monitor.timeparse import find_time
from monitor.types import ParsedFeed, ParsedItem

__all__ = ["parse_html_list", "HTML_FIELDS", "is_html_fields"]

HTML_FIELDS = ("item", "title", "link", "published", "text", "author", "guid")


def is_html_fields(fields: Mapping | None) -> bool:
    return bool(fields) and "item" in fields


def _split(selector: str) -> tuple[str, str | None]:
    sel = selector.strip()
    if "@" in sel:
        css, attr = sel.rsplit("@", 1)
        return css.strip(), attr.strip() or None
    return sel, None


def _select_one(node, css: str):
    if css in ("", "."):
        return node
    return node.css_first(css)


def _value(node, selector: str | None) -> str:
    if not selector:
        return ""
    css, attr = _split(selector)
    target = _select_one(node, css)
    if target is None:
        return ""
    if attr:
        v = target.attributes.get(attr)
        return v if isinstance(v, str) else ""
    return target.text(deep=True, separator=" ")


def _check_selectors(tree, fields: Mapping) -> None:
    for key, sel in fields.items():
        if key not in HTML_FIELDS:
            raise ParseError(f"unknown field {key!r} in the HTML selectors (known: {', '.join(HTML_FIELDS)})")
        if not isinstance(sel, str):
            raise ParseError(f"field {key!r}: selector must be a string")
        css, _ = _split(sel)
        if css in ("", "."):
            continue
        try:
            tree.css_first(css)
        except Exception as exc:  # selectolax raises ValueError/SelectolaxError on bad CSS
            raise ParseError(f"field {key!r}: invalid CSS selector {css!r}: {short(exc, 60)}") from None


def parse_html_list(text: str, fields: Mapping, *, url: str | None, fetched_at: datetime,
                    encoding: str | None) -> ParsedFeed:
    from selectolax.lexbor import LexborHTMLParser

    if not fields.get("item"):
        raise ParseError("HTML list pages need an \"item\" CSS selector in fields")
    text, huge = strip_huge_tags(text)
    early = [f"{huge} oversized tags lost their attributes"] if huge else []
    if len(text) > 16_384 and nesting_depth(text, MAX_NESTING * 2) > MAX_NESTING * 2:
        raise ParseError(f"HTML page is nested more than {MAX_NESTING * 2} levels deep; refused")
    tree = LexborHTMLParser(text)
    _check_selectors(tree, fields)
    tree.strip_tags(["script", "style", "noscript", "template"])
    base = url
    base_node = tree.css_first("base[href]")
    if base_node is not None and base_node.attributes.get("href"):
        try:
            base = urljoin(url or "", base_node.attributes["href"])
        except ValueError:
            pass
    nodes = tree.css(fields["item"])
    if not nodes:
        raise ParseError(f"item selector {fields['item']!r} matched nothing on the page")
    link_sel = fields.get("link")
    if link_sel is None and fields.get("title"):
        css, attr = _split(fields["title"])
        link_sel = f"{css}@href" if not attr else None
    warnings: list[str] = early
    items: list[ParsedItem] = []
    undated = 0
    for n, node in enumerate(nodes, 1):
        link_node_text = ""
        title = one_line(_value(node, fields.get("title")))
        if title.endswith(("…", "...")) and fields.get("title") and "@" not in fields["title"]:
            # Lists truncate long titles; the full one is often in title="...".
            tnode = _select_one(node, fields["title"].strip())
            full = one_line(tnode.attributes.get("title") or "") if tnode is not None else ""
            if len(full) > len(title.rstrip("….")):
                title = full
        if not title:
            # The link text, or the link's title attribute (truncated lists).
            css, _ = _split(link_sel or "a@href")
            a = _select_one(node, css)
            if a is not None:
                link_node_text = one_line(a.attributes.get("title") or a.text(deep=True))
            title = link_node_text
        link = clean_link(_value(node, link_sel), base) if link_sel else None
        if not title:
            warnings.append(f"item {n}: no title at {fields.get('title') or 'the link'!r}; skipped")
            continue
        raw_date = _value(node, fields.get("published")) if fields.get("published") else ""
        published = find_time(one_line(raw_date), fetched_at) if raw_date else None
        if published is None and fields.get("published"):
            undated += 1
        body = clean_text(_value(node, fields.get("text"))) if fields.get("text") else ""
        author = one_line(_value(node, fields.get("author"))) or None
        guid = one_line(_value(node, fields.get("guid"))) if fields.get("guid") else ""
        guid = guid or link or stable_guid(title, published)
        items.append(ParsedItem(guid=guid, title=title, link=link, published=published,
                                author=author, text=body, metrics={}))
    if undated:
        warnings.append(f"{undated} of {len(nodes)} items have no readable date at {fields['published']!r}")
    if not items:
        raise ParseError(f"none of the {len(nodes)} nodes matched by {fields['item']!r} had a title")
    title_node = tree.css_first("title")
    page_title = one_line(title_node.text()) if title_node is not None else ""
    return ParsedFeed(title=page_title or None, link=url, items=tuple(items),
                      warnings=tuple(warnings), encoding=encoding, kind="html")
