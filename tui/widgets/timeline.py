"""An incident's timeline as Text: local time, actor, event summary (payload text kept literal)."""
from __future__ import annotations

from typing import Mapping, Sequence

from rich.text import Text

from tui.text import clean, local_time

from responders.exports.model import KIND_LABELS  # one wording for console and reports


def summarize(ev) -> str:
    try:
        from responders.exports.model import summarize as model_summary

        return model_summary(ev)
    except Exception:  # noqa: BLE001 - an unknown payload shape still shows something
        return str(dict(ev.payload))


def timeline_text(events: Sequence, names: Mapping[str, str] | None = None) -> Text:
    """``names``: actor id -> the name shown (staff names, 系统 for the desk itself)."""
    names = names or {}
    out = Text(end="")
    for i, ev in enumerate(events):
        out.append(local_time(ev.at, "%m-%d %H:%M:%S") + " ", style="dim")
        out.append(f"[{clean(names.get(ev.actor, ev.actor))}] ", style="cyan")
        line = clean(summarize(ev))
        out.append(KIND_LABELS.get(ev.kind, ev.kind) + "：" + line if line == ev.kind else line)
        if i < len(events) - 1:
            out.append("\n")
    return out
