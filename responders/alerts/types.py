"""Domain types of the alert channels: alerts, channel configuration, delivery results.

Every datetime is timezone-aware (UTC when the desk creates it). Secrets live in
``ChannelConfig`` fields that are excluded from ``repr`` so they never reach a log
line by accident; ``redact.py`` scrubs them from any other string.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Mapping

from classifiers.types import SEVERITIES, severity_rank  # noqa: F401  (the one scale, re-exported)
from responders.exceptions import ResponderError

# ---------------------------------------------------------------- vocabularies

LANES = ("breaking", "digest")
#: Channel types and the platform each one speaks.
CHANNEL_TYPES = ("wecom", "dingtalk", "feishu", "webhook", "email", "desktop", "tui")
CHANNEL_LABELS = {
    "wecom": "企业微信群机器人",
    "dingtalk": "钉钉群机器人",
    "feishu": "飞书群机器人",
    "webhook": "通用 Webhook",
    "email": "电子邮件",
    "desktop": "桌面通知",
    "tui": "值班台界面",
}
#: Platform rate limits: (messages, per seconds). Several limits all apply.
DEFAULT_RATE_LIMITS: dict[str, tuple[tuple[int, float], ...]] = {
    "wecom": ((20, 60.0),),
    "dingtalk": ((20, 60.0),),
    "feishu": ((5, 1.0), (100, 60.0)),
    "webhook": ((60, 60.0),),
    "email": ((10, 60.0),),
    "desktop": ((30, 60.0),),
    "tui": (),
}
#: Maximum message size in UTF-8 bytes (the body a platform accepts).
DEFAULT_MAX_BYTES = {
    "wecom": 4096,
    "dingtalk": 20000,
    "feishu": 20000,
    "webhook": 65536,
    "email": 262144,
    "desktop": 1024,
    "tui": 8192,
}


# ---------------------------------------------------------------- errors

class AlertError(ResponderError):
    """Base of every expected alert error. Messages never contain secrets."""


class AlertConfigError(AlertError, ValueError):
    """The [alerts] configuration is wrong. The message names the key and the problem.
    Also a ValueError, so desk-config loading reports it as a config error."""


class ChannelError(AlertError):
    """One send failed. ``retryable`` is False for errors that a retry will not fix
    (bad signature, invalid webhook key, unavailable desktop notifier)."""

    def __init__(self, message: str, *, retryable: bool = True, status: int | None = None,
                 code: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.code = code
        #: Seconds the platform asked us to wait (HTTP ``Retry-After``), if it said.
        self.retry_after = retry_after


# ---------------------------------------------------------------- alerts

@dataclass(frozen=True)
class Alert:
    """One thing to tell the duty staff.

    ``key`` is the dedup key: two alerts with the same key inside the dedup window
    are one alert (e.g. ``incident:12:opened`` or ``item:abc``). ``folded`` lists the
    ids of the alerts a digest message stands for (empty for a plain alert);
    ``escalation_tier`` is 0 for the first send and k for the k-th escalation;
    ``mentions`` are the people this send is for (the officer on duty, the leader on
    duty at an escalation...), @-mentioned where the platform can.
    """

    id: str
    key: str
    lane: str
    title: str
    body_markdown: str
    body_text: str
    created_at: datetime
    severity: str = "一般"
    incident_id: int | str | None = None
    item_ids: tuple[int | str, ...] = ()
    topics: tuple[str, ...] = ()
    towns: tuple[str, ...] = ()
    url: str | None = None
    folded: tuple[str, ...] = ()
    escalation_tier: int = 0
    #: The desk's own link to the incident, set per send by ``formats.prepare`` (never
    #: the feed's ``url``: robot messages link only here).
    desk_url: str | None = None
    mentions: tuple["Mention", ...] = ()
    #: Sent again after the desk stopped in the middle of sending it: the channel may
    #: already have it (the message says so).
    resent: bool = False

    def __post_init__(self):
        if self.lane not in LANES:
            raise AlertError(f"alert lane must be one of {', '.join(LANES)}, got {self.lane!r}")
        if self.created_at.tzinfo is None:
            raise AlertError(f"alert created_at must be timezone-aware, got {self.created_at!r}")
        if not self.key:
            raise AlertError("alert key must not be empty")

    @classmethod
    def new(cls, *, key: str, lane: str, title: str, created_at: datetime,
            body_markdown: str | None = None, body_text: str | None = None, **kw: Any) -> "Alert":
        """Make an alert with a fresh id; a missing body is derived from the other one or the title."""
        md = body_markdown if body_markdown is not None else (body_text or title)
        text = body_text if body_text is not None else (body_markdown or title)
        for name in ("item_ids", "topics", "towns", "folded", "mentions"):
            if name in kw and kw[name] is not None:
                kw[name] = tuple(kw[name])
        return cls(id=uuid.uuid4().hex[:12], key=key, lane=lane, title=title, body_markdown=md,
                   body_text=text, created_at=created_at, **kw)

    @property
    def count(self) -> int:
        """How many alerts this message stands for."""
        return max(1, len(self.folded))


#: Duty roles a message may be for, as staff read them.
DUTY_LABELS = {"officer": "值班员", "leader": "带班领导", "staff": ""}


@dataclass(frozen=True)
class Mention:
    """A person a message is for, with their ids on each platform (None when unknown).
    ``staff_id`` empty means the duty role was wanted but nobody is on duty."""

    staff_id: str
    name: str
    duty: str = "staff"  # officer | leader | staff
    wecom: str | None = None  # 企业微信 userid
    dingtalk: str | None = None  # 钉钉 mobile number
    feishu: str | None = None  # 飞书 open_id
    email: str | None = None

    @property
    def label(self) -> str:
        """How the message names them: 带班领导 李四, or 带班领导（当前无人在岗）."""
        role = DUTY_LABELS.get(self.duty, "")
        if not self.staff_id:
            return f"{role or '值班人员'}（当前无人在岗）"
        return f"{role} {self.name}".strip()

    def to_dict(self) -> dict:
        return {"staff_id": self.staff_id, "name": self.name, "duty": self.duty, "wecom": self.wecom,
                "dingtalk": self.dingtalk, "feishu": self.feishu, "email": self.email}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Mention":
        return cls(**{k: d.get(k) for k in ("staff_id", "name", "duty", "wecom", "dingtalk", "feishu", "email")
                      if k in d})


# ---------------------------------------------------------------- configuration

@dataclass(frozen=True)
class ChannelConfig:
    """One destination. Secrets (``url`` for robots carries the key, ``secret``,
    ``password``) are kept out of ``repr``."""

    name: str
    type: str
    url: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    rate_limits: tuple[tuple[int, float], ...] = ()
    max_bytes: int = 4096
    timeout: float = 10.0
    honours_quiet_hours: bool = True
    mask_personal: bool = True
    msg_type: str = ""  # feishu: interactive (default) | text | post
    # e-mail
    smtp_host: str = ""
    smtp_port: int = 0
    smtp_security: str = "starttls"  # starttls | ssl | none
    username: str = ""
    password: str = field(default="", repr=False)
    mail_from: str = ""
    mail_to: tuple[str, ...] = ()
    # generic webhook
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: Set when the channel cannot work (e.g. an env var for its secret is unset);
    #: the dispatcher then skips it and reports this reason.
    problem: str = ""

    @property
    def label(self) -> str:
        return f"{CHANNEL_LABELS.get(self.type, self.type)}「{self.name}」"

    def secrets(self) -> tuple[str, ...]:
        """Every secret string of this channel (for redaction)."""
        out = [s for s in (self.secret, self.password) if s]
        if self.url and self.type in ("wecom", "dingtalk", "feishu", "webhook"):
            out.append(self.url)
        out.extend(v for k, v in self.headers.items() if v and k.lower() in _SECRET_HEADERS)
        return tuple(out)


_SECRET_HEADERS = {"authorization", "x-api-key", "x-token", "x-auth-token", "proxy-authorization"}


@dataclass(frozen=True)
class Rule:
    """Which alerts go to which channels. Empty filters match everything; a
    non-empty ``topics``/``towns`` matches an alert sharing at least one value."""

    name: str
    channels: tuple[str, ...]
    lanes: tuple[str, ...] = LANES
    min_severity: str = "一般"
    topics: tuple[str, ...] = ()
    towns: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuietHours:
    """A local-time window (may span midnight) in which channels honouring quiet
    hours hold their messages; breaking alerts pierce it when ``breaking_pierces``."""

    start: time
    end: time
    tz: Any  # ZoneInfo
    breaking_pierces: bool = True
    text: str = ""


#: Who an escalation step goes to: ``officer`` / ``leader`` (on duty when the step fires),
#: ``staff:ID`` (a staff member), ``channel:NAME`` (a configured channel, no mention).
PERSON_TARGETS = ("officer", "leader")


@dataclass(frozen=True)
class EscalationStep:
    """One step of the policy, sent ``after_minutes`` after the previous send of the
    alert (its first send for step 1) if nobody has acknowledged it."""

    after_minutes: float
    targets: tuple[str, ...]

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels named directly (``channel:NAME``)."""
        return tuple(t[len("channel:"):] for t in self.targets if t.startswith("channel:"))

    @property
    def people(self) -> tuple[str, ...]:
        """The person targets (``officer``, ``leader``, ``staff:ID``)."""
        return tuple(t for t in self.targets if not t.startswith("channel:"))


#: The former name (``[[alerts.escalation.tiers]]`` with channels).
EscalationTier = EscalationStep


@dataclass(frozen=True)
class EscalationPolicy:
    """``steps`` is the whole policy unrolled (the leader step of ``escalate_after``,
    each step's repeats, the policy's repeats): step k is sent when an alert stays
    unacknowledged ``steps[k].after_minutes`` after its previous send. Alerts in
    ``lanes`` with at least ``min_severity`` wait for acknowledgement and escalate."""

    steps: tuple[EscalationStep, ...] = ()
    lanes: tuple[str, ...] = ("breaking",)
    min_severity: str = "一般"

    @property
    def tiers(self) -> tuple[EscalationStep, ...]:
        return self.steps


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: float = 5.0
    max_seconds: float = 300.0

    def delay(self, attempt: int) -> float:
        """Delay before attempt ``attempt + 1`` after ``attempt`` failed (1-based): capped doubling."""
        return min(self.max_seconds, self.base_seconds * (2 ** max(0, attempt - 1)))


@dataclass(frozen=True)
class AlertsConfig:
    channels: Mapping[str, ChannelConfig] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    quiet_hours: QuietHours | None = None
    dedup_window: timedelta = timedelta(minutes=30)
    digest_every: timedelta = timedelta(minutes=60)
    escalation: EscalationPolicy = field(default_factory=EscalationPolicy)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    mask_personal: bool = True
    enabled: bool = True
    incident_url: str = ""  # template with {id}: the desk's own link in messages
    #: Where people on duty are @-mentioned; empty: the channels the alert was routed to.
    duty_channels: tuple[str, ...] = ()
    #: Fallback duty (staff ids) for a desk without a roster entry for now.
    duty_officer: str = ""
    duty_leader: str = ""

    def secrets(self) -> tuple[str, ...]:
        out: list[str] = []
        for ch in self.channels.values():
            out.extend(ch.secrets())
        return tuple(out)

    def problems(self) -> list[str]:
        return [f"{ch.label}: {ch.problem}" for ch in self.channels.values() if ch.problem]


# ---------------------------------------------------------------- results

@dataclass(frozen=True)
class Delivery:
    """The result of one send attempt of one alert (or folded digest) to one channel."""

    alert_id: str
    channel: str
    ok: bool
    at: datetime
    attempt: int = 1
    error: str | None = None
    final: bool = True  # False when a retry is scheduled
    folded: tuple[str, ...] = ()
    escalation_tier: int = 0


@dataclass(frozen=True)
class TuiNotice:
    """What the 'tui' channel puts on the console's queue."""

    alert: Alert
    text: str
    bell: bool
    at: datetime
