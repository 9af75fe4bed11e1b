"""Routing rules, quiet hours and dedup: pure functions of the alert, the config and ``now``."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Iterable, Mapping

from responders.alerts.types import (
    SEVERITIES, Alert, AlertConfigError, ChannelConfig, QuietHours, Rule, severity_rank,
)


def rule_matches(rule: Rule, alert: Alert) -> bool:
    if alert.lane not in rule.lanes:
        return False
    if severity_rank(alert.severity) < severity_rank(rule.min_severity):
        return False
    if rule.topics and not set(rule.topics) & set(alert.topics):
        return False
    if rule.towns and not set(rule.towns) & set(alert.towns):
        return False
    return True


def route(alert: Alert, rules: Iterable[Rule]) -> tuple[str, ...]:
    """Channel names for ``alert``: the union of every matching rule's channels, in rule order."""
    out: dict[str, None] = {}
    for rule in rules:
        if rule_matches(rule, alert):
            out.update(dict.fromkeys(rule.channels))
    return tuple(out)


def explain(alert: Alert, rules: Iterable[Rule]) -> list[str]:
    """The names of the rules that match (for "why did this go there")."""
    return [r.name for r in rules if rule_matches(r, alert)]


# ---------------------------------------------------------------- quiet hours

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_quiet_range(text: str) -> tuple[time, time]:
    """``"22:00-07:00"`` -> (22:00, 07:00). ``24:00`` is accepted as an end (midnight)."""
    m = _RANGE.match(text or "")
    if not m:
        raise AlertConfigError(f"quiet hours must look like \"22:00-07:00\", got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h2 == 24 and m2 == 0:
        h2 = 0
    for h, mi in ((h1, m1), (h2, m2)):
        if not (0 <= h <= 23 and 0 <= mi <= 59):
            raise AlertConfigError(f"quiet hours: {h:02d}:{mi:02d} is not a time of day (in {text!r})")
    start, end = time(h1, m1), time(h2, m2)
    if start == end:
        raise AlertConfigError(f"quiet hours {text!r}: start and end are the same")
    return start, end


def in_quiet_hours(quiet: QuietHours | None, now: datetime) -> bool:
    """True when ``now`` (aware) falls in the window, read in the window's time zone.
    The start is inside, the end is outside; a window may span midnight."""
    if quiet is None:
        return False
    t = now.astimezone(quiet.tz).time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        return quiet.start <= t < quiet.end
    return t >= quiet.start or t < quiet.end


def quiet_ends_at(quiet: QuietHours, now: datetime) -> datetime:
    """The first instant at or after ``now`` that is outside the window (``now`` if outside)."""
    if not in_quiet_hours(quiet, now):
        return now
    local = now.astimezone(quiet.tz)
    end = datetime.combine(local.date(), quiet.end, tzinfo=quiet.tz)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), quiet.end, tzinfo=quiet.tz)
    return end.astimezone(now.tzinfo)


def held_by_quiet(quiet: QuietHours | None, channel: ChannelConfig, alert: Alert, now: datetime) -> bool:
    """Whether ``alert`` must wait on ``channel`` now. Escalations always pierce;
    breaking alerts pierce when the window says so; channels that ignore quiet
    hours (the console) never hold."""
    if quiet is None or not channel.honours_quiet_hours:
        return False
    if not in_quiet_hours(quiet, now):
        return False
    if alert.escalation_tier > 0:
        return False
    if alert.lane == "breaking" and quiet.breaking_pierces:
        return False
    return True


# ---------------------------------------------------------------- dedup

class Deduper:
    """Remembers alert keys for ``window``; the first alert with a key passes, the
    rest inside the window are duplicates. State is in memory; a dispatcher given
    a database seeds it at start with ``remember(key, at)`` from its stored keys."""

    def __init__(self, window: timedelta):
        self.window = window
        self._seen: dict[str, datetime] = {}

    def remember(self, key: str, at: datetime) -> None:
        self._seen[key] = at

    def is_duplicate(self, key: str, now: datetime) -> bool:
        last = self._seen.get(key)
        return last is not None and now - last < self.window

    def check(self, key: str, now: datetime) -> bool:
        """True (and remembered) if new; False if a duplicate inside the window."""
        self.purge(now)
        if self.is_duplicate(key, now):
            return False
        self._seen[key] = now
        return True

    def purge(self, now: datetime) -> None:
        if len(self._seen) < 1024:
            return
        old = [k for k, at in self._seen.items() if now - at >= self.window]
        for k in old:
            del self._seen[k]


def check_rules(rules: Iterable[Rule], channels: Mapping[str, ChannelConfig]) -> None:
    """Every rule names known channels and severities; raise AlertConfigError otherwise."""
    for rule in rules:
        if rule.min_severity not in SEVERITIES:
            raise AlertConfigError(
                f"rule {rule.name!r}: min_severity must be one of {'/'.join(SEVERITIES)}, got {rule.min_severity!r}")
        for ch in rule.channels:
            if ch not in channels:
                raise AlertConfigError(f"rule {rule.name!r}: channel {ch!r} is not defined under [alerts.channels]")
