"""The duty console (舆情值班台): a Textual app over :class:`tui.facade.DeskFacade`.

All database work runs in thread workers (:meth:`DeskApp.run_db`) that post
messages from :mod:`tui.messages`; the dashboard polls every ~1.5 s so several
consoles and the daemon can share one desk file.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message_pump import MessagePump
from textual.screen import Screen

from storage.timeutil import utcnow
from tui.messages import ActionDone, DeskFailed, SnapshotReady

log = logging.getLogger(__name__)

MODE_LABELS = {"dashboard": "值班台", "items": "信息检索", "sources": "信源状态", "schemes": "监测方案",
               "reports": "统计报表"}


def describe_error(exc: BaseException) -> str:
    """A one-line Chinese message for staff (never a traceback)."""
    from responders.exceptions import ResponderError
    from tui.facade import DeskBusy

    if isinstance(exc, (DeskBusy, ResponderError)):
        return str(exc)
    if isinstance(exc, ValueError):
        return f"输入有误：{exc}"
    if isinstance(exc, OSError):
        return f"文件错误：{exc.strerror or exc}"
    log.exception("console action failed")
    return f"内部错误：{type(exc).__name__}: {exc}"


def _mode(name: str):
    def make() -> Screen:
        import importlib

        module, cls = {
            "dashboard": ("tui.screens.dashboard", "DashboardScreen"),
            "items": ("tui.screens.items", "ItemsScreen"),
            "sources": ("tui.screens.sources", "SourcesScreen"),
            "schemes": ("tui.screens.schemes", "SchemesScreen"),
            "reports": ("tui.screens.reports", "ReportsScreen"),
        }[name]
        return getattr(importlib.import_module(module), cls)()
    return make


class DeskApp(App):
    TITLE = "舆情值班台"
    MODES = {name: _mode(name) for name in MODE_LABELS}
    DEFAULT_MODE = "dashboard"
    BINDINGS = [
        Binding("1", "switch_mode('dashboard')", "值班台", id="mode.dashboard"),
        Binding("2", "switch_mode('items')", "检索", id="mode.items"),
        Binding("3", "switch_mode('sources')", "信源", id="mode.sources"),
        Binding("4", "switch_mode('schemes')", "方案", id="mode.schemes"),
        Binding("5", "switch_mode('reports')", "报表", id="mode.reports"),
        Binding("ctrl+q", "quit", "退出", id="quit", priority=True),
    ]
    POLL_SECONDS = 1.5

    def __init__(self, db_path: Path, *, clock: Callable[[], datetime] | None = None, actor: str | None = None,
                 policy=None, poll_seconds: float | None = None) -> None:
        super().__init__()
        self.db_path = Path(db_path)
        self.desk_clock: Callable[[], datetime] = clock or utcnow
        self.actor = actor
        self.policy = policy
        self.poll_seconds = poll_seconds or self.POLL_SECONDS
        self.snapshot = None
        self.snapshot_listeners: list = []
        self._facade = None
        self._facade_lock = threading.Lock()
        self._polling = False
        self.poll_error: str | None = None
        self._seen_incidents: set[int] | None = None
        self._seen_items: set[int] | None = None
        #: Alert notices shown this session (newest last): (desk time, text).
        self.alert_log: list[tuple[datetime, str]] = []

    # ------------------------------------------------------------ the facade, off the UI thread

    def facade(self):
        with self._facade_lock:
            if self._facade is None:
                from tui.facade import DeskFacade

                self._facade = DeskFacade(self.db_path, clock=self.desk_clock, actor=self.actor, policy=self.policy)
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

    # ------------------------------------------------------------ polling

    def on_mount(self) -> None:
        self.poll()
        self.set_interval(self.poll_seconds, self.poll)

    def poll(self) -> None:
        if self._polling:
            return
        self._polling = True

        def job() -> None:
            try:
                snap = self.facade().snapshot()
            except Exception as exc:  # noqa: BLE001
                self.post_message(DeskFailed(describe_error(exc), "poll"))
            else:
                self.post_message(SnapshotReady(snap))
            finally:
                self._polling = False

        self.run_worker(job, thread=True, group="poll", exit_on_error=False)

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        snap = message.snapshot
        self.poll_error = None
        self.snapshot = snap
        self._alert_on_new(snap)
        for listener in list(self.snapshot_listeners):
            listener.show_snapshot(snap)

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
            for listener in list(self.snapshot_listeners):
                listener.show_error(message.text)
            if message.text != self.poll_error:  # once per distinct error, not every 1.5 s
                self.notify(message.text, title="刷新失败，稍后自动重试", severity="warning", markup=False, timeout=6)
            self.poll_error = message.text
            return
        self.notify(message.text, title="操作未完成", severity="error", markup=False, timeout=8)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, label in MODE_LABELS.items():
            yield SystemCommand(f"切换到{label}", f"打开「{label}」页面",
                                lambda mode=mode: self.switch_mode(mode))
        extra = getattr(screen, "palette_commands", None)
        if extra is not None:
            yield from extra()

    def on_unmount(self) -> None:
        if self._facade is not None:
            try:
                self._facade.close()
            except Exception:  # noqa: BLE001
                pass


def run_console(db_path: Path, *, clock: Callable[[], datetime] | None = None, actor: str | None = None,
                policy=None) -> None:
    """Open the console on ``db_path`` (blocks until staff quit)."""
    DeskApp(Path(db_path), clock=clock, actor=actor, policy=policy).run()
