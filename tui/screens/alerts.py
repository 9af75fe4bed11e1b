"""The 告警 page: alerts waiting for a person's acknowledgement, oldest first, with `k` to
acknowledge the selected one (its escalation stops)."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from tui.screens.refreshing import RefreshingScreen
from tui.messages import ActionDone, Loaded
from tui.text import local_time, safe
from tui.widgets.keyhelp import KeyHelp
from tui.widgets.table import LightTable

COLUMNS = (("sent", "发出时间", 11), ("severity", "级别", 8), ("step", "升级", 4), ("incident", "事件", 6),
           ("title", "告警内容", 36))


class AlertsScreen(RefreshingScreen):
    TAG = "alerts"
    REFRESH_SECONDS = 5.0
    BINDINGS = [Binding("k", "ack", "确认告警", id="alerts.ack"),
                Binding("f5", "refresh", "刷新", id="alerts.refresh")]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list = []

    def compose(self) -> ComposeResult:
        yield Static(Text("待确认告警"), id="alerts-title", classes="section")
        yield LightTable(COLUMNS, id="alerts", zebra_stripes=True)
        yield KeyHelp((("k", "确认告警"), ("F5", "刷新")))

    def load(self, f):
        return f.open_alerts()

    def on_loaded(self, message: Loaded) -> None:
        if message.tag != "alerts":
            return
        message.stop()
        self.rows = list(message.result)
        self.query_one("#alerts-title", Static).update(
            Text(f"待确认告警：{len(self.rows)} 条" if self.rows else "待确认告警：无"))
        self.query_one("#alerts", LightTable).set_rows([
            (r.id, [Text(local_time(r.sent_at or r.created_at)), safe(r.severity, "bold", width=8),
                    Text(f"{r.step}次" if r.step else "—", style="bold red" if r.step else ""),
                    Text(f"#{r.incident_id}" if r.incident_id is not None else "—"), safe(r.title, width=36)])
            for r in self.rows])

    def selected(self):
        i = self.query_one("#alerts", LightTable).cursor_row
        return self.rows[i] if 0 <= i < len(self.rows) else None

    def action_ack(self) -> None:
        if self.app.write_refusal:
            self.notify(self.app.write_refusal, title="只读：不能操作", severity="warning", markup=False, timeout=8)
            return
        r = self.selected()
        if r is None:
            self.notify("没有待确认的告警", markup=False)
            return
        self.app.run_db(lambda f: f.ack_alert(r.id), target=self, done=lambda n: f"已确认告警 {n} 条")

    def palette_commands(self):
        from textual.app import SystemCommand

        yield SystemCommand("告警：确认所选告警（k）", "确认后停止升级", self.action_ack)

    def on_action_done(self, message: ActionDone) -> None:
        self.action_refresh()
