"""Keep secrets out of logs, errors and exports.

``redact(text, secrets)`` removes webhook keys, access tokens, signatures and any
known secret value from a string. ``RedactingFilter`` applies ``redact`` to every
record of a logger. ``mask_personal`` is the desk's one personal-data masker,
re-exported from :mod:`responders.masking` (alerts and exports mask alike).
"""
from __future__ import annotations

import logging
import re
from typing import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

from responders.masking import mask_personal

MASK = "***"

__all__ = ["MASK", "RedactingFilter", "mask_personal", "redact"]

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
