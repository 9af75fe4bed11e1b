"""The append-only, tamper-evident timeline.

One global hash chain over every incident, ordered by event id: each event's
``hash`` is sha256 over the canonical JSON of (id, incident_id, seq, kind,
actor, at, payload, prev_hash), and ``prev_hash`` is the previous event's hash
(``GENESIS`` for the first). ``timeline_head`` keeps the last id, hash and
count, so removing the newest events is detected too. Triggers refuse UPDATE
and DELETE; :func:`verify` catches whatever bypasses them.

:func:`append` must run inside the caller's ``storage.db.transaction`` so the
event commits (or rolls back) together with the change it records.
"""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from datetime import datetime, timezone
from typing import Any, Mapping

import sqlite_utils

from responders import anchor
from responders.exceptions import TimelineKeyMissing
from responders.masking import clean, mask_personal
from responders.store import PG_GUARD_BODY, PG_GUARD_TRIGGERS, dumps
from responders.types import TimelineEvent, VerifyResult
from storage.db import dialect
from storage.timeutil import from_db, to_db

GENESIS = "0" * 64


def event_hash(event_id: int, incident_id: int, seq: int, kind: str, actor: str, at: str,
               payload: Any, prev_hash: str) -> str:
    body = dumps({
        "id": event_id, "incident_id": incident_id, "seq": seq, "kind": kind, "actor": actor,
        "at": at, "payload": payload, "prev_hash": prev_hash,
    })
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def head(conn: sqlite3.Connection) -> tuple[int, str, int] | None:
    """The chain head: (last event id, its hash, how many events), None before the first event."""
    return conn.execute("SELECT last_event_id, last_hash, count FROM timeline_head WHERE id = 1").fetchone()


def append(conn: sqlite3.Connection, incident_id: int, kind: str, actor: str, at: datetime,
           payload: Mapping[str, Any] | None = None) -> TimelineEvent:
    """Append one event (inside an open transaction) and move the chain head."""
    # Canonical and JSON-safe; personal data masked and secrets scrubbed, because the timeline
    # is kept for good (retention never deletes it) and is shown and exported as it is.
    payload = clean(json.loads(dumps(dict(payload or {}))))
    top = head(conn)
    prev_hash = top[1] if top else GENESIS
    last_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM timeline_events").fetchone()[0]
    event_id = last_id + 1
    seq = conn.execute(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM timeline_events WHERE incident_id = ?", [incident_id]
    ).fetchone()[0]
    at_s = to_db(at)
    h = event_hash(event_id, incident_id, seq, kind, actor, at_s, payload, prev_hash)
    anc = _anchor_for_append(conn, event_id)
    mac = anc.mac(anchor.event_text(h)) if anc.key is not None else None
    conn.execute(
        "INSERT INTO timeline_events (id, incident_id, seq, kind, actor, at, payload, prev_hash, hash, mac)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [event_id, incident_id, seq, kind, actor, at_s, dumps(payload), prev_hash, h, mac],
    )
    count = (top[2] if top else 0) + 1
    head_mac = anc.mac(anchor.head_text(event_id, h, count)) if anc.key is not None else None
    conn.execute(
        "INSERT INTO timeline_head (id, last_event_id, last_hash, count, mac) VALUES (1, ?, ?, ?, ?)"
        " ON CONFLICT(id) DO UPDATE SET last_event_id = excluded.last_event_id,"
        " last_hash = excluded.last_hash, count = excluded.count, mac = excluded.mac",
        [event_id, h, count, head_mac],
    )
    return TimelineEvent(event_id, incident_id, seq, kind, actor, from_db(at_s), payload, prev_hash, h)


def _anchor_for_append(conn: sqlite3.Connection, event_id: int) -> anchor.Anchor:
    """The key (created on first use) and, the first time, the anchor row saying MACs start here.
    A start already written in the key file wins, so a removed anchor row is not silently moved."""
    row = conn.execute("SELECT start_event_id, mac FROM timeline_anchor WHERE id = 1").fetchone()
    # A server desk is shared by machines: once anchored, one that lacks the key (or has another)
    # must not sign with a key of its own, or every machine's verify would fail from then on.
    shared = row is not None and dialect(conn) == "postgresql"
    anc = anchor.load(conn, create=not shared)
    if shared and (anc.key is None or not anc.check(anchor.start_text(row[0]), row[1])):
        raise TimelineKeyMissing(anc.db_name, anc.folder, wrong=anc.key is not None)
    if anc.key is None:
        return anc
    if row is None:
        start = anc.file_start if anc.file_start is not None else event_id
        conn.execute("INSERT INTO timeline_anchor (id, start_event_id, created_at, mac) VALUES (1, ?, ?, ?)",
                     [start, to_db(datetime.now(timezone.utc)), anc.mac(anchor.start_text(start))])
        if anc.file_start is None:
            anchor.record_start(anc, start)
    return anc


def _row_event(r: Mapping[str, Any]) -> TimelineEvent:
    return TimelineEvent(
        id=r["id"], incident_id=r["incident_id"], seq=r["seq"], kind=r["kind"], actor=r["actor"],
        at=from_db(r["at"]), payload=json.loads(r["payload"]), prev_hash=r["prev_hash"], hash=r["hash"],
    )


def events(db: sqlite_utils.Database, incident_id: int | None = None, *, kinds: tuple[str, ...] = ()) -> list[TimelineEvent]:
    """Events of one incident (or all), oldest first."""
    sql = "SELECT * FROM timeline_events"
    where, params = [], []
    if incident_id is not None:
        where.append("incident_id = ?")
        params.append(incident_id)
    if kinds:
        where.append(f"kind IN ({','.join('?' * len(kinds))})")
        params.extend(kinds)
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id"
    return [_row_event(r) for r in db.execute_returning_dicts(sql, params)]


def events_between(db: sqlite_utils.Database, start: datetime, end: datetime) -> list[TimelineEvent]:
    """Events of every incident (and the desk) recorded in [start, end], oldest first."""
    rows = db.execute_returning_dicts(
        "SELECT * FROM timeline_events WHERE at >= ? AND at <= ? ORDER BY id", [to_db(start), to_db(end)])
    return [_row_event(r) for r in rows]


def events_for(db: sqlite_utils.Database, incident_ids: list[int]) -> dict[int, list[TimelineEvent]]:
    """Events of many incidents at once, grouped, oldest first."""
    out: dict[int, list[TimelineEvent]] = {i: [] for i in incident_ids}
    if not incident_ids:
        return out
    for chunk_start in range(0, len(incident_ids), 500):
        chunk = incident_ids[chunk_start:chunk_start + 500]
        rows = db.execute_returning_dicts(
            f"SELECT * FROM timeline_events WHERE incident_id IN ({','.join('?' * len(chunk))}) ORDER BY id",
            chunk,
        )
        for r in rows:
            out[r["incident_id"]].append(_row_event(r))
    return out


GUARD_TRIGGERS = {
    "timeline_no_update": "CREATE TRIGGER timeline_no_update BEFORE UPDATE ON timeline_events"
                          " BEGIN SELECT RAISE(ABORT, 'timeline_events is append-only'); END",
    "timeline_no_delete": "CREATE TRIGGER timeline_no_delete BEFORE DELETE ON timeline_events"
                          " BEGIN SELECT RAISE(ABORT, 'timeline_events is append-only'); END",
}


def _fail(checked: int, event_id: int | None, reason: str, notes: list[str]) -> VerifyResult:
    return VerifyResult(False, checked, event_id, reason, tuple(notes))


def verify(db: sqlite_utils.Database, *, witness: str | None = None) -> VerifyResult:
    """Walk the whole chain and name the first problem: a broken link or hash, a missing or
    wrong HMAC (when the key is available), a head that does not match, guard triggers that
    were altered, incidents or releases whose rows disagree with their events, or a chain
    that no longer contains the last witnessed head (``witness``: "COUNT:HASH" from paper)."""
    conn = db.conn
    notes: list[str] = []
    try:
        anc = anchor.load(conn)
    except ValueError as exc:
        return _fail(0, None, str(exc), notes)
    has_anchor_table = db["timeline_anchor"].exists()
    start_row = conn.execute("SELECT start_event_id, mac FROM timeline_anchor WHERE id = 1").fetchone() \
        if has_anchor_table else None
    start: int | None = None
    if anc.key is None:
        if start_row is not None:
            where = (f"本机 desk home（{anc.folder or '未指定'}）中没有 timeline.key：从写入事件的机器复制过来，或设置"
                     f" {anchor.KEY_ENV}" if dialect(db) == "postgresql"
                     else f"timeline.key 被删除或 {anchor.KEY_ENV} 未设置")
            return _fail(0, None, f"数据库已启用 HMAC 锚定，但找不到时间线密钥（{where}）：无法确认时间线未被重算", notes)
        notes.append("未找到时间线密钥：只校验了哈希链（无 HMAC 锚定）")
    else:
        if start_row is None:
            if anc.file_start is not None:
                return _fail(0, None, f"锚定记录被删除：密钥文件记载自事件 {anc.file_start} 起锚定，"
                                      "数据库中却没有锚定记录", notes)
            notes.append("已有密钥，尚未写入新事件：HMAC 锚定将从下一条事件开始")
        else:
            start = start_row[0]
            if not anc.check(anchor.start_text(start), start_row[1]):
                return _fail(0, None, "锚定记录的 HMAC 不符（锚定起点被改过）", notes)
            if anc.file_start is not None and anc.file_start != start:
                return _fail(0, None, f"锚定起点不一致：密钥文件记载事件 {anc.file_start}，"
                                      f"数据库记载事件 {start}", notes)
            notes.append(f"HMAC 锚定自事件 {start} 起" + (f"；事件 1–{start - 1} 早于密钥，只由哈希链校验"
                                                         if start > 1 else ""))

    prev_hash = GENESIS
    checked = 0
    expected_id = 1
    last_id = 0
    has_mac = "mac" in db["timeline_events"].columns_dict
    cur = conn.execute(
        "SELECT id, incident_id, seq, kind, actor, at, payload, prev_hash, hash, "
        + ("mac" if has_mac else "NULL") + " FROM timeline_events ORDER BY id"
    )
    hashes: dict[int, str] = {}
    for event_id, incident_id, seq, kind, actor, at, payload_s, stored_prev, stored_hash, mac in cur:
        if event_id != expected_id:
            return _fail(checked, event_id, f"event {event_id}: expected id {expected_id} (events missing before it)", notes)
        if stored_prev != prev_hash:
            return _fail(checked, event_id, f"event {event_id}: prev_hash does not match the previous event's hash", notes)
        try:
            payload = json.loads(payload_s)
        except (TypeError, ValueError):
            return _fail(checked, event_id, f"event {event_id}: payload is not valid JSON", notes)
        if event_hash(event_id, incident_id, seq, kind, actor, at, payload, stored_prev) != stored_hash:
            return _fail(checked, event_id, f"event {event_id}: content does not match its hash (edited)", notes)
        if start is not None and event_id >= start and not anc.check(anchor.event_text(stored_hash), mac):
            return _fail(checked, event_id, f"event {event_id}: HMAC does not match "
                                            "(chain recomputed without the key: edited or inserted)", notes)
        hashes[event_id] = stored_hash
        prev_hash = stored_hash
        checked += 1
        expected_id += 1
        last_id = event_id
    head_cols = "last_event_id, last_hash, count, " + ("mac" if has_mac else "NULL")
    head = conn.execute(f"SELECT {head_cols} FROM timeline_head WHERE id = 1").fetchone()
    if head is None:
        if checked:
            return _fail(checked, None, "timeline head is missing", notes)
        if start is not None:
            return _fail(0, None, f"所有事件和链头都不见了：时间线自事件 {start} 起已锚定，"
                                  "却是空的（事件被删除）", notes)
    elif head[0] != last_id or head[1] != prev_hash or head[2] != checked:
        return _fail(checked, last_id + 1 if head[0] > last_id else None,
                     f"timeline head says {head[2]} events ending at event {head[0]}, "
                     f"found {checked} ending at event {last_id} (events removed from the end?)", notes)
    elif start is not None and last_id >= start and not anc.check(anchor.head_text(*head[:3]), head[3]):
        return _fail(checked, None, f"timeline head HMAC does not match: the head was rewritten "
                                    f"(events removed from the end after event {last_id}?)", notes)
    problem = guard_problem(db)
    if problem:
        return _fail(checked, None, problem, notes)
    from responders.instructions import check_against_timeline

    problem = _cross_check(db) or check_against_timeline(db)
    if problem:
        return _fail(checked, None, problem, notes)
    problem = _witness_check(anc, hashes, checked, witness, notes)
    if problem:
        return _fail(checked, None, problem, notes)
    return VerifyResult(True, checked, None, "", tuple(notes))


def guard_problem(db: sqlite_utils.Database) -> str:
    """What is wrong with the triggers that keep the timeline append-only ("" when each is in
    place exactly as created): dropped, rewritten, disabled, or (PostgreSQL) calling a function
    whose body no longer refuses the change."""
    conn = db.conn
    if dialect(db) != "postgresql":
        for name, sql in GUARD_TRIGGERS.items():
            row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", [name]).fetchone()
            if row is None or " ".join((row[0] or "").split()) != sql:
                return f"防改触发器 {name} 被删除或改动（时间线不再只能追加）"
        return ""
    rows = conn.execute(
        "SELECT t.tgname, t.tgenabled, pg_get_triggerdef(t.oid), l.lanname, p.prosrc"
        " FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_language l ON l.oid = p.prolang"
        " WHERE t.tgrelid = to_regclass('timeline_events') AND NOT t.tgisinternal ORDER BY t.tgname").fetchall()
    found = {r[0]: r[1:] for r in rows}
    for name, sql in PG_GUARD_TRIGGERS.items():
        if name not in found:
            return f"防改触发器 {name} 被删除（时间线不再只能追加）"
        enabled, definition, language, body = found[name]
        # the table is shown schema-qualified; which function runs is checked by its body below
        definition = re.sub(r" ON \S+\.timeline_events ", " ON timeline_events ", " ".join(definition.split()))
        definition = re.sub(r"EXECUTE FUNCTION \S+\.timeline_append_only\(", "EXECUTE FUNCTION timeline_append_only(",
                            definition)
        if definition != sql:
            return f"防改触发器 {name} 被改动（时间线不再只能追加）"
        if enabled not in ("O", "A"):  # 'D': ALTER TABLE ... DISABLE TRIGGER; 'R': replica only
            return f"防改触发器 {name} 被停用（ALTER TABLE … DISABLE TRIGGER：时间线不再只能追加）"
        if language != "plpgsql" or " ".join((body or "").split()) != " ".join(PG_GUARD_BODY.split()):
            return f"防改触发器 {name} 调用的函数被改写（时间线不再只能追加）"
    return ""


def _witness_check(anc: anchor.Anchor, hashes: dict[int, str], checked: int, paper: str | None,
                   notes: list[str]) -> str:
    """The chain must still contain each witnessed head: same count or more, same hash at that event."""
    witnesses = []
    last, problem = anchor.last_witness(anc)
    if problem:
        return problem
    if last is not None:
        witnesses.append((f"{last['where']}（{last['at']}）见证", last["count"], last["head"]))
    if paper:
        count_s, _, head_s = paper.partition(":")
        try:
            witnesses.append(("所给见证", int(count_s), head_s.strip().lower()))
        except ValueError:
            return f"见证格式应为「事件数:链头哈希」，收到 {paper!r}"
    for label, count, head in witnesses:
        # Events are numbered 1..count with no gaps (checked above), so the witnessed head is event ``count``.
        if count > checked:
            return f"{label}时有 {count} 条事件，现在只有 {checked} 条（事件被删除）"
        if not head or not hashes.get(count, "").startswith(head):
            return f"{label}的链头（第 {count} 条事件 {head[:16]}…）与现在的第 {count} 条事件不符（时间线被重算）"
        notes.append(f"{label}：{count} 条事件，链头一致")
    return ""


def _cross_check(db: sqlite_utils.Database) -> str:
    """Incidents and releases rows must agree with their timeline events: each incident was
    detected on the timeline with this title; its state, severity, deadline and merge follow
    its latest events; each release row matches its release event and the reverse."""
    if not db["incidents"].exists():
        return ""
    last: dict[int, dict[str, Any]] = {}
    releases: dict[int, dict[str, Any]] = {}
    wanted = {"detected", "state_changed", "graded", "clock_set", "merged_into", "release"}
    for iid, kind, payload_s in db.conn.execute("SELECT incident_id, kind, payload FROM timeline_events ORDER BY id"):
        retitled = "title" in kind or "renam" in kind or "retitl" in kind  # a later title change, if any
        if kind not in wanted and not retitled:
            continue
        p = json.loads(payload_s)
        s = last.setdefault(iid, {})
        if retitled and isinstance(p.get("title") or p.get("to"), str):
            s["title"] = p.get("title") or p.get("to")
        elif kind == "detected":
            s.update(title=p.get("title"), severity=p.get("severity"), detected=True)
        elif kind == "state_changed":
            s["state"] = p.get("to")
        elif kind == "graded":
            s["severity"] = p.get("to")
        elif kind == "clock_set":
            s["release_due"] = p.get("due_at")
        elif kind == "merged_into":
            s["merged_into"] = p.get("target")
        elif kind == "release" and p.get("release_id") is not None:
            releases[p["release_id"]] = p
    for r in db.conn.execute("SELECT id, title, state, severity, release_due, merged_into FROM incidents ORDER BY id"):
        iid, title, state, severity, due, merged = r
        s = last.get(iid)
        if not s or not s.get("detected"):
            return f"事件 #{iid} 在时间线上没有发现记录（事件行被插入，或其时间线被删除）"
        expect = {"title": s["title"], "state": s.get("state", "发现"), "severity": s.get("severity"),
                  "release_due": s.get("release_due"), "merged_into": s.get("merged_into")}
        actual = {"title": mask_personal(title), "state": state, "severity": severity, "release_due": due, "merged_into": merged}
        for col, want in expect.items():
            if want is not None and actual[col] != (mask_personal(want) if col == "title" else want):
                return f"事件 #{iid} 的 {col} 与时间线不符：表中为 {actual[col]!r}，时间线为 {want!r}（incidents 表被直接改动）"
            if col == "merged_into" and want is None and merged is not None:
                return f"事件 #{iid} 的 merged_into 与时间线不符（incidents 表被直接改动）"
    known = {iid for (iid,) in db.conn.execute("SELECT id FROM incidents")}
    orphan = next((iid for iid in last if iid not in known), None)
    if orphan is not None:
        return f"时间线上有事件 #{orphan} 的记录，incidents 表中却没有它（事件行被删除）"
    seen = set()
    for rid, kind, channel, url, released_at, text in db.conn.execute(
            "SELECT id, kind, channel, url, released_at, text FROM releases ORDER BY id"):
        p = releases.get(rid)
        if p is None:
            return f"发布记录 {rid} 在时间线上没有对应事件（releases 表被直接插入）"
        row = clean({"kind": kind, "channel": channel, "url": url or "", "released_at": released_at,
                     "text": text or ""})
        for col, val in row.items():
            if (p.get(col) or "") != (val or ""):
                return f"发布记录 {rid} 的 {col} 与时间线不符（releases 表被直接改动）"
        seen.add(rid)
    missing = sorted(set(releases) - seen)
    if missing:
        return f"时间线记录了发布 {missing[0]}，releases 表中却没有它（发布记录被删除）"
    return ""
