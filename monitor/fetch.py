"""HTTP fetching for the collectors: one shared aiohttp session, polite and bounded.

- Conditional GET (If-None-Match / If-Modified-Since); 304 comes back as a result.
- Redirects are followed here, hop by hop (``allow_redirects=False``), so chains and loops
  are bounded by ``max_redirects``; relative ``Location`` values are resolved. A redirect
  may not lead to a loopback, link-local, private or otherwise internal address (the desk's
  own network) unless the source's own URL is one: a desk may watch an intranet site on
  purpose, but a public site must not steer it inside. Errors never quote a response body.
- The body is read in chunks and stops at ``max_bytes`` *decompressed* bytes (gzip bombs).
- Per host: at most ``per_host_concurrency`` requests at once and at least
  ``per_host_spacing`` seconds between request starts; overall ``total_concurrency``.
  The per-host slot is taken before the global one, so a hanging host only ever holds its
  own slots and never delays another host.
- Every expected failure is one of :mod:`monitor.exceptions`; messages are one line, name
  the URL with credentials removed (:func:`redact_url`).
"""
from __future__ import annotations

import asyncio
import http
import ipaddress
import socket
import math
import time
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Callable, Mapping
from urllib.parse import urljoin, urlsplit

from common.secrets import is_secret_param, scrub_text
from monitor.exceptions import (
    ConnectError,
    FetchTimeout,
    HTTPStatusError,
    ResponseTooLarge,
    RetrieveError,
    TooManyRedirects,
)
from monitor.types import FetchResult

if TYPE_CHECKING:  # pragma: no cover
    import aiohttp

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.9, "
    "text/html;q=0.8, application/xhtml+xml;q=0.8, */*;q=0.5"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CROSS_ORIGIN_DROP = ("authorization", "cookie", "proxy-authorization")
_MAX_URL_IN_MESSAGE = 200
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchPolicy:
    connect_timeout: float = 10
    read_timeout: float = 20
    total_timeout: float = 45
    max_bytes: int = 8 * 1024 * 1024
    max_redirects: int = 5
    per_host_concurrency: int = 2
    per_host_spacing: float = 0.5  # seconds between request starts to one host
    total_concurrency: int = 100
    user_agent: str = "YuqingDesk/0.1 (+public-opinion monitor)"
    trust_env: bool = False  # honour HTTP(S)_PROXY / NO_PROXY from the environment

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "user_agent":
                if not isinstance(value, str) or not value.strip():
                    raise ValueError(f"FetchPolicy.user_agent: must be a non-empty string, got {value!r}")
                continue
            if f.name == "trust_env":
                continue
            whole = f.name in _WHOLE_FIELDS
            if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
                kind = "a whole number" if whole else "a number"
                raise ValueError(f"FetchPolicy.{f.name}: must be {kind}, got {value!r}")
            if f.name in _MAY_BE_ZERO:
                if not value >= 0:
                    raise ValueError(f"FetchPolicy.{f.name}: must be zero or more, got {value!r}")
            elif not value > 0:
                raise ValueError(f"FetchPolicy.{f.name}: must be positive, got {value!r}")


_WHOLE_FIELDS = frozenset({"max_bytes", "max_redirects", "per_host_concurrency", "total_concurrency"})
_MAY_BE_ZERO = frozenset({"per_host_spacing", "max_redirects"})


# -- helpers (pure) ---------------------------------------------------------------

def redact_url(url: str | None) -> str:
    """The URL fit for a log line or an error message: no user:password, secret query
    values masked as ``***``, no fragment, no control characters, at most 200 characters."""
    if not url:
        return "<no URL>"
    text = "".join(ch for ch in str(url).strip() if ch.isprintable() and not ch.isspace())
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    query = parts.query
    if query:
        masked = []
        for pair in query.split("&"):
            name, sep, _value = pair.partition("=")
            masked.append(f"{name}=***" if sep and is_secret_param(name) else pair)
        query = "&".join(masked)
    out = f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else f"{netloc}{parts.path}"
    if query:
        out += "?" + query
    if len(out) > _MAX_URL_IN_MESSAGE:
        out = out[: _MAX_URL_IN_MESSAGE - 1] + "…"
    return out


def _scrub(text: str, url: str) -> str:
    """One line of library-provided text, with any credentials it might quote removed."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in str(text)).split())
    if url:
        text = text.replace(url, redact_url(url))
    text = scrub_text(text)
    return text if len(text) <= 160 else text[:159] + "…"


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from ``now`` that a ``Retry-After`` header asks for (delta-seconds or an
    HTTP-date); None when absent or unreadable. Never negative."""
    if not value:
        return None
    v = value.strip()
    try:
        seconds = float(v)
    except ValueError:
        seconds = None
    if seconds is not None:
        if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
            return None
        return seconds
    try:
        when = parsedate_to_datetime(v)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    return f"{(parts.hostname or '').lower()}:{port}"


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), _host_key(url)


def _status_phrase(status: int, reason: str | None) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return " ".join("".join(c for c in (reason or "") if c.isprintable()).split())[:60]


@dataclass
class _HostGate:
    sem: asyncio.Semaphore
    next_start: float = 0.0


@dataclass
class _Hop:
    status: int
    headers: Any  # CIMultiDictProxy
    body: bytes | None
    reason: str | None


@dataclass
class _State:
    deadline: float | None = None
    started: float | None = None
    source_internal: bool | None = None  # decided at the first redirect


_RESOLVE_TIMEOUT = 5.0


def _internal_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_unspecified
            or ip.is_reserved or ip.is_multicast or ip in _SHARED_NET)


_SHARED_NET = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not the public internet


async def _is_internal(url: str) -> bool:
    """Does ``url``'s host name an internal address? IP literals are read as such; names (and
    legacy forms such as ``127.1`` or ``0x7f000001``) are resolved, and any internal address
    counts. A name that does not resolve is not internal (the request will fail anyway)."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if not host:
        return False
    try:
        return _internal_ip(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host == "localhost" or host.endswith(".localhost"):
        return True
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), _RESOLVE_TIMEOUT)
    except (OSError, UnicodeError, TimeoutError):
        return False
    for info in infos:
        try:
            if _internal_ip(ipaddress.ip_address(info[4][0].split("%", 1)[0])):
                return True
        except ValueError:
            continue
    return False


async def _source_internal(url: str, state: _State) -> bool:
    if state.source_internal is None:
        state.source_internal = await _is_internal(url)
    return state.source_internal


# -- the fetcher ------------------------------------------------------------------

class Fetcher:
    """``async with Fetcher(policy) as f: result = await f.fetch(url, etag=...)``.

    One instance per event loop; safe to call ``fetch`` from many tasks at once.
    ``clock`` (UTC now) is only used to read HTTP-date ``Retry-After`` values.
    """

    def __init__(self, policy: FetchPolicy = FetchPolicy(), *,
                 clock: Callable[[], datetime] | None = None):
        self.policy = policy
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._session: aiohttp.ClientSession | None = None
        self._hosts: dict[str, _HostGate] = {}
        self._total: asyncio.Semaphore | None = None

    async def __aenter__(self) -> "Fetcher":
        await self._open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _open(self) -> None:
        if self._session is not None:
            return
        import aiohttp

        p = self.policy
        timeout = aiohttp.ClientTimeout(
            total=p.total_timeout, sock_connect=p.connect_timeout, sock_read=p.read_timeout
        )
        connector = aiohttp.TCPConnector(
            limit=p.total_concurrency, limit_per_host=p.per_host_concurrency, ttl_dns_cache=300
        )
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=True, trust_env=p.trust_env,
            headers={"User-Agent": p.user_agent, "Accept": ACCEPT},
        )
        self._total = asyncio.Semaphore(p.total_concurrency)

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    # -- public ------------------------------------------------------------------
    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FetchResult:
        """GET ``url``: a FetchResult for 2xx and 304 (body None), else a RetrieveError."""
        await self._open()
        current = _check_url(url)
        req_headers: dict[str, str] = dict(headers or {})
        if etag:
            req_headers["If-None-Match"] = etag
        if last_modified:
            req_headers["If-Modified-Since"] = last_modified
        state = _State()
        visited = [current]
        while True:
            hop = await self._hop(current, req_headers, state)
            if hop.status not in REDIRECT_STATUSES:
                break
            location = (hop.headers.get("Location") or "").strip()
            if not location:
                raise HTTPStatusError(
                    hop.status, f"HTTP {hop.status} redirect without a Location header from {redact_url(current)}"
                )
            try:
                target = location
                target = _check_url(urljoin(current, location))
            except (RetrieveError, ValueError):
                raise RetrieveError(
                    f"{redact_url(current)} redirects to an unusable address {redact_url(target)}"
                ) from None
            if await _is_internal(target) and not await _source_internal(url, state):
                raise RetrieveError(
                    f"{redact_url(current)} redirects into the desk's own network ({redact_url(target)}): "
                    "refused (only a source whose own address is internal may lead there)"
                )
            if len(visited) > self.policy.max_redirects:
                if target in visited:
                    raise TooManyRedirects(
                        f"redirect loop: {redact_url(url)} comes back to {redact_url(target)} "
                        f"after {len(visited) - 1} redirects"
                    )
                raise TooManyRedirects(
                    f"more than {self.policy.max_redirects} redirects starting at {redact_url(url)} "
                    f"(last: {redact_url(target)})"
                )
            if _origin(target) != _origin(current):
                req_headers = {k: v for k, v in req_headers.items() if k.lower() not in _CROSS_ORIGIN_DROP}
            visited.append(target)
            current = target

        elapsed = time.monotonic() - (state.started or time.monotonic())
        status = hop.status
        retry_after = parse_retry_after(hop.headers.get("Retry-After"), self._clock())
        if status == 304 or 200 <= status < 300:
            return FetchResult(
                url=current,
                status=status,
                body=None if status == 304 else (hop.body or b""),
                content_type=hop.headers.get("Content-Type"),
                etag=hop.headers.get("ETag") or (etag if status == 304 else None),
                last_modified=hop.headers.get("Last-Modified") or (last_modified if status == 304 else None),
                retry_after=retry_after,
                elapsed=elapsed,
            )
        if status not in (429, 503):
            retry_after = None
        msg = f"HTTP {status} {_status_phrase(status, hop.reason)} from {redact_url(current)}".replace("  ", " ")
        if retry_after is not None:
            msg += f" (retry after {retry_after:.0f} s)"
        raise HTTPStatusError(status, msg, retry_after=retry_after)

    # -- internals -------------------------------------------------------------------
    def _gate(self, url: str) -> _HostGate:
        key = _host_key(url)
        gate = self._hosts.get(key)
        if gate is None:
            gate = self._hosts[key] = _HostGate(asyncio.Semaphore(self.policy.per_host_concurrency))
        return gate

    async def _space(self, gate: _HostGate) -> None:
        spacing = self.policy.per_host_spacing
        if spacing <= 0:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        start = max(now, gate.next_start)
        gate.next_start = start + spacing
        if start > now:
            await asyncio.sleep(start - now)

    async def _hop(self, url: str, headers: Mapping[str, str], state: _State) -> _Hop:
        gate = self._gate(url)
        assert self._total is not None
        async with gate.sem:  # the host's slot first: a hanging host holds only its own slots
            async with self._total:
                await self._space(gate)
                loop = asyncio.get_running_loop()
                if state.deadline is None:
                    state.deadline = loop.time() + self.policy.total_timeout
                    state.started = time.monotonic()
                if loop.time() >= state.deadline:
                    raise FetchTimeout(
                        f"timed out: {redact_url(url)} took more than {self.policy.total_timeout:g} s in all"
                    )
                try:
                    async with asyncio.timeout_at(state.deadline):
                        return await self._request(url, headers)
                except TimeoutError:
                    raise FetchTimeout(
                        f"timed out: {redact_url(url)} took more than {self.policy.total_timeout:g} s in all"
                    ) from None

    async def _request(self, url: str, headers: Mapping[str, str]) -> _Hop:
        import aiohttp

        safe = redact_url(url)
        p = self.policy
        assert self._session is not None
        try:
            async with self._session.get(url, headers=headers, allow_redirects=False) as resp:
                status = resp.status
                if 200 <= status < 300:
                    try:
                        body = await self._read_capped(resp, safe)
                    except ResponseTooLarge:
                        resp.close()  # never hand a half-read connection back to the pool
                        raise
                    return _Hop(status, resp.headers, body, resp.reason)
                return _Hop(status, resp.headers, None, resp.reason)
        except RetrieveError:
            raise
        except aiohttp.ConnectionTimeoutError:
            raise FetchTimeout(f"timed out connecting to {safe} (over {p.connect_timeout:g} s)") from None
        except aiohttp.SocketTimeoutError:
            raise FetchTimeout(f"timed out reading from {safe} (no data for {p.read_timeout:g} s)") from None
        except aiohttp.ServerTimeoutError:
            raise FetchTimeout(f"timed out waiting for {safe}") from None
        except aiohttp.ClientConnectorDNSError:
            raise ConnectError(f"cannot resolve the host name of {safe}") from None
        except aiohttp.ClientSSLError as exc:
            raise ConnectError(f"TLS/certificate error with {safe}: {_scrub(_os_reason(exc), url)}") from None
        except aiohttp.ClientConnectorError as exc:
            raise ConnectError(f"cannot connect to {safe}: {_scrub(_os_reason(exc), url)}") from None
        except aiohttp.ServerDisconnectedError:
            raise ConnectError(f"server disconnected before answering: {safe}") from None
        except aiohttp.ClientPayloadError as exc:
            raise ConnectError(f"broken response body from {safe}: {_scrub(_payload_reason(exc), url)}") from None
        except aiohttp.ClientResponseError as exc:
            raise ConnectError(f"invalid HTTP response from {safe}: {_scrub(exc.message, url)}") from None
        except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError):
            raise RetrieveError(f"invalid URL: {safe}") from None
        except aiohttp.ClientError as exc:
            reason = _scrub(str(exc), url) or exc.__class__.__name__
            raise ConnectError(f"connection error with {safe}: {reason}") from None
        except (ConnectionError, OSError) as exc:
            raise ConnectError(f"connection error with {safe}: {_scrub(_os_reason(exc), url)}") from None
        except UnicodeError:
            raise RetrieveError(f"invalid host name in URL: {safe}") from None
        except ValueError as exc:  # e.g. a stored ETag or a configured header aiohttp refuses to send
            raise RetrieveError(f"cannot send the request to {safe}: {_scrub(str(exc), url)}") from None

    async def _read_capped(self, resp: "aiohttp.ClientResponse", safe: str) -> bytes:
        cap = self.policy.max_bytes
        declared = resp.content_length
        if declared is not None and declared > cap:
            raise ResponseTooLarge(
                f"response from {safe} is too large: Content-Length {declared} bytes, limit {cap}"
            )
        buf = bytearray()
        while True:
            chunk = await resp.content.read(_CHUNK)
            if not chunk:
                break
            buf += chunk
            if len(buf) > cap:
                raise ResponseTooLarge(f"response from {safe} is too large: over {cap} bytes (stopped reading)")
        return bytes(buf)


def _check_url(url: str) -> str:
    """The URL stripped, or a RetrieveError naming what is wrong with it."""
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise RetrieveError(f"invalid URL: {redact_url(text)}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise RetrieveError(f"not an http(s) URL: {redact_url(text)}")
    if not parts.hostname:
        raise RetrieveError(f"URL has no host: {redact_url(text)}")
    return text


def _os_reason(exc: BaseException) -> str:
    os_error = getattr(exc, "os_error", None) or exc
    reason = getattr(os_error, "strerror", None) or str(os_error) or exc.__class__.__name__
    return str(reason)


def _payload_reason(exc: BaseException) -> str:
    text = str(exc)
    return text.split(":", 1)[0] if text else exc.__class__.__name__
