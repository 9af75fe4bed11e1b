"""Who an alert's send is for, and when its next escalation step falls due.

Pure functions: the duty roster and the staff records come in as callables, so the
dispatcher stays testable with an injected clock and the desk wires the real ones
(``duty(at) -> (officer_id, leader_id)``, ``people(staff_id) -> Mention | None``).
A step's time is derived from stored times only (the alert's last send and the
policy), never from an in-memory timer, so a restarted desk continues exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Callable

from responders.alerts.types import DUTY_LABELS, EscalationPolicy, Mention

#: ``duty(at)``: the staff ids (officer, leader) on duty at ``at``, either None when nobody
#: is; None instead of a pair for a desk that names no people at all (no staff yet).
DutyFn = Callable[[datetime], "tuple[str | None, str | None] | None"]
PeopleFn = Callable[[str], "Mention | None"]


def next_step_at(policy: EscalationPolicy, *, escalates: bool, acked: bool, base_at: datetime | None,
                 step: int) -> datetime | None:
    """When step ``step + 1`` of the policy is due (None: never — acknowledged, not yet
    sent, not escalating, or every step sent)."""
    if not escalates or acked or base_at is None or step >= len(policy.steps):
        return None
    return base_at + timedelta(minutes=policy.steps[step].after_minutes)


@dataclass(frozen=True)
class Resolved:
    """The people of one send: ``mentions`` in target order (nobody on duty gives a
    Mention without staff id), ``problems`` for the log (in staff's words)."""

    mentions: tuple[Mention, ...]
    problems: tuple[str, ...]

    def records(self) -> tuple[dict, ...]:
        """As stored with the step (no contact details)."""
        return tuple({"to": m.duty, "staff_id": m.staff_id or None, "name": m.name or None} for m in self.mentions)


def resolve_people(targets: tuple[str, ...], at: datetime, duty: DutyFn | None,
                   people: PeopleFn | None) -> Resolved:
    """Turn ``officer`` / ``leader`` / ``staff:ID`` targets into people at ``at``.
    ``channel:`` targets are ignored here. A failing roster counts as nobody on duty."""
    mentions: list[Mention] = []
    problems: list[str] = []
    on_duty: tuple[str | None, str | None] | bool | None = None
    for target in targets:
        if target.startswith("channel:"):
            continue
        if target in ("officer", "leader"):
            if on_duty is None:
                on_duty = _on_duty(duty, at, problems)
            if on_duty is False:
                continue  # a one-operator desk: the channels are the people
            sid = on_duty[0] if target == "officer" else on_duty[1]
            role = target
            if not sid:
                problems.append(f"当前无{DUTY_LABELS[role]}在岗：告警只发往渠道，升级按策略继续")
                mentions.append(Mention(staff_id="", name="", duty=role))
                continue
        else:
            sid, role = target.partition(":")[2], "staff"
        person = _person(people, sid, problems)
        if person is None:
            mentions.append(Mention(staff_id=sid, name=sid, duty=role))
        else:
            mentions.append(replace(person, duty=role))
    seen: set[tuple[str, str]] = set()
    unique = []
    for m in mentions:  # the leader named twice (leader and staff:ID) is mentioned once
        k = (m.staff_id, m.duty if not m.staff_id else "")
        if k not in seen:
            seen.add(k)
            unique.append(m)
    return Resolved(tuple(unique), tuple(problems))


def _on_duty(duty: DutyFn | None, at: datetime, problems: list[str]) -> tuple[str | None, str | None] | bool:
    """The pair on duty, or False when the desk names no people (no duty callable, or it says so)."""
    if duty is None:
        return False
    try:
        pair = duty(at)
    except Exception as exc:  # a broken roster must not stop the alert: it goes to the channels
        problems.append(f"无法读取值班表（{type(exc).__name__}: {exc}）")
        return None, None
    if pair is None:
        return False
    officer, leader = pair
    return officer or None, leader or None


def _person(people: PeopleFn | None, staff_id: str, problems: list[str]) -> Mention | None:
    if people is None:
        return None
    try:
        person = people(staff_id)
    except Exception as exc:  # same: the message still goes out, naming the id
        problems.append(f"无法读取人员 {staff_id}（{type(exc).__name__}: {exc}）")
        return None
    if person is None:
        problems.append(f"人员 {staff_id} 未登记或已停用：无法 @ 提醒，只写明编号")
    return person
