"""The one door between the console and the desk: every read and action of the console
goes through :class:`DeskFacade`, which calls the functions of the modules that own the
data (``monitor.store``, ``pipeline.store``, the incident service, the schemes file),
and the few names the screens need from lower floors are re-exported here.

The UI never runs SQL or models itself; Textual workers call these methods (any
thread) and post the results as messages. One connection per facade, guarded by a
lock; "database is locked"/"busy" errors are retried with backoff and then raised as
:class:`DeskBusy` (a one-line message for the status bar, never a traceback).
Several consoles open several facades on the same file; the daemon writes.

On a PostgreSQL desk (server mode, a console on a workstation) nothing here assumes a local
file: the home (desk.toml, schemes, exports) is the workstation's own folder; a connection the
server dropped is opened anew on the next call (:class:`DeskLost` says so meanwhile); and
:meth:`DeskFacade.listener` gives the console the desk's change notifications to wait on.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Sequence

from classifiers.types import RELEASE_OWNER
from monitor import store as monitor_store
from responders.exceptions import ResponderError
from responders.types import CHANNELS, DISMISS_STATES, RELEASE_KINDS, SEVERITIES, VERIFICATIONS
from responders.wording import staff_message
from storage import schemes_file
from storage.dburl import as_target, is_server
from storage.timeutil import UTC, TimeInputError, desk_tz, from_db, local, parse_desk_time, utcnow
from storage.visible import visible
from tui.display import DisplayNames
from tui.errors import DeskBusy, DeskLost, InvalidInput
from tui.types import (
    BoardRow, DeskStatus, IncidentDetail, ItemFilter, ItemRow, LinkedItem, Report, SchemePreview, Snapshot,
    StreamItem,
)

__all__ = [  # what the screens use from lower floors, re-exported so they import only this module
    "CHANNELS", "DISMISS_STATES", "RELEASE_KINDS", "RELEASE_OWNER", "SEVERITIES", "VERIFICATIONS", "UTC",
    "TimeInputError", "as_target", "is_server", "local", "parse_desk_time", "utcnow", "visible", "mask_personal", "describe_known_error",
    "timeline_labels", "summarize_event", "symbolic", "DeskBusy", "DeskLost", "DeskFacade",
]

REPO_SCHEMES = schemes_file.BUNDLED
#: No source checked for more than this many intervals -> the daemon is shown as down.
DAEMON_INTERVALS = 3
BOARD_LIMIT = 200
#: Pauses between attempts while another writer holds the database (about 1.5 s in all).
RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8)
SILENT_REFRESH_SECONDS = 30
#: The states shown on the board: open ones and 处置结果已发布 (waiting to be archived).
BOARD_STATES = ["发现", "研判", "交办", "已发布权威信息", "持续发布", "处置结果已发布"]


def mask_personal(text: str) -> str:
    """Personal data (phones, ID numbers, e-mail, addresses) masked, as on every screen."""
    from responders.masking import mask_personal as mask

    return mask(text)


def describe_known_error(exc: BaseException) -> str | None:
    """The message of an error the desk raises for staff (their own words), else None."""
    from responders.exceptions import ResponderError
    from storage.db import NewerSchemaError

    from tui.errors import ConsoleError

    if isinstance(exc, ResponderError):
        return staff_message(exc)
    return str(exc) if isinstance(exc, (ConsoleError, NewerSchemaError)) else None


def symbolic(expr: str) -> str:
    """A scheme expression with AND / OR / NOT written as + | - (as the scheme editor shows it)."""
    from classifiers.scheme_parser import symbolic as sym

    return sym(expr)


def timeline_labels() -> dict[str, str]:
    """Timeline event kind -> its Chinese name (one wording for console and reports)."""
    from responders.exports.model import KIND_LABELS

    return KIND_LABELS


def summarize_event(ev) -> str:
    """One line on a timeline event, worded as in the reports."""
    from responders.exports.model import summarize

    return summarize(ev)


def _retrying(fn):
    def wrapper(self, *args, **kwargs):
        delays = self.retry_delays
        for attempt in range(len(delays) + 1):
            try:
                with self._lock:
                    self._reconnect_if_lost()
                    return fn(self, *args, **kwargs)
            except ResponderError as exc:
                exc.args = (staff_message(exc),)  # what the console shows is str(exc): staff's words
                raise
            except sqlite3.OperationalError as exc:
                from storage.db import connection_lost

                msg = str(exc).lower()
                if connection_lost(self.db):
                    # a write may or may not have committed before the drop: staff check, never a blind retry
                    check = "；刚才的操作如未生效请重试" if getattr(fn, "writes", False) else ""
                    raise DeskLost(f"与数据库服务器的连接中断，正在重新连接{check}") from None
                if "lock timeout" in msg:  # the server already waited as long as SQLite's busy timeout
                    raise DeskBusy("数据库正被其他程序占用（等待写入超时），请稍后重试") from None
                if ("locked" in msg or "busy" in msg) and attempt < len(delays):
                    time.sleep(delays[attempt])
                    continue
                raise DeskBusy(f"数据库错误：{exc}") from None
            except sqlite3.DatabaseError as exc:
                raise DeskBusy(f"数据库错误：{exc}") from None
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _note_fields(note: dict | None) -> tuple[str, int]:
    """(published note, versions) of an item for ItemRow."""
    if not note:
        return "", 1
    text = note.get("published_note") or ""
    return text, int(note.get("versions") or 1)


def _names(places) -> tuple[str, ...]:
    return tuple(p.get("name", "") for p in places if isinstance(p, dict) and p.get("level") == "town")


def _unreadable_schemes(exc: schemes_file.SchemesFileError) -> DeskBusy:
    return DeskBusy(f"无法读取方案文件 {exc.path}：{'数组或表嵌套过深' if exc.too_deep else exc.reason}")


def _alerting(schemes_json: str | None) -> bool:
    try:
        return any(isinstance(s, dict) and s.get("alert") for s in json.loads(schemes_json or "[]"))
    except ValueError:
        return False


def _writing(fn):
    """Mark a method that changes the desk (a dropped connection may have left it done or not)."""
    fn.writes = True
    return fn


def _acting(access: str):
    """The console's staff member must be allowed ``access`` (:mod:`responders.staff`) for this
    method; checked on every call, so a member disabled meanwhile is refused too."""
    def deco(fn):
        def wrapper(self, *args, **kwargs):
            self.require(access)
            return fn(self, *args, **kwargs)
        wrapper.__name__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        wrapper.writes = access != "read"
        return wrapper
    return deco


def _why(exc: BaseException) -> str:
    """The reason of a failed server connection, without the address (storage.pg.ServerUnreachable
    says "无法连接数据库 <url>：<reason>"; the URL is shown elsewhere, password hidden)."""
    return str(exc).split("：", 1)[-1].strip()


class DeskChanges:
    """``wait(timeout)``: how many changes the desk's server notified (0 after ``timeout`` seconds
    without one); a dropped connection raises :class:`DeskLost` (open a new one to go on)."""

    def __init__(self, listener):
        self._listener = listener

    def wait(self, timeout: float) -> int:
        try:
            return self._listener.wait(timeout)
        except sqlite3.Error as exc:
            raise DeskLost(f"与数据库服务器的实时推送连接中断：{exc}") from None

    def close(self) -> None:
        self._listener.close()


class DeskFacade:
    retry_delays: tuple[float, ...] = RETRY_DELAYS

    def __init__(self, db_path: str | Path, *, clock: Callable[[], datetime] | None = None,
                 actor: str | None = None, policy=None, home: Path | None = None, units=None):
        from pipeline.schema import all_migrations
        from responders.incidents import default_actor
        from storage.db import open_db

        self.db_path = as_target(db_path)
        self.on_server = is_server(self.db_path)
        # The desk home (desk.toml, schemes, exports): the file's folder, or on a server the
        # workstation's own home folder when given (None: the bundled schemes, no exports).
        self.home = Path(home) if home else (None if self.on_server else self.db_path.parent)
        self.clock = clock or utcnow
        self.actor = actor or default_actor()
        self._lock = threading.RLock()
        self._policy, self._units = policy, units  # units: classifiers.units.UnitNames (assignment checks names)
        try:
            self.db = open_db(self.db_path, all_migrations())
        except sqlite3.DatabaseError as exc:
            if self.on_server and isinstance(exc, sqlite3.OperationalError):  # says which server, password hidden
                raise DeskLost(f"无法连接数据库服务器 {self.shown_target}：{_why(exc)}") from None
            raise DeskBusy(f"无法打开数据库 {self.shown_target}：{exc}") from None
        self._service()
        self._today: tuple[str, int, int] | None = None  # (local date, max item id counted, count)
        self._silent: tuple[datetime, int] | None = None

    @property
    def shown_target(self) -> str:
        """The database as staff may read it (a server URL without its password)."""
        from storage.dburl import redacted

        return redacted(self.db_path)

    def _service(self) -> None:
        from responders.incidents import IncidentService

        self.svc = IncidentService(self.db, self._policy, clock=self.clock, units=self._units)

    def _reconnect_if_lost(self) -> None:
        """A server connection that was dropped (network, server restart) is opened anew; the
        schema was brought up to date when the console first opened the desk."""
        from storage.db import connect, connection_lost

        if not connection_lost(self.db):
            return
        try:
            self.db.conn.close()
        except sqlite3.Error:
            pass
        try:
            db = connect(self.db_path)
        except sqlite3.DatabaseError as exc:
            raise DeskLost(f"与数据库服务器的连接中断，正在重新连接：{_why(exc)}") from None
        self.db = db
        self._service()

    def listener(self) -> "DeskChanges | None":
        """The desk's change notifications on a connection of their own, for a server desk; None
        for a SQLite file, whose console polls instead."""
        if not self.on_server:
            return None
        from storage.pgnotify import DeskListener

        try:
            return DeskChanges(DeskListener(str(self.db_path), application_name="yuqing console"))
        except sqlite3.DatabaseError as exc:
            raise DeskLost(f"实时推送无法连接数据库服务器：{_why(exc)}") from None

    def now(self) -> datetime:
        return self.clock()

    def require(self, access: str = "write") -> None:
        """Refuse (StaffError, a message for staff) unless the console's actor may ``access``;
        a desk without staff lets anyone act."""
        from responders import staff

        with self._lock:
            # a staff id, or an OS login mapped by `staff add --login`: recorded as the member's id
            known = staff.get_staff(self.db, self.actor) is not None
            member = staff.resolve_actor(self.db, self.actor if known else None, self.actor, access)  # type: ignore[arg-type]
            if member is not None:
                self.actor = member.id

    @_retrying
    def refusal(self, access: str = "write") -> str | None:
        """Why the console's actor may not ``access`` (a message for staff), or None when they may."""
        from responders.staff import StaffError

        try:
            self.require(access)
        except StaffError as exc:
            return str(exc)
        return None

    @_retrying
    def actor_names(self, actors) -> dict[str, str]:
        """actor id -> the name staff read (responders.staff.display_name)."""
        from responders.staff import display_name

        return {a: display_name(self.db, a) for a in set(actors)}

    def close(self) -> None:
        with self._lock:
            try:
                self.db.conn.close()
            except sqlite3.Error:  # a server connection already gone
                pass

    # ------------------------------------------------------------ dashboard

    @_retrying
    def snapshot(self, *, stream_limit: int = 60) -> Snapshot:
        now = self.clock()
        total, waiting, rows = self.svc.board(BOARD_STATES, BOARD_LIMIT)
        from responders.instructions import open_counts

        orders = open_counts(self.db, now)
        board = [BoardRow(r["id"], r["title"], r["state"], r["severity"], _names(r["places"]), tuple(r["units"]),
                          r["release_due"], r["released_at"], r["acknowledged"], *orders.get(r["id"], (0, 0)))
                 for r in rows]
        return Snapshot(tuple(board), total, tuple(self._stream(stream_limit)), self._status(now, waiting))

    def _stream(self, limit: int) -> list[StreamItem]:
        from pipeline.store import flagged_items

        out = []
        for r in flagged_items(self.db, limit=limit):
            out.append(StreamItem(
                r["id"], r["source_id"], r["title"], from_db(r["published"]), from_db(r["fetched_at"]),
                r["topic"], r["sentiment"], r["severity"], _names(json.loads(r["places"] or "[]")),
                bool(r["hot"]), _alerting(r["schemes"])))
        return out

    def _items_today(self, now: datetime) -> int:
        day = now.astimezone(desk_tz()).date()
        start = datetime.combine(day, datetime.min.time(), tzinfo=desk_tz())
        top = monitor_store.last_item_id(self.db)
        if self._today is None or self._today[0] != day.isoformat() or top < self._today[1]:
            n = monitor_store.count_fetched_since(self.db, start)
        else:  # only the new rows since the last poll
            n = self._today[2] + monitor_store.count_fetched_since(self.db, start, after_id=self._today[1])
        self._today = (day.isoformat(), top, n)
        return n

    def _silent_count(self, now: datetime) -> int:
        """Silent sources (no new items for several usual gaps); recomputed at most every 30 s."""
        if self._silent is None or abs((now - self._silent[0]).total_seconds()) >= SILENT_REFRESH_SECONDS:
            self._silent = (now, sum(1 for h in monitor_store.source_health(self.db, now) if h.silent))
        return self._silent[1]

    def _status(self, now: datetime, waiting: int) -> DeskStatus:
        src = monitor_store.source_checks(self.db)
        enabled = [s for s in src if s["enabled"]]
        failing = sum(1 for s in enabled if s["error_streak"])
        checks = [s["last_check_at"] for s in enabled if s["last_check_at"]]
        last = max(checks) if checks else None
        alive = True
        if enabled:
            interval = min(s["interval"] for s in enabled)
            alive = last is not None and (now - last) <= timedelta(seconds=DAEMON_INTERVALS * interval)
        silent = self._silent_count(now) if enabled else 0
        from responders.alerts.store import failing_channels

        return DeskStatus(now, len(src), len(enabled) - failing, failing, silent, self._items_today(now),
                          waiting, alive, last, tuple(h.label for h in failing_channels(self.db)),
                          self._operator())

    def _operator(self) -> str:
        """The console's staff member as staff read it: name and role (未登记 when the desk has staff
        but not this actor; '' on a desk without staff)."""
        from responders import staff

        member = staff.get_staff(self.db, self.actor)
        if member is not None:
            return f"{member.name}（{member.role_label}{'' if member.active else '，已停用'}）"
        return f"未登记人员 {self.actor}" if staff.has_staff(self.db) else ""

    # ------------------------------------------------------------ incidents

    @_retrying
    def incident(self, incident_id: int) -> IncidentDetail:
        from pipeline.store import item_heat
        from responders.release_detect import list_proposals

        inc = self.svc.get(incident_id)
        clock = self.svc.clock_state(incident_id)
        ev = self.svc.evidence(incident_id)
        ids = [int(e.item_id) for e in ev if e.item_id and str(e.item_id).isdigit()]
        heat = {str(iid): h for iid, h in item_heat(self.db, ids).items()}
        dated = [e for e in ev if e.published is not None]
        first = min(dated, key=lambda e: e.published).id if dated else (ev[0].id if ev else None)
        items = tuple(LinkedItem(e.item_id, e.title, e.source or "", e.published, e.url, e.id == first,
                                 heat.get(str(e.item_id))) for e in ev)
        from responders.instructions import list_instructions
        from responders.staff import display_name

        events = tuple(self.svc.timeline(incident_id))
        orders = tuple(list_instructions(self.db, incident_ids=[incident_id]))
        actors = {e.actor for e in events} | {a for i in orders for a in (i.leader, i.done_by) if a}
        names = {a: display_name(self.db, a) for a in actors}
        return IncidentDetail(inc, clock, items, events,
                              tuple(self.svc.releases(incident_id)),
                              tuple(list_proposals(self.svc, "proposed", incident_id)),
                              names,
                              orders)

    @_retrying
    @_acting("write")
    def acknowledge(self, incident_id: int):
        return self.svc.acknowledge(incident_id, actor=self.actor)

    @_retrying
    @_writing  # checks its actor itself (officers and up), not through _acting
    def ack_alerts(self, incident_id: int) -> int:
        """Acknowledge the incident's alerts waiting for a person (stops their escalation);
        how many. On a desk with staff the console's actor must be an officer, leader or admin."""
        from responders import staff
        from responders.alerts.acks import acknowledge_incident

        try:
            with_staff = staff.has_staff(self.db)
        except sqlite3.OperationalError:  # a desk from before staff existed
            with_staff = False
        actor = self.actor
        if with_staff:
            known = staff.get_staff(self.db, actor) is not None
            actor = staff.resolve_actor(self.db, actor if known else None, actor, "write").id
        return len(acknowledge_incident(self.svc, incident_id, actor).acked)

    @_retrying
    @_acting("write")
    def grade(self, incident_id: int, severity: str, reason: str = ""):
        return self.svc.grade(incident_id, severity, [reason] if reason else [], actor=self.actor)

    @_retrying
    @_acting("write")
    def assign(self, incident_id: int, units: Sequence[str], *, replace: bool = False, remove: Sequence[str] = ()):
        return self.svc.assign(incident_id, list(units), actor=self.actor, replace=replace, remove=list(remove))

    @_retrying
    @_acting("write")
    def note(self, incident_id: int, text: str):
        if not text.strip():
            from responders.exceptions import InvalidValue

            raise InvalidValue("备注内容不能为空")
        return self.svc.note(incident_id, text.strip(), actor=self.actor)

    @_retrying
    @_acting("write")
    def followup(self, incident_id: int, text: str):
        return self.svc.followup(incident_id, text, actor=self.actor)

    @_retrying
    @_acting("write")
    def set_verification(self, incident_id: int, status: str, note: str = ""):
        return self.svc.set_verification(incident_id, status, note, actor=self.actor)

    @_retrying
    @_acting("write")
    def record_release(self, incident_id: int, *, channel: str, url: str, at: datetime, text: str,
                       kind: str | None):
        return self.svc.record_release(incident_id, channel=channel, url=url, at=at, text=text, kind=kind or None,
                                       actor=self.actor)

    @_retrying
    @_acting("write")
    def confirm_proposal(self, proposal_id: int):
        from responders.release_detect import confirm_proposal

        return confirm_proposal(self.svc, proposal_id, actor=self.actor)

    @_retrying
    @_acting("write")
    def reject_proposal(self, proposal_id: int, reason: str):
        """Reject a detected release (it was not the district's answer); the reason goes on the timeline."""
        from responders.exceptions import InvalidValue
        from responders.release_detect import get_proposal, reject_proposal

        if not (reason or "").strip():
            raise InvalidValue("驳回理由不能为空")
        reject_proposal(self.svc, proposal_id, reason.strip(), actor=self.actor)
        return get_proposal(self.svc, proposal_id)

    @_retrying
    @_acting("write")
    def merge(self, target_id: int, other_ids: Sequence[int]):
        return self.svc.merge(target_id, list(other_ids), actor=self.actor)

    @_retrying
    @_acting("write")
    def split(self, incident_id: int, item_ids: Sequence[int | str], title: str | None = None):
        """Move linked items (and their evidence) out into a new incident; returns the new Incident."""
        return self.svc.split(incident_id, [str(i) for i in item_ids], title=(title or "").strip() or None,
                              actor=self.actor)

    @_retrying
    @_acting("write")
    def close_incident(self, incident_id: int):
        return self.svc.close(incident_id, actor=self.actor)

    @_retrying
    @_acting("write")
    def dismiss(self, incident_id: int, reason: str, state: str = "不予处置"):
        return self.svc.dismiss(incident_id, reason, actor=self.actor, state=state)

    @_retrying
    def export(self, incident_id: int, fmt: str) -> Path:
        from responders.exports import export_incident

        from storage.timeutil import desk_stamp

        stamp = desk_stamp(self.clock())
        path = self._home() / "exports" / f"incident-{int(incident_id)}-{stamp}.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        export_incident(self.svc, incident_id, fmt, path, home=self._home(), item_notes=monitor_store.item_notes)
        return path

    # ------------------------------------------------------------ items

    @_retrying
    def items(self, f: ItemFilter = ItemFilter()) -> list[ItemRow]:
        from pipeline.store import analysed_items

        ids = None
        if f.query.strip():
            from classifiers.normalize import normalize
            from classifiers.segment import default_segmenter
            from pipeline.store import search_items

            # Cut like the index was cut: normalised Simplified text (Traditional queries work too).
            query = normalize(f.query.strip()).text
            tokens = [t for t in default_segmenter().cut(query) if any(c.isalnum() for c in t)]
            ids = [r["id"] for r in search_items(self.db, tokens, limit=1000)]
            if not ids:
                return []
        since = self.clock() - timedelta(hours=f.since_hours) if f.since_hours else None
        return self._item_rows(analysed_items(self.db, ids=ids, town=f.town, since=since, topic=f.topic,
                                              sentiment=f.sentiment, source=f.source, limit=f.limit))

    @_retrying
    def item(self, item_id: int) -> ItemRow | None:
        from pipeline.store import analysed_items

        rows = self._item_rows(analysed_items(self.db, ids=[int(item_id)], limit=1))
        return rows[0] if rows else None

    def _item_rows(self, rows: list[dict]) -> list[ItemRow]:
        from pipeline.store import item_labels

        ids = [r["id"] for r in rows]
        labels = item_labels(self.db, ids)
        notes = monitor_store.item_notes(self.db, ids)
        return [ItemRow(r["id"], r["source_id"], r["title"], r["text"], r["url"], from_db(r["published"]),
                        r["topic"] or "", r["sentiment"] or "", _names(json.loads(r["places"] or "[]")),
                        bool(r["flagged"]), labels.get(r["id"], {}), *_note_fields(notes.get(r["id"])))
                for r in rows]

    @_retrying
    @_acting("write")
    def correct(self, item_id: int, field: str, value: str) -> int:
        """Save a staff correction (topic / sentiment / place) as a training label."""
        from pipeline.store import add_label

        return add_label(self.db, int(item_id), field, value.strip(), self.actor, self.clock())

    @_retrying
    def filter_choices(self) -> dict[str, list[str]]:
        from pipeline.store import analysis_values

        return {"topic": analysis_values(self.db, "topic"), "sentiment": analysis_values(self.db, "sentiment"),
                "source": monitor_store.source_ids(self.db)}

    # ------------------------------------------------------------ sources, schemes, reports

    @_retrying
    def sources(self):
        return monitor_store.source_health(self.db, self.clock())

    def _home(self) -> Path:
        """The desk home for files this console writes (exports, schemes)."""
        if self.home is None:
            raise DeskBusy("未指定本机桌面目录（--home），无法在本机保存文件")
        return self.home

    def _schemes_home(self) -> Path:
        """Where the schemes file is read: the desk home, or without one the bundled file's folder."""
        return self.home if self.home is not None else schemes_file.BUNDLED.parent

    def schemes_path(self) -> Path:
        return schemes_file.schemes_path(self._schemes_home())

    def own_schemes(self) -> bool:
        """Whether the desk home has its own schemes file (else the bundled one is in use)."""
        return self.home is not None and self.schemes_path() == self.home / schemes_file.NAME

    def _schemes_doc(self) -> dict:
        try:
            return schemes_file.read_document(self._schemes_home())
        except schemes_file.SchemesFileError as exc:
            raise _unreadable_schemes(exc) from None

    def schemes(self) -> dict[str, dict]:
        """name -> {expr, alert, description, label} from the desk's schemes file."""
        return schemes_file.schemes_of(self._schemes_doc())
    @_retrying
    def display_names(self) -> DisplayNames:
        """What staff read instead of ids: source names, scheme labels, staff names (by id and login)."""
        from classifiers.schemes import scheme_labels
        from monitor.store import source_names
        from responders.staff import list_staff

        try:
            labels = scheme_labels(self._schemes_doc())
        except DeskBusy:  # the schemes page says what is wrong with the file
            labels = {}
        staff: dict[str, str] = {}
        for member in list_staff(self.db):
            staff[member.id] = member.name
            if member.login and member.active:
                staff.setdefault(member.login, member.name)
        return DisplayNames(source_names(self.db), labels, staff)

    @_retrying
    def preview_scheme(self, name: str, expr: str, *, recent: int = 500) -> SchemePreview:
        from classifiers.scheme_parser import explain_zh
        from classifiers.schemes import compile_scheme

        try:
            scheme = compile_scheme(name or "preview", expr)
        except ValueError as exc:  # SchemeError / SchemeSyntaxError, with the column
            return SchemePreview(False, explain_zh(exc))
        rows = monitor_store.recent_texts(self.db, recent)
        hits = []
        for iid, title, text in rows:
            hit = scheme.match(f"{title}\n{text}")
            if hit is not None:
                hits.append((iid, title, hit.explanation))
        return SchemePreview(True, "", len(rows), tuple(hits))

    @_acting("admin")
    def save_scheme(self, name: str, expr: str) -> Path:
        """Write ``expr`` for scheme ``name`` to <home>/schemes.toml (copying the bundled file first)."""
        from classifiers.schemes import compile_scheme

        if not name.strip():
            raise InvalidInput("方案名不能为空")
        try:
            compile_scheme(name, expr)
        except ValueError as exc:
            from classifiers.scheme_parser import explain_zh

            raise DeskBusy(f"方案表达式有误：{explain_zh(exc)}") from None
        try:
            return schemes_file.save_expression(self._home(), name, expr)
        except schemes_file.SchemesFileError as exc:
            raise _unreadable_schemes(exc) from None

    @_retrying
    def report(self, *, hours: int = 24, top: int = 8) -> Report:
        from pipeline.store import top_stories
        from responders.reports import league_table

        now = self.clock()
        end = now.astimezone(desk_tz()).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        start = end - timedelta(hours=hours)
        counts = {h: 0 for h in range(hours)}
        for fetched in monitor_store.fetched_times_since(self.db, start):
            k = int((fetched - start).total_seconds() // 3600)
            if 0 <= k < hours:
                counts[k] += 1
        per_hour = tuple((start + timedelta(hours=k), counts[k]) for k in range(hours))
        stories = tuple(top_stories(self.db, top))
        incs = self.svc.list(include_closed=True, links=False)
        league = tuple(league_table(incs, now, feedback=self.svc.feedback_for(incs, now)))
        return Report(now, per_hour, stories, league)

    # ------------------------------------------------------------ duty: roster, handover, instructions, alerts

    def _duty_shift(self, s) -> "DutyShift | None":
        from responders.staff import display_name
        from tui.types import DutyShift

        if s is None:
            return None
        return DutyShift(s.name, s.starts_at, s.ends_at, display_name(self.db, s.officer),
                         display_name(self.db, s.leader))

    @_retrying
    def duty(self, *, gap_hours: int | None = None) -> "DutyView":
        """Who is on duty now, the next shift, roster gaps ahead and the handover's counts."""
        from responders import handover, roster
        from responders.handover_desk import handover_counts, shift_began
        from responders.staff import display_name
        from tui.types import DutyView

        now = self.clock()
        hours = gap_hours or roster.DEFAULT_GAP_HOURS
        has = roster.has_roster(self.db)
        gaps = tuple((g.start, g.end) for g in roster.roster_gaps(self.db, now, timedelta(hours=hours))) if has else ()
        n = handover_counts(self.svc, source_health=monitor_store.source_health)
        last = handover.last_acceptance(self.db)
        return DutyView(now, has, self._duty_shift(roster.on_duty(self.db, now)),
                        self._duty_shift(roster.next_shift(self.db, now)), gaps, hours,
                        n["open_incidents"], n["unacked_alerts"], n["open_instructions"], n["pending_proposals"],
                        n["failing_sources"], shift_began(self.svc),
                        (last.at, display_name(self.db, last.actor)) if last is not None else None)

    @_retrying
    @_acting("write")
    def accept_handover(self, note: str = ""):
        """Accept the handover as the console's staff member (a desk timeline event)."""
        from responders.handover import accept_handover
        from responders.handover_desk import prepare_handover

        return accept_handover(self.svc, self.actor, prepare_handover(self.svc, source_health=monitor_store.source_health), note)

    @_retrying
    def open_instructions(self) -> list:
        """Instructions not yet fed back, overdue first (responders.instructions.open_instructions)."""
        from responders.instructions import open_instructions
        from responders.staff import display_name
        from tui.types import InstructionRow

        now = self.clock()
        rows = open_instructions(self.db, now)
        titles = {i.id: i.title for i in self.svc.list(include_closed=True, links=False)}
        return [InstructionRow(i.id, i.incident_id, titles.get(i.incident_id, ""), display_name(self.db, i.leader),
                               i.text, i.given_at, i.due_at, i.status(now) == "overdue") for i in rows]

    @_retrying
    @_acting("write")
    def instruction_done(self, instruction_id: int, feedback: str):
        """Record the feedback (反馈) that closes an instruction, as the console's staff member."""
        from responders.instructions import complete

        return complete(self.svc, int(instruction_id), self.actor, feedback)

    @_retrying
    def open_alerts(self) -> list:
        """Alerts waiting for acknowledgement, oldest first."""
        from responders.alerts.store import list_alerts
        from tui.types import AlertRow

        out = []
        for r in reversed(list_alerts(self.db, open_only=True)):
            inc = r.alert.incident_id
            out.append(AlertRow(r.alert.id, r.alert.title, r.alert.severity,
                                int(inc) if inc is not None and str(inc).isdigit() else None,
                                r.created_at, r.base_at, r.step))
        return out

    @_retrying
    @_acting("write")
    def ack_alert(self, alert_id: str) -> int:
        """Acknowledge one alert (a folded digest: every alert it stood for); how many newly."""
        from responders.alerts.acks import acknowledge

        return len(acknowledge(self.svc, alert_id, self.actor).acked)
