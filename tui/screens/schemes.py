"""Monitoring schemes: list them, edit an expression, preview its hits on recent items, then save.

Schemes are listed by their Chinese label (``label`` in schemes.toml); the name typed or shown in
the name box is the label, saved under the scheme's own key. Expressions are shown with the
operators as symbols (+ 且, | 或, - 排除), which the language reads like AND / OR / NOT.
"""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Static

from tui.facade import symbolic
from tui.widgets.keyhelp import KeyHelp
from tui.widgets.notice import NoticeLine
from tui.messages import ActionDone, Loaded
from tui.text import safe
from tui.widgets.table import LightTable

SCHEME_COLUMNS = (("name", "名称", 16), ("alert", "告警", 4), ("desc", "说明", 44))
HIT_COLUMNS = (("id", "编号", 7), ("title", "标题", 36), ("why", "命中说明", 30))
EXPR_HINT = "表达式，如 (汉台 | 汉中) + (污染 | 排污) - 演练（|或 +且 -排除）"
HELP = "回车选中方案；Ctrl+R 预览最近 500 条信息中的命中；Ctrl+S 保存"


class SchemesScreen(Screen):
    CSS_PATH = Path(__file__).with_name("schemes.tcss")
    AUTO_FOCUS = "#schemes"
    BINDINGS = [
        Binding("ctrl+r", "preview", "预览命中", id="schemes.preview", priority=True),
        Binding("ctrl+s", "save", "保存", id="schemes.save", priority=True),
        Binding("escape", "focus_list", "方案列表", id="schemes.list"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.schemes: dict[str, dict] = {}
        self.previewed: tuple[str, str] | None = None
        self.editing: str | None = None  # the key of the scheme chosen from the list

    def show_notice(self, message: str, **kw) -> None:
        """Notices go to the page's notice line: a toast would cover its input boxes."""
        self.query_one("#notice", NoticeLine).show_notice(message, **kw)

    def compose(self) -> ComposeResult:
        yield Static(Text("监测方案"), id="schemes-title", classes="section")
        yield LightTable(SCHEME_COLUMNS, id="schemes", flex="desc", min_flex=16, empty="方案文件中还没有方案")
        yield Input(placeholder="方案名称", id="name")
        yield Input(placeholder=EXPR_HINT, id="expr")
        yield Static(Text(HELP), id="preview-title", classes="section")
        yield LightTable(HIT_COLUMNS, id="hits", flex="title", min_flex=16, empty="尚未预览，或最近的信息中没有命中")
        yield NoticeLine(id="notice")
        yield KeyHelp((("回车", "编辑"), ("^R", "预览"), ("^S", "保存"), ("Esc", "列表")))

    def on_mount(self) -> None:
        self.load()

    def load(self) -> None:
        self.app.run_db(lambda f: (f.schemes(), f.own_schemes()), target=self,
                        tag="schemes")

    def on_loaded(self, message: Loaded) -> None:
        if message.tag == "schemes":
            message.stop()
            self.schemes, own = message.result
            self.query_one("#schemes", LightTable).set_rows([
                (name, [safe(self.label(name)), Text("是" if spec.get("alert") else ""),
                        safe(spec.get("description", ""))]) for name, spec in self.schemes.items()])
            mine = "本机方案文件" if self.app.on_server else "本台方案文件"  # a server desk: this workstation's file
            where = mine if own else f"默认方案，保存后写入{mine}"
            self.query_one("#schemes-title", Static).update(Text(f"监测方案 {len(self.schemes)} 个（{where}）"))
        elif message.tag == "preview":
            message.stop()
            p = message.result
            h = self.query_one("#hits", LightTable)
            title = self.query_one("#preview-title", Static)
            if not p.ok:
                h.clear()
                title.update(safe(f"表达式有误：{p.error}", "bold red"))
                return
            h.set_rows([(str(i), [Text(str(iid)), safe(t), safe(why, width=30)])
                        for i, (iid, t, why) in enumerate(p.hits[:300])])
            title.update(Text(f"预览：最近 {p.checked} 条中命中 {len(p.hits)} 条（Ctrl+S 保存）"))

    def on_light_table_selected(self, event: LightTable.Selected) -> None:
        if event.table.id == "schemes":
            name = self.editing = event.key
            self.query_one("#name", Input).value = self.label(name)
            self.query_one("#expr", Input).value = symbolic(self.schemes.get(name, {}).get("expr", ""))
            self.query_one("#expr", Input).focus()

    def label(self, name: str) -> str:
        """A scheme's label (schemes.toml ``label``), else its key."""
        spec = self.schemes.get(name) or {}
        label = spec.get("label")
        return label.strip() if isinstance(label, str) and label.strip() else name

    def scheme_key(self, typed: str) -> str:
        """The key to save under: the chosen scheme's when its label (or key) is typed, else another
        scheme's with that label, else the typed name itself (a new scheme)."""
        if self.editing is not None and typed in (self.editing, self.label(self.editing)):
            return self.editing
        for name in self.schemes:
            if typed in (name, self.label(name)):
                return name
        return typed

    def action_focus_list(self) -> None:
        self.query_one("#schemes", LightTable).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_preview()

    def action_preview(self) -> None:
        name, expr = self.query_one("#name", Input).value.strip(), self.query_one("#expr", Input).value
        self.previewed = (name, expr)
        self.app.run_db(lambda f: f.preview_scheme(name, expr), target=self, tag="preview")

    def action_save(self) -> None:
        typed, expr = self.query_one("#name", Input).value.strip(), self.query_one("#expr", Input).value
        if self.previewed != (typed, expr):
            self.notify("请先预览（Ctrl+R）确认命中情况再保存", severity="warning")
            return
        key = self.scheme_key(typed)
        done = f"已保存方案「{typed}」到本台方案文件（守护进程重启后生效）"
        if self.app.on_server:  # the daemon reads the schemes file of the machine it runs on
            done = f"已保存方案「{typed}」到本机方案文件；守护进程读取它所在机器上的方案文件，请在那台机器上同样修改并重启守护进程"
        self.app.run_db(lambda f: f.save_scheme(key, expr), target=self, done=done)

    def unsaved(self) -> str | None:
        """The edited expression when it differs from the saved one (quitting would lose it)."""
        if not self.is_mounted:
            return None
        typed, expr = self.query_one("#name", Input).value.strip(), self.query_one("#expr", Input).value
        if not expr.strip():
            return None
        saved = (self.schemes.get(self.scheme_key(typed)) or {}).get("expr", "")
        return None if symbolic(expr) == symbolic(saved) else "方案表达式的修改"

    def on_action_done(self, message: ActionDone) -> None:
        self.load()
