"""The pipeline after intake: it reads stored items, understands them, groups stories, hands
incident candidates to the incident service, detects releases and decides the notices.

``stages`` (the driver of a batch), ``triggers`` (when a story becomes a candidate),
``matching`` (which open incident a story tells the same event as), ``notices`` (their
wording), ``titles``, ``store`` (the tables it owns), ``outbox`` (notices until the alert
dispatcher has them), ``runner`` (drives it from the daemon's event loop), ``leader`` (which
process runs it on a shared server), ``errors`` and ``schema`` (the one list of the desk's
migration sets).
"""
