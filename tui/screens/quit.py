"""The quit prompt (退出确认) and the command palette in Chinese."""
from __future__ import annotations

from pathlib import Path

from rich.align import Align
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import CommandList, CommandPalette
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label
from textual.widgets.option_list import Option

PALETTE_PLACEHOLDER = "输入命令名称搜索，例如：交办、记录发布、检索…"
NO_MATCHES = "没有匹配的命令"


class QuitScreen(ModalScreen[bool]):
    """Asked before quitting when typed input would be lost: y / 回车 quits, n / Esc goes back."""

    CSS_PATH = Path(__file__).with_name("quit.tcss")
    AUTO_FOCUS = "#quit-no"
    BINDINGS = [
        Binding("y", "answer(True)", "退出", id="quit.yes"),
        Binding("n,escape", "answer(False)", "返回", id="quit.no"),
    ]

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-box"):
            yield Label(Text("确定退出舆情值班台吗？", style="bold"), id="quit-title")
            yield Label(Text(f"{self.what}尚未保存，退出后将丢失。"), id="quit-what")
            with Horizontal(id="quit-buttons"):
                yield Button("退出（y）", id="quit-yes", variant="error", compact=True)
                yield Button("返回（n / Esc）", id="quit-no", variant="primary", compact=True)

    def action_answer(self, quit_now: bool) -> None:
        self.dismiss(quit_now)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "quit-yes")


class DeskCommandPalette(CommandPalette):
    """Textual's palette with a Chinese prompt and a Chinese "no matches" line."""

    def __init__(self, **kw) -> None:
        super().__init__(placeholder=PALETTE_PLACEHOLDER, **kw)

    def _start_no_matches_countdown(self, search_value: str) -> None:
        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(Option(
                    Align.center(Text(NO_MATCHES, style="not bold")), disabled=True, id=self._NO_MATCHES))
                self._list_visible = True
            else:
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)
