"""`yuqing demo`: the whole desk against the bundled offline scenario.

The scenario's feeds are served on 127.0.0.1 with compressed time; the desk runs on
the same compressed clock, so two days of a story pass in minutes and every clock,
warning and release is right in scenario time.
"""
from __future__ import annotations

import asyncio
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

import click

DEFAULT_SPEED = 480.0  # 48 scenario hours in 6 real minutes


DEMO_MARK = ".yuqing-demo"  # in a home the demo made: running the demo there again is fine


def _demo_home(ctx: click.Context):
    from yuqing.clictx import database_option, home_from
    from yuqing.home import DeskHome

    root = ctx.find_root().obj or {}
    if root.get("home") is not None:
        home = home_from(ctx)
        _refuse_real_desk(home.path)
        _refuse_server_desk(home.db_target)
        try:
            home.path.mkdir(parents=True, exist_ok=True)
            (home.path / DEMO_MARK).write_text("made by `yuqing demo`\n", encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"{home.path}: cannot write the demo home ({exc.strerror})") from None
        return home, False
    database = database_option(ctx)
    if database is not None:
        _refuse_server_desk(database)
    return DeskHome(Path(tempfile.mkdtemp(prefix="yuqing-demo-")), database), True


def _refuse_server_desk(target) -> None:
    """On a PostgreSQL server the demo runs only in a database that holds no desk yet: it would
    add a fictional story, staff and a roster to a real desk's data (nothing is written here)."""
    import sqlite3

    from storage.db import desk_exists
    from storage.dburl import is_server, redacted
    from yuqing.clictx import db_error_message

    if not is_server(target):
        return
    try:
        exists = desk_exists(target)
    except sqlite3.Error as exc:
        raise click.ClickException(db_error_message(target, exc)) from None
    if exists:
        raise click.ClickException(
            f"数据库 {redacted(target)} 已有值班台数据：演示会写入虚构的舆情事件、人员和值班表，"
            "不能在已有的值班台上运行。请为演示新建一个空数据库（createdb yuqing_demo）并用 --database 指定，"
            "或不指定数据库（使用临时目录里的 SQLite 文件）")


def _refuse_real_desk(path: Path) -> None:
    """The demo rewrites desk.toml and sources.toml and adds a fictional story: never in a real desk
    (YUQING_HOME set for duty work reaches the demo as --home too)."""
    if path.exists() and not path.is_dir():
        raise click.ClickException(f"--home {path}: is a file, not a folder")
    if not path.is_dir() or (path / DEMO_MARK).exists() or not any(path.iterdir()):
        return
    raise click.ClickException(
        f"--home {path}: holds files and is not a demo home; the demo would overwrite its desk.toml and "
        "sources.toml and add a fictional story: pass a new folder, or leave --home/YUQING_HOME out "
        "(a temporary folder)")


def _fast_desk_toml(text: str) -> str:
    # All demo feeds share one loopback host: no politeness spacing needed.
    return text.replace("per_host_spacing = 0.5", "per_host_spacing = 0.0")


class DemoSession:
    """Server + desk on one event loop; used by the CLI and by tests."""

    def __init__(self, home, *, speed: float = DEFAULT_SPEED, skip: timedelta = timedelta(0), echo=click.echo,
                 auto_confirm_releases: bool = False, duty_officer: bool | None = None):
        from storage.timeutil import utcnow
        from yuqing.demo_clock import ScenarioClock

        self.home = home
        self.speed = speed
        self.clock = ScenarioClock(utcnow(), speed)
        self.t0 = self.clock.start - skip
        self.echo = echo
        self.server = None
        self.team = None  # the demo's staff (yuqing.demo_team.DemoTeam), seeded in setup()
        self.desk_run = None
        self.ready = threading.Event()
        self.auto_confirm_releases = auto_confirm_releases
        # headless, nobody sits at the console: the demo acknowledges and assigns itself
        self.duty_officer = auto_confirm_releases if duty_officer is None else duty_officer

    async def setup(self):
        from yuqing.config import default_desk_toml, init_home, load_config
        from yuqing.demo_server import DemoServer

        self.server = DemoServer(self.clock, t0=self.t0)
        base = await self.server.start()
        init_home(self.home, force=True, sources_text=self.server.sources_toml())
        text = _fast_desk_toml(default_desk_toml())
        # One real second of scheduling jitter is `speed` scenario seconds: not "missed while down".
        text = text.replace("late_grace_seconds = 60", f"late_grace_seconds = {max(60, int(self.speed * 5))}")
        if self.auto_confirm_releases:
            text += "\n[pipeline]\nauto_confirm_releases = true   # the demo confirms detected releases itself\n"
        if self.home.on_server:  # `yuqing --home <demo home> incidents` finds the demo's database
            from yuqing.config import database_section

            text += database_section(str(self.home.db_target))
        self.home.desk_toml.write_text(text, encoding="utf-8")
        self.cfg = load_config(self.home)
        self.team = self._seed_team()
        return base

    def _seed_team(self):
        """Three staff and a roster over the scenario's days (data/demo/team.toml)."""
        from storage.db import open_db
        from yuqing.demo_team import seed_team
        from pipeline.schema import all_migrations

        db = open_db(self.home.db_target, all_migrations())
        try:
            return seed_team(db, self.t0, self.clock.start + timedelta(hours=48), now=self.clock())
        finally:
            db.conn.close()

    async def run(self, duration: float | None, *, install_signals: bool = False):
        from yuqing.pipeline import build_run

        self.loop = asyncio.get_running_loop()
        base = await self.setup()
        self.echo(f"演示场景：{base}（时间压缩 {self.speed:g} 倍），值班台目录 {self.home.path}")
        self.echo(self.team_line())
        self.desk_run = build_run(self.cfg, clock=self.clock, tick_seconds=0.2, on_outcome=self._print_outcome,
                                  echo=self.echo)
        officer = None
        if self.duty_officer:
            from yuqing.daemon import Stage

            officer = DutyOfficer(self)
            self.desk_run.stages.append(Stage("demo duty officer", officer.step, 0.5))
        self.ready.set()
        try:
            await self.desk_run.run(duration=duration, install_signals=install_signals)
        finally:
            if officer is not None:
                officer.close()
            await self.server.stop()

    def team_line(self) -> str:
        from responders.staff import get_staff
        from storage.db import open_db
        from pipeline.schema import all_migrations

        db = open_db(self.home.db_target, all_migrations())
        try:
            who = [get_staff(db, sid) for sid in (self.team.officer, self.team.leader, self.team.admin)]
        finally:
            db.conn.close()
        return ("值班人员：" + "、".join(f"{m.role_label} {m.name}（{m.id}）" for m in who if m is not None)
                + f"；值班表已按中国日历排定 {self.team.shifts} 个班次")

    def units(self):
        """The desk's canonical unit names (its gazetteer)."""
        from yuqing.gazetteer_io import gazetteer_dir, load_unit_names

        return load_unit_names(gazetteer_dir(self.home.path))

    def summary(self) -> list[str]:
        """After the run: every incident with its clock in scenario time, and its exports."""
        from monitor.store import item_notes
        from responders.exports import export_incident
        from responders.incidents import IncidentService
        from responders.policy import policy_from_mapping
        from storage.db import open_db
        from pipeline.schema import all_migrations
        from yuqing.demo_team import alert_line, instruction_lines, review_incident

        db = open_db(self.home.db_target, all_migrations())
        svc = IncidentService(db, policy_from_mapping(self.cfg.sections.get("clock")), clock=self.clock,
                              units=self.units())
        lines = []
        out_dir = self.home.path / "exports"
        out_dir.mkdir(exist_ok=True)
        tz = self.cfg.timezone
        reviewed = {}
        if self.team is not None:
            for inc in svc.list(include_closed=True):
                reviewed[inc.id] = review_incident(svc, inc, self.team)
        for inc in svc.list(include_closed=True):
            st = svc.clock_state(inc.id)
            lines.append(f"事件 #{inc.id}「{inc.title}」 状态 {inc.state} · 等级 {inc.severity} · 计时 {st.status_label}")
            lines.append(f"    首发 {inc.first_published.astimezone(tz):%m-%d %H:%M} · 发现 "
                         f"{inc.detected_at.astimezone(tz):%m-%d %H:%M} · 权威发布时限 {st.due_at.astimezone(tz):%m-%d %H:%M}"
                         + (f" · 已于 {st.released_at.astimezone(tz):%m-%d %H:%M} 发布"
                            f"（{'按时' if st.released_on_time else '超时'}）" if st.released_at else ""))
            for fmt in ("md", "html", "json", "csv", "docx"):
                path = out_dir / f"incident-{inc.id}.{fmt}"
                export_incident(svc, inc.id, fmt, path, home=self.home.path, item_notes=item_notes)
            lines.append(f"    交办单位：{'、'.join(inc.assigned_units) or '未交办'}")
            lines += instruction_lines(svc, inc.id)
            if reviewed.get(inc.id):
                lines.append(reviewed[inc.id])
            lines.append(f"    报告已导出：{out_dir}/incident-{inc.id}.{{md,html,json,csv,docx}}")
        if not lines:
            lines.append("（本次演示期间尚未形成舆情事件；可加长 --for 或提高 --speed）")
        alerts = alert_line(svc, self.t0 - timedelta(days=1))
        if alerts:
            lines.append(alerts)
        lines += self._handover(svc, out_dir)
        db.conn.close()
        return lines

    def _handover(self, svc, out_dir: Path) -> list[str]:
        """The handover (交接班) as of the scenario's end, exported beside the incident reports."""
        from responders.handover import handover_sections, render_handover
        from yuqing.cmd_handover import prepare

        rep = prepare(svc)
        path = out_dir / "handover.md"
        path.write_bytes(render_handover(rep, "md"))
        counts = "，".join(heading for heading, _h, _r in handover_sections(rep))
        return [f"交接班报告：{counts}", f"    已导出：{path}"]

    def stop(self):
        """Thread-safe: ask the desk to finish its write in flight and stop."""
        loop = getattr(self, "loop", None)
        if self.desk_run is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.desk_run.stop)

    def _print_outcome(self, outcome) -> None:
        if not outcome.new_ids and outcome.status != "error":
            return
        when = self.clock().astimezone(self.cfg.timezone).strftime("%m-%d %H:%M")
        if outcome.status == "error":
            self.echo(f"[{when}] 来源 {outcome.source_id} 采集失败：{outcome.error}")
        else:
            self.echo(f"[{when}] 来源 {outcome.source_id}：新增 {len(outcome.new_ids)} 条")


class DutyOfficer:
    """The demo's duty officer (headless runs): acknowledges each new incident a few scenario
    minutes after detection, then assigns (交办) the units the routing matrix suggests — not the
    release owner (the desk itself), nor the 相关镇办 placeholder, nor the matrix's fallback
    (区政府办公室) when a unit more to the point is suggested. Each incident once: what staff
    change afterwards stays. Acts as the staff id the roster has on duty (the demo team's officer
    in a gap). Works on its own connection in its own thread."""

    ACK_AFTER = timedelta(minutes=10)
    ASSIGN_AFTER = timedelta(minutes=30)

    def __init__(self, session: "DemoSession"):
        from concurrent.futures import ThreadPoolExecutor

        from yuqing.demo_team import TeamActs

        self.session = session
        self.acts = TeamActs(session.team, self.say)
        self.svc = None
        self.done: set[int] = set()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="yuqing-demo-duty")

    async def step(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self.pool, self._step)

    def say(self, db, actor: str, text: str) -> None:
        """One line of the headless output: when (scenario time), who (name and role), what."""
        from responders.staff import get_staff

        member = get_staff(db, actor)
        who = f"{member.role_label} {member.name}" if member is not None else actor
        when = self.session.clock().astimezone(self.session.cfg.timezone).strftime("%m-%d %H:%M")
        self.session.echo(f"[{when}] {who}：{text}")

    def _service(self):
        if self.svc is None:
            from responders.incidents import IncidentService
            from responders.policy import policy_from_mapping
            from storage.db import open_db
            from yuqing.classify_io import load_routing
            from yuqing.gazetteer_io import gazetteer_dir, load_gazetteer
            from pipeline.schema import all_migrations

            home = self.session.home.path
            routing = load_routing(home, load_gazetteer(gazetteer_dir(home)))
            self.owner, self.fallback = routing.release_owner, set(routing.default_units)
            self.svc = IncidentService(open_db(self.session.home.db_target, all_migrations()),
                                       policy_from_mapping(self.session.cfg.sections.get("clock")),
                                       clock=self.session.clock, units=self.session.units())
        return self.svc

    def _step(self) -> None:
        from yuqing.demo_team import on_duty_officer

        svc = self._service()
        now = svc.clock()
        actor = on_duty_officer(svc.db, now, self.session.team.officer)
        for inc in svc.list(links=False):
            if inc.id in self.done:
                continue
            waited = now - inc.detected_at
            if inc.acknowledged_at is None and waited >= self.ACK_AFTER:
                svc.acknowledge(inc.id, actor=actor)
                self.say(svc.db, actor, f"确认接报 事件 #{inc.id}")
            if waited >= self.ASSIGN_AFTER:
                units = [u for u in inc.suggested_units
                         if u != self.owner and svc.units is not None and svc.units.canonical(u)]
                if any(u not in self.fallback for u in units):  # the matrix's fallback only when alone
                    units = [u for u in units if u not in self.fallback]
                if units and not inc.assigned_units:
                    svc.assign(inc.id, units, actor=actor)
                    self.say(svc.db, actor, f"交办 事件 #{inc.id} 至 {'、'.join(units)}")
                self.done.add(inc.id)
        self.acts.step(svc)

    def close(self) -> None:
        def shut():
            if self.svc is not None:
                self.svc.db.conn.close()
        self.pool.submit(shut).result()
        self.pool.shutdown(wait=True)


@click.command()
@click.option("--headless", is_flag=True, help="No console: print what the desk collects and does.")
@click.option("--for", "duration", type=float, default=None, metavar="SECONDS",
              help="Stop after this many real seconds (default: the whole scenario when headless).")
@click.option("--speed", type=float, default=DEFAULT_SPEED, show_default=True,
              help="Scenario seconds per real second.")
@click.option("--skip", default="0h", help="Start this far into the scenario, e.g. 8h.")
@click.pass_context
def demo(ctx: click.Context, headless: bool, duration: float | None, speed: float, skip: str) -> None:
    """Run the desk against the bundled offline scenario (no internet needed).

    A fictional two-day story in 铺镇, 汉台区 is served on 127.0.0.1 with compressed time.
    Without --headless the duty console opens on it.
    Example: yuqing demo --headless --for 60
    """
    from yuqing.clictx import hold_desk_lock
    from yuqing.demo_scenario import parse_offset
    from yuqing.logs import setup_logging

    if speed <= 0:
        raise click.BadParameter("must be positive", param_hint="--speed")
    if duration is not None and duration <= 0:
        raise click.BadParameter(f"must be more than 0 seconds, got {duration:g}", param_hint="--for")
    try:
        skip_td = parse_offset(skip)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--skip") from None
    home, _temporary = _demo_home(ctx)
    hold_desk_lock(home.db_target)
    session = DemoSession(home, speed=speed, skip=skip_td, auto_confirm_releases=headless)
    if duration is None and headless:
        duration = timedelta(hours=48).total_seconds() / speed + 5
    if headless:
        setup_logging(home, stderr=False)
        asyncio.run(session.run(duration, install_signals=True))
        for line in session.summary():
            click.echo(line)
        click.echo(f"演示结束。值班台数据保存在 {home.path}（可用 yuqing --home {home.path} incidents 查看）")
        return
    _run_with_console(session, home, duration)


def _run_with_console(session: DemoSession, home, duration: float | None) -> None:
    from yuqing.logs import setup_logging

    setup_logging(home, stderr=False)
    try:
        from tui.app import run_console
    except ImportError:
        raise click.ClickException("the console is not available in this build; use `yuqing demo --headless`")
    errors: list[BaseException] = []

    def desk_thread():
        try:
            asyncio.run(session.run(duration))
        except BaseException as exc:  # shown after the console closes
            errors.append(exc)
            session.ready.set()

    session.echo = lambda *_a, **_k: None  # the console shows what happens
    thread = threading.Thread(target=desk_thread, name="yuqing-demo-desk", daemon=True)
    thread.start()
    session.ready.wait(30)
    if errors:
        raise click.ClickException(f"the demo desk failed to start: {errors[0]}")
    try:
        run_console(home.db_target, clock=session.clock, units=session.units(), actor=session.team.officer,
                    home=home.path)
    finally:
        session.stop()
        thread.join(15)
    if errors:
        raise click.ClickException(f"the demo desk stopped with an error: {errors[0]}")
    click.echo(f"值班台数据保存在 {home.path}")
