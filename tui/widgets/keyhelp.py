"""A one- or two-line key guide docked at the bottom (much cheaper to mount than Textual's Footer)."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui.pages import page_keys_text

GLOBAL_KEYS = ((page_keys_text(), "页面"), ("^P", "命令"), ("q", "退出"))


class KeyHelp(Static):
    DEFAULT_CSS = """
    KeyHelp {
        dock: bottom;
        height: auto;
        max-height: 2;
        background: $panel;
        padding: 0 1;
    }
    """

    def __init__(self, keys: tuple[tuple[str, str], ...], *, global_keys: bool = True, **kw) -> None:
        text = Text(end="")
        for i, (key, label) in enumerate(keys + (GLOBAL_KEYS if global_keys else ())):
            if i:
                text.append(" ")
            text.append(key, style="bold cyan")
            text.append(label)
        super().__init__(text, **kw)
