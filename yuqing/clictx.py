"""Helpers shared by the CLI commands: the desk home, the clock, and config and database problems as
one line naming the file and what to do."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import click

from common.errors import ConfigError
from monitor.exceptions import MonitorError
from yuqing.home import DeskHome, resolve_home, secure


def home_from(ctx: click.Context) -> DeskHome:
    obj = ctx.find_root().obj or {}
    home = obj.get("home")
    if home is not None and not str(home).strip():  # e.g. --home "$DESK" with DESK unset
        fail("--home: empty folder name (pass the desk home folder, or leave --home out for the default)")
    desk_home = resolve_home(home, database_option(ctx))
    secure(desk_home)
    use_desk_zone(desk_home)
    return desk_home


def database_option(ctx: click.Context) -> str | None:
    """The ``--database`` URL (or YUQING_DATABASE_URL, which click reads into it), checked."""
    database = (ctx.find_root().obj or {}).get("database")
    if database is None or not database.strip():
        return None
    from storage.dburl import is_server

    if not is_server(database.strip()):
        fail("--database: 需要 postgresql://用户@主机:端口/库名 形式的地址（不给则使用桌面目录里的 SQLite 文件）")
    return database.strip()


def use_desk_zone(home: DeskHome) -> None:
    """Read [desk] timezone from the home's desk.toml and make it this process's desk time zone
    (Asia/Shanghai when there is no usable desk.toml: loading the configuration reports that)."""
    from zoneinfo import ZoneInfo

    from storage.timeutil import set_desk_tz
    from storage.tomlfile import TomlError, read_toml

    tz = None
    try:
        name = read_toml(home.desk_toml).get("desk", {}).get("timezone")
        if isinstance(name, str):
            tz = ZoneInfo(name)
    except (TomlError, OSError, ValueError, KeyError, AttributeError):  # unreadable, bad TOML, unknown zone
        tz = None
    set_desk_tz(tz)


def load_config_or_exit(ctx: click.Context):
    from yuqing.config import load_config

    home = home_from(ctx)
    try:
        return load_config(home)
    except (ConfigError, MonitorError) as exc:
        raise click.ClickException(str(exc)) from None


def fail(message: str) -> None:
    raise click.ClickException(message)


def hold_desk_lock(db_path: Path) -> None:
    """One daemon per database: take its lock for this process's life, or exit naming the holder."""
    from yuqing.desklock import DeskLocked, hold

    try:
        hold(db_path)
    except DeskLocked as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename or db_path}: cannot write the desk's lock file ({exc.strerror})")


MAX_ID = 2**63 - 1  # SQLite's INTEGER


def parse_id(value: str, what: str, hint: str) -> int:
    """A row id typed by staff ("12" or "#12"); otherwise a one-line error, e.g. "not an item id: ..."
    for ``what`` = "an item"."""
    text = str(value).strip().lstrip("#")
    try:
        n = int(text)
    except ValueError:
        n = None
    if n is None or not 0 < n <= MAX_ID or len(text) > 19:
        fail(f"not {what} id: {value!r} ({hint})")
    return n


def output_file(path: str, *, force: bool = False, mkdir: bool = False, option: str = "-o") -> Path:
    """Check a file a command is about to write: an existing file is kept unless ``force``; a missing
    folder is refused unless ``mkdir`` (then created). Returns the path; problems are one line."""
    out = Path(path).expanduser()
    if out.is_dir() or str(path).endswith(("/", "\\")):
        fail(f"{option} {path}: is a folder: give a file name, e.g. {Path(path) / 'report.md'}")
    folder = out.parent
    if not folder.is_dir():
        if folder.exists():
            fail(f"{option} {path}: {folder} is a file, not a folder")
        if not mkdir:
            fail(f"{option} {path}: folder {folder} does not exist (create it first, or pass --mkdir)")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            fail(f"{option} {path}: cannot create folder {folder}: {exc.strerror or exc}")
    if out.exists() and not force:
        fail(f"{option} {path}: file already exists (pass --force to replace it, or choose another name)")
    return out


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: CJK characters count two (wcwidth)."""
    from wcwidth import wcswidth

    n = wcswidth(text)
    return n if n >= 0 else sum(max(0, _wcw(ch)) for ch in text)  # control characters count 0


def _wcw(ch: str) -> int:
    from wcwidth import wcwidth

    return wcwidth(ch)


def pad(text: str, width: int, align: str = "<") -> str:
    """``text`` padded with spaces to ``width`` terminal columns (``<`` left, ``>`` right): an
    f-string's ``:<8`` counts characters, so Chinese columns would not line up."""
    gap = " " * max(0, width - display_width(text))
    return gap + text if align == ">" else text + gap


def std_stream(name: str, *, encoding: str = "utf-8", errors: str = "strict"):
    """``sys.stdin`` / ``sys.stdout`` set to ``encoding`` (JSONL is UTF-8 whatever the locale
    says). Replaces click's get_text_stream, deprecated in Click 8.5."""
    import io
    import sys

    stream = getattr(sys, name)
    try:
        stream.reconfigure(encoding=encoding, errors=errors)
    except (AttributeError, ValueError, io.UnsupportedOperation):  # not a TextIOWrapper, or already read
        pass
    return stream


# ------------------------------------------------------------------ the desk database and desk.toml

SQLITE_MAGIC = b"SQLite format 3\x00"


def db_error_message(path, exc: BaseException) -> str:
    """One line for a database error on the desk database: the file (or server, its password
    hidden) and what to do about it."""
    from storage.dburl import is_server, redacted

    text = str(exc)
    low = text.lower()
    if is_server(path):
        shown = redacted(path)
        text = text.replace(str(path), shown)
        if "无法连接数据库" in text:
            return text
        if "lock timeout" in low or "canceling statement due to lock timeout" in low:
            return f"{shown}: the desk database is busy ({text}): another yuqing is writing; try again in a moment"
        if "permission denied" in low:
            return f"{shown}: this database role may not do that ({text}): use a role with the needed rights"
        return f"{shown}: database error: {text}"
    if "readonly" in low or "read-only" in low:
        return (f"{path}: cannot write the desk database ({text}): give this user write access to the file "
                f"and its folder {Path(path).parent}")
    if "unable to open" in low:
        return (f"{path}: cannot open the desk database ({text}): check that the folder exists and this user "
                "may read and write it")
    if "not a database" in low or "malformed" in low:
        return (f"{path}: not a usable SQLite database ({text}): restore your latest `yuqing backup`, "
                "or move the file away and run `yuqing init`")
    if "locked" in low or "busy" in low:
        return f"{path}: the desk database is busy ({text}): another yuqing is writing; try again in a moment"
    if "full" in low:
        return f"{path}: the disk is full ({text}): free space (or run `yuqing retention`) and try again"
    return f"{path}: database error: {text}"


def check_desk_db(path, *, must_exist: bool = True, migration_sets=None) -> None:
    """Refuse a desk database this yuqing cannot use, with one line naming the file and what to do:
    a folder, missing (when ``must_exist``), not an SQLite file, or written by a newer yuqing
    (a schema step this version does not know). Reads only; raises click.ClickException.

    ``migration_sets``: the sets the command uses, checked step by step (other sets in the file
    are left alone: importing every package costs a light command ~0.3 s); default: the whole
    desk, where a set this version does not know at all is also newer."""
    from storage.dburl import is_server, redacted

    if is_server(path):
        import sqlite3

        from storage.db import desk_exists

        try:
            exists = desk_exists(path)
        except sqlite3.Error as exc:
            fail(db_error_message(path, exc))
        if not exists:
            if must_exist:
                fail(f"no desk in database {redacted(path)}: run `yuqing init` first, or pass the right --database")
            return
        unknown = newer_schema_steps(path, migration_sets)
        if unknown:
            from storage.db import NewerSchemaError

            fail(str(NewerSchemaError(redacted(path), unknown)))
        return
    path = Path(path)
    if path.is_dir():
        fail(f"{path}: is a folder, not a desk database file (pass the database file, or the right --home)")
    if not path.exists():
        if must_exist:
            fail(f"no desk database at {path}: run `yuqing init` first, or pass the right --home/--db")
        return
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        fail(f"{path}: cannot read the desk database: {exc.strerror}")
    if head and head != SQLITE_MAGIC:
        fail(f"{path}: not an SQLite database (it starts with {head[:8]!r}): restore your latest "
             "`yuqing backup`, or move the file away and run `yuqing init`")
    if not head:
        return  # an empty file: SQLite makes it a new database
    unknown = newer_schema_steps(path, migration_sets)
    if unknown:
        from storage.db import NewerSchemaError

        fail(str(NewerSchemaError(path, unknown)))


def newer_schema_steps(path, migration_sets=None) -> list[str]:
    """'set.step' names recorded in the database's _sqlite_migrations that this code does not have:
    steps of the given sets (default: every set of the desk, and then unknown sets too)."""
    import sqlite3

    from storage.db import unknown_steps

    whole_desk = migration_sets is None
    if whole_desk:
        from pipeline.schema import all_migrations

        migration_sets = all_migrations()
    from storage.db import connect

    try:
        conn = connect(path, readonly=True).conn
    except sqlite3.Error as exc:
        fail(db_error_message(path, exc))
    try:
        return unknown_steps(conn, migration_sets, any_set=whole_desk)
    except sqlite3.Error as exc:
        fail(db_error_message(path, exc))
    finally:
        conn.close()


def open_desk_db(path, migration_sets=None, *, must_exist: bool = True):
    """The desk database at ``path`` with ``migration_sets`` (default: the whole desk's) applied,
    after :func:`check_desk_db`; sqlite errors become one line naming the file."""
    import sqlite3

    from storage.db import open_db

    check_desk_db(path, must_exist=must_exist, migration_sets=migration_sets)
    if migration_sets is None:
        from pipeline.schema import all_migrations

        migration_sets = all_migrations()
    try:
        return open_db(path, migration_sets)
    except sqlite3.Error as exc:
        fail(db_error_message(path, exc))


def clock_policy(desk_toml):
    """The [clock] policy of desk.toml (defaults when the file is absent); errors name the file."""
    from responders.exceptions import ResponderError
    from responders.policy import ClockPolicy, policy_from_mapping
    from yuqing.config import read_toml

    desk_toml = Path(desk_toml)
    if not desk_toml.exists():
        return ClockPolicy()
    try:
        doc = read_toml(desk_toml)
    except ConfigError as exc:
        fail(str(exc))
    try:
        return policy_from_mapping(doc.get("clock"))
    except (ResponderError, ValueError, TypeError) as exc:
        fail(f"{desk_toml}: {exc}")


@contextmanager
def db_errors(path):
    """``with db_errors(path): ...``: an sqlite3 error inside becomes one line naming the file."""
    import sqlite3

    try:
        yield
    except sqlite3.Error as exc:
        fail(db_error_message(path, exc))


def setup_logging_or_exit(home, **kw) -> None:
    """:func:`yuqing.logs.setup_logging`; a log folder that cannot be written is one line."""
    from yuqing.logs import setup_logging

    try:
        setup_logging(home, **kw)
    except OSError as exc:
        fail(f"{exc.filename or home.log_path}: cannot write the desk log ({exc.strerror}): "
             f"check that {home.log_dir} is a folder this user may write")


def now_fn(*, pinned_only: bool = False):
    """The clock of a command (:func:`storage.deskclock.desk_clock`: ``YUQING_NOW`` pins it for
    demos and tests, else the wall clock in UTC); with ``pinned_only``, None when not pinned.
    A bad ``YUQING_NOW`` is one line with an example."""
    from storage.deskclock import desk_clock, pinned_now
    from storage.timeutil import TimeInputError

    try:
        if pinned_only and pinned_now() is None:
            return None
        return desk_clock()
    except TimeInputError as exc:
        fail(str(exc))


def parse_user_time(value: str, name: str):
    """A time typed on the command line (option ``name``) as aware UTC: no offset = desk time;
    a bad one is one line with an example (:func:`storage.timeutil.parse_desk_time`)."""
    from storage.timeutil import TimeInputError, parse_desk_time

    try:
        return parse_desk_time(value, name=name)
    except TimeInputError as exc:
        fail(str(exc))


def parse_user_date(value: str | None, name: str):
    """A desk-local day typed on the command line (None when not given)."""
    from storage.timeutil import TimeInputError, parse_desk_date

    if not value:
        return None
    try:
        return parse_desk_date(value, name=name)
    except TimeInputError as exc:
        fail(str(exc))


# ------------------------------------------------------------------ who acts (staff and roles)

def actor_options(fn):
    """``--as ID`` and the deprecated ``--actor NAME`` on a command that changes the desk; the
    command gets ``as_id`` and ``actor`` and checks them with :func:`acting_staff` or
    :func:`act_on_desk` before it writes anything."""
    fn = click.option("--actor", default=None, help="Deprecated: same as --as (must name a staff id).")(fn)
    return click.option("--as", "as_id", default=None, metavar="ID",
                        help="The staff member who acts (staff id; default: the OS login mapped by "
                             "`yuqing staff add --login`).")(fn)


def acting_staff(db, as_id: str | None, actor: str | None, access: str = "write") -> str:
    """The actor id to record for a command: a checked staff id on a desk with staff, else the
    name given or the OS user (a desk without staff works as a one-operator desk). ``access`` is
    what the command needs (``read``, ``write``, ``lead``, ``admin``: :mod:`responders.staff`).
    Raises responders.staff errors, with a message for staff, before anything is written."""
    from responders import staff
    from responders.incidents import default_actor

    if as_id and actor and as_id != actor:
        raise click.UsageError("--as 与 --actor 指向不同的人员：只用 --as")
    wanted = as_id or actor
    if not staff.has_staff(db):
        return wanted or default_actor()
    if access == "read" and not wanted:  # reading needs nobody; the OS login names the reader if it can
        known = staff.by_login(db, default_actor())
        return known.id if known is not None else default_actor()
    member = staff.resolve_actor(db, wanted, default_actor(), access)  # type: ignore[arg-type]
    assert member is not None
    return member.id


def act_on_desk(db_path, as_id: str | None, actor: str | None, access: str = "write") -> str:
    """:func:`acting_staff` for a command that does not otherwise open the desk database (it edits
    a file of the desk home, e.g. sources.toml): checked against the staff of ``db_path``; a desk
    with no database yet has no staff. Errors are one line; nothing has been written."""
    from responders.exceptions import ResponderError
    from responders.incidents import default_actor
    from responders.staff import migrations as staff_migrations

    from storage.db import desk_exists
    from storage.dburl import as_target

    path = as_target(db_path)
    if not desk_exists(path):
        if as_id and actor and as_id != actor:
            raise click.UsageError("--as 与 --actor 指向不同的人员：只用 --as")
        return as_id or actor or default_actor()
    db = open_desk_db(path, [staff_migrations])
    try:
        with db_errors(path):
            return acting_staff(db, as_id, actor, access)
    except ResponderError as exc:
        fail(str(exc))
    finally:
        db.conn.close()
