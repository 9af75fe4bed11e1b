"""The 批示 page: leader instructions not yet fed back, overdue first, with `f` to record the
feedback (反馈) for the selected one."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.screens.refreshing import RefreshingScreen
from tui.messages import ActionDone, Loaded
from tui.text import local_time, safe
from tui.widgets.keyhelp import KeyHelp
from tui.widgets.table import LightTable

COLUMNS = (("status", "状态", 6), ("due", "时限", 11), ("incident", "事件", 6), ("leader", "批示人", 8),
           ("text", "批示内容", 30))


class OrdersScreen(RefreshingScreen):
    TAG = "orders"
    REFRESH_SECONDS = 10.0
    BINDINGS = [Binding("f", "feedback", "反馈", id="orders.feedback"),
                Binding("f5", "refresh", "刷新", id="orders.refresh")]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list = []

    def compose(self) -> ComposeResult:
        yield Static(Text("领导批示"), id="orders-title", classes="section")
        yield LightTable(COLUMNS, id="orders", zebra_stripes=True)
        with VerticalScroll(id="order-box"):
            yield Static(Text(""), id="order")
        yield KeyHelp((("f", "反馈"), ("F5", "刷新")))

    def load(self, f):
        return f.open_instructions()

    def on_loaded(self, message: Loaded) -> None:
        if message.tag != "orders":
            return
        message.stop()
        self.rows = list(message.result)
        late = sum(1 for r in self.rows if r.overdue)
        self.query_one("#orders-title", Static).update(
            Text(f"领导批示：待落实 {len(self.rows)} 条，其中超期 {late} 条"))
        self.query_one("#orders", LightTable).set_rows([
            (str(r.id), [Text("超期", style="bold red") if r.overdue else Text("待落实", style="yellow"),
                         Text(local_time(r.due_at)), Text(f"#{r.incident_id}"), safe(r.leader, width=8),
                         safe(r.text, width=30)]) for r in self.rows])
        self.show_selected()

    def selected(self):
        i = self.query_one("#orders", LightTable).cursor_row
        return self.rows[i] if 0 <= i < len(self.rows) else None

    def on_light_table_highlighted(self, event: LightTable.Highlighted) -> None:
        self.show_selected()

    def show_selected(self) -> None:
        r = self.selected()
        text = Text(end="")
        if r is None:
            text.append("没有待落实的批示", style="green")
        else:
            text.append(f"批示 #{r.id}  事件 #{r.incident_id} ", style="bold")
            text.append_text(safe(r.incident_title))
            text.append(f"\n{r.leader} 于 {local_time(r.given_at)} 批示，时限 {local_time(r.due_at)}\n")
            text.append_text(safe(r.text, oneline=False))
        self.query_one("#order", Static).update(text)

    def action_feedback(self) -> None:
        from tui.screens.forms import Field

        r = self.selected()
        if r is None:
            self.notify("没有待落实的批示", markup=False)
            return

        def after(result: dict | None) -> None:
            if result is None:
                return
            self.app.run_db(lambda f: f.instruction_done(r.id, result.get("text", "")), target=self,
                            done=f"已反馈批示 #{r.id}")

        self.app.show_form(f"反馈批示 #{r.id}（事件 #{r.incident_id}）",
                           [Field("text", "落实情况", placeholder="已落实的情况")], None, after)

    def palette_commands(self):
        from textual.app import SystemCommand

        yield SystemCommand("批示：反馈所选批示（f）", "填写所选批示的落实情况", self.action_feedback)

    def on_action_done(self, message: ActionDone) -> None:
        self.action_refresh()
