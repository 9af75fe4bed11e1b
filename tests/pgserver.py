"""A private, throwaway PostgreSQL server for the test session, and the fixtures that use it.

The server is started lazily, once per session, the first time a test asks for `pg_server`,
`pg_url` or the "postgresql" half of `backend`: `initdb` in a temp folder under /tmp (trust
authentication, UTF8, no fsync), `pg_ctl start` on a free 127.0.0.1 port, run as the `postgres`
OS user when the tests run as root. It is stopped (`pg_ctl stop -m immediate`) and its folder
removed at session end, with an atexit hook as a safety net if the session dies first.

Fixtures (registered for every test through `pytest_plugins` in tests/conftest.py):
- `pg_server` (session): a `PgServer` with `port`, `bindir`, `admin_url`, `url_for(dbname,
  user="postgres")` and `create_database(name=None) -> url` / `drop_database(name)`.
- `pg_url` (function): the URL of a fresh, empty database, dropped after the test.
- `backend` (function, parametrised "sqlite" / "postgresql"): None for SQLite (and
  `YUQING_DATABASE_URL` unset, so the SQLite half really runs on SQLite); for PostgreSQL a fresh
  database whose URL is also put in `YUQING_DATABASE_URL` for the test. The PostgreSQL half
  carries the `postgresql` mark, as does every test using `pg_server` or `pg_url`, so
  `pytest -m "not postgresql"` runs without a server.

Where the binaries are looked for: `$YUQING_TEST_PG_BINDIR` alone when it is set (point it at
a missing folder to see the PostgreSQL tests skip); otherwise /usr/lib/postgresql/15/bin, the
newest /usr/lib/postgresql/*/bin, `pg_config --bindir`, then PATH. Without `initdb` and
`pg_ctl`, or as root without a `postgres` OS user, the fixtures skip with the reason; a server
that is present but fails to start is an error (its log tail is shown).
"""
from __future__ import annotations

import atexit
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

DATABASE_URL_ENV = "YUQING_DATABASE_URL"
BINDIR_ENV = "YUQING_TEST_PG_BINDIR"
SUPERUSER = "postgres"
_START_ATTEMPTS = 3
_TIMEOUT = 90  # seconds for one initdb / pg_ctl call: generous, slow CI machines exist


class PgUnavailable(Exception):
    """PostgreSQL cannot run here (no binaries, no postgres user): the tests skip."""


def _has_tools(folder: Path) -> bool:
    return all(os.access(folder / tool, os.X_OK) for tool in ("initdb", "pg_ctl"))


def _version_key(folder: Path) -> tuple:
    return tuple(int(n) for n in re.findall(r"\d+", folder.parent.name)) or (0,)


def find_bindir() -> Path:
    """The folder holding initdb and pg_ctl, or PgUnavailable saying where it looked."""
    forced = os.environ.get(BINDIR_ENV)
    if forced:
        if _has_tools(Path(forced)):
            return Path(forced)
        raise PgUnavailable(f"${BINDIR_ENV}={forced} holds no initdb/pg_ctl")
    candidates = [Path("/usr/lib/postgresql/15/bin")]
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 timeout=30, check=True).stdout.strip()
            candidates.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for folder in candidates:
        if _has_tools(folder):
            return folder
    raise PgUnavailable("PostgreSQL binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin, "
                        "pg_config --bindir or PATH")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as() -> pwd.struct_passwd | None:
    """The OS account the server runs as: None for ourselves, `postgres` when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise PgUnavailable("running as root and there is no `postgres` OS user to run the server") from None


class PgServer:
    """One running PostgreSQL cluster in a temp folder; `stop()` removes every trace."""

    def __init__(self, bindir: Path | None = None):
        self.bindir = bindir or find_bindir()
        self.account = _run_as()
        self.root = Path(tempfile.mkdtemp(prefix="yuqing-pg-", dir="/tmp" if os.path.isdir("/tmp") else None))
        self.datadir = self.root / "data"
        self.sockdir = self.root / "sock"
        self.logfile = self.root / "server.log"
        self.port = 0
        self._names = itertools.count(1)
        self._running = False
        atexit.register(self.stop)
        try:
            self.sockdir.mkdir()
            if self.account is not None:
                for path in (self.root, self.sockdir):
                    os.chown(path, self.account.pw_uid, self.account.pw_gid)
            self._initdb()
            self._start()
        except BaseException:
            self.stop()
            raise

    # -- URLs -------------------------------------------------------------------------------
    def url_for(self, dbname: str, user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    @property
    def admin_url(self) -> str:
        return self.url_for("postgres")

    # -- databases --------------------------------------------------------------------------
    def create_database(self, name: str | None = None) -> str:
        """CREATE DATABASE (a unique name unless given) and return its URL."""
        name = name or f"yuqing_t{next(self._names)}_{uuid.uuid4().hex[:8]}"
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        # FORCE ends connections a test left open, so the drop never waits on them.
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=30) as conn:
            conn.execute(sql)

    # -- process control --------------------------------------------------------------------
    def _cmd(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"  # messages parse the same everywhere; the cluster locale is set below
        kwargs = {}
        if self.account is not None:
            kwargs = dict(user=self.account.pw_uid, group=self.account.pw_gid, extra_groups=[])
            env["HOME"] = str(self.root)
        proc = subprocess.run([str(self.bindir / tool), *args], cwd=self.root, env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=_TIMEOUT, **kwargs)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({proc.returncode}):\n"
                               f"{proc.stdout}{proc.stderr}{self._log_tail()}")
        return proc

    def _initdb(self) -> None:
        base = ["-D", str(self.datadir), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-sync"]
        # C.UTF-8 mirrors a real server's character classes; plain C where glibc lacks it.
        if self._cmd("initdb", *base, "--locale=C.UTF-8", check=False).returncode != 0:
            shutil.rmtree(self.datadir, ignore_errors=True)
            self._cmd("initdb", *base, "--locale=C")

    def _start(self) -> None:
        for attempt in range(_START_ATTEMPTS):
            self.port = _free_port()
            options = (f"-h 127.0.0.1 -p {self.port} -k {self.sockdir} -F -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
            proc = self._cmd("pg_ctl", "-w", "-t", str(_TIMEOUT - 10), "-D", str(self.datadir),
                             "-l", str(self.logfile), "-o", options, "start", check=False)
            if proc.returncode == 0:
                self._running = True
                return
            # Another process may have taken the port between our probe and the bind: retry.
            if "could not bind" not in self._log_tail() or attempt == _START_ATTEMPTS - 1:
                raise RuntimeError(f"pg_ctl start failed ({proc.returncode}):\n"
                                   f"{proc.stdout}{proc.stderr}{self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return "\n--- server log ---\n" + "\n".join(self.logfile.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server (immediately: its data is thrown away) and delete the folder."""
        if self._running:
            self._running = False
            try:
                self._cmd("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop", check=False)
            except (OSError, subprocess.SubprocessError):
                pass
            self._kill_leftover()
        if self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)

    def _kill_leftover(self) -> None:
        """If pg_ctl could not stop the postmaster, end it by its pid file so nothing lingers."""
        try:
            pid = int((self.datadir / "postmaster.pid").read_text().split()[0])
            os.kill(pid, signal.SIGQUIT)
        except (OSError, ValueError, IndexError):
            pass


# -- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def pg_server():
    try:
        server = PgServer()
    except PgUnavailable as exc:
        pytest.skip(f"PostgreSQL not available: {exc}")
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server):
    url = pg_server.create_database()
    yield url
    try:
        pg_server.drop_database(url.rsplit("/", 1)[1])
    except Exception:  # a test that broke its database must not fail the next one's teardown
        pass


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)],
                ids=["sqlite", "postgresql"])
def backend(request, monkeypatch):
    """Run the test on both backends: None for SQLite, a fresh PostgreSQL URL otherwise."""
    if request.param == "sqlite":
        monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
        yield None
        return
    url = request.getfixturevalue("pg_url")
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    yield url


def pytest_collection_modifyitems(items):
    # Tests that need the server directly are PostgreSQL tests too, for `-m "not postgresql"`.
    for item in items:
        if {"pg_server", "pg_url"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgresql)
