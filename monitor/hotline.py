"""Manual intake: 12345 hotline work orders and 领导信箱 letters from CSV exports.

Every row is checked on its own: a bad row gives an error naming the row (as a
spreadsheet shows it: the header is row 1) and the good rows are kept. Personal
data (caller name, phone, address) is kept apart from the text, in
``item_private``, so screens, alerts and exports never show it by accident.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

import sqlite_utils

from monitor.exceptions import ImportRowError, MonitorError
from storage.csvtext import decode_csv
from monitor.types import ParsedItem
from storage.timeutil import desk_tz

# header aliases -> our field
HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "工单编号", "工单号", "信件编号", "受理编号", "流水号"),
    "title": ("title", "标题", "主题", "诉求标题", "信件标题"),
    "text": ("text", "content", "内容", "诉求内容", "来电内容", "信件内容", "问题描述", "反映内容"),
    "published": ("published", "time", "时间", "来电时间", "受理时间", "提交时间", "写信时间", "日期"),
    "name": ("name", "author", "姓名", "来电人", "写信人", "反映人"),
    "phone": ("phone", "电话", "联系电话", "来电号码", "手机"),
    "address": ("address", "地址", "详细地址", "事发地址"),
    "area": ("area", "区域", "所属区域", "所属镇办", "镇办"),
    "category": ("category", "类别", "诉求类型", "问题类型", "分类"),
}
TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H:%M", "%Y年%m月%d日", "%Y%m%d%H%M%S",
)
KINDS = {"hotline": "12345热线", "mailbox": "领导信箱"}
MAX_TEXT = 20_000


@dataclass(frozen=True)
class IntakeRow:
    row: int
    item: ParsedItem
    name: str | None
    phone: str | None
    address: str | None


@dataclass(frozen=True)
class ImportResult:
    rows: tuple[IntakeRow, ...]
    errors: tuple[ImportRowError, ...]


def parse_time(value: str, tz=None) -> datetime:
    value = value.strip()
    if re.fullmatch(r"\d{10}(\.\d+)?", value):
        return datetime.fromtimestamp(float(value), timezone.utc)
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        dt = None
        for fmt in TIME_FORMATS:
            try:
                dt = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
        if dt is None:
            raise ValueError(f"unrecognised time '{value}' (use e.g. 2026-06-14 10:02)")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz or desk_tz())
    return dt.astimezone(timezone.utc)


def parse_intake_csv(data: bytes, *, kind: str = "hotline") -> ImportResult:
    """Parse a hotline/mailbox CSV export. Raises MonitorError only when the file as a whole is unusable."""
    if kind not in KINDS:
        raise MonitorError(f"unknown intake kind '{kind}' (use {' or '.join(KINDS)})")
    text = decode_csv(data)
    if not text.strip():
        raise MonitorError("the CSV file is empty")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    # strict: a quote that is never closed is an error on its row, not the rest of the file
    # silently swallowed into one field
    reader = csv.reader(io.StringIO(text), dialect, strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise MonitorError(f"cannot read the CSV header: {exc}") from None
    columns = _map_header(header)
    if "text" not in columns:
        wanted = "/".join(HEADERS["text"][:5])
        raise MonitorError(f"no content column in the header {header!r} (expected one of {wanted})")
    rows, errors = [], []
    rownum = 1
    while True:
        first_line = reader.line_num + 1  # a row may span lines (a quoted field with line breaks)
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rownum += 1
            why = str(exc)
            if "end of data" in why:
                why += " (a quote opened in this row is never closed)"
            errors.append(_row_error(rownum, first_line, f"unreadable CSV: {why}"))
            continue
        rownum += 1
        if not any(cell.strip() for cell in record):
            continue
        try:
            rows.append(_row(rownum, record, columns, kind))
        except ImportRowError as exc:
            errors.append(exc if first_line == rownum else _row_error(rownum, first_line, str(exc).split(": ", 1)[1]))
    return ImportResult(tuple(rows), tuple(errors))


def _row_error(rownum: int, line: int, message: str) -> ImportRowError:
    """The row as a spreadsheet numbers it, and the file's line when they differ."""
    return ImportRowError(rownum, message if line == rownum else f"(line {line}) {message}")


def _map_header(header: list[str]) -> dict[str, int]:
    columns = {}
    for idx, cell in enumerate(header):
        name = cell.strip().lstrip("\ufeff").lower()
        for field, aliases in HEADERS.items():
            if name in aliases and field not in columns:
                columns[field] = idx
    return columns


def _row(rownum: int, record: list[str], columns: dict[str, int], kind: str) -> IntakeRow:
    def get(field: str) -> str:
        idx = columns.get(field)
        if idx is None or idx >= len(record):
            return ""
        return record[idx].strip()

    content = get("text")
    if not content:
        raise ImportRowError(rownum, "content is empty")
    if len(content) > MAX_TEXT:
        raise ImportRowError(rownum, f"content is {len(content)} characters (max {MAX_TEXT})")
    published = None
    if get("published"):
        try:
            published = parse_time(get("published"))
        except ValueError as exc:
            raise ImportRowError(rownum, str(exc)) from None
    title = get("title") or _title_from(content)
    ident = get("id") or hashlib.sha1(f"{published}|{content}".encode()).hexdigest()[:16]
    parts = [content]
    if get("area"):
        parts.append(f"所属区域：{get('area')}")
    if get("category"):
        parts.append(f"诉求类型：{get('category')}")
    item = ParsedItem(
        guid=f"{kind}:{ident}", title=title, link=None, published=published,
        author=KINDS[kind], text="\n".join(parts), metrics={},
    )
    return IntakeRow(rownum, item, get("name") or None, get("phone") or None, get("address") or None)


def _title_from(content: str) -> str:
    first = re.split(r"[。！？\n]", content, maxsplit=1)[0]
    return first[:40]


def import_rows(db: sqlite_utils.Database, source_id: str, rows: Iterable[IntakeRow], now: datetime):
    """Store intake rows exactly once (re-importing the same file adds nothing) with their personal data."""
    from monitor.store import insert_manual_items, keep_private

    rows = list(rows)
    outcome = insert_manual_items(db, source_id, [r.item for r in rows], now)
    keep_private(db, source_id, [(r.item.guid, r.name, r.phone, r.address) for r in rows])
    return outcome
