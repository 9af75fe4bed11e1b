"""Charts drawn with block characters, as Rich Text (no markup)."""
from __future__ import annotations

from typing import Sequence

from rich.text import Text

from tui.text import safe

BLOCKS = " ▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float]) -> str:
    top = max(values) if values else 0
    if not top:
        return BLOCKS[1] * len(values)
    return "".join(BLOCKS[max(1, round(v / top * 8))] if v else BLOCKS[0] for v in values)


def hbars(rows: Sequence[tuple[str, float]], *, label_width: int = 20, bar_width: int = 30,
          fmt: str = "{:.0f}") -> Text:
    """One bar per row: label (cut to cells), bar, value."""
    out = Text(end="")
    top = max((v for _, v in rows), default=0) or 1
    for i, (label, value) in enumerate(rows):
        cell = safe(label, width=label_width)
        cell.pad_right(label_width - cell.cell_len)
        out.append_text(cell)
        n = value / top * bar_width
        full = int(n)
        bar = "█" * full + (BLOCKS[round((n - full) * 8)] if full < bar_width and n - full > 0.06 else "")
        out.append(" " + bar, style="cyan")
        out.append(" " + fmt.format(value))
        if i < len(rows) - 1:
            out.append("\n")
    return out
