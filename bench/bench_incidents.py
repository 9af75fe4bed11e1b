"""Response-engine speed on a desk with many incidents (run by hand, not a test).

    python -m bench.bench_incidents [N]

Opens N incidents from candidates (each in its own town/topic so none join),
acts on some, then times what the TUI and daemon do repeatedly: list open
incidents with their clocks, find due clock alerts, verify the chain, export one.
"""
from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from responders import timeline
from responders.candidates import candidate_from_mapping
from responders.clock import compute_clock
from responders.exports import export_incident
from responders.incidents import IncidentService
from responders.store import open_desk

UTC = timezone.utc
T0 = datetime(2026, 6, 14, tzinfo=UTC)


def main(n: int) -> None:
    now = [T0]
    with tempfile.TemporaryDirectory() as tmp:
        svc = IncidentService(open_desk(Path(tmp) / "desk.sqlite"), clock=lambda: now[0])
        t = time.perf_counter()
        for i in range(n):
            svc.open_or_join(candidate_from_mapping({
                "story_id": f"s{i}", "title": f"事件{i}", "first_published": (T0 + timedelta(minutes=i)).isoformat(),
                "detected_at": (T0 + timedelta(minutes=i + 30)).isoformat(),
                "places": [{"code": f"t{i}", "name": f"镇{i}", "level": "town"}], "topic": "其他",
                "item_ids": [i * 3, i * 3 + 1], "evidence": [{"title": f"标题{i}", "text": "正文", "published":
                                                            (T0 + timedelta(minutes=i)).isoformat()}]}))
        open_s = time.perf_counter() - t
        for i in range(0, n, 3):
            svc.acknowledge(i + 1, actor="bench")
        now[0] = T0 + timedelta(hours=30)

        t = time.perf_counter()
        incs = svc.list()
        evs = timeline.events_for(svc.db, [i.id for i in incs])
        clocks = [compute_clock(svc.policy, evs[i.id], now[0]) for i in incs]
        list_s = time.perf_counter() - t
        t = time.perf_counter()
        due = svc.fire_clock_alerts()
        fire_s = time.perf_counter() - t
        t = time.perf_counter()
        res = timeline.verify(svc.db)
        verify_s = time.perf_counter() - t
        t = time.perf_counter()
        export_incident(svc, 1, "docx")
        export_incident(svc, 1, "html")
        export_s = time.perf_counter() - t
        print(f"incidents: {n}, events: {res.checked}, verify ok: {res.ok}")
        print(f"open_or_join: {n / open_s:,.0f}/s ({open_s:.2f} s total; worst case: every open incident shares topic and window)")
        print(f"list + clocks of {len(clocks)} open incidents: {list_s * 1000:.0f} ms")
        print(f"fire_clock_alerts ({len(due)} alerts recorded): {fire_s * 1000:.0f} ms")
        print(f"verify chain: {verify_s * 1000:.0f} ms")
        print(f"export docx + html of one incident: {export_s * 1000:.0f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
