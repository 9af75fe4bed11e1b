"""The handover report (交接班) and its acceptance.

At the end of a shift the desk prepares what the outgoing officer hands over: open incidents with
the time left on their clocks, what was done during the shift, alerts nobody acknowledged, open
leader instructions, release proposals awaiting a decision and failing sources. The report is a
plain dict (``build_handover``) rendered as JSON, or as Markdown, HTML or DOCX from the report
templates ``handover.*`` (``render_handover``; responders/exports/templates.py).

The incoming officer's acceptance (``accept_handover``) is an event on the desk-level timeline
(incident id ``DESK_TIMELINE`` = 0, outside every incident) so the hash chain covers who took the
desk, when, and a digest of what they were handed. Parts gathered by other floors (failing
sources from intake, unacknowledged alerts, open instructions) are passed in by the caller as
plain rows, so this module depends only on the response engine.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from responders import anchor, timeline
from responders.clock import compute_clock
from responders.exceptions import ResponderError
from responders.exports.model import fmt_duration, fmt_time, summarize
from responders.masking import clean
from responders.release_detect import list_proposals
from responders.reports import units_label
from responders.store import dumps
from responders.types import TimelineEvent
from storage.db import transaction
from storage.timeutil import desk_iso, from_db, zone_label

if TYPE_CHECKING:
    from responders.incidents import IncidentService

DESK_TIMELINE = 0
ACCEPTED = "handover_accepted"
TITLE = "舆情值班交接班报告"
FORMATS = ("md", "html", "docx", "json")


class HandoverError(ResponderError):
    """A handover cannot be prepared, rendered or accepted; the message says why."""


def last_acceptance(db) -> TimelineEvent | None:
    """The most recent accepted handover, if any."""
    evs = timeline.events(db, DESK_TIMELINE, kinds=(ACCEPTED,))
    return evs[-1] if evs else None


def build_handover(svc: "IncidentService", *, since: datetime, shift: Mapping[str, Any] | None = None,
                   display: Any = None, failing_sources: Sequence[Mapping[str, Any]] = (),
                   unacked_alerts: Sequence[Mapping[str, Any]] = (),
                   open_instructions: Sequence[Mapping[str, Any]] = (), mask: bool = True) -> dict:
    """The handover as of now for the shift that began at ``since``.

    ``shift``: the roster's shift ending (name, starts_at, ends_at, officer, leader) and the
    incoming one (``next``), when the desk has a roster. ``display(actor) -> str`` names actors
    (staff names); the default shows them as recorded."""
    show = display or (lambda actor: "系统" if not actor or actor.startswith("[") else actor)
    now = svc.clock()
    open_incs = svc.list()
    evs = timeline.events_for(svc.db, [i.id for i in open_incs])
    rows = []
    for inc in open_incs:
        c = compute_clock(svc.policy, evs[inc.id], now)
        rows.append({"id": inc.id, "title": inc.title, "state": inc.state, "severity": inc.severity,
                     "release_due": inc.release_due, "clock": c.status_label,
                     "remaining_seconds": None if c.remaining is None or c.status in ("released", "closed")
                     else int(c.remaining.total_seconds()),
                     "units": units_label(inc)})
    rows.sort(key=lambda r: (r["remaining_seconds"] is None, r["remaining_seconds"] or 0, r["id"]))
    titles = {i.id: i.title for i in svc.list(include_closed=True)}
    done = [{"at": e.at, "incident": e.incident_id, "title": titles.get(e.incident_id, ""),
             "actor": e.actor, "actor_name": show(e.actor), "what": summarize(e)}
            for e in timeline.events_between(svc.db, since, now) if e.incident_id != DESK_TIMELINE]
    proposals = [{"id": p.id, "incident": p.incident_id, "title": titles.get(p.incident_id, ""),
                  "item_id": p.item_id, "score": round(p.score, 2)} for p in list_proposals(svc)]
    report = {
        "title": TITLE, "prepared_at": now, "since": since, "shift": dict(shift) if shift else None,
        "open_incidents": rows, "done": done, "unacked_alerts": [dict(a) for a in unacked_alerts],
        "open_instructions": [dict(i) for i in open_instructions], "pending_proposals": proposals,
        "failing_sources": [dict(s) for s in failing_sources],
    }
    report = clean(report, mask=mask)
    report["chain"] = anchor.record_witness(svc.db.conn, TITLE, timeline.head(svc.db.conn))
    return report


def digest(report: Mapping[str, Any]) -> str:
    """A short fingerprint of what was handed over (the witness excluded)."""
    body = {k: v for k, v in report.items() if k not in ("chain", "prepared_at")}
    return hashlib.sha256(dumps(body).encode("utf-8")).hexdigest()[:16]


def accept_handover(svc: "IncidentService", actor: str, report: Mapping[str, Any], note: str = "") -> TimelineEvent:
    """Record that ``actor`` (the incoming officer) accepted this handover report."""
    shift = report.get("shift") or {}
    payload = {
        "shift": shift.get("name"), "from": shift.get("officer"), "to": actor,
        "open_incidents": [r["id"] for r in report["open_incidents"]],
        "unacked_alerts": len(report["unacked_alerts"]), "open_instructions": len(report["open_instructions"]),
        "pending_proposals": len(report["pending_proposals"]), "failing_sources": len(report["failing_sources"]),
        "digest": digest(report), "note": note,
    }
    with transaction(svc.db) as conn:
        return timeline.append(conn, DESK_TIMELINE, ACCEPTED, actor, svc.clock(), payload)


# ------------------------------------------------------------------ rendering

def _meta(rep: Mapping[str, Any]) -> str:
    shift = rep.get("shift") or {}
    parts = [f"交班时间 {fmt_time(rep['prepared_at'])}（{zone_label()}）", f"本班自 {fmt_time(rep['since'])}"]
    if shift.get("name"):
        parts.append(f"班次 {shift['name']}（值班员 {shift.get('officer_name') or shift.get('officer') or '—'}，"
                     f"带班领导 {shift.get('leader_name') or shift.get('leader') or '—'}）")
    nxt = shift.get("next") or {}
    if nxt:
        parts.append(f"接班 {nxt.get('name') or ''}（值班员 {nxt.get('officer_name') or nxt.get('officer') or '—'}）")
    w = rep.get("chain")
    if w:
        parts.append(f"时间线见证 {w['count']}:{w['head'][:16]}")
    return " · ".join(parts)


def _remaining(r: Mapping[str, Any]) -> str:
    secs = r.get("remaining_seconds")
    if secs is None:
        return "—"
    from datetime import timedelta

    return fmt_duration(timedelta(seconds=secs))


def handover_sections(rep: Mapping[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(heading, header, rows) per section, shared by every format."""
    def t(v) -> str:
        return fmt_time(v if isinstance(v, datetime) else from_db(v) if v else None)

    return [
        (f"在办事件（{len(rep['open_incidents'])} 起，按剩余时间）",
         ["编号", "事件", "等级", "状态", "发布时限", "计时", "剩余", "责任单位"],
         [[str(r["id"]), r["title"], r["severity"], r["state"], t(r["release_due"]), r["clock"], _remaining(r),
           r["units"]] for r in rep["open_incidents"]]),
        (f"未确认的预警（{len(rep['unacked_alerts'])} 条）", ["预警", "事件", "发出时间", "升级", "内容"],
         [[str(a.get("id", "")), str(a.get("incident") or "—"), t(a.get("sent_at")), str(a.get("step") or "—"),
           str(a.get("text") or "")] for a in rep["unacked_alerts"]]),
        (f"待落实的领导批示（{len(rep['open_instructions'])} 条）", ["批示", "事件", "领导", "要求", "时限", "状态"],
         [[str(i.get("id", "")), str(i.get("incident") or "—"), str(i.get("leader_name") or i.get("leader") or ""),
           str(i.get("text") or ""), t(i.get("due")), "已超时" if i.get("overdue") else "待落实"]
          for i in rep["open_instructions"]]),
        (f"待确认的发布线索（{len(rep['pending_proposals'])} 条）", ["线索", "事件", "条目", "得分"],
         [[str(p["id"]), f"#{p['incident']} {p['title']}", str(p["item_id"]), f"{p['score']:.2f}"]
          for p in rep["pending_proposals"]]),
        (f"异常信息源（{len(rep['failing_sources'])} 个）", ["信息源", "问题", "最近成功"],
         [[str(s.get("name") or s.get("id")), str(s.get("problem") or ""), t(s.get("last_success_at"))]
          for s in rep["failing_sources"]]),
        (f"本班处置记录（{len(rep['done'])} 条）", ["时间", "事件", "操作人", "内容"],
         [[t(d["at"]), f"#{d['incident']} {d['title']}", d["actor_name"], d["what"]] for d in rep["done"]]),
    ]


def _json_default(v: Any) -> Any:
    if isinstance(v, datetime):
        return desk_iso(v)
    return str(v)


#: the template of each rendered format (responders/exports/templates.py; the desk home's own first)
TEMPLATES = {"md": "handover.md.j2", "html": "handover.html.j2", "docx": "handover.docx"}


def render_handover(rep: Mapping[str, Any], fmt: str, home: Any = None) -> bytes:
    if fmt == "json":
        return json.dumps(rep, ensure_ascii=False, indent=2, default=_json_default).encode("utf-8")
    if fmt not in TEMPLATES:
        raise HandoverError(f"交接班报告不支持格式「{fmt}」，可选：{'、'.join(FORMATS)}")
    from responders.exports.templates import render_docx, render_text

    ctx = {"title": rep["title"], "meta": _meta(rep), "report": rep,
           "sections": [{"heading": h, "header": header, "rows": rows} for h, header, rows in handover_sections(rep)]}
    if fmt == "docx":
        return render_docx(TEMPLATES[fmt], ctx, home)
    return render_text(TEMPLATES[fmt], ctx, home).encode("utf-8")


def failing_source_rows(health: Iterable[Any]) -> list[dict]:
    """Rows for the handover from intake's source health: enabled sources failing or gone silent."""
    out = []
    for h in health:
        if not h.enabled:
            continue
        if h.error_streak:
            problem = f"连续失败 {h.error_streak} 次：{h.last_error or ''}"
        elif h.silent:
            problem = "长时间无新条目"
        else:
            continue
        out.append({"id": h.source_id, "name": h.name, "problem": problem, "last_success_at": h.last_success_at})
    return out
