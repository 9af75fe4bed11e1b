"""An incident's timeline as Text: local time, actor, event summary (payload text kept literal)."""
from __future__ import annotations

from typing import Sequence

from rich.text import Text

from tui.text import clean, local_time

KIND_LABELS = {
    "detected": "发现", "candidate_joined": "并入新线索", "item_linked": "关联信息", "item_unlinked": "移除信息",
    "clock_set": "计时", "graded": "定级", "assigned": "交办", "acknowledged": "确认接报", "note": "备注",
    "release": "发布", "followup": "跟进", "verification": "核实", "state_changed": "状态变更", "merged": "合并",
    "merged_into": "并入", "split": "拆分", "split_from": "拆出", "clock_alert": "计时提醒",
    "release_proposed": "检测到发布", "release_rejected": "驳回发布检测", "alert_sent": "已推送提醒",
    "alert_failed": "提醒失败", "dismissed": "结案", "archived": "归档",
}


def summarize(ev) -> str:
    try:
        from responders.exports.model import summarize as model_summary

        return model_summary(ev)
    except Exception:  # noqa: BLE001 - an unknown payload shape still shows something
        return str(dict(ev.payload))


def timeline_text(events: Sequence) -> Text:
    out = Text(end="")
    for i, ev in enumerate(events):
        out.append(local_time(ev.at, "%m-%d %H:%M:%S") + " ", style="dim")
        out.append(f"[{clean(ev.actor)}] ", style="cyan")
        line = clean(summarize(ev))
        out.append(KIND_LABELS.get(ev.kind, ev.kind) + "：" + line if line == ev.kind else line)
        if i < len(events) - 1:
            out.append("\n")
    return out
