"""Alert channels: routing rules, quiet hours, dedup, rate limits with folding,
platform payloads and signatures, retry, acknowledgement and escalation.

Typical wiring (the daemon)::

    from responders.alerts import AlertDispatcher, Alert, parse_alerts_config
    cfg = parse_alerts_config(desk.sections.get("alerts"), require_secrets=True)
    dispatcher = AlertDispatcher(cfg, clock=utcnow, on_delivery=record_on_timeline, db=home.db_target,
                                 duty=who_is_on_duty, people=staff_contacts)
    await dispatcher.submit(Alert.new(key="incident:12:opened", lane="breaking", title=..., created_at=now, ...))
    ... every few seconds: await dispatcher.tick()
    dispatcher.ack(alert_id, actor="张三")

With ``db`` the dedup keys, queues, rate-limit windows, acknowledgements and
escalation timers survive a restart (tables of the migration set "alerts",
``responders.alerts.store.migrations``). A console in another process
acknowledges with ``ack_alert(db, alert_id, actor, now)`` (or, as a staff member
with a timeline event, ``responders.alerts.acks.acknowledge``) and lists alerts with
``responders.alerts.store.list_alerts(db)``.
"""
from importlib import import_module

#: Where each public name lives; imported on first use, so a console that only reads
#: the alert tables (``responders.alerts.store``) does not load the dispatcher and aiohttp.
_WHERE = {
    "DEFAULT_ALERTS_TOML": "config", "parse_alerts_config": "config",
    "AlertDispatcher": "dispatcher", "SubmitResult": "dispatcher",
    "RedactingFilter": "redact", "mask_personal": "redact", "redact": "redact",
    "ack_alert": "store", "unacknowledged_alerts": "store",
    "Alert": "types", "AlertConfigError": "types", "AlertError": "types", "AlertsConfig": "types",
    "ChannelConfig": "types", "ChannelError": "types", "Delivery": "types", "TuiNotice": "types",
}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'responders.alerts' has no attribute {name!r}")
    value = getattr(import_module(f"responders.alerts.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
