"""The 舆情处置报告 of one incident as plain data, shared by every export format.

:func:`build_report` reads the incident, its timeline, releases and evidence
and returns a dict whose strings are already scrubbed of secrets and (by
default) masked of personal data. Times stay aware datetimes (UTC); renderers
show them in Asia/Shanghai with :func:`fmt_time`.
"""
from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Mapping

from responders.clock import compute_clock
from responders.masking import clean
from responders.review import review_for_report
from responders.types import CLOCK_STATUSES, RELEASE_KINDS, TimelineEvent
from storage.timeutil import desk_text

if TYPE_CHECKING:
    from responders.incidents import IncidentService

KIND_LABELS = {
    "detected": "发现", "candidate_joined": "并入报道", "item_linked": "关联条目", "item_unlinked": "移除条目",
    "clock_set": "时限设定", "graded": "定级", "assigned": "交办", "unassigned": "撤销交办", "acknowledged": "确认接报", "note": "备注",
    "release": "发布", "followup": "跟进", "verification": "核实", "state_changed": "状态变更", "merged": "合并",
    "merged_into": "并入其他事件", "split": "拆分", "split_from": "拆分产生", "clock_alert": "时限提醒",
    "release_proposed": "检测到发布", "release_rejected": "驳回发布检测", "alert_sent": "告警已发送",
    "alert_failed": "告警发送失败", "dismissed": "结案", "archived": "归档", "alert_acked": "确认告警",
    "instruction": "领导批示", "instruction_done": "批示反馈",
    "review": "复盘", "review_action": "整改事项",
}
CLOCK_REASONS = {
    "opened": "立案", "regrade": "重新定级", "earlier first publication": "发现更早的首发",
    "merge: earlier first publication": "合并后首发更早", "split": "拆分",
}
ITEM_REASONS = {"detected": "立案", "manual": "手动", "split": "拆分"}
ALERT_KIND_LABELS = {"warning": "预警", "overdue": "超时", "followup": "跟进提醒"}


def fmt_time(dt: datetime | None) -> str:
    """'2026-06-14 10:00' in Asia/Shanghai ('' for None)."""
    return desk_text(dt, offset=False, none="")


def fmt_iso(value: str | None) -> str:
    if not value:
        return ""
    return fmt_time(datetime.fromisoformat(value))


def fmt_duration(td: timedelta | None) -> str:
    if td is None:
        return "—"
    secs = td.total_seconds()
    sign = "-" if secs < 0 else ""
    secs = abs(int(secs))
    h, rem = divmod(secs, 3600)
    return f"{sign}{h}小时{rem // 60:02d}分"


def summarize(ev: TimelineEvent) -> str:
    """One line of Chinese describing a timeline event."""
    p: Mapping[str, Any] = ev.payload
    k = ev.kind
    if k == "detected":
        return f"发现：{p.get('title') or ''}（触发：{p.get('trigger') or '—'}）"
    if k == "clock_set":
        return f"时限设定：{p.get('tier')} {p.get('hours'):g} 小时，截止 {fmt_iso(p.get('due_at'))}（{CLOCK_REASONS.get(p.get('reason'), p.get('reason', ''))}）"
    if k == "graded":
        return f"定级：{p.get('from')} → {p.get('to')}；理由：{'；'.join(p.get('reasons') or []) or '—'}"
    if k in ("assigned", "unassigned"):
        return f"{KIND_LABELS[k]}：{'、'.join(p.get('units') or [])}"
    if k == "acknowledged":
        return "确认接报"
    if k == "followup" and p.get("unit"):
        return f"反馈（{p['unit']}）：{p.get('text', '')}"
    if k in ("note", "followup"):
        return f"{KIND_LABELS[k]}：{p.get('text', '')}"
    if k == "release":
        return (f"发布（{RELEASE_KINDS.get(p.get('kind'), p.get('kind'))}）：{p.get('channel')} "
                f"{fmt_iso(p.get('released_at'))} {p.get('url', '')} {p.get('text', '')}").strip()
    if k == "verification":
        return f"核实状态：{p.get('from')} → {p.get('to')} {p.get('note') or ''}".strip()
    if k == "state_changed":
        return f"状态：{p.get('from')} → {p.get('to')}" + (f"（{p['reason']}）" if p.get("reason") else "")
    if k == "dismissed":
        return f"结案（{p.get('state')}）：{p.get('reason')}"
    if k in ("item_linked", "item_unlinked"):
        ids = p.get("item_ids") or []
        reason = ITEM_REASONS.get(p.get("reason"), p.get("reason"))
        return f"{KIND_LABELS[k]} {len(ids)} 条：{', '.join(map(str, ids[:10]))}" + (f"（{reason}）" if reason else "")
    if k == "candidate_joined":
        return f"并入报道 {p.get('story_id')}：{p.get('reason')}"
    if k == "merged":
        return f"合并事件 {', '.join('#' + str(o) for o in p.get('others') or [])}"
    if k == "merged_into":
        return f"并入事件 #{p.get('target')}"
    if k == "split":
        return f"拆分出事件 #{p.get('new_incident')}（条目 {', '.join(p.get('item_ids') or [])}）"
    if k == "split_from":
        return f"由事件 #{p.get('incident')} 拆分产生"
    if k == "clock_alert":
        label = ALERT_KIND_LABELS.get(p.get("kind"), p.get("kind"))
        extra = f"剩余 {p.get('hours_left'):g} 小时" if p.get("kind") == "warning" and p.get("hours_left") is not None else ""
        return f"时限提醒（{label}）{extra}" + ("（迟发）" if p.get("late") else "")
    if k == "release_proposed":
        return f"检测到疑似发布：{p.get('title') or ''} {p.get('url') or ''}（{p.get('why') or ''}）"
    if k == "release_rejected":
        return f"驳回发布检测 #{p.get('proposal_id')}：{p.get('reason') or ''}"
    if k in ("alert_sent", "alert_failed"):
        detail = p.get("error") or p.get("summary") or p.get("title") or ""
        return f"{KIND_LABELS[k]}：{p.get('channel') or ''} {detail}".strip()
    if k == "alert_acked":
        step = f"（已升级 {p.get('step')} 级）" if p.get("step") else ""
        return f"确认告警 {p.get('alert_id') or ''}{step}：{p.get('title') or ''}".strip()
    if k == "archived":
        return "归档"
    if k == "instruction":
        due = f"（落实时限 {fmt_iso(p.get('due_at'))}）" if p.get("due_at") else ""
        return f"领导批示 #{p.get('instruction_id')}：{p.get('text', '')}{due}"
    if k == "instruction_done":
        return f"批示 #{p.get('instruction_id')} 反馈：{p.get('text', '')}" + ("（超期）" if p.get("late") else "")
    if k in ("review", "review_action"):
        from responders.review import summarize_event

        return summarize_event(k, dict(p))
    return f"{k}"


def spread_series(published: list[datetime]) -> list[tuple[datetime, int]]:
    """Items per hour (UTC hour buckets), gaps filled with zeros; at most 14 days."""
    if not published:
        return []
    buckets = Counter(p.replace(minute=0, second=0, microsecond=0) for p in published)
    start, end = min(buckets), max(buckets)
    if end - start > timedelta(days=14):
        start = end - timedelta(days=14)
    out, t = [], start
    while t <= end:
        out.append((t, buckets.get(t, 0)))
        t += timedelta(hours=1)
    return out


def _note(e, notes: dict) -> dict:
    return notes.get(int(e.item_id), {}) if e.item_id and str(e.item_id).isdigit() else {}


def published_label(e, notes: dict) -> str:
    """The 首发 time as staff read it: the time, and why it is not the feed's own when it was clamped."""
    n = _note(e, notes)
    if n.get("published_note"):
        return f"{fmt_time(e.published)} {n['published_note']}"
    return fmt_time(e.published)


def _versions(e, notes: dict) -> int:
    """How many versions of the item were seen (1: never changed)."""
    return int(_note(e, notes).get("versions") or 1)


def edited_mark(ev: Mapping[str, Any]) -> str:
    """' 〔已修改，共7个版本〕' for evidence whose item was re-served changed; '' otherwise."""
    n = ev.get("versions") or 1
    return f" 〔已修改，共{n}个版本〕" if n > 1 else ""


#: The columns of the 领导批示 table in every export (see :func:`instruction_rows`).
INSTRUCTION_HEADER = ["编号", "批示人", "批示时间", "落实时限", "批示内容", "状态", "反馈人", "反馈时间", "反馈内容"]


def _instructions(svc: "IncidentService", incident_id: int, now: datetime, name) -> list[dict]:
    """The incident's leader instructions (领导批示) with their feedback, for the report."""
    from responders.instructions import STATUS_LABELS, list_instructions

    out = []
    for i in list_instructions(svc.db, incident_ids=[incident_id]):
        status = i.status(now)
        out.append({"id": i.id, "leader": i.leader, "leader_name": name(i.leader), "given_at": i.given_at,
                    "due_at": i.due_at, "text": i.text, "status": status, "status_label": STATUS_LABELS[status],
                    "done_by": i.done_by, "done_by_name": name(i.done_by) if i.done_by else "",
                    "done_at": i.done_at, "feedback": i.feedback or ""})
    return out


def instruction_rows(report: Mapping[str, Any]) -> list[list[str]]:
    """The report's instructions as text rows under :data:`INSTRUCTION_HEADER`."""
    return [[f"#{i['id']}", i["leader_name"], fmt_time(i["given_at"]), fmt_time(i["due_at"]) or "—", i["text"],
             i["status_label"], i["done_by_name"] or "—", fmt_time(i["done_at"]) or "—", i["feedback"] or "—"]
            for i in report.get("instructions", [])]


def build_report(svc: "IncidentService", incident_id: int, *, mask: bool = True,
                 now: datetime | None = None, item_notes=None) -> dict:
    """``item_notes(db, item_ids)`` -> {item id: {"published_note", "versions"}} (see
    ``monitor.store.item_notes``): how the evidence items' 首发 times and versions read."""
    now = now or svc.clock()
    inc = svc.get(incident_id)
    events = svc.timeline(incident_id)
    releases = svc.releases(incident_id)
    evidence = svc.evidence(incident_id)
    clock = compute_clock(svc.policy, events, now)
    from responders.staff import display_name

    names: dict[str, str] = {}

    def name(actor: str) -> str:
        if actor not in names:
            names[actor] = display_name(svc.db, actor)
        return names[actor]

    dated = [e for e in evidence if e.published]
    first = min(dated, key=lambda e: e.published) if dated else None
    notes = item_notes(svc.db, [e.item_id for e in evidence if e.item_id]) if item_notes else {}
    updates = sorted(r.released_at for r in releases)
    gaps = [(b - a).total_seconds() / 3600 for a, b in zip(updates, updates[1:])]
    regularity = "—"
    if gaps:
        regularity = f"发布 {len(updates)} 次，平均间隔 {statistics.mean(gaps):.1f} 小时，最长 {max(gaps):.1f} 小时"
    elif updates:
        regularity = "仅一次发布"
    start = inc.clock_started_at

    report = {
        "generated_at": now,
        "incident": {
            "id": inc.id, "title": inc.title, "state": inc.state, "severity": inc.severity, "tier": inc.tier,
            "verification": inc.verification, "topic": inc.topic,
            "places": [p.get("name") for p in inc.places], "departments": list(inc.departments),
            "responsible_units": list(inc.responsible_units), "assigned_units": list(inc.assigned_units),
            "severity_reasons": list(inc.severity_reasons), "trigger": inc.trigger,
            "first_published": inc.first_published, "detected_at": inc.detected_at,
            "clock_started_at": inc.clock_started_at, "release_due": inc.release_due,
            "acknowledged_at": inc.acknowledged_at, "released_at": inc.released_at, "final_at": inc.final_at,
            "closed_at": inc.closed_at, "dismiss_reason": inc.dismiss_reason, "merged_into": inc.merged_into,
            "item_count": len(inc.item_ids), "story_ids": list(inc.story_ids),
        },
        "clock": {
            "status": clock.status, "status_label": CLOCK_STATUSES[clock.status], "tier": clock.tier,
            "hours": clock.hours, "due_at": clock.due_at, "remaining": clock.remaining,
            "released_on_time": clock.released_on_time,
        },
        "detection": {
            "first_publisher": None if first is None else {
                "source": first.source or "", "title": first.title, "url": first.url or "",
                "published": first.published, "published_label": published_label(first, notes)},
            "clock_start_basis": clock.start_basis,
            "detection_lag": inc.detected_at - inc.first_published,
            "source_count": len({e.source for e in evidence if e.source}),
            "evidence_count": len(evidence),
        },
        "releases": [{
            "kind": r.kind, "kind_label": r.kind_label, "channel": r.channel, "url": r.url,
            "released_at": r.released_at, "text": r.text, "actor": r.actor,
            "detected": r.source_item_id is not None} for r in releases],
        "timeline": [{
            "id": e.id, "seq": e.seq, "at": e.at, "kind": e.kind, "kind_label": KIND_LABELS.get(e.kind, e.kind),
            "actor": e.actor, "actor_name": name(e.actor), "summary": summarize(e), "hash": e.hash} for e in events],
        "instructions": _instructions(svc, incident_id, now, name),
        "timing": {
            "time_to_acknowledge": (inc.acknowledged_at - start) if inc.acknowledged_at else None,
            "time_to_first_release": (inc.released_at - start) if inc.released_at else None,
            "on_time": clock.released_on_time,
            "update_regularity": regularity,
            "update_gaps_hours": [round(g, 2) for g in gaps],
            "time_to_final": (inc.final_at - start) if inc.final_at else None,
        },
        "evidence": [{
            "title": e.title, "text": e.text, "url": e.url or "", "published": e.published, "source": e.source or "",
            "rank": e.rank, "versions": _versions(e, notes)} for e in evidence],
        "spread": spread_series([e.published for e in dated]),
        "review": review_for_report(svc.db, inc.id, now),
    }
    return clean(report, mask=mask)
