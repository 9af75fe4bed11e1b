"""Export rendering speed for one incident with a long timeline (run by hand, not a test).

    python bench/bench_exports.py [EVENTS]

Opens one incident with 50 evidence items and EVENTS notes (default 300) and prints the mean time
of five exports per format (md, html, docx: the report built and rendered from its template).
"""
from __future__ import annotations

import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from responders.exports import export_incident
from tests.responders_kit import T0, Clock, candidate, make_service


def main(events: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        svc = make_service(Path(tmp), Clock(T0 + timedelta(hours=1)))
        inc = svc.open_or_join(candidate(title="铺镇排污", item_ids=tuple(range(1, 51)))).incident
        for i in range(events):
            svc.note(inc.id, f"第{i}次跟进记录，已电话联系铺镇。", actor="张三")
        for fmt in ("md", "html", "docx"):
            export_incident(svc, inc.id, fmt)  # warm: template compiled once per process
            t = time.perf_counter()
            for _ in range(5):
                export_incident(svc, inc.id, fmt)
            print(f"export {fmt}, {events} timeline events: {(time.perf_counter() - t) / 5 * 1000:.0f} ms")
        svc.db.conn.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
