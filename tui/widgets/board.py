"""The incident board: open incidents whose countdowns tick every second.

The tick reads only the rows already loaded and the desk clock: no database access,
and only the rows whose countdown text changed are painted again (see LightTable).

At 80 columns the board keeps 倒计时, 级别, 标题, 镇街 and 责任单位: the title takes what is
left (cut with "…"), 编号 and 状态 are hidden, and towns and units are listed by whole names
(then 等N个), never cut in the middle of a name. An incident not yet acknowledged is marked ● before
its title at every width.
"""
from __future__ import annotations

from datetime import datetime

from rich.text import Text

from tui.display import fit_names
from tui.text import countdown_text, safe
from tui.types import BoardRow
from tui.widgets.table import LightTable

#: 倒计时 fits "✖超时 123:00:05"; 级别 fits 特别重大 (8 cells); 状态 fits 结果已发布.
COLUMNS = (("countdown", "倒计时", 15), ("id", "编号", 5), ("state", "状态", 10), ("severity", "级别", 8),
           ("title", "标题", 24), ("towns", "镇街", 8), ("units", "责任单位", 18))
#: Below this width 编号 and 状态 are hidden (the incident screen shows them).
WIDE = 100
NARROW_HIDDEN = frozenset({"id", "state"})
#: Units get more room on a wide screen.
WIDE_UNITS = 26
#: Short state labels so the column stays narrow.
SHORT_STATES = {"已发布权威信息": "已发布", "处置结果已发布": "结果已发布"}
SEVERITY_STYLE = {"一般": "", "较大": "yellow", "重大": "bold red", "特别重大": "bold white on red"}
UNACKED = "●"


def board_cells(r: BoardRow, now: datetime, *, towns_width: int = 8, units_width: int = 18) -> list[Text]:
    label = SHORT_STATES.get(r.state, r.state)
    title = _marked_title(r)
    return [countdown_text(r.due_at, now, r.released_at), Text(str(r.id)), Text(label),
            Text(r.severity, style=SEVERITY_STYLE.get(r.severity, "")), title,
            safe(fit_names(r.towns, towns_width)), safe(fit_names(r.units, units_width))]


def _marked_title(r: BoardRow) -> Text:
    """The title, led by 批 when leader instructions wait on the incident (批! in red when one is
    overdue), then ● while it is not acknowledged; the table cuts it to the column."""
    title = Text(end="")
    if r.instructions_open:
        title.append("批!" if r.instructions_overdue else "批", style="bold red" if r.instructions_overdue else "bold yellow")
        title.append(" ")
    if not r.acknowledged:
        title.append(UNACKED, style="bold yellow")
    title.append_text(safe(r.title, "" if r.acknowledged else "bold"))
    return title


class IncidentBoard(LightTable):
    def __init__(self, **kw) -> None:
        super().__init__(COLUMNS, zebra_stripes=True, flex="title", min_flex=10, empty="当前没有未结事件", **kw)
        self.rows_data: tuple[BoardRow, ...] = ()
        self._now: datetime | None = None

    def narrow(self, width: int) -> frozenset[str]:
        return NARROW_HIDDEN if width < WIDE else frozenset()

    def fit(self, width: int) -> None:
        wide = width >= WIDE
        units = WIDE_UNITS if wide else COLUMNS[-1][2]
        self.all_columns = COLUMNS[:-1] + ((COLUMNS[-1][0], COLUMNS[-1][1], units),)
        before = self.column_width("units")
        super().fit(width)
        if self.column_width("units") != before and self.rows_data and self._now is not None:
            self._paint(self.rows_data, self._now)  # units are listed by whole names for the new width

    def selected_id(self) -> int | None:
        if not self.rows_data or self.cursor_row < 0 or self.cursor_row >= len(self.rows_data):
            return None
        return self.rows_data[self.cursor_row].id

    def selected_row(self) -> BoardRow | None:
        if not self.rows_data or not 0 <= self.cursor_row < len(self.rows_data):
            return None
        return self.rows_data[self.cursor_row]

    def show(self, rows: tuple[BoardRow, ...], now: datetime) -> None:
        if rows == self.rows_data:
            return
        self.rows_data = rows
        self._now = now
        self._paint(rows, now)

    def _paint(self, rows, now: datetime) -> None:
        towns, units = self.column_width("towns") or COLUMNS[5][2], self.column_width("units") or COLUMNS[6][2]
        self.set_rows([(str(r.id), board_cells(r, now, towns_width=towns, units_width=units))
                       for r in rows])  # the cursor stays on its incident

    def tick(self, now: datetime) -> None:
        """Refresh the countdown column (visible rows only)."""
        self._now = now
        if not self.rows_data:
            return
        top = max(0, int(self.scroll_offset.y))
        for r in self.rows_data[top:top + self.size.height + 1]:
            self.update_cell(str(r.id), "countdown", countdown_text(r.due_at, now, r.released_at))
