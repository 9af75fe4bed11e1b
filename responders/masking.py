"""Mask personal data and scrub secrets before text leaves the desk.

``mask_personal(text)`` masks mainland mobile numbers (138****5678), landlines
(0916-****567), 18-digit resident ID numbers (610702********123X) and e-mail
local parts (z***@example.com). ``scrub_secrets(obj)`` replaces values whose
key looks secret (token, secret, password, key, sign, webhook ...) by "***"
and removes ``access_token=``/``key=``/``sign=`` query values from URLs in text.
Both are pure and used by exports and alerts.
"""
from __future__ import annotations

import re
from typing import Any

_ID = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(\+?86[- ]?)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})([- ])(\d{3,4})(\d{3,4})(?!\d)")
_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])([A-Za-z0-9._%+-]*)(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
_SECRET_QS = re.compile(r"(?i)([?&](?:access_token|token|key|secret|sign|signature|password|pwd)=)[^&#\s\"'<>]+")
_SECRET_KEYS = re.compile(
    r"(?i)(secret|token|password|passwd|(api|access|app|secret)[_-]?key|^sign$|signature|webhook|credential)")


def mask_personal(text: str | None) -> str:
    if not text:
        return text or ""
    text = _ID.sub(lambda m: m.group(1) + "*" * 8 + m.group(3), text)
    text = _MOBILE.sub(lambda m: (m.group(1) or "") + m.group(2) + "****" + m.group(4), text)
    text = _LANDLINE.sub(lambda m: m.group(1) + m.group(2) + "*" * len(m.group(3)) + m.group(4), text)
    text = _EMAIL.sub(lambda m: m.group(1) + "***" + m.group(3), text)
    return text


def scrub_url_secrets(text: str | None) -> str:
    if not text:
        return text or ""
    return _SECRET_QS.sub(lambda m: m.group(1) + "***", text)


def scrub_secrets(obj: Any) -> Any:
    """A copy of a JSON-like value with secret-looking keys' values replaced by '***'."""
    if isinstance(obj, dict):
        return {k: ("***" if isinstance(k, str) and _SECRET_KEYS.search(k) and v not in (None, "") else scrub_secrets(v))
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [scrub_secrets(v) for v in obj]
    if isinstance(obj, str):
        return scrub_url_secrets(obj)
    return obj


def clean(obj: Any, *, mask: bool = True) -> Any:
    """Scrub secrets and (by default) mask personal data in every string of a JSON-like value."""
    obj = scrub_secrets(obj)
    if not mask:
        return obj
    if isinstance(obj, dict):
        return {k: clean(v, mask=True) for k, v in obj.items()}
    if isinstance(obj, list):
        return [clean(v, mask=True) for v in obj]
    if isinstance(obj, str):
        return mask_personal(obj)
    return obj
