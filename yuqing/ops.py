"""Operations on a desk's database: backup, doctor (health checks) and retention.

- :func:`backup` copies the database with SQLite's online backup API in one step,
  i.e. from one read snapshot: consistent even while the daemon writes (WAL readers
  never block writers). The copy is written to a temporary file, checked with
  ``PRAGMA quick_check`` and renamed into place, so a failed backup leaves nothing
  half-written behind.
- :func:`doctor` runs read-only checks (integrity, schema versions, failing sources,
  the timeline's hash chain, free disk space, WAL size, which daemon holds the desk's lock
  and any second daemon on it) and returns a report.
- :func:`retention` deletes raw items older than N days that nothing refers to
  (no incident, evidence, release proposal or staff label) together with their
  metrics, personal data, analysis and search rows. The timeline is never touched.
"""
from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from storage.timeutil import desk_stamp, desk_text
from yuqing.errors import DeskError

log = logging.getLogger("yuqing.ops")

DISK_FREE_WARN = 1024 ** 3  # 1 GiB
DISK_FREE_FAIL = 100 * 1024 ** 2  # 100 MiB
WAL_WARN = 256 * 1024 ** 2  # 256 MiB: checkpoints are not keeping up


class OpsError(DeskError):
    """An operation could not run; the message says what to fix."""


# ---------------------------------------------------------------- backup

@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    pages: int
    seconds: float
    check: str  # result of PRAGMA quick_check on the copy ("ok")


def backup_target(dest: str | os.PathLike, now: datetime, *, mkdir: bool = False,
                  suffix: str = ".sqlite") -> tuple[Path, bool]:
    """(file to write, whether its name was made here). A folder (existing, or written with a
    trailing slash) gets ``desk-YYYYMMDD-HHMMSS.sqlite`` in desk time inside it; anything else is
    the file itself. A missing folder is refused unless ``mkdir``."""
    raw = os.fspath(dest)
    path = Path(raw).expanduser()
    as_folder = raw.endswith(("/", os.sep)) or path.is_dir()
    folder = path if as_folder else path.parent
    if not folder.is_dir():
        if folder.exists():
            raise OpsError(f"{folder} is a file, not a folder: choose another backup place")
        if not mkdir:
            raise OpsError(f"backup folder {folder} does not exist: create it first (mkdir -p {folder}) "
                           "or pass --mkdir")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OpsError(f"cannot create backup folder {folder}: {exc.strerror or exc}") from None
    if as_folder:
        return path / f"desk-{desk_stamp(now)}{suffix}", True
    return path, False


def _put_in_place(tmp: Path, target: Path, *, named: bool, overwrite: bool) -> Path:
    """Move the checked copy to ``target`` without replacing another file (unless ``overwrite``):
    a name made here gets -2, -3, ... when taken, so two backups within one second both stay."""
    if overwrite and not named:
        os.replace(tmp, target)
        return target
    stem, n = target.stem, 1
    try:
        while not _place_new(tmp, target):
            if not named:
                raise OpsError(f"{target} already exists: choose another file or pass --force")
            n += 1
            target = target.with_name(f"{stem}-{n}{target.suffix}")
        return target
    finally:
        tmp.unlink(missing_ok=True)


def _place_new(tmp: Path, target: Path) -> bool:
    """Put ``tmp`` at ``target`` unless ``target`` exists (then False). A hard link makes the check
    and the move one step, so two backups racing for a name cannot replace each other."""
    try:
        os.link(tmp, target)
        return True
    except FileExistsError:
        return False
    except OSError:  # no hard links here (e.g. a FAT USB stick): check, then rename
        if target.exists():
            return False
        os.replace(tmp, target)
        return True


def backup(db_path: str | os.PathLike, dest: str | os.PathLike, *, now: datetime,
           overwrite: bool = False, mkdir: bool = False) -> BackupResult:
    """Copy the database at ``db_path`` to ``dest`` (a file, or a folder for a file named by desk time).
    A database on a PostgreSQL server is dumped with pg_dump instead (:mod:`yuqing.server_ops`)."""
    from storage.dburl import is_server

    if is_server(db_path):
        return _server_backup(str(db_path), dest, now=now, overwrite=overwrite, mkdir=mkdir)
    src_path = Path(db_path)
    if not src_path.is_file():
        raise OpsError(f"no desk database at {src_path} (run `yuqing init` first, or pass the right --home)")
    target, named = backup_target(dest, now, mkdir=mkdir)
    if target.is_dir():
        raise OpsError(f"{target} is a folder: pass a file name or the folder with a trailing /")
    if target.exists() and not overwrite and not named:
        raise OpsError(f"{target} already exists: choose another file or pass --force")
    if target.exists() and target.resolve() == src_path.resolve():
        raise OpsError(f"{target} is the desk database itself: choose another file")
    tmp = target.with_name(f".{target.name}.part-{os.getpid()}")
    t0 = time.monotonic()
    src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True, timeout=15)
    try:
        src.execute("PRAGMA busy_timeout = 15000")
        dst = sqlite3.connect(str(tmp))
        try:
            # pages=-1: everything in one step, from one read snapshot (consistent).
            src.backup(dst, pages=-1)
            pages = dst.execute("PRAGMA page_count").fetchone()[0]
            check = dst.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            dst.close()
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise OpsError(f"backup of {src_path} to {target} failed: {exc}") from None
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OpsError(f"backup to {target} failed: {exc.strerror or exc}") from None
    finally:
        src.close()
    if check != "ok":
        tmp.unlink(missing_ok=True)
        raise OpsError(f"the backup copy failed its integrity check ({check}); {target} was not written")
    target = _put_in_place(tmp, target, named=named, overwrite=overwrite)
    result = BackupResult(target, target.stat().st_size, pages, time.monotonic() - t0, check)
    log.info("backup: %s -> %s (%d pages, %d bytes, %.2fs)", src_path, target, pages, result.size,
             result.seconds)
    return result


def _server_backup(url: str, dest, *, now: datetime, overwrite: bool, mkdir: bool) -> BackupResult:
    import sqlite3

    from storage.db import desk_exists
    from storage.dburl import redacted
    from yuqing.server_ops import backup as dump

    try:
        exists = desk_exists(url)
    except sqlite3.Error as exc:
        raise OpsError(str(exc)) from None
    if not exists:
        raise OpsError(f"no desk in database {redacted(url)} (run `yuqing init` first, or pass the right --database)")
    target, named = backup_target(dest, now, mkdir=mkdir, suffix=".dump")
    if target.is_dir():
        raise OpsError(f"{target} is a folder: pass a file name or the folder with a trailing /")
    if target.exists() and not overwrite and not named:
        raise OpsError(f"{target} already exists: choose another file or pass --force")
    return dump(url, target, named, overwrite=overwrite)


# ---------------------------------------------------------------- doctor

@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    @property
    def worst(self) -> str:
        statuses = {c.status for c in self.checks}
        return "fail" if "fail" in statuses else "warn" if "warn" in statuses else "ok"


def _open_ro(db_path: Path):
    import sqlite_utils

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=15, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 15000")
    return sqlite_utils.Database(conn)


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover


def doctor(home_path: str | os.PathLike, db_path: str | os.PathLike, *, now: datetime,
           full: bool = False, migration_sets=None) -> DoctorReport:
    """Read-only health checks of a desk. ``full`` runs integrity_check instead of quick_check
    (SQLite; a server is checked by its connection, version, schema and lock holders instead)."""
    from storage.dburl import is_server

    home_path = Path(home_path)
    checks: list[Check] = []
    checks.append(_disk_check(home_path if home_path.exists() else home_path.parent))
    if is_server(db_path):
        from yuqing.server_ops import database_checks

        found, db = database_checks(str(db_path), migration_sets)
        checks += found
        if db is not None:
            try:
                checks += _table_checks(db, now, home_path, migration_sets, schema=False)
            finally:
                db.close()
        return DoctorReport(tuple(checks))
    db_path = Path(db_path)
    checks.append(_daemon_check(home_path, db_path))
    if not db_path.is_file():
        checks.append(Check("database", "fail", f"no database at {db_path} (run `yuqing init`)"))
        return DoctorReport(tuple(checks))
    checks.append(Check("database", "ok", f"{db_path} ({_human(db_path.stat().st_size)})"))
    checks.append(_wal_check(db_path))
    try:
        db = _open_ro(db_path)
    except sqlite3.Error as exc:
        checks.append(Check("integrity", "fail", f"cannot open {db_path}: {exc}"))
        return DoctorReport(tuple(checks))
    try:
        integrity = _integrity_check(db, full)
        checks.append(integrity)
        if integrity.status == "ok":  # the other checks read tables: only on a sound file
            checks += _table_checks(db, now, home_path, migration_sets)
    finally:
        db.conn.close()
    return DoctorReport(tuple(checks))


def _table_checks(db, now: datetime, home_path: Path, migration_sets, *, schema: bool = True) -> list[Check]:
    """The checks that read the desk's tables (either backend)."""
    checks = []
    for name, fn in (("schema", lambda: _schema_check(db, migration_sets)),
                     ("sources", lambda: _sources_check(db, now)),
                     ("timeline", lambda: _timeline_check(db)),
                     ("alerts", lambda: _alerts_check(db, now)),
                     ("roster", lambda: _roster_check(db, now, home_path)),
                     ("workdays", lambda: _workday_check(db, now, home_path))):
        if name == "schema" and not schema:
            continue
        try:
            checks.append(fn())
        except sqlite3.DatabaseError as exc:
            checks.append(Check(name, "fail", f"cannot read: {exc}"))
    return checks


def _disk_check(path: Path) -> Check:
    try:
        usage = shutil.disk_usage(path)
    except OSError as exc:
        return Check("disk", "fail", f"cannot read free space of {path}: {exc.strerror or exc}")
    detail = f"{_human(usage.free)} free of {_human(usage.total)} at {path}"
    if usage.free < DISK_FREE_FAIL:
        return Check("disk", "fail", detail + " — free space now: the desk cannot store new items")
    if usage.free < DISK_FREE_WARN:
        return Check("disk", "warn", detail + " — under 1 GB: free space or run `yuqing retention`")
    return Check("disk", "ok", detail)


def _daemon_check(home_path: Path, db_path: Path) -> Check:
    """Who holds the desk's lock, and any other daemon process on this home (one that started
    without the lock: an older yuqing, or one started after desk.lock was deleted)."""
    from yuqing.desklock import describe, holder, lock_path

    held = holder(db_path)
    others = [pid for pid in _daemon_pids(home_path) if held is None or pid != held.get("pid")]
    if held is not None and others:
        return Check("daemon", "fail", f"a second daemon runs on this desk: PID {', '.join(map(str, others))}, "
                     f"besides the lock holder ({describe(held)}): stop all but one")
    if len(others) > 1:
        return Check("daemon", "fail", f"{len(others)} daemons run on this desk (PID "
                     f"{', '.join(map(str, others))}) and none holds {lock_path(db_path).name}: stop all but one")
    if held is not None:
        return Check("daemon", "ok", f"running: {describe(held)}; holds {lock_path(db_path)}")
    if others:
        return Check("daemon", "warn", f"a daemon (PID {others[0]}) runs without holding "
                     f"{lock_path(db_path).name}: restart it with this version")
    return Check("daemon", "ok", "not running (nobody holds the desk's lock)")


def _daemon_pids(home_path: Path) -> list[int]:
    """PIDs of `yuqing run`/`yuqing demo` processes of this user on this home (Linux /proc; [] elsewhere)."""
    try:
        home = home_path.resolve()
        entries = [e for e in os.listdir("/proc") if e.isdigit() and int(e) != os.getpid()]
    except OSError:
        return []
    found = []
    for pid in entries:
        try:
            argv = [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")]
            if "yuqing" not in " ".join(argv[:3]) or not {"run", "demo"} & set(argv):
                continue
            given = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--home"), None)
            if given is None:
                env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                given = next((e[12:].decode(errors="replace") for e in env if e.startswith(b"YUQING_HOME=")), None)
            if given is None:
                continue
            if (Path(os.readlink(f"/proc/{pid}/cwd")) / Path(given).expanduser()).resolve() == home:
                found.append(int(pid))
        except OSError:  # gone meanwhile, or another user's
            continue
    return sorted(found)


def _wal_check(db_path: Path) -> Check:
    wal = db_path.with_name(db_path.name + "-wal")
    size = wal.stat().st_size if wal.exists() else 0
    if size > WAL_WARN:
        return Check("wal", "warn", f"WAL is {_human(size)}: a long-running reader may block checkpoints")
    return Check("wal", "ok", f"WAL {_human(size)}")


def _integrity_check(db, full: bool) -> Check:
    pragma = "integrity_check" if full else "quick_check"
    try:
        rows = [r[0] for r in db.conn.execute(f"PRAGMA {pragma}(20)").fetchall()]
    except sqlite3.DatabaseError as exc:
        return Check("integrity", "fail", f"{pragma} could not run: {exc} — restore the latest backup")
    if rows == ["ok"]:
        return Check("integrity", "ok", f"{pragma}: ok")
    return Check("integrity", "fail", f"{pragma}: " + "; ".join(rows[:5]) + " — restore the latest backup")


def _schema_check(db, migration_sets) -> Check:
    if migration_sets is None:
        from pipeline.schema import all_migrations

        migration_sets = all_migrations()
    from storage.db import NewerSchemaError, unknown_steps

    try:
        newer = unknown_steps(db.conn, migration_sets, any_set=True)
        parts, pending = [], []
        for mset in migration_sets:
            applied = mset.applied(db)
            parts.append(f"{mset.name} {applied[-1].name if applied else '(none)'}")
            pending += [f"{mset.name}.{m.name}" for m in mset.pending(db)]
    except sqlite3.DatabaseError as exc:
        return Check("schema", "fail", f"cannot read _sqlite_migrations: {exc}")
    if newer:
        return Check("schema", "fail", NewerSchemaError.describe(newer))
    detail = ", ".join(parts)
    if pending:
        return Check("schema", "warn", detail + f"; pending: {', '.join(pending)} (applied on the next `yuqing run`)")
    return Check("schema", "ok", detail)


def _sources_check(db, now: datetime) -> Check:
    from monitor.store import source_health

    if not db["sources"].exists():
        return Check("sources", "warn", "no sources table yet (the daemon has not run)")
    health = source_health(db, now)
    enabled = [h for h in health if h.enabled]
    failing = [h for h in enabled if h.error_streak]
    silent = [h for h in enabled if h.silent and not h.error_streak]
    if not failing and not silent:
        return Check("sources", "ok", f"{len(enabled)} enabled, none failing")
    names = [f"{h.source_id} ({h.error_streak}x: {(h.last_error or '')[:80]})" for h in failing[:10]]
    names += [f"{h.source_id} (silent)" for h in silent[:5]]
    return Check("sources", "warn", f"{len(failing)} failing, {len(silent)} silent of {len(enabled)}: "
                 + "; ".join(names))


def _alerts_check(db, now: datetime) -> Check:
    from responders.alerts.store import failing_channels
    from storage.timeutil import local
    from storage.visible import visible

    failing = failing_channels(db)
    if not failing:
        return Check("alerts", "ok", "no alert channel failing")
    parts = [f"{visible(h.label)} failing since {local(h.failing_since):%m-%d %H:%M} "
             f"({h.failures}x: {visible(h.last_error or '')[:80]})" for h in failing]
    return Check("alerts", "warn", f"{len(failing)} alert channel(s) failing: " + "; ".join(parts))


def _roster_check(db, now: datetime, home_path: Path) -> Check:
    """Stretches of the coming [roster] gap_warning_hours no shift covers (a desk without any
    roster yet is a one-operator desk: nothing to warn about)."""
    from monitor.exceptions import ConfigError
    from responders.roster import RosterError, gap_hours, has_roster, roster_gaps, staffing_problems
    from yuqing.config import read_toml

    if not has_roster(db):
        return Check("roster", "ok", "尚未排班（单人值守）")
    try:
        desk = home_path / "desk.toml"
        hours = gap_hours(read_toml(desk).get("roster") if desk.exists() else None)
    except (RosterError, ConfigError) as exc:
        return Check("roster", "warn", str(exc))
    gaps = roster_gaps(db, now, timedelta(hours=hours))
    unfit = staffing_problems(db, now, timedelta(hours=hours))
    if not gaps and not unfit:
        return Check("roster", "ok", f"今后 {hours} 小时均有人值班")
    parts = []
    if gaps:
        parts.append(f"今后 {hours} 小时内有 {len(gaps)} 段无人值班：" + "；".join(g.text() for g in gaps[:5]))
    if unfit:
        parts.append("；".join(f"{s.day} {s.name}：{why}" for s, why in unfit[:5]))
    return Check("roster", "warn", "。".join(parts) + "（yuqing roster import / generate 补排）")


def _workday_check(db, now: datetime, home_path: Path) -> Check:
    """Working-day clocks past their deadline (hotline acceptance, licence/penalty disclosure)."""
    from monitor.exceptions import ConfigError
    from responders.exceptions import ResponderError
    from monitor.store import clock_items
    from responders.workday_clocks import DUTY_LABELS, KIND_LABELS, overdue_clocks, parse_config
    from storage.workdays import calendar_gaps, desk_day
    from yuqing.config import read_toml

    try:
        desk = home_path / "desk.toml"
        config = parse_config(read_toml(desk).get("workday_clocks") if desk.exists() else None)
    except (ResponderError, ConfigError) as exc:
        return Check("workdays", "warn", str(exc))
    today = desk_day(now)
    missing = calendar_gaps(today + timedelta(days=i) for i in range(60))
    gap_text = (f"已安装的 chinesecalendar 没有 {'、'.join(map(str, missing))} 年的节假日安排，该年按周一至周五计工作日："
                "请升级 chinesecalendar（python3 -m pip install -U chinesecalendar）") if missing else ""
    late = overdue_clocks(db, now, config, clock_items=clock_items)
    if not late:
        return Check("workdays", "warn" if missing else "ok", gap_text or "没有超时未完成的工作日时限")
    duties = "/".join(sorted({DUTY_LABELS[c.kind] for c in late}))
    parts = [f"#{c.item_id} {KIND_LABELS[c.kind]}（截止 {c.due_day.isoformat()}）{c.title[:30]}" for c in late[:5]]
    return Check("workdays", "warn", f"{len(late)} 项超过工作日时限未{duties}：" + "；".join(parts)
                 + "（yuqing workday-clocks --overdue）" + (f"；{gap_text}" if gap_text else ""))


def _timeline_check(db) -> Check:
    from responders.timeline import verify

    if not db["timeline_events"].exists():
        return Check("timeline", "ok", "no timeline yet")
    result = verify(db)
    if result.ok:
        return Check("timeline", "ok", f"hash chain verified ({result.checked} events)")
    return Check("timeline", "fail", f"hash chain broken: {result.reason}")


# ---------------------------------------------------------------- retention

@dataclass(frozen=True)
class RetentionResult:
    cutoff: datetime
    dry_run: bool
    old_items: int  # items fetched before the cutoff
    kept_linked: int  # ... kept because an incident, its evidence or a release proposal refers to them
    kept_labelled: int  # ... kept because staff labelled them
    deleted: dict = field(default_factory=dict)  # table -> rows deleted

    @property
    def deleted_items(self) -> int:
        return self.deleted.get("items", 0)


def retention(db, *, days: int, now: datetime, dry_run: bool = False, batch: int = 2000) -> RetentionResult:
    """Delete items fetched more than ``days`` days before ``now`` that nothing refers to.

    Kept: items linked to an incident (``incident_items``), used as evidence
    (``incident_evidence``), proposed as a release (``release_proposals``) or labelled
    by staff (``labels``), and always the newest item (ids must never be reused: the
    pipeline's watermarks count on them). Each batch is one transaction.
    """
    from monitor import store as monitor_store
    from pipeline import store as pipeline_store
    from responders import store as responders_store
    from storage.db import transaction

    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise OpsError(f"retention: days must be a whole number >= 1, got {days!r}")
    cutoff = now - timedelta(days=days)
    conn = db.conn
    tables = set(db.table_names()) | set(db.view_names())
    if "items" not in tables:
        return RetentionResult(cutoff, dry_run, 0, 0, 0, {})
    below = monitor_store.max_item_id(conn)
    linked = responders_store.item_references(tables)
    labelled = pipeline_store.labelled_items(tables)
    old_items = monitor_store.count_old_items(conn, cutoff, below)
    kept_linked = monitor_store.count_old_items(conn, cutoff, below, among=linked)
    kept_labelled = monitor_store.count_old_items(conn, cutoff, below, among=labelled, excluding=linked)
    # Rows deleted per table, in the order they hang off an item.
    order = [t for t in ("item_metrics", "item_private", "item_analysis", "items_fts", "item_versions",
                         "item_sightings") if t in tables]
    deleted: dict[str, int] = {"items": 0, **{t: 0 for t in order}}
    if dry_run:
        return RetentionResult(cutoff, True, old_items, kept_linked, kept_labelled,
                               {"items": old_items - kept_linked - kept_labelled})
    log.info("retention: deleting unreferenced items fetched before %s (%d old, %d kept as incident items,"
             " %d kept as labelled)", desk_text(cutoff), old_items, kept_linked, kept_labelled)
    while True:
        with transaction(db):
            ids = monitor_store.old_item_ids(conn, cutoff, below, batch, excluding=linked + labelled)
            if not ids:
                break
            for got in (pipeline_store.forget_items(conn, ids, tables), monitor_store.delete_items(conn, ids, tables)):
                for table, n in got.items():
                    deleted[table] = deleted.get(table, 0) + n
    log.info("retention: deleted %s", ", ".join(f"{t} {n}" for t, n in deleted.items()))
    return RetentionResult(cutoff, False, old_items, kept_linked, kept_labelled, deleted)
