"""Where the desk keeps its files: ``--home``, else ``YUQING_HOME``, else the platform's data folder."""
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


def resolve_home(option: str | os.PathLike | None = None) -> DeskHome:
    if option:
        return DeskHome(Path(option).expanduser().resolve())
    env = os.environ.get("YUQING_HOME")
    if env:
        return DeskHome(Path(env).expanduser().resolve())
    import platformdirs

    return DeskHome(Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)))
