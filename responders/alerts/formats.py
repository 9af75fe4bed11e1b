"""Payload builders for each platform, and the signatures the platforms verify.

Pure functions: the time and secrets are arguments. References:
- 企业微信 group robot: ``{"msgtype": "markdown", "markdown": {"content": ...}}``, content
  at most 4096 bytes UTF-8.
- 钉钉 custom robot: ``{"msgtype": "markdown", "markdown": {"title", "text"}}``; signed
  URL: ``sign = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{ts_ms}\\n{secret}")))``,
  appended as ``&timestamp=<ms>&sign=<sign>``.
- 飞书 custom bot: ``{"timestamp": "<s>", "sign": base64(HMAC-SHA256(key=f"{ts}\\n{secret}",
  msg=b"")), "msg_type": "interactive" | "text" | "post", ...}``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import replace
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import quote_plus

from responders.alerts.types import Alert, ChannelConfig
from responders.masking import mask_personal
from storage.timeutil import local

TRUNCATION_MARKER = "\n…（内容过长，已截断，详见值班台）"
BRAND = "舆情值班台"


# ---------------------------------------------------------------- text helpers

def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def truncate_utf8(text: str, max_bytes: int, marker: str = TRUNCATION_MARKER) -> str:
    """``text`` if it fits in ``max_bytes`` UTF-8 bytes; else cut on a character
    boundary so that the kept part plus ``marker`` fits."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    room = max_bytes - utf8_len(marker)
    if room <= 0:
        return marker.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")
    kept = data[:room].decode("utf-8", "ignore")  # drops a split trailing character
    return kept + marker


def prepare(alert: Alert, channel: ChannelConfig | None = None, *, mask: bool | None = None) -> Alert:
    """The alert as a channel may show it: personal data masked unless the channel opts out."""
    if mask is None:
        mask = channel.mask_personal if channel is not None else True
    if not mask:
        return alert
    return replace(alert, title=mask_personal(alert.title), body_markdown=mask_personal(alert.body_markdown),
                   body_text=mask_personal(alert.body_text))


def local_stamp(dt: datetime) -> str:
    return local(dt).strftime("%m月%d日 %H:%M")


def headline(alert: Alert) -> str:
    prefix = f"【升级·第{alert.escalation_tier}级·未确认】" if alert.escalation_tier else ""
    lane = "突发" if alert.lane == "breaking" else "汇总"
    return f"{prefix}【{alert.severity}·{lane}】{alert.title}"


def footer(alert: Alert) -> str:
    parts = [f"{BRAND} {local_stamp(alert.created_at)}", f"告警编号 {alert.id}"]
    if alert.incident_id is not None:
        parts.append(f"事件 #{alert.incident_id}")
    return " · ".join(parts)


def markdown_text(alert: Alert) -> str:
    lines = [f"### {headline(alert)}", alert.body_markdown]
    if alert.url:
        lines.append(f"[查看原文]({alert.url})")
    lines.append(f"> {footer(alert)}")
    return "\n".join(lines)


def plain_text(alert: Alert) -> str:
    lines = [headline(alert), alert.body_text]
    if alert.url:
        lines.append(f"原文：{alert.url}")
    lines.append(footer(alert))
    return "\n".join(lines)


def _fit(head_and_body: str, tail: str, max_bytes: int) -> str:
    """Truncate the body part so that body + tail fits; the footer survives."""
    return truncate_utf8(head_and_body, max_bytes - utf8_len(tail)) + tail


def fitted_markdown(alert: Alert, max_bytes: int) -> str:
    tail = f"\n> {footer(alert)}"
    body = "\n".join([f"### {headline(alert)}", alert.body_markdown] + ([f"[查看原文]({alert.url})"] if alert.url else []))
    return _fit(body, tail, max_bytes)


def fitted_text(alert: Alert, max_bytes: int) -> str:
    tail = f"\n{footer(alert)}"
    body = "\n".join([headline(alert), alert.body_text] + ([f"原文：{alert.url}"] if alert.url else []))
    return _fit(body, tail, max_bytes)


# ---------------------------------------------------------------- 企业微信

WECOM_MAX_BYTES = 4096


def wecom_payload(alert: Alert, max_bytes: int = WECOM_MAX_BYTES) -> dict:
    return {"msgtype": "markdown",
            "markdown": {"content": fitted_markdown(alert, min(max_bytes, WECOM_MAX_BYTES))}}


# ---------------------------------------------------------------- 钉钉

def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(key=secret, msg=f"{timestamp_ms}\\n{secret}")), not yet URL-encoded."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def dingtalk_signed_url(url: str, secret: str, now: datetime) -> str:
    """The robot URL with ``&timestamp=<ms>&sign=<urlencoded sign>`` (unchanged without a secret)."""
    if not secret:
        return url
    ts = int(now.timestamp() * 1000)
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}timestamp={ts}&sign={quote_plus(dingtalk_sign(secret, ts))}"


def dingtalk_payload(alert: Alert, max_bytes: int = 20000) -> dict:
    title = truncate_utf8(headline(alert), 256, "…")
    return {"msgtype": "markdown", "markdown": {"title": title, "text": fitted_markdown(alert, max_bytes)}}


# ---------------------------------------------------------------- 飞书

def feishu_sign(secret: str, timestamp_s: int) -> str:
    """base64(HMAC-SHA256(key=f"{timestamp_s}\\n{secret}", msg=b"")) — as 飞书 verifies it."""
    key = f"{timestamp_s}\n{secret}".encode("utf-8")
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


_FEISHU_TEMPLATE = {"特别重大": "red", "重大": "red", "较大": "orange", "一般": "blue"}


def feishu_payload(alert: Alert, *, secret: str = "", now: datetime | None = None,
                   msg_type: str = "interactive", max_bytes: int = 20000) -> dict:
    payload: dict = {}
    if secret:
        if now is None:
            raise ValueError("feishu_payload needs now= to sign")
        ts = int(now.timestamp())
        payload["timestamp"] = str(ts)
        payload["sign"] = feishu_sign(secret, ts)
    msg_type = msg_type or "interactive"
    if msg_type == "text":
        payload.update(msg_type="text", content={"text": fitted_text(alert, max_bytes)})
    elif msg_type == "post":
        text = fitted_text(alert, max_bytes)
        rows = [[{"tag": "text", "text": line}] for line in text.split("\n")[1:]]
        if alert.url:
            rows.append([{"tag": "a", "text": "查看原文", "href": alert.url}])
        payload.update(msg_type="post", content={"post": {"zh_cn": {"title": headline(alert), "content": rows}}})
    else:
        tail = f"\n{footer(alert)}"
        body = alert.body_markdown + (f"\n[查看原文]({alert.url})" if alert.url else "")
        payload.update(msg_type="interactive", card={
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": truncate_utf8(headline(alert), 512, "…")},
                       "template": _FEISHU_TEMPLATE.get(alert.severity, "blue")},
            "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": _fit(body, tail, max_bytes)}}],
        })
    return payload


# ---------------------------------------------------------------- generic webhook

def webhook_payload(alert: Alert, max_bytes: int = 65536) -> dict:
    return {
        "source": "yuqing-desk",
        "id": alert.id,
        "key": alert.key,
        "lane": alert.lane,
        "severity": alert.severity,
        "title": alert.title,
        "headline": headline(alert),
        "body_markdown": truncate_utf8(alert.body_markdown, max_bytes // 2),
        "body_text": truncate_utf8(alert.body_text, max_bytes // 2),
        "incident_id": alert.incident_id,
        "item_ids": list(alert.item_ids),
        "topics": list(alert.topics),
        "towns": list(alert.towns),
        "url": alert.url,
        "folded": list(alert.folded),
        "escalation_tier": alert.escalation_tier,
        "created_at": alert.created_at.isoformat(),
    }


def webhook_signature(body: bytes, secret: str, timestamp_s: int) -> str:
    """``sha256=<hex HMAC-SHA256(key=secret, msg=f"{ts}.".encode() + body)>`` for the
    ``X-Yuqing-Signature`` header (with ``X-Yuqing-Timestamp: ts``)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp_s}.".encode("ascii") + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def json_bytes(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# ---------------------------------------------------------------- e-mail, desktop, console

def email_message(alert: Alert, *, mail_from: str, mail_to: tuple[str, ...] | list[str],
                  max_bytes: int = 262144) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"[{BRAND}] {truncate_utf8(headline(alert), 400, '…')}"
    msg["From"] = mail_from
    msg["To"] = ", ".join(mail_to)
    msg["Date"] = format_datetime(alert.created_at)
    domain = mail_from.rsplit("@", 1)[-1] if "@" in mail_from else "yuqing.local"
    msg["Message-ID"] = make_msgid(idstring=alert.id, domain=domain)
    msg["X-Yuqing-Alert-Id"] = alert.id
    msg.set_content(fitted_text(alert, max_bytes))
    return msg


def desktop_args(alert: Alert, max_bytes: int = 1024) -> list[str]:
    urgency = "critical" if alert.lane == "breaking" or alert.escalation_tier else "normal"
    summary = truncate_utf8(headline(alert), 200, "…")
    body = truncate_utf8(alert.body_text, max_bytes, "…")
    return ["-u", urgency, "-a", BRAND, "--", summary, body]


def tui_text(alert: Alert, max_bytes: int = 8192) -> str:
    return fitted_text(alert, max_bytes)
