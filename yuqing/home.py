"""Where the desk keeps its files: ``--home``, else ``YUQING_HOME``, else the platform's data folder.

The home holds personal data (callers' names, phones and addresses), so it is private to the
desk's OS user: every command runs with umask 077 (new folders 0700, new files 0600: the
database and its WAL, logs, backups, exports, the timeline key) and :func:`secure` tightens a
home made by an older version.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "yuqing-desk"
DATABASE_ENV = "YUQING_DATABASE_URL"


@dataclass(frozen=True)
class DeskHome:
    """The desk's folder (configuration, logs, exports, keys) and the database it uses: the
    SQLite file in the folder, or a PostgreSQL server named by ``database`` (the ``--database``
    option), else ``YUQING_DATABASE_URL``, else ``[database] url`` in desk.toml."""

    path: Path
    database: str | None = None

    @property
    def desk_toml(self) -> Path:
        return self.path / "desk.toml"

    @property
    def sources_toml(self) -> Path:
        return self.path / "sources.toml"

    @property
    def schemes_toml(self) -> Path:
        return self.path / "schemes.toml"

    @property
    def db_path(self) -> Path:
        """The embedded database file (used unless a server is configured)."""
        return self.path / "desk.sqlite"

    @functools.cached_property
    def db_target(self) -> str | Path:
        """What to connect to: a ``postgresql://`` URL when one is configured, else the file."""
        url = (self.database or os.environ.get(DATABASE_ENV) or "").strip() or configured_url(self.desk_toml)
        if url:
            from responders.anchor import use_home

            use_home(url, self.path)  # the server desk's timeline key lives in this home, not on the server
        return url or self.db_path

    @property
    def on_server(self) -> bool:
        from storage.dburl import is_server

        return is_server(self.db_target)

    @property
    def log_dir(self) -> Path:
        return self.path / "logs"

    @property
    def log_path(self) -> Path:
        return self.log_dir / "desk.log"

    @property
    def models_dir(self) -> Path:
        return self.path / "models"

    def exists(self) -> bool:
        return self.desk_toml.is_file()


PRIVATE_UMASK = 0o077


def make_private() -> None:
    """From now on this process creates folders 0700 and files 0600."""
    os.umask(PRIVATE_UMASK)


def secure(home: DeskHome) -> None:
    """Take group and other access away from the home and what it holds (best effort: a home
    the user does not own is left as it is)."""
    if not home.path.is_dir():
        return
    targets = [home.path, home.log_dir, home.path / "exports", home.path / "models", home.path / "backups"]
    targets += [p for p in home.path.iterdir() if p.is_file()]
    for folder in (home.log_dir, home.path / "exports", home.path / "backups"):
        if folder.is_dir():
            targets += [p for p in folder.iterdir() if p.is_file()]
    for path in targets:
        try:
            mode = path.stat().st_mode
            if mode & 0o077:
                os.chmod(path, (0o700 if path.is_dir() else 0o600) & (mode | 0o700))
        except OSError:
            continue


def configured_url(desk_toml: Path) -> str | None:
    """``[database] url`` of a desk.toml, when it names a server."""
    if not desk_toml.is_file():
        return None
    from storage.dburl import is_server
    from storage.tomlfile import read_toml

    try:
        url = (read_toml(desk_toml).get("database") or {}).get("url")
    except Exception:  # a broken desk.toml is reported by the config loader, with its line
        return None
    if url and not is_server(str(url)):
        from common.errors import ConfigError

        raise ConfigError(f"{desk_toml}: [database] url 必须是 postgresql://… 形式的地址（不填则使用本地 SQLite 文件）")
    return str(url) if url else None


def resolve_home(option: str | os.PathLike | None = None, database: str | None = None) -> DeskHome:
    if option:
        return DeskHome(Path(option).expanduser().resolve(), database)
    env = os.environ.get("YUQING_HOME")
    if env:
        return DeskHome(Path(env).expanduser().resolve(), database)
    import platformdirs

    return DeskHome(Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)), database)
