"""Which process runs the stateful pipeline (stories, incidents, releases, clocks, notices).

On SQLite the desk lock already makes the daemon alone with its database: it always leads. On
PostgreSQL several `yuqing run --role pipeline|all` processes may share a database; the one that
holds the session advisory lock ``LEADER_LOCK`` leads, the others stand by and try to take the
lock on every pipeline tick. The server releases the lock when its holder's session ends (process
killed, machine lost: bounded by the lock connection's keepalives), so a standby takes over within
a tick plus the replay of the story window.

A leader that lost its lock (its lock connection dropped) must not write again: :meth:`check` runs
inside each batch's and clock step's transaction, under the desk-wide writer lock, and refuses
unless the lock's own session still holds it. Batches are also committed only on top of the
watermark they were computed from (``store.advance_watermark``), so even a write racing a
takeover can neither repeat nor skip an item.
"""
from __future__ import annotations

import logging

from pipeline.errors import NotLeader
from storage.dburl import is_server

log = logging.getLogger("yuqing.pipeline")


class Leadership:
    """The pipeline leader lock of the database ``target`` (a no-op on SQLite)."""

    def __init__(self, target, role: str = "pipeline"):
        self.target = target
        self.role = role
        self.lock = None
        self.session: tuple[int, str] | None = None
        if is_server(target):
            from storage.pglocks import LEADER_LOCK, SessionLock

            self.lock = SessionLock(str(target), LEADER_LOCK, role)

    @property
    def shared(self) -> bool:
        """Whether other processes may compete for the lead (a server database)."""
        return self.lock is not None

    def try_take(self) -> bool:
        """Take the lead if no one holds it; True when this process leads (now or already)."""
        if self.lock is None:
            return True
        if self.session is not None:
            return True
        from storage.pglocks import session_of

        try:
            if not self.lock.acquire(wait=0):
                return False
            self.session = session_of(self.lock.conn)
        except Exception as exc:  # noqa: BLE001 - the server is unreachable: stand by, retry later
            log.debug("could not try the pipeline leader lock: %s", exc)
            self.give_up()
            return False
        return True

    def check(self, conn) -> None:
        """Raise NotLeader unless this process's lock session still holds the leader lock (call it
        inside the transaction that is about to write the pipeline's state)."""
        if self.lock is None:
            return
        from storage.pglocks import LEADER_LOCK, holds

        if self.session is None or not holds(conn, LEADER_LOCK, self.session):
            raise NotLeader("the pipeline leader lock is no longer held by this process")

    def holder(self) -> dict | None:
        """Who leads now (for the standby's log line), or None."""
        if self.lock is None:
            return None
        from storage.pglocks import LEADER_LOCK, holder

        try:
            return holder(str(self.target), LEADER_LOCK)
        except Exception:  # noqa: BLE001 - only for a log line
            return None

    def give_up(self) -> None:
        """Release the lock (closing its session) and forget it."""
        self.session = None
        if self.lock is not None:
            try:
                self.lock.release()
            except Exception:  # noqa: BLE001 - a dead connection: the server dropped the lock already
                self.lock.conn = None
