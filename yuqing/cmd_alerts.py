"""`yuqing alerts` and `yuqing alert-ack`: the alerts waiting for a person, and their acknowledgement.

Alerts are those the daemon's dispatcher tracks (``responders.alerts.store``): breaking
alerts wait for acknowledgement and escalate by ``[alerts]`` of desk.toml; the next
escalation time shown is derived from the stored last send and that policy. An
acknowledgement is done as a staff member (officer, leader or admin; ``--as ID``) and
recorded with who and when, and on the incident's timeline.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from storage.timeutil import desk_iso, desk_text
from yuqing.cmd_incidents import _home, desk_command


def _policy(desk_toml: Path):
    """The escalation policy of desk.toml's [alerts] (the default desk's when absent)."""
    from common.errors import ConfigError
    from responders.alerts.config import DEFAULT_ALERTS_TOML, parse_alerts_config
    from storage.tomlfile import parse_toml
    from yuqing.clictx import fail
    from yuqing.config import read_toml

    table = None
    if desk_toml.exists():
        try:
            table = read_toml(desk_toml).get("alerts")
        except ConfigError as exc:
            fail(str(exc))
    if table is None:
        table = parse_toml(DEFAULT_ALERTS_TOML, "default [alerts]")["alerts"]
    try:
        return parse_alerts_config(table, env={}).escalation
    except ValueError as exc:
        fail(f"{desk_toml}: [alerts]: {exc}")


def _next_at(rec, policy) -> datetime | None:
    from responders.alerts.escalation import next_step_at

    return next_step_at(policy, escalates=rec.escalates, acked=rec.acked_by is not None, base_at=rec.base_at,
                        step=rec.step)


def _state(rec) -> str:
    if rec.acked_by:
        return "已确认"
    if not rec.escalates:
        return "无需确认"
    return f"待确认·已升级{rec.step}级" if rec.step else "待确认"


def _whom(rec) -> list[dict]:
    return [{"step": s.step, "at": desk_iso(s.at), "to": list(s.targets), "channels": list(s.channels),
             "waiting": list(s.waiting)} for s in rec.steps]


def _record_json(rec, policy, names) -> dict:
    a = rec.alert
    return {
        "id": a.id, "title": a.title, "severity": a.severity, "lane": a.lane, "incident_id": a.incident_id,
        "created_at": desk_iso(rec.created_at), "state": _state(rec), "open": rec.open,
        "step": rec.step, "acked_by": rec.acked_by, "acked_by_name": names(rec.acked_by) if rec.acked_by else None,
        "acked_at": desk_iso(rec.acked_at), "last_sent_at": desk_iso(rec.base_at),
        "next_escalation_at": desk_iso(_next_at(rec, policy)), "sends": _whom(rec),
    }


def _target_text(t: dict) -> str:
    from responders.alerts.types import DUTY_LABELS

    role = DUTY_LABELS.get(t.get("to") or "", "")
    if not t.get("staff_id"):
        return f"{role or '值班人员'}（无人在岗）"
    return f"{role}{t.get('name') or t['staff_id']}"


@desk_command("alerts", access="read")
@click.option("--open", "open_only", is_flag=True, help="Only alerts waiting for acknowledgement.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (ISO 8601 times).")
def alerts(svc, actor, open_only, as_json):
    """List alerts, newest first: whom each send was for, acknowledgement, next escalation.

    Example: yuqing alerts --open
    """
    from responders.alerts.store import list_alerts
    from responders.masking import mask_personal
    from responders.staff import display_name
    from storage.visible import visible
    from yuqing.clictx import pad

    policy = _policy(_home(click.get_current_context()) / "desk.toml")
    records = list_alerts(svc.db, open_only=open_only)
    names = lambda sid: display_name(svc.db, sid)  # noqa: E731
    if as_json:
        click.echo(json.dumps([_record_json(r, policy, names) for r in records], ensure_ascii=False, indent=2))
        return
    if not records:
        click.echo("没有待确认的告警。" if open_only else "没有告警记录。")
        return
    for rec in records:
        a = rec.alert
        inc = f"事件#{a.incident_id}" if a.incident_id is not None else ""
        if rec.acked_by:
            extra = f"{names(rec.acked_by)} {desk_text(rec.acked_at)} 确认"
        else:
            nxt = _next_at(rec, policy)
            extra = f"下次升级 {desk_text(nxt)}" if nxt else ""
        click.echo(f"{a.id}  {desk_text(rec.created_at)}  {pad(a.severity, 8)}{pad(_state(rec), 18)}"
                   f"{pad(inc, 10)}{visible(mask_personal(a.title))}  {extra}".rstrip())
        for s in rec.steps:
            whom = "、".join(_target_text(t) for t in s.targets) or "渠道"
            label = "首次发送" if s.step == 0 else f"第{s.step}级升级"
            wait = f"；待发/重试中：{', '.join(s.waiting)}" if s.waiting else ""
            click.echo(f"    {label} {desk_text(s.at)} → {whom}（{', '.join(s.channels) or '无可用渠道'}{wait}）")


@desk_command("alert-ack", access="write")
@click.argument("alert_id")
def alert_ack(svc, actor, alert_id):
    """Acknowledge an alert (stops its escalation); recorded with who and when.

    Example: yuqing alert-ack 3f2a9c0e1b7d --as zhangsan
    """
    from responders.alerts.acks import acknowledge
    from responders.staff import display_name

    result = acknowledge(svc, alert_id, actor)
    for rec in result.acked:
        where = f"，已记入事件 #{rec.alert.incident_id} 时间线" if rec.alert.incident_id is not None else ""
        click.echo(f"已确认告警 {rec.alert.id}（{display_name(svc.db, actor)}，{desk_text(rec.acked_at or svc.clock())}）"
                   f"{where}：升级已停止")
    for rec in result.earlier:
        click.echo(f"告警 {rec.alert.id} 已由 {display_name(svc.db, rec.acked_by)} 于 {desk_text(rec.acked_at)} 确认"
                   "（未作更改）")
