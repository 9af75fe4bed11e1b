"""The timeline's anchor: a secret key kept outside the database, and the witnessed heads.

The plain hash chain (``timeline.event_hash``) is public: whoever can write the database
can edit an event and recompute every later hash. Anchoring adds an HMAC-SHA256 under a
key the database does not hold: every event's ``mac`` signs its chain hash (which covers
everything before it), the head's ``mac`` signs (last id, last hash, count), and the
``timeline_anchor`` row says from which event on the MACs are required.

The key comes from ``YUQING_TIMELINE_KEY`` (the operator keeps it out of the home) or else
from the key file ``timeline.key``, a 0600 JSON file created on the first append:
``{"key": hex, "anchored_from": {"desk.sqlite": N}}``. An existing desk keeps working: its
first append after the upgrade creates the key, and events before N stay verified by the
plain chain only (``verify`` says so).

Where the key file lives: next to the SQLite file (the desk home); on a PostgreSQL server, in
the desk home of the machine running the command (registered by :func:`use_home` when the home
names the server), never on the database server, so whoever can write the database still
cannot recompute the MACs. Every machine that writes to one server desk needs the same key
(copy ``timeline.key`` into each home, or set ``YUQING_TIMELINE_KEY`` everywhere): a machine
without it refuses to append to a timeline already anchored, rather than start a second key.

Witnesses: each daily report prints the event count and head hash (paper and chat copies
are witnesses) and appends them, signed, to ``timeline.witness`` next to the key; ``verify``
checks the chain still contains the last witnessed head.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from storage.files import write_atomic

KEY_ENV = "YUQING_TIMELINE_KEY"
KEY_FILE = "timeline.key"
WITNESS_FILE = "timeline.witness"
MIN_ENV_KEY = 16


@dataclass(frozen=True)
class Anchor:
    """The key for one database (``key`` None: no key available). ``folder`` holds the key
    and witness files (None: an in-memory database, or a server desk without a home);
    ``db_name`` names the database in them ("desk.sqlite", "postgresql:yuqing")."""
    folder: Path | None
    db_name: str | None
    key: bytes | None
    source: str  # "env" | "file" | "none"
    file_start: int | None = None  # anchored_from recorded in the key file for this database

    def mac(self, text: str) -> str:
        assert self.key is not None
        return hmac.new(self.key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def check(self, text: str, mac: str | None) -> bool:
        return bool(mac) and hmac.compare_digest(self.mac(text), mac)


def event_text(event_hash: str) -> str:
    return f"event:{event_hash}"


def head_text(last_event_id: int, last_hash: str, count: int) -> str:
    return f"head:{last_event_id}:{last_hash}:{count}"


def start_text(start_event_id: int) -> str:
    return f"anchor:{start_event_id}"


# server database URL -> the desk home holding its key and witnesses (on this machine)
_SERVER_HOMES: dict[str, Path] = {}
_SERVER_NAMES: dict[str, str] = {}  # server database URL -> its name in the key and witness files


def use_home(target, folder: Path) -> None:
    """Keep the key and witnesses of the server database ``target`` in the desk home ``folder``
    (a SQLite desk keeps them next to its file: nothing to register)."""
    from storage.dburl import is_server

    if is_server(target):
        _SERVER_HOMES[_server_key(str(target))] = Path(folder)


def _server_key(url: str) -> tuple:
    """Which server database a URL names, whatever role, password or connection options it
    carries (a console's role and the daemon's name the same desk)."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(url)
    except Exception:  # an unparsable URL fails at connect, with its own message
        return (url,)
    return (info.get("host") or "", str(info.get("port") or "5432"), info.get("dbname") or info.get("user") or "")


def key_place(conn) -> tuple[Path | None, str | None]:
    """(folder of the key and witness files, the database's name in them) for a connection."""
    from storage.db import dialect

    if dialect(conn) == "postgresql":
        url = getattr(conn, "url", "")
        if url not in _SERVER_NAMES:  # asked once per URL: every event's append needs it
            _SERVER_NAMES[url] = "postgresql:" + conn.execute("SELECT current_database()").fetchone()[0]
        return _SERVER_HOMES.get(_server_key(url)), _SERVER_NAMES[url]
    for _seq, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return (Path(file).parent, Path(file).name) if file else (None, None)
    return None, None


def key_path(folder: Path) -> Path:
    return folder / KEY_FILE


def witness_path(folder: Path) -> Path:
    return folder / WITNESS_FILE


def _read_key_file(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"时间线密钥文件 {path} 无法读取：{exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("key"), str) or len(data["key"]) < 32:
        raise ValueError(f"时间线密钥文件 {path} 格式不对（应含 key）")
    return data


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the owner only."""
    write_atomic(path, text, mode=0o600)


def load(conn: sqlite3.Connection, *, create: bool = False) -> Anchor:
    """The anchor for this connection's database; ``create`` makes the key file when missing."""
    folder, name = key_place(conn)
    env = os.environ.get(KEY_ENV, "")
    if env:
        if len(env) < MIN_ENV_KEY:
            raise ValueError(f"{KEY_ENV} 太短：至少 {MIN_ENV_KEY} 个字符")
        return Anchor(folder, name, env.encode("utf-8"), "env")
    if folder is None:
        return Anchor(None, name, None, "none")
    path = key_path(folder)
    data = _read_key_file(path)
    if data is None:
        if not create:
            return Anchor(folder, name, None, "none")
        data = {"key": secrets.token_hex(32), "anchored_from": {}}
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # a server desk's home may hold nothing yet
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            data = _read_key_file(path)
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f)
    start = (data.get("anchored_from") or {}).get(name)
    return Anchor(folder, name, bytes.fromhex(data["key"]), "file", start if isinstance(start, int) else None)


def record_start(anchor: Anchor, start_event_id: int) -> None:
    """Remember in the key file (outside the database) from which event this database is anchored."""
    if anchor.source != "file" or anchor.folder is None:
        return
    path = key_path(anchor.folder)
    data = _read_key_file(path) or {}
    data.setdefault("anchored_from", {})[anchor.db_name] = start_event_id
    _write_private(path, json.dumps(data))


# ---------------------------------------------------------------- witnesses

def witness_text(count: int, last_event_id: int, head: str, at: str) -> str:
    return f"witness:{count}:{last_event_id}:{head}:{at}"


def record_witness(conn: sqlite3.Connection, where: str, row: tuple | None) -> dict:
    """The chain's current head ``row`` (last event id, hash, count: ``timeline.head``) appended,
    signed, to the witness file when a key is available. Returned for printing in the report."""
    last_id, head, count = (row[0], row[1], row[2]) if row else (0, "0" * 64, 0)
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    w = {"at": at, "where": where, "count": count, "last_event_id": last_id, "head": head}
    try:
        anchor = load(conn)
    except ValueError:
        return w
    if anchor.key is not None and anchor.folder is not None and count:
        line = dict(w, db=anchor.db_name, mac=anchor.mac(witness_text(count, last_id, head, at)))
        path = witness_path(anchor.folder)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    return w


def last_witness(anchor: Anchor) -> tuple[dict | None, str]:
    """The last signed witness for this database, and a problem text when the file was tampered with."""
    if anchor.key is None or anchor.folder is None:
        return None, ""
    path = witness_path(anchor.folder)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None, ""
    last = None
    for n, line in enumerate(lines, 1):
        try:
            w = json.loads(line)
            ok = anchor.check(witness_text(w["count"], w["last_event_id"], w["head"], w["at"]), w.get("mac"))
        except (ValueError, KeyError, TypeError):
            ok, w = False, None
        if not ok:
            return None, f"见证记录 {path.name} 第 {n} 行签名不符（被改过）"
        if w.get("db") == anchor.db_name:
            last = w
    return last, ""
