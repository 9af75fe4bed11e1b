"""Modal forms: one generic form (inputs and choices) used for every incident action."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    options: tuple[str, ...] | None = None  # a choice instead of free text
    value: str = ""
    placeholder: str = ""


class FormScreen(ModalScreen[dict | None]):
    """Returns {key: value} on 保存 (Ctrl+S or Enter in the last field), None on 取消 (Esc)."""

    CSS_PATH = Path(__file__).with_name("forms.tcss")
    AUTO_FOCUS = "#f0"
    #: A modal screen hides the app's own keys: q (on a button or choice; in a field it is text) asks to quit here.
    BINDINGS = [("escape", "cancel", "取消"), ("ctrl+s", "submit", "保存"),
                Binding("q", "app.request_quit", "退出", show=False)]

    def __init__(self, title: str, fields: list[Field], values: dict | None = None) -> None:
        super().__init__()
        self.form_title = title
        self.fields = fields
        self.values = values or {}
        self._notice: Text | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form"):
            yield Label(Text(self.form_title, style="bold"), id="form-title")
            for i, f in enumerate(self.fields):
                yield Label(Text(f.label))
                value = str(self.values.get(f.key, f.value) or "")
                if f.options:
                    yield Select([(o, o) for o in f.options], value=value if value in f.options else f.options[0],
                                 allow_blank=False, id=f"f{i}", compact=True)
                else:
                    yield Input(value=value, placeholder=f.placeholder, id=f"f{i}", compact=True)
            with Horizontal(id="form-buttons"):
                yield Button("保存 Ctrl+S", id="ok", variant="primary", compact=True)
                yield Button("取消 Esc", id="cancel", compact=True)
            yield Static(Text(""), id="form-notice")

    def reset(self, values: dict | None) -> None:
        """Show the form again (it is installed and reused): initial or given values, focus on the first field."""
        self.values = values or {}
        self._notice = None
        if not self.is_mounted:
            return
        for i, f in enumerate(self.fields):
            w = self.query_one(f"#f{i}")
            value = str(self.values.get(f.key, f.value) or "")
            if isinstance(w, Input):
                w.value = value
                w.cursor_position = len(value)
            else:
                w.value = value if value in f.options else f.options[0]
        self._paint_notice()
        self.set_focus(self.query_one("#f0"))
        self.query_one("#form", VerticalScroll).scroll_home(animate=False)

    def show_notice(self, message: str, *, title: str = "", severity: str = "information", markup: bool = False) -> None:
        """Notices while the form is shown go here, inside the form: a toast would cover its fields."""
        style = {"error": "bold red", "warning": "bold yellow"}.get(severity, "green")
        text = Text(f"{title}：" if title else "", style=style, end="")
        text.append_text(Text.from_markup(message) if markup else Text(message))
        self._notice = text
        self._paint_notice()

    def _paint_notice(self) -> None:
        if self.is_mounted:
            notice = self.query_one("#form-notice", Static)
            notice.update(self._notice or Text(""))
            notice.display = self._notice is not None

    def unsaved(self) -> str | None:
        """「表单名」 when a field holds input other than its default (quitting would lose it); input
        given back after a refused save counts too."""
        if not self.is_mounted:
            return None
        for key, value in self.collect().items():
            field = next(f for f in self.fields if f.key == key)
            initial = str(field.value or "")
            if field.options:
                initial = initial if initial in field.options else field.options[0]
            if str(value or "") != initial:
                return f"表单「{self.form_title}」中的输入"
        return None

    def collect(self) -> dict:
        out = {}
        for i, f in enumerate(self.fields):
            w = self.query_one(f"#f{i}")
            out[f.key] = w.value if isinstance(w, Input) else (w.value if w.value is not Select.NULL else "")
        return out

    def on_mount(self) -> None:
        self._paint_notice()

    def action_submit(self) -> None:
        self.dismiss(self.collect())

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.action_submit()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = [w for w in self.query(Input)]
        if inputs and event.input is inputs[-1]:
            self.action_submit()
        else:
            self.focus_next()
