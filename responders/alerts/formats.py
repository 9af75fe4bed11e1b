"""Payload builders for each platform, and the signatures the platforms verify.

Pure functions: the time and secrets are arguments. References:
- 企业微信 group robot: ``{"msgtype": "markdown", "markdown": {"content": ...}}``, content
  at most 4096 bytes UTF-8.
- 钉钉 custom robot: ``{"msgtype": "markdown", "markdown": {"title", "text"}}``; signed
  URL: ``sign = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{ts_ms}\\n{secret}")))``,
  appended as ``&timestamp=<ms>&sign=<sign>``.
- 飞书 custom bot: ``{"timestamp": "<s>", "sign": base64(HMAC-SHA256(key=f"{ts}\\n{secret}",
  msg=b"")), "msg_type": "interactive" | "text" | "post", ...}``.

Feed text is hostile. In every format its control characters become visible symbols
(:func:`storage.visible.visible`); in robot Markdown (企业微信, 钉钉) and 飞书 ``lark_md``
every character that could make a link, a mention (``<@all>``, ``<at user_id="all">``,
``@所有人``), a heading, emphasis, a quote, a table or an HTML tag is replaced by its
full-width look-alike (``[`` -> ``［``, ``<`` -> ``＜``, ``#`` -> ``＃`` ...), and ``://``
by ``：//`` so no bare address turns into a link: the platforms document no escape
syntax that all of them honour, and full-width forms read naturally in Chinese.
The only link in a message is the desk's own (``Alert.desk_url``, from
``[alerts] incident_url``); the feed's URL goes only to the generic webhook as data
and to the console. notify-send bodies are HTML-escaped (libnotify reads markup).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
from dataclasses import replace
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import quote_plus

from responders.alerts.types import DUTY_LABELS, Alert, ChannelConfig, Mention
from responders.masking import mask_personal
from storage.timeutil import local
from storage.visible import visible

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


# ---------------------------------------------------------------- feed text made inert

_MD_INERT = str.maketrans({
    "[": "［", "]": "］", "<": "＜", ">": "＞", "*": "＊", "_": "＿", "`": "｀", "~": "～", "#": "＃",
    "@": "＠", "|": "｜", "\\": "＼", "&": "＆", "$": "＄",
})
_TAG_INERT = str.maketrans({"<": "＜", ">": "＞", "@": "＠"})
_AUTOLINK = re.compile(r"://|(?i:\bwww)\.")


def _no_autolink(s: str) -> str:
    return _AUTOLINK.sub(lambda m: "：//" if m.group() == "://" else m.group()[:-1] + "．", s)


def md_inert(text: object, *, multiline: bool = False) -> str:
    """Feed text that robot Markdown (企业微信, 钉钉) and 飞书 lark_md show literally:
    no link, mention, heading, emphasis, quote, table or tag survives."""
    return _no_autolink(visible(text, multiline=multiline).translate(_MD_INERT))


def plain_inert(text: object, *, multiline: bool = False) -> str:
    """Feed text for plain-text robot messages (飞书 text/post parse ``<at>`` tags) and
    mail: control characters visible, tags and mentions inert."""
    return _no_autolink(visible(text, multiline=multiline).translate(_TAG_INERT))


def desk_link(template: str, incident_id) -> str | None:
    """The desk's own link to an incident (None without a template or an incident)."""
    from urllib.parse import quote

    if not template or incident_id is None:
        return None
    return template.replace("{id}", quote(str(incident_id), safe=""))


def prepare(alert: Alert, channel: ChannelConfig | None = None, *, mask: bool | None = None,
            incident_url: str = "") -> Alert:
    """The alert as a channel may show it: personal data masked unless the channel opts
    out; ``desk_url`` set from the desk's ``incident_url`` template."""
    if mask is None:
        mask = channel.mask_personal if channel is not None else True
    alert = replace(alert, desk_url=desk_link(incident_url, alert.incident_id))
    if not mask:
        return alert
    return replace(alert, title=mask_personal(alert.title), body_markdown=mask_personal(alert.body_markdown),
                   body_text=mask_personal(alert.body_text))


def local_stamp(dt: datetime) -> str:
    return local(dt).strftime("%m月%d日 %H:%M")


def headline(alert: Alert) -> str:
    """One line of plain text (control characters visible): not yet made inert for a format."""
    prefix = f"【升级·第{alert.escalation_tier}级·未确认】" if alert.escalation_tier else ""
    if alert.resent:
        prefix = "【重发·可能重复】" + prefix
    lane = "突发" if alert.lane == "breaking" else "汇总"
    return visible(f"{prefix}【{alert.severity}·{lane}】{alert.title}")


def footer(alert: Alert) -> str:
    parts = [f"{BRAND} {local_stamp(alert.created_at)}", f"告警编号 {alert.id}"]
    if alert.incident_id is not None:
        parts.append(f"事件 #{alert.incident_id}")
    return visible(" · ".join(parts))


# ---------------------------------------------------------------- mentions

#: Ids that may go into a platform's mention syntax; anything else is left out (the name stays).
_WECOM_ID = re.compile(r"^[A-Za-z0-9_.@\-]{1,64}$")
_MOBILE = re.compile(r"^\+?[0-9][0-9\-]{4,19}$")
_OPEN_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_EMAIL = re.compile(r"^[^\s@<>\"',;]+@[^\s@<>\"',;]+$")


def platform_id(m: Mention, platform: str) -> str | None:
    """The person's id on ``platform`` (wecom userid, dingtalk mobile, feishu open_id,
    email) if it is well-formed, else None."""
    value, pattern = {"wecom": (m.wecom, _WECOM_ID), "dingtalk": (m.dingtalk, _MOBILE),
                      "feishu": (m.feishu, _OPEN_ID), "email": (m.email, _EMAIL)}[platform]
    return value if value and pattern.match(value) else None


_ID_KIND = {"wecom": "wecom", "dingtalk": "dingtalk", "feishu_card": "feishu", "feishu_text": "feishu"}


def mention_line(alert: Alert, platform: str | None = None) -> str:
    """"请确认：值班员 张三 <@zhangsan> · 确认：yuqing alert-ack ID" with the platform's own
    mention syntax (企业微信 markdown ``<@userid>``, 钉钉 ``@mobile`` with ``at.atMobiles``,
    飞书 card ``<at id=open_id></at>``, 飞书 text ``<at user_id="open_id">name</at>``);
    empty when the message is for nobody in particular. Names are made inert."""
    if not alert.mentions:
        return ""
    inert = plain_inert if platform in (None, "feishu_text") else md_inert
    parts = []
    for m in alert.mentions:
        text = inert(m.label)
        pid = platform_id(m, _ID_KIND[platform]) if platform in _ID_KIND else None
        if pid and platform == "wecom":
            text += f" <@{pid}>"
        elif pid and platform == "dingtalk":
            text += f" @{pid}"
        elif pid and platform == "feishu_card":
            text += f" <at id={pid}></at>"
        elif pid and platform == "feishu_text":
            text = f"{inert(DUTY_LABELS.get(m.duty, ''))} <at user_id=\"{pid}\">{inert(m.name)}</at>".strip()
        parts.append(text)
    return f"请确认：{'、'.join(parts)} · 确认：yuqing alert-ack {alert.id}"


def _md_link(alert: Alert) -> str:
    return f"\n[在值班台查看事件 #{md_inert(alert.incident_id)}]({alert.desk_url})" if alert.desk_url else ""


def markdown_text(alert: Alert) -> str:
    return fitted_markdown(alert, 1 << 30)


def plain_text(alert: Alert) -> str:
    return fitted_text(alert, 1 << 30)


def _fit(head_and_body: str, tail: str, max_bytes: int) -> str:
    """Truncate the body part so that body + tail fits; the footer survives."""
    return truncate_utf8(head_and_body, max_bytes - utf8_len(tail)) + tail


def fitted_markdown(alert: Alert, max_bytes: int, platform: str = "wecom") -> str:
    """Robot Markdown: the desk's heading, the feed text made inert, the desk's link, whom
    it is for (mentions) and the footer (which survive truncation)."""
    who = mention_line(alert, platform)
    tail = f"{_md_link(alert)}" + (f"\n\n**{who}**" if who else "") + f"\n> {footer(alert)}"
    body = f"### {md_inert(headline(alert))}\n{md_inert(alert.body_text, multiline=True)}"
    return _fit(body, tail, max_bytes)


def fitted_text(alert: Alert, max_bytes: int, *, feed_link: bool = False, platform: str | None = None) -> str:
    """Plain text with tags and mentions inert; ``feed_link`` adds the feed's URL (the console only);
    whom the message is for is named (mentioned in ``platform``'s syntax when given)."""
    link = f"\n查看事件：{alert.desk_url}" if alert.desk_url else ""
    who = mention_line(alert, platform)
    tail = f"{link}" + (f"\n{who}" if who else "") + f"\n{footer(alert)}"
    lines = [plain_inert(headline(alert)), plain_inert(alert.body_text, multiline=True)]
    if feed_link and alert.url:
        lines.append(f"原文：{visible(alert.url)}")
    return _fit("\n".join(lines), tail, max_bytes)


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
    """Markdown; the people it is for in ``at.atMobiles`` (钉钉 notifies them only when the
    text also carries ``@mobile``, which the mention line does)."""
    title = truncate_utf8(md_inert(headline(alert)), 256, "…")
    payload: dict = {"msgtype": "markdown",
                     "markdown": {"title": title, "text": fitted_markdown(alert, max_bytes, "dingtalk")}}
    mobiles = [pid for pid in (platform_id(m, "dingtalk") for m in alert.mentions) if pid]
    if mobiles:
        payload["at"] = {"atMobiles": list(dict.fromkeys(mobiles)), "isAtAll": False}
    return payload


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
        payload.update(msg_type="text", content={"text": fitted_text(alert, max_bytes, platform="feishu_text")})
    elif msg_type == "post":
        text = fitted_text(replace(alert, desk_url=None, mentions=()), max_bytes)
        rows = [[{"tag": "text", "text": line}] for line in text.split("\n")[1:]]
        if alert.mentions:
            row: list[dict] = [{"tag": "text", "text": "请确认："}]
            for m in alert.mentions:
                pid = platform_id(m, "feishu")
                if pid:
                    row.append({"tag": "at", "user_id": pid, "user_name": plain_inert(m.name)})
                else:
                    row.append({"tag": "text", "text": plain_inert(m.label) + " "})
            row.append({"tag": "text", "text": f" · 确认：yuqing alert-ack {alert.id}"})
            rows.insert(len(rows) - 1, row)
        if alert.desk_url:
            rows.append([{"tag": "a", "text": "在值班台查看事件", "href": alert.desk_url}])
        payload.update(msg_type="post", content={"post": {"zh_cn": {"title": plain_inert(headline(alert)),
                                                                     "content": rows}}})
    else:
        who = mention_line(alert, "feishu_card")
        tail = f"{_md_link(alert)}" + (f"\n**{who}**" if who else "") + f"\n{footer(alert)}"
        body = md_inert(alert.body_text, multiline=True)
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
        "title": visible(alert.title),
        "headline": headline(alert),
        "body_markdown": truncate_utf8(visible(alert.body_markdown, multiline=True), max_bytes // 2),
        "body_text": truncate_utf8(visible(alert.body_text, multiline=True), max_bytes // 2),
        "incident_id": alert.incident_id,
        "item_ids": list(alert.item_ids),
        "topics": [visible(t) for t in alert.topics],
        "towns": [visible(t) for t in alert.towns],
        "url": visible(alert.url) if alert.url else alert.url,  # the feed's, as data
        "desk_url": alert.desk_url,
        "folded": list(alert.folded),
        "escalation_tier": alert.escalation_tier,
        "created_at": alert.created_at.isoformat(),
        # whom the message is for; no phone numbers or platform ids (a generic endpoint)
        "mentions": [{"staff_id": m.staff_id or None, "name": m.name or None, "duty": m.duty}
                     for m in alert.mentions],
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
    msg["Subject"] = f"[{BRAND}] {truncate_utf8(plain_inert(headline(alert)), 400, '…')}"
    msg["From"] = mail_from
    people = [pid for pid in (platform_id(m, "email") for m in alert.mentions) if pid]
    msg["To"] = ", ".join(dict.fromkeys([*mail_to, *people]))  # the people it is for get it in person
    msg["Date"] = format_datetime(alert.created_at)
    domain = mail_from.rsplit("@", 1)[-1] if "@" in mail_from else "yuqing.local"
    msg["Message-ID"] = make_msgid(idstring=alert.id, domain=domain)
    msg["X-Yuqing-Alert-Id"] = alert.id
    msg.set_content(fitted_text(alert, max_bytes))
    return msg


def desktop_args(alert: Alert, max_bytes: int = 1024) -> list[str]:
    urgency = "critical" if alert.lane == "breaking" or alert.escalation_tier else "normal"
    summary = truncate_utf8(headline(alert), 200, "…")
    # libnotify reads a subset of HTML in the body (<a href>, <b>, <img>): escape it
    body = truncate_utf8(html.escape(visible(alert.body_text, multiline=True), quote=False), max_bytes, "…")
    return ["-u", urgency, "-a", BRAND, "--", summary, body]


def tui_text(alert: Alert, max_bytes: int = 8192) -> str:
    return fitted_text(alert, max_bytes, feed_link=True)
