"""Parse the ``[alerts]`` table of desk.toml into an ``AlertsConfig``.

Every problem raises ``AlertConfigError`` (also a ``ValueError``) naming the key,
e.g. ``channels.duty.secret_env: environment variable DINGTALK_SECRET is not set``.
Secrets may be written inline (``secret = "..."``) or, better, taken from the
environment (``secret_env``, ``url_env``, ``password_env``). An unset variable makes
the channel unusable (``ChannelConfig.problem``) rather than failing the whole
desk, unless ``require_secrets=True`` (what the daemon should pass).
"""
from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from responders.alerts.rules import check_rules, parse_quiet_range
from responders.alerts.types import (
    CHANNEL_TYPES, DEFAULT_MAX_BYTES, DEFAULT_RATE_LIMITS, LANES, SEVERITIES, AlertConfigError,
    AlertsConfig, ChannelConfig, EscalationPolicy, EscalationStep, PERSON_TARGETS, QuietHours, RetryPolicy, Rule,
)

DEFAULT_ALERTS_TOML = '''
[alerts]
enabled = true
mask_personal = true            # mask phone/ID numbers in alert text (all channels unless a channel opts out)
dedup_window_minutes = 30       # the same alert key inside this window is sent once
digest_every_minutes = 60       # 'digest' lane alerts are collected and sent as one message this often
# incident_url = "https://desk.example.gov.cn/incidents/{id}"   # the desk's own link in robot messages
escalate_after = 15             # minutes: a breaking alert nobody acknowledged goes to the leader on duty
# duty_channels = ["duty_dingtalk"]   # where people on duty are @-mentioned (default: the alert's channels)
# duty_officer = "zhangsan"     # staff ids on duty when the roster names nobody (a desk without a roster)
# duty_leader = "lisi"

[alerts.quiet_hours]            # Asia/Shanghai; channels hold messages in this window
range = "22:00-07:00"
timezone = "Asia/Shanghai"
breaking_pierces = true         # 'breaking' lane alerts are sent anyway

[alerts.retry]
max_attempts = 5                # per alert and channel (breaking alerts of open incidents never give up)
base_seconds = 5                # 5 s, 10 s, 20 s ... capped at max_seconds
max_seconds = 300

[alerts.channels.console]       # the desk's own screen: notice and bell
type = "tui"

[alerts.channels.desktop]       # notify-send; skipped where it is not installed
type = "desktop"

# 企业微信群机器人 (20 messages/min, markdown <= 4096 bytes). Keep the key out of this
# file: put the whole webhook URL in an environment variable.
# [alerts.channels.duty_wecom]
# type = "wecom"
# url_env = "WECOM_WEBHOOK"     # https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...

# 钉钉群机器人 with 加签 (20 messages/min).
# [alerts.channels.leader_dingtalk]
# type = "dingtalk"
# url_env = "DINGTALK_WEBHOOK"  # https://oapi.dingtalk.com/robot/send?access_token=...
# secret_env = "DINGTALK_SECRET"   # SEC...

# 飞书自定义机器人 with 签名校验 (5/s and 100/min).
# [alerts.channels.feishu]
# type = "feishu"
# url_env = "FEISHU_WEBHOOK"    # https://open.feishu.cn/open-apis/bot/v2/hook/...
# secret_env = "FEISHU_SECRET"
# msg_type = "interactive"      # interactive | post | text

# Any JSON endpoint; with a secret the body is signed (X-Yuqing-Signature).
# [alerts.channels.ops]
# type = "webhook"
# url = "https://ops.example.gov.cn/hooks/yuqing"
# secret_env = "OPS_HOOK_SECRET"

# E-mail (plain text).
# [alerts.channels.mail]
# type = "email"
# smtp_host = "smtp.example.gov.cn"
# smtp_port = 465
# smtp_security = "ssl"         # ssl | starttls | none
# username = "yuqing@example.gov.cn"
# password_env = "YUQING_SMTP_PASSWORD"
# from = "yuqing@example.gov.cn"
# to = ["duty@example.gov.cn"]

[[alerts.rules]]                # breaking items: screen and desktop at once
name = "突发"
lanes = ["breaking"]
channels = ["console", "desktop"]

[[alerts.rules]]                # everything else: collected into digests on the screen
name = "汇总"
lanes = ["digest"]
channels = ["console"]

# More rules, e.g. serious incidents in one town to the leaders' group:
# [[alerts.rules]]
# name = "铺镇重大"
# min_severity = "重大"
# towns = ["铺镇"]
# topics = []
# channels = ["leader_dingtalk"]

[alerts.escalation]             # breaking alerts wait for acknowledgement (yuqing alert-ack) and escalate
lanes = ["breaking"]
min_severity = "一般"
# repeat = 0                    # after the last step, run the whole policy again this many times

# More steps after the leader, each `after` minutes after the previous send, to "officer",
# "leader" (on duty when the step fires), "staff:ID" or "channel:NAME"; `repeat` sends the
# same step again that many times:
# [[alerts.escalation.steps]]
# after = 15
# to = ["staff:zhao", "channel:leader_dingtalk"]
# repeat = 1
'''

_TOP_KEYS = {"enabled", "mask_personal", "dedup_window_minutes", "digest_every_minutes", "quiet_hours", "retry",
             "channels", "rules", "escalation", "incident_url", "escalate_after", "duty_channels", "duty_officer",
             "duty_leader"}
_COMMON_CH = {"type", "enabled", "rate_limits", "max_bytes", "timeout", "quiet_hours", "mask_personal"}
_CH_KEYS = {
    "wecom": {"url", "url_env"},
    "dingtalk": {"url", "url_env", "secret", "secret_env"},
    "feishu": {"url", "url_env", "secret", "secret_env", "msg_type"},
    "webhook": {"url", "url_env", "secret", "secret_env", "headers"},
    "email": {"smtp_host", "smtp_port", "smtp_security", "username", "password", "password_env", "from", "to"},
    "desktop": set(),
    "tui": set(),
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour)s?\s*$")
_UNIT = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
_NAME = re.compile(r"^[A-Za-z0-9_\-\u4e00-\u9fff]+$")
_STAFF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")  # as responders.staff checks it


def _incident_url(value: Any) -> str:
    """The desk's own link to an incident: an http(s) URL template with ``{id}``."""
    _type("incident_url", value, str, "a string")
    if not value:
        return ""
    if not re.fullmatch(r"https?://[\x21-\x7e]+", value) or value.count("{id}") != 1 or "(" in value or ")" in value:
        raise _err("incident_url", f"must be an http(s) URL with {{id}} once and no spaces or brackets, "
                                   f"e.g. https://desk.example.gov.cn/incidents/{{id}}, got {value!r}")
    return value


def _err(key: str, message: str) -> AlertConfigError:
    return AlertConfigError(f"{key}: {message}")


def _type(key: str, value: Any, typ, what: str | None = None):
    if isinstance(value, bool) and typ is not bool:
        raise _err(key, f"expected {what or typ}, got {value!r}")
    if not isinstance(value, typ):
        name = what or (typ.__name__ if isinstance(typ, type) else " or ".join(t.__name__ for t in typ))
        raise _err(key, f"expected {name}, got {type(value).__name__} {value!r}")
    return value


#: Upper bounds of the numbers: past them a value is a typo, and a huge one would switch a
#: limit off or overflow a date.
MAX_MINUTES = 7 * 24 * 60  # a week
MAX_SECONDS = 24 * 3600  # a day
MAX_MESSAGE_BYTES = 1024 * 1024


def _number(key: str, value: Any, *, minimum: float = 0, strict: bool = False, maximum: float) -> float:
    _type(key, value, (int, float), "a number")
    if value != value:  # NaN
        raise _err(key, "must be a number, got nan")
    if value < minimum or (strict and value == minimum) or value > maximum:
        low = f"{'>' if strict else '>='} {minimum:g}"
        raise _err(key, f"must be {low} and <= {maximum:g}, got {value!r}")
    return float(value)


def _strings(key: str, value: Any, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    _type(key, value, list, "a list of strings")
    out = []
    for i, v in enumerate(value):
        _type(f"{key}[{i}]", v, str, "a string")
        if allowed is not None and v not in allowed:
            raise _err(f"{key}[{i}]", f"must be one of {', '.join(allowed)}, got {v!r}")
        out.append(v)
    return tuple(out)


def _unknown(key: str, table: Mapping, allowed: set[str]) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise _err(f"{key}.{extra[0]}" if key else extra[0], f"unknown key (known: {', '.join(sorted(allowed))})")


def parse_rate_limits(key: str, value: Any) -> tuple[tuple[int, float], ...]:
    """``["20/min", "5/s", "100/10min"]`` -> ((20, 60.0), (5, 1.0), (100, 600.0))."""
    out = []
    for i, text in enumerate(_strings(key, value)):
        m = _RATE.match(text)
        if not m or int(m.group(1)) < 1:
            raise _err(f"{key}[{i}]", f"expected a limit like \"20/min\" or \"5/s\", got {text!r}")
        period = (int(m.group(2)) if m.group(2) else 1) * _UNIT[m.group(3)]
        if period <= 0:
            raise _err(f"{key}[{i}]", f"period must be positive in {text!r}")
        out.append((int(m.group(1)), float(period)))
    return tuple(out)


def _secret(key: str, table: Mapping, name: str, env: Mapping[str, str], problems: list[str]) -> str:
    """The value of ``name`` or of the environment variable named by ``name_env``."""
    inline, var = table.get(name), table.get(f"{name}_env")
    if inline is not None and var is not None:
        raise _err(f"{key}.{name}_env", f"give either {name} or {name}_env, not both")
    if inline is not None:
        return _type(f"{key}.{name}", inline, str, "a string")
    if var is not None:
        _type(f"{key}.{name}_env", var, str, "an environment variable name")
        value = env.get(var, "")
        if not value:
            problems.append(f"{key}.{name}_env: environment variable {var} is not set")
        return value
    return ""


def _channel(name: str, table: Any, env: Mapping[str, str], mask_default: bool) -> ChannelConfig:
    key = f"channels.{name}"
    if not _NAME.match(name):
        raise _err(key, "channel names use letters, digits, '_' or '-'")
    _type(key, table, dict, "a table")
    ctype = table.get("type")
    if ctype is None:
        raise _err(f"{key}.type", f"is missing (one of {', '.join(CHANNEL_TYPES)})")
    if ctype not in CHANNEL_TYPES:
        raise _err(f"{key}.type", f"must be one of {', '.join(CHANNEL_TYPES)}, got {ctype!r}")
    _unknown(key, table, _COMMON_CH | _CH_KEYS[ctype])
    problems: list[str] = []
    kw: dict[str, Any] = {}
    if "url" in _CH_KEYS[ctype]:
        url = _secret(key, table, "url", env, problems)
        if url and not re.match(r"^https?://[^\s/]+", url):
            raise _err(f"{key}.url", "must be an http(s) URL")  # the value itself may be secret: not echoed
        if not url and not problems:
            raise _err(f"{key}.url", "is missing (or give url_env)")
        kw["url"] = url
    if "secret" in _CH_KEYS[ctype]:
        kw["secret"] = _secret(key, table, "secret", env, problems)
    if ctype == "feishu":
        mt = table.get("msg_type", "interactive")
        if mt not in ("interactive", "text", "post"):
            raise _err(f"{key}.msg_type", f"must be interactive, text or post, got {mt!r}")
        kw["msg_type"] = mt
    if ctype == "webhook" and "headers" in table:
        headers = _type(f"{key}.headers", table["headers"], dict, "a table of strings")
        for h, v in headers.items():
            _type(f"{key}.headers.{h}", v, str, "a string")
        kw["headers"] = dict(headers)
    if ctype == "email":
        for req in ("smtp_host", "from", "to"):
            if req not in table:
                raise _err(f"{key}.{req}", "is missing")
        kw["smtp_host"] = _type(f"{key}.smtp_host", table["smtp_host"], str, "a string")
        port = table.get("smtp_port", 0)
        _type(f"{key}.smtp_port", port, int, "an integer")
        if not 0 <= port <= 65535:
            raise _err(f"{key}.smtp_port", f"must be a TCP port 0..65535 (0: the default), got {port}")
        if not 0 <= port <= 65535:
            raise _err(f"{key}.smtp_port", f"must be 1-65535, got {port}")
        kw["smtp_port"] = port
        sec = table.get("smtp_security", "starttls")
        if sec not in ("starttls", "ssl", "none"):
            raise _err(f"{key}.smtp_security", f"must be ssl, starttls or none, got {sec!r}")
        kw["smtp_security"] = sec
        kw["username"] = _type(f"{key}.username", table.get("username", ""), str, "a string")
        kw["password"] = _secret(key, table, "password", env, problems)
        kw["mail_from"] = _type(f"{key}.from", table["from"], str, "a string")
        kw["mail_to"] = _strings(f"{key}.to", table["to"])
        if not kw["mail_to"]:
            raise _err(f"{key}.to", "needs at least one address")
        for i, addr in enumerate((kw["mail_from"],) + kw["mail_to"]):
            if "@" not in addr:
                raise _err(f"{key}.{'from' if i == 0 else 'to'}", f"not an e-mail address: {addr!r}")
    kw["rate_limits"] = (parse_rate_limits(f"{key}.rate_limits", table["rate_limits"])
                         if "rate_limits" in table else DEFAULT_RATE_LIMITS[ctype])
    kw["max_bytes"] = int(_number(f"{key}.max_bytes", table.get("max_bytes", DEFAULT_MAX_BYTES[ctype]), minimum=256,
                                maximum=MAX_MESSAGE_BYTES))
    if ctype == "wecom" and kw["max_bytes"] > 4096:
        raise _err(f"{key}.max_bytes", "企业微信 accepts at most 4096 bytes of markdown")
    kw["timeout"] = _number(f"{key}.timeout", table.get("timeout", 10), minimum=0, strict=True, maximum=600)
    kw["honours_quiet_hours"] = _type(f"{key}.quiet_hours", table.get("quiet_hours", ctype != "tui"), bool, "true or false")
    kw["mask_personal"] = _type(f"{key}.mask_personal", table.get("mask_personal", mask_default), bool, "true or false")
    if not _type(f"{key}.enabled", table.get("enabled", True), bool, "true or false"):
        problems.insert(0, "已停用 (enabled = false)")
    return ChannelConfig(name=name, type=ctype, problem="; ".join(problems), **kw)


def _quiet(value: Any) -> QuietHours | None:
    key = "quiet_hours"
    if isinstance(value, str):
        value = {"range": value}
    _type(key, value, dict, "a table or a \"22:00-07:00\" string")
    _unknown(key, value, {"range", "timezone", "breaking_pierces", "enabled"})
    if not _type(f"{key}.enabled", value.get("enabled", True), bool, "true or false"):
        return None
    if "range" not in value:
        raise _err(f"{key}.range", "is missing (e.g. \"22:00-07:00\")")
    rng = _type(f"{key}.range", value["range"], str, "a string")
    try:
        start, end = parse_quiet_range(rng)
    except AlertConfigError as exc:
        raise _err(f"{key}.range", str(exc)) from None
    tzname = _type(f"{key}.timezone", value.get("timezone", "Asia/Shanghai"), str, "a string")
    try:
        tz = ZoneInfo(tzname)
    except (ZoneInfoNotFoundError, ValueError):
        raise _err(f"{key}.timezone", f"unknown time zone {tzname!r}") from None
    pierce = _type(f"{key}.breaking_pierces", value.get("breaking_pierces", True), bool, "true or false")
    return QuietHours(start=start, end=end, tz=tz, breaking_pierces=pierce, text=rng)


def _rules(value: Any) -> tuple[Rule, ...]:
    _type("rules", value, list, "an array of tables ([[alerts.rules]])")
    out = []
    for i, r in enumerate(value):
        key = f"rules[{i}]"
        _type(key, r, dict, "a table")
        _unknown(key, r, {"name", "channels", "lanes", "min_severity", "topics", "towns"})
        name = _type(f"{key}.name", r.get("name", f"rule{i + 1}"), str, "a string")
        if "channels" not in r:
            raise _err(f"{key}.channels", "is missing")
        sev = r.get("min_severity", "一般")
        if sev not in SEVERITIES:
            raise _err(f"{key}.min_severity", f"must be one of {'/'.join(SEVERITIES)}, got {sev!r}")
        out.append(Rule(name=name, channels=_strings(f"{key}.channels", r["channels"]),
                        lanes=_strings(f"{key}.lanes", r.get("lanes", list(LANES)), LANES), min_severity=sev,
                        topics=_strings(f"{key}.topics", r.get("topics", [])),
                        towns=_strings(f"{key}.towns", r.get("towns", []))))
    return tuple(out)


#: At most this many sends per alert once the policy is unrolled (steps x repeats).
MAX_ESCALATION_SENDS = 50
MAX_REPEAT = 10
_TARGET_HELP = ('"officer", "leader", "staff:ID" or "channel:NAME"')


def _targets(key: str, value: Any, channels: Mapping[str, ChannelConfig]) -> tuple[str, ...]:
    """``to = "leader"`` or ``to = ["staff:zhao", "channel:dingtalk"]``, each checked."""
    out = _strings(key, value)
    if not out:
        raise _err(key, f"needs at least one target ({_TARGET_HELP})")
    for i, t in enumerate(out):
        where = f"{key}[{i}]" if not isinstance(value, str) else key
        kind, _, name = t.partition(":")
        if t in PERSON_TARGETS:
            continue
        if kind == "staff" and _STAFF_ID.match(name):
            continue
        if kind == "channel" and name:
            if name not in channels:
                raise _err(where, f"channel {name!r} is not defined under [alerts.channels]")
            continue
        raise _err(where, f"must be {_TARGET_HELP}, got {t!r}")
    return out


def _repeat(key: str, value: Any) -> int:
    _type(key, value, int, "a whole number")
    if not 0 <= value <= MAX_REPEAT:
        raise _err(key, f"must be 0..{MAX_REPEAT} (times the step is sent again), got {value}")
    return value


def _escalation(value: Any, escalate_after: float, channels: Mapping[str, ChannelConfig]) -> EscalationPolicy:
    """The policy unrolled: the leader step of ``escalate_after`` first, then each of
    ``[[alerts.escalation.steps]]`` (``after`` minutes, ``to``, ``repeat``; or written as
    ``[[alerts.escalation]]`` tables), the whole list ``repeat`` more times. ``[[alerts.escalation.tiers]]`` (``after_minutes``,
    ``channels``) is the older form of channel-only steps."""
    key = "escalation"
    steps_key = f"{key}.steps"
    if isinstance(value, list):  # [[alerts.escalation]] tables: the steps, with the default lanes
        value, steps_key = {"steps": value}, key
    _type(key, value, dict, "a table")
    _unknown(key, value, {"tiers", "steps", "lanes", "min_severity", "repeat"})
    sev = value.get("min_severity", "一般")
    if sev not in SEVERITIES:
        raise _err(f"{key}.min_severity", f"must be one of {'/'.join(SEVERITIES)}, got {sev!r}")
    if "tiers" in value and "steps" in value:
        raise _err(f"{key}.tiers", "give [[alerts.escalation.steps]] or the older tiers, not both")
    steps: list[EscalationStep] = []
    if escalate_after:
        steps.append(EscalationStep(after_minutes=escalate_after, targets=("leader",)))
    raw = value.get("tiers", [])
    _type(f"{key}.tiers", raw, list, "an array of tables ([[alerts.escalation.tiers]])")
    for i, t in enumerate(raw):
        tkey = f"{key}.tiers[{i}]"
        _type(tkey, t, dict, "a table")
        _unknown(tkey, t, {"after_minutes", "channels"})
        for req in ("after_minutes", "channels"):
            if req not in t:
                raise _err(f"{tkey}.{req}", "is missing")
        after = _number(f"{tkey}.after_minutes", t["after_minutes"], strict=True, maximum=MAX_MINUTES)
        names = _strings(f"{tkey}.channels", t["channels"])
        for ch in names:
            if ch not in channels:
                raise _err(f"{tkey}.channels", f"channel {ch!r} is not defined under [alerts.channels]")
        steps.append(EscalationStep(after_minutes=after, targets=tuple(f"channel:{c}" for c in names)))
    raw = value.get("steps", [])
    _type(steps_key, raw, list, "an array of tables ([[alerts.escalation.steps]])")
    for i, t in enumerate(raw):
        tkey = f"{steps_key}[{i}]"
        _type(tkey, t, dict, "a table")
        _unknown(tkey, t, {"after", "to", "repeat"})
        for req in ("after", "to"):
            if req not in t:
                raise _err(f"{tkey}.{req}", "is missing" + (f" ({_TARGET_HELP})" if req == "to" else
                                                            " (minutes after the previous send)"))
        step = EscalationStep(after_minutes=_number(f"{tkey}.after", t["after"], strict=True, maximum=MAX_MINUTES),
                              targets=_targets(f"{tkey}.to", t["to"], channels))
        steps.extend([step] * (1 + _repeat(f"{tkey}.repeat", t.get("repeat", 0))))
    steps = steps * (1 + _repeat(f"{key}.repeat", value.get("repeat", 0)))
    if len(steps) > MAX_ESCALATION_SENDS:
        raise _err(f"{key}.repeat", f"the policy unrolls to {len(steps)} sends per alert; at most "
                                    f"{MAX_ESCALATION_SENDS} (fewer steps or repeats)")
    return EscalationPolicy(steps=tuple(steps),
                            lanes=_strings(f"{key}.lanes", value.get("lanes", ["breaking"]), LANES), min_severity=sev)


def _staff_id(key: str, value: Any) -> str:
    _type(key, value, str, "a staff id")
    if value and not _STAFF_ID.match(value):
        raise _err(key, f"not a staff id (see `yuqing staff list`), got {value!r}")
    return value


def _retry(value: Any) -> RetryPolicy:
    _type("retry", value, dict, "a table")
    _unknown("retry", value, {"max_attempts", "base_seconds", "max_seconds"})
    attempts = value.get("max_attempts", 5)
    _type("retry.max_attempts", attempts, int, "an integer")
    if attempts < 1:
        raise _err("retry.max_attempts", f"must be >= 1, got {attempts}")
    if attempts > 100:
        raise _err("retry.max_attempts", f"must be <= 100, got {attempts}")
    base = _number("retry.base_seconds", value.get("base_seconds", 5), minimum=0, strict=True, maximum=MAX_SECONDS)
    cap = _number("retry.max_seconds", value.get("max_seconds", 300), minimum=0, strict=True, maximum=MAX_SECONDS)
    if cap < base:
        raise _err("retry.max_seconds", f"must be >= base_seconds ({base:g}), got {cap:g}")
    return RetryPolicy(max_attempts=attempts, base_seconds=base, max_seconds=cap)


def parse_alerts_config(table: Mapping[str, Any] | None, *, env: Mapping[str, str] | None = None,
                        require_secrets: bool = False) -> AlertsConfig:
    """Validate the ``[alerts]`` table. ``env`` defaults to ``os.environ``.

    With ``require_secrets`` an unset ``*_env`` variable is an error; otherwise the
    channel carries it as ``problem`` and the dispatcher skips it.
    """
    if table is None:
        table = {}
    _type("[alerts]", table, dict, "a table")
    env = os.environ if env is None else env
    _unknown("", table, _TOP_KEYS)
    mask = _type("mask_personal", table.get("mask_personal", True), bool, "true or false")
    channels: dict[str, ChannelConfig] = {}
    raw_channels = _type("channels", table.get("channels", {}), dict, "a table of channels")
    for name, ch in raw_channels.items():
        channels[name] = _channel(name, ch, env, mask)
    if require_secrets:
        for ch in channels.values():
            if ch.problem and "enabled = false" not in ch.problem:
                raise AlertConfigError(ch.problem)
    rules = _rules(table.get("rules", []))
    check_rules(rules, channels)
    escalate_after = _number("escalate_after", table.get("escalate_after", 0), maximum=MAX_MINUTES)
    escalation = _escalation(table.get("escalation", {}), escalate_after, channels)
    duty_channels = _strings("duty_channels", table.get("duty_channels", []))
    for i, ch in enumerate(duty_channels):
        if ch not in channels:
            raise _err(f"duty_channels[{i}]", f"channel {ch!r} is not defined under [alerts.channels]")
    quiet = _quiet(table["quiet_hours"]) if "quiet_hours" in table else None
    dedup = _number("dedup_window_minutes", table.get("dedup_window_minutes", 30), maximum=MAX_MINUTES)
    digest = _number("digest_every_minutes", table.get("digest_every_minutes", 60), maximum=MAX_MINUTES)
    return AlertsConfig(
        channels=channels, rules=rules, quiet_hours=quiet, dedup_window=timedelta(minutes=dedup),
        digest_every=timedelta(minutes=digest), escalation=escalation,
        retry=_retry(table.get("retry", {})), mask_personal=mask,
        incident_url=_incident_url(table.get("incident_url", "")),
        enabled=_type("enabled", table.get("enabled", True), bool, "true or false"),
        duty_channels=duty_channels, duty_officer=_staff_id("duty_officer", table.get("duty_officer", "")),
        duty_leader=_staff_id("duty_leader", table.get("duty_leader", "")),
    )


def load_default() -> AlertsConfig:
    """The parsed ``DEFAULT_ALERTS_TOML`` (what a fresh desk runs with)."""
    from storage.tomlfile import parse_toml

    return parse_alerts_config(parse_toml(DEFAULT_ALERTS_TOML, "default [alerts]")["alerts"])
