"""Items: filters and full-text search; corrections of topic/sentiment/place saved as training labels.

The search box takes words plus filters: ``镇:铺镇 主题:生态环境 情感:负面 来源:微博 关键词`` (a source by
its name or part of it). Results are listed newest first by the time shown.
"""
from __future__ import annotations

import re
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Static

from tui.widgets.keyhelp import KeyHelp
from tui.widgets.notice import NoticeLine
from tui.messages import ActionDone, Loaded
from tui.screens.forms import Field
from tui.text import local_time, safe
from tui.display import DisplayNames
from tui.types import ItemFilter
from tui.widgets.table import LightTable

_KEYS = {"镇": "town", "镇街": "town", "town": "town", "主题": "topic", "topic": "topic", "情感": "sentiment",
         "sentiment": "sentiment", "来源": "source", "source": "source", "近": "since", "since": "since"}
SENTIMENTS = ("负面", "中性", "正面")
RESULT_COLUMNS = (("at", "时间", 11), ("source", "来源", 12), ("topic", "主题", 8), ("sentiment", "情感", 4),
                  ("title", "标题", 40))
SEARCH_HINT = "搜索：关键词 镇:铺镇 主题:生态环境 情感:负面 来源:微博 近:6小时（回车）"


def parse_filter(text: str, limit: int = 200) -> ItemFilter:
    """``镇:铺镇 主题:生态环境 近:6h 关键词`` -> ItemFilter (unknown ``x:y`` stays part of the query).

    ``近:`` takes hours (``6``, ``6h``) or days (``2d``); raises ValueError on anything else.
    """
    words, fields = [], {}
    for part in (text or "").split():
        m = re.fullmatch(r"([^:：]+)[:：](.+)", part)
        if m and m.group(1) in _KEYS:
            fields[_KEYS[m.group(1)]] = m.group(2)
        else:
            words.append(part)
    since = fields.pop("since", None)
    hours = None
    if since is not None:
        m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([hd小时天]*)", since.lower())
        if not m:
            raise ValueError(f"「近:」后应为小时或天数，例如 近:6h、近:2d，收到 {since!r}")
        hours = float(m.group(1)) * (24 if m.group(2) in ("d", "天") else 1)
    return ItemFilter(query=" ".join(words), limit=limit, since_hours=hours, **fields)


def source_filter(text: str, names: DisplayNames) -> str:
    """The source id a 来源: filter means: an id, a display name, or part of one name.

    Raises ValueError (in Chinese) when the text names several sources or none."""
    if not text or text in names.sources:
        return text
    exact = [sid for sid, name in names.sources.items() if name == text]
    if exact:
        return exact[0]
    partial = [sid for sid, name in names.sources.items() if text in name]
    if len(partial) == 1:
        return partial[0]
    if partial:
        listed = "、".join(names.sources[sid] for sid in partial[:5])
        raise ValueError(f"「来源:{text}」对应多个信源：{listed}，请写得更完整")
    raise ValueError(f"没有名称含「{text}」的信源")


def newest_first(rows) -> list:
    """Rows by the time the list shows (publication time), newest first; undated last."""
    from datetime import datetime, timezone

    earliest = datetime.min.replace(tzinfo=timezone.utc)
    return sorted(rows, key=lambda r: (r.published is not None, r.published or earliest, r.id), reverse=True)


def item_text(row, names: DisplayNames | None = None) -> Text:
    names = names or DisplayNames()
    t = Text(end="")
    t.append_text(safe(row.title, "bold"))
    t.append(f"\n#{row.id} │ ")
    t.append_text(safe(names.source(row.source_id)))
    t.append(f" │ {local_time(row.published)}")
    if row.published_note:
        t.append(f" {row.published_note}", style="yellow")
    if row.versions > 1:
        t.append(f" │ 已修改（共{row.versions}个版本）", style="yellow")
    t.append(" │ 主题 ")
    t.append_text(safe(row.labels.get("topic") or row.topic or "—"))
    t.append(" │ 情感 ")
    t.append_text(safe(row.labels.get("sentiment") or row.sentiment or "—"))
    t.append(" │ 地点 ")
    t.append_text(safe(row.labels.get("place") or "、".join(row.towns) or "—"))
    if row.labels:
        t.append("（含人工更正）", style="yellow")
    if row.url:
        t.append("\n")
        t.append_text(safe(row.url, "underline"))
    t.append("\n\n")
    t.append_text(safe(row.text, oneline=False))
    return t


class ItemsScreen(Screen):
    CSS_PATH = Path(__file__).with_name("items.tcss")
    AUTO_FOCUS = "#results"
    BINDINGS = [
        Binding("escape", "focus_results", "结果列表", id="items.results"),
        Binding("slash", "focus_search", "搜索", id="items.search"),
        Binding("t", "correct('topic')", "改主题", id="items.topic"),
        Binding("y", "correct('sentiment')", "改情感", id="items.sentiment"),
        Binding("l", "correct('place')", "改地点", id="items.place"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list = []

    def show_notice(self, message: str, **kw) -> None:
        """Notices go to the page's notice line: a toast would cover its input boxes."""
        self.query_one("#notice", NoticeLine).show_notice(message, **kw)

    def compose(self) -> ComposeResult:
        yield Input(placeholder=SEARCH_HINT, id="search")
        yield Static(Text(""), id="count", classes="section")
        yield LightTable(RESULT_COLUMNS, id="results", zebra_stripes=True, flex="title", min_flex=16,
                         empty="没有符合条件的信息")
        with VerticalScroll(id="detail-box"):
            yield Static(Text("选中一条信息查看全文；t/y/l 更正主题/情感/地点"), id="detail")
        yield NoticeLine(id="notice")
        yield KeyHelp((("/", "搜索"), ("Esc", "列表"), ("t", "改主题"), ("y", "改情感"), ("l", "改地点")))

    def on_mount(self) -> None:
        ahead = self.app.take_items_ahead() if hasattr(self.app, "take_items_ahead") else None
        if ahead is not None:  # read while the board was shown: paint it now, refresh below
            self.show_rows(ahead)
        self.search("")

    def search(self, text: str) -> None:
        try:
            flt = parse_filter(text)
            if flt.source:
                from dataclasses import replace

                flt = replace(flt, source=source_filter(flt.source, self.app.names))
        except ValueError as exc:
            self.notify(str(exc), title="检索条件有误", severity="error", markup=False)
            return
        self.query_one("#count", Static).update(Text("检索中…"))
        self.app.run_db(lambda f: f.items(flt), target=self, tag="items")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            event.stop()
            self.search(event.value)
            self.query_one("#results", LightTable).focus()

    def action_focus_results(self) -> None:
        self.query_one("#results", LightTable).focus()

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def on_loaded(self, message: Loaded) -> None:
        if message.tag != "items":
            return
        message.stop()
        self.show_rows(message.result)

    def show_rows(self, rows) -> None:
        self.rows = newest_first(rows)
        names = self.app.names
        table = self.query_one("#results", LightTable)
        table.set_rows([(str(r.id), [Text(local_time(r.published)), safe(names.source(r.source_id)),
                                     safe(r.labels.get("topic") or r.topic or "—", width=8),
                                     safe(r.labels.get("sentiment") or r.sentiment or "—", width=4),
                                     safe(r.title)]) for r in self.rows])  # the cursor keeps its item
        self.query_one("#count", Static).update(Text(f"共 {len(self.rows)} 条"))
        self.show_detail()

    def selected(self):
        table = self.query_one("#results", LightTable)
        if not self.rows or not (0 <= table.cursor_row < len(self.rows)):
            return None
        return self.rows[table.cursor_row]

    def show_detail(self) -> None:
        row = self.selected()
        if row is not None:
            self.query_one("#detail", Static).update(item_text(row, self.app.names))

    def on_light_table_highlighted(self, event: LightTable.Highlighted) -> None:
        self.show_detail()

    def action_correct(self, field: str) -> None:
        row = self.selected()
        if row is None:
            self.notify("没有选中的信息", severity="warning")
            return
        label = {"topic": "主题", "sentiment": "情感", "place": "地点（镇街）"}[field]
        current = {"topic": row.topic, "sentiment": row.sentiment, "place": "、".join(row.towns)}[field]
        current = row.labels.get(field) or current
        spec = (Field("value", label, SENTIMENTS, current if current in SENTIMENTS else SENTIMENTS[1])
                if field == "sentiment" else Field("value", label, value=current))
        item_id = row.id

        def after(values: dict | None) -> None:
            if not values or not str(values["value"]).strip():
                return
            value = str(values["value"]).strip()
            self.app.run_db(lambda f: f.correct(item_id, field, value), target=self,
                            done=f"已保存更正（训练标注）：#{item_id} {label} → {value}")

        self.app.show_form(f"更正信息 #{item_id} 的{label}", [spec], None, after)

    def on_action_done(self, message: ActionDone) -> None:
        self.search(self.query_one("#search", Input).value)


class ItemDetailScreen(Screen):
    """One item's full text (opened from the dashboard stream)."""

    BINDINGS = [Binding("escape", "app.pop_screen", "返回")]
    CSS_PATH = Path(__file__).with_name("items.tcss")

    def __init__(self, item_id: int) -> None:
        super().__init__()
        self.item_id = item_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-box"):
            yield Static(Text("正在读取…"), id="detail")
        yield KeyHelp((("Esc", "返回"),))

    def on_mount(self) -> None:
        iid = self.item_id
        self.app.run_db(lambda f: f.item(iid), target=self, tag="item")

    def on_loaded(self, message: Loaded) -> None:
        if message.tag == "item":
            message.stop()
            row = message.result
            self.query_one("#detail", Static).update(item_text(row, self.app.names) if row else Text("信息不存在"))
