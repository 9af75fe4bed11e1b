"""The home screen: the incident board with ticking countdowns, the flagged-item stream, the status line."""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from tui.widgets.keyhelp import KeyHelp
from tui.messages import ActionDone
from tui.text import clean, countdown_status, local_time, safe
from tui.widgets.board import IncidentBoard
from tui.widgets.stream import ItemStream
from tui.widgets.table import LightTable

BANNER = "⚠ 采集守护进程未运行：超过 3 个采集周期没有检查任何信源（请在终端执行 yuqing run 启动）"


def status_text(status, now) -> Text:
    t = Text(no_wrap=True, end="")
    t.append("信源 ")
    t.append(f"{status.sources_ok}正常", style="green")
    if status.sources_failing:
        t.append(f" {status.sources_failing}异常", style="bold red")
    if status.sources_silent:
        t.append(f" {status.sources_silent}沉默", style="yellow")
    t.append(f" │ 今日 {status.items_today} 条 │ ")
    t.append(f"待确认 {status.alerts_waiting}", style="bold yellow" if status.alerts_waiting else "")
    if status.alert_channels_failing:  # before the time: on a narrow screen the end is cut
        failing = status.alert_channels_failing
        names = clean(failing[0]) if len(failing) == 1 else f"{clean(failing[0])} 等 {len(failing)} 个"
        t.append(" │ ")
        t.append(f"告警渠道故障：{names}", style="bold white on red")
    t.append(" │ " + local_time(now, "%m-%d %H:%M:%S"))
    if not status.daemon_alive:
        t.append(" │ 守护进程离线", style="bold white on red")
    if status.operator:
        t.append(" │ 操作人 ")
        t.append_text(safe(status.operator))
    return t


class DashboardScreen(Screen):
    CSS_PATH = Path(__file__).with_name("dashboard.tcss")
    BINDINGS = [
        Binding("a", "ack", "确认接报", id="dashboard.ack"),
        Binding("k", "ack_alerts", "确认告警", id="dashboard.ack_alerts"),
        Binding("o", "open", "打开事件", id="dashboard.open"),
        Binding("f5", "refresh", "刷新", id="dashboard.refresh"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(Text(BANNER), id="banner")
        yield Static(Text("未结事件（按剩余时间排序）"), id="board-title", classes="section")
        yield IncidentBoard(id="board")
        yield Static(Text("预警信息流"), classes="section")
        yield ItemStream(id="stream")
        yield Static(Text("正在读取数据库…"), id="status")
        yield KeyHelp((("回车", "打开"), ("a", "确认接报"), ("k", "确认告警"), ("Tab", "信息流"), ("F5", "刷新")))

    _statuses: dict[int, str] | None = None

    def on_mount(self) -> None:
        self.app.snapshot_listeners.append(self)
        self.query_one("#banner").display = False
        if self.app.snapshot is not None:
            self.show_snapshot(self.app.snapshot)
        self.set_interval(1.0, self.tick)

    def on_unmount(self) -> None:
        if self in self.app.snapshot_listeners:
            self.app.snapshot_listeners.remove(self)

    def show_snapshot(self, snap) -> None:
        now = self.app.desk_clock()
        board = self.query_one(IncidentBoard)
        first = not board.rows_data
        board.show(snap.board, now)
        if first and board.selected_id() is not None:
            self.app.prefetch_incident(board.selected_id())
        self._clock_alerts(snap.board, now)
        self.query_one(ItemStream).show(snap.stream, self.app.names)
        shown = len(snap.board)
        title = f"未结事件 {snap.open_total} 起（按剩余时间排序）"
        if shown < snap.open_total:
            title += f"，显示前 {shown} 起"
        orders = sum(r.instructions_open for r in snap.board)
        if orders:
            late = sum(r.instructions_overdue for r in snap.board)
            title += f" · 批示待落实 {orders} 件" + (f"（超期 {late} 件）" if late else "")
        self.query_one("#board-title", Static).update(Text(title))
        self.query_one("#banner").display = not snap.status.daemon_alive
        self.query_one("#status", Static).update(status_text(snap.status, now))

    def show_error(self, text: str) -> None:
        """The last poll failed: say so on the status line (the board keeps its last data and ticks on)."""
        self.query_one("#status", Static).update(Text(f"⚠ {text}（自动重试中）", style="bold white on red"))

    def tick(self) -> None:
        now = self.app.desk_clock()
        board = self.query_one(IncidentBoard)
        board.tick(now)
        self._clock_alerts(board.rows_data, now)
        if self.app.snapshot is not None and self.app.poll_error is None:
            self.query_one("#status", Static).update(status_text(self.app.snapshot.status, now))

    def _clock_alerts(self, rows, now) -> None:
        """A notice and the bell when an incident's countdown turns urgent (< 4 h) or overdue."""
        statuses = {r.id: countdown_status(r.due_at, now, r.released_at) for r in rows}
        if self._statuses is not None:
            texts = []
            for r in rows:
                before, after = self._statuses.get(r.id), statuses[r.id]
                if before is not None and before != after and after in ("urgent", "overdue"):
                    what = "已超过发布时限" if after == "overdue" else "距发布时限不足 4 小时"
                    texts.append(f"事件 #{r.id} {what}：{clean(r.title)}")
            if texts:
                self.app.alert_log.extend((now, t) for t in texts)
                for text in texts[:4]:
                    self.app.notify(text, title="时限提醒", severity="error", markup=False, timeout=20)
                self.app.bell()
        self._statuses = statuses

    def _open(self, incident_id: int | None) -> None:
        if incident_id is None:
            return
        board = self.query_one(IncidentBoard)
        row = next((r for r in board.rows_data if r.id == incident_id), None)
        self.app.open_incident(incident_id, row)

    def on_light_table_selected(self, event: LightTable.Selected) -> None:
        if event.table.id == "board":
            self._open(int(event.key))
        elif event.table.id == "stream":
            from tui.screens.items import ItemDetailScreen

            self.app.push_screen(ItemDetailScreen(int(event.key)))

    def on_light_table_highlighted(self, event: LightTable.Highlighted) -> None:
        """The board's cursor moved: read that incident's detail ahead in a worker, so Enter shows it at once."""
        if event.table.id == "board":
            self.app.prefetch_incident(int(event.key))

    def action_open(self) -> None:
        self._open(self.query_one(IncidentBoard).selected_id())

    def action_ack(self) -> None:
        iid = self.query_one(IncidentBoard).selected_id()
        if iid is None:
            self.notify("没有选中的事件", severity="warning")
            return
        self.app.run_db(lambda f: f.acknowledge(iid), target=self, done=f"已确认接报：事件 #{iid}", incident_id=iid)

    def action_ack_alerts(self) -> None:
        iid = self.query_one(IncidentBoard).selected_id()
        if iid is None:
            self.notify("没有选中的事件", severity="warning")
            return
        self.app.run_db(lambda f: f.ack_alerts(iid), target=self, incident_id=iid,
                        done=lambda n: f"已确认事件 #{iid} 的 {n} 条告警，升级已停止" if n else f"事件 #{iid} 没有待确认的告警")

    def action_refresh(self) -> None:
        self.app.poll()

    def palette_commands(self):
        """The selected incident's actions (it opens, then the action runs), then one 打开 per incident."""
        from textual.app import SystemCommand

        from tui.screens.incident import ACTIONS

        board = self.query_one(IncidentBoard)
        row = board.selected_row()
        if row is not None:
            title = clean(row.title)[:16]
            yield SystemCommand(f"打开事件 #{row.id}（回车）", f"{title}：查看详情、时间线和发布记录",
                                lambda: self._open(row.id))
            yield SystemCommand(f"事件 #{row.id}：确认告警（k）", f"{title}：确认此事件待确认的告警，停止升级",
                                self.action_ack_alerts)
            for key, action, label, help_text in ACTIONS:
                yield SystemCommand(f"事件 #{row.id}：{label}（{key}）", f"{title}：{help_text}",
                                    lambda action=action: self.app.incident_action(row.id, action, row))
        for other in board.rows_data[:30]:
            if row is None or other.id != row.id:
                yield SystemCommand(f"打开事件 #{other.id}", clean(other.title)[:30],
                                    lambda other=other: self._open(other.id))

    def on_action_done(self, message: ActionDone) -> None:
        pass  # bubbles to the app: notice + poll
