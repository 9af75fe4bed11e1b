"""The release-clock policy: desk.toml's ``[clock]`` table, validated.

Every error names the key (``[clock] release_due_hours.重大``) and the problem.
Tiers: each severity maps to a release window; extra tiers (e.g. ``ordinary``,
48 h) may be configured and chosen per incident when grading.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from responders.exceptions import PolicyError
from responders.types import SEVERITIES

START_MODES = ("first_published", "detected")

DEFAULT_FEEDBACK_DUE_HOURS = 24.0
#: A feedback window longer than this (30 days) is taken for a typo.
MAX_FEEDBACK_DUE_HOURS = 720.0

DEFAULT_RELEASE_DUE_HOURS = {"一般": 24.0, "较大": 24.0, "重大": 5.0, "特别重大": 5.0, "ordinary": 48.0}

#: The [clock] table of the default desk.toml (the lead embeds this string).
DEFAULT_CLOCK_TOML = """\
[clock]
# When the authoritative-release clock starts: "first_published" (the earliest known
# publication of the story, the district rule) or "detected" (when the desk noticed it).
start = "first_published"
# Hours left at which a warning fires (each once per deadline).
warnings_hours = [12, 4, 1]
# Clock colours: warning at or below this many hours left, urgent below urgent_below_hours.
warning_below_hours = 12
urgent_below_hours = 4
# Once overdue, escalate again every N hours (0 = escalate once).
overdue_repeat_hours = 2
# After the first release, remind every N hours until the final result (0 = never).
followup_every_hours = 24
# A missed warning older than this many seconds is marked late when it fires.
late_grace_seconds = 60
# A unit assigned (交办) to an incident owes its feedback (反馈) within N hours of the assignment.
feedback_due_hours = 24

[clock.release_due_hours]
# Authoritative information is due within N hours, per severity or tier.
"特别重大" = 5   # 国办发〔2016〕80号
"重大" = 5
"较大" = 24      # the district rule: 24 h
"一般" = 24
ordinary = 48    # ordinary responses (国办发〔2016〕61号), chosen per incident
"""


@dataclass(frozen=True)
class ClockPolicy:
    release_due_hours: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RELEASE_DUE_HOURS))
    start: str = "first_published"
    warnings_hours: tuple[float, ...] = (12.0, 4.0, 1.0)
    warning_below_hours: float = 12.0
    urgent_below_hours: float = 4.0
    overdue_repeat_hours: float = 2.0
    followup_every_hours: float = 24.0
    late_grace_seconds: float = 60.0
    feedback_due_hours: float = DEFAULT_FEEDBACK_DUE_HOURS

    def hours_for(self, tier: str) -> float:
        try:
            return float(self.release_due_hours[tier])
        except KeyError:
            raise PolicyError(f"[clock] release_due_hours: no tier named {tier!r}") from None

    @property
    def tiers(self) -> tuple[str, ...]:
        return tuple(self.release_due_hours)


#: The largest number of hours (or, for late_grace_seconds, seconds) a key accepts: a year of
#: hours is past any deadline; a larger value is a typo and would overflow the clock's dates.
MAX_HOURS = 366 * 24
MAX_GRACE_SECONDS = 24 * 3600


def _number(value: Any, key: str, *, allow_zero: bool = False, maximum: float = MAX_HOURS) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PolicyError(f"[clock] {key}: must be a number, got {value!r}")
    try:
        v = float(value)
    except OverflowError:  # a TOML integer beyond any float
        v = float("inf")
    if v != v or v in (float("inf"), float("-inf")):
        raise PolicyError(f"[clock] {key}: must be a finite number, got {value!r}")
    if v < 0 or (v == 0 and not allow_zero):
        raise PolicyError(f"[clock] {key}: must be {'zero or more' if allow_zero else 'more than zero'}, got {value!r}")
    if v > maximum:
        raise PolicyError(f"[clock] {key}: must be at most {maximum:g}, got {value!r}")
    return v


KNOWN_KEYS = {
    "release_due_hours", "start", "warnings_hours", "warning_below_hours", "urgent_below_hours",
    "overdue_repeat_hours", "followup_every_hours", "late_grace_seconds", "feedback_due_hours",
}


def policy_from_mapping(mapping: Mapping[str, Any] | None) -> ClockPolicy:
    """Build a :class:`ClockPolicy` from desk.toml's ``[clock]`` table (missing keys default)."""
    if mapping is None:
        return ClockPolicy()
    if not isinstance(mapping, Mapping):
        raise PolicyError(f"[clock]: must be a table, got {type(mapping).__name__}")
    unknown = sorted(set(mapping) - KNOWN_KEYS)
    if unknown:
        raise PolicyError(f"[clock] {unknown[0]}: unknown key (known: {', '.join(sorted(KNOWN_KEYS))})")
    kw: dict[str, Any] = {}

    due = dict(DEFAULT_RELEASE_DUE_HOURS)
    if "release_due_hours" in mapping:
        raw = mapping["release_due_hours"]
        if not isinstance(raw, Mapping):
            raise PolicyError(f"[clock] release_due_hours: must be a table of tier = hours, got {raw!r}")
        for tier, hours in raw.items():
            if not isinstance(tier, str) or not tier.strip():
                raise PolicyError(f"[clock] release_due_hours: tier names must be non-empty text, got {tier!r}")
            due[tier.strip()] = _number(hours, f"release_due_hours.{tier}")
    kw["release_due_hours"] = due

    if "start" in mapping:
        start = mapping["start"]
        if start not in START_MODES:
            raise PolicyError(f"[clock] start: must be one of {', '.join(START_MODES)}, got {start!r}")
        kw["start"] = start

    if "warnings_hours" in mapping:
        raw = mapping["warnings_hours"]
        if not isinstance(raw, (list, tuple)):
            raise PolicyError(f"[clock] warnings_hours: must be a list of hours, got {raw!r}")
        hours = [_number(h, f"warnings_hours[{i}]") for i, h in enumerate(raw)]
        if len(set(hours)) != len(hours):
            raise PolicyError(f"[clock] warnings_hours: duplicate values in {raw!r}")
        kw["warnings_hours"] = tuple(sorted(hours, reverse=True))

    for key in ("warning_below_hours", "urgent_below_hours"):
        if key in mapping:
            kw[key] = _number(mapping[key], key, allow_zero=True)
    for key in ("overdue_repeat_hours", "followup_every_hours", "late_grace_seconds"):
        if key in mapping:
            kw[key] = _number(mapping[key], key, allow_zero=True,
                              maximum=MAX_GRACE_SECONDS if key == "late_grace_seconds" else MAX_HOURS)

    if "feedback_due_hours" in mapping:
        kw["feedback_due_hours"] = _number(mapping["feedback_due_hours"], "feedback_due_hours",
                                           maximum=MAX_FEEDBACK_DUE_HOURS)

    policy = ClockPolicy(**kw)
    if policy.urgent_below_hours > policy.warning_below_hours:
        raise PolicyError(
            f"[clock] urgent_below_hours: must not exceed warning_below_hours "
            f"({policy.urgent_below_hours:g} > {policy.warning_below_hours:g})"
        )
    missing = [s for s in SEVERITIES if s not in policy.release_due_hours]
    if missing:  # pragma: no cover - defaults always fill severities
        raise PolicyError(f"[clock] release_due_hours.{missing[0]}: missing")
    return policy


def policy_from_toml_text(text: str) -> ClockPolicy:
    """Parse a whole desk.toml and return its clock policy (defaults when there is no [clock])."""
    from storage.tomlfile import TomlError, parse_toml

    try:
        data = parse_toml(text, "desk.toml")
    except TomlError as exc:
        raise PolicyError(str(exc)) from None
    return policy_from_mapping(data.get("clock"))
