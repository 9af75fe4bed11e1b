"""The incident board: open incidents whose countdowns tick every second.

The tick reads only the rows already loaded and the desk clock: no database access,
and only the rows whose countdown text changed are painted again (see LightTable).
"""
from __future__ import annotations

from datetime import datetime

from rich.text import Text

from tui.text import countdown_text, safe
from tui.types import BoardRow
from tui.widgets.table import LightTable

COLUMNS = (("countdown", "倒计时", 13), ("id", "编号", 5), ("state", "状态", 11), ("severity", "级别", 4),
           ("title", "标题", 24), ("towns", "镇街", 10), ("units", "责任单位", 16))
#: Short state labels so the column fits 80 columns.
SHORT_STATES = {"已发布权威信息": "已发布", "处置结果已发布": "结果已发布"}
SEVERITY_STYLE = {"一般": "", "较大": "yellow", "重大": "bold red", "特别重大": "bold white on red"}


def board_cells(r: BoardRow, now: datetime) -> list[Text]:
    label = SHORT_STATES.get(r.state, r.state)
    state = Text(label if r.acknowledged else f"●{label}", style="" if r.acknowledged else "bold")
    return [countdown_text(r.due_at, now, r.released_at), Text(str(r.id)), state,
            Text(r.severity, style=SEVERITY_STYLE.get(r.severity, "")),
            _marked_title(r), safe("、".join(r.towns) or "—", width=COLUMNS[5][2]),
            safe("、".join(r.units) or "—", width=COLUMNS[6][2])]


def _marked_title(r: BoardRow) -> Text:
    """The title, led by 批 when leader instructions wait on the incident (批! in red when one is overdue)."""
    if not r.instructions_open:
        return safe(r.title, width=COLUMNS[4][2])
    mark = Text("批!" if r.instructions_overdue else "批", style="bold red" if r.instructions_overdue else "bold yellow")
    return mark + Text(" ") + safe(r.title, width=COLUMNS[4][2] - mark.cell_len - 1)


class IncidentBoard(LightTable):
    def __init__(self, **kw) -> None:
        super().__init__(COLUMNS, zebra_stripes=True, **kw)
        self.rows_data: tuple[BoardRow, ...] = ()

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
        self.set_rows([(str(r.id), board_cells(r, now)) for r in rows])  # the cursor stays on its incident

    def tick(self, now: datetime) -> None:
        """Refresh the countdown column (visible rows only)."""
        if not self.rows_data:
            return
        top = max(0, int(self.scroll_offset.y))
        for r in self.rows_data[top:top + self.size.height + 1]:
            self.update_cell(str(r.id), "countdown", countdown_text(r.due_at, now, r.released_at))
