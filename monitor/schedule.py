"""When to check a source next: pure functions of ``now``, the interval and the last outcome.

No I/O and no clock of its own: the caller passes ``now`` (timezone-aware). A success or a
304 resets the error streak (the caller passes 0); each consecutive error doubles the wait,
up to a cap; a server's ``Retry-After`` can push the next check later (capped too). Jitter
spreads sources that share an interval: a fraction in ``[0, jitter)`` of the delay, derived
from ``seed`` (e.g. the source id) so that tests, and restarts, are exact.
"""
from __future__ import annotations

import hashlib
import math
import random
from datetime import datetime, timedelta

DEFAULT_MAX_BACKOFF = 6 * 3600.0
_MAX_EXPONENT = 62  # 2**62 * any sane interval is far beyond every cap


def backoff_delay(interval: float, error_streak: int, max_backoff: float = DEFAULT_MAX_BACKOFF) -> float:
    """Seconds to wait after ``error_streak`` consecutive errors: ``interval * 2**streak``,
    capped at ``max_backoff`` (an interval longer than the cap is never shortened)."""
    _check(interval, error_streak, max_backoff)
    cap = max(float(max_backoff), float(interval))
    if error_streak <= 0:
        return float(interval)
    if error_streak >= _MAX_EXPONENT:
        return cap
    return min(float(interval) * (2 ** error_streak), cap)


def jitter_fraction(seed: object | None) -> float:
    """A fraction in [0, 1): stable for a given seed, random without one."""
    if seed is None:
        return random.random()
    digest = hashlib.blake2b(str(seed).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0 ** 64


def next_check_at(
    now: datetime,
    interval: float,
    *,
    error_streak: int = 0,
    retry_after: float | None = None,
    jitter: float = 0.0,
    max_backoff: float = DEFAULT_MAX_BACKOFF,
    seed: object | None = None,
) -> datetime:
    """The instant of the next check.

    ``delay = backoff_delay(interval, error_streak, max_backoff) * (1 + jitter * f)`` with
    ``f = jitter_fraction(seed)`` in [0, 1); then ``Retry-After`` (seconds) pushes it later
    but never beyond ``max(max_backoff, interval)``. The result keeps ``now``'s timezone.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("next_check_at: 'now' must be timezone-aware")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError(f"next_check_at: jitter must be a fraction in [0, 1], got {jitter!r}")
    delay = backoff_delay(interval, error_streak, max_backoff)
    if jitter:
        delay *= 1.0 + jitter * jitter_fraction(seed)
    if retry_after is not None and retry_after > 0:  # NaN compares False: ignored
        cap = max(float(max_backoff), float(interval))
        delay = max(delay, min(float(retry_after), cap))
    return now + timedelta(seconds=delay)


def _check(interval: float, error_streak: int, max_backoff: float) -> None:
    if isinstance(interval, bool) or not (interval > 0 and math.isfinite(interval)):
        raise ValueError(f"schedule: interval must be a positive number of seconds, got {interval!r}")
    if error_streak < 0:
        raise ValueError(f"schedule: error_streak must be >= 0, got {error_streak!r}")
    if not (max_backoff > 0 and math.isfinite(max_backoff)):
        raise ValueError(f"schedule: max_backoff must be positive, got {max_backoff!r}")
