"""`yuqing review INCIDENT`: the post-incident review (复盘) — findings and action items.

Thin wiring over responders/review.py: the options are parsed and checked there, and all the
changes of one command are written together (or none of them)."""
from __future__ import annotations

import json

import click

from yuqing.cmd_incidents import _id, desk_command


def _status_pair(value: str) -> tuple[int, str]:
    text = (value or "").replace("＝", "=")
    no, sep, status = text.partition("=")
    if not sep or not no.strip().isdigit():
        raise click.UsageError(f"--action-status {value!r}: write N=STATUS, e.g. 1=进行中 (STATUS: 待办/进行中/已完成)")
    return int(no), status.strip()


def _number(value: str, option: str) -> int:
    text = (value or "").strip().lstrip("#")
    if not text.isdigit() or int(text) < 1:
        raise click.UsageError(f"{option} {value!r}: not an action item number (1, 2, ...; see `yuqing review ID`)")
    return int(text)


def _lines(title: str, review, today) -> list[str]:
    from responders.review import FINDINGS
    from storage.visible import visible as safe

    out = [f"事件 #{review.incident_id}「{safe(title)}」复盘"]
    for key, label in FINDINGS.items():
        out.append(f"  {label}：{safe(getattr(review, key)) or '（未填写）'}")
    out.append(f"  整改事项（{len(review.actions)} 项）：" if review.actions else "  整改事项：无")
    for a in review.actions:
        late = "（已逾期）" if a.overdue(today) else ""
        out.append(f"    {a.no}. {safe(a.unit)} · {a.due.isoformat()} 前 · {safe(a.text)} · {a.status_label}{late}")
    return out


def _writer(svc, actor: str) -> str:
    """The command reads as anyone; a change needs a staff member who may act (on a desk with staff)."""
    from responders import staff

    if not staff.has_staff(svc.db):
        return actor
    known = staff.get_staff(svc.db, actor) is not None  # --as ID, else the OS login
    return staff.resolve_actor(svc.db, actor if known else None, None if known else actor, "write").id


@desk_command("review", access="read")
@click.argument("incident_id")
@click.option("--well", default=None, metavar="TEXT", help="What went well (做得好的); \"\" clears it.")
@click.option("--late", default=None, metavar="TEXT", help="What went late (迟滞环节); \"\" clears it.")
@click.option("--why", default=None, metavar="TEXT", help="Why (原因); \"\" clears it.")
@click.option("--action", "actions", multiple=True, metavar="UNIT|DUE|TEXT",
              help="Add an action item (整改事项): owner unit, due day (YYYY-MM-DD, desk time), what. Repeatable.")
@click.option("--action-status", "statuses", multiple=True, metavar="N=STATUS",
              help="Set action item N to 待办/进行中/已完成. Repeatable.")
@click.option("--action-done", "done", multiple=True, metavar="N", help="Mark action item N 已完成. Repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print the review as JSON (after the changes).")
def review(svc, actor, incident_id, well, late, why, actions, statuses, done, as_json):
    """Post-incident review (复盘): findings and action items. Without options it prints the review;
    every change is a timeline event, and one command's changes are written together or not at all.
    Example: yuqing review 3 --well 2小时内首发通报 --late 交办晚了6小时 --why 夜间无人值守
    --action "区住建局|2026-07-31|完善夜间巡查制度" --action-done 1"""
    from responders import review as rv

    iid = _id(incident_id)
    specs = [rv.parse_action_spec(a) for a in actions]
    moves = [_status_pair(s) for s in statuses] + [(_number(n, "--action-done"), "done") for n in done]
    inc = svc.get(iid)
    changing = any(v is not None for v in (well, late, why)) or specs or moves
    if changing:
        result = rv.apply_changes(svc, iid, actor=_writer(svc, actor), findings={"well": well, "late": late, "why": why},
                                  actions=specs, statuses=moves)
    else:
        result = rv.get_review(svc.db, iid)
    today = rv.desk_today(svc.clock())
    if as_json:
        click.echo(json.dumps(result.to_json(today), ensure_ascii=False, indent=2))
        return
    if changing:
        click.echo(f"事件 #{iid} 复盘已更新")
    click.echo("\n".join(_lines(inc.title, result, today)))
