"""A one-line notice in the page's own layout, for pages whose input boxes a floating toast would
cover: the app sends them its notices (``show_notice``) instead of a toast."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui.text import local_time

STYLES = {"error": "bold white on red", "warning": "bold black on yellow"}


class NoticeLine(Static):
    DEFAULT_CSS = """
    NoticeLine {
        height: auto;
        max-height: 2;
        padding: 0 1;
        background: $boost;
    }
    """
    SECONDS = 15.0

    def on_mount(self) -> None:
        self.display = False
        self._timer = None

    def show_notice(self, message: str, *, title: str = "", severity: str = "information",
                    markup: bool = False) -> None:
        text = Text(local_time(self.app.desk_clock(), "%H:%M") + " ", style="dim", end="")
        body = Text(f"{title}：" if title else "", end="")
        body.append_text(Text.from_markup(message) if markup else Text(message))
        body.stylize(STYLES.get(severity, "green"))
        text.append_text(body)
        self.update(text)
        self.display = True
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(self.SECONDS, self._hide)

    def _hide(self) -> None:
        self.display = False
