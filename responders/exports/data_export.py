"""JSON and CSV renderings of the 舆情处置报告."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

from responders.exports.model import fmt_time
from storage.timeutil import desk_iso, zone_label


def _jsonable(obj):
    if isinstance(obj, datetime):
        return desk_iso(obj, timespec="auto")
    if isinstance(obj, timedelta):
        return obj.total_seconds()
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def render_json(r: dict) -> str:
    """The whole report; times ISO 8601 with +08:00, durations in seconds."""
    data = _jsonable(r)
    data["format"] = "yuqing-desk incident report v1"
    data["spread"] = [{"hour": h, "items": c} for h, c in data["spread"]]
    return json.dumps(data, ensure_ascii=False, indent=2)


def _cell(v: str) -> str:
    # Keep spreadsheet programs from evaluating feed text as a formula.
    v = "" if v is None else str(v)
    return "'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v


def render_csv(r: dict) -> str:
    """The timeline, one row per event (UTF-8 with BOM so Excel reads Chinese)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["事件编号", "序号", f"时间（{zone_label()}）", "时间（UTC）", "类型", "操作人", "内容", "哈希"])
    for ev in r["timeline"]:
        w.writerow([r["incident"]["id"], ev["seq"], fmt_time(ev["at"]), ev["at"].isoformat(), ev["kind_label"],
                    _cell(ev["actor"]), _cell(ev["summary"]), ev["hash"]])
    return "\ufeff" + buf.getvalue()
