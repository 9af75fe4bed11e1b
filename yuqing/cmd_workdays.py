"""``yuqing workday-clocks`` and ``yuqing workday-done``: deadlines counted in working days on
China's calendar (CLI wiring over responders.workday_clocks). Listing needs nothing; recording a
duty as done needs a staff member who may act (``--as ID``)."""
from __future__ import annotations

import json
from pathlib import Path

import click

from storage.timeutil import desk_text
from yuqing.cmd_incidents import desk_command


def workday_config(home: Path):
    """``[workday_clocks]`` of the home's desk.toml (defaults without one); errors name the file."""
    from monitor.exceptions import ConfigError
    from responders.exceptions import ResponderError
    from responders.workday_clocks import parse_config
    from yuqing.config import read_toml

    path = home / "desk.toml"
    try:
        return parse_config(read_toml(path).get("workday_clocks") if path.exists() else None)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except ResponderError as exc:
        raise click.ClickException(f"{path}: {exc}") from None


def _home() -> Path:
    from yuqing.clictx import home_from

    return home_from(click.get_current_context()).path


@desk_command("workday-clocks", access="read")
@click.option("--overdue", is_flag=True, help="Only the overdue ones (超时未完成).")
@click.option("--all", "show_all", is_flag=True, help="Include the ones already done.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def workday_clocks(svc, actor, overdue, show_all, as_json):
    """Working-day clocks: 12345 hotline and 领导信箱 items to accept (受理) within
    [workday_clocks] hotline/mailbox working days (default 1), and 行政许可/行政处罚 decisions
    announced on own channels to disclose within license_penalty_disclosure (default 7).

    A deadline is the end of the Nth working day after the day of receipt (desk time), on China's
    calendar with its holidays and 调休 make-up working days. Exit status 1 when any is overdue.

    Example: yuqing workday-clocks --overdue
    """
    from responders.workday_clocks import DUTY_LABELS, KIND_LABELS, STATUS_LABELS
    from monitor.store import clock_items
    from responders.workday_clocks import workday_clocks as list_clocks

    now = svc.clock()
    clocks = list_clocks(svc.db, now, workday_config(_home()), clock_items=clock_items)
    late = [c for c in clocks if c.status(now) == "overdue"]
    if overdue:
        shown = late
    elif show_all:
        shown = clocks
    else:
        shown = [c for c in clocks if c.done_at is None]
    if as_json:
        click.echo(json.dumps([c.to_dict(now) for c in shown], ensure_ascii=False, indent=2))
    elif not shown:
        click.echo("没有超时未完成的工作日时限。" if overdue else "没有待办的工作日时限。")
    else:
        for c in shown:
            status = c.status(now)
            left = f"，剩 {c.workdays_left(now)} 个工作日" if status == "open" else ""
            done = f"，{DUTY_LABELS[c.kind]}于 {desk_text(c.done_at, offset=False)}（{c.done_by}）" if c.done_at else ""
            kind = KIND_LABELS[c.kind] + (f"（{c.decision}）" if c.decision else "")
            click.echo(f"#{c.item_id}  [{STATUS_LABELS[status]}] {kind}  {c.title[:40]}")
            click.echo(f"      收到 {desk_text(c.received_at, offset=False)}，{c.days} 个工作日内"
                       f"{DUTY_LABELS[c.kind]}，截止 {c.due_day.isoformat()} 24:00{left}{done}")
    if late:
        click.get_current_context().exit(1)


@desk_command("workday-done")
@click.argument("item_id", type=int, metavar="ITEM")
@click.option("--at", "at_text", default=None, metavar="TIME", help="When it was done (desk time; default now).")
@click.option("--note", default=None, help="e.g. the disclosure's link or the acceptance number.")
@click.option("--kind", type=click.Choice(["hotline", "mailbox", "license_penalty_disclosure"]), default=None,
              help="Which clock of the item (only needed if it has more than one).")
def workday_done(svc, actor, item_id, at_text, note, kind):
    """Record that an item's working-day duty is done: a hotline/mailbox item accepted (受理),
    or a licence/penalty decision disclosed (公示).

    Example: yuqing workday-done 1234 --as wang --note 受理编号 HT20260214-001
    """
    from monitor.store import clock_items
    from responders.workday_clocks import DUTY_LABELS, STATUS_LABELS, record_done
    from yuqing.cmd_incidents import _parse_time

    now = svc.clock()
    at = _parse_time(at_text, "--at") if at_text else now
    clock = record_done(svc.db, item_id, actor=actor, at=at, now=now, note=note, kind=kind,
                        config=workday_config(_home()), clock_items=clock_items)
    click.echo(f"#{clock.item_id} 已记录{DUTY_LABELS[clock.kind]}：{desk_text(clock.done_at, offset=False)}，"
               f"{STATUS_LABELS[clock.status(now)]}（截止 {clock.due_day.isoformat()} 24:00）")
