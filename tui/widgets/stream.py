"""The live stream of flagged items (newest first)."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tui.text import local_time, safe
from tui.types import StreamItem


class ItemStream(DataTable):
    def __init__(self, **kw) -> None:
        super().__init__(cursor_type="row", **kw)
        self.items: tuple[StreamItem, ...] = ()

    def on_mount(self) -> None:
        self.add_column("时间", key="at", width=11)
        self.add_column("标记", key="mark", width=4)
        self.add_column("来源", key="source", width=10)
        self.add_column("标题", key="title", width=40)
        self.add_column("镇街", key="towns", width=8)

    def show(self, items: tuple[StreamItem, ...]) -> None:
        if items == self.items:
            return
        self.items = items
        self.clear()
        for it in items:
            mark = Text("警" if it.alert else ("热" if it.hot else "·"),
                        style="bold red" if it.alert else ("yellow" if it.hot else "dim"))
            self.add_row(Text(local_time(it.published or it.fetched_at)), mark, safe(it.source_id, width=10),
                         safe(it.title, width=40), safe("、".join(it.towns) or "—", width=8), key=str(it.id))
