"""Alert channels: routing rules, quiet hours, dedup, rate limits with folding,
platform payloads and signatures, retry, acknowledgement and escalation.

Typical wiring (the daemon)::

    from responders.alerts import AlertDispatcher, Alert, parse_alerts_config
    cfg = parse_alerts_config(desk.sections.get("alerts"), require_secrets=True)
    dispatcher = AlertDispatcher(cfg, clock=utcnow, on_delivery=record_on_timeline, db=home.db_path)
    await dispatcher.submit(Alert.new(key="incident:12:opened", lane="breaking", title=..., created_at=now, ...))
    ... every few seconds: await dispatcher.tick()
    dispatcher.ack(alert_id, actor="张三")

With ``db`` the dedup keys, queues, rate-limit windows, acknowledgements and
escalation timers survive a restart (tables of the migration set "alerts",
``responders.alerts.store.migrations``). A console in another process
acknowledges with ``ack_alert(db, alert_id, actor, now)`` and lists what waits
with ``unacknowledged_alerts(db)``.
"""
from responders.alerts.config import DEFAULT_ALERTS_TOML, parse_alerts_config
from responders.alerts.dispatcher import AlertDispatcher, SubmitResult
from responders.alerts.redact import RedactingFilter, mask_personal, redact
from responders.alerts.store import ack_alert, unacknowledged_alerts
from responders.alerts.types import (
    Alert, AlertConfigError, AlertError, AlertsConfig, ChannelConfig, ChannelError, Delivery, TuiNotice,
)

__all__ = [
    "DEFAULT_ALERTS_TOML", "parse_alerts_config", "AlertDispatcher", "SubmitResult", "RedactingFilter",
    "mask_personal", "redact", "Alert", "AlertConfigError", "AlertError", "AlertsConfig", "ChannelConfig",
    "ChannelError", "Delivery", "TuiNotice", "ack_alert", "unacknowledged_alerts",
]
