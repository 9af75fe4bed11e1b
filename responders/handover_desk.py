"""The desk's handover report as of now: gathers the parts other owners hold (failing sources
from intake, the roster's shifts, unacknowledged alerts, open instructions, staff names) and
hands them to :func:`responders.handover.build_handover`. One function for the CLI
(``yuqing handover``) and the console's 值班 page.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from responders.incidents import IncidentService

#: The shift is taken to have begun this long ago when no handover was ever accepted.
FALLBACK_SHIFT = timedelta(hours=24)


def prepare_handover(svc: "IncidentService", since: datetime | None = None) -> dict:
    """The handover report for this desk now: the shift began at ``since``, else at the last
    accepted handover, else 24 hours ago."""
    from monitor.store import source_health
    from responders import handover, roster, staff
    from responders.alerts.store import waiting_rows
    from responders.instructions import handover_rows

    now = svc.clock()
    if since is None:
        last = handover.last_acceptance(svc.db)
        since = last.at if last is not None else now - FALLBACK_SHIFT
    failing = handover.failing_source_rows(source_health(svc.db, now)) if svc.db["sources"].exists() else []
    name = lambda a: staff.display_name(svc.db, a)  # noqa: E731
    return handover.build_handover(svc, since=since, display=name, failing_sources=failing,
                                   shift=roster.handover_shift(svc.db, now), unacked_alerts=waiting_rows(svc.db),
                                   open_instructions=handover_rows(svc.db, now, name))
