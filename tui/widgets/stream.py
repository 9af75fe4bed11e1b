"""The live stream of flagged items (newest first)."""
from __future__ import annotations

from rich.text import Text

from tui.text import local_time, safe
from tui.types import StreamItem
from tui.widgets.table import LightTable

COLUMNS = (("at", "时间", 11), ("mark", "标记", 4), ("source", "来源", 10), ("title", "标题", 40),
           ("towns", "镇街", 8))


class ItemStream(LightTable):
    def __init__(self, **kw) -> None:
        super().__init__(COLUMNS, **kw)
        self.items: tuple[StreamItem, ...] = ()

    def show(self, items: tuple[StreamItem, ...]) -> None:
        if items == self.items:
            return
        self.items = items
        rows = []
        for it in items:
            mark = Text("警" if it.alert else ("热" if it.hot else "·"),
                        style="bold red" if it.alert else ("yellow" if it.hot else "dim"))
            rows.append((str(it.id), [Text(local_time(it.published or it.fetched_at)), mark,
                                      safe(it.source_id, width=10), safe(it.title, width=40),
                                      safe("、".join(it.towns) or "—", width=8)]))
        self.set_rows(rows)
