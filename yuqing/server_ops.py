"""Backup and health checks of a desk whose database is on a PostgreSQL server (server mode).

- :func:`backup` runs ``pg_dump`` (custom format, one consistent snapshot however busy the desk)
  into a temporary file, checks that ``pg_restore --list`` can read it, and puts it in place like
  the SQLite backup (never replacing a file unless asked). The password, when the URL carries
  one, goes to pg_dump by ``PGPASSWORD`` in its environment, never on its command line.
- :func:`database_checks` is what ``yuqing doctor`` checks on a server instead of the SQLite
  file's PRAGMAs: the connection, the server's version, the database and its size, the schema
  steps applied, and who holds the desk's locks.

pg_dump is looked for where Debian puts PostgreSQL's programs (/usr/lib/postgresql/*/bin, the
newest first), then ``pg_config --bindir``, then PATH; ``YUQING_PG_DUMP`` names it outright.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

PG_DUMP_ENV = "YUQING_PG_DUMP"
DUMP_TIMEOUT = 6 * 3600  # seconds: a province's desk is large; a hung server must still end it


def find_tool(name: str) -> Path | None:
    """A PostgreSQL client program (pg_dump, pg_restore), or None when it is not installed."""
    forced = os.environ.get(PG_DUMP_ENV)
    if forced:
        tool = Path(forced).with_name(name) if name != "pg_dump" else Path(forced)
        return tool if os.access(tool, os.X_OK) else None

    def version(folder: Path) -> tuple:
        return tuple(int(n) for n in re.findall(r"\d+", folder.parent.name)) or (0,)

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=30,
                                 check=True).stdout.strip()
            candidates.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass
    for folder in candidates:
        if os.access(folder / name, os.X_OK):
            return folder / name
    found = shutil.which(name)
    return Path(found) if found else None


def _client_env(url: str) -> tuple[str, dict]:
    """(URL without its password, environment for a libpq program with ``PGPASSWORD`` set when
    the URL had one): a password never appears on a command line (``ps`` shows those)."""
    from storage.dburl import without_password

    env = dict(os.environ)
    try:
        from psycopg.conninfo import conninfo_to_dict

        password = conninfo_to_dict(url).get("password")
    except Exception:  # an unparsable URL: pg_dump says what is wrong with it
        password = None
    if password:
        env["PGPASSWORD"] = str(password)
    return without_password(url), env


def _scrub(text: str, url: str) -> str:
    """A program's message with the URL shown redacted and any password taken out."""
    from storage.dburl import redacted

    text = text.replace(url, redacted(url))
    try:
        from psycopg.conninfo import conninfo_to_dict

        password = conninfo_to_dict(url).get("password")
    except Exception:
        password = None
    if password:
        text = text.replace(str(password), "***")
    return text.strip()


def backup(url: str, target: Path, named: bool, *, overwrite: bool):
    """pg_dump the desk's database into ``target`` (see :func:`yuqing.ops.backup`)."""
    from storage.dburl import redacted
    from yuqing.ops import BackupResult, OpsError, _put_in_place, log

    pg_dump = find_tool("pg_dump")
    if pg_dump is None:
        raise OpsError("pg_dump not found: install PostgreSQL's client programs (Debian: apt-get install "
                       "postgresql-client) or name it by YUQING_PG_DUMP; until then back the server up "
                       "with its own tools (pg_dump/pg_basebackup on the database machine)")
    dbname, env = _client_env(url)
    tmp = target.with_name(f".{target.name}.part-{os.getpid()}")
    t0 = time.monotonic()
    try:
        done = subprocess.run([str(pg_dump), "--format=custom", "--no-owner", "--no-privileges",
                               f"--file={tmp}", f"--dbname={dbname}"], env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=DUMP_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as exc:
        tmp.unlink(missing_ok=True)
        raise OpsError(f"backup of {redacted(url)} failed: cannot run {pg_dump}: {_scrub(str(exc), url)}") from None
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        lines = [ln for ln in _scrub(done.stderr or "", url).splitlines() if ln.strip()]
        raise OpsError(f"backup of {redacted(url)} failed: pg_dump: {lines[-1] if lines else done.returncode}")
    check = _check_dump(tmp)
    if check != "ok":
        tmp.unlink(missing_ok=True)
        raise OpsError(f"the backup copy cannot be read back ({check}); {target} was not written")
    target = _put_in_place(tmp, target, named=named, overwrite=overwrite)
    result = BackupResult(target, target.stat().st_size, 0, time.monotonic() - t0, check)
    log.info("backup: %s -> %s (pg_dump, %d bytes, %.2fs)", redacted(url), target, result.size, result.seconds)
    return result


def _check_dump(path: Path) -> str:
    """"ok" when pg_restore can list the dump's contents (and they hold the desk's tables)."""
    pg_restore = find_tool("pg_restore")
    if pg_restore is None:
        return "ok" if path.stat().st_size > 0 else "empty file"
    try:
        done = subprocess.run([str(pg_restore), "--list", str(path)], capture_output=True, text=True,
                              timeout=600, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"pg_restore --list failed: {exc}"
    if done.returncode != 0:
        return f"pg_restore --list: {(done.stderr or '').strip()[:200]}"
    return "ok" if " TABLE " in done.stdout else "no tables in the dump"


# ---------------------------------------------------------------- doctor

def database_checks(url: str, migration_sets=None) -> tuple[list, object | None]:
    """(checks, an open read-only database for the table checks, or None when unreachable)."""
    import sqlite3

    from storage.db import PG_MIGRATIONS_TABLE, connect
    from storage.dburl import redacted
    from storage.pg import server_facts
    from yuqing.ops import Check, _human

    shown = redacted(url)
    try:
        db = connect(url, readonly=True)
    except sqlite3.Error as exc:
        return [Check("database", "fail", str(exc))], None
    try:
        version, name, size = server_facts(db)
        if not db[PG_MIGRATIONS_TABLE].exists():
            db.close()
            return [Check("database", "fail", f"no desk in database {name} at {shown} (run `yuqing init`)")], None
    except sqlite3.Error as exc:
        db.close()
        return [Check("database", "fail", f"{shown}: {exc}")], None
    checks = [Check("database", "ok", f"connection ok: PostgreSQL {version}, database {name} "
                                      f"({_human(size)}) at {shown}")]
    checks.append(_schema_check(db, migration_sets))
    checks.append(_locks_check(url))
    return checks, db


def _schema_check(db, migration_sets):
    import sqlite3

    from storage.db import PG_MIGRATIONS_TABLE, NewerSchemaError, applied_steps, unknown_steps
    from yuqing.ops import Check

    if migration_sets is None:
        from pipeline.schema import all_migrations

        migration_sets = all_migrations()
    try:
        newer = unknown_steps(db.conn, migration_sets, any_set=True)
        rows = applied_steps(db)
    except sqlite3.DatabaseError as exc:
        return Check("schema", "fail", f"cannot read {PG_MIGRATIONS_TABLE}: {exc}")
    if newer:
        return Check("schema", "fail", NewerSchemaError.describe(newer))
    applied: dict[str, list[str]] = {}
    for mset, name in rows:
        applied.setdefault(mset, []).append(name)
    parts, pending = [], []
    for mset in migration_sets:
        done = applied.get(mset.name, [])
        parts.append(f"{mset.name} {done[-1] if done else '(none)'}")
        pending += [f"{mset.name}.{step.name}" for step in mset._migrations if step.name not in done]
    detail = ", ".join(parts)
    if pending:
        return Check("schema", "warn", detail + f"; pending: {', '.join(pending)} (applied on the next `yuqing run`)")
    return Check("schema", "ok", "up to date: " + detail)


def _locks_check(url: str):
    """Who holds the desk lock (`yuqing run`/demo) and the pipeline leader's lock."""
    import sqlite3

    from storage.pglocks import DAEMON_LOCK, LEADER_LOCK, holder
    from yuqing.desklock import describe
    from yuqing.ops import Check

    try:
        daemon = holder(url, DAEMON_LOCK)
        leader = holder(url, LEADER_LOCK)
    except sqlite3.Error as exc:
        return Check("locks", "warn", f"cannot read the lock holders: {exc}")
    parts = [f"desk lock: {describe(daemon)}" if daemon is not None else "desk lock: free (no daemon running)"]
    if leader is not None:
        parts.append(f"pipeline leader: {describe(leader)}")
    return Check("locks", "ok", "; ".join(parts))
