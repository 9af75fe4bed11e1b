"""Daily and weekly reports and the on-time league table (the plan's 五(三) evaluation).

An incident belongs to a period when its clock started in [start, end).
Merged-away incidents are not counted; dismissed ones (误报/不予处置) are
counted apart and excluded from the on-time rate. The unit table charges the
release owner (区委宣传部) for the release clock of every incident, and each unit
assigned (交办) to an incident for its own feedback (反馈) on each assignment
(responders/clock.py ``compute_feedback``); units the routing matrix only
suggested are never ranked. The town table ranks the towns (places of level
"town") the incidents happened in, by the release clock. Per row:

- 按时: first release (feedback) at or before the due time;
- 超时完成: first release (feedback) after the due time;
- 超时未完成: none yet and now is past the due time (a unit taken off, or an
  incident closed, after the due time unanswered also counts here);
- 时限内待完成: none yet, still within the clock (a unit taken off or an incident
  closed before its feedback fell due is not counted at all);
- 按时率 = 按时 / (按时 + 超时完成 + 超时未完成), "—" when nothing is decided;
- 平均用时: hours from the clock's start to the first release, or from the
  assignment to the feedback.

Period bounds are local dates (Asia/Shanghai) turned into UTC instants. The weekly report also
lists the review action items (复盘整改事项, responders/review.py) not done yet, of any incident.
md, html and docx are rendered from the report templates (responders/exports/templates.py).
"""
from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from classifiers.types import RELEASE_OWNER
from responders.clock import compute_clock
from responders.exports.model import fmt_duration, fmt_time
from responders.masking import clean
from responders import anchor, review, timeline
from responders.types import DISMISS_STATES, Incident, UnitFeedback
from storage.timeutil import desk_tz, zone_label

if TYPE_CHECKING:
    from responders.incidents import IncidentService

REPORT_KINDS = ("daily", "weekly", "performance")
REPORT_FORMATS = ("md", "html", "docx", "csv")
TITLES = {"daily": "舆情日报", "weekly": "舆情周报", "performance": "信息发布时效考核表"}
#: what a league-table row is charged for
ROLE_RELEASE, ROLE_ASSIGNED, ROLE_TOWN = "发布时限（发布责任单位）", "交办反馈（交办单位）", "属地事件（发布时限）"
#: UnitFeedback.status -> the LeagueRow counter it adds to (void counts nowhere)
_FEEDBACK_COUNTER = {"on_time": "on_time", "late": "late", "overdue": "overdue_open", "pending": "pending"}


@dataclass
class LeagueRow:
    name: str
    role: str = ROLE_ASSIGNED
    incidents: int = 0
    on_time: int = 0
    late: int = 0
    overdue_open: int = 0
    pending: int = 0
    final: int = 0
    dismissed: int = 0
    release_hours: list[float] = field(default_factory=list)  # to the first release, or to the feedback
    seen: set[int] = field(default_factory=set, repr=False)  # incidents counted

    @property
    def decided(self) -> int:
        return self.on_time + self.late + self.overdue_open

    @property
    def rate(self) -> float | None:
        return self.on_time / self.decided if self.decided else None

    @property
    def mean_release_hours(self) -> float | None:
        return round(statistics.mean(self.release_hours), 2) if self.release_hours else None

    def to_json(self) -> dict:
        return {"name": self.name, "role": self.role, "incidents": self.incidents, "on_time": self.on_time, "late": self.late,
                "overdue_open": self.overdue_open, "pending": self.pending, "final": self.final,
                "dismissed": self.dismissed,
                "on_time_rate": None if self.rate is None else round(self.rate, 4),
                "mean_hours_to_first_release": self.mean_release_hours}


def local_day_start(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=desk_tz())


def period_for(kind: str, now: datetime, start: date | None = None, end: date | None = None) -> tuple[datetime, datetime]:
    """[start, end) as aware datetimes. Defaults: today (daily), the last 7 days (weekly), last 30 days."""
    today = now.astimezone(desk_tz()).date()
    if start and end:
        return local_day_start(start), local_day_start(end + timedelta(days=1))
    days = {"daily": 1, "weekly": 7}.get(kind, 30)
    if start:
        return local_day_start(start), local_day_start(start + timedelta(days=days))
    last = end or today
    return local_day_start(last - timedelta(days=days - 1)), local_day_start(last + timedelta(days=1))


def _outcome(inc: Incident, now: datetime) -> str:
    if inc.state in DISMISS_STATES or inc.dismiss_reason:
        return "dismissed"
    if inc.released_at is not None:
        return "on_time" if inc.released_at <= inc.release_due else "late"
    return "overdue_open" if now > inc.release_due else "pending"


def league_table(incidents: Iterable[Incident], now: datetime, by: str = "unit",
                 release_owner: str = RELEASE_OWNER,
                 feedback: Mapping[int, Sequence[UnitFeedback]] | None = None) -> list[LeagueRow]:
    """Rows per charged unit (by="unit": the release owner for the release clock, the assigned units
    for their feedback, from ``feedback``: incident id -> its assignments, see
    ``IncidentService.feedback_for``) or per town (by="town"), best on-time rate first."""
    if by == "unit" and feedback is None:
        raise ValueError("league_table(by='unit') needs the assignments' feedback (IncidentService.feedback_for)")
    rows: dict[str, LeagueRow] = {}

    def row_for(key: str, role: str, inc: Incident, outcome: str) -> LeagueRow:
        row = rows.setdefault(key, LeagueRow(key, role))
        if inc.id not in row.seen:
            row.seen.add(inc.id)
            row.incidents += 1
            row.final += inc.final_at is not None
            row.dismissed += outcome == "dismissed"
        return row

    for inc in incidents:
        if inc.merged_into is not None:
            continue
        outcome = _outcome(inc, now)
        keys = [(release_owner, ROLE_RELEASE)] if by == "unit" else \
            [(name, ROLE_TOWN) for name in dict.fromkeys(p["name"] for p in inc.towns)]
        for key, role in keys:
            row = row_for(key, role, inc, outcome)
            if outcome != "dismissed":
                setattr(row, outcome, getattr(row, outcome) + 1)
                if inc.released_at is not None:
                    row.release_hours.append((inc.released_at - inc.clock_started_at).total_seconds() / 3600)
        if by != "unit":
            continue
        for fb in feedback.get(inc.id, ()):
            if fb.unit == release_owner:
                continue
            if outcome == "dismissed":  # counted apart and not charged, like its release
                row_for(fb.unit, ROLE_ASSIGNED, inc, outcome)
                continue
            counter = _FEEDBACK_COUNTER.get(fb.status)
            if counter is None:
                continue  # taken off (or closed) before the feedback fell due: nothing was owed
            row = row_for(fb.unit, ROLE_ASSIGNED, inc, outcome)
            setattr(row, counter, getattr(row, counter) + 1)
            if fb.fed_back_at is not None:
                row.release_hours.append((fb.fed_back_at - fb.assigned_at).total_seconds() / 3600)
    return sorted(rows.values(), key=lambda r: (-(r.rate if r.rate is not None else -1), -r.incidents, r.name))


def units_label(inc: Incident) -> str:
    """The units of an incident for a report: the assigned ones, else the routing's suggestion."""
    if inc.assigned_units:
        return "、".join(inc.assigned_units)
    return f"（建议）{'、'.join(inc.suggested_units)}" if inc.suggested_units else "—"


def build_period_report(svc: "IncidentService", kind: str, start: datetime, end: datetime,
                        *, mask: bool = True, release_owner: str = RELEASE_OWNER) -> dict:
    now = svc.clock()
    all_incs = svc.list(include_closed=True)
    in_period = [i for i in all_incs if start <= i.clock_started_at < end and i.merged_into is None]
    open_now = [i for i in all_incs if i.is_open]
    evs = timeline.events_for(svc.db, [i.id for i in open_now])
    open_rows = []
    for inc in open_now:
        c = compute_clock(svc.policy, evs[inc.id], now)
        open_rows.append({"id": inc.id, "title": inc.title, "state": inc.state, "severity": inc.severity,
                          "due": inc.release_due, "status": c.status_label, "remaining": c.remaining,
                          "units": units_label(inc)})
    releases = []
    for inc in all_incs:
        for r in svc.releases(inc.id):
            if start <= r.released_at < end:
                releases.append({"incident": inc.id, "title": inc.title, "kind": r.kind_label, "channel": r.channel,
                                 "at": r.released_at, "url": r.url})
    releases.sort(key=lambda r: r["at"])
    report = {
        "kind": kind, "title": TITLES[kind], "start": start, "end": end, "generated_at": now,
        "incidents": [{
            "id": i.id, "title": i.title, "state": i.state, "severity": i.severity, "topic": i.topic,
            "first_published": i.first_published, "due": i.release_due, "released_at": i.released_at,
            "outcome": {"on_time": "按时", "late": "超时发布", "overdue_open": "超时未发布", "pending": "待发布",
                        "dismissed": "误报/不予处置"}[_outcome(i, now)],
            "places": "、".join(p.get("name", "") for p in i.places), "units": units_label(i),
        } for i in in_period],
        "open": open_rows,
        "releases": releases,
        "by_unit": [r.to_json() for r in league_table(in_period, now, "unit", release_owner,
                                                       svc.feedback_for(in_period, now))],
        "by_town": [r.to_json() for r in league_table(in_period, now, "town")],
    }
    if kind == "weekly":
        titles = {i.id: i.title for i in all_incs}
        report["open_actions"] = review.open_actions_for_report(svc.db, now, titles)
    report = clean(report, mask=mask)
    # After masking: the head hash is a witness and must print exactly.
    report["chain"] = anchor.record_witness(svc.db.conn, TITLES[kind], timeline.head(svc.db.conn))
    return report


# ------------------------------------------------------------------ rendering

def _pct(v) -> str:
    return "—" if v is None else f"{v * 100:.0f}%"


def _hours(v) -> str:
    return "—" if v is None else f"{v:.1f}"


LEAGUE_HEADER = ["单位/镇办", "事件数", "按时", "超时完成", "超时未完成", "时限内待完成", "处置结果已发布",
                 "误报/不予处置", "按时率", "平均用时（小时）", "考核口径"]
UNIT_LEAGUE_TITLE = "责任单位按时排名（发布责任单位按发布时限，交办单位按交办反馈）"


def _league_cells(r: dict) -> list[str]:
    return [r["name"], str(r["incidents"]), str(r["on_time"]), str(r["late"]), str(r["overdue_open"]),
            str(r["pending"]), str(r["final"]), str(r["dismissed"]), _pct(r["on_time_rate"]),
            _hours(r["mean_hours_to_first_release"]), r.get("role", "")]


def _sections(rep: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """(heading, header, rows) per section, shared by every format."""
    out = []
    if rep["kind"] != "performance":
        out.append((f"本期事件（{len(rep['incidents'])} 起）",
                    ["编号", "事件", "等级", "状态", "最早发布", "时限", "发布情况", "涉及地点", "交办单位"],
                    [[str(i["id"]), i["title"], i["severity"], i["state"], fmt_time(i["first_published"]),
                      fmt_time(i["due"]), i["outcome"], i["places"], i["units"]] for i in rep["incidents"]]))
        out.append((f"当前在办事件（{len(rep['open'])} 起）",
                    ["编号", "事件", "等级", "状态", "时限", "计时", "剩余", "交办单位"],
                    [[str(o["id"]), o["title"], o["severity"], o["state"], fmt_time(o["due"]), o["status"],
                      fmt_duration(o["remaining"]), o["units"]] for o in rep["open"]]))
        out.append((f"本期发布（{len(rep['releases'])} 次）", ["事件", "类型", "渠道", "时间", "链接"],
                    [[f"#{r['incident']} {r['title']}", r["kind"], r["channel"], fmt_time(r["at"]), r["url"]]
                     for r in rep["releases"]]))
    if rep["kind"] in ("weekly", "performance"):
        out.append((UNIT_LEAGUE_TITLE, LEAGUE_HEADER, [_league_cells(r) for r in rep["by_unit"]]))
        out.append(("镇办按时发布排名", LEAGUE_HEADER, [_league_cells(r) for r in rep["by_town"]]))
    if rep["kind"] == "weekly":
        acts = rep.get("open_actions", [])
        out.append((f"复盘整改事项（未完成 {len(acts)} 项）", ["事件", "责任单位", "完成时限", "事项", "状态"],
                    [[f"#{a['incident_id']} {a['incident_title']}", a["unit"], a["due_label"], a["text"],
                      a["status"] + ("（已逾期）" if a["overdue"] else "")] for a in acts]))
    return out


def _period_line(rep: dict) -> str:
    end = rep["end"] - timedelta(seconds=1)
    return (f"统计期间：{rep['start'].astimezone(desk_tz()):%Y-%m-%d} 至 {end.astimezone(desk_tz()):%Y-%m-%d}"
            f"（{zone_label()}）· 生成时间 {fmt_time(rep['generated_at'])}" + _chain_text(rep))


def _chain_text(rep: dict) -> str:
    """The timeline head as a witness: `yuqing verify --witness COUNT:HASH` checks it later."""
    w = rep.get("chain")
    if not w:
        return ""
    return f" · 时间线见证 {w['count']}:{w['head'][:16]}（{w['count']} 条事件，链头 {w['head'][:16]}）"


#: the DOCX template of each report kind
DOCX_TEMPLATES = {"daily": "daily_report.docx", "weekly": "weekly_report.docx", "performance": "performance_report.docx"}


def template_context(rep: dict) -> dict:
    """What the report templates see: the report plus its period line and the league title."""
    return {**rep, "period_line": _period_line(rep), "unit_league_title": UNIT_LEAGUE_TITLE,
            "open_actions": rep.get("open_actions", [])}


def render_report(rep: dict, fmt: str, home: Path | str | None = None) -> bytes:
    """md, html and docx from the report templates (``home``'s own first); csv from the sections."""
    if fmt == "md":
        from responders.exports.templates import render_text

        return render_text("period_report.md.j2", template_context(rep), home).encode("utf-8")
    if fmt == "html":
        from responders.exports.templates import render_text

        return render_text("period_report.html.j2", template_context(rep), home).encode("utf-8")
    if fmt == "docx":
        from responders.exports.templates import render_docx

        return render_docx(DOCX_TEMPLATES[rep["kind"]], template_context(rep), home)
    if fmt == "csv":
        from responders.exports.data_export import _cell

        buf = io.StringIO()
        w = csv.writer(buf)
        for heading, header, rows in _sections(rep):
            w.writerow([heading])
            w.writerow(header)
            w.writerows([[_cell(c) for c in row] for row in rows])
            w.writerow([])
        return ("\ufeff" + buf.getvalue()).encode("utf-8")
    from responders.exceptions import ExportError

    raise ExportError(f"unknown report format {fmt!r} (use one of {', '.join(REPORT_FORMATS)})")
