"""Canonical URLs: one spelling per resource, so the same page from two feeds is one item."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that track the reader, not the resource.
TRACKING_PARAMS = frozenset({
    "spm", "from", "isappinstalled", "wfr", "share_token", "share_from", "share_source",
    "timestamp", "sharer_shareinfo", "sharer_shareinfo_first", "scene", "clicktime",
    "enterid", "sessionid", "subscene", "vid_source", "fbclid", "gclid", "yclid",
    "mc_cid", "mc_eid", "_hsenc", "_hsmi", "ref", "ref_src", "refer", "source",
})
DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str | None) -> str | None:
    """Lower-case scheme and host, drop default ports, fragments and tracking
    parameters, sort the rest. Returns None for anything that is not http(s)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if port and DEFAULT_PORTS.get(scheme) != port:
        host = f"{host}:{port}"
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith("utm_")
    ]
    query.sort()
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))
