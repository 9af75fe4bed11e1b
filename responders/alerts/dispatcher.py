"""The AlertDispatcher: route, dedup, hold for quiet hours, rate-limit with folding,
send, retry with capped backoff, track acknowledgement and escalate.

Time comes only from the injected ``clock`` (aware datetimes), so everything is
testable at fixed instants; the daemon calls ``await tick()`` every few seconds
(``next_wakeup()`` says when something is next due). Nothing is dropped: an alert
that cannot go out now (over the rate limit, quiet hours, digest lane) waits in its
channel's queue and goes out folded into one message ("另有 N 条").

``on_delivery(alert, channel, ok, error)`` is called for every send attempt and for
every original alert a message stood for (a folded digest of 5 alerts gives 5
calls); ``error`` is None on success, else a one-line redacted message that says
whether a retry follows. It may be a plain function or a coroutine function.

Given ``db`` (the desk's database: a SQLite path, a ``postgresql://`` URL, or an open
database used on this thread only), the state that matters survives a restart: dedup keys, queued
and retrying alerts, each channel's recent sends (rate-limit windows), digest ids,
acknowledgements and escalation timers (see :mod:`responders.alerts.store`). A new
dispatcher on the same file carries on where the last one stopped: an escalation
that fell due while the desk was down fires on the first ``tick``. If the file
cannot be written (disk full) the dispatcher logs it and keeps working in memory.

Several dispatchers may share one database (two daemons, machines sharing a PostgreSQL
server). Each message is sent by the one that claims its stored row just before the send; a
dedup key and each escalation step are taken once, by whichever gets there first; each
dispatcher looks for rows it does not hold every ``ADOPT_EVERY`` (left by one that stopped,
or queued by another), so the alerts of a dispatcher that died go out from the others.

Alerts reach people: with ``duty(at) -> (officer_id, leader_id)`` and
``people(staff_id) -> Mention``, a breaking alert is for the officer on duty
(@-mentioned on 企业微信, 钉钉 and 飞书, mailed in person, named elsewhere) and waits
for acknowledgement; each step of the escalation policy (the leader on duty after
``escalate_after``, then staff, roles or channels) is decided once, at its due time,
from the stored time of the previous send, and stored with whom it was for. Nobody on
duty: the step goes to the channels, says so, and the policy goes on.

Each channel sends from its own task, one send at a time, bounded by the channel's
own timeout: a robot that never answers holds up only its own queue. ``submit`` and
``tick`` wait for the sends they start unless ``wait=False`` (the daemon's way: the
next tick skips a channel whose send is still out). A breaking alert of an incident
that is still open (``incident_open``) is retried with capped backoff for as long
as the incident is open, never abandoned; other alerts give up after
``retry.max_attempts``. A platform's ``Retry-After`` holds the whole channel that
long. Each channel's failing streak is kept (``channel_health``; stored for
``yuqing doctor`` and the console's status line).
"""
from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import sqlite3
import time
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

from responders.alerts.channels import Sender, TuiInbox, make_sender
from responders.alerts.escalation import DutyFn, PeopleFn, next_step_at, resolve_people
from responders.alerts.formats import prepare
from responders.alerts.ratelimit import RateLimiter, fold, priority
from responders.alerts.redact import redact
from responders.alerts.rules import Deduper, held_by_quiet, quiet_ends_at, route
from responders.alerts.store import AlertStore, ChannelHealth, StepRecord, TrackRow
from responders.alerts.types import (
    Alert, AlertError, AlertsConfig, ChannelConfig, ChannelError, Delivery, severity_rank,
)
from storage.visible import visible

log = logging.getLogger("responders.alerts")

OnDelivery = Callable[[Alert, str, bool, "str | None"], Any]
_collector: contextvars.ContextVar[list | None] = contextvars.ContextVar("alert_deliveries", default=None)
#: Tracks (for ack/escalation) are forgotten this long after they are settled.
TRACK_RETENTION = timedelta(hours=24)
#: How often the stored state is pruned (expired keys, old sends, settled tracks).
PRUNE_EVERY = timedelta(minutes=10)
#: Seconds between two log lines about the store failing (a full disk fails every write).
STORE_LOG_EVERY = 600.0
#: How often a dispatcher takes up stored alerts it does not hold (another dispatcher's).
ADOPT_EVERY = timedelta(seconds=30)


@dataclass
class _Retry:
    due: datetime
    message: Alert
    members: list[Alert]
    attempt: int  # attempts made so far


@dataclass
class _Channel:
    cfg: ChannelConfig
    sender: Sender
    limiter: RateLimiter
    queue: list[Alert] = field(default_factory=list)
    retries: list[_Retry] = field(default_factory=list)
    digest_due: datetime | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    task: asyncio.Task | None = None  # the send in progress, if any
    blocked_until: datetime | None = None  # the platform's Retry-After
    health: ChannelHealth | None = None


#: An alert's acknowledgement and escalation state: ``base_at`` is the first send
#: attempt (escalation counts from here), ``tier`` the escalations done.
_Track = TrackRow


@dataclass(frozen=True)
class SubmitResult:
    """What ``submit`` decided: ``duplicate`` (nothing queued), the channels the
    alert was routed to, and those skipped as unavailable (with the reason)."""

    alert_id: str
    duplicate: bool
    channels: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    deliveries: tuple[Delivery, ...] = ()  # the sends made at once (others follow in tick)


class AlertDispatcher:
    def __init__(self, config: AlertsConfig, *, clock: Callable[[], datetime] | None = None, on_delivery: OnDelivery | None = None,
                 wall: Callable[[], datetime] | None = None, inbox: TuiInbox | None = None, session: Any = None,
                 history: int = 1000, db: Any = None, incident_open: Callable[[Any], bool] | None = None,
                 duty: DutyFn | None = None, people: PeopleFn | None = None):
        """``clock``: the desk's time (injected; default the system clock); ``wall``: real time for signatures
        (defaults to the system clock); ``inbox``: the console's queue (made if not
        given); ``session``: an aiohttp ClientSession to reuse (made lazily if not);
        ``db``: where the state persists (a SQLite path or a ``postgresql://`` URL: the
        dispatcher opens and closes its own connection; or an open desk database); None keeps it
        in memory only;
        ``incident_open(incident_id)``: whether an incident is still open (its breaking
        alerts are then never abandoned; default: every incident counts as open)."""
        from storage.timeutil import utcnow

        self.config = config
        self.clock = clock = clock or utcnow
        self.wall = wall or utcnow
        self.on_delivery = on_delivery
        self.incident_open = incident_open
        self.duty = duty
        self.people = people
        self.inbox = inbox if inbox is not None else TuiInbox()
        self._session = session
        self._own_session = session is None
        self.secrets = config.secrets()
        self.deduper = Deduper(config.dedup_window)
        self.deliveries: deque[Delivery] = deque(maxlen=history)
        self.unavailable: dict[str, str] = {}
        self._channels: dict[str, _Channel] = {}
        self._tracks: dict[str, _Track] = {}
        self._folds: dict[str, tuple[str, ...]] = {}
        for name, cfg in config.channels.items():
            sender = make_sender(cfg, clock, session_factory=self._get_session, inbox=self.inbox, wall=self.wall)
            reason = sender.unavailable()
            if reason:
                self.unavailable[name] = reason
                log.warning("%s", redact(f"告警渠道 {cfg.label} 不可用：{reason}", self.secrets))
                continue
            self._channels[name] = _Channel(cfg, sender, RateLimiter(cfg.rate_limits, clock),
                                            health=ChannelHealth(name, cfg.label))
        self._store: AlertStore | None = None
        self._store_error: str | None = None
        self._store_logged_at: float | None = None
        self._ack_seq = 0
        self._next_prune: datetime | None = None
        self._next_adopt: datetime | None = None
        #: (channel, id, tier) of messages whose row could not be written: sent without a claim
        self._unstored: set[tuple[str, str, int]] = set()
        if db is not None:
            self._store = AlertStore(db)
            self._restore()

    # ------------------------------------------------------------ public API

    async def submit(self, alert: Alert, *, wait: bool = True) -> SubmitResult:
        """Take one alert: dedup by key, route, queue, and send what may go now
        (``wait=False``: start the sends and return; ``deliveries`` is then empty)."""
        now = self.clock()
        if not self.config.enabled:
            return SubmitResult(alert.id, duplicate=False)
        if not self.deduper.check(alert.key, now):
            log.info("%s", redact(f"重复告警已合并：{alert.key}", self.secrets))
            return SubmitResult(alert.id, duplicate=True)
        names = route(alert, self.config.rules)
        esc = self.config.escalation
        escalates = (alert.lane in esc.lanes and severity_rank(alert.severity) >= severity_rank(esc.min_severity)
                     and (bool(esc.steps) or self.duty is not None))
        targets: tuple[dict, ...] = ()
        if alert.lane == "breaking" and self.duty is not None:
            # a breaking alert is for the officer on duty: @-mentioned where the platform can
            who = resolve_people(("officer",), now, self.duty, self.people)
            self._log_problems(alert, who.problems)
            alert = replace(alert, mentions=who.mentions)
            targets = who.records()
            names = tuple(dict.fromkeys(names + self.config.duty_channels))
        routed = tuple(n for n in names if n in self._channels)
        skipped = tuple((n, self.unavailable.get(n, "未定义")) for n in names if n not in self._channels)
        track = _Track(alert, escalates)
        if not routed:
            # nothing to send on now: escalation (if any) still counts from here
            track.base_at = now
        if self._store is not None:
            stored = self._save(self._store.submitted, alert.key, now, track, [(n, alert) for n in routed],
                                StepRecord(0, now, targets, routed), dedup_window=self.config.dedup_window)
            if stored is False:
                log.info("%s", redact(f"重复告警已合并（另一进程已发出）：{alert.key}", self.secrets))
                return SubmitResult(alert.id, duplicate=True)
            if stored is None:
                self._unstored.update((n, alert.id, 0) for n in routed)
        self._tracks[alert.id] = track
        if not routed and names:
            log.warning("%s", redact(f"告警 {alert.id} 的渠道均不可用：{', '.join(names)}", self.secrets))
        for name in routed:
            self._enqueue(self._channels[name], alert, now)
        made: list[Delivery] = []
        token = _collector.set(made)
        try:
            await self._pump_all(routed, wait)
        finally:
            _collector.reset(token)
        return SubmitResult(alert.id, duplicate=False, channels=routed, skipped=skipped, deliveries=tuple(made))

    async def tick(self, *, wait: bool = True) -> list[Delivery]:
        """Do what is due: retries, flushes after quiet hours or of digests, queued
        messages as the rate limit allows, escalations. Returns the deliveries made
        (``wait=False``: starts each idle channel's sends and returns at once)."""
        made: list[Delivery] = []
        token = _collector.set(made)
        try:
            now = self.clock()
            self._adopt(now)
            self._sync_acks()
            self._escalate(now)
            await self._pump_all(tuple(self._channels), wait)
            self._forget(now)
        finally:
            _collector.reset(token)
        return made

    def ack(self, alert_id: str, actor: str) -> bool:
        """Acknowledge an alert (or every alert of a folded digest id). Stops its
        escalation. True if newly acknowledged, False if it already was."""
        ids = self._folds.get(alert_id, (alert_id,))
        tracks = [self._tracks.get(i) for i in ids]
        if not any(tracks):
            raise AlertError(f"告警 {alert_id} 不存在或已过期，无法确认")
        now = self.clock()
        fresh = [tr for tr in tracks if tr is not None and tr.acked_by is None]
        for tr in fresh:
            tr.acked_by, tr.acked_at, tr.settled_at = actor, now, now
        dropped = self._drop_escalations({tr.alert.id for tr in fresh})
        if fresh and self._store is not None:
            self._save(self._store.acked, fresh, *dropped)
        return bool(fresh)

    def ack_incident(self, incident_id: Any, actor: str) -> list[str]:
        """Acknowledge every open alert of an incident; the ids acknowledged."""
        out = []
        for tr in list(self._tracks.values()):
            if tr.alert.incident_id == incident_id and tr.acked_by is None:
                self.ack(tr.alert.id, actor)
                out.append(tr.alert.id)
        return out

    def acknowledged(self, alert_id: str) -> tuple[str, datetime] | None:
        tr = self._tracks.get(alert_id)
        return (tr.acked_by, tr.acked_at) if tr and tr.acked_by else None

    def unacknowledged(self) -> list[Alert]:
        return [tr.alert for tr in self._tracks.values() if tr.acked_by is None and tr.escalates]

    def pending(self) -> dict[str, int]:
        """Alerts waiting per channel (queued or awaiting a retry)."""
        return {n: len(c.queue) + sum(len(r.members) for r in c.retries) for n, c in self._channels.items()}

    def busy(self) -> tuple[str, ...]:
        """Channels with a send in progress."""
        return tuple(n for n, c in self._channels.items() if c.task is not None and not c.task.done())

    async def idle(self, *names: str) -> None:
        """Wait until the named channels (default: all) have no send in progress."""
        for name in names or tuple(self._channels):
            task = self._channels[name].task
            if task is not None:
                await asyncio.wait([task])

    def channel_health(self) -> dict[str, ChannelHealth]:
        """Each channel's delivery state (failing streak, last error)."""
        return {n: c.health for n, c in self._channels.items() if c.health is not None}

    def next_wakeup(self) -> datetime | None:
        """The earliest instant at which ``tick`` has something to do (None: nothing pending)."""
        now = self.clock()
        times: list[datetime] = []
        quiet = self.config.quiet_hours
        for ch in self._channels.values():
            if ch.blocked_until is not None and ch.blocked_until > now and (ch.retries or ch.queue):
                times.append(ch.blocked_until)
                continue
            times.extend(r.due for r in ch.retries)
            ready_at = []
            for a in ch.queue:
                t = now
                if held_by_quiet(quiet, ch.cfg, a, now):
                    t = quiet_ends_at(quiet, now)
                if a.lane == "digest" and not a.escalation_tier and ch.digest_due is not None:
                    t = max(t, ch.digest_due)
                ready_at.append(t)
            if ready_at:
                times.append(max(min(ready_at), ch.limiter.next_free_at()))
        for tr in self._tracks.values():
            nxt = self._next_escalation_at(tr)
            if nxt is not None:
                times.append(nxt)
        return min(times) if times else None

    async def aclose(self) -> None:
        # a send still out is abandoned here; its queue or retry row stays for the next start
        tasks = [c.task for c in self._channels.values() if c.task is not None and not c.task.done()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None
        if self._store is not None:
            self._store.close()
            self._store = None

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.aclose()

    # ------------------------------------------------------------ internals

    def _get_session(self):
        if self._session is None:
            import aiohttp

            self._session = aiohttp.ClientSession()
        return self._session

    def _enqueue(self, ch: _Channel, alert: Alert, now: datetime) -> None:
        ch.queue.append(alert)
        if alert.lane == "digest" and not alert.escalation_tier and ch.digest_due is None:
            ch.digest_due = now + self.config.digest_every

    def _ready(self, ch: _Channel, now: datetime) -> list[Alert]:
        digest_due = ch.digest_due is not None and now >= ch.digest_due
        out = []
        for a in ch.queue:
            if held_by_quiet(self.config.quiet_hours, ch.cfg, a, now):
                continue
            if a.lane == "digest" and not a.escalation_tier and not digest_due:
                continue
            out.append(a)
        return out

    async def _pump_all(self, names: Iterable[str], wait: bool = True) -> None:
        """Start a send task for each named channel that has none in progress (a
        channel still sending is left alone: its queue waits, the others go on)."""
        started = []
        for n in dict.fromkeys(names):
            ch = self._channels[n]
            if ch.task is not None and not ch.task.done():
                continue
            ch.task = asyncio.create_task(self._pump(ch), name=f"alerts:{n}")
            started.append(ch.task)
        if wait and started:
            await asyncio.gather(*started)

    def _blocked(self, ch: _Channel, now: datetime) -> bool:
        return ch.blocked_until is not None and now < ch.blocked_until

    async def _pump(self, ch: _Channel) -> None:
        async with ch.lock:
            now = self.clock()
            if self._blocked(ch, now):
                return
            for r in sorted(ch.retries, key=lambda r: r.due):
                if self._blocked(ch, self.clock()):
                    return
                if r.due > now or not ch.limiter.try_acquire():
                    continue
                ch.retries.remove(r)
                message = self._claim_retry(ch, r.message, now)
                if message is not None:
                    await self._attempt(ch, message, r.members, r.attempt + 1, from_retry=True)
            ready = self._ready(ch, now)
            if not ready or self._blocked(ch, self.clock()) or not ch.limiter.try_acquire():
                return
            ready.sort(key=priority)
            ids = {id(a) for a in ready}
            ch.queue = [a for a in ch.queue if id(a) not in ids]
            if not any(a.lane == "digest" and not a.escalation_tier for a in ch.queue):
                ch.digest_due = None
            ready = self._claim_queued(ch, ready, now)
            if not ready:
                return
            heading = "静默时段告警汇总" if self._held_overnight(ch, ready) else "舆情告警汇总"
            message = fold(ready, now, heading=heading)
            if message.folded:
                self._folds[message.id] = message.folded
            await self._attempt(ch, message, ready, 1, from_retry=False)

    def _held_overnight(self, ch: _Channel, ready: list[Alert]) -> bool:
        """Whether these alerts waited out quiet hours (for the digest's heading)."""
        q = self.config.quiet_hours
        return (q is not None and ch.cfg.honours_quiet_hours
                and any(held_by_quiet(q, ch.cfg, a, a.created_at) for a in ready))

    async def _attempt(self, ch: _Channel, message: Alert, members: list[Alert], attempt: int, *,
                       from_retry: bool = False) -> None:
        now = self.clock()
        tracks = [tr for tr in (self._tracks.get(a.id) for a in members) if tr is not None]
        for tr in tracks:
            if tr.base_at is None:
                tr.base_at = now
        try:
            await ch.sender.send(prepare(message, ch.cfg, incident_url=self.config.incident_url))
        except ChannelError as exc:
            err = redact(str(exc), self.secrets)
            retry = exc.retryable
            after = exc.retry_after if retry else None
        except Exception as exc:  # a sender bug must not stop the desk; it is reported, redacted
            err = redact(f"{ch.cfg.label}: 内部错误 {type(exc).__name__}: {exc}", self.secrets)
            retry, after = False, None
            log.error("%s", err)
        else:
            self._save_attempt(ch, message, members, from_retry, None, tracks, now)
            self._channel_outcome(ch, None, now)
            await self._record(ch, message, members, True, None, attempt, final=True, now=now)
            return
        self._channel_outcome(ch, err, now)
        policy = self.config.retry
        if after:
            ch.blocked_until = max(ch.blocked_until or now, now + timedelta(seconds=after))
        persistent = retry and attempt >= policy.max_attempts and self._keeps_trying(members)
        if retry and (attempt < policy.max_attempts or persistent):
            delay = max(policy.delay(attempt), after or 0.0)
            ch.retries.append(_Retry(now + timedelta(seconds=delay), message, members, attempt))
            self._save_attempt(ch, message, members, from_retry, ch.retries[-1], tracks, now)
            if persistent:
                text = f"{err}；第 {attempt} 次失败，事件未关闭，突发告警不放弃，{delay:g} 秒后重试"
            else:
                text = f"{err}；第 {attempt}/{policy.max_attempts} 次失败，{delay:g} 秒后重试"
            if after:
                text += f"（平台要求等待 {after:g} 秒）"
            log.warning("%s", text)
            await self._record(ch, message, members, False, text, attempt, final=False, now=now)
        else:
            self._save_attempt(ch, message, members, from_retry, None, tracks, now)
            why = "已达最大重试次数" if retry else "不可重试"
            text = f"{err}；第 {attempt} 次失败，{why}，放弃发送"
            log.error("%s", text)
            await self._record(ch, message, members, False, text, attempt, final=True, now=now)

    def _keeps_trying(self, members: list[Alert]) -> bool:
        """Whether a failed message must not be abandoned: it carries a breaking
        alert whose incident is still open."""
        for a in members:
            if a.lane != "breaking" or a.incident_id is None:
                continue
            if self.incident_open is None:
                return True
            try:
                if self.incident_open(a.incident_id):
                    return True
            except Exception as exc:  # cannot tell: keep trying rather than lose the alert
                log.error("%s", redact(f"无法判断事件 {a.incident_id} 是否关闭：{type(exc).__name__}: {exc}",
                                       self.secrets))
                return True
        return False

    def _channel_outcome(self, ch: _Channel, error: str | None, now: datetime) -> None:
        """Keep the channel's failing streak (stored: doctor and the console read it)."""
        h = ch.health
        if h is None:
            return
        if error is None:
            if not h.failing and h.last_ok_at is not None:
                h.last_ok_at = now  # in memory only: no write per successful send
                return
            if h.failing:
                log.warning("%s", redact(f"告警渠道 {ch.cfg.label} 已恢复（连续失败 {h.failures} 次后）", self.secrets))
            h.failing_since, h.failures, h.last_error, h.last_ok_at = None, 0, None, now
        else:
            if h.failing_since is None:
                h.failing_since = now
            h.failures += 1
            h.last_error = visible(error)[:300]  # a robot's answer is untrusted text
        if self._store is not None:
            self._save(self._store.health, h, now)

    async def _record(self, ch: _Channel, message: Alert, members: list[Alert], ok: bool, error: str | None,
                      attempt: int, *, final: bool, now: datetime) -> None:
        self.deliveries.append(Delivery(alert_id=message.id, channel=ch.cfg.name, ok=ok, at=now, attempt=attempt,
                                        error=error, final=final, folded=message.folded,
                                        escalation_tier=message.escalation_tier))
        made = _collector.get()
        if made is not None:
            made.append(self.deliveries[-1])
        if ok:
            log.info("%s", redact(f"告警已发送：{ch.cfg.label} {message.id}（{message.count} 条）", self.secrets))
        if self.on_delivery is None:
            return
        for a in members:
            try:
                result = self.on_delivery(a, ch.cfg.name, ok, error)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:  # the callback is the lead's; it must not break sending
                log.error("%s", redact(f"on_delivery 回调出错：{type(exc).__name__}: {exc}", self.secrets))

    # ------------------------------------------------------------ escalation

    def _next_escalation_at(self, tr: _Track) -> datetime | None:
        return next_step_at(self.config.escalation, escalates=tr.escalates, acked=tr.acked_by is not None,
                            base_at=tr.base_at, step=tr.tier)

    def _escalate(self, now: datetime) -> None:
        steps = self.config.escalation.steps
        for tr in list(self._tracks.values()):
            due = self._next_escalation_at(tr)
            if due is None or now < due:
                continue
            step = steps[tr.tier]
            who = resolve_people(step.people, now, self.duty, self.people)
            names = step.channels
            if step.people:  # people are reached where the desk mentions people
                names = tuple(dict.fromkeys(names + (self.config.duty_channels or route(tr.alert, self.config.rules))))
            tr.tier += 1
            tr.base_at = now
            if tr.tier >= len(steps):
                tr.settled_at = now
            esc = replace(tr.alert, escalation_tier=tr.tier, mentions=who.mentions)
            queued = [(name, esc) for name in names if name in self._channels]
            if self._store is not None:
                stored = self._save(self._store.escalated, tr, queued, now,
                                    StepRecord(tr.tier, now, who.records(), tuple(n for n, _ in queued)))
                if stored is False:
                    self._reload_track(tr)  # another dispatcher on this database took this step
                    continue
                if stored is None:
                    self._unstored.update((n, esc.id, esc.escalation_tier) for n, _ in queued)
            self._log_problems(tr.alert, who.problems)
            whom = "、".join(m.label for m in who.mentions) or "渠道"
            log.warning("%s", redact(f"告警 {tr.alert.id} 未确认，升级到第 {tr.tier} 级：{whom}（{', '.join(names)}）",
                                     self.secrets))
            for name, _ in queued:
                self._enqueue(self._channels[name], esc, now)
            if not queued:
                log.error("%s", redact(f"告警 {tr.alert.id} 第 {tr.tier} 级升级无可用渠道：{', '.join(names) or '无'}",
                                       self.secrets))

    def _log_problems(self, alert: Alert, problems: tuple[str, ...]) -> None:
        for text in problems:
            log.warning("%s", redact(f"告警 {alert.id}：{text}", self.secrets))

    def _drop_escalations(self, alert_ids: set[str]) -> tuple[list, list]:
        """Acknowledged alerts need no pending escalation messages (queued or retrying).
        Returns the (channel, id, tier) of the queued and the retrying messages dropped."""
        def acked(a: Alert) -> bool:
            tr = self._tracks.get(a.id)
            return tr is not None and tr.acked_by is not None

        dropped_queue: list[tuple[str, str, int]] = []
        dropped_retries: list[tuple[str, str, int]] = []
        if not alert_ids:
            return dropped_queue, dropped_retries
        for name, ch in self._channels.items():
            keep = []
            for a in ch.queue:
                if a.id in alert_ids and a.escalation_tier:
                    dropped_queue.append((name, a.id, a.escalation_tier))
                else:
                    keep.append(a)
            ch.queue = keep
            keep_r = []
            for r in ch.retries:
                if r.message.escalation_tier and all(acked(a) for a in r.members):
                    dropped_retries.append((name, r.message.id, r.message.escalation_tier))
                else:
                    keep_r.append(r)
            ch.retries = keep_r
        return dropped_queue, dropped_retries

    def _forget(self, now: datetime) -> None:
        if self._store is not None and (self._next_prune is None or now >= self._next_prune):
            self._next_prune = now + PRUNE_EVERY
            periods = [p for ch in self._channels.values() for _, p in ch.cfg.rate_limits]
            self._save(self._store.forget, now, track_retention=TRACK_RETENTION,
                       dedup_window=self.config.dedup_window, send_window=timedelta(seconds=max(periods, default=60)))
        if len(self._tracks) < 256:
            return
        for aid, tr in list(self._tracks.items()):
            settled = tr.settled_at or (None if tr.escalates else tr.base_at)
            if settled is not None and now - settled > TRACK_RETENTION:
                del self._tracks[aid]
        live = set(self._tracks)
        for fid, ids in list(self._folds.items()):
            if not live.intersection(ids):
                del self._folds[fid]


    # ------------------------------------------------------------ persistence

    def _save(self, fn: Callable, *args: Any, failed: Any = None, **kw: Any) -> Any:
        """Write through to the store and return its answer; a failure (disk full, a locked
        file past the busy timeout) is logged once per streak, ``failed`` is returned and the
        dispatcher goes on in memory."""
        try:
            result = fn(*args, **kw)
        except (sqlite3.Error, OSError) as exc:
            self._store_error = f"{type(exc).__name__}: {exc}"
            if self._may_log_store():
                log.error("告警状态无法写入数据库（继续在内存中运行，重启后可能重复或遗漏）：%s", self._store_error)
            return failed
        if self._store_error is not None and self._may_log_store():
            log.warning("告警状态已恢复写入数据库")
        self._store_error = None
        return result

    def _claim_queued(self, ch: _Channel, ready: list[Alert], now: datetime) -> list[Alert]:
        """The ready alerts this dispatcher may send now (it claims their rows); those another
        dispatcher sent or is sending are dropped here. The console's notices never leave
        the process: not claimed."""
        if self._store is None or ch.cfg.type == "tui":
            return ready
        name = ch.cfg.name
        local = [a for a in ready if (name, a.id, a.escalation_tier) in self._unstored]
        self._unstored.difference_update((name, a.id, a.escalation_tier) for a in local)
        stored = [a for a in ready if all(a is not x for x in local)]
        claimed = self._save(self._store.claim_queued, name, stored, now, failed=[(a, False) for a in stored])
        picked = {id(a): a for a in local}
        picked.update((id(a), replace(a, resent=True) if cut and not a.resent else a) for a, cut in claimed)
        return [picked[id(a)] for a in ready if id(a) in picked]

    def _claim_retry(self, ch: _Channel, message: Alert, now: datetime) -> Alert | None:
        """The retry's message if this dispatcher may send it now, else None (see _claim_queued)."""
        key = (ch.cfg.name, message.id, message.escalation_tier)
        if self._store is None or ch.cfg.type == "tui":
            return message
        if key in self._unstored:
            self._unstored.discard(key)
            return message
        claimed = self._save(self._store.claim_retry, ch.cfg.name, message, now, failed=(True, False))
        if claimed is None:
            return None
        return replace(message, resent=True) if claimed[1] and not message.resent else message

    def _reload_track(self, tr: _Track) -> None:
        """Take a track's step and timer as stored (another dispatcher moved it on)."""
        state = self._save(self._store.track_state, tr.alert.id)
        if state is None:
            return
        tr.tier, tr.base_at, tr.settled_at, acked_by, acked_at = state
        if acked_by and tr.acked_by is None:
            tr.acked_by, tr.acked_at = acked_by, acked_at

    def _may_log_store(self) -> bool:
        """At most one store-problem log line per ``STORE_LOG_EVERY`` seconds (monotonic)."""
        t = time.monotonic()
        if self._store_logged_at is not None and t - self._store_logged_at < STORE_LOG_EVERY:
            return False
        self._store_logged_at = t
        return True

    def _save_attempt(self, ch: _Channel, message: Alert, members: list[Alert], from_retry: bool,
                      retry: _Retry | None, tracks: list[_Track], now: datetime) -> None:
        if self._store is not None:
            stored = self._save(self._store.attempted, ch.cfg.name, message, members, from_retry=from_retry,
                                retry=retry, tracks=tracks, token_at=now)
            if stored is None and retry is not None:
                self._unstored.add((ch.cfg.name, message.id, message.escalation_tier))

    def _restore(self) -> None:
        """Read back what the last dispatcher on this file left."""
        now = self.clock()
        try:
            snap = self._store.load(now, self.config.dedup_window)
        except sqlite3.Error as exc:
            log.error("告警状态无法读取，从空状态开始：%s: %s", type(exc).__name__, exc)
            return
        if snap.unreadable:
            log.error("告警状态中有 %d 行无法解析，已跳过（保留在数据库中）", snap.unreadable)
        for key, at in snap.dedup.items():
            self.deduper.remember(key, at)
        self._ack_seq = snap.ack_seq
        self._take_up(snap, warn=True)
        self._next_adopt = now + ADOPT_EVERY
        for name, h in snap.health.items():
            ch = self._channels.get(name)
            if ch is not None:
                h.label = ch.cfg.label
                ch.health = h
        for name, times in snap.sends.items():
            ch = self._channels.get(name)
            if ch is not None:
                ch.limiter.restore(times)
        if snap.interrupted:
            log.warning("告警：上次停止时有 %d 条正在发送，将重发并标明“可能重复”", snap.interrupted)
        waiting = sum(len(c.queue) + len(c.retries) for c in self._channels.values())
        if snap.tracks or waiting:
            log.info("告警状态已恢复：%d 条跟踪，%d 条待发", len(snap.tracks), waiting)

    def _take_up(self, snap, *, warn: bool = False) -> int:
        """Hold the stored tracks, queued messages and retries not held yet; how many were new."""
        new = 0
        for tr in snap.tracks:
            # at a later look only tracks still waiting to escalate matter (the rest stay listed in the database)
            waiting = tr.escalates and tr.acked_by is None and tr.settled_at is None
            if tr.alert.id not in self._tracks and (warn or waiting):
                self._tracks[tr.alert.id] = tr
                new += 1
        for fid, ids in snap.folds.items():
            self._folds.setdefault(fid, ids)
        for name, entries in snap.queues.items():
            ch = self._channels.get(name)
            if ch is None:
                if warn:
                    log.warning("%s", redact(f"告警渠道 {name} 不可用，其 {len(entries)} 条待发告警保留在数据库中",
                                             self.secrets))
                continue
            if not warn and ch.cfg.type == "tui":
                continue  # console notices belong to the process that queued them
            held = {(a.id, a.escalation_tier) for a in ch.queue}
            for alert, at in entries:
                if (alert.id, alert.escalation_tier) in held or (name, alert.id, alert.escalation_tier) in snap.mine:
                    continue
                ch.queue.append(alert)
                new += 1
                if alert.lane == "digest" and not alert.escalation_tier:
                    due = at + self.config.digest_every
                    ch.digest_due = due if ch.digest_due is None else min(ch.digest_due, due)
        for r in snap.retries:
            ch = self._channels.get(r.channel)
            if ch is None or (r.channel, r.message.id, r.message.escalation_tier) in snap.mine or any(
                    x.message.id == r.message.id and x.message.escalation_tier == r.message.escalation_tier
                    for x in ch.retries):
                continue
            ch.retries.append(_Retry(r.due, r.message, r.members, r.attempt))
            new += 1
        return new

    def _adopt(self, now: datetime) -> None:
        """Every ADOPT_EVERY: take up what other dispatchers on this database stored and this one
        does not hold (the claims keep any message from going out twice)."""
        if self._store is None or (self._next_adopt is not None and now < self._next_adopt):
            return
        self._next_adopt = now + ADOPT_EVERY
        try:
            snap = self._store.load(now, self.config.dedup_window)
        except sqlite3.Error as exc:
            log.warning("读取告警状态失败：%s", exc)
            return
        for key, at in snap.dedup.items():
            if not self.deduper.is_duplicate(key, now):
                self.deduper.remember(key, at)
        new = self._take_up(snap)
        if new:
            log.info("告警：接手数据库中的 %d 条告警状态（其他进程留下或排队）", new)

    def _sync_acks(self) -> None:
        """Take acknowledgements other processes (consoles) wrote since the last look."""
        if self._store is None:
            return
        try:
            rows = self._store.acks_since(self._ack_seq)
        except sqlite3.Error as exc:
            log.warning("读取告警确认失败：%s", exc)
            return
        fresh = []
        for aid, actor, at, seq in rows:
            self._ack_seq = max(self._ack_seq, seq)
            tr = self._tracks.get(aid)
            if tr is not None and tr.acked_by is None:
                tr.acked_by, tr.acked_at, tr.settled_at = actor, at, at
                fresh.append(tr)
        dropped = self._drop_escalations({tr.alert.id for tr in fresh})
        if dropped[0] or dropped[1]:
            self._save(self._store.acked, [], *dropped)
