"""Async senders, one per channel type. ``send`` returns on success and raises
``ChannelError`` (message already redacted, ``retryable`` set) on failure.

Robots check the platform's answer, not only the HTTP status: 企业微信 and 钉钉 say
``{"errcode": 0}``, 飞书 ``{"code": 0}`` (older bots ``{"StatusCode": 0}``).
"""
from __future__ import annotations

import asyncio
import json
import shutil
import smtplib
import ssl
from collections import deque
from datetime import datetime
from typing import Any, Callable

from responders.alerts import formats
from responders.alerts.redact import redact
from responders.alerts.types import Alert, ChannelConfig, ChannelError, TuiNotice

#: Platform error codes that mean "too fast / busy, try later".
RETRYABLE_CODES = {
    "wecom": {-1, 45009, 45033},
    "dingtalk": {-1, 130101, 130102, 410100},
    "feishu": {9499, 11232, 11233, 11247},
}
RESPONSE_CAP = 65536
#: A platform's Retry-After is obeyed up to this many seconds (a hostile or broken
#: answer must not silence a channel for days).
RETRY_AFTER_CAP = 3600.0


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from an HTTP ``Retry-After`` value: delay-seconds or an
    HTTP-date (relative to ``now``, real time). None when absent or unreadable;
    capped at ``RETRY_AFTER_CAP``."""
    from email.utils import parsedate_to_datetime

    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), RETRY_AFTER_CAP)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        from datetime import timezone

        when = when.replace(tzinfo=timezone.utc)
    return min(max(0.0, (when - now).total_seconds()), RETRY_AFTER_CAP)


class Sender:
    """Base class: holds the channel config, the clock and the secrets to redact."""

    def __init__(self, cfg: ChannelConfig, clock: Callable[[], datetime],
                 wall: Callable[[], datetime] | None = None):
        self.cfg = cfg
        self.clock = clock  # the dispatcher's (injected) clock
        self.wall = wall or clock  # real time, for signatures the platform checks against its clock
        self.secrets = cfg.secrets()

    def unavailable(self) -> str | None:
        """A reason when the channel cannot work on this machine, else None."""
        return self.cfg.problem or None

    async def send(self, alert: Alert) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    async def aclose(self) -> None:
        return None

    def error(self, message: str, **kw: Any) -> ChannelError:
        return ChannelError(redact(f"{self.cfg.label}: {message}", self.secrets), **kw)


# ---------------------------------------------------------------- HTTP robots

class HttpSender(Sender):
    """POSTs JSON with a timeout; subclasses build the payload and judge the answer."""

    def __init__(self, cfg: ChannelConfig, clock, session_factory: Callable[[], Any], wall=None):
        super().__init__(cfg, clock, wall)
        self._session_factory = session_factory

    def unavailable(self) -> str | None:
        if self.cfg.problem:
            return self.cfg.problem
        if not self.cfg.url:
            return "未配置 url"
        return None

    def request(self, alert: Alert) -> tuple[str, dict, dict[str, str]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def check_answer(self, status: int, body: bytes) -> None:
        if status >= 300:
            self._status_error(status, body)

    async def send(self, alert: Alert) -> None:
        import aiohttp

        url, payload, headers = self.request(alert)
        data = formats.json_bytes(payload)
        session = self._session_factory()
        timeout = aiohttp.ClientTimeout(total=self.cfg.timeout, sock_connect=min(self.cfg.timeout, 10))
        hdrs = {"Content-Type": "application/json; charset=utf-8", **headers}
        try:
            async with session.post(url, data=data, headers=hdrs, timeout=timeout, allow_redirects=False) as resp:
                status = resp.status
                retry_after = resp.headers.get("Retry-After")
                body = await resp.content.read(RESPONSE_CAP)
        except asyncio.TimeoutError:
            raise self.error(f"超时（{self.cfg.timeout:g} 秒无应答）") from None
        except aiohttp.ClientError as exc:
            raise self.error(f"连接失败（{type(exc).__name__}: {exc}）") from None
        except (ValueError, OSError) as exc:  # InvalidURL and friends
            raise self.error(f"请求失败（{type(exc).__name__}: {exc}）", retryable=False) from None
        try:
            self.check_answer(status, body)
        except ChannelError as exc:
            if status >= 300 and exc.retryable:
                exc.retry_after = parse_retry_after(retry_after, self.wall())
            raise

    def _status_error(self, status: int, body: bytes):
        snippet = body[:200].decode("utf-8", "replace")
        retryable = status >= 500 or status in (408, 425, 429)
        raise self.error(f"HTTP {status}：{snippet}", retryable=retryable, status=status)

    def _json(self, status: int, body: bytes) -> dict:
        if status >= 300:
            self._status_error(status, body)
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise self.error(f"应答不是 JSON：{body[:120].decode('utf-8', 'replace')}", status=status) from None
        if not isinstance(doc, dict):
            raise self.error(f"应答格式不对：{str(doc)[:120]}", status=status)
        return doc

    def _platform_error(self, code: Any, msg: Any, status: int):
        retryable = code in RETRYABLE_CODES.get(self.cfg.type, set())
        raise self.error(f"平台拒绝（错误码 {code}：{msg}）", retryable=retryable, status=status,
                         code=code if isinstance(code, int) else None)


class WecomSender(HttpSender):
    def request(self, alert):
        return self.cfg.url, formats.wecom_payload(alert, self.cfg.max_bytes), {}

    def check_answer(self, status, body):
        doc = self._json(status, body)
        if doc.get("errcode") != 0:
            self._platform_error(doc.get("errcode"), doc.get("errmsg"), status)


class DingtalkSender(HttpSender):
    def request(self, alert):
        url = formats.dingtalk_signed_url(self.cfg.url, self.cfg.secret, self.wall())
        return url, formats.dingtalk_payload(alert, self.cfg.max_bytes), {}

    def check_answer(self, status, body):
        doc = self._json(status, body)
        if doc.get("errcode") != 0:
            self._platform_error(doc.get("errcode"), doc.get("errmsg"), status)


class FeishuSender(HttpSender):
    def request(self, alert):
        payload = formats.feishu_payload(alert, secret=self.cfg.secret, now=self.wall(),
                                         msg_type=self.cfg.msg_type or "interactive",
                                         max_bytes=self.cfg.max_bytes)
        return self.cfg.url, payload, {}

    def check_answer(self, status, body):
        doc = self._json(status, body)
        code = doc.get("code", doc.get("StatusCode"))
        if code != 0:
            self._platform_error(code, doc.get("msg", doc.get("StatusMessage")), status)


class WebhookSender(HttpSender):
    """Generic JSON webhook: 2xx is success. With a secret, the body is signed in
    ``X-Yuqing-Signature`` (see ``formats.webhook_signature``)."""

    def request(self, alert):
        payload = formats.webhook_payload(alert, self.cfg.max_bytes)
        headers = dict(self.cfg.headers)
        if self.cfg.secret:
            ts = int(self.wall().timestamp())
            headers["X-Yuqing-Timestamp"] = str(ts)
            headers["X-Yuqing-Signature"] = formats.webhook_signature(formats.json_bytes(payload), self.cfg.secret, ts)
        return self.cfg.url, payload, headers


# ---------------------------------------------------------------- e-mail

class EmailSender(Sender):
    """Plain-text mail through smtplib, run in a worker thread."""

    def unavailable(self):
        if self.cfg.problem:
            return self.cfg.problem
        if not (self.cfg.smtp_host and self.cfg.mail_from and self.cfg.mail_to):
            return "未配置 smtp_host / from / to"
        return None

    async def send(self, alert: Alert) -> None:
        msg = formats.email_message(alert, mail_from=self.cfg.mail_from, mail_to=self.cfg.mail_to,
                                    max_bytes=self.cfg.max_bytes)
        await asyncio.to_thread(self._deliver, msg)

    def _deliver(self, msg) -> None:
        cfg = self.cfg
        port = cfg.smtp_port or {"ssl": 465, "starttls": 587}.get(cfg.smtp_security, 25)
        try:
            if cfg.smtp_security == "ssl":
                smtp = smtplib.SMTP_SSL(cfg.smtp_host, port, timeout=cfg.timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(cfg.smtp_host, port, timeout=cfg.timeout)
            with smtp:
                if cfg.smtp_security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if cfg.username:
                    smtp.login(cfg.username, cfg.password)
                refused = smtp.send_message(msg)
        except smtplib.SMTPAuthenticationError as exc:
            raise self.error(f"SMTP 登录失败（{exc.smtp_code}）", retryable=False) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise self.error(f"收件人被拒：{', '.join(exc.recipients)}", retryable=False) from None
        except smtplib.SMTPResponseException as exc:
            retryable = 400 <= exc.smtp_code < 500
            raise self.error(f"SMTP 错误 {exc.smtp_code}：{exc.smtp_error!r}", retryable=retryable) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise self.error(f"SMTP 失败（{type(exc).__name__}: {exc}）") from None
        if refused:
            raise self.error(f"部分收件人被拒：{', '.join(refused)}", retryable=False)


# ---------------------------------------------------------------- desktop

class DesktopSender(Sender):
    """``notify-send`` (libnotify) when present; otherwise the channel is unavailable."""

    def unavailable(self):
        if self.cfg.problem:
            return self.cfg.problem
        if shutil.which("notify-send") is None:
            return "本机没有 notify-send，桌面通知不可用"
        return None

    async def send(self, alert: Alert) -> None:
        exe = shutil.which("notify-send")
        if exe is None:
            raise self.error("本机没有 notify-send", retryable=False)
        try:
            proc = await asyncio.create_subprocess_exec(
                exe, *formats.desktop_args(alert, self.cfg.max_bytes),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
            _, err = await asyncio.wait_for(proc.communicate(), timeout=self.cfg.timeout)
        except asyncio.TimeoutError:
            raise self.error("notify-send 超时", retryable=False) from None
        except OSError as exc:
            raise self.error(f"notify-send 无法运行：{exc}", retryable=False) from None
        if proc.returncode != 0:
            raise self.error(f"notify-send 失败：{err[:200].decode('utf-8', 'replace').strip()}", retryable=False)


# ---------------------------------------------------------------- console

class TuiInbox:
    """What the console reads: notices in arrival order (bounded; the oldest go first
    when nobody reads). ``get()`` waits; ``drain()`` takes what is there."""

    def __init__(self, maxlen: int = 1000):
        self._items: deque[TuiNotice] = deque(maxlen=maxlen)
        self._event: asyncio.Event | None = None

    def put(self, notice: TuiNotice) -> None:
        self._items.append(notice)
        if self._event is not None:
            self._event.set()

    def drain(self) -> list[TuiNotice]:
        out = list(self._items)
        self._items.clear()
        return out

    async def get(self) -> TuiNotice:
        while not self._items:
            if self._event is None:
                self._event = asyncio.Event()
            self._event.clear()
            await self._event.wait()
        return self._items.popleft()

    def __len__(self) -> int:
        return len(self._items)


class TuiSender(Sender):
    def __init__(self, cfg, clock, inbox: TuiInbox):
        super().__init__(cfg, clock)
        self.inbox = inbox

    async def send(self, alert: Alert) -> None:
        bell = alert.lane == "breaking" or alert.escalation_tier > 0
        self.inbox.put(TuiNotice(alert=alert, text=formats.tui_text(alert, self.cfg.max_bytes), bell=bell,
                                 at=self.clock()))


def make_sender(cfg: ChannelConfig, clock, *, session_factory, inbox: TuiInbox, wall=None) -> Sender:
    """The sender for ``cfg``. ``clock`` is the dispatcher's clock; ``wall`` the real
    time used for signatures (defaults to ``clock``)."""
    http = {"wecom": WecomSender, "dingtalk": DingtalkSender, "feishu": FeishuSender, "webhook": WebhookSender}
    if cfg.type in http:
        return http[cfg.type](cfg, clock, session_factory, wall)
    if cfg.type == "email":
        return EmailSender(cfg, clock, wall)
    if cfg.type == "desktop":
        return DesktopSender(cfg, clock, wall)
    if cfg.type == "tui":
        return TuiSender(cfg, clock, inbox)
    raise ValueError(f"unknown channel type {cfg.type!r}")
