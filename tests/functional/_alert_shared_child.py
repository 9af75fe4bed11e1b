"""One of two alert dispatchers sharing a database, run by test_alert_shared.py.

argv: desk database, receiver base URL, desk time (ISO 8601), action (submit | tick), alert keys
(comma-separated, for submit). Prints "ready" once its dispatcher has read the stored state, waits
for a line on stdin (both start before either acts), does its action, waits for its sends and
prints "done"; then closes cleanly.
"""
import asyncio
import sys
from datetime import datetime

from responders.alerts import Alert, AlertDispatcher, parse_alerts_config

def config(base: str):
    """The channels and escalation both dispatchers (and the test's own) use."""
    channels = {name: {"type": "wecom", "url": f"{base}/send/{name}?key=k", "rate_limits": []}
                for name in ("a", "b", "esc")}
    return parse_alerts_config({
        "channels": channels, "rules": [{"name": "all", "channels": ["a", "b"]}],
        "digest_every_minutes": 30,
        "escalation": {"lanes": ["breaking"], "min_severity": "一般",
                       "tiers": [{"after_minutes": 10, "channels": ["esc"]}]}})


def shared_alert(key: str, at: datetime, lane: str = "breaking") -> Alert:
    return Alert.new(key=key, lane=lane, title=f"汉台区告警〔{key}〕", created_at=at, severity="较大")


async def main() -> None:
    db, base, at, action = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3]), sys.argv[4]
    keys = [k for k in (sys.argv[5] if len(sys.argv) > 5 else "").split(",") if k]
    async with AlertDispatcher(config(base), clock=lambda: at, db=db) as d:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        if action == "submit":
            await asyncio.gather(*(d.submit(shared_alert(k, at)) for k in keys))
        else:
            await d.tick()
        await d.idle()
        print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
