"""`yuqing instruct`, `yuqing instruct-done`, `yuqing instructions`: leader instructions (领导批示)
and their feedback (反馈) from the command line (CLI wiring over responders.instructions).

Only a leader or an admin instructs; officers, leaders and admins feed back; anyone reads.
"""
from __future__ import annotations

import json

import click

from storage.visible import visible
from yuqing.cmd_incidents import _id, _local, _parse_time, desk_command


def instruction_lines(ins, now, name=lambda a: a, show=None) -> list[str]:
    """An instruction as staff read it: number, incident, leader, status, due time, text; then its
    feedback. ``name`` turns an actor id into a name; ``show`` makes text printable (default:
    visible control characters, personal data masked)."""
    from responders.instructions import STATUS_LABELS
    from responders.masking import mask_personal

    show = show or (lambda text: mask_personal(visible(text)))
    status = ins.status(now)
    due = f" 时限 {_local(ins.due_at)}" if ins.due_at is not None else ""
    lines = [f"批示 #{ins.id} 事件 #{ins.incident_id} [{STATUS_LABELS[status]}] {visible(name(ins.leader))} "
             f"{_local(ins.given_at)}{due}：{show(ins.text)}"]
    if ins.done_at is not None:
        lines.append(f"    反馈 {visible(name(ins.done_by or ''))} {_local(ins.done_at)}：{show(ins.feedback or '')}")
    return lines


def _instruction_id(value: str) -> int:
    from yuqing.clictx import parse_id

    return parse_id(value, "an instruction", "a whole number such as 2; see `yuqing instructions`")


@desk_command("instruct", access="lead")
@click.argument("incident_id")
@click.option("--text", required=True, help="The instruction (批示内容).")
@click.option("--due", default=None, metavar="TIME",
              help="When it must be carried out: desk (Beijing) time unless an offset is given, e.g. \"2026-12-06 18:00\".")
def instruct(svc, actor, incident_id, text, due):
    """Write a leader's instruction (领导批示) on an incident; leaders and admins only.
    Example: yuqing instruct 3 --as zhao --text 请区住建局今日内核实并回复 --due "2026-12-06 18:00\""""
    from responders.instructions import instruct as give

    ins = give(svc, _id(incident_id), actor, text, _parse_time(due, "--due") if due else None)
    due_text = f"，落实时限 {_local(ins.due_at)}" if ins.due_at is not None else ""
    click.echo(f"已记录批示 #{ins.id}（事件 #{ins.incident_id}{due_text}）")


@desk_command("instruct-done")
@click.argument("instruction_id")
@click.option("--text", required=True, help="What was done (反馈内容).")
def instruct_done(svc, actor, instruction_id, text):
    """Report back on an instruction (反馈): closes it. Example: yuqing instruct-done 2 --as li --text 已核实并回复"""
    from responders.instructions import STATUS_LABELS, complete

    ins = complete(svc, _instruction_id(instruction_id), actor, text)
    click.echo(f"已反馈批示 #{ins.id}（事件 #{ins.incident_id}）：{STATUS_LABELS[ins.status(svc.clock())]}")


@desk_command("instructions", access="read")
@click.option("--open", "open_only", is_flag=True, help="Only those not yet fed back (overdue first).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (ISO 8601 times).")
def instructions(svc, actor, open_only, as_json):
    """List leader instructions and their feedback. Example: yuqing instructions --open"""
    from responders.instructions import list_instructions, open_instructions
    from responders.masking import clean
    from responders.staff import display_name

    now = svc.clock()
    rows = open_instructions(svc.db, now) if open_only else list_instructions(svc.db)
    if as_json:
        click.echo(json.dumps(clean([i.to_dict(now) for i in rows]), ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("没有待落实的批示。" if open_only else "没有批示。")
        return
    for ins in rows:
        for line in instruction_lines(ins, now, lambda a: display_name(svc.db, a)):
            click.echo(line)
