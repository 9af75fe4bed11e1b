"""The offline demo scenario: its files, validated, as frozen dataclasses.

A scenario folder (``data/demo/``) holds ``scenario.toml`` (the sources) and one
``<source>.toml`` per source with ``[[item]]`` entries whose times are offsets
from the scenario's t0 (``at = "-3h20m"``). :func:`load_scenario` checks every
entry and raises :class:`ScenarioError` naming the file and the entry.
Pure: no network, no clock.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import quote
from zoneinfo import ZoneInfo

import data
from storage.tomlfile import TomlError, read_toml
from yuqing.errors import DeskError

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
FORMATS = ("rss", "weibo", "hotlist", "gov")


class ScenarioError(DeskError, ValueError):
    """A scenario file is wrong: the message names the file and the entry."""


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class DemoSource:
    id: str
    format: str  # one of FORMATS
    name: str  # shown in sources.toml
    title: str  # the feed's own title
    config: Mapping[str, Any]  # the rest of the sources.toml table (interval, platform, ...)
    description: str = ""
    encoding: str = "utf-8"
    pub_tz: str = "+0800"  # RSS pubDate zone: "+0800" or "GMT"
    language: str = "zh-cn"  # RSS <language>


@dataclass(frozen=True)
class DemoItem:
    source: str
    key: str
    at: timedelta  # publication offset from t0
    title: str
    text: str = ""
    author: str | None = None
    category: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HotEntry:
    key: str
    title: str
    desc: str
    on: timedelta
    off: timedelta
    points: tuple[tuple[timedelta, int], ...]  # (offset, heat), sorted

    def heat(self, at: timedelta) -> int:
        pts = self.points
        if at <= pts[0][0]:
            return pts[0][1]
        for (a, ha), (b, hb) in zip(pts, pts[1:]):
            if at <= b:
                frac = (at - a) / (b - a) if b > a else 1.0
                return int(ha + (hb - ha) * frac)
        return pts[-1][1]


@dataclass(frozen=True)
class Scenario:
    title: str
    duration: timedelta
    sources: tuple[DemoSource, ...]
    items: Mapping[str, tuple[DemoItem, ...]]  # source id -> items sorted by time (not for hotlist)
    hot: tuple[HotEntry, ...] = ()

    def source(self, source_id: str) -> DemoSource:
        for src in self.sources:
            if src.id == source_id:
                return src
        raise KeyError(source_id)

    def count(self) -> int:
        return sum(len(v) for v in self.items.values()) + len(self.hot)

    def timeline(self) -> list[tuple[timedelta, str, str, str]]:
        """Every publication as ``(offset, source id, key, title)``, in time order; hot-list
        entries appear at their ``on`` time. Titles keep their placeholders unrendered."""
        rows = [(i.at, i.source, i.key, i.title or i.text[:40]) for items in self.items.values() for i in items]
        hot_id = next((s.id for s in self.sources if s.format == "hotlist"), "hotlist")
        rows += [(h.on, hot_id, h.key, h.title) for h in self.hot]
        return sorted(rows, key=lambda r: (r[0], r[1], r[2]))


# --------------------------------------------------------------------------- loading

_OFFSET_RE = re.compile(r"^([+-])?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_PLACEHOLDER_RE = re.compile(r"\{(md|hm|ymd|date|wd):([^}]*)\}")


def parse_offset(text: str) -> timedelta:
    """``"-3h20m"``, ``"+26h"``, ``"1d2h"``, ``"0"`` -> timedelta."""
    m = _OFFSET_RE.match(str(text).strip())
    if not m or not any(m.group(i) for i in range(2, 6)):
        raise ValueError(f"bad time offset {text!r} (expected e.g. -3h20m, +5h, +1d2h, 0m)")
    d, h, mi, s = (int(m.group(i) or 0) for i in range(2, 6))
    delta = timedelta(days=d, hours=h, minutes=mi, seconds=s)
    return -delta if m.group(1) == "-" else delta


def render_text(text: str, t0: datetime) -> str:
    """Expand date placeholders relative to t0, in local time: ``{md:-20h}`` -> ``11月26日``,
    ``{hm:-20h}`` -> ``13时40分``, ``{ymd:..}`` -> ``2026年11月26日``, ``{date:..}`` -> ``2026-11-26``,
    ``{wd:..}`` -> ``星期四``."""

    def sub(m: re.Match) -> str:
        dt = (t0 + parse_offset(m.group(2))).astimezone(LOCAL_TZ)
        kind = m.group(1)
        if kind == "md":
            return f"{dt.month}月{dt.day}日"
        if kind == "hm":
            return f"{dt.hour}时{dt.minute // 10 * 10:02d}分" if dt.minute >= 10 else f"{dt.hour}时许"
        if kind == "ymd":
            return f"{dt.year}年{dt.month}月{dt.day}日"
        if kind == "wd":
            return "星期" + "一二三四五六日"[dt.weekday()]
        return dt.strftime("%Y-%m-%d")

    return _MACRO_RE.sub(_macro, _PLACEHOLDER_RE.sub(sub, text))


_MACRO_RE = re.compile(r"\{(topic|emo|at):([^}]+)\}")


def _macro(m: re.Match) -> str:
    """Weibo markup shorthands: ``{topic:汉中}``, ``{emo:泪}``, ``{at:某用户}``, as m.weibo.cn writes them."""
    kind, arg = m.group(1), m.group(2)
    if kind == "topic":
        q = quote(f"231522type=1&t=10&q=#{arg}#", safe="")
        return (f'<a  href="https://m.weibo.cn/search?containerid={q}&isnewpage=1" data-hide="">'
                f'<span class="surl-text">#{arg}#</span></a>')
    if kind == "emo":
        return (f'<span class="url-icon"><img alt=[{arg}] src="https://h5.sinaimg.cn/m/emoticon/icon/default/'
                f'd_{abs(hash_text(arg)) % 10**8:08d}.png" style="width:1em; height:1em;" /></span>')
    return f"<a href='/n/{arg}'>@{arg}</a>"


def hash_text(text: str) -> int:
    """A stable (not per-process salted) small hash."""
    return int(hashlib.md5(text.encode("utf-8")).hexdigest()[:12], 16)


def read_scenario_toml(path: Path) -> dict:
    """A scenario file's table; any problem is a ScenarioError naming the file."""
    try:
        return read_toml(path)
    except TomlError as exc:
        raise ScenarioError(f"{path}: scenario file not found" if exc.kind == "missing" else str(exc)) from None


def _req(table: Mapping, key: str, typ: type, where: str, default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise ScenarioError(f"{where}: '{key}' is missing")
        return default
    value = table[key]
    if isinstance(value, bool) and typ is not bool or not isinstance(value, typ):
        raise ScenarioError(f"{where}.{key}: expected {typ.__name__}, got {type(value).__name__} {value!r}")
    return value


def _offset(table: Mapping, key: str, where: str, default: Any = ...) -> timedelta:
    raw = _req(table, key, str, where, default)
    if isinstance(raw, timedelta):
        return raw
    try:
        return parse_offset(raw)
    except ValueError as exc:
        raise ScenarioError(f"{where}.{key}: {exc}") from None


def _check_placeholders(text: str, where: str) -> None:
    for m in _PLACEHOLDER_RE.finditer(text):
        try:
            parse_offset(m.group(2))
        except ValueError as exc:
            raise ScenarioError(f"{where}: placeholder {m.group(0)}: {exc}") from None


_SOURCE_META = {"format", "name", "title", "description", "encoding", "pub_tz", "language"}


def load_scenario(scenario_dir: Path = data.DEMO_DIR) -> Scenario:
    """Read and validate ``scenario.toml`` and every ``<source>.toml`` of a scenario folder."""
    scenario_dir = Path(scenario_dir)
    main_path = scenario_dir / "scenario.toml"
    doc = read_scenario_toml(main_path)
    head = doc.get("scenario")
    if not isinstance(head, Mapping):
        raise ScenarioError(f"{main_path}: [scenario] table is missing")
    where = f"{main_path}: [scenario]"
    title = _req(head, "title", str, where)
    duration = _offset(head, "duration", where)
    tables = doc.get("sources")
    if not isinstance(tables, Mapping) or not tables:
        raise ScenarioError(f"{main_path}: no [sources.ID] tables")
    sources: list[DemoSource] = []
    items: dict[str, tuple[DemoItem, ...]] = {}
    hot: tuple[HotEntry, ...] = ()
    for sid, table in tables.items():
        where = f"{main_path}: [sources.{sid}]"
        if not re.match(r"^[a-z][a-z0-9_-]*$", sid):
            raise ScenarioError(f"{where}: a demo source id is lowercase letters, digits, '-', '_'")
        fmt = _req(table, "format", str, where)
        if fmt not in FORMATS:
            raise ScenarioError(f"{where}.format: '{fmt}' is not one of {', '.join(FORMATS)}")
        src = DemoSource(
            id=sid,
            format=fmt,
            name=_req(table, "name", str, where),
            title=_req(table, "title", str, where),
            description=_req(table, "description", str, where, ""),
            encoding=_req(table, "encoding", str, where, "utf-8"),
            pub_tz=_req(table, "pub_tz", str, where, "+0800"),
            language=_req(table, "language", str, where, "zh-cn"),
            config={k: v for k, v in table.items() if k not in _SOURCE_META},
        )
        if src.pub_tz not in ("+0800", "GMT"):
            raise ScenarioError(f"{where}.pub_tz: expected '+0800' or 'GMT', got {src.pub_tz!r}")
        sources.append(src)
        item_path = scenario_dir / f"{sid}.toml"
        entries = read_scenario_toml(item_path).get("item")
        if not isinstance(entries, list) or not entries:
            raise ScenarioError(f"{item_path}: no [[item]] entries")
        if fmt == "hotlist":
            hot = tuple(_hot_entry(e, f"{item_path}: item #{i + 1}", i) for i, e in enumerate(entries))
            _unique([h.key for h in hot], item_path)
        else:
            parsed = [_item(sid, fmt, e, f"{item_path}: item #{i + 1}", i) for i, e in enumerate(entries)]
            _unique([p.key for p in parsed], item_path)
            if src.encoding.lower() != "utf-8":
                for i, p in enumerate(parsed):
                    try:
                        (p.title + p.text).encode(src.encoding)
                    except UnicodeEncodeError as exc:
                        raise ScenarioError(
                            f"{item_path}: item #{i + 1} ({p.key}): {exc.object[exc.start:exc.end]!r} "
                            f"cannot be encoded as {src.encoding}"
                        ) from None
            items[sid] = tuple(sorted(parsed, key=lambda p: p.at))
    _check_reposts(items, scenario_dir)
    return Scenario(title=title, duration=duration, sources=tuple(sources), items=items, hot=hot)


def _unique(keys: list[str], path: Path) -> None:
    seen: set[str] = set()
    for k in keys:
        if k in seen:
            raise ScenarioError(f"{path}: duplicate item key '{k}'")
        seen.add(k)


def _item(sid: str, fmt: str, e: Any, where: str, index: int) -> DemoItem:
    if not isinstance(e, Mapping):
        raise ScenarioError(f"{where}: must be a table")
    key = _req(e, "key", str, where, f"{sid}{index + 1:03d}")
    where = f"{where} ({key})"
    title = _req(e, "title", str, where, "" if fmt == "weibo" else ...)
    text = _req(e, "text", str, where)
    for part in (title, text):
        _check_placeholders(part, where)
        if "]]>" in part:
            raise ScenarioError(f"{where}: text may not contain ']]>'")
    extra: dict[str, Any] = {}
    if fmt == "weibo":
        for k in ("reposts", "comments", "likes"):
            extra[k] = _req(e, k, int, where, 0)
        extra["repost_of"] = _req(e, "repost_of", str, where, None)
        extra["client"] = _req(e, "client", str, where, "")
        extra["verified"] = _req(e, "verified", bool, where, False)
        _req(e, "user", str, where)
    return DemoItem(
        source=sid,
        key=key,
        at=_offset(e, "at", where),
        title=title,
        text=text,
        author=_req(e, "user" if fmt == "weibo" else "author", str, where, None),
        category=_req(e, "category", str, where, None),
        extra=extra,
    )


def _hot_entry(e: Any, where: str, index: int) -> HotEntry:
    if not isinstance(e, Mapping):
        raise ScenarioError(f"{where}: must be a table")
    key = _req(e, "key", str, where, f"hot{index + 1:03d}")
    where = f"{where} ({key})"
    raw = _req(e, "hot", list, where)
    points: list[tuple[timedelta, int]] = []
    for j, pt in enumerate(raw):
        if not (isinstance(pt, list) and len(pt) == 2 and isinstance(pt[0], str) and isinstance(pt[1], int)):
            raise ScenarioError(f"{where}.hot[{j}]: expected [\"offset\", heat], got {pt!r}")
        try:
            points.append((parse_offset(pt[0]), pt[1]))
        except ValueError as exc:
            raise ScenarioError(f"{where}.hot[{j}]: {exc}") from None
    if not points or points != sorted(points, key=lambda p: p[0]):
        raise ScenarioError(f"{where}.hot: needs at least one point, in time order")
    on, off = _offset(e, "on", where), _offset(e, "off", where)
    if off <= on:
        raise ScenarioError(f"{where}: off ({off}) must be after on ({on})")
    return HotEntry(key=key, title=_req(e, "title", str, where), desc=_req(e, "desc", str, where, ""),
                    on=on, off=off, points=tuple(points))


def _check_reposts(items: Mapping[str, tuple[DemoItem, ...]], scenario_dir: Path) -> None:
    for sid, entries in items.items():
        by_key = {i.key: i for i in entries}
        for it in entries:
            target = it.extra.get("repost_of")
            if not target:
                continue
            orig = by_key.get(target)
            where = f"{scenario_dir / (sid + '.toml')}: item {it.key}"
            if orig is None:
                raise ScenarioError(f"{where}: repost_of '{target}' is not an item of this file")
            if orig.at > it.at or orig.extra.get("repost_of"):
                raise ScenarioError(f"{where}: repost_of '{target}' must be an earlier original post")
