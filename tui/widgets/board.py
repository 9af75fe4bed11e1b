"""The incident board: a DataTable of open incidents whose countdowns tick every second.

The tick reads only the rows already loaded and the desk clock: no database access.
"""
from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import DataTable

from tui.text import countdown_text, safe
from tui.types import BoardRow

COLUMNS = (("countdown", "倒计时", 13), ("id", "编号", 5), ("state", "状态", 11), ("severity", "级别", 4),
           ("title", "标题", 24), ("towns", "镇街", 10), ("units", "责任单位", 16))
#: Short state labels so the column fits 80 columns.
SHORT_STATES = {"已发布权威信息": "已发布", "处置结果已发布": "结果已发布"}
SEVERITY_STYLE = {"一般": "", "较大": "yellow", "重大": "bold red", "特别重大": "bold white on red"}


class IncidentBoard(DataTable):
    def __init__(self, **kw) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)
        self.rows_data: tuple[BoardRow, ...] = ()

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def selected_id(self) -> int | None:
        if not self.rows_data or self.cursor_row < 0 or self.cursor_row >= len(self.rows_data):
            return None
        return self.rows_data[self.cursor_row].id

    def show(self, rows: tuple[BoardRow, ...], now: datetime) -> None:
        if rows == self.rows_data:
            return
        keep = self.selected_id()
        self.rows_data = rows
        self.clear()
        for r in rows:
            label = SHORT_STATES.get(r.state, r.state)
            state = Text(label if r.acknowledged else f"●{label}", style="" if r.acknowledged else "bold")
            self.add_row(
                countdown_text(r.due_at, now, r.released_at), Text(str(r.id)), state,
                Text(r.severity, style=SEVERITY_STYLE.get(r.severity, "")),
                safe(r.title, width=COLUMNS[4][2]), safe("、".join(r.towns) or "—", width=COLUMNS[5][2]),
                safe("、".join(r.units) or "—", width=COLUMNS[6][2]), key=str(r.id))
        if keep is not None:
            for i, r in enumerate(rows):
                if r.id == keep:
                    self.move_cursor(row=i)
                    break

    def tick(self, now: datetime) -> None:
        """Refresh the countdown column (visible rows only)."""
        if not self.rows_data:
            return
        top = max(0, int(self.scroll_offset.y))
        for r in self.rows_data[top:top + self.size.height + 1]:
            self.update_cell(str(r.id), "countdown", countdown_text(r.due_at, now, r.released_at))
