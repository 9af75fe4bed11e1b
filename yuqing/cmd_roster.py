"""``yuqing roster``: the duty roster (值班表) — show, who is on duty now, gaps, import from CSV,
generate from a rotation pattern over China's calendar (CLI wiring over responders.roster).

Reading needs nothing; importing and generating need an admin (``--as ID``).
``yuqing roster now --json`` prints ``{"shift", "starts_at", "ends_at", "officer", "leader"}``
(staff ids, ISO 8601 times with the desk's offset), or ``null`` with exit status 1 when no shift
covers the time.
"""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click

from storage.timeutil import desk_text
from yuqing.cmd_incidents import desk_command

_WEEKDAYS = "一二三四五六日"


def gap_horizon(home: Path) -> timedelta:
    """``[roster] gap_warning_hours`` of the home's desk.toml (default 72 h); errors name the file."""
    from monitor.exceptions import ConfigError
    from responders.roster import RosterError, gap_hours
    from yuqing.config import read_toml

    path = home / "desk.toml"
    if not path.exists():
        return timedelta(hours=gap_hours(None))
    try:
        return timedelta(hours=gap_hours(read_toml(path).get("roster")))
    except (ConfigError, RosterError) as exc:
        raise click.ClickException(f"{path}: {exc}" if isinstance(exc, RosterError) else str(exc)) from None


def _home(svc) -> Path:
    from yuqing.clictx import home_from

    return home_from(click.get_current_context()).path


def _who(db, staff_id: str) -> str:
    from responders.staff import display_name

    name = display_name(db, staff_id)
    return f"{name}（{staff_id}）" if name != staff_id else staff_id


def _shift_line(db, s) -> str:
    return (f"  {s.name}  {desk_text(s.starts_at, offset=False)} – {desk_text(s.ends_at, offset=False)}"
            f"  值班员 {_who(db, s.officer)}  带班领导 {_who(db, s.leader)}")


def _echo_gaps(db, now, horizon) -> None:
    from responders.roster import has_roster, roster_gaps

    if not has_roster(db):
        click.echo("尚未排班（单人值守）：用 yuqing roster import 文件.csv 或 yuqing roster generate 排班。")
        return
    gaps = roster_gaps(db, now, horizon)
    if gaps:
        hours = int(horizon.total_seconds() // 3600)
        click.echo(f"注意：今后 {hours} 小时内有 {len(gaps)} 段无人值班：" + "；".join(g.text() for g in gaps[:5]))


@click.group(name="roster", invoke_without_command=True)
@click.option("--date", "day", default=None, metavar="DATE", help="Show this desk day (default: today).")
@click.option("--days", type=click.IntRange(1, 62), default=1, show_default=True, help="How many days to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--db", "db_path", default=None, type=click.Path(dir_okay=False),
              help="Desk database file or postgresql:// URL (default: the home's, see --database).")
@click.pass_context
def roster(ctx, day, days, as_json, db_path) -> None:
    """The duty roster (值班表): shifts with their 值班员 and 带班领导.

    Without a subcommand, shows the shifts of --date (default today, desk time) and warns about
    stretches no shift covers in the coming [roster] gap_warning_hours (default 72).

    Example: yuqing roster --date 2026-02-14 --days 3
    """
    if ctx.invoked_subcommand is not None:
        return
    from responders import roster as roster_mod
    from storage.workdays import day_label, desk_day
    from yuqing.cmd_incidents import _parse_date, service

    svc = service(ctx, db_path)
    now = svc.clock()
    first = _parse_date(day, "--date") if day else desk_day(now)
    last = first + timedelta(days=days - 1)
    shifts = roster_mod.shifts_on(svc.db, first, last)
    if as_json:
        click.echo(json.dumps([s.to_dict() for s in shifts], ensure_ascii=False, indent=2))
        return
    by_day: dict = {}
    for s in shifts:
        by_day.setdefault(s.day, []).append(s)
    d = first
    while d <= last:
        click.echo(f"{d.isoformat()} 周{_WEEKDAYS[d.weekday()]} {day_label(d)}")
        for s in by_day.get(d, []):
            click.echo(_shift_line(svc.db, s))
        if not by_day.get(d):
            click.echo("  （未排班）")
        d += timedelta(days=1)
    _echo_gaps(svc.db, now, gap_horizon(_home(svc)))


@desk_command("now", access="read")
@click.option("--at", "at_text", default=None, metavar="TIME", help="Ask about this time instead of now (desk time).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (null when nobody is on duty).")
def now_(svc, actor, at_text, as_json):
    """Who is on duty now: the shift, its 值班员 and 带班领导. Exit status 1 when no shift covers
    the time (JSON: null)."""
    from responders.roster import next_shift, on_duty
    from yuqing.cmd_incidents import _parse_time

    at = _parse_time(at_text, "--at") if at_text else svc.clock()
    shift = on_duty(svc.db, at)
    if as_json:
        d = None if shift is None else {k: v for k, v in shift.to_dict().items() if k != "date"}
        click.echo(json.dumps(d, ensure_ascii=False))
    elif shift is None:
        upcoming = next_shift(svc.db, at)
        click.echo(f"{desk_text(at, offset=False)} 无人值班（值班表中没有覆盖此时的班次）"
                   + (f"；下一班：{upcoming.name} {desk_text(upcoming.starts_at, offset=False)} 起" if upcoming else ""))
    else:
        click.echo(f"当前班次：{shift.day.isoformat()} {shift.name}（{desk_text(shift.starts_at, offset=False)} – "
                   f"{desk_text(shift.ends_at, offset=False)}）")
        click.echo(f"值班员：{_who(svc.db, shift.officer)}")
        click.echo(f"带班领导：{_who(svc.db, shift.leader)}")
    if shift is None:
        click.get_current_context().exit(1)


@desk_command("gaps", access="read")
@click.option("--hours", type=click.IntRange(1, 24 * 60), default=None,
              help="How far ahead to look (default: [roster] gap_warning_hours, 72).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def gaps(svc, actor, hours, as_json):
    """Stretches of the coming hours that no shift covers. Exit status 1 when there are any."""
    from responders.roster import roster_gaps
    from storage.timeutil import desk_iso

    horizon = timedelta(hours=hours) if hours else gap_horizon(_home(svc))
    found = roster_gaps(svc.db, svc.clock(), horizon)
    if as_json:
        click.echo(json.dumps([{"start": desk_iso(g.start), "end": desk_iso(g.end), "hours": g.hours}
                               for g in found], ensure_ascii=False))
    elif not found:
        click.echo(f"今后 {int(horizon.total_seconds() // 3600)} 小时均有人值班。")
    else:
        _echo_gaps(svc.db, svc.clock(), horizon)
    if found:
        click.get_current_context().exit(1)


@desk_command("import", access="admin")
@click.argument("file", type=click.Path(dir_okay=False))
def import_(svc, actor, file):
    """Import shifts from a CSV with columns 日期,班次,开始,结束,值班员,带班领导 (admin only).

    Times are desk time (Beijing time); an end at or before the start is the next day (夜班 20:00,
    08:00). 值班员 and 带班领导 are staff ids (or a member's unique name). Bad rows are named by
    line and reason and the good rows are kept; a shift already on the roster for the same 日期 and
    班次 is replaced. Exit status 1 when any row was refused.

    Example: yuqing roster import 2026-02.csv --as admin
    """
    from responders.roster import RosterError, import_csv

    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        raise click.ClickException(f"{file}: 无法读取（{exc.strerror}）") from None
    try:
        outcome = import_csv(svc.db, data, actor=actor, origin=f"import:{Path(file).name}", now=svc.clock())
    except RosterError as exc:
        raise click.ClickException(f"{file}: {exc}（未作任何更改）") from None
    for err in outcome.errors:
        click.echo(f"{file}: {err}", err=True)
    click.echo(f"{file}: 导入 {len(outcome.shifts)} 个班次（其中替换原有 {outcome.replaced} 个），"
               f"{len(outcome.errors)} 行有误未导入")
    _echo_gaps(svc.db, svc.clock(), gap_horizon(_home(svc)))
    if outcome.errors:
        click.get_current_context().exit(1)


@desk_command("generate", access="admin")
@click.option("--from", "first_text", required=True, metavar="DATE", help="First desk day (YYYY-MM-DD).")
@click.option("--to", "last_text", required=True, metavar="DATE", help="Last desk day, inclusive.")
@click.option("--pattern", "pattern_file", required=True, type=click.Path(dir_okay=False),
              help="Rotation pattern TOML (see data/roster_pattern.example.toml).")
@click.option("--dry-run", is_flag=True, help="Print the shifts without storing them.")
def generate(svc, actor, first_text, last_text, pattern_file, dry_run):
    """Generate the roster of --from..--to from a rotation pattern (admin only).

    Days follow China's calendar: working days (with the 调休 make-up working days), rest days and
    public holidays each take their section's shifts and turns. The roster of those days is
    replaced as a whole; nothing is stored when any name in the pattern cannot stand duty.

    Example: yuqing roster generate --from 2026-02-01 --to 2026-02-28 --pattern roster.toml --as admin
    """
    from monitor.exceptions import ConfigError
    from responders.roster import RosterError, person_problem, store_shifts
    from responders.roster_pattern import generate as make
    from responders.roster_pattern import parse_pattern
    from storage.workdays import calendar_gaps, day_kind, day_label
    from yuqing.cmd_incidents import _parse_date
    from yuqing.config import read_toml

    first, last = _parse_date(first_text, "--from"), _parse_date(last_text, "--to")
    try:
        pattern = parse_pattern(read_toml(Path(pattern_file)), where=pattern_file)
        shifts = make(pattern, first, last)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except RosterError as exc:
        raise click.ClickException(f"{exc}（未作任何更改）") from None
    officers, leaders = pattern.people()
    problems = [p for sid in sorted(officers) for p in [person_problem(svc.db, sid, "officer")] if p]
    problems += [p for sid in sorted(leaders) for p in [person_problem(svc.db, sid, "leader")] if p]
    if problems:
        raise click.ClickException(f"{pattern_file}: " + "；".join(problems) + "（未作任何更改）")
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    kinds = [day_kind(d) for d in days]
    makeup = [d.isoformat() for d in days if day_kind(d) == "workday" and day_label(d) != "工作日"]
    if dry_run:
        for s in shifts:
            click.echo(f"{s.day.isoformat()} {day_label(s.day)}" + _shift_line(svc.db, s))
    else:
        replaced = store_shifts(svc.db, shifts, actor=actor, origin=f"generate:{Path(pattern_file).name}",
                                now=svc.clock(), replace_days=(first, last))
        click.echo(f"已生成 {first} 至 {last} 的值班表：{len(shifts)} 个班次（替换原有 {replaced} 个）")
    click.echo(f"工作日 {kinds.count('workday')} 天，休息日 {kinds.count('restday')} 天，"
               f"法定节假日 {kinds.count('holiday')} 天" + (f"；调休上班日：{'、'.join(makeup)}" if makeup else ""))
    missing = calendar_gaps(days)
    if missing:
        click.echo(f"注意：已安装的 chinesecalendar 没有 {'、'.join(map(str, missing))} 年的节假日安排，"
                   "这些年份按周一至周五为工作日排班；节假日公布后请升级 chinesecalendar 并重新生成。", err=True)
    if not dry_run:
        _echo_gaps(svc.db, svc.clock(), gap_horizon(_home(svc)))


roster.add_command(now_)
roster.add_command(gaps)
roster.add_command(import_)
roster.add_command(generate)
