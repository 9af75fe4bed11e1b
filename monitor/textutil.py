"""Links found in parsed items: only usable http(s)/ftp links leave the parsers. (HTML to
text and whitespace clean-up: :mod:`classifiers.htmltext`.)"""
from __future__ import annotations

import re

__all__ = ["clean_link"]

_SAFE_SCHEMES = ("http", "https", "ftp")
_LINK_JUNK = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def clean_link(link, base: str | None = None) -> str | None:
    """A usable link or None: controls and whitespace removed, resolved against
    ``base``, only http(s)/ftp (or relative when there is no base)."""
    if not isinstance(link, str):
        return None
    link = _LINK_JUNK.sub("", link.strip().replace(" ", "%20"))
    if not link or len(link) > 4096:
        return None
    from urllib.parse import urljoin, urlsplit

    try:
        if base:
            link = urljoin(base, link)
        scheme = urlsplit(link).scheme.lower()
    except ValueError:
        return None
    if scheme and scheme not in _SAFE_SCHEMES:
        return None  # javascript:, data:, file:, mailto: ...
    if not scheme and (link.startswith("#") or ":" in link.split("/", 1)[0]):
        return None
    return link
