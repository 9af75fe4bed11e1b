"""The demo desk's duty team: three staff (admin, duty officer 值班员, leader on duty 带班领导) and a
roster over the scenario's days, from ``data/demo/team.toml``. Seeded through the owners' functions
(:mod:`responders.staff`, :mod:`responders.roster_pattern`, :mod:`responders.roster`), so the demo's
desk is set up exactly as `yuqing staff add` and `yuqing roster generate` would set up a real one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import data

TEAM_FILE = data.DEMO_DIR / "team.toml"
ROSTER_AHEAD = timedelta(days=30)  # the scenario clock runs on as long as the demo does


@dataclass(frozen=True)
class DemoTeam:
    admin: str
    officer: str
    leader: str
    shifts: int  # roster shifts generated


def load_team(path: Path = TEAM_FILE) -> dict:
    from yuqing.config import read_toml

    return read_toml(path)


def seed_team(db, first: datetime, last: datetime, *, now: datetime, path: Path = TEAM_FILE) -> DemoTeam:
    """Add the team's staff (those not there yet: a demo home may be reused) and generate the
    roster for the desk days of ``first - 1 day`` .. ``last + ROSTER_AHEAD``."""
    from responders import staff as staff_mod
    from responders.roster import store_shifts
    from responders.roster_pattern import generate, parse_pattern
    from storage.timeutil import desk_tz

    table = load_team(path)
    members = table["staff"]
    for m in members:
        if staff_mod.get_staff(db, m["id"]) is None:
            staff_mod.add_staff(db, m["id"], m["name"], m["role"], now=now)
    first_role = {role: next(m["id"] for m in members if m["role"] == role) for role in ("admin", "officer", "leader")}
    tz = desk_tz()
    day0: date = (first.astimezone(tz) - timedelta(days=1)).date()
    day1: date = (last + ROSTER_AHEAD).astimezone(tz).date()
    shifts = generate(parse_pattern(table["pattern"], where=str(path)), day0, day1)
    store_shifts(db, shifts, actor=first_role["admin"], origin=f"generate:{path.name}", now=now,
                 replace_days=(day0, day1))
    return DemoTeam(first_role["admin"], first_role["officer"], first_role["leader"], len(shifts))


def on_duty_officer(db, at: datetime, fallback: str) -> str:
    """The staff id of the officer the roster has on duty at ``at`` (``fallback`` in a gap)."""
    from responders.roster import on_duty

    shift = on_duty(db, at)
    return shift.officer if shift is not None else fallback


def on_duty_leader(db, at: datetime, fallback: str) -> str:
    from responders.roster import on_duty

    shift = on_duty(db, at)
    return shift.leader if shift is not None else fallback
