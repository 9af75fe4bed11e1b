"""Compressed scenario time for the offline demo.

``ScenarioClock(start, speed)()`` returns ``start + elapsed * speed`` where
*elapsed* is measured on a monotonic clock, so a 48 h scenario can play in
48 minutes (``speed=60``). Pass ``monotonic`` to pin time in tests.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Callable

UTC = timezone.utc


class ScenarioClock:
    """Compressed time: scenario_now = start + (monotonic elapsed) * speed."""

    def __init__(
        self,
        start: datetime,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError(f"ScenarioClock start must be timezone-aware, got naive {start!r}")
        if not speed > 0:
            raise ValueError(f"ScenarioClock speed must be > 0, got {speed!r}")
        self.start: datetime = start.astimezone(UTC)
        self.speed: float = float(speed)
        self._monotonic = monotonic
        self._origin = monotonic()

    def __call__(self) -> datetime:
        """The scenario's current time, aware UTC."""
        return self.start + timedelta(seconds=(self._monotonic() - self._origin) * self.speed)

    def elapsed(self) -> timedelta:
        """Scenario time passed since ``start``."""
        return self() - self.start

    def real_seconds(self, scenario_seconds: float) -> float:
        """How many real seconds a span of scenario seconds takes at this speed."""
        return scenario_seconds / self.speed

    def __repr__(self) -> str:
        return f"ScenarioClock(start={self.start.isoformat()}, speed={self.speed:g})"
