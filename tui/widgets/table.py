"""A light read-only table painted line by line (Textual's Line API), for the board and the stream.

Textual's DataTable drops every rendered row whenever a cell changes or the styles are
re-applied (each second's countdown tick, every return to the dashboard), then renders
all visible cells again through Rich: 40–100 ms per frame for the 5,000-incident board.
Here each row keeps its rendered Strip until that row changes, so a tick re-renders only
the rows whose countdown moved and a cursor move re-renders two rows.

Cells are ``rich.text.Text`` (never markup); a cell wider than its column is cut with "…".
One column may be *flexible* (``flex=KEY``): it takes the width the others leave, so a
narrow terminal shortens it (the title) and keeps the others whole; :meth:`LightTable.narrow`
may hide columns below a width.
"""
from __future__ import annotations

from typing import Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

#: (key, label, width in cells)
Column = tuple[str, str, int]
PAD = 1  # blank cells either side of a column


class LightTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"light-table--header", "light-table--cursor", "light-table--even-row"}
    DEFAULT_CSS = """
    LightTable {
        scrollbar-size-vertical: 1;
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .light-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .light-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .light-table--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .light-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    BINDINGS = [
        Binding("enter", "select_cursor", "选择", show=False),
        Binding("up", "cursor_up", "上移", show=False),
        Binding("down", "cursor_down", "下移", show=False),
        Binding("pageup", "page_up", "上一页", show=False),
        Binding("pagedown", "page_down", "下一页", show=False),
        Binding("home", "cursor_home", "首行", show=False),
        Binding("end", "cursor_end", "末行", show=False),
    ]

    class RowMessage(Message):
        """Something happened on row ``index`` (key ``key``) of ``table``."""

        def __init__(self, table: "LightTable", index: int, key: str) -> None:
            super().__init__()
            self.table, self.index, self.key = table, index, key

        @property
        def control(self) -> "LightTable":
            return self.table

    class Highlighted(RowMessage):
        """The cursor moved to row ``index`` (key ``key``)."""

    class Selected(RowMessage):
        """Enter (or a click on the cursor row) on row ``index`` (key ``key``)."""

    #: Cells kept for the vertical scrollbar when the flexible column is sized.
    SCROLLBAR = 1

    def __init__(self, columns: Sequence[Column], *, zebra_stripes: bool = False, flex: str | None = None,
                 min_flex: int = 8, empty: str = "", **kw) -> None:
        super().__init__(**kw)
        self.empty = empty  # shown (dim) under the header while there are no rows
        self.all_columns: tuple[Column, ...] = tuple(columns)
        self.columns: tuple[Column, ...] = tuple(columns)  # the columns shown, at their current widths
        self.flex = flex
        self.min_flex = min_flex
        self.zebra_stripes = zebra_stripes
        self._keys: list[str] = []
        self._cells: list[list[Text]] = []
        self._index: dict[str, int] = {}
        self._col: dict[str, int] = {key: i for i, (key, _, _) in enumerate(self.all_columns)}
        self._cursor = 0
        self._strips: dict[int, Strip] = {}  # row index -> rendered line (full width, before scrolling)
        self._header: Strip | None = None
        self._width = sum(w + 2 * PAD for _, _, w in self.columns)
        self.virtual_size = Size(self._width, 1)

    # ------------------------------------------------------------ column widths

    def narrow(self, width: int) -> frozenset[str]:
        """Column keys hidden at ``width`` cells (none; the board hides some on 80 columns)."""
        return frozenset()

    def fit(self, width: int) -> None:
        """Lay the columns out for ``width`` cells: hide what :meth:`narrow` says, size the flexible one."""
        hidden = self.narrow(width)
        shown = [c for c in self.all_columns if c[0] not in hidden]
        if self.flex is not None:
            fixed = sum(w + 2 * PAD for key, _, w in shown if key != self.flex)
            room = max(self.min_flex, width - self.SCROLLBAR - fixed - 2 * PAD)
            shown = [(key, label, room if key == self.flex else w) for key, label, w in shown]
        if tuple(shown) == self.columns:
            return
        self.columns = tuple(shown)
        self._width = sum(w + 2 * PAD for _, _, w in self.columns)
        self.virtual_size = Size(self._width, len(self._keys) + 1)
        self._strips.clear()
        self._header = None
        self.refresh()

    def column_width(self, key: str) -> int:
        return next((w for k, _, w in self.columns if k == key), 0)

    def on_resize(self, event: events.Resize) -> None:
        self.fit(event.size.width)

    # ------------------------------------------------------------ data

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def cursor_row(self) -> int:
        return self._cursor if self._keys else -1

    def get_row_at(self, index: int) -> list[Text]:
        return list(self._cells[index])

    def row_key_at(self, index: int) -> str:
        return self._keys[index]

    def set_rows(self, rows: Sequence[tuple[str, Sequence[Text]]]) -> None:
        """Replace every row; the cursor stays on the same key when it is still there."""
        keep = self._keys[self._cursor] if self._keys and 0 <= self._cursor < len(self._keys) else None
        self._keys = [str(k) for k, _ in rows]
        self._cells = [list(cells) for _, cells in rows]
        self._index = {k: i for i, k in enumerate(self._keys)}
        self._strips.clear()
        self.virtual_size = Size(self._width, len(self._keys) + 1)
        new = self._index.get(keep, self._cursor) if keep is not None else 0
        self._cursor = max(0, min(new, len(self._keys) - 1))
        self.refresh()

    def clear(self) -> None:
        self.set_rows([])

    def update_cell(self, row_key: str, column_key: str, value: Text) -> None:
        i = self._index.get(str(row_key))
        if i is None:
            return
        c = self._col[column_key]
        old = self._cells[i][c]
        if old.plain == value.plain and old.style == value.style and old.spans == value.spans:
            return
        self._cells[i][c] = value
        self._refresh_row(i)

    def move_cursor(self, *, row: int) -> None:
        if not self._keys:
            return
        row = max(0, min(row, len(self._keys) - 1))
        if row == self._cursor:
            self._scroll_to_cursor()
            return
        old, self._cursor = self._cursor, row
        self._refresh_row(old)
        self._refresh_row(row)
        self._scroll_to_cursor()
        self.post_message(self.Highlighted(self, row, self._keys[row]))

    # ------------------------------------------------------------ keys and mouse

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self._cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(row=self._cursor - self._page())

    def action_page_down(self) -> None:
        self.move_cursor(row=self._cursor + self._page())

    def action_cursor_home(self) -> None:
        self.move_cursor(row=0)

    def action_cursor_end(self) -> None:
        self.move_cursor(row=len(self._keys) - 1)

    def action_select_cursor(self) -> None:
        if self._keys:
            self.post_message(self.Selected(self, self._cursor, self._keys[self._cursor]))

    def on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return
        row = int(self.scroll_offset.y) + event.y - 1
        if 0 <= row < len(self._keys):
            if row == self._cursor:
                self.action_select_cursor()
            else:
                self.move_cursor(row=row)

    def _scroll_to_cursor(self) -> None:
        top = int(self.scroll_offset.y)
        visible = self._page()
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
        elif self._cursor >= top + visible:
            self.scroll_to(y=self._cursor - visible + 1, animate=False, immediate=True)

    # ------------------------------------------------------------ painting

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._header = None

    def on_focus(self) -> None:
        self._refresh_row(self._cursor)

    def on_blur(self) -> None:
        self._refresh_row(self._cursor)

    def _refresh_row(self, index: int) -> None:
        self._strips.pop(index, None)
        y = index - int(self.scroll_offset.y) + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _line(self, cells: Sequence[Text], base: Style) -> Strip:
        line = Text(no_wrap=True, end="")
        col = self._col
        for _key, _, width in self.columns:
            cell = cells[col[_key]]
            line.append(" " * PAD)
            n = cell.cell_len
            if n > width:
                cell = cell.copy()
                cell.truncate(width, overflow="ellipsis")
                n = cell.cell_len
            line.append_text(cell)
            line.append(" " * (width - n + PAD))
        segments = Segment.apply_style(line.render(self.app.console), base)
        return Strip(segments).extend_cell_length(self._width, base)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        if y == 0:
            if self._header is None:
                style = self.get_component_rich_style("light-table--header")
                self._header = self._line([Text(label) for _, label, _ in self.all_columns], style)
            return self._header.crop_extend(scroll_x, scroll_x + width, self.rich_style)
        index = int(scroll_y) + y - 1
        if not self._keys and y == 1 and self.empty:
            line = Text(" " * PAD + self.empty, style="dim", no_wrap=True, end="")
            return Strip(Segment.apply_style(line.render(self.app.console), self.rich_style)).crop_extend(
                scroll_x, scroll_x + width, self.rich_style)
        if index >= len(self._keys):
            return Strip.blank(width, self.rich_style)
        strip = self._strips.get(index)
        if strip is None:
            if index == self._cursor:
                base = self.get_component_rich_style("light-table--cursor")
            elif self.zebra_stripes and index % 2:
                base = self.get_component_rich_style("light-table--even-row")
            else:
                base = self.rich_style
            strip = self._strips[index] = self._line(self._cells[index], base)
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)
