"""One incident: summary, live clock, linked items, releases, timeline, and every action (keys and palette)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tui.display import DisplayNames
from tui.facade import CHANNELS, DISMISS_STATES, RELEASE_KINDS, RELEASE_OWNER, SEVERITIES, VERIFICATIONS
from tui.messages import ActionDone, DeskFailed, Loaded
from tui.screens.forms import Field
from tui.text import clean, countdown_text, local_time, parse_local, safe
from tui.widgets.keyhelp import KeyHelp
from tui.widgets.table import LightTable
from tui.widgets.timeline import timeline_text

KIND_CHOICES = ("自动",) + tuple(RELEASE_KINDS.values())
_KIND_BY_LABEL = {v: k for k, v in RELEASE_KINDS.items()}
#: Export format label (what staff pick) -> format; the file's extension says it too.
EXPORT_FORMATS = {"公文文档（可编辑）": "docx", "网页": "html", "纯文本": "md", "表格": "csv", "结构化数据": "json"}
TOWN_PLACEHOLDER = "相关镇办"  # the routing's "the towns concerned": not a unit to assign
LINKED_COLUMNS = (("first", "", 2), ("id", "编号", 7), ("at", "发布时间", 11), ("source", "来源", 12),
                  ("title", "标题", 28), ("heat", "热度", 6))

#: (key, action, label, help) — the same list drives key bindings and the command palette.
ACTIONS = (
    ("a", "ack", "确认接报", "确认已接报此事件"),
    ("g", "grade", "定级", "调整事件级别（重新计算时限）"),
    ("u", "assign", "交办", "指定责任单位"),
    ("r", "release", "记录发布", "记录权威发布/动态/处置结果（渠道、链接、时间、内容）"),
    ("f", "followup", "跟进", "记录处置进展"),
    ("n", "note", "备注", "在时间线上添加备注"),
    ("v", "verify", "核实", "设置核实状态"),
    ("p", "proposal", "确认检测发布", "确认系统检测到的官方发布"),
    ("j", "reject", "驳回检测发布", "驳回系统检测到的发布（不是本事件的权威发布，须填理由）"),
    ("m", "merge", "合并", "把其他事件并入本事件"),
    ("s", "split", "拆分", "把部分关联信息移出，另立新事件"),
    ("c", "archive", "归档", "处置结果已发布或已结案后归档"),
    ("x", "dismiss", "结案", "标记为误报或不予处置（须填理由）"),
    ("e", "export", "导出", "导出处置报告（公文文档、网页、纯文本、表格）到本台导出目录"),
)


def _ids(value: str) -> list[int]:
    parts = [p for p in re.split(r"[\s,，、#]+", value or "") if p]
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"事件编号应为数字：{value!r}") from None


def _units(value: str) -> list[str]:
    return [p for p in re.split(r"[\s,，、;；]+", value or "") if p]


def summary_text(inc, clock=None, names: DisplayNames | None = None, *, details: bool = False) -> Text:
    """The incident's facts; ``details`` adds the matching internals (trigger, story ids, severity reasons)."""
    names = names or DisplayNames()
    t = Text(end="")
    t.append(f"#{inc.id} ", style="bold")
    t.append_text(safe(inc.title, "bold"))
    t.append(f"\n状态 {inc.state} │ 级别 {inc.severity} │ 核实 {inc.verification} │ 主题 {clean(inc.topic)}")
    towns = "、".join(clean(p.get("name", "")) for p in inc.towns) or "—"
    t.append(f"\n镇街 {towns} │ 首发 {local_time(inc.first_published)} │ 发现 {local_time(inc.detected_at)}")
    if clock is not None and clock.start_basis:
        t.append("\n")
        t.append_text(safe(f"计时起点 {clock.start_basis}"))
    units = "、".join(clean(u) for u in inc.assigned_units) or "未交办"
    t.append(f"\n交办单位 {units}")
    if inc.suggested_units:
        t.append(f" │ 建议 {'、'.join(clean(u) for u in inc.suggested_units)}")
    t.append(f" │ 接报 {local_time(inc.acknowledged_at) if inc.acknowledged_at else '未确认'}")
    if inc.dismiss_reason:
        t.append(f"\n结案理由 {clean(inc.dismiss_reason)}")
    if inc.merged_into:
        t.append(f"\n已并入事件 #{inc.merged_into}", style="bold yellow")
    if details:
        t.append("\n")
        t.append_text(safe(f"触发原因 {names.relabel(inc.trigger) or '—'}", "dim"))
        if inc.severity_reasons:
            t.append("\n")
            t.append_text(safe(f"定级依据 {'；'.join(inc.severity_reasons)}", "dim"))
        t.append("\n")
        t.append_text(safe(f"报道编号 {'、'.join(inc.story_ids) or '—'}", "dim"))
    return t


def instructions_text(d, now) -> Text:
    """The incident's leader instructions (领导批示): open and overdue ones marked, feedback shown."""
    t = Text(end="")
    for i in getattr(d, "instructions", ()):
        status = i.status(now)
        style = {"overdue": "bold red", "open": "bold yellow"}.get(status, "")
        t.append(f"领导批示 #{i.id} [{i.status_label(now)}] ", style=style)
        t.append_text(safe(d.actor_names.get(i.leader, i.leader)))
        t.append("：")
        t.append_text(safe(i.text, width=60))
        if i.due_at is not None:
            t.append(f"（时限 {local_time(i.due_at)}）")
        if i.done_at is not None:
            t.append(f"\n  反馈 {local_time(i.done_at)} ")
            t.append_text(safe(d.actor_names.get(i.done_by, i.done_by or ""), width=12))
            t.append("：")
            t.append_text(safe(i.feedback or "", width=60))
        t.append("\n")
    return t


class IncidentScreen(Screen):
    """One screen instance serves every incident: the app installs it once and calls :meth:`show_incident`
    before showing it, so opening an incident costs no compose/mount (see ``DeskApp.open_incident``)."""

    CSS_PATH = Path(__file__).with_name("incident.tcss")
    BINDINGS = [Binding("escape", "app.pop_screen", "返回", id="incident.back"),
                Binding("d", "details", "详情", id="incident.details")] + [
        Binding(key, action, label, id=f"incident.{action}", show=key in "argrfxe") for key, action, label, _ in ACTIONS]

    def __init__(self, incident_id: int | None = None) -> None:
        super().__init__()
        self.incident_id = int(incident_id or 0)
        self.detail = None
        self._row = None  # the board row the incident was opened from (painted before the detail arrives)
        self._loading: int | None = None  # the incident id being read, if any
        self.details = False  # the details view: matching internals, full timeline
        self._pending: str | None = None  # an action to run once the incident is read (from the board's palette)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="incident"):
            yield Static(Text("正在读取…"), id="summary")
            yield Static(Text(""), id="clock")
            yield Static(Text("关联信息（★ 首发）"), classes="section")
            yield LightTable(LINKED_COLUMNS, id="linked", empty="没有关联信息")
            yield Static(Text("发布记录"), classes="section")
            yield Static(Text("—"), id="releases")
            yield Static(Text("时间线"), id="timeline-title", classes="section")
            yield Static(Text(""), id="timeline")
        yield KeyHelp(tuple((k, label) for k, _, label, _ in ACTIONS) + (("d", "详情"), ("Esc", "返回")),
                      global_keys=False)

    def on_mount(self) -> None:
        self.set_interval(1.0, self.tick)
        self._paint(self.detail)
        if self.incident_id and self.detail is None and self._loading is None:
            self.load()  # pushed directly as IncidentScreen(id), not through DeskApp.open_incident

    def show_incident(self, incident_id: int, *, row=None, detail=None) -> None:
        """Switch to ``incident_id``: paint what is known now (a cached detail, else the board row), then read it."""
        if int(incident_id) != self.incident_id and self.details:  # each incident opens on its brief view
            self.details = False
            if self.is_mounted:
                self.query_one("#timeline-title", Static).update(Text("时间线"))
        self.incident_id = int(incident_id)
        self._row = row
        self.detail = detail if detail is not None and detail.incident.id == self.incident_id else None
        if self.is_mounted:
            self._paint(self.detail)
        self.load()

    def on_screen_resume(self) -> None:
        if self not in self.app.snapshot_listeners:
            self.app.snapshot_listeners.append(self)

    def on_screen_suspend(self) -> None:
        if self in self.app.snapshot_listeners:
            self.app.snapshot_listeners.remove(self)

    def on_unmount(self) -> None:
        self.on_screen_suspend()

    def load(self) -> None:
        iid = self.incident_id
        self._loading = iid
        self.app.run_db(lambda f: f.incident(iid), target=self, tag="incident")

    def show_snapshot(self, snap) -> None:
        """Each dashboard poll also re-reads this incident: other consoles and the daemon write too."""
        if self._loading is None and self.is_current:
            self.load()

    def show_error(self, text: str) -> None:
        pass  # the app's notice says it

    # ------------------------------------------------------------ rendering

    def on_loaded(self, message: Loaded) -> None:
        if message.tag != "incident":
            return
        message.stop()
        d = message.result
        if self._loading == d.incident.id:
            self._loading = None
        remember = getattr(self.app, "remember_incident", None)
        if remember is not None:
            remember(d)
        if d.incident.id != self.incident_id:
            return  # a late answer for the incident shown before
        old = self.detail
        self.detail = d
        self._run_pending()
        if old is not None and (old.incident, old.items, old.timeline, old.releases, old.proposals) == (
                d.incident, d.items, d.timeline, d.releases, d.proposals):
            return  # only the clock moved: tick() shows it
        self._paint(d)

    def _paint(self, d) -> None:
        """Show ``d`` (an IncidentDetail), or the placeholder frame (board row facts) while it is read."""
        table = self.query_one("#linked", LightTable)
        if d is None:
            table.clear()
            self.query_one("#summary", Static).update(self._placeholder())
            self.query_one("#releases", Static).update(Text("—"))
            self.query_one("#timeline", Static).update(Text("正在读取…", style="dim"))
            self.tick()
            return
        names = self.app.names.with_staff(d.actor_names)
        self.query_one("#summary", Static).update(summary_text(d.incident, d.clock, names, details=self.details))
        table.set_rows([(f"{i}", [Text("★", style="bold yellow") if it.first else Text(""),
                                  safe(it.item_id or "—", width=7), Text(local_time(it.published)),
                                  safe(it.source or "—", width=12), safe(it.title, width=28),
                                  Text("—" if it.heat is None else f"{it.heat:.0f}")])
                        for i, it in enumerate(self.linked_items())])
        rel = Text(end="")
        for r in sorted(d.releases, key=lambda r: r.released_at):
            rel.append(f"{local_time(r.released_at)} {r.kind_label} {r.channel} ", style="green")
            rel.append_text(safe(r.url or ""))
            rel.append(" ")
            rel.append_text(safe(r.text, width=60))
            rel.append("\n")
        for p in d.proposals:
            rel.append(f"待确认发布 #{p.id}", style="bold yellow")
            if self.details:
                rel.append(f"（置信度 {p.score:.2f}）", style="yellow")
            rel.append("：", style="bold yellow")
            rel.append_text(safe(p.evidence.get("item_title") or p.item_id, width=50))
            rel.append("  按 p 确认，j 驳回\n")
        rel.append_text(instructions_text(d, self.app.desk_clock()))
        self.query_one("#releases", Static).update(rel if rel.plain else Text("尚无发布记录"))
        self.query_one("#timeline", Static).update(timeline_text(d.timeline, names, details=self.details))
        self.tick()

    def linked_items(self) -> list:
        """The linked items as listed: by publication time (the first publisher first; undated last)."""
        from datetime import datetime, timezone

        latest = datetime.max.replace(tzinfo=timezone.utc)
        return sorted(self.detail.items if self.detail else (), key=lambda it: it.published or latest)

    def action_details(self) -> None:
        """Show or hide the matching internals (trigger, story ids, scores) and the full timeline."""
        self.details = not self.details
        self.query_one("#timeline-title", Static).update(Text("时间线（详情）" if self.details else "时间线"))
        self._paint(self.detail)

    def run_when_loaded(self, action: str) -> None:
        """Run ``action`` (an ACTIONS name) on this incident as soon as its detail is read."""
        self._pending = action
        self._run_pending()

    def _run_pending(self) -> None:
        action, d = self._pending, self.detail
        if action is None or d is None or d.incident.id != self.incident_id:
            return
        self._pending = None
        self.call_after_refresh(getattr(self, f"action_{action}"))

    def _placeholder(self) -> Text:
        r = self._row
        t = Text(end="")
        t.append(f"#{self.incident_id} ", style="bold")
        if r is None or r.id != self.incident_id:
            t.append("正在读取…", style="dim")
            return t
        t.append_text(safe(r.title, "bold"))
        t.append(f"\n状态 {r.state} │ 级别 {r.severity}")
        t.append("\n镇街 ")
        t.append_text(safe("、".join(r.towns) or "—"))
        t.append("\n责任单位 ")
        t.append_text(safe("、".join(r.units) or "—"))
        t.append("  正在读取详情…", style="dim")
        return t

    def tick(self) -> None:
        if self.detail is not None and self not in self.app.screen_stack:
            return  # installed but not shown: nothing to count down
        if self.detail is None:
            r = self._row
            if r is not None and r.id == self.incident_id:
                t = Text("发布时限 ", end="")
                t.append_text(countdown_text(r.due_at, self.app.desk_clock(), r.released_at))
                t.append(f"  截止 {local_time(r.due_at)}")
                self.query_one("#clock", Static).update(t)
            else:
                self.query_one("#clock", Static).update(Text(""))
            return
        inc, clock = self.detail.incident, self.detail.clock
        t = Text("发布时限 ", end="")
        if inc.is_open:
            t.append_text(countdown_text(clock.due_at, self.app.desk_clock(), inc.released_at))
        else:
            t.append(f"已结束（{inc.state}）", style="dim")
        t.append(f"  截止 {local_time(clock.due_at)}（{clock.tier}，{clock.hours:g} 小时）")
        if clock.released_at is not None:
            t.append("  按时发布" if clock.released_on_time else "  超时发布",
                     style="green" if clock.released_on_time else "bold red")
        self.query_one("#clock", Static).update(t)

    # ------------------------------------------------------------ forms and actions

    def ask(self, title: str, fields: list[Field], submit: Callable[[dict], tuple], values: dict | None = None) -> None:
        """Open a form; ``submit(values)`` returns (call(facade), done text). Errors reopen the form."""
        def after(result: dict | None) -> None:
            if result is None:
                return
            try:
                call, done = submit(result)
            except ValueError as exc:
                self.ask(title, fields, submit, result)  # first: the notice then shows in the form
                self.app.notify(str(exc), title="输入有误", severity="error", markup=False)
                return
            self.app.run_db(call, target=self, done=done, incident_id=self.incident_id,
                            retry=(title, fields, submit, result))

        self.app.show_form(title, fields, values, after)

    def act(self, call: Callable, done: str) -> None:
        self.app.run_db(call, target=self, done=done, incident_id=self.incident_id)

    def on_action_done(self, message: ActionDone) -> None:
        self.load()  # and let it bubble: the app shows the notice and polls

    def on_desk_failed(self, message: DeskFailed) -> None:
        if message.tag == "incident":
            self._loading = None
        if message.retry:
            title, fields, submit, values = message.retry
            message.stop()
            self.ask(title, fields, submit, values)  # first: the notice then shows in the form
            self.app.notify(message.text, title="操作未完成", severity="error", markup=False, timeout=8)

    def _inc(self):
        return self.detail.incident if self.detail else None

    def action_ack(self) -> None:
        iid = self.incident_id
        self.act(lambda f: f.acknowledge(iid), f"已确认接报：事件 #{iid}")

    def action_grade(self) -> None:
        iid, inc = self.incident_id, self._inc()
        self.ask("定级", [Field("severity", "级别", SEVERITIES, inc.severity if inc else "一般"),
                          Field("reason", "理由", placeholder="例如：涉及人员伤亡")],
                 lambda v: (lambda f: f.grade(iid, v["severity"], v["reason"].strip()), f"已定级为「{v['severity']}」"))

    def action_assign(self) -> None:
        """The form holds the whole list of assigned units (the routing's suggestion when none
        is assigned yet): what is submitted replaces it, so a unit is taken off by deleting it."""
        iid, inc = self.incident_id, self._inc()
        assigned = list(inc.assigned_units) if inc else []
        current = "、".join(assigned or (u for u in (inc.suggested_units if inc else ())
                                         if u not in (RELEASE_OWNER, TOWN_PLACEHOLDER)))

        def submit(v):
            units = _units(v["units"])
            if units:
                return (lambda f: f.assign(iid, units, replace=True)), f"已交办：{'、'.join(units)}"
            if assigned:
                return (lambda f: f.assign(iid, [], remove=assigned)), f"已撤销交办：{'、'.join(assigned)}"
            raise ValueError("请至少填写一个责任单位")
        self.ask("交办责任单位", [Field("units", "交办单位（地名录名称，用顿号或逗号分隔）", value=current)], submit)

    def action_release(self) -> None:
        iid = self.incident_id
        now = self.app.desk_clock()

        def submit(v):
            at = parse_local(v["at"], now=self.app.desk_clock())
            kind = _KIND_BY_LABEL.get(v["kind"])
            return ((lambda f: f.record_release(iid, channel=v["channel"], url=v["url"].strip(), at=at,
                                                text=v["text"].strip(), kind=kind)),
                    f"已记录发布：{v['channel']}")
        self.ask("记录发布", [
            Field("channel", "发布渠道", CHANNELS, CHANNELS[0]),
            Field("kind", "发布类型", KIND_CHOICES, "自动"),
            Field("url", "链接", placeholder="https://..."),
            Field("at", "发布时间（北京时间）", value=local_time(now, "%Y-%m-%d %H:%M")),
            Field("text", "内容摘要"),
        ], submit)

    def action_followup(self) -> None:
        iid = self.incident_id
        self.ask("记录跟进", [Field("text", "处置进展")],
                 lambda v: ((lambda f: f.followup(iid, v["text"])), "已记录跟进"))

    def action_note(self) -> None:
        iid = self.incident_id
        self.ask("添加备注", [Field("text", "备注")], lambda v: ((lambda f: f.note(iid, v["text"])), "已添加备注"))

    def action_verify(self) -> None:
        iid, inc = self.incident_id, self._inc()
        self.ask("核实状态", [Field("status", "核实状态", VERIFICATIONS, inc.verification if inc else VERIFICATIONS[0]),
                              Field("note", "说明")],
                 lambda v: ((lambda f: f.set_verification(iid, v["status"], v["note"].strip())),
                            f"核实状态：{v['status']}"))

    def _proposal_choices(self) -> dict | None:
        """Label -> pending proposal of this incident; None (and a notice) when there is none."""
        props = self.detail.proposals if self.detail else ()
        if not props:
            self.notify("此事件没有待确认的检测发布", severity="warning")
            return None
        return {f"#{p.id} {clean(p.evidence.get('item_title') or p.item_id)[:30]}": p for p in props}

    def action_proposal(self) -> None:
        by_label = self._proposal_choices()
        if by_label is None:
            return
        labels = tuple(by_label)
        self.ask("确认检测到的发布", [Field("proposal", "检测结果", labels, labels[0])],
                 lambda v: ((lambda f: f.confirm_proposal(by_label[v["proposal"]].id)), "已确认发布"))

    def action_reject(self) -> None:
        by_label = self._proposal_choices()
        if by_label is None:
            return
        labels = tuple(by_label)

        def submit(v):
            reason = v["reason"].strip()
            if not reason:
                raise ValueError("请填写驳回理由")
            pid = by_label[v["proposal"]].id
            return (lambda f: f.reject_proposal(pid, reason)), f"已驳回检测发布 #{pid}"
        self.ask("驳回检测到的发布", [Field("proposal", "检测结果", labels, labels[0]),
                                    Field("reason", "驳回理由（必填）", placeholder="例如：只是转载，不是本区的权威发布")],
                 submit)

    def action_split(self) -> None:
        iid = self.incident_id
        linked = [it.item_id for it in self.linked_items() if it.item_id]
        if len(linked) < 2:
            self.notify("此事件的关联信息少于 2 条，无法拆分", severity="warning")
            return
        table = self.query_one("#linked", LightTable)
        row = table.cursor_row
        picked = linked[row] if 0 <= row < len(linked) else ""
        shown = "、".join(clean(i) for i in linked[:12]) + ("…" if len(linked) > 12 else "")

        def submit(v):
            ids = [p for p in re.split(r"[\s,，、#]+", v["items"] or "") if p]
            if not ids:
                raise ValueError("请填写要移出的信息编号")
            unknown = [i for i in ids if i not in linked]
            if unknown:
                raise ValueError(f"信息 {'、'.join(unknown)} 不属于事件 #{iid}")
            if len(set(ids)) >= len(set(linked)):
                raise ValueError("不能移出全部关联信息（整个事件不属实请用 x 结案）")
            title = v["title"].strip()
            return ((lambda f: f.split(iid, ids, title or None)),
                    lambda new: f"已拆分：信息 {'、'.join(ids)} 移入新事件 #{new.id}")
        self.ask(f"拆分事件 #{iid}", [
            Field("items", f"要移出的信息编号（逗号分隔；本事件：{shown}）", value=picked),
            Field("title", "新事件标题（留空则沿用原标题加「拆分」）"),
        ], submit)

    def action_merge(self) -> None:
        iid = self.incident_id

        def submit(v):
            others = [i for i in _ids(v["others"]) if i != iid]
            if not others:
                raise ValueError("请填写要并入的事件编号")
            return (lambda f: f.merge(iid, others)), f"已合并事件 {'、'.join('#' + str(o) for o in others)} 到 #{iid}"
        self.ask(f"合并到事件 #{iid}", [Field("others", "要并入的事件编号（逗号分隔）", placeholder="例如 12, 15")], submit)

    def action_archive(self) -> None:
        iid = self.incident_id
        self.act(lambda f: f.close_incident(iid), f"事件 #{iid} 已归档")

    def action_dismiss(self) -> None:
        iid = self.incident_id
        self.ask("结案（误报/不予处置）", [Field("state", "结案类型", DISMISS_STATES, DISMISS_STATES[-1]),
                                         Field("reason", "理由（必填）")],
                 lambda v: ((lambda f: f.dismiss(iid, v["reason"], v["state"])), f"已标记为「{v['state']}」"))

    def action_export(self) -> None:
        iid = self.incident_id
        labels = tuple(EXPORT_FORMATS)
        self.ask("导出报告", [Field("fmt", "格式", labels, labels[0])],
                 lambda v: ((lambda f: f.export(iid, EXPORT_FORMATS[v["fmt"]])), lambda path: f"已导出：{path}"))

    def palette_commands(self):
        for key, action, label, help_text in ACTIONS:
            yield SystemCommand(f"事件 #{self.incident_id}：{label}（{key}）", help_text,
                                getattr(self, f"action_{action}"))
        yield SystemCommand(f"事件 #{self.incident_id}：{'收起详情' if self.details else '详情'}（d）",
                            "显示或收起触发原因、报道编号、检测置信度和完整时间线", self.action_details)
        yield SystemCommand("返回值班台（Esc）", "关闭事件页", self.app.pop_screen)
