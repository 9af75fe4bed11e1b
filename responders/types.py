"""Domain types of the response half of the desk: incidents, releases, the clock.

Every datetime is timezone-aware UTC. State, severity, verification and channel
values are the exact Chinese strings shown to staff.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, Callable, Mapping

from classifiers.types import SEVERITIES  # noqa: F401  (the one severity scale, re-exported)

# ---------------------------------------------------------------- vocabularies

#: The forward path of an incident.
FLOW_STATES = ("发现", "研判", "交办", "已发布权威信息", "持续发布", "处置结果已发布", "归档")
#: Dismissals: reachable from any open state, with a required reason.
DISMISS_STATES = ("误报", "不予处置")
STATES = FLOW_STATES + DISMISS_STATES
#: States in which an incident is still being handled (clock, joining, alerts).
OPEN_STATES = FLOW_STATES[:-1]
#: States from which archiving (归档) is allowed.
ARCHIVABLE_STATES = ("处置结果已发布",) + DISMISS_STATES

VERIFICATIONS = ("待核实", "已核实", "不实信息", "反转")
CHANNELS = ("政府网站", "政务微博", "政务微信", "新闻发布会", "媒体采访", "其他")

#: Release kinds: machine word -> label.
RELEASE_KINDS = {"authoritative": "首次权威发布", "progress": "动态", "final": "处置结果"}

#: Clock status values (ClockState.status) -> label.
CLOCK_STATUSES = {
    "normal": "正常",
    "warning": "预警",
    "urgent": "紧急",
    "overdue": "已超时",
    "released": "已发布",
    "closed": "已结束",
}

#: Feedback status values (UnitFeedback.status) -> label. on_time/late/overdue are charged to the
#: unit; pending is still within the window; void: withdrawn or closed before the due time unanswered.
FEEDBACK_STATUSES = {
    "on_time": "按时反馈",
    "late": "超时反馈",
    "overdue": "超时未反馈",
    "pending": "待反馈",
    "void": "不计（到期前已撤销交办或结束）",
}

#: Timeline event kinds (payload keys documented in responders/incidents.py).
EVENT_KINDS = (
    "detected", "candidate_joined", "item_linked", "item_unlinked", "clock_set", "graded", "assigned",
    "unassigned", "acknowledged", "note", "release", "followup", "verification", "state_changed", "merged",
    "merged_into", "split", "split_from", "clock_alert", "release_proposed", "release_rejected",
    "alert_sent", "alert_failed", "dismissed", "archived", "alert_acked",
)


# ---------------------------------------------------------------- candidates

@dataclass(frozen=True)
class IncidentCandidate:
    """What the story stage hands over: a story that may need a response."""

    story_id: str
    title: str
    first_published: datetime
    detected_at: datetime
    places: tuple[Mapping[str, Any], ...] = ()  # {"code", "name", "level"}
    departments: tuple[str, ...] = ()
    responsible_units: tuple[str, ...] = ()
    topic: str = "其他"
    severity: str = "一般"
    severity_reasons: tuple[str, ...] = ()
    item_ids: tuple[int | str, ...] = ()
    evidence: tuple[Mapping[str, Any], ...] = ()  # title, text, url, published, source, rank, content_hash
    trigger: str = ""  # why the story became a candidate
    first_published_basis: str = ""  # which time first_published is and why (Chinese, for staff)
    same_event_as: int | None = None  # an open incident the story stage found telling the same event


# ---------------------------------------------------------------- incidents

@dataclass(frozen=True)
class Release:
    id: int
    incident_id: int
    kind: str  # one of RELEASE_KINDS
    channel: str  # one of CHANNELS
    url: str
    released_at: datetime
    text: str
    recorded_at: datetime
    actor: str
    source_item_id: str | None = None  # set when confirmed from a detected own-channel item

    @property
    def kind_label(self) -> str:
        return RELEASE_KINDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class Evidence:
    id: int
    incident_id: int
    item_id: str | None
    title: str
    text: str
    url: str | None
    published: datetime | None
    source: str | None
    rank: int | None
    content_hash: str | None
    added_at: datetime


@dataclass(frozen=True)
class Incident:
    id: int
    title: str
    state: str
    severity: str
    tier: str  # the clock tier: the severity unless overridden (e.g. "ordinary")
    verification: str
    topic: str
    first_published: datetime
    detected_at: datetime
    clock_started_at: datetime
    release_due: datetime
    created_at: datetime
    updated_at: datetime
    places: tuple[Mapping[str, Any], ...] = ()
    departments: tuple[str, ...] = ()
    responsible_units: tuple[str, ...] = ()  # suggested by the routing matrix (never charged)
    assigned_units: tuple[str, ...] = ()  # assigned (交办) by staff: charged in the league table
    severity_reasons: tuple[str, ...] = ()
    trigger: str = ""
    story_ids: tuple[str, ...] = ()
    item_ids: tuple[str, ...] = ()
    acknowledged_at: datetime | None = None
    released_at: datetime | None = None  # first release (authoritative or final)
    final_at: datetime | None = None  # final-result release
    closed_at: datetime | None = None  # archived or dismissed
    dismiss_reason: str | None = None
    merged_into: int | None = None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES and self.merged_into is None

    @property
    def suggested_units(self) -> tuple[str, ...]:
        """Units the routing matrix suggested that nobody has assigned (yet)."""
        return tuple(u for u in self.responsible_units if u not in self.assigned_units)

    @property
    def towns(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(p for p in self.places if p.get("level") == "town")


@dataclass(frozen=True)
class JoinResult:
    """What ``IncidentService.open_or_join`` did with a candidate: the incident it opened or
    joined, ``opened`` (that incident when it was opened now, None when the candidate joined an
    open one) and ``incident``, read on first use when it was joined (the pipeline does not need it)."""

    incident_id: int
    opened: Incident | None
    load: Callable[[int], Incident] = field(repr=False, compare=False)

    @cached_property
    def incident(self) -> Incident:
        return self.opened if self.opened is not None else self.load(self.incident_id)


@dataclass(frozen=True)
class TimelineEvent:
    id: int
    incident_id: int
    seq: int  # 1, 2, 3 ... within the incident
    kind: str
    actor: str
    at: datetime
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_event_id: int | None = None
    reason: str = ""
    notes: tuple[str, ...] = ()  # what was and was not checked (anchoring, witnesses)


# ---------------------------------------------------------------- clock

@dataclass(frozen=True)
class ClockAlert:
    """One reminder the clock wants sent: a warning, an overdue escalation or a follow-up."""

    key: str  # stable id, recorded in the clock_alert event once fired
    kind: str  # warning | overdue | followup
    point: datetime  # when it became due
    hours_left: float | None  # warnings: the configured hours left; overdue: negative hours past due
    late: bool = False  # now is past `point` by more than the grace (e.g. missed while down)

    def to_json(self) -> dict:
        return {
            "key": self.key, "kind": self.kind, "point": self.point.isoformat(),
            "hours_left": self.hours_left, "late": self.late,
        }


@dataclass(frozen=True)
class ClockState:
    status: str  # one of CLOCK_STATUSES
    tier: str
    hours: float  # the tier's release window
    started_at: datetime
    due_at: datetime
    remaining: timedelta  # negative when overdue; frozen at the release when stopped
    released_at: datetime | None = None
    released_on_time: bool | None = None
    final_at: datetime | None = None
    due_alerts: tuple[ClockAlert, ...] = ()  # due now and not yet fired
    fired: tuple[str, ...] = ()  # keys already fired
    next_alert_at: datetime | None = None  # the next future point (for the scheduler)
    followup_due_at: datetime | None = None
    start_basis: str = ""  # which time the clock started from and why (Chinese, for staff)

    @property
    def status_label(self) -> str:
        return CLOCK_STATUSES[self.status]


@dataclass(frozen=True)
class UnitFeedback:
    """One assignment (交办) of a unit and the feedback (反馈) it owes."""

    unit: str
    assigned_at: datetime
    due_at: datetime
    hours: float  # the feedback window in force when the unit was assigned
    status: str  # one of FEEDBACK_STATUSES
    fed_back_at: datetime | None = None  # the unit's first feedback in this assignment
    ended_at: datetime | None = None  # unassigned or the incident closed (no feedback owed after)

    @property
    def status_label(self) -> str:
        return FEEDBACK_STATUSES[self.status]

    @property
    def charged(self) -> bool:
        """Decided against or for the unit (counts in its on-time rate)."""
        return self.status in ("on_time", "late", "overdue")

    def to_json(self) -> dict:
        return {"unit": self.unit, "assigned_at": self.assigned_at.isoformat(), "due_at": self.due_at.isoformat(),
                "hours": self.hours, "status": self.status,
                "fed_back_at": self.fed_back_at.isoformat() if self.fed_back_at else None,
                "ended_at": self.ended_at.isoformat() if self.ended_at else None}


# ---------------------------------------------------------------- release detection

@dataclass(frozen=True)
class ReleaseProposal:
    id: int
    incident_id: int
    item_id: str
    score: float
    evidence: Mapping[str, Any]  # matched places/departments, similarity, shared words, item title/url
    status: str  # proposed | confirmed | rejected
    created_at: datetime
    release_id: int | None = None


@dataclass(frozen=True)
class OwnChannelItem:
    """An item from a source marked own_channel = true, as release detection sees it."""

    item_id: str
    title: str
    text: str
    url: str | None
    published: datetime | None
    source_id: str
    platform: str = "own"  # the source's platform: gov | weibo | own | ...
    source_name: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
