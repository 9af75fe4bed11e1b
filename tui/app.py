"""The duty console (舆情值班台): a Textual app over :class:`tui.facade.DeskFacade`.

All database work runs in thread workers (:meth:`DeskApp.run_db`) that post
messages from :mod:`tui.messages`; the dashboard polls every ~1.5 s so several
consoles and the daemon can share one desk file. On a PostgreSQL desk a thread of its own
waits for the server's change notifications (LISTEN/NOTIFY, :meth:`DeskFacade.listener`) and the
shown screen refreshes on each; polling then only catches what time changes (every 10 s), and
takes over at its usual pace while the notifications' connection is down and reconnecting.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message_pump import MessagePump
from textual.screen import Screen

from tui.display import DisplayNames
from tui.facade import as_target, is_server, utcnow
from tui.messages import ActionDone, DeskChanged, DeskFailed, ListenState, Loaded, SnapshotReady
from tui.pages import PAGE_LIST, PAGES

log = logging.getLogger(__name__)

#: Textual's own notices and prompts that staff could see, in Chinese.
HELP_QUIT_TEXT = "按 q 或 Ctrl+Q 退出值班台"


def describe_error(exc: BaseException) -> str:
    """A one-line Chinese message for staff (never a traceback)."""
    from tui.facade import describe_known_error

    known = describe_known_error(exc)
    if known is not None:
        return chinese_errors(known)
    if isinstance(exc, ValueError):
        return f"输入有误：{chinese_errors(str(exc))}"
    if isinstance(exc, OSError):
        where = f"（{exc.filename}）" if getattr(exc, "filename", None) else ""
        return f"文件错误{where}：{OS_ERRORS.get(exc.errno, exc.strerror or '无法读写')}"
    log.exception("console action failed")
    return "内部错误，操作未完成（详情已记入日志）"


#: errno -> what staff read for a failed file operation.
OS_ERRORS = {28: "磁盘空间不足", 13: "没有权限", 1: "没有权限", 2: "文件或目录不存在", 30: "文件系统只读",
             5: "磁盘读写错误", 122: "磁盘配额已满", 36: "文件名过长"}
#: SQLite's English messages (carried in the desk's errors) -> Chinese.
DB_ERRORS = (
    ("database is locked", "数据库正被其他程序占用"),
    ("database table is locked", "数据表正被其他程序占用"),
    ("file is not a database", "文件不是数据库"),
    ("file is encrypted or is not a database", "文件不是数据库"),
    ("database disk image is malformed", "数据库文件已损坏"),
    ("unable to open database file", "无法打开数据库文件"),
    ("disk I/O error", "磁盘读写错误"),
    ("database or disk is full", "磁盘空间不足"),
    ("attempt to write a readonly database", "数据库只读，无法写入"),
)
#: A PostgreSQL server's (and its client library's) English messages -> Chinese, as patterns.
SERVER_ERRORS = (
    (r"connection failed: ", ""),
    (r"FATAL:\s+", ""),
    (r'database "([^"]*)" is not currently accepting connections', r"数据库 \1 暂不接受连接"),
    (r'connection to server at "([^"]*)"(?: \([^)]*\))?, port (\d+) failed: ', r"服务器 \1:\2："),
    (r"connection to server on socket \S+ failed: ", "本机服务器："),
    (r"Connection refused", "连接被拒绝（服务器未运行或端口不对）"),
    (r"timeout expired", "连接超时"),
    (r"could not translate host name \S+ to address:?.*", "无法解析服务器主机名"),
    (r'password authentication failed for user "([^"]*)"', r"用户 \1 密码验证失败"),
    (r'database "([^"]*)" does not exist', r"数据库 \1 不存在"),
    (r'role "([^"]*)" does not exist', r"数据库用户 \1 不存在"),
    (r"no pg_hba\.conf entry for .*", "服务器不允许本机连接（pg_hba.conf）"),
    (r"(?:consuming input failed: )?server closed the connection unexpectedly", "数据库服务器意外断开连接"),
    (r"terminating connection due to administrator command", "数据库服务器终止了连接"),
    (r"the connection is (?:closed|lost)", "与数据库服务器的连接已断开"),
    (r"canceling statement due to lock timeout", "等待其他程序写入超时"),
    (r"canceling statement due to statement timeout", "查询超时"),
    (r"permission denied for (?:table|relation|sequence) (\S+)", r"数据库用户无权操作 \1"),
    (r"permission denied", "数据库用户没有权限"),
    (r"cannot execute \w+ in a read-only transaction", "数据库连接为只读，无法写入"),
    (r"the database system is (?:starting up|shutting down|in recovery mode)", "数据库服务器正在启动或关闭"),
    (r"cannot execute LISTEN during recovery", "只读备库不能推送变更（控制台请连接主库）"),
)


def chinese_errors(text: str) -> str:
    """``text`` with SQLite's and the database server's English phrases put in Chinese."""
    import re

    for english, chinese in DB_ERRORS:
        text = text.replace(english, chinese)
    for english, chinese in SERVER_ERRORS:
        text = re.sub(english, chinese, text)
    return text


#: How the palette writes a key.
KEY_NAMES = {"escape": "Esc", "slash": "/", "enter": "回车", "tab": "Tab"}


def key_label(key: str) -> str:
    key = key.split(",")[0]
    if key in KEY_NAMES:
        return KEY_NAMES[key]
    if key.startswith("ctrl+"):
        return "Ctrl+" + key[5:].upper()
    return key.upper() if len(key) > 1 else key


def binding_commands(screen: Screen) -> Iterable[SystemCommand]:
    """A page's own keys as palette commands (its bindings' Chinese descriptions), for screens
    without a ``palette_commands`` list of their own."""
    for b in screen.BINDINGS:
        if not isinstance(b, Binding):
            b = Binding(*b)
        if not b.description or b.action.startswith("app."):
            continue
        yield SystemCommand(f"{b.description}（{key_label(b.key)}）", f"本页操作：{b.description}",
                            lambda action=b.action: screen.run_action(action))


#: Every screen's stylesheet, read once at start: showing a screen the first time then needs no CSS reparse
#: (screen selectors are scoped, e.g. ``IncidentScreen .section``).
SCREEN_CSS = [Path(__file__).with_name("screens") / f"{name}.tcss"
              for name in ("dashboard", "incident", "forms", "items", "sources", "schemes", "reports", "quit", "duty")]


def warm_imports() -> None:
    """Import every screen and the form widgets (~0.1–0.2 s) in a worker thread once the board is shown,
    so the first visit of a page, an incident or a form does not pay for it on the UI thread."""
    import importlib

    try:
        import textual.widgets as widgets

        for name in ("Input", "Select", "Button", "Label"):  # textual.widgets imports these lazily
            getattr(widgets, name)
        for module in ("tui.screens.incident", "tui.screens.forms", "tui.screens.quit",
                       *(p.module for p in PAGE_LIST)):
            importlib.import_module(module)
    except Exception:  # noqa: BLE001 - the import is retried, and reported, where the screen is used
        log.debug("warm imports failed", exc_info=True)


class DeskApp(App):
    """Pages are installed screens, not Textual MODES: ``switch_mode`` holds every frame back 50 ms
    (``delay_update``), while switching an installed screen shows the page in the next frame.
    The dashboard is always at the bottom of the stack; another page or an incident sits on top of it."""

    TITLE = "舆情值班台"
    CSS_PATH = SCREEN_CSS
    BINDINGS = [Binding(p.key, f"page('{p.name}')", p.short, id=f"mode.{p.name}") for p in PAGE_LIST] + [
        Binding("ctrl+q", "request_quit", "退出", id="quit", priority=True),
        Binding("q", "request_quit", "退出", id="quit.q"),
        Binding("ctrl+c", "help_quit", "", show=False),
    ]
    #: Notices float top right, under the first line: never over the status line and key guide at the
    #: bottom; a form and the pages with input boxes (检索, 方案) show notices in a line of their own
    #: (``show_notice``, see :meth:`notify`).
    CSS = """
    ToastRack {
        dock: top;
        align: right top;
        margin-top: 1;
        margin-bottom: 0;
    }
    Toast {
        width: 50;
        max-width: 60%;
    }
    ItemsScreen ToastHolder, SchemesScreen ToastHolder {
        display: none;
    }
    """
    #: How often the display names (sources, schemes, staff) are read again.
    NAMES_SECONDS = 30.0
    POLL_SECONDS = 1.5
    #: While the server's change notifications arrive, the timed poll only catches what time changes
    #: (the collector's heartbeat, silent sources) and writes made outside a transaction.
    LISTEN_POLL_SECONDS = 10.0
    #: Notifications closer together than this refresh once (a busy pipeline commits often).
    CHANGE_MIN_SECONDS = 1.0
    #: How long the notification thread waits at most between two checks whether the console is closing.
    LISTEN_WAKE_SECONDS = 0.5

    def __init__(self, db_path: Path | str, *, clock: Callable[[], datetime] | None = None, actor: str | None = None,
                 policy=None, poll_seconds: float | None = None, units=None, gap_hours: int | None = None,
                 home: Path | None = None) -> None:
        super().__init__()
        self.gap_hours = gap_hours  # desk.toml [roster] gap_warning_hours (None: the roster's default)
        self.units = units  # classifiers.units.UnitNames for the facade
        self.db_path = as_target(db_path)
        self.home = home  # the desk home folder (a server desk's console: this workstation's)
        self.on_server = is_server(self.db_path)
        self.desk_clock: Callable[[], datetime] = clock or utcnow
        self.actor = actor
        self.policy = policy
        self.poll_seconds = poll_seconds or self.POLL_SECONDS
        self.listen_poll_seconds = max(self.poll_seconds, self.LISTEN_POLL_SECONDS)
        self.snapshot = None
        self.snapshot_listeners: list = []
        self._facade = None
        self._facade_lock = threading.Lock()
        self._polling = False
        self._poll_again = False  # a change arrived while a poll was under way: poll once more after it
        self._polled_at = 0.0  # monotonic time the last poll started
        #: Whether the server's change notifications are being received (always False on SQLite).
        self.listening = False
        self.listen_error: str | None = None
        self._listen_stop = threading.Event()
        self._listen_thread: threading.Thread | None = None
        self._changed_at = 0.0
        self._change_timer = None
        self.poll_error: str | None = None
        #: Why this console's staff member may not change the desk (a viewer), None when they may; each poll.
        self.write_refusal: str | None = None
        self._seen_incidents: set[int] | None = None
        self._seen_items: set[int] | None = None
        #: Alert notices shown this session (newest last): (desk time, text).
        self.alert_log: list[tuple[datetime, str]] = []
        #: Recently read incident details (id -> IncidentDetail), painted at once when an incident opens.
        self._details: OrderedDict[int, Any] = OrderedDict()
        self._incident_screen = None
        self._pages: dict[str, Screen] = {}
        self._forms: OrderedDict[tuple, Screen] = OrderedDict()
        self._items_ahead: tuple[float, list] | None = None  # (monotonic time, rows) for the items page
        self.names = DisplayNames()
        self._names_at: float | None = None  # monotonic time of the last read of the display names

    # ------------------------------------------------------------ pages

    def page_screen(self, name: str) -> Screen:
        """The one screen of page ``name`` (made and installed on first use)."""
        screen = self._pages.get(name)
        if screen is None:
            import importlib

            page = PAGES[name]
            screen = self._pages[name] = getattr(importlib.import_module(page.module), page.cls)()
            self.install_screen(screen, f"page.{name}")
        return screen

    def get_default_screen(self) -> Screen:
        return self.page_screen("dashboard")

    @property
    def current_page(self) -> str | None:
        """The page shown (None when an incident, item or form is on top)."""
        return next((name for name, screen in self._pages.items() if screen is self.screen), None)

    def action_page(self, name: str) -> None:
        """Show page ``name``; an open form must be saved or cancelled first."""
        from textual.screen import ModalScreen

        if name not in PAGES:
            return
        if isinstance(self.screen, ModalScreen):
            self.notify("请先保存（Ctrl+S）或取消（Esc）当前表单", severity="warning")
            return
        target = self.page_screen(name)
        if self.screen is target:
            return
        dashboard = self.page_screen("dashboard")
        while len(self.screen_stack) > 2:  # e.g. an item opened from the stream of an incident
            self.pop_screen()
        if target is dashboard:
            self.pop_screen()
        elif len(self.screen_stack) == 1:
            self.push_screen(target)
        else:
            self.switch_screen(target)

    # ------------------------------------------------------------ the facade, off the UI thread

    def facade(self):
        with self._facade_lock:
            if self._facade is None:
                from tui.facade import DeskFacade

                self._facade = DeskFacade(self.db_path, clock=self.desk_clock, actor=self.actor, policy=self.policy,
                                          units=self.units, home=self.home)
            return self._facade

    def run_db(self, call: Callable[[Any], Any], *, target: MessagePump | None = None, tag: str = "",
               done: str | Callable[[Any], str] | None = None, incident_id: int | None = None,
               retry: Any = None, group: str = "db") -> None:
        """Run ``call(facade)`` in a thread worker; post Loaded(tag, result), ActionDone or DeskFailed."""
        from tui.messages import Loaded

        target = target or self

        def job() -> None:
            try:
                result = call(self.facade())
            except Exception as exc:  # noqa: BLE001 - shown to staff, never a traceback
                target.post_message(DeskFailed(describe_error(exc), tag, retry))
                return
            if done is not None:
                text = done(result) if callable(done) else done
                target.post_message(ActionDone(text, incident_id, result))
            else:
                target.post_message(Loaded(tag, result))

        self.run_worker(job, thread=True, group=group, exit_on_error=False)

    # ------------------------------------------------------------ the incident screen, installed once

    DETAILS_KEPT = 32

    def open_incident(self, incident_id: int, row=None) -> None:
        """Show incident ``incident_id`` on the one installed IncidentScreen (no compose/mount per open).

        The first frame shows the last known detail (or the board ``row``'s facts); a fresh read follows.
        """
        from tui.screens.incident import IncidentScreen

        screen = self._incident_screen
        if screen is None:
            screen = self._incident_screen = IncidentScreen()
            self.install_screen(screen, "incident")
        if screen is self.screen:
            screen.show_incident(int(incident_id), row=row, detail=self._details.get(int(incident_id)))
            return
        if screen in self.screen_stack:
            return  # under a form: that form belongs to the incident shown
        screen.show_incident(int(incident_id), row=row, detail=self._details.get(int(incident_id)))
        self.push_screen(screen)

    def incident_action(self, incident_id: int, action: str, row=None) -> None:
        """Open incident ``incident_id`` and run one of its actions (e.g. ``grade``) once it is read."""
        self.open_incident(incident_id, row)
        screen = self._incident_screen
        if screen is not None and screen.incident_id == int(incident_id):
            screen.run_when_loaded(action)

    FORMS_KEPT = 12

    def show_form(self, title: str, fields: list, values: dict | None, callback: Callable[[dict | None], None]) -> None:
        """Show a FormScreen; forms are installed and reused by (title, fields), so a repeat costs no compose.
        Every form changes the desk: a console whose staff member may not (a viewer) says so instead."""
        from tui.screens.forms import FormScreen

        if self.write_refusal:
            self.notify(self.write_refusal, title="只读：不能操作", severity="warning", markup=False, timeout=8)
            return

        key = (title, tuple(fields))
        screen = self._forms.pop(key, None)
        if screen is None:
            screen = FormScreen(title, list(fields), values)
            self.install_screen(screen, f"form.{id(screen)}")
        else:
            screen.reset(values)
        self._forms[key] = screen  # newest last
        while len(self._forms) > self.FORMS_KEPT:
            old_key = next(iter(self._forms))
            old = self._forms[old_key]
            if old in self.screen_stack:
                break
            del self._forms[old_key]
            self.uninstall_screen(old)
            old.remove()
        self.push_screen(screen, callback)

    def remember_incident(self, detail) -> None:
        iid = detail.incident.id
        self._details[iid] = detail
        self._details.move_to_end(iid)
        while len(self._details) > self.DETAILS_KEPT:
            self._details.popitem(last=False)

    def prefetch_incident(self, incident_id: int) -> None:
        """Read an incident's detail in a worker (the board's cursor is on it), for an instant open.

        A newer read-ahead cancels an older one that has not started yet (holding the arrow key)."""
        def job() -> None:
            try:
                detail = self.facade().incident(incident_id)
            except Exception:  # noqa: BLE001 - a prefetch failing only means a slower open
                return
            self.post_message(Loaded("prefetch", detail))

        self.run_worker(job, thread=True, group="prefetch", exclusive=True, exit_on_error=False)

    def _read_items_ahead(self) -> None:
        """Read the items page's first result (the newest items) while the board is shown,
        so that the first visit of the page paints it at once instead of waiting for it."""
        import time

        from tui.types import ItemFilter

        def job() -> None:
            try:
                rows = self.facade().items(ItemFilter())
            except Exception:  # noqa: BLE001 - the page reads them itself when shown
                return
            self._items_ahead = (time.monotonic(), rows)

        self.run_worker(job, thread=True, group="items-ahead", exit_on_error=False)

    def take_items_ahead(self):
        """The newest items read ahead (once; None when missing or older than a minute)."""
        import time

        ahead, self._items_ahead = self._items_ahead, None
        if ahead is None or time.monotonic() - ahead[0] > 60:
            return None
        return ahead[1]

    def on_loaded(self, message) -> None:
        if message.tag == "prefetch":
            detail = message.result
            self.remember_incident(detail)
            screen = self._incident_screen
            if screen is not None and screen.detail is None and screen.incident_id == detail.incident.id:
                screen.post_message(Loaded("incident", detail))  # opened while this read was under way

    # ------------------------------------------------------------ polling

    def on_mount(self) -> None:
        self.poll()
        self.set_interval(self.poll_seconds, self._timed_poll)
        if self.on_server:
            self._listen_thread = threading.Thread(target=self._listen, name="desk-notifications", daemon=True)
            self._listen_thread.start()

    def _timed_poll(self) -> None:
        import time

        if self.listening and time.monotonic() - self._polled_at < self.listen_poll_seconds:
            return
        self.poll(again=False)

    def poll(self, *, again: bool = True) -> None:
        """Read the dashboard's snapshot in a worker. Asked while one is under way: once more after
        it (a change or an action may have come after its read), unless ``again`` is False (the timer)."""
        import time

        if self._polling:
            self._poll_again = self._poll_again or again
            return
        self._polling, self._poll_again = True, False
        self._polled_at = time.monotonic()

        def job() -> None:
            from tui.facade import DeskLost

            try:
                facade = self.facade()
                if self._names_at is None or time.monotonic() - self._names_at >= self.NAMES_SECONDS:
                    self.names = facade.display_names()  # before the snapshot that shows them
                    self._names_at = time.monotonic()
                snap = facade.snapshot()
                self.write_refusal = facade.refusal("write")
            except Exception as exc:  # noqa: BLE001
                self.post_message(DeskFailed(describe_error(exc), "poll", lost=isinstance(exc, DeskLost)))
            else:
                self.post_message(SnapshotReady(snap))

        self.run_worker(job, thread=True, group="poll", exit_on_error=False)

    def _polled(self) -> None:
        """A poll finished (on the UI thread): run the one asked for while it was under way."""
        self._polling = False
        if self._poll_again:
            self.poll()

    # ------------------------------------------------------------ change notifications (server desks)

    def _listen(self) -> None:
        """The notification thread: wait on the facade's listener, post DeskChanged for each change;
        when its connection breaks, say so, let the timed poll take over, and reconnect (after a
        second, then less and less often while the server stays away)."""
        pause, was_up = 1.0, False
        while not self._listen_stop.is_set():
            try:
                listener = self.facade().listener()
            except Exception as exc:  # noqa: BLE001 - the server is away: retry, polling meanwhile
                self.post_message(ListenState(False, describe_error(exc)))
                self._listen_stop.wait(pause)
                pause = min(pause * 2, 30.0)
                continue
            pause = 1.0
            self.post_message(ListenState(True))
            if was_up:  # changes made while the connection was down were not notified
                self.post_message(DeskChanged())
            was_up = True
            try:
                while not self._listen_stop.is_set():
                    if listener.wait(self.LISTEN_WAKE_SECONDS):
                        self.post_message(DeskChanged())
            except Exception as exc:  # noqa: BLE001 - shown to staff; the loop reconnects
                if not self._listen_stop.is_set():
                    self.post_message(ListenState(False, describe_error(exc)))
                    self.post_message(DeskChanged())  # re-read now: shows whether the desk is reachable
            finally:
                listener.close()
            self._listen_stop.wait(pause)  # never a tight loop, even when a connection breaks at once

    def on_listen_state(self, message: ListenState) -> None:
        if message.ok:
            if self.listen_error is not None:
                self.notify("已恢复与数据库服务器的实时推送连接", title="连接已恢复", markup=False, timeout=6)
            self.listening, self.listen_error = True, None
            return
        if self.listening or self.listen_error is None:  # once per outage, not every retry
            self.notify(f"{message.text}；改为每 {self.poll_seconds:g} 秒刷新，正在重新连接",
                        title="实时推送中断", severity="warning", markup=False, timeout=8)
        self.listening, self.listen_error = False, message.text

    def on_desk_changed(self, message: DeskChanged) -> None:
        """A change was committed: refresh soon (changes close together refresh once)."""
        import time

        wait = self._changed_at + self.CHANGE_MIN_SECONDS - time.monotonic()
        if wait > 0:
            if self._change_timer is None:
                self._change_timer = self.set_timer(wait, self._refresh_changed)
            return
        self._refresh_changed()

    def _refresh_changed(self) -> None:
        import time

        self._change_timer = None
        self._changed_at = time.monotonic()
        self.poll()  # the dashboard, and the incident shown (it re-reads on every snapshot)
        refresh = getattr(self.screen, "desk_changed", None)
        if refresh is not None:
            refresh()

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        self._polled()
        snap = message.snapshot
        if self.snapshot is None:  # the board is about to show: import the other screens meanwhile
            self.run_worker(warm_imports, thread=True, group="warm", exit_on_error=False)
            self._read_items_ahead()
            self.warn_roster_gaps()
            self.set_interval(self.GAP_CHECK_SECONDS, self.warn_roster_gaps)
        self.poll_error = None
        self.snapshot = snap
        self._alert_on_new(snap)
        for listener in list(self.snapshot_listeners):
            listener.show_snapshot(snap)

    GAP_CHECK_SECONDS = 1800

    def warn_roster_gaps(self) -> None:
        """A notice when the roster leaves time ahead uncovered (at start, then every half hour)."""
        def job() -> None:
            try:
                view = self.facade().duty(gap_hours=self.gap_hours)
            except Exception:  # noqa: BLE001 - the 值班 page shows the error when opened
                return
            if view.has_roster and view.gaps:
                start, end = view.gaps[0]
                from tui.text import local_time

                self.call_from_thread(
                    self.notify, f"未来 {view.gap_hours} 小时内有 {len(view.gaps)} 段无人值班，最早 {local_time(start)}"
                    f" 至 {local_time(end)}；按 6 查看值班表", title="值班表有空档", severity="warning",
                    markup=False, timeout=12)

        self.run_worker(job, thread=True, group="roster-gaps", exclusive=True, exit_on_error=False)

    def _alert_on_new(self, snap) -> None:
        """A notice and the bell for new incidents and new alerting/hot items."""
        from tui.text import clean

        incidents = {r.id: r for r in snap.board}
        items = {it.id: it for it in snap.stream if it.alert or it.hot}
        if self._seen_incidents is None:
            self._seen_incidents, self._seen_items = set(incidents), set(items)
            return
        fresh = [incidents[i] for i in sorted(set(incidents) - self._seen_incidents)]
        hot = [items[i] for i in sorted(set(items) - self._seen_items)]
        self._seen_incidents |= set(incidents)
        self._seen_items |= set(items)
        texts = [f"新事件 #{r.id}（{r.severity}）{clean(r.title)}" for r in fresh]
        texts += [f"{'预警' if it.alert else '热点'}信息：{clean(it.title)}" for it in hot]
        now = self.desk_clock()
        self.alert_log.extend((now, t) for t in texts)
        del self.alert_log[:-200]
        for text in texts[:4]:
            self.notify(text, title="突发提醒", severity="warning", markup=False, timeout=15)
        if len(texts) > 4:
            self.notify(f"另有 {len(texts) - 4} 条新提醒", severity="warning", markup=False)
        if texts:
            self.bell()

    # ------------------------------------------------------------ common message handling

    def on_action_done(self, message: ActionDone) -> None:
        self.notify(message.text, markup=False)
        self.poll()

    def on_desk_failed(self, message: DeskFailed) -> None:
        if message.tag == "poll":
            self._polled()
            if message.lost:  # reconnect soon, whatever the timed poll's pace
                self.set_timer(1.0, self.poll)
            for listener in list(self.snapshot_listeners):
                listener.show_error(message.text)
            if message.text != self.poll_error:  # once per distinct error, not every 1.5 s
                self.notify(message.text, title="刷新失败，稍后自动重试", severity="warning", markup=False, timeout=6)
            self.poll_error = message.text
            return
        self.notify(message.text, title="操作未完成", severity="error", markup=False, timeout=8)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette: the current screen's own commands (incident actions first), then the pages, then
        退出. Textual's English system commands (theme, screenshot, key panel) are left out."""
        extra = getattr(screen, "palette_commands", None)
        if extra is not None:
            yield from extra()
        else:
            yield from binding_commands(screen)
        for page in PAGE_LIST:
            yield SystemCommand(f"切换到{page.label}（{page.key}）", page.help,
                                lambda name=page.name: self.action_page(name))
        yield SystemCommand("退出值班台（q）", "退出控制台；有未保存的输入时先确认", self.action_request_quit)

    def action_command_palette(self) -> None:
        from tui.screens.quit import DeskCommandPalette

        if self.use_command_palette and not DeskCommandPalette.is_open(self):
            self.push_screen(DeskCommandPalette(id="--command-palette"))

    # ------------------------------------------------------------ notices and quitting

    def notify(self, message: str, *, title: str = "", severity: str = "information", timeout: float | None = None,
               markup: bool = True) -> None:
        """A notice; on a form it goes to the form's own notice line, never over its fields."""
        try:
            show = getattr(self.screen, "show_notice", None)
        except Exception:  # noqa: BLE001 - no screen yet
            show = None
        if show is not None and threading.current_thread() is threading.main_thread():
            show(message, title=title, severity=severity, markup=markup)
            return
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def action_help_quit(self) -> None:
        self.notify(HELP_QUIT_TEXT, title="要退出吗？", markup=False)

    def unsaved_work(self) -> str | None:
        """What would be lost by quitting now (a form or an edit with input, on the screens shown or on a
        page left with an edit in it), or None."""
        shown = list(reversed(self.screen_stack))
        for screen in shown + [s for s in self._pages.values() if s not in shown]:
            check = getattr(screen, "unsaved", None)
            what = check() if check is not None else None
            if what:
                return what
        return None

    def action_request_quit(self) -> None:
        """q / Ctrl+Q: quit at once, or ask first when typed input would be lost."""
        from tui.screens.quit import QuitScreen

        if isinstance(self.screen, QuitScreen):
            self.exit()
            return
        what = self.unsaved_work()
        if what is None:
            self.exit()
            return

        def answered(quit_now: bool | None) -> None:
            if quit_now:
                self.exit()

        self.push_screen(QuitScreen(what), answered)

    def on_unmount(self) -> None:
        self._listen_stop.set()
        if self._listen_thread is not None:
            self._listen_thread.join(timeout=2 * self.LISTEN_WAKE_SECONDS + 1)
        if self._facade is not None:
            try:
                self._facade.close()
            except Exception:  # noqa: BLE001
                pass


def run_console(db_path: Path | str, *, clock: Callable[[], datetime] | None = None, actor: str | None = None,
                policy=None, units=None, gap_hours: int | None = None, home: Path | None = None) -> None:
    """Open the console on ``db_path`` (a SQLite file or a server URL; blocks until staff quit);
    ``units`` (UnitNames) checks the names of assigned units; ``gap_hours``: how far ahead roster
    gaps are warned about; ``home``: the desk home folder (schemes, exports)."""
    DeskApp(as_target(db_path), clock=clock, actor=actor, policy=policy, units=units, gap_hours=gap_hours,
            home=home).run()
