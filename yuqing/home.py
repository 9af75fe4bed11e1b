"""Where the desk keeps its files: ``--home``, else ``YUQING_HOME``, else the platform's data folder.

The home holds personal data (callers' names, phones and addresses), so it is private to the
desk's OS user: every command runs with umask 077 (new folders 0700, new files 0600: the
database and its WAL, logs, backups, exports, the timeline key) and :func:`secure` tightens a
home made by an older version.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "yuqing-desk"


@dataclass(frozen=True)
class DeskHome:
    path: Path

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
        return self.path / "desk.sqlite"

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


def resolve_home(option: str | os.PathLike | None = None) -> DeskHome:
    if option:
        return DeskHome(Path(option).expanduser().resolve())
    env = os.environ.get("YUQING_HOME")
    if env:
        return DeskHome(Path(env).expanduser().resolve())
    import platformdirs

    return DeskHome(Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)))
