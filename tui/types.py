"""Plain dataclasses the console shows: what the facade returns to the UI.

Every datetime is timezone-aware UTC; the widgets convert to Asia/Shanghai.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping


@dataclass(frozen=True)
class BoardRow:
    """One incident on the board; the countdown is computed from ``due_at`` each second."""

    id: int
    title: str
    state: str
    severity: str
    towns: tuple[str, ...]
    units: tuple[str, ...]
    due_at: datetime
    released_at: datetime | None
    acknowledged: bool
    instructions_open: int = 0  # leader instructions (领导批示) not yet fed back
    instructions_overdue: int = 0  # of which past their due time


@dataclass(frozen=True)
class StreamItem:
    id: int
    source_id: str
    title: str
    published: datetime | None
    fetched_at: datetime | None
    topic: str
    sentiment: str
    severity: str
    towns: tuple[str, ...]
    hot: bool
    alert: bool  # an alerting scheme matched


@dataclass(frozen=True)
class DeskStatus:
    now: datetime
    sources_total: int
    sources_ok: int
    sources_failing: int
    sources_silent: int
    items_today: int
    alerts_waiting: int
    daemon_alive: bool
    last_check_at: datetime | None
    #: Labels of the alert channels whose last send failed (robots down, keys revoked).
    alert_channels_failing: tuple[str, ...] = ()
    #: Who works this console, as staff read it (李娜（值班员）); '' on a desk without staff.
    operator: str = ""


@dataclass(frozen=True)
class Snapshot:
    """Everything the dashboard needs, read in one worker call."""

    board: tuple[BoardRow, ...]
    open_total: int
    stream: tuple[StreamItem, ...]
    status: DeskStatus


@dataclass(frozen=True)
class LinkedItem:
    item_id: str | None
    title: str
    source: str
    published: datetime | None
    url: str | None
    first: bool  # the first publisher of the incident
    heat: float | None = None


@dataclass(frozen=True)
class IncidentDetail:
    incident: Any  # responders.types.Incident
    clock: Any  # responders.types.ClockState
    items: tuple[LinkedItem, ...]
    timeline: tuple[Any, ...]  # responders.types.TimelineEvent
    releases: tuple[Any, ...]  # responders.types.Release
    proposals: tuple[Any, ...]  # responders.types.ReleaseProposal (status proposed)
    actor_names: Mapping[str, str] = field(default_factory=dict)  # timeline actor id -> name staff read
    instructions: tuple[Any, ...] = ()  # responders.instructions.Instruction of this incident


@dataclass(frozen=True)
class ItemFilter:
    query: str = ""
    town: str = ""
    topic: str = ""
    sentiment: str = ""
    source: str = ""
    since_hours: float | None = None  # only items fetched in the last N hours
    limit: int = 200


@dataclass(frozen=True)
class ItemRow:
    id: int
    source_id: str
    title: str
    text: str
    url: str | None
    published: datetime | None
    topic: str = ""
    sentiment: str = ""
    towns: tuple[str, ...] = ()
    flagged: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)  # latest staff correction per field
    published_note: str = ""  # why ``published`` is not the feed's own time (clamped at intake)
    versions: int = 1  # versions of the item seen (re-served changed under the same guid)


@dataclass(frozen=True)
class SchemePreview:
    ok: bool
    error: str = ""
    checked: int = 0
    hits: tuple[tuple[int, str, str], ...] = ()  # (item id, title, explanation)


@dataclass(frozen=True)
class Report:
    now: datetime
    per_hour: tuple[tuple[datetime, int], ...]  # local hour start, items fetched
    top_stories: tuple[tuple[str, float, int], ...]  # label, heat, size
    league: tuple[Any, ...]  # responders.reports.LeagueRow


@dataclass(frozen=True)
class DutyShift:
    """A roster shift as the 值班 page shows it (staff names, not ids)."""
    name: str  # 班次
    starts_at: datetime
    ends_at: datetime
    officer: str  # 值班员's name
    leader: str  # 带班领导's name


@dataclass(frozen=True)
class DutyView:
    """The 值班 page: who is on duty, who is next, roster gaps ahead, the handover's counts."""
    now: datetime
    has_roster: bool
    on_duty: DutyShift | None
    next_shift: DutyShift | None
    gaps: tuple[tuple[datetime, datetime], ...]  # stretches of the next hours no shift covers
    gap_hours: int  # how far ahead gaps are looked for
    open_incidents: int
    unacked_alerts: int
    open_instructions: int
    pending_proposals: int
    failing_sources: int
    since: datetime | None  # the shift being handed over began
    last_accepted: tuple[datetime, str] | None  # (when, by whom) the last handover was accepted


@dataclass(frozen=True)
class InstructionRow:
    """An open leader instruction (领导批示) on the 批示 page."""
    id: int
    incident_id: int
    incident_title: str
    leader: str  # name
    text: str
    given_at: datetime
    due_at: datetime | None
    overdue: bool


@dataclass(frozen=True)
class AlertRow:
    """An alert waiting for acknowledgement on the 告警 page."""
    id: str
    title: str
    severity: str
    incident_id: int | None
    created_at: datetime
    sent_at: datetime | None  # the last send (escalations count from it)
    step: int  # escalations sent so far
