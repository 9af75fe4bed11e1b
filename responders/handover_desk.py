"""The desk's handover report as of now: gathers the parts other owners hold (failing sources
from intake, the roster's shifts, unacknowledged alerts, open instructions, staff names) and
hands them to :func:`responders.handover.build_handover`. One function for the CLI
(``yuqing handover``) and the console's 值班 page; :func:`handover_counts` is the cheap summary the
console shows every few seconds (it records no witness of the timeline, unlike a prepared report).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Sequence

if TYPE_CHECKING:
    from responders.incidents import IncidentService

#: Intake's source health, ``(db, now) -> [SourceHealth]``: passed in, as intake is not this floor's.
SourceHealth = Callable[[Any, datetime], Sequence[Any]]
#: The shift is taken to have begun this long ago when no handover was ever accepted.
FALLBACK_SHIFT = timedelta(hours=24)


def shift_began(svc: "IncidentService") -> datetime:
    """When the shift being handed over began: the last accepted handover, else 24 hours ago."""
    from responders import handover

    last = handover.last_acceptance(svc.db)
    return last.at if last is not None else svc.clock() - FALLBACK_SHIFT


def _failing_sources(svc: "IncidentService", now: datetime, source_health: SourceHealth) -> list[dict]:
    from responders import handover

    return handover.failing_source_rows(source_health(svc.db, now)) if svc.db["sources"].exists() else []


def handover_counts(svc: "IncidentService", *, source_health: SourceHealth) -> dict[str, int]:
    """How many of each the handover would list now: ``open_incidents``, ``unacked_alerts``,
    ``open_instructions``, ``pending_proposals``, ``failing_sources``. ``source_health(db, now)``
    is intake's (``monitor.store.source_health``), handed over by the caller."""
    from responders.alerts.store import list_alerts
    from responders.instructions import open_instructions
    from responders.release_detect import list_proposals

    now = svc.clock()
    failing = _failing_sources(svc, now, source_health)
    return {"open_incidents": len(svc.list(links=False)), "unacked_alerts": len(list_alerts(svc.db, open_only=True)),
            "open_instructions": len(open_instructions(svc.db, now)), "pending_proposals": len(list_proposals(svc)),
            "failing_sources": len(failing)}


def prepare_handover(svc: "IncidentService", since: datetime | None = None, *,
                     source_health: SourceHealth) -> dict:
    """The handover report for this desk now: the shift began at ``since``, else at the last
    accepted handover, else 24 hours ago. ``source_health(db, now)`` as for :func:`handover_counts`."""
    from responders import handover, roster, staff
    from responders.alerts.store import waiting_rows
    from responders.instructions import handover_rows

    now = svc.clock()
    if since is None:
        since = shift_began(svc)
    failing = _failing_sources(svc, now, source_health)
    name = lambda a: staff.display_name(svc.db, a)  # noqa: E731
    return handover.build_handover(svc, since=since, display=name, failing_sources=failing,
                                   shift=roster.handover_shift(svc.db, now), unacked_alerts=waiting_rows(svc.db),
                                   open_instructions=handover_rows(svc.db, now, name))
