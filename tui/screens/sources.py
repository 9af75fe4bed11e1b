"""Source health: last success, last error, error streak, items in 24 h, silent sources.

Sources are named by their configured names; the last error is said in Chinese by its kind,
its technical detail and the source's id shown only in the details view (d)."""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tui.widgets.keyhelp import KeyHelp
from tui.display import source_error_label
from tui.messages import Loaded
from tui.text import local_time, safe
from tui.widgets.table import LightTable

COLUMNS = (("status", "状态", 9), ("name", "名称", 20), ("ok", "最近成功", 11), ("err", "最近错误", 11),
           ("n24", "近24小时", 8))


def health_label(h) -> Text:
    if not h.enabled:
        return Text("停用", style="dim")
    if h.error_streak:
        return Text(f"✖异常×{h.error_streak}", style="bold red")
    if h.silent:
        return Text("!沉默", style="yellow")
    if h.last_success_at is None:
        return Text("?未采集", style="yellow")
    return Text("正常", style="green")


def by_attention(health) -> list:
    """Sources needing attention first (failing, silent, never fetched), then by last success, newest first."""
    from datetime import datetime, timezone

    earliest = datetime.min.replace(tzinfo=timezone.utc)

    def key(h):
        trouble = h.enabled and bool(h.error_streak or h.silent or h.last_success_at is None)
        return (not trouble, not h.enabled, -(h.last_success_at or earliest).timestamp())

    return sorted(health, key=key)


class SourcesScreen(Screen):
    CSS_PATH = Path(__file__).with_name("sources.tcss")
    BINDINGS = [Binding("f5", "refresh", "刷新", id="sources.refresh"),
                Binding("d", "details", "错误详情", id="sources.details")]

    def __init__(self) -> None:
        super().__init__()
        self.health: list = []
        self.details = False

    def compose(self) -> ComposeResult:
        yield Static(Text("信源状态"), id="sources-title", classes="section")
        yield LightTable(COLUMNS, id="sources", zebra_stripes=True, flex="name", min_flex=12,
                         empty="尚未配置信源")
        with VerticalScroll(id="error-box"):
            yield Static(Text(""), id="error")
        yield KeyHelp((("F5", "刷新"), ("d", "错误详情")))

    def on_mount(self) -> None:
        self.action_refresh()
        self.set_interval(10, self.action_refresh)

    def desk_changed(self) -> None:  # the server notified a change
        self.action_refresh()

    def action_refresh(self) -> None:
        self.app.run_db(lambda f: f.sources(), target=self, tag="sources")

    def on_loaded(self, message: Loaded) -> None:
        if message.tag != "sources":
            return
        message.stop()
        self.health = by_attention(message.result)
        t = self.query_one("#sources", LightTable)
        t.set_rows([(h.source_id, [health_label(h), safe(h.name or h.source_id), Text(local_time(h.last_success_at)),
                                   Text(local_time(h.last_error_at)), Text(f"{h.items_24h} 条")])
                    for h in self.health])  # the cursor keeps its source
        bad = sum(1 for h in self.health if h.enabled and (h.error_streak or h.silent))
        self.query_one("#sources-title", Static).update(Text(f"信源状态：共 {len(self.health)} 个，需关注 {bad} 个"))
        self.show_error()

    def on_light_table_highlighted(self, event: LightTable.Highlighted) -> None:
        self.show_error()

    def show_error(self) -> None:
        t = self.query_one("#sources", LightTable)
        if not self.health or not (0 <= t.cursor_row < len(self.health)):
            return
        h = self.health[t.cursor_row]
        text = Text(end="")
        text.append_text(safe(h.name, "bold"))
        text.append(f"  下次检查 {local_time(h.next_check_at)}  最近新内容 {local_time(h.last_new_item_at)}\n")
        text.append("最近错误：")
        text.append_text(safe(source_error_label(h.last_error)))
        if h.error_streak:
            text.append(f"（连续 {h.error_streak} 次）")
        if self.details:
            text.append("\n信源标识：")
            text.append_text(safe(h.source_id))
            text.append("\n原始信息：")
            text.append_text(safe(h.last_error or "无", oneline=False))
        self.query_one("#error", Static).update(text)

    def action_details(self) -> None:
        """Show or hide the source's id and the technical detail of its last error."""
        self.details = not self.details
        self.show_error()
