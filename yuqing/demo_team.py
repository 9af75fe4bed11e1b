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


class TeamActs:
    """What the demo's leader on duty and duty officer do besides acknowledging and assigning: the
    officer acknowledges each breaking alert five minutes after it was sent; the leader gives one
    instruction (领导批示) on the gravest incident an hour after its detection, due
    six hours later, and the officer reports it done (反馈) three hours on. Each act once; done as
    the staff ids the roster has on duty. Runs on the DutyOfficer's connection and thread."""

    INSTRUCT_AFTER = timedelta(hours=1)
    INSTRUCTION_DUE = timedelta(hours=6)
    FEEDBACK_AFTER = timedelta(hours=3)
    ALERT_ACK_AFTER = timedelta(minutes=5)

    def __init__(self, team: DemoTeam, say=lambda db, actor, text: None):
        self.team = team
        self.say = say  # (db, actor, text): a line of the headless output
        self.instruction: int | None = None
        self.fed_back = False

    def step(self, svc) -> None:
        now = svc.clock()
        self._ack_alerts(svc, now)
        self._instruct(svc, now)
        self._feed_back(svc, now)

    def _ack_alerts(self, svc, now: datetime) -> None:
        """Acknowledge (确认) each breaking alert waiting ALERT_ACK_AFTER, as the officer on duty,
        before ``[alerts] escalate_after`` would take it to the leader."""
        from responders.alerts.acks import acknowledge
        from responders.alerts.store import list_alerts

        for rec in reversed(list_alerts(svc.db, open_only=True)):
            if now - rec.created_at < self.ALERT_ACK_AFTER:
                continue
            officer = on_duty_officer(svc.db, now, self.team.officer)
            if acknowledge(svc, rec.alert.id, officer, now).acked:
                about = f"，事件 #{rec.alert.incident_id}" if rec.alert.incident_id is not None else ""
                self.say(svc.db, officer, f"确认突发预警 {rec.alert.id}（{rec.alert.severity or '—'}{about}）")

    def _instruct(self, svc, now: datetime) -> None:
        from responders.instructions import instruct
        from responders.types import SEVERITIES

        if self.instruction is not None:
            return
        ready = [i for i in svc.list(links=False) if now - i.detected_at >= self.INSTRUCT_AFTER]
        if not ready:
            return
        inc = max(ready, key=lambda i: (SEVERITIES.index(i.severity), -i.id))
        units = "、".join(inc.assigned_units) or "相关单位"
        due = (now + self.INSTRUCTION_DUE).replace(second=0, microsecond=0)  # a leader names a minute
        asked = "持续核查处置，及时发布进展情况" if svc.releases(inc.id) else "立即核查处置，尽快发布权威信息"
        text = f"请{units}{asked}，做好回应引导，{_when(due)}前反馈落实情况。"
        leader = on_duty_leader(svc.db, now, self.team.leader)
        self.instruction = instruct(svc, inc.id, leader, text, due).id
        self.say(svc.db, leader, f"批示 事件 #{inc.id}：{text}")

    def _feed_back(self, svc, now: datetime) -> None:
        from responders.instructions import complete, get_instruction

        if self.instruction is None or self.fed_back:
            return
        ins = get_instruction(svc.db, self.instruction)
        if ins.done_at is None:
            if now - ins.given_at < self.FEEDBACK_AFTER:
                return
            released = svc.releases(ins.incident_id)
            done = (f"权威信息已于 {_when(released[0].released_at)} 发布；" if released
                    else "已督促责任单位尽快发布权威信息；")
            text = "已向责任单位传达批示要求，" + done + "持续关注舆情走势。"
            officer = on_duty_officer(svc.db, now, self.team.officer)
            complete(svc, ins.id, officer, text)
            self.say(svc.db, officer, f"反馈批示 #{ins.id}：{text}")
        self.fed_back = True


def _when(at: datetime) -> str:
    """A desk-time instant as a notice writes it: 12月6日19:38."""
    local = at.astimezone(_desk_tz())
    return f"{local.month}月{local.day}日{local:%H:%M}"


def alert_line(svc, since: datetime) -> str | None:
    """The summary's line on breaking alerts since ``since``: acknowledged by whom (from the
    timeline: settled alerts leave the alert tables after a while), and those still waiting."""
    from responders import timeline
    from responders.alerts.store import list_alerts
    from responders.staff import display_name

    acks = [e for e in timeline.events_between(svc.db, since, svc.clock()) if e.kind == "alert_acked"]
    waiting = list_alerts(svc.db, open_only=True)
    if not acks and not waiting:
        return None
    who = "、".join(sorted({display_name(svc.db, e.actor) for e in acks}))
    escalated = sum(1 for r in waiting if r.step)
    return (f"突发预警：已确认 {len(acks)} 条" + (f"（{who}）" if who else "")
            + f"，待确认 {len(waiting)} 条" + (f"（其中 {escalated} 条已升级至带班领导）" if escalated else ""))


def instruction_lines(svc, incident_id: int) -> list[str]:
    """The summary's lines for an incident's leader instructions and their feedback."""
    from responders.instructions import list_instructions
    from responders.staff import display_name

    lines = []
    for ins in list_instructions(svc.db, incident_ids=[incident_id]):
        lines.append(f"    领导批示 #{ins.id}（{display_name(svc.db, ins.leader)}，{_when(ins.given_at)}）：{ins.text}")
        if ins.done_at is not None:
            lines.append(f"        反馈（{display_name(svc.db, ins.done_by or '')}，{_when(ins.done_at)}，"
                         f"{ins.status_label(svc.clock())}）：{ins.feedback}")
    return lines


def review_incident(svc, inc, team: DemoTeam) -> str | None:
    """The short post-incident review (复盘) the leader on duty writes once an incident's final
    release is out: what went well and what went late, measured from its timeline; why, and one
    action item, from the [review] of data/demo/team.toml. Nothing when the incident is still
    being worked or already has a review. Returns a line for the summary."""
    from responders.exports.model import fmt_duration
    from responders.review import add_action, get_review, set_findings
    from responders.staff import display_name

    if inc.state not in ("处置结果已发布", "归档") or get_review(svc.db, inc.id).updated_at is not None:
        return None
    now = svc.clock()
    st = svc.clock_state(inc.id)
    leader = on_duty_leader(svc.db, now, team.leader)
    well = [f"发现后 {fmt_duration(inc.acknowledged_at - inc.detected_at)} 确认接报"] if inc.acknowledged_at else []
    if st.released_at is not None and st.released_on_time:
        well.append(f"权威信息于时限前 {fmt_duration(st.due_at - st.released_at)} 发布")
    late = f"首发后 {fmt_duration(inc.detected_at - inc.first_published)} 才发现"
    plan = load_team().get("review", {})
    set_findings(svc, inc.id, actor=leader, well="；".join(well) or "—", late=late, why=plan.get("why", ""))
    unit = plan.get("action_unit") or (inc.assigned_units[0] if inc.assigned_units else None)
    if unit and plan.get("action"):
        due = (now.astimezone(_desk_tz()) + timedelta(days=30)).date()
        add_action(svc, inc.id, unit=unit, due=due, actor=leader, text=plan["action"])
    actions = len(get_review(svc.db, inc.id).actions)
    return (f"    复盘（{display_name(svc.db, leader)}）：{'；'.join(well) or '—'}；迟滞环节：{late}；"
            f"整改事项 {actions} 项")


def _desk_tz():
    from storage.timeutil import desk_tz

    return desk_tz()
