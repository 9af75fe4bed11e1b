"""Who is on duty and how to reach them, for the alert dispatcher.

``duty_source(target, config)`` gives ``duty(at) -> (officer_id, leader_id)``: the duty
roster's shift at ``at`` (``responders.roster.on_duty``) when the desk has one, else the
fallback staff ids ``[alerts] duty_officer`` / ``duty_leader`` of desk.toml (a desk
without a roster, or a gap in it). ``people_source(target)`` gives
``people(staff_id) -> Mention | None`` from the staff table (None for an unknown or
disabled member). ``target`` is the desk's database: its SQLite file or a ``postgresql://``
URL (``DeskHome.db_target``). Both open a short read-only connection per call: they are asked
once per breaking alert and once per escalation step, and so always read the current roster,
whichever machine changed it.
"""
from __future__ import annotations

import logging
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Callable

from responders.alerts.types import AlertsConfig, Mention

log = logging.getLogger("yuqing.alerts")


def _read(target: Path | str, fn: Callable):
    from storage.db import connect

    db = connect(target, readonly=True)
    try:
        return fn(db)
    finally:
        db.conn.close()


def roster_shift(target: Path | str, at: datetime) -> tuple[str | None, str | None] | None:
    """(officer, leader) of the roster's shift at ``at``; None when the desk has no roster
    (module or table missing) or no shift then."""
    try:
        from responders.roster import on_duty  # the duty roster (值班表)
    except ImportError:
        return None
    try:
        shift = _read(target, lambda db: on_duty(db, at))
    except sqlite3.OperationalError:  # no roster table in this database yet
        return None
    if shift is None:
        return None
    return shift.officer or None, shift.leader or None


def has_people(target: Path | str) -> bool:
    """Whether the desk names people (a staff member exists); a one-operator desk does not."""
    from responders.staff import has_staff

    try:
        return _read(target, has_staff)
    except sqlite3.OperationalError:  # no staff table yet
        return False


def duty_source(target: Path | str, config: AlertsConfig) -> Callable[[datetime], tuple[str | None, str | None] | None]:
    """The dispatcher's ``duty``: the roster first, then desk.toml's fallback ids; None on a desk
    without staff (its alerts go to the channels, nobody is missing). Fallback ids that name
    nobody active are warned about once, here."""
    from responders.staff import get_staff

    for key, sid in (("duty_officer", config.duty_officer), ("duty_leader", config.duty_leader)):
        if not sid:
            continue
        try:
            member = _read(target, lambda db: get_staff(db, sid))
        except sqlite3.OperationalError:
            member = None
        if member is None or not member.active:
            log.warning("desk.toml [alerts] %s = %r：未登记或已停用的人员，告警无法 @ 提醒此人", key, sid)
    def duty(at: datetime) -> tuple[str | None, str | None] | None:
        if not has_people(target):
            return None
        shift = roster_shift(target, at)
        if shift is not None and any(shift):
            return shift
        return config.duty_officer or None, config.duty_leader or None

    return duty


def people_source(target: Path | str) -> Callable[[str], Mention | None]:
    """The dispatcher's ``people``: a staff member's name and platform ids."""
    from responders.staff import get_staff

    def people(staff_id: str) -> Mention | None:
        member = _read(target, lambda db: get_staff(db, staff_id))
        if member is None or not member.active:
            return None
        return Mention(staff_id=member.id, name=member.name, wecom=member.wecom, dingtalk=member.dingtalk,
                       feishu=member.feishu, email=member.email)

    return people
