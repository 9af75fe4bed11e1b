"""Shared helpers of the format parsers: guids, counts, titles, dotted paths."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from monitor.exceptions import ParseError

__all__ = ["stable_guid", "parse_count", "title_from_text", "resolve_path", "MISSING",
           "short", "PathError"]

MISSING = object()

_COUNT = re.compile(r"^([0-9][0-9,，]*(?:\.[0-9]+)?)\s*(万|w|W|亿|千|k|K|百万)?\s*\+?$")
_MULT = {None: 1, "万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000,
         "千": 1_000, "k": 1_000, "K": 1_000, "百万": 1_000_000}


def stable_guid(title: str, published: datetime | None, extra: str = "") -> str:
    """A guid for entries that carry neither id nor link."""
    basis = f"{title}\x1f{published.isoformat() if published else ''}\x1f{extra}"
    return "h:" + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:24]


def parse_count(value: Any) -> int | None:
    """'43.4万' -> 434000, '1.2亿', '10万+', '1,234', 12 -> ints; None when not a count."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value == value and 0 <= value < 1e18 else None
    if not isinstance(value, str):
        return None
    s = value.strip()
    if not s:
        return None
    m = _COUNT.match(s)
    if not m:
        return None
    number = float(m.group(1).replace(",", "").replace("，", ""))
    return int(round(number * _MULT[m.group(2)]))


def title_from_text(text: str, limit: int = 60) -> str:
    """A title for title-less posts: the first line of the text, shortened."""
    line = text.strip().split("\n", 1)[0].strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def short(value: Any, limit: int = 80) -> str:
    """A one-line, length-bounded rendering of a value for messages."""
    s = " ".join(str(value).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


class PathError(ParseError):
    pass


_TOKEN = re.compile(r"\[(-?\d+)\]|\[[\"']([^\"']*)[\"']\]|([^.\[\]]+)")


def _tokens(path: str) -> list[Any]:
    out: list[Any] = []
    pos = 0
    for m in _TOKEN.finditer(path):
        gap = path[pos:m.start()]
        if gap.strip(".") or gap.count(".") > 1:
            raise PathError(f"bad field path {path!r}")
        idx, quoted, name = m.groups()
        if idx is not None:
            out.append(int(idx))
        else:
            out.append(quoted if quoted is not None else name.strip())
        pos = m.end()
    if path[pos:].strip("."):
        raise PathError(f"bad field path {path!r}")
    return out


_TOKEN_CACHE: dict[str, list[Any]] = {}


def resolve_path(obj: Any, path: str) -> Any:
    """Follow ``a.b[0].c`` through dicts and lists; MISSING when absent."""
    toks = _TOKEN_CACHE.get(path)
    if toks is None:
        toks = _tokens(path)
        if len(_TOKEN_CACHE) < 1024:
            _TOKEN_CACHE[path] = toks
    cur = obj
    for t in toks:
        if isinstance(t, int):
            if isinstance(cur, list) and -len(cur) <= t < len(cur):
                cur = cur[t]
            else:
                return MISSING
        elif isinstance(cur, dict):
            if t in cur:
                cur = cur[t]
            else:
                return MISSING
        elif isinstance(cur, list) and t.isdigit() and int(t) < len(cur):
            cur = cur[int(t)]
        else:
            return MISSING
    return cur
