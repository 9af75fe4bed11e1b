"""The live stream of flagged items, newest first by the time shown (publication, else fetch time)."""
from __future__ import annotations

from datetime import datetime, timezone

from rich.text import Text

from tui.display import DisplayNames, fit_names
from tui.text import local_time, safe
from tui.types import StreamItem
from tui.widgets.table import LightTable

COLUMNS = (("at", "时间", 11), ("mark", "标记", 4), ("source", "来源", 12), ("title", "标题", 40),
           ("towns", "镇街", 8))
_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)


def shown_time(it) -> datetime | None:
    return it.published or it.fetched_at


def newest_first(items):
    """Items sorted by the time the list shows, newest first (ties: the later stored first)."""
    return sorted(items, key=lambda it: (shown_time(it) or _EARLIEST, it.id), reverse=True)


class ItemStream(LightTable):
    def __init__(self, **kw) -> None:
        super().__init__(COLUMNS, flex="title", min_flex=16, empty="暂无预警或热点信息", **kw)
        self.items: tuple[StreamItem, ...] = ()
        self._names: DisplayNames | None = None

    def show(self, items: tuple[StreamItem, ...], names: DisplayNames | None = None) -> None:
        names = names or DisplayNames()
        items = tuple(newest_first(items))
        if items == self.items and names == self._names:
            return
        self.items, self._names = items, names
        rows = []
        for it in items:
            mark = Text("警" if it.alert else ("热" if it.hot else "·"),
                        style="bold red" if it.alert else ("yellow" if it.hot else "dim"))
            rows.append((str(it.id), [Text(local_time(shown_time(it))), mark, safe(names.source(it.source_id)),
                                      safe(it.title), safe(fit_names(it.towns, COLUMNS[4][2]))]))
        self.set_rows(rows)
