"""One life of the alert dispatcher, killed with SIGKILL by test_alert_duty.py.

argv: desk db, platforms base URL, desk time (ISO 8601), action (submit | send | tick), alert key.
``send`` submits without waiting for the sends (the parent kills it while one is in flight).
Prints "ready <alert id>" once its sends are done and its state committed, then waits to be killed.
"""
import asyncio
import json
import sys
from datetime import datetime

from responders.alerts import Alert, AlertDispatcher, parse_alerts_config
from yuqing.alert_duty import people_source

db, base, at, action, key = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3]), sys.argv[4], sys.argv[5]
table = json.loads(sys.stdin.read())
for ch in table["channels"].values():
    if "url" in ch:
        ch["url"] = ch["url"].replace("BASE", base)


async def main() -> None:
    cfg = parse_alerts_config(table, env={"T_DING": table.pop("_ding"), "T_FEISHU": table.pop("_feishu"),
                                          "T_HOOK": table.pop("_hook")})
    d = AlertDispatcher(cfg, clock=lambda: at, db=db, duty=lambda when: ("zhang", "li"), people=people_source(db))
    alert_id = ""
    if action in ("submit", "send"):
        a = Alert.new(key=key, lane="breaking", title="汉台区突发事件", created_at=at, severity="较大", incident_id=1)
        await d.submit(a, wait=action == "submit")
        alert_id = a.id
    else:
        await d.tick()
    print("ready", alert_id, flush=True)
    await asyncio.sleep(3600)  # killed here: no close, no cleanup


asyncio.run(main())
