"""The console's key for alerts: `k` on a board row acknowledges that incident's alerts
waiting for a person (Pilot against a real desk the dispatcher wrote: a SQLite file, then a
PostgreSQL database)."""
from __future__ import annotations

from responders.alerts import Alert, AlertDispatcher, parse_alerts_config
from responders.alerts.store import list_alerts
from tests.functional.test_tui_console import any_desk, service, settle  # noqa: F401  (a fixture)
from tests.tui_kit import open_desk_db
from tui.app import DeskApp


async def test_k_acknowledges_the_selected_incidents_alerts(any_desk):
    path, clock = any_desk
    cfg = parse_alerts_config({"escalate_after": 10, "channels": {"console": {"type": "tui"}},
                               "rules": [{"name": "突发", "channels": ["console"]}]})
    async with AlertDispatcher(cfg, clock=clock, db=path) as d:
        for n, incident in enumerate((2, 2, 1)):
            await d.submit(Alert.new(key=f"k{n}", lane="breaking", title=f"告警{n}", created_at=clock(),
                                     severity="较大", incident_id=incident))
    app = DeskApp(path, clock=clock, actor="张三")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.snapshot is not None)
        assert app.screen.query_one("#board").rows_data[0].id == 2  # the cursor's row
        await pilot.press("k")
        await settle(pilot, app, lambda: len(list_alerts(open_desk_db(path), open_only=True)) == 1)
    (left,) = list_alerts(open_desk_db(path), open_only=True)
    assert left.alert.incident_id == 1
    acked = [r for r in list_alerts(open_desk_db(path)) if r.acked_by]
    assert {(r.alert.incident_id, r.acked_by, r.acked_at) for r in acked} == {(2, "张三", clock())}
    events = [e for e in service(path, clock).timeline(2) if e.kind == "alert_acked"]
    assert len(events) == 2 and {e.actor for e in events} == {"张三"}
