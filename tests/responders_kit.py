"""Builders for response-engine tests: a desk DB in tmp_path, a pinned clock, candidates."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from responders import anchor
from responders.candidates import candidate_from_mapping
from responders.incidents import IncidentService
from responders.policy import ClockPolicy
from responders.store import open_desk
from responders.types import IncidentCandidate

UTC = timezone.utc
T0 = datetime(2026, 6, 14, 0, 0, tzinfo=UTC)  # 08:00 in Hanzhong

PUZHEN = {"code": "610702100", "name": "铺镇", "level": "town"}
WUXIANG = {"code": "610702101", "name": "武乡镇", "level": "town"}


class Clock:
    """A settable clock: ``clock()`` returns the pinned time; ``advance(hours=...)`` moves it."""

    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> datetime:
        self.now += timedelta(**kw)
        return self.now

    def set(self, now: datetime) -> datetime:
        self.now = now
        return now


def make_service(tmp_path: Path, clock: Clock | None = None, policy: ClockPolicy | None = None,
                 name: str = "desk.sqlite", *, target: str | None = None) -> IncidentService:
    """A service on ``target`` (a PostgreSQL URL, e.g. the ``backend`` fixture's) or else on the
    SQLite file ``name`` in ``tmp_path`` (the server desk's timeline key lives in ``tmp_path``, its home)."""
    if target:
        anchor.use_home(target, tmp_path)
    return IncidentService(open_desk(target or tmp_path / name), policy or ClockPolicy(), clock or Clock())


def candidate(story_id: str = "s1", *, title: str = "铺镇化工厂夜间排放异味 村民投诉",
              first_published: datetime = T0, detected_at: datetime | None = None, places=(PUZHEN,),
              topic: str = "生态环境", severity: str = "一般", item_ids=(1, 2), evidence=None,
              units=("区生态环境分局", "铺镇"), departments=("区生态环境分局",)) -> IncidentCandidate:
    if evidence is None:
        evidence = [{"item_id": i, "title": f"{title} 报道{i}", "text": f"正文{i}", "url": f"https://news.example/{story_id}/{i}",
                     "published": (first_published + timedelta(minutes=30 * k)).isoformat(),
                     "source": f"来源{k}", "rank": None, "content_hash": f"{story_id}-{i}"}
                    for k, i in enumerate(item_ids)]
    return candidate_from_mapping({
        "story_id": story_id, "title": title, "first_published": first_published.isoformat(),
        "detected_at": (detected_at or first_published + timedelta(hours=1)).isoformat(),
        "places": list(places), "departments": list(departments), "responsible_units": list(units),
        "topic": topic, "severity": severity, "severity_reasons": ["负面情绪集中"], "item_ids": list(item_ids),
        "evidence": evidence, "trigger": "热度突增",
    })
