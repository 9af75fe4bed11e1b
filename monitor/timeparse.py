"""Parse the date strings feeds and Chinese sites carry into aware UTC datetimes.

Zone-less times are Asia/Shanghai. Relative forms ("刚刚", "3分钟前", "昨天 10:02",
"06-14") are resolved against ``fetched_at`` read in Asia/Shanghai. Returns None
for anything it does not understand; never raises.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

__all__ = ["parse_time", "find_time", "SHANGHAI", "from_timestamp"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc

# Plausible range for a publication time; anything outside is garbage.
_MIN_YEAR, _MAX_YEAR = 1990, 2100

_REL = re.compile(r"^(\d+)\s*(秒|秒钟|分钟|分|小时|个小时|天|日|周|星期|个月|月)前$")
_DAYWORD = re.compile(r"^(今天|昨天|前天)\s*(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$")
_CN_FULL = re.compile(
    r"^(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*[日号]?"
    r"(?:\s*[T ]?\s*(\d{1,2})\s*[:：时点]\s*(\d{1,2})?\s*(?:[:：分]\s*(\d{1,2})?\s*秒?)?)?\s*$"
)
_MONTH_DAY = re.compile(
    r"^(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*[日号]?(?:\s+(\d{1,2})[:：](\d{2})(?::(\d{2}))?)?$"
)
_CLOCK = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$")
_DIGITS = re.compile(r"^\d{9,13}(?:\.\d+)?$")
# Twitter/Weibo style: "Sat Jun 14 10:00:00 +0800 2019".
_WEIBO = re.compile(r"^[A-Z][a-z]{2} ([A-Z][a-z]{2}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2}) ([+-]\d{4}) (\d{4})$")
_MONTHS = {m: i for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1)}
_BRACKETS = str.maketrans({"[": " ", "]": " ", "【": " ", "】": " ", "(": " ", ")": " ",
                           "（": " ", "）": " "})


def _aware_utc(dt: datetime) -> datetime | None:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=SHANGHAI)
    if not (_MIN_YEAR <= dt.year <= _MAX_YEAR):
        return None
    return dt.astimezone(UTC)


def from_timestamp(value: float) -> datetime | None:
    """Epoch seconds or milliseconds to aware UTC, None when implausible."""
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if v != v:  # NaN
        return None
    if v > 1e11:  # milliseconds
        v /= 1000.0
    try:
        dt = datetime.fromtimestamp(v, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return dt if _MIN_YEAR <= dt.year <= _MAX_YEAR else None


def _local(dt_date: date, h: int = 0, m: int = 0, s: int = 0) -> datetime | None:
    try:
        return datetime.combine(dt_date, time(h, m, s), SHANGHAI).astimezone(UTC)
    except ValueError:
        return None


def parse_time(value, fetched_at: datetime | None = None) -> datetime | None:
    """Aware UTC datetime for ``value`` (str, number or datetime), else None."""
    if value is None or isinstance(value, bool):
        return None
    if fetched_at is None:
        fetched_at = datetime.now(UTC)
    elif fetched_at.tzinfo is None:
        fetched_at = fetched_at.replace(tzinfo=UTC)
    if isinstance(value, datetime):
        return _aware_utc(value)
    if isinstance(value, (int, float)):
        return from_timestamp(value)
    if not isinstance(value, str):
        return None
    s = value.strip()
    if not s or len(s) > 80:
        return None
    try:
        return _parse_str(s, fetched_at)
    except (ValueError, OverflowError):
        return None


def _parse_str(s: str, fetched_at: datetime) -> datetime | None:
    now_local = fetched_at.astimezone(SHANGHAI)
    if _DIGITS.match(s):
        return from_timestamp(float(s))
    # ISO 8601 (Python 3.11 reads "Z", offsets, fractions, "T" or space).
    if s[:4].isdigit() and len(s) >= 10 and s[4] == "-":
        iso = s.replace(" ", "T", 1) if len(s) > 10 and s[10] == " " else s
        try:
            return _aware_utc(datetime.fromisoformat(iso))
        except ValueError:
            pass
    if s in ("刚刚", "刚才", "just now"):
        return fetched_at.astimezone(UTC)
    m = _REL.match(s)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        if unit.startswith("秒"):
            delta = timedelta(seconds=n)
        elif unit.startswith("分"):
            delta = timedelta(minutes=n)
        elif "小时" in unit:
            delta = timedelta(hours=n)
        elif unit in ("天", "日"):
            delta = timedelta(days=n)
        elif unit in ("周", "星期"):
            delta = timedelta(weeks=n)
        else:
            delta = timedelta(days=30 * n)
        return (fetched_at - delta).astimezone(UTC)
    m = _DAYWORD.match(s)
    if m:
        back = {"今天": 0, "昨天": 1, "前天": 2}[m.group(1)]
        day = now_local.date() - timedelta(days=back)
        return _local(day, int(m.group(2)), int(m.group(3)), int(m.group(4) or 0))
    m = _WEIBO.match(s)
    if m:
        mon, d, hh, mm, ss, off, y = m.groups()
        dt = datetime.strptime(f"{y} {_MONTHS.get(mon, 0):02d} {d} {hh}:{mm}:{ss} {off}",
                               "%Y %m %d %H:%M:%S %z")
        return _aware_utc(dt)
    # RFC 822 / 2822 (RSS pubDate).
    if "," in s or s[:1].isalpha():
        try:
            dt = parsedate_to_datetime(s)
        except (TypeError, ValueError, IndexError):
            dt = None
        if dt is not None:
            if dt.tzinfo is None and s.rstrip().endswith("-0000"):
                dt = dt.replace(tzinfo=UTC)  # RFC 2822: UTC, local zone unknown
            return _aware_utc(dt)  # no zone at all: Shanghai
    t = s.translate(_BRACKETS).strip()
    m = _CN_FULL.match(t)
    if m:
        y, mo, d, hh, mi, se = m.groups()
        return _local(date(int(y), int(mo), int(d)), int(hh or 0), int(mi or 0), int(se or 0))
    m = _MONTH_DAY.match(t)
    if m:
        mo, d, hh, mi, se = m.groups()
        year = now_local.year
        try:
            cand = _local(date(year, int(mo), int(d)), int(hh or 0), int(mi or 0), int(se or 0))
        except ValueError:  # 02-29 in a non-leap year
            cand = None
        # A month-day later than "now" (beyond a day of clock skew) is last year's.
        if cand is None or cand > fetched_at + timedelta(days=1):
            try:
                cand = _local(date(year - 1, int(mo), int(d)), int(hh or 0), int(mi or 0), int(se or 0))
            except ValueError:
                return None
        return cand
    m = _CLOCK.match(t)
    if m:
        return _local(now_local.date(), int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
    return None


_EMBEDDED = re.compile(
    r"\d{4}\s*[年\-/.]\s*\d{1,2}\s*[月\-/.]\s*\d{1,2}\s*[日号]?(?:\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?"
    r"|(?<!\d)\d{1,2}[\-/月]\d{1,2}[日号]?(?:\s+\d{1,2}[:：]\d{2})?(?!\d)"
    r"|\d+\s*(?:秒|分钟|小时|天)前|刚刚|(?:今天|昨天|前天)\s*\d{1,2}[:：]\d{2}"
)


def find_time(text: str | None, fetched_at: datetime | None = None) -> datetime | None:
    """Like :func:`parse_time`, but also finds a date inside text such as
    "发布时间：2026年6月14日 来源：区政府"."""
    if not text:
        return None
    dt = parse_time(text, fetched_at)
    if dt is not None:
        return dt
    m = _EMBEDDED.search(text[:500])
    return parse_time(m.group(0), fetched_at) if m else None
