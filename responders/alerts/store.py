"""The alert dispatcher's state in the desk's SQLite file (migration set "alerts").

What a restart must not lose: the dedup keys (a breaking alert is not sent twice),
the alerts waiting in each channel's queue or for a retry (nothing is dropped), the
recent sends of each channel (rate-limit windows), folded digest ids, and each
alert's acknowledgement and escalation timer. ``AlertDispatcher(config, db=...)``
writes through this store as it goes and reads it back when it starts.

Delivery is at-least-once: an alert leaves its queue row only once its send has an
outcome, so a crash in the middle of a send sends it again after the restart, marked
【重发·可能重复】 (the row was marked as being sent just before the send started). Each
escalation step is decided once: its messages, whom they are for (``alert_steps``) and
the track's new step and timer are written in one transaction.

Consoles in other processes acknowledge through :func:`ack_alert` on their own
connection; the dispatcher picks acknowledgements up on its next ``tick``.

Several dispatchers may share one database (two daemons, or machines sharing a PostgreSQL
server): each store has an ``owner`` name, and a message is sent only by the dispatcher that
claimed its row (:meth:`AlertStore.claim_queued`, :meth:`AlertStore.claim_retry`: a conditional
UPDATE under the desk's writer lock). A claim by an owner that is gone (its session lock
released on PostgreSQL, its process ended on the SQLite desk's one machine) is taken over, and
that send is marked as a possible repeat. A dedup key and each escalation step are likewise
written once, whichever dispatcher gets there first.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

import sqlite_utils
from sqlite_utils import Migrations

from responders.alerts.types import Alert, AlertError, Mention
from storage.db import apply_migrations, dialect, open_db, transaction
from storage.timeutil import from_db, to_db

migrations = Migrations("alerts")
#: An alert nobody acknowledged stays listed (``yuqing alerts --open``) this long.
UNACKED_RETENTION = timedelta(days=7)


@migrations()
def m001_alert_state(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE alert_dedup (
            key TEXT PRIMARY KEY,
            seen_at TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE alert_tracks (
            id TEXT PRIMARY KEY,
            alert TEXT NOT NULL,
            incident_id TEXT,
            escalates INTEGER NOT NULL DEFAULT 0,
            base_at TEXT,
            tier INTEGER NOT NULL DEFAULT 0,
            acked_by TEXT,
            acked_at TEXT,
            ack_seq INTEGER,
            settled_at TEXT,
            created_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX alert_tracks_ack_seq ON alert_tracks(ack_seq)")
    db.execute("CREATE INDEX alert_tracks_incident ON alert_tracks(incident_id)")
    db.execute("""
        CREATE TABLE alert_queue (
            channel TEXT NOT NULL,
            alert_id TEXT NOT NULL,
            tier INTEGER NOT NULL,
            alert TEXT NOT NULL,
            enqueued_at TEXT NOT NULL,
            PRIMARY KEY (channel, alert_id, tier)
        )""")
    db.execute("""
        CREATE TABLE alert_retries (
            channel TEXT NOT NULL,
            message_id TEXT NOT NULL,
            tier INTEGER NOT NULL,
            message TEXT NOT NULL,
            members TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            due TEXT NOT NULL,
            PRIMARY KEY (channel, message_id, tier)
        )""")
    db.execute("""
        CREATE TABLE alert_folds (
            id TEXT PRIMARY KEY,
            members TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE alert_sends (
            channel TEXT NOT NULL,
            at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX alert_sends_channel_at ON alert_sends(channel, at)")


@migrations()
def m002_channel_health(db: sqlite_utils.Database) -> None:
    # one row per channel that has ever failed: what staff see on the status line and in doctor
    db.execute("""
        CREATE TABLE alert_channel_health (
            channel TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            failing_since TEXT,
            failures INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            last_ok_at TEXT,
            updated_at TEXT NOT NULL
        )""")


@migrations()
def m003_escalation_steps(db: sqlite_utils.Database) -> None:
    # one row per send decision of an alert: step 0 is the first send, step k the k-th
    # escalation; the primary key makes each step happen at most once, whoever decides it
    db.execute("""
        CREATE TABLE alert_steps (
            alert_id TEXT NOT NULL,
            step INTEGER NOT NULL,
            at TEXT NOT NULL,
            targets TEXT NOT NULL,
            channels TEXT NOT NULL,
            PRIMARY KEY (alert_id, step)
        )""")


@migrations()
def m004_sending(db: sqlite_utils.Database) -> None:
    # set just before a send starts: a row still marked at the next start was being sent when
    # the desk stopped, so its resend says it may be a repeat
    db.execute("ALTER TABLE alert_queue ADD COLUMN sending_at TEXT")
    db.execute("ALTER TABLE alert_retries ADD COLUMN sending_at TEXT")


@migrations()
def m005_claims(db: sqlite_utils.Database) -> None:
    # claimed_by: which dispatcher is sending a row (several may share the database);
    # seq: the order rows were written in, kept alike on both backends (PostgreSQL has no rowid)
    db.execute("ALTER TABLE alert_queue ADD COLUMN claimed_by TEXT")
    db.execute("ALTER TABLE alert_retries ADD COLUMN claimed_by TEXT")
    db.execute("ALTER TABLE alert_tracks ADD COLUMN seq INTEGER")
    db.execute("ALTER TABLE alert_queue ADD COLUMN seq INTEGER")
    if dialect(db) == "sqlite":  # rows of a desk written before this step keep their order
        db.execute("UPDATE alert_tracks SET seq = rowid")
        db.execute("UPDATE alert_queue SET seq = rowid")


#: Owners (``AlertStore.owner``) of the stores open in this process.
_LIVE_OWNERS: set[str] = set()


# ---------------------------------------------------------------- alert codec

def alert_to_json(a: Alert) -> str:
    """An alert as stored. Its texts are stored masked (issue 18): the records outlive the send,
    so a channel with ``mask_personal = false`` sees raw text only on the first attempt."""
    from responders.masking import mask_personal

    return json.dumps({
        "id": a.id, "key": a.key, "lane": a.lane, "title": mask_personal(a.title),
        "body_markdown": mask_personal(a.body_markdown), "body_text": mask_personal(a.body_text), "created_at": to_db(a.created_at), "severity": a.severity,
        "incident_id": a.incident_id, "item_ids": list(a.item_ids), "topics": list(a.topics),
        "towns": list(a.towns), "url": a.url, "folded": list(a.folded), "escalation_tier": a.escalation_tier,
        "mentions": [m.to_dict() for m in a.mentions], "resent": a.resent,
    }, ensure_ascii=False, separators=(",", ":"))


def alert_from_json(text: str) -> Alert:
    d = json.loads(text)
    d["created_at"] = from_db(d["created_at"])
    for name in ("item_ids", "topics", "towns", "folded"):
        d[name] = tuple(d.get(name) or ())
    d["mentions"] = tuple(Mention.from_dict(m) for m in d.get("mentions") or ())
    return Alert(**d)


# ---------------------------------------------------------------- rows

@dataclass
class TrackRow:
    alert: Alert
    escalates: bool
    base_at: datetime | None = None
    tier: int = 0
    acked_by: str | None = None
    acked_at: datetime | None = None
    settled_at: datetime | None = None


@dataclass(frozen=True)
class StepRecord:
    """Who one send of an alert was for: ``targets`` as staff read them
    (``{"to", "staff_id", "name"}``; staff_id None when nobody was on duty)."""

    step: int
    at: datetime
    targets: tuple[dict, ...] = ()
    channels: tuple[str, ...] = ()
    #: Channels whose message of this step is still queued or waiting for a retry (when listed).
    waiting: tuple[str, ...] = ()


@dataclass
class RetryRow:
    channel: str
    due: datetime
    message: Alert
    members: list[Alert]
    attempt: int


@dataclass
class ChannelHealth:
    """A channel's delivery state: ``failing_since`` is set from the first failed send
    after a success until the next success; ``failures`` counts that streak."""

    channel: str
    label: str
    failing_since: datetime | None = None
    failures: int = 0
    last_error: str | None = None
    last_ok_at: datetime | None = None

    @property
    def failing(self) -> bool:
        return self.failing_since is not None


@dataclass
class Snapshot:
    """Everything the dispatcher reads back when it starts."""

    dedup: dict[str, datetime] = field(default_factory=dict)
    tracks: list[TrackRow] = field(default_factory=list)
    queues: dict[str, list[tuple[Alert, datetime]]] = field(default_factory=dict)
    retries: list[RetryRow] = field(default_factory=list)
    folds: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sends: dict[str, list[datetime]] = field(default_factory=dict)
    ack_seq: int = 0
    health: dict[str, ChannelHealth] = field(default_factory=dict)
    unreadable: int = 0  # rows that could not be decoded (skipped, left in place)
    interrupted: int = 0  # messages that were being sent when the last dispatcher stopped
    #: (channel, alert or message id, tier) of the rows this store has claimed (its sends in flight)
    mine: set[tuple[str, str, int]] = field(default_factory=set)


def _resent(alert: Alert, sending_at: str | None) -> Alert:
    from dataclasses import replace

    return replace(alert, resent=True) if sending_at else alert


def _decode(snap: Snapshot, make):
    """One stored row decoded, or None (counted) when it is unreadable."""
    try:
        return make()
    except (ValueError, TypeError, KeyError, AlertError):
        snap.unreadable += 1
        return None


def _incident_text(incident_id: Any) -> str | None:
    return None if incident_id is None else str(incident_id)


class AlertStore:
    """Thin, synchronous writes of the dispatcher's state; one transaction per call
    (calls nest as savepoints inside :meth:`batch`)."""

    def __init__(self, target: "sqlite_utils.Database | str | os.PathLike[str]"):
        from storage.dburl import redacted

        self._lock = None
        try:
            if isinstance(target, (str, os.PathLike)):
                self.db = open_db(target, [migrations])
                self._own = True
            elif hasattr(target, "conn") and hasattr(target, "execute"):
                self.db = target
                self._own = False
                apply_migrations(self.db, [migrations])
            else:
                raise AlertError("the alert store needs an open desk database, a file path or a database URL, "
                                 f"got {type(target).__name__}")
            key = secrets.randbits(62)
            self.owner = f"{key}/{os.getpid()}@{socket.gethostname()}"
            if dialect(self.db) == "postgresql":
                # held while this store lives: other dispatchers see this owner's claims as live
                from storage.pglocks import SessionLock

                self._lock = SessionLock(self.db.conn.url, key, "alerts")
                self._lock.acquire(wait=0)
        except (sqlite3.Error, OSError) as exc:
            if getattr(self, "_own", False):
                self.db.conn.close()
            raise AlertError(f"告警状态数据库无法打开（{redacted(target) if isinstance(target, str) else target}）："
                             f"{type(exc).__name__}: {exc}") from None
        _LIVE_OWNERS.add(self.owner)

    def close(self) -> None:
        _LIVE_OWNERS.discard(self.owner)
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        if self._own:
            self.db.conn.close()

    def _alive(self, owner: str | None) -> bool:
        """Whether the dispatcher that claimed a row is still running: a store open in this
        process; on PostgreSQL an owner whose session lock is held; on SQLite (one machine) an
        owner whose process still runs."""
        if not owner:
            return False
        if owner in _LIVE_OWNERS:
            return True
        key, _, where = owner.partition("/")
        pid, _, host = where.partition("@")
        try:
            key_n, pid_n = int(key), int(pid)
        except ValueError:
            return False
        if dialect(self.db) == "postgresql":
            row = self.db.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                                  "AND ((classid::bigint << 32) | objid::bigint) = ?", [key_n]).fetchone()
            return bool(row and row[0])
        if host != socket.gethostname() or pid_n == os.getpid():
            return False  # our own process's earlier dispatcher is closed (its owner is not live)
        try:
            os.kill(pid_n, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def batch(self) -> transaction:
        return transaction(self.db)

    # ------------------------------------------------------------ reading back

    def load(self, now: datetime, dedup_window: timedelta) -> Snapshot:
        snap = Snapshot()
        ex = self.db.execute
        cutoff = to_db(now - dedup_window)
        snap.dedup = {k: from_db(at) for k, at in ex("SELECT key, seen_at FROM alert_dedup WHERE seen_at > ?",
                                                      [cutoff]).fetchall()}
        for row in ex("SELECT alert, escalates, base_at, tier, acked_by, acked_at, settled_at FROM alert_tracks "
                      "ORDER BY created_at, seq").fetchall():
            tr = _decode(snap, lambda: TrackRow(alert_from_json(row[0]), bool(row[1]), from_db(row[2]), row[3],
                                                row[4], from_db(row[5]), from_db(row[6])))
            if tr is not None:
                snap.tracks.append(tr)
        alive: dict[str, bool] = {}

        def cut_off(sending: str | None, owner: str | None) -> str | None:
            """A send still claimed by a running dispatcher is not interrupted (it may finish)."""
            if sending and owner:
                if owner not in alive:
                    alive[owner] = self._alive(owner)
                if alive[owner]:
                    return None
            return sending

        for channel, alert_id, tier, alert, at, sending, owner in ex(
                "SELECT channel, alert_id, tier, alert, enqueued_at, sending_at, claimed_by FROM alert_queue "
                "ORDER BY enqueued_at, seq").fetchall():
            if owner == self.owner:
                snap.mine.add((channel, alert_id, tier))
            sending = cut_off(sending, owner)
            entry = _decode(snap, lambda: (_resent(alert_from_json(alert), sending), from_db(at)))
            if entry is not None:
                snap.queues.setdefault(channel, []).append(entry)
                snap.interrupted += bool(sending)
        for channel, message_id, tier, message, members, attempt, due, sending, owner in ex(
                "SELECT channel, message_id, tier, message, members, attempt, due, sending_at, claimed_by "
                "FROM alert_retries ORDER BY due, channel, message_id, tier").fetchall():
            if owner == self.owner:
                snap.mine.add((channel, message_id, tier))
            sending = cut_off(sending, owner)
            r = _decode(snap, lambda: RetryRow(channel, from_db(due), _resent(alert_from_json(message), sending),
                                               [alert_from_json(m) for m in json.loads(members)], attempt))
            if r is not None:
                snap.retries.append(r)
                snap.interrupted += bool(sending)
        snap.folds = {fid: tuple(json.loads(m))
                      for fid, m in ex("SELECT id, members FROM alert_folds ORDER BY id").fetchall()}
        for channel, at in ex("SELECT channel, at FROM alert_sends ORDER BY at, channel").fetchall():
            snap.sends.setdefault(channel, []).append(from_db(at))
        snap.ack_seq = ex("SELECT coalesce(max(ack_seq), 0) FROM alert_tracks").fetchone()[0]
        snap.health = {h.channel: h for h in _health_rows(self.db)}
        return snap

    def acks_since(self, seq: int) -> list[tuple[str, str, datetime, int]]:
        """Acknowledgements recorded after ``seq`` (by any process): (id, actor, at, seq)."""
        rows = self.db.execute("SELECT id, acked_by, acked_at, ack_seq FROM alert_tracks WHERE ack_seq > ? "
                               "ORDER BY ack_seq", [seq]).fetchall()
        return [(r[0], r[1], from_db(r[2]), r[3]) for r in rows]

    # ------------------------------------------------------------ writes

    def submitted(self, key: str, now: datetime, track: TrackRow, queued: Iterable[tuple[str, Alert]],
                  step: StepRecord | None = None, *, dedup_window: timedelta | None = None) -> bool:
        """A new alert: its dedup key, its track, its queue rows and whom it is for, at once.
        False (and nothing written) when another dispatcher on this database took the same key
        within ``dedup_window``."""
        with transaction(self.db) as conn:
            cutoff = to_db(now - dedup_window) if dedup_window is not None else to_db(now)
            taken = conn.execute("INSERT INTO alert_dedup (key, seen_at) VALUES (?, ?) ON CONFLICT (key) "
                                 "DO UPDATE SET seen_at = excluded.seen_at WHERE alert_dedup.seen_at <= ? "
                                 "RETURNING key", [key, to_db(now), cutoff]).fetchone()
            if taken is None:
                return False
            self._put_track(conn, track, now)
            for channel, alert in queued:
                self._put_queue(conn, channel, alert, now)
            if step is not None:
                self._put_step(conn, track.alert.id, step)
        return True

    def escalated(self, track: TrackRow, queued: Iterable[tuple[str, Alert]], now: datetime,
                  step: StepRecord | None = None) -> bool:
        """One escalation step: the track's step and timer, the messages to send and whom
        they are for, in one transaction (a restart neither repeats nor loses the step).
        False (and nothing written) when another dispatcher already took this step."""
        with transaction(self.db) as conn:
            if step is not None and not self._put_step(conn, track.alert.id, step):
                return False
            self._update_track(conn, track)
            for channel, alert in queued:
                self._put_queue(conn, channel, alert, now)
        return True

    def track_state(self, alert_id: str) -> tuple | None:
        """A track as stored: (tier, base_at, settled_at, acked_by, acked_at), or None."""
        row = self.db.execute("SELECT tier, base_at, settled_at, acked_by, acked_at FROM alert_tracks WHERE id = ?",
                              [alert_id]).fetchone()
        return None if row is None else (row[0], from_db(row[1]), from_db(row[2]), row[3], from_db(row[4]))

    def attempted(self, channel: str, message: Alert, members: list[Alert], *, from_retry: bool,
                  retry: RetryRow | None, tracks: Iterable[TrackRow], token_at: datetime) -> bool:
        """One send attempt's outcome: its members leave the queue (or the old retry
        row goes), a new retry row if one is scheduled, the tracks' timers, the
        digest id, and the rate-limit token spent."""
        with transaction(self.db) as conn:
            if from_retry:
                conn.execute("DELETE FROM alert_retries WHERE channel = ? AND message_id = ? AND tier = ?",
                             [channel, message.id, message.escalation_tier])
            else:
                conn.executemany("DELETE FROM alert_queue WHERE channel = ? AND alert_id = ? AND tier = ?",
                                 [(channel, a.id, a.escalation_tier) for a in members])
            if retry is not None:
                conn.execute(
                    "INSERT INTO alert_retries (channel, message_id, tier, message, members, attempt, due) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel, message_id, tier) DO UPDATE SET "
                    "message = excluded.message, members = excluded.members, attempt = excluded.attempt, "
                    "due = excluded.due, sending_at = NULL, claimed_by = NULL",
                    [channel, message.id, message.escalation_tier, alert_to_json(message),
                     json.dumps([alert_to_json(a) for a in members], ensure_ascii=False), retry.attempt,
                     to_db(retry.due)])
            if message.folded:
                conn.execute("INSERT INTO alert_folds (id, members, created_at) VALUES (?, ?, ?) "
                             "ON CONFLICT (id) DO NOTHING",
                             [message.id, json.dumps(list(message.folded)), to_db(token_at)])
            for tr in tracks:
                self._update_track(conn, tr)
            conn.execute("INSERT INTO alert_sends (channel, at) VALUES (?, ?)", [channel, to_db(token_at)])
        return True

    def claim_queued(self, channel: str, alerts: list[Alert], now: datetime) -> list[tuple[Alert, bool]]:
        """Claim queued alerts for sending, just before the send starts (marks them as being
        sent, see ``m004_sending``). Returns those this dispatcher may send, each with whether
        an earlier send of it was cut off (its resend may be a repeat); the others are sent,
        or being sent, by another dispatcher."""
        out = []
        for a in alerts:
            claimed, cut = self._claim("alert_queue", "alert_id", [channel, a.id, a.escalation_tier], now)
            if claimed:
                out.append((a, cut))
        return out

    def claim_retry(self, channel: str, message: Alert, now: datetime) -> tuple[bool, bool] | None:
        """Claim a retry for sending, as :meth:`claim_queued`: None when another dispatcher
        sent it or is sending it, else (claimed, cut off before)."""
        claimed, cut = self._claim("alert_retries", "message_id", [channel, message.id, message.escalation_tier], now)
        return (True, cut) if claimed else None

    def _claim(self, table: str, id_column: str, key: list, now: datetime) -> tuple[bool, bool]:
        """(claimed, an earlier send was cut off). Each step is one conditional UPDATE, atomic on
        its own, so a claim needs neither a transaction nor the desk's writer lock (a send does
        not wait for the pipeline's batch): a row nobody holds, or this store holds, is taken at
        once; a row held by an owner that is gone is taken over only if still held by that owner."""
        ex = self.db.execute
        where = f"channel = ? AND {id_column} = ? AND tier = ?"
        if ex(f"UPDATE {table} SET sending_at = ?, claimed_by = ? WHERE {where} "
              "AND (claimed_by IS NULL OR claimed_by = ?) RETURNING tier",
              [to_db(now), self.owner, *key, self.owner]).fetchone() is not None:
            return True, False
        row = ex(f"SELECT claimed_by, sending_at FROM {table} WHERE {where}", key).fetchone()
        if row is None or self._alive(row[0]):
            return False, False  # sent and gone, or being sent by a running dispatcher
        done = ex(f"UPDATE {table} SET sending_at = ?, claimed_by = ? WHERE {where} "
                  "AND coalesce(claimed_by, '') = ? RETURNING tier",
                  [to_db(now), self.owner, *key, row[0] or ""]).fetchone()
        return done is not None, done is not None and bool(row[1])

    def acked(self, tracks: Iterable[TrackRow], dropped_queue: Iterable[tuple[str, str, int]],
              dropped_retries: Iterable[tuple[str, str, int]]) -> None:
        """Acknowledged tracks, and the escalation messages that no longer need sending."""
        with transaction(self.db) as conn:
            for tr in tracks:
                conn.execute(
                    "UPDATE alert_tracks SET acked_by = ?, acked_at = ?, settled_at = ?, "
                    "ack_seq = (SELECT coalesce(max(ack_seq), 0) + 1 FROM alert_tracks) "
                    "WHERE id = ? AND acked_by IS NULL",
                    [tr.acked_by, to_db(tr.acked_at), to_db(tr.settled_at), tr.alert.id])
            conn.executemany("DELETE FROM alert_queue WHERE channel = ? AND alert_id = ? AND tier = ?",
                             list(dropped_queue))
            conn.executemany("DELETE FROM alert_retries WHERE channel = ? AND message_id = ? AND tier = ?",
                             list(dropped_retries))

    def health(self, h: ChannelHealth, now: datetime) -> None:
        """A channel's delivery state after a send's outcome."""
        with transaction(self.db) as conn:
            conn.execute("INSERT INTO alert_channel_health (channel, label, failing_since, failures, "
                         "last_error, last_ok_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel) "
                         "DO UPDATE SET label = excluded.label, failing_since = excluded.failing_since, "
                         "failures = excluded.failures, last_error = excluded.last_error, "
                         "last_ok_at = excluded.last_ok_at, updated_at = excluded.updated_at",
                         [h.channel, h.label, to_db(h.failing_since), h.failures, h.last_error,
                          to_db(h.last_ok_at), to_db(now)])

    def forget(self, now: datetime, *, track_retention: timedelta, dedup_window: timedelta,
               send_window: timedelta) -> None:
        """Drop settled tracks older than the retention, expired dedup keys, old sends
        and digest ids none of whose alerts is still tracked."""
        with transaction(self.db) as conn:
            # an alert still waiting for acknowledgement is kept longer than a settled one
            conn.execute("DELETE FROM alert_tracks WHERE (acked_by IS NOT NULL OR escalates = 0) AND "
                         "coalesce(settled_at, base_at) < ? OR acked_by IS NULL AND escalates = 1 AND created_at < ?",
                         [to_db(now - track_retention), to_db(now - UNACKED_RETENTION)])
            conn.execute("DELETE FROM alert_steps WHERE alert_id NOT IN (SELECT id FROM alert_tracks)")
            conn.execute("DELETE FROM alert_dedup WHERE seen_at <= ?", [to_db(now - dedup_window)])
            conn.execute("DELETE FROM alert_sends WHERE at <= ?", [to_db(now - send_window)])
            rows = conn.execute("SELECT id, members FROM alert_folds").fetchall()
            live = {r[0] for r in conn.execute("SELECT id FROM alert_tracks").fetchall()}
            dead = [(fid,) for fid, members in rows if not live.intersection(json.loads(members))]
            conn.executemany("DELETE FROM alert_folds WHERE id = ?", dead)

    # ------------------------------------------------------------ helpers

    @staticmethod
    def _put_track(conn, tr: TrackRow, now: datetime) -> None:
        conn.execute(
            "INSERT INTO alert_tracks (id, alert, incident_id, escalates, base_at, tier, acked_by, acked_at, "
            "settled_at, created_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "(SELECT coalesce(max(seq), 0) + 1 FROM alert_tracks)) ON CONFLICT (id) DO UPDATE SET "
            "alert = excluded.alert, incident_id = excluded.incident_id, escalates = excluded.escalates, "
            "base_at = excluded.base_at, tier = excluded.tier, acked_by = excluded.acked_by, "
            "acked_at = excluded.acked_at, settled_at = excluded.settled_at, created_at = excluded.created_at",
            [tr.alert.id, alert_to_json(tr.alert), _incident_text(tr.alert.incident_id), int(tr.escalates),
             to_db(tr.base_at), tr.tier, tr.acked_by, to_db(tr.acked_at), to_db(tr.settled_at), to_db(now)])

    @staticmethod
    def _put_step(conn, alert_id: str, step: StepRecord) -> bool:
        """Whether this step is newly recorded (False: it was decided already)."""
        return conn.execute(
            "INSERT INTO alert_steps (alert_id, step, at, targets, channels) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (alert_id, step) DO NOTHING RETURNING step",
            [alert_id, step.step, to_db(step.at), json.dumps(list(step.targets), ensure_ascii=False),
             json.dumps(list(step.channels), ensure_ascii=False)]).fetchone() is not None

    @staticmethod
    def _update_track(conn, tr: TrackRow) -> None:
        conn.execute("UPDATE alert_tracks SET base_at = ?, tier = ?, settled_at = coalesce(settled_at, ?) WHERE id = ?",
                     [to_db(tr.base_at), tr.tier, to_db(tr.settled_at), tr.alert.id])

    @staticmethod
    def _put_queue(conn, channel: str, alert: Alert, now: datetime) -> None:
        conn.execute("INSERT INTO alert_queue (channel, alert_id, tier, alert, enqueued_at, seq) "
                     "VALUES (?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM alert_queue)) "
                     "ON CONFLICT (channel, alert_id, tier) DO UPDATE SET alert = excluded.alert, "
                     "enqueued_at = excluded.enqueued_at, sending_at = NULL, claimed_by = NULL",
                     [channel, alert.id, alert.escalation_tier, alert_to_json(alert), to_db(now)])


# ---------------------------------------------------------------- other processes

def _has_tables(db: sqlite_utils.Database) -> bool:
    """Whether a dispatcher has created its tables in this database (consoles never create them)."""
    return db["alert_tracks"].exists()


def ack_alert(db: sqlite_utils.Database, alert_id: str, actor: str, now: datetime) -> list[str]:
    """Acknowledge an alert (or every alert of a folded digest id) from any process,
    e.g. a console. The running dispatcher stops its escalation on its next tick.
    Returns the ids newly acknowledged; raises AlertError when the id is unknown."""
    if now.tzinfo is None:
        raise AlertError(f"acknowledgement time must be timezone-aware, got {now!r}")
    if not _has_tables(db):
        raise AlertError(f"告警 {alert_id} 不存在或已过期，无法确认")
    row = db.execute("SELECT members FROM alert_folds WHERE id = ?", [alert_id]).fetchone()
    ids = json.loads(row[0]) if row else [alert_id]
    marks = ",".join("?" * len(ids))
    with transaction(db) as conn:
        found = conn.execute(f"SELECT id, acked_by FROM alert_tracks WHERE id IN ({marks})", ids).fetchall()
        if not found:
            raise AlertError(f"告警 {alert_id} 不存在或已过期，无法确认")
        fresh = [r[0] for r in found if r[1] is None]
        for aid in fresh:
            conn.execute("UPDATE alert_tracks SET acked_by = ?, acked_at = ?, settled_at = ?, "
                         "ack_seq = (SELECT coalesce(max(ack_seq), 0) + 1 FROM alert_tracks) WHERE id = ?",
                         [actor, to_db(now), to_db(now), aid])
    return fresh


def ack_incident_alerts(db: sqlite_utils.Database, incident_id: Any, actor: str, now: datetime) -> list[str]:
    """Acknowledge every alert of an incident still waiting for a person: acknowledging the
    incident (确认接报) answers them. Joins the caller's transaction; the ids acknowledged."""
    if now.tzinfo is None:
        raise AlertError(f"acknowledgement time must be timezone-aware, got {now!r}")
    if not _has_tables(db):
        return []
    with transaction(db) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM alert_tracks WHERE incident_id = ? AND escalates = 1 "
                                          "AND acked_by IS NULL", [_incident_text(incident_id)]).fetchall()]
        for aid in ids:
            conn.execute("UPDATE alert_tracks SET acked_by = ?, acked_at = ?, settled_at = ?, "
                         "ack_seq = (SELECT coalesce(max(ack_seq), 0) + 1 FROM alert_tracks) WHERE id = ?",
                         [actor, to_db(now), to_db(now), aid])
    return ids


def _health_rows(db: sqlite_utils.Database) -> list[ChannelHealth]:
    rows = db.execute("SELECT channel, label, failing_since, failures, last_error, last_ok_at "
                      "FROM alert_channel_health ORDER BY channel").fetchall()
    return [ChannelHealth(r[0], r[1], from_db(r[2]), r[3], r[4], from_db(r[5])) for r in rows]


def failing_channels(db: sqlite_utils.Database) -> list[ChannelHealth]:
    """Channels whose last send failed (read from any process: doctor, the console)."""
    if not db["alert_channel_health"].exists():
        return []
    return [h for h in _health_rows(db) if h.failing]


def unacknowledged_alerts(db: sqlite_utils.Database) -> list[tuple[Alert, int]]:
    """Alerts that escalate and are not acknowledged yet, with the tier reached, oldest first."""
    if not _has_tables(db):
        return []
    rows = db.execute("SELECT alert, tier FROM alert_tracks WHERE escalates = 1 AND acked_by IS NULL "
                      "ORDER BY created_at, seq").fetchall()
    return [(alert_from_json(a), tier) for a, tier in rows]


@dataclass(frozen=True)
class AlertRecord:
    """One alert as ``yuqing alerts`` and the console list it: ``step`` is the number of
    escalations sent, ``base_at`` the last send (the next step counts from it), ``steps``
    whom each send was for."""

    alert: Alert
    escalates: bool
    step: int
    base_at: datetime | None
    acked_by: str | None
    acked_at: datetime | None
    created_at: datetime
    steps: tuple[StepRecord, ...] = ()

    @property
    def open(self) -> bool:
        """Waiting for acknowledgement."""
        return self.escalates and self.acked_by is None


def list_alerts(db: sqlite_utils.Database, *, open_only: bool = False, limit: int = 500) -> list[AlertRecord]:
    """Tracked alerts, newest first (``open_only``: those waiting for acknowledgement).
    Read from any process; a desk whose dispatcher never ran has none."""
    if not _has_tables(db):
        return []
    return _records(db, "WHERE escalates = 1 AND acked_by IS NULL" if open_only else "", [], limit)


def _records(db: sqlite_utils.Database, where: str, params: list, limit: int) -> list[AlertRecord]:
    rows = db.execute(f"SELECT id, alert, escalates, tier, base_at, acked_by, acked_at, created_at FROM alert_tracks "
                      f"{where} ORDER BY created_at DESC, seq DESC LIMIT ?", [*params, limit]).fetchall()
    steps: dict[str, list[StepRecord]] = {}
    has_steps = db["alert_steps"].exists()
    waiting = _waiting(db) if rows and has_steps else {}
    if rows and has_steps:
        ids = [r[0] for r in rows]
        for chunk in range(0, len(ids), 500):
            part = ids[chunk:chunk + 500]
            for aid, step, at, targets, channels in db.execute(
                    f"SELECT alert_id, step, at, targets, channels FROM alert_steps WHERE alert_id IN "
                    f"({','.join('?' * len(part))}) ORDER BY step", part).fetchall():
                steps.setdefault(aid, []).append(StepRecord(step, from_db(at), tuple(json.loads(targets)),
                                                            tuple(json.loads(channels)),
                                                            tuple(sorted(waiting.get((aid, step), ())))))
    out = []
    for aid, alert, escalates, tier, base_at, acked_by, acked_at, created_at in rows:
        try:
            a = alert_from_json(alert)
        except (ValueError, TypeError, KeyError, AlertError):
            continue  # unreadable rows are left in place and skipped, as the dispatcher does
        out.append(AlertRecord(a, bool(escalates), tier, from_db(base_at), acked_by, from_db(acked_at),
                               from_db(created_at), tuple(steps.get(aid, ()))))
    return out


def _waiting(db: sqlite_utils.Database) -> dict[tuple[str, int], set[str]]:
    """(alert id, step) -> channels where that send has no outcome yet (queued, or failed
    and waiting for a retry, also inside a folded digest)."""
    out: dict[tuple[str, int], set[str]] = {}
    for channel, aid, tier in db.execute("SELECT channel, alert_id, tier FROM alert_queue").fetchall():
        out.setdefault((aid, tier), set()).add(channel)
    for channel, members in db.execute("SELECT channel, members FROM alert_retries").fetchall():
        try:
            for m in json.loads(members):
                d = json.loads(m)
                out.setdefault((d["id"], int(d.get("escalation_tier") or 0)), set()).add(channel)
        except (ValueError, TypeError, KeyError):
            continue
    return out


def get_alert(db: sqlite_utils.Database, alert_id: str) -> AlertRecord | None:
    """One tracked alert by id (not a folded digest's id)."""
    if not _has_tables(db):
        return None
    found = _records(db, "WHERE id = ?", [alert_id], 1)
    return found[0] if found else None


def digest_members(db: sqlite_utils.Database, alert_id: str) -> tuple[str, ...]:
    """The alerts a folded digest id stands for (the id itself when it is no digest)."""
    if not _has_tables(db):
        return (alert_id,)
    row = db.execute("SELECT members FROM alert_folds WHERE id = ?", [alert_id]).fetchone()
    return tuple(json.loads(row[0])) if row else (alert_id,)


def waiting_rows(db: sqlite_utils.Database) -> list[dict]:
    """Alerts waiting for acknowledgement as the handover lists them, oldest first:
    ``id``, ``incident``, ``sent_at`` (last send), ``step`` (escalations so far), ``text``."""
    return [{"id": r.alert.id, "incident": r.alert.incident_id, "sent_at": r.base_at or r.created_at,
             "step": r.step, "text": r.alert.title}
            for r in reversed(list_alerts(db, open_only=True))]
