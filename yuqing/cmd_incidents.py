"""Headless incident commands: list, show, act on, export and report incidents.

Every command opens ``<home>/desk.sqlite`` (home from ``--home``/YUQING_HOME,
else the platform data folder), the PostgreSQL database of ``--database`` (server mode),
or ``--db PATH``, reads the clock policy from ``<home>/desk.toml`` ``[clock]`` when present, and records ``--actor`` (default:
the OS user) on the timeline. Errors print one line, never a traceback.
Times typed on the command line are desk time (Beijing time) unless they carry an
offset; times printed are desk time with their offset, in JSON ISO 8601 with +08:00.
``YUQING_NOW`` (ISO 8601) pins the clock for demos and tests.
"""
from __future__ import annotations

import functools
import json
import sqlite3
import sys
from datetime import date, datetime
from pathlib import Path

import click

from storage.timeutil import desk_iso, desk_text
from storage.visible import visible
from yuqing.clictx import acting_staff, actor_options  # noqa: F401 - acting_staff: kept importable here


# ------------------------------------------------------------------ plumbing

def _home(ctx: click.Context) -> Path:
    from yuqing.clictx import home_from

    return home_from(ctx).path


def _now_fn():
    from yuqing.clictx import now_fn

    return now_fn()


def _parse_time(value: str, name: str) -> datetime:
    from yuqing.clictx import parse_user_time

    return parse_user_time(value, name)


def _parse_date(value: str | None, name: str) -> date | None:
    from yuqing.clictx import parse_user_date

    return parse_user_date(value, name)


def _policy(home: Path):
    from yuqing.clictx import clock_policy

    return clock_policy(home / "desk.toml")


def service(ctx: click.Context, db_path: str | None, *, creates: bool = False):
    """The IncidentService for this command's desk DB. Only a command that ``creates`` (opening
    an incident) may start a new database; the others refuse a missing one, so a mistyped
    --home/--db is an error, not an empty desk."""
    from pipeline.schema import all_migrations
    from responders.incidents import IncidentService
    from storage.db import open_db
    from yuqing.clictx import check_desk_db

    from yuqing.clictx import home_from

    desk_home = home_from(ctx)
    home = desk_home.path
    from storage.dburl import as_target

    path = as_target(db_path) if db_path else desk_home.db_target
    policy = _policy(home)
    clock = _now_fn()
    check_desk_db(path, must_exist=not creates)
    return IncidentService(open_db(path, all_migrations()), policy, clock=clock, units=lambda: _unit_names(home))


def _unit_names(home: Path):
    """The desk's canonical unit names (its gazetteer's departments and towns)."""
    from yuqing.gazetteer_io import GazetteerError, gazetteer_dir, load_unit_names

    try:
        return load_unit_names(gazetteer_dir(home))
    except GazetteerError as exc:
        raise click.ClickException(f"gazetteer: {exc}") from None


DISMISS_CHOICES = ("误报", "不予处置")


def desk_command(name: str, *, creates: bool = False, access: str = "write",
                 legacy_as: tuple[str, tuple[str, ...]] | None = None, **kw):
    """click.command with --as, --actor and --db, and one-line errors for expected failures.

    ``legacy_as = (param, values)``: a command whose ``--as`` meant ``param`` before staff ids
    (which are ASCII) keeps taking those ``values`` there.

    ``access`` is what the command needs of its actor (``read``, ``write``, ``lead``, ``admin``,
    see :mod:`responders.staff`). On a desk with staff the actor is a staff id: ``--as ID``, else
    the deprecated ``--actor NAME`` (which must name a staff id), else the OS login mapped by
    ``staff add --login``; a read needs no actor. A desk without staff takes any name as written.
    """
    def deco(fn):
        @click.command(name=name, **kw)
        @actor_options
        @click.option("--db", "db_path", default=None, type=click.Path(dir_okay=False),
                      help="Desk database file or postgresql:// URL (default: the home's, see --database).")
        @click.pass_context
        @functools.wraps(fn)
        def wrapper(ctx, *args, as_id, actor, db_path, **kwargs):
            from responders.exceptions import ResponderError
            from responders.wording import staff_message
            from yuqing.clictx import db_error_message, home_from

            path = db_path or home_from(ctx).db_target  # the server's URL (redacted when shown) or the file
            if legacy_as is not None and as_id in legacy_as[1]:
                param = legacy_as[0]
                if kwargs.get(param) not in (None, as_id):
                    raise click.UsageError(f"--as 与 --{param} 给出了不同的结论：只用 --{param}")
                kwargs[param], as_id = as_id, None
            try:
                svc = service(ctx, db_path, creates=creates)
                who = acting_staff(svc.db, as_id, actor, access)
                return fn(svc, who, *args, **kwargs)
            except ResponderError as exc:
                raise click.ClickException(staff_message(exc)) from None
            except sqlite3.Error as exc:
                raise click.ClickException(db_error_message(path, exc)) from None
        wrapper.__doc__ = fn.__doc__
        return wrapper
    return deco


def _iso(dt: datetime | None) -> str | None:
    return desk_iso(dt)


def _incident_json(inc, clock=None) -> dict:
    d = {
        "id": inc.id, "title": inc.title, "state": inc.state, "severity": inc.severity,
        "clock_started_at": _iso(inc.clock_started_at), "release_due": _iso(inc.release_due),
        "released_at": _iso(inc.released_at), "places": [dict(p) for p in inc.places],
        "responsible_units": list(inc.responsible_units), "items": list(inc.item_ids),
        "tier": inc.tier, "verification": inc.verification, "topic": inc.topic,
        "first_published": _iso(inc.first_published), "detected_at": _iso(inc.detected_at),
        "acknowledged_at": _iso(inc.acknowledged_at), "final_at": _iso(inc.final_at),
        "closed_at": _iso(inc.closed_at), "assigned_units": list(inc.assigned_units),
        "merged_into": inc.merged_into,
        # units: assigned (交办), charged in the league table; suggested_units: the routing
        # matrix's suggestion nobody has assigned, never charged
        "units": list(inc.assigned_units), "suggested_units": list(inc.suggested_units),
    }
    if clock is not None:
        d["clock_status"] = clock.status
        d["remaining_seconds"] = int(clock.remaining.total_seconds())
    return d


def _feedback_json(f) -> dict:
    return {"unit": f.unit, "assigned_at": _iso(f.assigned_at), "due_at": _iso(f.due_at), "hours": f.hours,
            "status": f.status, "status_label": f.status_label, "fed_back_at": _iso(f.fed_back_at),
            "ended_at": _iso(f.ended_at)}


def _feedback_text(f, now: datetime) -> str:
    """已反馈 / 超时未反馈 / 待反馈 of one assignment, in words for staff."""
    from responders.clock import format_remaining

    if f.fed_back_at is not None:
        return f"{f.status_label}，{_local(f.fed_back_at)} 已反馈"
    if f.status in ("overdue", "pending"):
        return f"{f.status_label}（{format_remaining(f.due_at - (f.ended_at or now))}）"
    return f.status_label


def _local(dt: datetime | None) -> str:
    return desk_text(dt)


def _id(value: str) -> int:
    from yuqing.clictx import parse_id

    return parse_id(value, "an incident", "a whole number such as 3; see `yuqing incidents`")


# ------------------------------------------------------------------ reading

@desk_command("incidents", access="read")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (ISO 8601 times).")
@click.option("--all", "show_all", is_flag=True, help="Include archived, dismissed and merged incidents.")
@click.option("--no-mask", is_flag=True, help="Do not mask personal data in titles (internal use only).")
def incidents(svc, actor, as_json, show_all, no_mask):
    """List incidents by time left. Example: yuqing incidents --json"""
    from responders import timeline
    from responders.clock import compute_clock, format_remaining
    from responders.masking import clean, mask_personal

    incs = svc.list(include_closed=show_all)
    now = svc.clock()
    evs = timeline.events_for(svc.db, [i.id for i in incs])
    clocks = {i.id: compute_clock(svc.policy, evs[i.id], now) for i in incs}
    if as_json:
        click.echo(json.dumps(clean([_incident_json(i, clocks[i.id]) for i in incs], mask=not no_mask),
                              ensure_ascii=False, indent=2))
        return
    if not incs:
        click.echo("没有在办事件。")
        return
    for i in incs:
        c = clocks[i.id]
        left = format_remaining(c.remaining) if c.status not in ("released", "closed") else ""
        click.echo(f"#{i.id:<5} {i.state:<8} {i.severity:<4} {c.status_label:<4} {left:<16} "
                   f"截止 {_local(i.release_due)}  {visible(i.title if no_mask else mask_personal(i.title))}")


@desk_command("incident", access="read")
@click.argument("incident_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--no-mask", is_flag=True, help="Do not mask phone/ID numbers and home addresses (internal use only).")
def incident(svc, actor, incident_id, as_json, no_mask):
    """Show one incident: clock, releases, timeline. Example: yuqing incident 3"""
    from monitor.store import item_notes
    from responders.clock import format_remaining
    from responders.exports.model import published_label, summarize
    from responders.masking import clean, mask_personal
    from responders.staff import display_name

    show = visible if no_mask else (lambda text: mask_personal(visible(text)))

    iid = _id(incident_id)
    inc = svc.get(iid)
    now = svc.clock()
    c = svc.clock_state(iid, now)
    events = svc.timeline(iid)
    evidence = svc.evidence(iid)
    notes = item_notes(svc.db, list(inc.item_ids) + [e.item_id for e in evidence if e.item_id])
    dated = [e for e in evidence if e.published]
    first = min(dated, key=lambda e: e.published) if dated else None
    edited = {i: n["versions"] for i, n in notes.items() if n.get("versions", 1) > 1}
    feedback = svc.feedback(iid, now)
    from responders.instructions import list_instructions

    orders = list_instructions(svc.db, incident_ids=[iid])
    if as_json:
        d = _incident_json(inc, c)
        d["clock_start_basis"] = c.start_basis
        d["first_publisher"] = None if first is None else {
            "item_id": first.item_id, "source": first.source, "published": _iso(first.published),
            "published_label": published_label(first, notes)}
        d["edited_items"] = {str(i): n for i, n in sorted(edited.items())}
        d["releases"] = [{"kind": r.kind, "channel": r.channel, "url": r.url, "released_at": _iso(r.released_at),
                          "text": r.text} for r in svc.releases(iid)]
        d["feedback"] = [_feedback_json(f) for f in feedback]
        d["instructions"] = [i.to_dict(now) for i in orders]
        d["instructions_open"] = sum(1 for i in orders if i.is_open())
        d["instructions_overdue"] = sum(1 for i in orders if i.status(now) == "overdue")
        # actor: the staff id (or 系统's system/[system]) that the hash chain covers; text: as staff read it
        d["timeline"] = [{"seq": e.seq, "at": _iso(e.at), "kind": e.kind, "actor": e.actor,
                          "actor_name": display_name(svc.db, e.actor), "text": summarize(e),
                          "payload": dict(e.payload)} for e in events]
        click.echo(json.dumps(clean(d, mask=not no_mask), ensure_ascii=False, indent=2))
        return
    click.echo(f"事件 #{inc.id}  {show(inc.title)}")
    click.echo(f"状态 {inc.state} · 等级 {inc.severity}（档位 {inc.tier}） · 核实 {inc.verification} · 领域 {inc.topic}")
    click.echo(f"地点 {'、'.join(p.get('name', '') for p in inc.places) or '—'} · 交办单位 "
               f"{'、'.join(inc.assigned_units) or '—'} · 建议单位 {'、'.join(inc.suggested_units) or '—'}")
    click.echo(f"计时 {c.status_label}：{_local(c.started_at)} 起 {c.hours:g} 小时，截止 {_local(c.due_at)}"
               + ("" if c.status in ("released", "closed") else f"（{format_remaining(c.remaining)}）"))
    if c.start_basis:
        click.echo(f"计时起点 {c.start_basis}")
    if first is not None:
        click.echo(f"首发 {show(first.source or '')} {published_label(first, notes)} {show(first.title)[:40]}")
    if edited:
        click.echo("已修改条目 " + "；".join(f"#{i}（共{n}个版本）" for i, n in sorted(edited.items())[:10])
                   + (f" 等{len(edited)}条" if len(edited) > 10 else ""))
    for f in feedback:
        click.echo(f"反馈 {f.unit}：{_local(f.assigned_at)} 交办，{f.hours:g} 小时内反馈，时限 {_local(f.due_at)} · "
                   + _feedback_text(f, now))
    if orders:
        from yuqing.cmd_instructions import instruction_lines

        late = sum(1 for i in orders if i.status(now) == "overdue")
        click.echo(f"领导批示 {len(orders)} 件，待落实 {sum(1 for i in orders if i.is_open())} 件"
                   + (f"（已超期 {late} 件）" if late else "") + "：")
        for i in orders:
            for line in instruction_lines(i, now, lambda a: display_name(svc.db, a), show):
                click.echo("  " + line)
    for r in svc.releases(iid):
        click.echo(f"发布 {r.kind_label} {r.channel} {_local(r.released_at)} {visible(r.url)}")
    click.echo("时间线：")
    for e in events:
        click.echo(f"  {e.seq:>3} {_local(e.at)} {visible(display_name(svc.db, e.actor))}: {show(summarize(e))}")


@desk_command("verify", access="read")
@click.option("--witness", default=None, metavar="COUNT:HASH",
              help="A head witnessed on paper or in chat (the daily report's 时间线见证), e.g. 42:9f3a1c…")
def verify(svc, actor, witness):
    """Check the timeline: hash chain, HMAC anchor, head, guard triggers, incidents and releases
    against their events, witnessed heads; name the first problem. Example: yuqing verify"""
    from responders.timeline import verify as verify_chain

    res = verify_chain(svc.db, witness=witness)
    for note in res.notes:
        click.echo(f"  · {note}", err=not res.ok)
    if res.ok:
        click.echo(f"时间线校验通过：{res.checked} 条事件")
        return
    where = f"（事件 {res.first_broken_event_id}）" if res.first_broken_event_id else ""
    click.echo(f"时间线校验失败{where}：{res.reason}", err=True)
    sys.exit(1)


# ------------------------------------------------------------------ actions

def _done(inc) -> None:
    click.echo(f"事件 #{inc.id} 状态：{inc.state}")


@desk_command("open-incident", creates=True)
@click.argument("candidate_file", type=click.Path(dir_okay=False, allow_dash=True))
def open_incident(svc, actor, candidate_file):
    """Open (or join) an incident from a candidate JSON file ('-' = stdin).
    Example: yuqing open-incident candidate.json"""
    from responders.candidates import candidate_from_mapping

    try:
        text = sys.stdin.read() if candidate_file == "-" else Path(candidate_file).read_text(encoding="utf-8")
        data = json.loads(text)
    except OSError as exc:
        raise click.ClickException(f"cannot read {candidate_file}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{candidate_file}: invalid JSON: {exc}") from None
    joined = svc.open_or_join(candidate_from_mapping(data), actor=actor)
    click.echo(f"{'新建' if joined.opened else '并入'}事件 #{joined.incident_id}：{visible(joined.incident.title)}")


@desk_command("ack")
@click.argument("incident_id")
def ack(svc, actor, incident_id):
    """Acknowledge an incident (发现 -> 研判); again is a no-op. Example: yuqing ack 3"""
    iid = _id(incident_id)
    if svc.get(iid).acknowledged_at is None:
        _done(svc.acknowledge(iid, actor=actor))
        return
    inc, first = svc.get(iid), svc.acknowledged_by(iid)
    from responders.staff import display_name

    who = f"由 {visible(display_name(svc.db, first.actor))} " if first is not None else ""
    click.echo(f"事件 #{inc.id} 已于 {_local(inc.acknowledged_at)} {who}确认接报，无需重复确认（状态：{inc.state}）")


@desk_command("grade")
@click.argument("incident_id")
@click.argument("level")
@click.option("--reason", "reasons", multiple=True, help="Why (repeatable).")
@click.option("--tier", default=None, help="Clock tier from [clock] release_due_hours (default: the level).")
def grade(svc, actor, incident_id, level, reasons, tier):
    """Set severity 一般/较大/重大/特别重大; the deadline is recomputed.
    Example: yuqing grade 3 重大 --reason 涉及人员伤亡"""
    inc = svc.grade(_id(incident_id), level, list(reasons), actor=actor, tier=tier)
    click.echo(f"事件 #{inc.id} 等级：{inc.severity}，发布时限 {_local(inc.release_due)}")


@desk_command("assign")
@click.argument("incident_id")
@click.argument("units", nargs=-1)
@click.option("--replace", is_flag=True, help="The units given become the whole list (others are taken off).")
@click.option("--remove", "remove", multiple=True, metavar="UNIT", help="Take a unit off (repeatable).")
def assign(svc, actor, incident_id, units, replace, remove):
    """Assign units (交办) by their gazetteer names; aliases and former names are accepted.
    Example: yuqing assign 3 区住建局 铺镇; yuqing assign 3 --remove 铺镇"""
    if not units and not remove:
        raise click.UsageError("请写出要交办的单位，或用 --remove 撤销交办单位")
    iid = _id(incident_id)
    before = svc.get(iid).assigned_units
    inc = svc.assign(iid, list(units), actor=actor, replace=replace, remove=list(remove))
    added = [u for u in inc.assigned_units if u not in before]
    gone = [u for u in before if u not in inc.assigned_units]
    change = "；".join([*(["新增 " + "、".join(added)] if added else []), *(["撤销 " + "、".join(gone)] if gone else [])])
    click.echo(f"事件 #{inc.id} 交办单位：{'、'.join(inc.assigned_units) or '—'}（{change or '无变化'}） 状态：{inc.state}")


@desk_command("release")
@click.argument("incident_id")
@click.option("--channel", required=True, help="政府网站/政务微博/政务微信/新闻发布会/媒体采访/其他")
@click.option("--url", default="", help="Where it was published.")
@click.option("--at", "at", default=None,
              help="When: desk (Beijing) time unless an offset is given, e.g. \"2026-12-06 05:40\" (default now).")
@click.option("--text", default="", help="What was published (summary).")
@click.option("--kind", type=click.Choice(["authoritative", "progress", "final"]), default=None,
              help="首次权威发布 / 动态 / 处置结果 (default: authoritative first, then progress).")
def release(svc, actor, incident_id, channel, url, at, text, kind):
    """Record a release. Example: yuqing release 3 --channel 政府网站 --url https://... --text 情况通报"""
    rel = svc.record_release(_id(incident_id), channel=channel, url=url, text=text, kind=kind, actor=actor,
                             at=_parse_time(at, "--at") if at else None)
    _done(svc.get(rel.incident_id))


@desk_command("followup")
@click.argument("incident_id")
@click.option("--text", required=True, help="What was followed up, or what the unit reported.")
@click.option("--unit", default=None, metavar="UNIT",
              help="An assigned unit's feedback (反馈): stops that unit's feedback clock.")
def followup(svc, actor, incident_id, text, unit):
    """Record a follow-up on handling progress, or with --unit an assigned unit's feedback.
    Example: yuqing followup 3 --unit 区住建局 --text 已到现场核查，明日回复"""
    iid = _id(incident_id)
    ev = svc.followup(iid, text, actor=actor, unit=unit)
    if unit is None:
        click.echo(f"事件 #{ev.incident_id} 已记录跟进（#{ev.seq}，{_local(ev.at)}）")
        return
    name = ev.payload["unit"]
    fb = next((f for f in reversed(svc.feedback(iid)) if f.unit == name), None)
    verdict = f"，{fb.status_label}（时限 {_local(fb.due_at)}）" if fb is not None and fb.fed_back_at == ev.at else ""
    click.echo(f"事件 #{ev.incident_id} 已记录 {name} 的反馈（#{ev.seq}，{_local(ev.at)}）{verdict}")


@desk_command("note")
@click.argument("incident_id")
@click.argument("text")
def note(svc, actor, incident_id, text):
    """Add a note to the timeline. Example: yuqing note 3 "已电话联系铺镇" """
    ev = svc.note(_id(incident_id), text, actor=actor)
    click.echo(f"事件 #{ev.incident_id} 已记录备注（#{ev.seq}，{_local(ev.at)}）")


@desk_command("verify-status")
@click.argument("incident_id")
@click.argument("status")
@click.option("--note", "note_text", default="", help="Why.")
def verify_status(svc, actor, incident_id, status, note_text):
    """Set verification: 待核实/已核实/不实信息/反转. Example: yuqing verify-status 3 已核实"""
    inc = svc.set_verification(_id(incident_id), status, note_text, actor=actor)
    click.echo(f"事件 #{inc.id} 核实状态：{inc.verification}")


@desk_command("merge")
@click.argument("incident_id")
@click.argument("others", nargs=-1, required=True)
def merge(svc, actor, incident_id, others):
    """Merge other incidents into one. Example: yuqing merge 3 5 7"""
    inc = svc.merge(_id(incident_id), [_id(o) for o in others], actor=actor)
    click.echo(f"已合并到事件 #{inc.id}（{len(inc.item_ids)} 条条目）")


@desk_command("split")
@click.argument("incident_id")
@click.option("--items", "items", required=True, multiple=True, help="Item ids to move (repeatable or comma list).")
@click.option("--title", default=None, help="Title of the new incident.")
def split(svc, actor, incident_id, items, title):
    """Move items to a new incident. Example: yuqing split 3 --items 12,13 --title 另一事件"""
    ids = [x.strip() for chunk in items for x in chunk.split(",") if x.strip()]
    inc = svc.split(_id(incident_id), ids, title=title, actor=actor)
    click.echo(f"拆分出事件 #{inc.id}：{visible(inc.title)}")


@desk_command("close")
@click.argument("incident_id")
def close(svc, actor, incident_id):
    """Archive (归档) after the final-result release or a dismissal. Example: yuqing close 3"""
    _done(svc.close(_id(incident_id), actor=actor))


@desk_command("dismiss", legacy_as=("state", DISMISS_CHOICES))
@click.argument("incident_id")
@click.option("--reason", required=True, help="Why (required).")
@click.option("--state", "state", type=click.Choice(DISMISS_CHOICES), default=None,
              help="误报 or 不予处置 (default 不予处置). `--as 误报` still works.")
def dismiss(svc, actor, incident_id, reason, state):
    """Close as 误报 or 不予处置 with a reason. Example: yuqing dismiss 3 --state 误报 --reason 非本区事件 --as li"""
    _done(svc.dismiss(_id(incident_id), reason, actor=actor, state=state or "不予处置"))


# ------------------------------------------------------------------ release detection

@desk_command("proposals", access="read")
@click.option("--all", "show_all", is_flag=True, help="Include confirmed and rejected ones.")
def proposals(svc, actor, show_all):
    """List detected releases awaiting confirmation. Example: yuqing proposals"""
    from responders.release_detect import list_proposals

    rows = list_proposals(svc, None if show_all else "proposed")
    if not rows:
        click.echo("没有待确认的发布检测。")
    for p in rows:
        ev = p.evidence
        click.echo(f"提议 #{p.id} 事件 #{p.incident_id} [{p.status}] 得分 {p.score:.2f} "
                   f"{visible(ev.get('item_title') or '')} {visible(ev.get('item_url') or '')}\n    {visible(ev.get('why', ''))}")


@desk_command("confirm-release")
@click.argument("proposal_id", type=int)
@click.option("--kind", type=click.Choice(["authoritative", "progress", "final"]), default=None)
@click.option("--channel", default=None, help="Override the channel guessed from the source.")
def confirm_release(svc, actor, proposal_id, kind, channel):
    """Confirm a detected release with one action. Example: yuqing confirm-release 4"""
    from responders.release_detect import confirm_proposal

    rel = confirm_proposal(svc, proposal_id, kind=kind, channel=channel, actor=actor)
    _done(svc.get(rel.incident_id))


@desk_command("reject-release")
@click.argument("proposal_id", type=int)
@click.argument("reason")
def reject_release(svc, actor, proposal_id, reason):
    """Reject a detected release (not about this incident). Example: yuqing reject-release 4 与本事件无关"""
    from responders.release_detect import get_proposal, reject_proposal

    if not reason.strip():
        raise click.UsageError("请写明驳回理由（REASON 不能为空）")
    reject_proposal(svc, proposal_id, reason.strip(), actor=actor)
    p = get_proposal(svc, proposal_id)
    click.echo(f"已驳回发布检测提议 #{p.id}（事件 #{p.incident_id}）：{visible(reason.strip())}")


# ------------------------------------------------------------------ exports and reports

def _release_owner() -> str:
    """The routing matrix's release owner (区委宣传部 unless the desk's routing.toml says otherwise)."""
    from yuqing.classify_io import ClassifyDataError, load_routing
    from yuqing.gazetteer_io import gazetteer_dir, load_gazetteer

    home = _home(click.get_current_context())
    try:
        return load_routing(home, load_gazetteer(gazetteer_dir(home))).release_owner
    except ClassifyDataError as exc:
        raise click.ClickException(str(exc)) from None


@desk_command("export", access="read")
@click.argument("incident_id")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json", "csv", "docx"]), required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="File to write.")
@click.option("--no-mask", is_flag=True, help="Do not mask phone and ID numbers (internal use only).")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@click.option("--mkdir", is_flag=True, help="Create the file's folder if it does not exist.")
def export(svc, actor, incident_id, fmt, output, no_mask, force, mkdir):
    """Export an incident's 舆情处置报告 (times in Beijing time). An existing file is kept unless
    --force; a missing folder is refused unless --mkdir. Example: yuqing export 3 --format docx -o 报告.docx"""
    from monitor.store import item_notes
    from responders.exports import export_incident
    from yuqing.clictx import output_file

    iid = _id(incident_id)
    output_file(output, force=force, mkdir=mkdir)
    data = export_incident(svc, iid, fmt, output, mask=not no_mask, home=_home(click.get_current_context()),
                           item_notes=item_notes)
    click.echo(f"已导出 {output}（{len(data)} 字节）")


@desk_command("report", access="read")
@click.argument("kind", type=click.Choice(["daily", "weekly", "performance"]))
@click.option("--from", "date_from", default=None, help="First day, a Beijing-time day (YYYY-MM-DD).")
@click.option("--to", "date_to", default=None, help="Last day, inclusive, a Beijing-time day (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "docx", "csv"]), default="md", show_default=True)
@click.option("-o", "--output", default=None, type=click.Path(dir_okay=False), help="File (default: stdout).")
@click.option("--force", is_flag=True, help="Replace the -o file if it exists.")
@click.option("--mkdir", is_flag=True, help="Create the -o file's folder if it does not exist.")
def report(svc, actor, kind, date_from, date_to, fmt, output, force, mkdir):
    """Daily/weekly report or the on-time league table. Example: yuqing report performance --from 2026-06-01 --to 2026-06-30 --format csv"""
    from responders.exports import write_atomic
    from responders.reports import build_period_report, period_for, render_report

    start, end = period_for(kind, svc.clock(), _parse_date(date_from, "--from"), _parse_date(date_to, "--to"))
    if end <= start:
        raise click.ClickException("--to must not be before --from")
    if output:
        from yuqing.clictx import output_file

        output_file(output, force=force, mkdir=mkdir)
    data = render_report(build_period_report(svc, kind, start, end, release_owner=_release_owner()), fmt,
                         _home(click.get_current_context()))
    if output:
        write_atomic(output, data)
        click.echo(f"已生成 {output}")
    elif fmt == "docx":
        raise click.ClickException("docx needs -o FILE")
    else:
        click.echo(data.decode("utf-8"))
