"""The 值班 page: the shift on duty (值班员, 带班领导, until when), the next shift, roster gaps ahead
(warned in red) and the handover's counts, with `a` to accept the handover as this console's staff member."""
from __future__ import annotations


from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.screens.refreshing import RefreshingScreen
from tui.messages import ActionDone, Loaded
from tui.text import local_time
from tui.widgets.keyhelp import KeyHelp

#: gaps listed on the page; more are counted
GAPS_SHOWN = 5


def shift_line(label: str, s, *, until: bool) -> Text:
    t = Text(end="")
    t.append(f"{label}：", style="bold")
    if s is None:
        t.append("无排班", style="bold red")
        return t
    t.append(f"{s.name}  值班员 ")
    t.append(s.officer, style="bold")
    t.append("  带班领导 ")
    t.append(s.leader, style="bold")
    t.append(f"  至 {local_time(s.ends_at)}" if until else f"  {local_time(s.starts_at)} 至 {local_time(s.ends_at)}")
    return t


def duty_text(v) -> Text:
    t = Text(end="")
    if not v.has_roster:
        t.append("尚无值班表：请用 yuqing roster import 或 yuqing roster generate 排班\n", style="bold red")
    t.append_text(shift_line("当前值班", v.on_duty, until=True))
    t.append("\n")
    t.append_text(shift_line("下一班", v.next_shift, until=False))
    t.append("\n")
    if v.gaps:
        t.append(f"⚠ 未来 {v.gap_hours} 小时内有 {len(v.gaps)} 段无人值班：\n", style="bold red")
        for start, end in v.gaps[:GAPS_SHOWN]:
            t.append(f"  {local_time(start)} 至 {local_time(end)}"
                     f"（{(end - start).total_seconds() / 3600:g} 小时）\n", style="red")
        if len(v.gaps) > GAPS_SHOWN:
            t.append(f"  另有 {len(v.gaps) - GAPS_SHOWN} 段\n", style="red")
    elif v.has_roster:
        t.append(f"未来 {v.gap_hours} 小时排班完整\n", style="green")
    return t


def handover_text(v) -> Text:
    t = Text(end="")
    t.append(f"本班自 {local_time(v.since)}", style="bold")
    if v.last_accepted is not None:
        t.append(f"  上次接班 {local_time(v.last_accepted[0])}（{v.last_accepted[1]}）")
    t.append("\n")
    for label, n in (("在办事件", v.open_incidents), ("未确认告警", v.unacked_alerts),
                     ("待落实批示", v.open_instructions), ("待确认发布", v.pending_proposals),
                     ("异常信源", v.failing_sources)):
        t.append(f"{label} ")
        t.append(str(n), style="bold yellow" if n else "green")
        t.append("  ")
    return t


class DutyScreen(RefreshingScreen):
    TAG = "duty"
    REFRESH_SECONDS = 10.0
    BINDINGS = [Binding("a", "accept", "接班", id="duty.accept"),
                Binding("f5", "refresh", "刷新", id="duty.refresh")]

    def __init__(self) -> None:
        super().__init__()
        self.view = None

    def compose(self) -> ComposeResult:
        yield Static(Text("值班"), id="duty-title", classes="section")
        with VerticalScroll(id="duty-box"):
            yield Static(Text("正在读取值班表……"), id="duty")
            yield Static(Text("交接班"), classes="section")
            yield Static(Text(""), id="handover")
        yield KeyHelp((("a", "接班"), ("F5", "刷新")))

    def load(self, f):
        return f.duty(gap_hours=self.app.gap_hours)

    def on_loaded(self, message: Loaded) -> None:
        if message.tag != "duty":
            return
        message.stop()
        v = self.view = message.result
        self.query_one("#duty-title", Static).update(Text(f"值班（{local_time(v.now)}）"))
        self.query_one("#duty", Static).update(duty_text(v))
        self.query_one("#handover", Static).update(handover_text(v))

    def action_accept(self) -> None:
        if self.app.write_refusal:
            self.notify(self.app.write_refusal, title="只读：不能操作", severity="warning", markup=False, timeout=8)
            return
        self.app.run_db(lambda f: f.accept_handover(), target=self,
                        done=lambda ev: f"已接班（交接指纹 {ev.payload['digest']}）")

    def palette_commands(self):
        from textual.app import SystemCommand

        yield SystemCommand("值班：接班（a）", "以本台操作人身份接受交接班", self.action_accept)

    def on_action_done(self, message: ActionDone) -> None:
        self.action_refresh()  # and let it bubble: the app shows the notice and polls
