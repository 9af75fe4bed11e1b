"""Monitoring schemes: list them, edit an expression, preview its hits on recent items, then save."""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Static

from tui.widgets.keyhelp import KeyHelp
from tui.messages import ActionDone, Loaded
from tui.text import safe
from tui.widgets.table import LightTable

SCHEME_COLUMNS = (("name", "名称", 24), ("alert", "告警", 4), ("desc", "说明", 44))
HIT_COLUMNS = (("id", "#", 7), ("title", "标题", 36), ("why", "命中说明", 30))


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

    def compose(self) -> ComposeResult:
        yield Static(Text("监测方案"), id="schemes-title", classes="section")
        yield LightTable(SCHEME_COLUMNS, id="schemes")
        yield Input(placeholder="方案名", id="name")
        yield Input(placeholder="表达式，例如 (汉台 OR 汉中) AND (污染 OR 排污) NOT 演练", id="expr")
        yield Static(Text("回车选中方案；Ctrl+R 预览最近 500 条信息中的命中；Ctrl+S 保存到 schemes.toml"),
                     id="preview-title", classes="section")
        yield LightTable(HIT_COLUMNS, id="hits")
        yield KeyHelp((("Enter", "编辑"), ("^R", "预览"), ("^S", "保存"), ("Esc", "列表")))

    def on_mount(self) -> None:
        self.load()

    def load(self) -> None:
        self.app.run_db(lambda f: (f.schemes(), f.schemes_path()), target=self, tag="schemes")

    def on_loaded(self, message: Loaded) -> None:
        if message.tag == "schemes":
            message.stop()
            self.schemes, path = message.result
            self.query_one("#schemes", LightTable).set_rows([
                (name, [safe(name, width=24), Text("是" if spec.get("alert") else ""),
                        safe(spec.get("description", ""), width=44)]) for name, spec in self.schemes.items()])
            self.query_one("#schemes-title", Static).update(Text(f"监测方案（{path}）"))
        elif message.tag == "preview":
            message.stop()
            p = message.result
            h = self.query_one("#hits", LightTable)
            title = self.query_one("#preview-title", Static)
            if not p.ok:
                h.clear()
                title.update(safe(f"表达式有误：{p.error}", "bold red"))
                return
            h.set_rows([(str(i), [Text(str(iid)), safe(t, width=36), safe(why, width=30)])
                        for i, (iid, t, why) in enumerate(p.hits[:300])])
            title.update(Text(f"预览：最近 {p.checked} 条中命中 {len(p.hits)} 条（Ctrl+S 保存）"))

    def on_light_table_selected(self, event: LightTable.Selected) -> None:
        if event.table.id == "schemes":
            name = event.key
            self.query_one("#name", Input).value = name
            self.query_one("#expr", Input).value = self.schemes.get(name, {}).get("expr", "")
            self.query_one("#expr", Input).focus()

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
        name, expr = self.query_one("#name", Input).value.strip(), self.query_one("#expr", Input).value
        if self.previewed != (name, expr):
            self.notify("请先预览（Ctrl+R）确认命中情况再保存", severity="warning")
            return
        self.app.run_db(lambda f: f.save_scheme(name, expr), target=self,
                        done=lambda path: f"已保存方案「{name}」到 {path}（守护进程重启后生效）")

    def on_action_done(self, message: ActionDone) -> None:
        self.load()
