"""An incident's timeline as Text: local time, who (系统 or the staff member's name), what happened.

The incident screen shows a brief line per event: no internal story ids, no similarity scores or
shared character pairs, scheme labels instead of ids. The details view (key d) shows every
event in full, as the exports word it (payload text kept literal either way).
"""
from __future__ import annotations

from typing import Sequence

from rich.text import Text

from tui.display import DisplayNames
from tui.facade import summarize_event, timeline_labels
from tui.text import clean, local_time

KIND_LABELS = timeline_labels()  # one wording for console and reports
#: Parts of a stored reason or trigger that are matching internals (kept for the details view).
_INTERNAL_MARKS = ("相似度", "共有", "报道簇", "置信度", "阈值")


def summarize(ev) -> str:
    try:
        return summarize_event(ev)
    except Exception:  # noqa: BLE001 - an unknown payload shape still shows something
        return str(dict(ev.payload))


def plain_reason(text: str | None) -> str:
    """A stored reason/trigger without its matching internals: the parts (split at ；) that name
    similarity scores, shared character pairs or story clusters are left out."""
    parts = [p.strip() for p in (text or "").split("；")]
    return "；".join(p for p in parts if p and not any(m in p for m in _INTERNAL_MARKS))


def brief(ev, names: DisplayNames) -> str:
    """The incident screen's line for an event."""
    p, k = ev.payload, ev.kind
    if k == "detected":
        trigger = plain_reason(names.relabel(p.get("trigger") or ""))
        return f"发现：{p.get('title') or ''}" + (f"（{trigger}）" if trigger else "")
    if k == "candidate_joined":
        n = len(p.get("item_ids") or [])
        return f"新报道并入本事件：{n} 条" + (f"（{'、'.join(map(str, (p.get('item_ids') or [])[:6]))}）" if n else "")
    if k == "release_proposed":
        return f"检测到疑似发布：{p.get('title') or p.get('item_id') or ''}（待确认）"
    if k in ("alert_sent", "alert_failed"):  # the channel's own error text is for the details view
        return f"{KIND_LABELS[k]}（{p.get('channel') or ''}）：{p.get('title') or ''}"
    if k == "alert_acked":  # the alert's id is for the details view
        step = f"（已升级 {p.get('step')} 级）" if p.get("step") else ""
        return f"{KIND_LABELS[k]}{step}：{p.get('title') or ''}"
    if k not in KIND_LABELS:
        return "其他记录"
    return names.relabel(summarize(ev))


def full(ev, names: DisplayNames) -> str:
    """The details view's line: everything the exports say, the trigger and story id included."""
    p, k = ev.payload, ev.kind
    line = summarize(ev)
    if k == "candidate_joined" and p.get("trigger"):
        line += f"（触发：{p['trigger']}）"
    if k not in KIND_LABELS:
        line = f"其他记录（{k}）：{dict(p)}"
    return names.relabel(line)


def timeline_text(events: Sequence, names: DisplayNames | None = None, *, details: bool = False) -> Text:
    """Events in the order of the times shown (the chain's order breaks ties)."""
    names = names or DisplayNames()
    out = Text(end="")
    ordered = sorted(events, key=lambda ev: (ev.at, getattr(ev, "seq", 0)))
    for i, ev in enumerate(ordered):
        out.append(local_time(ev.at, "%m-%d %H:%M:%S") + " ", style="dim")
        out.append(f"[{clean(names.actor(ev.actor))}] ", style="cyan")
        out.append(clean(full(ev, names) if details else brief(ev, names)))
        if i < len(ordered) - 1:
            out.append("\n")
    return out
