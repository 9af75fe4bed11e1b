"""What the pipeline tells people, and its wording: one :class:`Notice` per event worth hearing about.

A notice becomes an alert (through the outbox and the dispatcher) and a line on the
console. Titles and bodies are for staff: Simplified Chinese, times in the desk's zone.
"""
from __future__ import annotations

from dataclasses import dataclass

from classifiers.types import SEVERITIES
from storage.timeutil import desk_tz


@dataclass
class Notice:
    """Something the pipeline did that people should hear about (alerts, console lines)."""

    kind: str  # incident_opened | incident_joined | release_proposed | clock | release_recorded
    title: str
    body: str
    incident_id: int | None = None
    severity: str = "一般"
    lane: str = "digest"  # breaking | digest
    key: str = ""
    towns: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    item_ids: tuple[str, ...] = ()
    url: str | None = None
    outbox_id: int | None = None  # its row in the notice outbox until the dispatcher has it


def incident_opened(incident, reason: str) -> Notice:
    """A new incident: breaking, with its towns, units, grade and release deadline."""
    towns = tuple(p["name"] for p in incident.places if p.get("level") == "town")
    due = incident.release_due.astimezone(desk_tz()).strftime("%m-%d %H:%M")
    return Notice(
        "incident_opened", f"新舆情事件：{incident.title}",
        f"{reason}。涉及：{'、'.join(towns) or '本区'}；责任单位：{'、'.join(incident.responsible_units)}；"
        f"级别：{incident.severity}；权威信息发布时限：{due}",
        incident.id, incident.severity, "breaking", f"incident:{incident.id}:opened", towns,
        (incident.topic,), incident.item_ids[:20])


def story_joined(iid: int, sid: str, cand, facts, topic: str) -> list[Notice]:
    """A new story joining an open incident is breaking news of its own when it hits an alert
    scheme or is graded 较大 or above (e.g. an explosion reported while a complaint about the
    same plant is open): people hear about it, they do not find it in the timeline later."""
    if not facts.alert_schemes and SEVERITIES.index(facts.severity) < SEVERITIES.index("较大"):
        return []
    towns = tuple(p["name"] for p in facts.places.values() if p.get("level") == "town")
    return [Notice(
        "incident_joined", f"事件 #{iid} 新增重要报道：{cand.title}",
        f"{cand.trigger}。已并入事件 #{iid}；涉及：{'、'.join(towns) or '本区'}；研判级别：{facts.severity}",
        iid, facts.severity, "breaking", f"incident:{iid}:story:{sid}", towns, (topic,),
        cand.item_ids[:20])]


def release_proposed(proposal) -> Notice:
    """A detected authoritative release, confirmed automatically or waiting for staff."""
    from classifiers.release_kind import KIND_LABELS

    verb = "已自动确认" if proposal.status == "confirmed" else "待确认"
    kind = KIND_LABELS.get(proposal.evidence.get("doc_kind") or "", "发布")
    return Notice("release_proposed", f"检测到权威发布（{kind}，{verb}）：事件 #{proposal.incident_id}",
                  f"{proposal.evidence.get('title', '')} {proposal.evidence.get('why', '')}", proposal.incident_id,
                  key=f"proposal:{proposal.id}")


def clock_alert(incident, state, alert) -> Notice:
    """A release-clock alert: warning, overdue or follow-up reminder (late when the desk was down)."""
    left = state.remaining.total_seconds() / 3600
    if alert.kind == "warning":
        title = f"发布时限预警：事件 #{incident.id} 剩余 {alert.hours_left:g} 小时"
    elif alert.kind == "overdue":
        title = f"已超时：事件 #{incident.id} 超过权威信息发布时限 {-left:.1f} 小时"
    else:
        title = f"后续发布提醒：事件 #{incident.id} 请发布进展或处置结果"
    late = "（守护进程停机期间错过，补发）" if alert.late else ""
    return Notice("clock", title + late, incident.title, incident.id, incident.severity,
                  "breaking" if alert.kind == "overdue" else "digest", f"clock:{incident.id}:{alert.key}")
