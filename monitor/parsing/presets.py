"""JSON mapping presets: Weibo timelines and hot lists.

weibo
    m.weibo.cn container responses (``data.cards[].mblog``, cards with a
    ``card_group``) and weibo.com ajax lists (``data.list[]``). A repost keeps
    the reposter's own words in ``text``, then the original after a separator
    line ``//转发原文 @作者: 原文``; ``metrics.repost_of`` carries the original's id.
    Link: ``https://m.weibo.cn/status/<bid or id>``. Counts become ints
    (``reposts``, ``comments``, ``likes``); ``created_at`` is read against
    ``fetched_at`` in Asia/Shanghai. Emoticons keep their alt text ("[怒]"); a
    trailing "全文" link is dropped and ``metrics.truncated = 1`` marks long posts
    whose timeline text is cut.

hotlist
    DailyHotApi / RSSHub-style hot lists ``{"title", "type", "data": [...]}``.
    ``rank`` is the 1-based position unless the entry gives one; ``heat`` is
    ``hot``; ``on_list_at`` is ``fetched_at`` (the store keeps the history).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from classifiers.htmltext import clean_text, html_to_text, one_line
from monitor.exceptions import ParseError
from monitor.parsing.common import parse_count, short, stable_guid, title_from_text
from monitor.textutil import clean_link
from monitor.timeparse import parse_time
from monitor.types import ParsedFeed, ParsedItem

__all__ = ["parse_weibo", "parse_hotlist", "PRESETS", "REPOST_SEPARATOR"]

REPOST_SEPARATOR = "//转发原文"
WEIBO_STATUS_URL = "https://m.weibo.cn/status/"


# ---------------------------------------------------------------- weibo

def _weibo_posts(doc: Any) -> list:
    """Every mblog object of a response, in order."""
    if isinstance(doc, dict):
        ok = doc.get("ok")
        if ok is not None and ok not in (1, "1", True):
            msg = doc.get("msg") or doc.get("message") or ""
            raise ParseError(f"Weibo API answered ok={short(ok, 10)}" + (f": {short(msg, 80)}" if msg else ""))
        data = doc.get("data", doc)
    else:
        data = doc
    if isinstance(data, list):
        candidates = data
    elif isinstance(data, dict):
        for key in ("cards", "list", "statuses"):
            if isinstance(data.get(key), list):
                candidates = data[key]
                break
        else:
            raise ParseError("not a Weibo timeline: no data.cards, data.list or data.statuses")
    else:
        raise ParseError("not a Weibo timeline: no data object")
    posts: list = []
    for card in candidates:
        if not isinstance(card, dict):
            posts.append(card)  # reported and skipped by the caller
            continue
        if isinstance(card.get("mblog"), dict):
            posts.append(card["mblog"])
        elif isinstance(card.get("card_group"), list):
            posts.extend(c["mblog"] for c in card["card_group"]
                         if isinstance(c, dict) and isinstance(c.get("mblog"), dict))
        elif "text" in card or "text_raw" in card:
            posts.append(card)  # data.list shape: the entries are the posts
        # other cards (banners, user cards) carry no post: ignored silently
    return posts


def _post_text(mblog: dict) -> str:
    raw = mblog.get("text_raw")
    if isinstance(raw, str) and raw.strip():
        return clean_text(raw)  # already plain text
    t = mblog.get("text")
    text = html_to_text(t) if isinstance(t, str) else ""
    # Long posts end in a "全文" (full text) link: not part of the words.
    if text.endswith("全文") and (mblog.get("isLongText") or text[:-2].rstrip().endswith(("…", "...", "​"))):
        text = text[:-2].rstrip()
    return text


def _user_name(mblog: dict) -> str | None:
    user = mblog.get("user")
    if isinstance(user, dict):
        name = user.get("screen_name") or user.get("name")
        if name:
            return one_line(str(name)) or None
    return None


def _post_id(mblog: dict) -> str:
    for key in ("id", "mid", "idstr"):
        v = mblog.get(key)
        if v not in (None, "") and not isinstance(v, (dict, list, bool)):
            return one_line(str(v))
    return ""


def _post_link(mblog: dict, pid: str) -> str | None:
    bid = mblog.get("bid") or mblog.get("mblogid")
    key = one_line(str(bid)) if isinstance(bid, (str, int)) and not isinstance(bid, bool) else ""
    key = key or pid
    return clean_link(WEIBO_STATUS_URL + quote(key, safe="")) if key else None


def parse_weibo(doc: Any, *, url: str | None, fetched_at: datetime, encoding: str | None) -> ParsedFeed:
    posts = _weibo_posts(doc)
    warnings: list[str] = []
    items: list[ParsedItem] = []
    for n, mblog in enumerate(posts, 1):
        if not isinstance(mblog, dict):
            warnings.append(f"post {n}: not an object; skipped")
            continue
        pid = _post_id(mblog)
        text = _post_text(mblog)
        metrics: dict[str, Any] = {}
        orig = mblog.get("retweeted_status")
        if isinstance(orig, dict):
            otext = _post_text(orig)
            oname = _user_name(orig) or "?"
            oid = _post_id(orig)
            if oid:
                metrics["repost_of"] = oid
            if otext or oid:
                text = f"{text}\n{REPOST_SEPARATOR} @{oname}: {otext}".strip()
        if not pid and not text:
            warnings.append(f"post {n}: no id and no text; skipped")
            continue
        published = parse_time(mblog.get("created_at"), fetched_at)
        if published is None:
            warnings.append(f"post {n} ({pid or '?'}): unreadable created_at {short(mblog.get('created_at'), 40)!r}")
        if mblog.get("isLongText") is True:
            metrics["truncated"] = 1  # the timeline shows only the start of a long post
        for ours, theirs in (("reposts", "reposts_count"), ("comments", "comments_count"),
                             ("likes", "attitudes_count")):
            c = parse_count(mblog.get(theirs))
            if c is not None:
                metrics[ours] = c
        link = _post_link(mblog, pid)
        own = text.split(f"\n{REPOST_SEPARATOR}", 1)[0] if isinstance(orig, dict) else text
        title = title_from_text(own or text) or (f"微博 {pid}" if pid else "微博")
        guid = pid if pid else (link or stable_guid(title, published, text[:200]))
        items.append(ParsedItem(guid=guid, title=title, link=link, published=published,
                                author=_user_name(mblog), text=text, metrics=metrics))
    if posts and not items:
        raise ParseError(f"none of the {len(posts)} Weibo posts was usable")
    title = None
    if isinstance(doc, dict) and isinstance(doc.get("data"), dict):
        info = doc["data"].get("cardlistInfo")
        if isinstance(info, dict) and info.get("cardlist_title"):
            title = one_line(str(info["cardlist_title"])) or None
    return ParsedFeed(title=title, link=url, items=tuple(items), warnings=tuple(warnings),
                      encoding=encoding, kind="json")


# ---------------------------------------------------------------- hot lists

def parse_hotlist(doc: Any, *, url: str | None, fetched_at: datetime, encoding: str | None) -> ParsedFeed:
    if isinstance(doc, dict):
        code = doc.get("code")
        if code is not None and code not in (0, 200, "0", "200"):
            raise ParseError(f"hot list API answered code={short(code, 10)}"
                             + (f": {short(doc.get('message') or doc.get('msg'), 80)}"
                                if doc.get("message") or doc.get("msg") else ""))
        data = doc.get("data")
        if isinstance(data, dict):
            data = data.get("list") if isinstance(data.get("list"), list) else data.get("items")
        if not isinstance(data, list):
            raise ParseError("not a hot list: no \"data\" list")
    elif isinstance(doc, list):
        data = doc
    else:
        raise ParseError("not a hot list: expected a JSON object with a \"data\" list")
    on_list_at = fetched_at.astimezone(timezone.utc).isoformat()
    warnings: list[str] = []
    items: list[ParsedItem] = []
    for pos, entry in enumerate(data, 1):
        if not isinstance(entry, dict):
            warnings.append(f"entry {pos}: not an object; skipped")
            continue
        title = one_line(html_to_text(str(entry.get("title") or entry.get("name") or "")))
        if not title:
            warnings.append(f"entry {pos}: no title; skipped")
            continue
        link = clean_link(entry.get("url")) or clean_link(entry.get("mobileUrl")) or clean_link(entry.get("link"))
        rank = parse_count(entry.get("rank")) or pos
        metrics: dict[str, Any] = {"rank": rank, "on_list_at": on_list_at}
        heat = parse_count(entry.get("hot", entry.get("heat")))
        if heat is not None:
            metrics["heat"] = heat
        published = None
        ts = entry.get("timestamp") or entry.get("time")
        if ts not in (None, ""):
            published = parse_time(ts, fetched_at)
        desc = entry.get("desc") or entry.get("description") or ""
        text = html_to_text(desc) if isinstance(desc, str) else ""
        raw_id = entry.get("id")
        rid = one_line(str(raw_id)) if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else ""
        guid = rid or link or stable_guid(title, None)
        items.append(ParsedItem(guid=guid, title=title, link=link, published=published,
                                author=(one_line(entry["author"]) or None) if isinstance(entry.get("author"), str) else None,
                                text=text, metrics=metrics))
    if data and not items:
        raise ParseError(f"none of the {len(data)} hot list entries had a title")
    title = None
    link = url
    if isinstance(doc, dict):
        parts = [one_line(str(doc[k])) for k in ("title", "type") if isinstance(doc.get(k), str) and doc[k].strip()]
        title = "·".join(parts) or None
        link = clean_link(doc.get("link")) or url
    return ParsedFeed(title=title, link=link, items=tuple(items), warnings=tuple(warnings),
                      encoding=encoding, kind="json")


PRESETS = {"weibo": parse_weibo, "hotlist": parse_hotlist}
