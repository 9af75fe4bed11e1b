"""Keep secrets out of logs, errors and exports; mask personal data in alert text.

``redact(text, secrets)`` removes webhook keys, access tokens, signatures and any
known secret value from a string. ``mask_personal(text)`` masks mobile numbers,
18-digit resident ID numbers and landlines (URLs are left intact so links still
work). ``RedactingFilter`` applies ``redact`` to every record of a logger.
"""
from __future__ import annotations

import logging
import re
from typing import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

MASK = "***"

_QUERY_SECRET = re.compile(
    r"(?i)(?<![A-Za-z0-9_])(access_token|accesstoken|token|key|sign|signature|secret|password|passwd|pwd|"
    r"api_key|apikey|webhook_key)=([^&\s\"'<>#]+)")
_JSON_SECRET = re.compile(
    r"(?i)([\"'](?:sign|secret|token|access_token|password|key)[\"']\s*:\s*[\"'])([^\"']*)([\"'])")
_FEISHU_HOOK = re.compile(r"(/open-apis/bot/v2/hook/)[A-Za-z0-9_-]+")
_DINGTALK_SECRET = re.compile(r"\bSEC[0-9a-fA-F]{32,}\b")
_AUTH_HEADER = re.compile(r"(?i)((?:proxy-)?authorization\s*[:=]\s*)(?:(bearer|basic|token)\s+)?[^\s,;'\"]+")
_URL_USERINFO = re.compile(r"(://)[^/\s:@]+:[^/\s@]+@")


def _variants(secret: str) -> set[str]:
    """A secret as it may appear: raw, URL-quoted, and, for URLs, each query value."""
    out = {secret, quote(secret, safe=""), quote_plus(secret)}
    if "://" in secret:
        try:
            parts = urlsplit(secret)
        except ValueError:
            parts = None
        if parts is not None:
            for _, value in parse_qsl(parts.query, keep_blank_values=False):
                if len(value) >= 6:
                    out |= {value, quote(value, safe=""), quote_plus(value)}
            tail = parts.path.rstrip("/").rsplit("/", 1)[-1]
            if len(tail) >= 16:  # e.g. the feishu hook id in the path
                out.add(tail)
    return {v for v in out if len(v) >= 4}


def redact(text: object, secrets: Iterable[str] = ()) -> str:
    """``text`` as a string with every secret value and token-like parameter replaced by ***."""
    s = str(text)
    values: set[str] = set()
    for secret in secrets:
        if secret:
            values |= _variants(secret)
    for value in sorted(values, key=len, reverse=True):
        if value in s:
            s = s.replace(value, MASK)
    s = _QUERY_SECRET.sub(lambda m: f"{m.group(1)}={MASK}", s)
    s = _JSON_SECRET.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", s)
    s = _FEISHU_HOOK.sub(lambda m: m.group(1) + MASK, s)
    s = _DINGTALK_SECRET.sub(MASK, s)
    s = _AUTH_HEADER.sub(lambda m: m.group(1) + (m.group(2) + " " if m.group(2) else "") + MASK, s)
    s = _URL_USERINFO.sub(lambda m: m.group(1) + MASK + "@", s)
    return s


# ---------------------------------------------------------------- personal data

_URL = re.compile(r"https?://[^\s<>\"'）)\]】]+")
_ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])([1-9]\d{5})((?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(\d{3}[0-9Xx])"
    r"(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z])((?:\+?86[- ]?)?1[3-9]\d)([- ]?)(\d{4})([- ]?)(\d{4})(?![0-9A-Za-z])")
_LANDLINE = re.compile(
    r"(?<![0-9A-Za-z])(\(0\d{2,3}\)\s?|（0\d{2,3}）|0\d{2,3}[- ])(\d{3,4})(-?)(\d{4})(?!\d)"
    r"|(?<![0-9A-Za-z])(0\d{2,3})(\d{3,4})(\d{4})(?![0-9A-Za-z])")


def _mask_id(m: re.Match) -> str:
    region, birth, tail = m.group(1), m.group(2), m.group(3)
    return region[:4] + "*" * (len(region) - 4 + len(birth) + len(tail) - 4) + tail[-4:]


def _mask_mobile(m: re.Match) -> str:
    return f"{m.group(1)}{m.group(2)}****{m.group(4)}{m.group(5)}"


def _mask_landline(m: re.Match) -> str:
    if m.group(1) is not None:
        return f"{m.group(1)}{'*' * len(m.group(2))}{m.group(3)}{m.group(4)}"
    area, mid, tail = m.group(5), m.group(6), m.group(7)
    if len(area) + len(mid) + len(tail) not in (11, 12):
        return m.group(0)
    return f"{area}{'*' * len(mid)}{tail}"


def _mask_plain(s: str) -> str:
    s = _ID_NUMBER.sub(_mask_id, s)
    s = _MOBILE.sub(_mask_mobile, s)
    s = _LANDLINE.sub(_mask_landline, s)
    return s


def mask_personal(text: str) -> str:
    """Mask phone numbers, ID numbers and landlines outside URLs.

    ``13812345678`` -> ``138****5678``; ``610702199001011234`` -> ``6107**********1234``;
    ``0916-2345678`` -> ``0916-***5678``.
    """
    if not text:
        return text
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        out.append(_mask_plain(text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_mask_plain(text[pos:]))
    return "".join(out)


# ---------------------------------------------------------------- logging

class RedactingFilter(logging.Filter):
    """Rewrite each record's message (args merged) with ``redact``; install on a
    logger or handler: ``logger.addFilter(RedactingFilter(cfg.secrets()))``."""

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.secrets)
            record.exc_info = None
        return True
