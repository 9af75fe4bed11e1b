"""The desk's one secret scrubber: which names hold secrets (:func:`is_secret_param` for URL
query parameters and ``name=value`` text, :func:`is_secret_field` for fields of records) and
:func:`scrub_text` / :func:`scrub_record`, which replace secret values with ``***``. Used for
fetch errors and log lines (monitor), alert messages and exports (responders)."""
from __future__ import annotations

import re
from typing import Any, Iterable
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

MASK = "***"

#: Names whose values are secrets wherever they appear as ``name=value``.
SECRET_NAMES = frozenset({
    "access_token", "accesstoken", "token", "key", "apikey", "api_key", "appkey", "app_key", "secret",
    "client_secret", "appsecret", "app_secret", "sign", "signature", "sig", "password", "passwd", "pwd",
    "auth", "authorization", "ticket", "sessionid", "session", "sid", "jwt", "code", "private_token",
    "accesskey", "access_key", "secretkey", "secret_key", "webhook_key", "credential", "credentials",
})
#: A name ending in one of these holds a secret too (``myToken``, ``app-secret``, ``auth_code``).
SECRET_SUFFIXES = ("token", "secret", "key", "sign", "signature", "sig", "password", "passwd", "pwd",
                   "auth", "ticket", "sid", "code")
# In a record (an export, an alert's data) these short names usually mean something else (a
# rate-limit key, a place code), so as fields they count only with a telling word around them.
_AMBIGUOUS_FIELDS = frozenset({"key", "code", "session", "sid", "auth", "sig", "ticket"})
_FIELD_WORDS = re.compile(
    r"secret|token|password|passwd|credential|webhook|signature|authorization|(?:api|access|app|secret|private)[_-]?key")

_PAIR = re.compile(r"(?<![A-Za-z0-9_\-])([A-Za-z][A-Za-z0-9_\-]*)=([^&\s\"'<>#]+)")
_JSON_PAIR = re.compile(r"([\"']([A-Za-z][A-Za-z0-9_\-]*)[\"']\s*:\s*[\"'])([^\"']*)([\"'])")
_FEISHU_HOOK = re.compile(r"(/open-apis/bot/v2/hook/)[A-Za-z0-9_-]+")
_DINGTALK_SECRET = re.compile(r"\bSEC[0-9a-fA-F]{32,}\b")
_AUTH_HEADER = re.compile(r"(?i)((?:proxy-)?authorization\s*[:=]\s*)(?:(bearer|basic|token)\s+)?[^\s,;&'\"]+")
_USERINFO = re.compile(r"(//)[^/\s@]+@")


def is_secret_param(name: str) -> bool:
    """Whether a URL query parameter or a ``name=value`` pair named ``name`` holds a secret."""
    n = name.strip().lower()
    return n in SECRET_NAMES or n.endswith(SECRET_SUFFIXES)


def is_secret_field(name: str) -> bool:
    """Whether a record field named ``name`` holds a secret."""
    n = name.strip().lower()
    if n in _AMBIGUOUS_FIELDS:
        return False
    return n in SECRET_NAMES or bool(_FIELD_WORDS.search(n))


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


def scrub_text(text: object, secrets: Iterable[str] = ()) -> str:
    """``text`` as a string with every known secret value (``secrets``, also URL-quoted) and
    every secret-looking parameter, JSON value, Authorization header, URL user:password,
    robot webhook id and signing secret replaced by ``***``."""
    s = "" if text is None else str(text)
    values: set[str] = set()
    for secret in secrets:
        if secret:
            values |= _variants(secret)
    for value in sorted(values, key=len, reverse=True):
        if value in s:
            s = s.replace(value, MASK)
    if "=" in s:
        s = _PAIR.sub(lambda m: f"{m.group(1)}={MASK}" if is_secret_param(m.group(1)) else m.group(0), s)
    if ":" in s:
        s = _JSON_PAIR.sub(lambda m: f"{m.group(1)}{MASK}{m.group(4)}" if is_secret_param(m.group(2))
                           else m.group(0), s)
    s = _FEISHU_HOOK.sub(lambda m: m.group(1) + MASK, s)
    s = _DINGTALK_SECRET.sub(MASK, s)
    s = _AUTH_HEADER.sub(lambda m: m.group(1) + (m.group(2) + " " if m.group(2) else "") + MASK, s)
    return _USERINFO.sub(lambda m: m.group(1) + MASK + "@", s)


def scrub_record(obj: Any) -> Any:
    """A copy of a JSON-like value: secret fields' values replaced by ``***`` and every string
    scrubbed with :func:`scrub_text`."""
    if isinstance(obj, dict):
        return {k: (MASK if isinstance(k, str) and is_secret_field(k) and v not in (None, "") else scrub_record(v))
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [scrub_record(v) for v in obj]
    if isinstance(obj, str):
        return scrub_text(obj)
    return obj
