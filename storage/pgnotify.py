"""The desk's change notifications on a PostgreSQL server (LISTEN/NOTIFY).

Every writing transaction on a server desk notifies the channel :data:`CHANNEL` as it commits
(``storage.db.transaction`` runs :data:`NOTIFY_IF_WRITTEN` just before COMMIT), so the server
delivers the notification exactly when the change becomes visible, and not at all when the
transaction rolls back or only read. Consoles on workstations wait on a :class:`DeskListener`
(a connection of its own) and refresh on a notification instead of polling the server.
SQLite desks have no notifications: their consoles poll the file.
"""
from __future__ import annotations

import sqlite3

from storage.pg import PgConnection, translate_error

CHANNEL = "yuqing_desk"
#: Run inside a transaction just before COMMIT: notifies only when the transaction wrote
#: something (a write assigns it a transaction id; reading and the advisory lock do not), so
#: readers' transactions never wake the consoles.
NOTIFY_IF_WRITTEN = f"SELECT pg_notify('{CHANNEL}', '') WHERE txid_current_if_assigned() IS NOT NULL"


class DeskListener:
    """``DeskListener(url).wait(timeout)``: how many desk changes were committed since the last
    call, waiting up to ``timeout`` seconds for the first one (0 when none came).

    A lost connection raises the DB-API ``OperationalError`` (:func:`storage.pg.translate_error`);
    the caller reconnects with a new listener and re-reads what it shows, since notifications
    sent while it was away are not kept for it."""

    def __init__(self, url: str, *, application_name: str = "yuqing console"):
        # a listener mostly waits: a dead network is noticed by the connection's keepalives
        self.conn = PgConnection(url, application_name=application_name)
        self.conn.execute(f"LISTEN {CHANNEL}")

    def wait(self, timeout: float) -> int:
        import psycopg

        raw = self.conn.raw
        try:
            seen = 0
            for _ in raw.notifies(timeout=timeout, stop_after=1):
                seen += 1
            if seen:  # several commits close together count as one wake-up: take what else arrived
                seen += sum(1 for _ in raw.notifies(timeout=0.0))
            return seen
        except psycopg.Error as exc:
            raise translate_error(exc) from exc

    def close(self) -> None:
        try:
            self.conn.close()
        except (sqlite3.Error, OSError):
            pass
