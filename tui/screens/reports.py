"""Reports: items per hour, heat of the top stories, the on-time league table (charts in text)."""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tui.widgets.keyhelp import KeyHelp
from tui.messages import Loaded
from tui.text import clean, local_time
from tui.widgets.charts import hbars, sparkline


def per_hour_text(per_hour) -> Text:
    counts = [n for _, n in per_hour]
    t = Text(end="")
    t.append(f"近 {len(counts)} 小时信息量（合计 {sum(counts)}，峰值 {max(counts, default=0)}）\n", style="bold")
    t.append(sparkline(counts), style="cyan")
    if per_hour:
        t.append(f"\n{local_time(per_hour[0][0], '%H:%M')}" + " " * max(1, len(counts) - 10)
                 + local_time(per_hour[-1][0], "%H:%M"))
    return t


def league_text(rows) -> Text:
    t = Text("按时排行（发布责任单位按发布时限，交办单位按交办反馈；仅路由建议的单位不计）\n", style="bold", end="")
    if not rows:
        t.append("暂无事件", style="dim")
        return t
    for r in rows[:15]:
        rate = "—" if r.rate is None else f"{r.rate:.0%}"
        name = Text(clean(r.name), end="")
        name.truncate(16)
        name.pad_right(16 - name.cell_len)
        t.append_text(name)
        t.append(f" 按时率 {rate:>4}  事件 {r.incidents:>3}  按时 {r.on_time:>3}  超时 {r.late + r.overdue_open:>3}"
                 f"  待完成 {r.pending:>3}\n")
    return t


class ReportsScreen(Screen):
    CSS_PATH = Path(__file__).with_name("reports.tcss")
    BINDINGS = [Binding("f5", "refresh", "刷新", id="reports.refresh")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="report"):
            yield Static(Text("正在统计…"), id="per-hour")
            yield Static(Text(""), id="stories")
            yield Static(Text(""), id="league")
        yield KeyHelp((("F5", "刷新"),))

    def on_mount(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self.app.run_db(lambda f: f.report(), target=self, tag="report")

    def on_loaded(self, message: Loaded) -> None:
        if message.tag != "report":
            return
        message.stop()
        rep = message.result
        self.query_one("#per-hour", Static).update(per_hour_text(rep.per_hour))
        stories = Text("热度最高的报道\n", style="bold", end="")
        if rep.top_stories:
            stories.append_text(hbars([(f"{label}（{size}条）", heat) for label, heat, size in rep.top_stories],
                                      label_width=30, bar_width=30))
        else:
            stories.append("暂无报道", style="dim")
        self.query_one("#stories", Static).update(stories)
        self.query_one("#league", Static).update(league_text(rep.league))
