"""Acknowledging an alert as a staff member, from any process (CLI, console).

The acknowledgement (who, when) is stored on the alert's track, which stops its
escalation at the dispatcher's next tick; an alert about an incident also puts an
``alert_acked`` event on that incident's timeline (actor: the staff id), in the same
transaction, so the record outlives the alert state and is covered by the hash chain.
A folded digest's id acknowledges every alert it stood for.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from responders.alerts.store import AlertRecord, ack_alert, digest_members, get_alert
from responders.alerts.types import AlertError
from responders.exceptions import IncidentNotFound
from storage.db import transaction


@dataclass(frozen=True)
class AckResult:
    """``acked``: the alerts newly acknowledged now; ``earlier``: those someone had
    already acknowledged (as stored: who and when)."""

    acked: tuple[AlertRecord, ...]
    earlier: tuple[AlertRecord, ...]


def acknowledge(svc, alert_id: str, actor: str, now: datetime | None = None) -> AckResult:
    """Acknowledge ``alert_id`` as ``actor`` (a checked staff id) through the incident
    service ``svc`` (its database and clock). Raises AlertError for an unknown id."""
    now = now or svc.clock()
    alert_id = (alert_id or "").strip()
    if not alert_id:
        raise AlertError("请给出告警编号（见 yuqing alerts）")
    with transaction(svc.db):
        fresh = set(ack_alert(svc.db, alert_id, actor, now))
        records = [r for r in (get_alert(svc.db, i) for i in digest_members(svc.db, alert_id)) if r is not None]
        for rec in records:
            if rec.alert.id not in fresh or rec.alert.incident_id is None:
                continue
            try:
                svc.record_event(int(rec.alert.incident_id), "alert_acked",
                                 {"alert_id": rec.alert.id, "step": rec.step, "title": rec.alert.title},
                                 actor=actor)
            except (IncidentNotFound, ValueError):
                continue  # the alert named no incident of this desk: the ack itself is kept
    return AckResult(tuple(r for r in records if r.alert.id in fresh),
                     tuple(r for r in records if r.alert.id not in fresh))


def acknowledge_incident(svc, incident_id: int, actor: str, now: datetime | None = None) -> AckResult:
    """Acknowledge every alert of ``incident_id`` still waiting (the console's key on a
    board row). Nothing waiting gives an empty result."""
    from responders.alerts.store import list_alerts

    acked: list[AlertRecord] = []
    with transaction(svc.db):
        for rec in list_alerts(svc.db, open_only=True):
            if rec.alert.incident_id is not None and str(rec.alert.incident_id) == str(incident_id):
                acked.extend(acknowledge(svc, rec.alert.id, actor, now).acked)
    return AckResult(tuple(acked), ())
