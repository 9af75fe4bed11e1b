"""Modal forms: one generic form (inputs and choices) used for every incident action."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select


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
    BINDINGS = [("escape", "cancel", "取消"), ("ctrl+s", "submit", "保存")]

    def __init__(self, title: str, fields: list[Field], values: dict | None = None) -> None:
        super().__init__()
        self.form_title = title
        self.fields = fields
        self.values = values or {}

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

    def reset(self, values: dict | None) -> None:
        """Show the form again (it is installed and reused): initial or given values, focus on the first field."""
        self.values = values or {}
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
        self.set_focus(self.query_one("#f0"))
        self.query_one("#form", VerticalScroll).scroll_home(animate=False)

    def collect(self) -> dict:
        out = {}
        for i, f in enumerate(self.fields):
            w = self.query_one(f"#f{i}")
            out[f.key] = w.value if isinstance(w, Input) else (w.value if w.value is not Select.NULL else "")
        return out

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
