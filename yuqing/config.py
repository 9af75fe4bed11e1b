"""Load and validate the desk's configuration: desk.toml and sources.toml.

The desk never starts half-configured: every problem raises ConfigError with
the file, the key and what is wrong.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from common.errors import ConfigError
from data import DATA_DIR
from monitor.sources import parse_sources
from monitor.types import SourceSpec
from storage.files import write_atomic
from storage.tomlfile import TomlError, parse_toml
from storage.tomlfile import read_toml as storage_read_toml
from yuqing.home import DeskHome

DEFAULT_DESK_TOML = DATA_DIR / "desk.default.toml"
DEFAULT_SOURCES_TOML = DATA_DIR / "sources.default.toml"

_FETCH_KEYS: dict[str, type | tuple[type, ...]] = {
    "total_concurrency": int, "per_host_concurrency": int, "per_host_spacing": (int, float),
    "connect_timeout": (int, float), "read_timeout": (int, float), "total_timeout": (int, float),
    "max_bytes": int, "max_redirects": int, "trust_env": bool,
}
_FETCH_MAY_BE_ZERO = ("per_host_spacing", "max_redirects")
#: Upper bounds: past them a value is a typo, and a huge timeout or size would switch the limit off.
_FETCH_MAX = {
    "total_concurrency": 10_000, "per_host_concurrency": 1_000, "per_host_spacing": 3600,
    "connect_timeout": 600, "read_timeout": 3600, "total_timeout": 3600,
    "max_bytes": 1024 ** 3, "max_redirects": 50,
}
KNOWN_SECTIONS = ("desk", "fetch", "clock", "alerts", "triggers", "pipeline", "roster", "workday_clocks",
                  "database")


@dataclass(frozen=True)
class DeskConfig:
    home: DeskHome
    district_code: str
    district_name: str
    timezone: ZoneInfo
    fetch: Mapping[str, Any]
    sections: Mapping[str, Any] = field(default_factory=dict)  # clock, alerts, triggers, pipeline (raw)
    sources: tuple[SourceSpec, ...] = ()

    def fetch_policy(self):
        from monitor.fetch import FetchPolicy

        return FetchPolicy(**dict(self.fetch))


def read_toml(path: Path) -> dict:
    """A configuration file's table; any problem is a ConfigError naming the file."""
    try:
        return storage_read_toml(path)
    except TomlError as exc:
        hint = " (run `yuqing init` to create the desk home)" if exc.kind == "missing" else ""
        raise ConfigError(f"{exc}{hint}") from None


def parse_config_text(text: str, file: str) -> dict:
    """The table of a configuration text about to be written to ``file``."""
    try:
        return parse_toml(text, file)
    except TomlError as exc:
        raise ConfigError(str(exc)) from None


def _check_type(file: str, key: str, value: Any, typ) -> None:
    if isinstance(value, bool) or not isinstance(value, typ):
        names = typ.__name__ if isinstance(typ, type) else " or ".join(t.__name__ for t in typ)
        raise ConfigError(f"{file}: {key}: expected {names}, got {type(value).__name__} {value!r}")


def parse_desk(doc: Mapping[str, Any], home: DeskHome, *, file: str = "desk.toml") -> DeskConfig:
    unknown = sorted(set(doc) - set(KNOWN_SECTIONS))
    if unknown:
        raise ConfigError(f"{file}: unknown section [{unknown[0]}] (known: {', '.join(KNOWN_SECTIONS)})")
    desk = doc.get("desk")
    if not isinstance(desk, Mapping):
        raise ConfigError(f"{file}: [desk] section is missing")
    for key in ("district_code", "district_name", "timezone"):
        if key not in desk:
            raise ConfigError(f"{file}: [desk].{key} is missing")
        _check_type(file, f"[desk].{key}", desk[key], str)
    extra = sorted(set(desk) - {"district_code", "district_name", "timezone"})
    if extra:
        raise ConfigError(f"{file}: [desk].{extra[0]}: unknown key")
    code = desk["district_code"]
    if not (code.isdigit() and len(code) == 6):
        raise ConfigError(f"{file}: [desk].district_code: '{code}' is not a 6-digit county code (e.g. 610702)")
    try:
        tz = ZoneInfo(desk["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{file}: [desk].timezone: unknown time zone '{desk['timezone']}'") from None
    fetch = dict(doc.get("fetch", {}))
    for key, value in fetch.items():
        if key not in _FETCH_KEYS:
            raise ConfigError(f"{file}: [fetch].{key}: unknown key (known: {', '.join(_FETCH_KEYS)})")
        if key == "trust_env":
            if not isinstance(value, bool):
                raise ConfigError(f"{file}: [fetch].trust_env: expected true or false, got {value!r}")
            continue
        _check_type(file, f"[fetch].{key}", value, _FETCH_KEYS[key])
        if value != value:
            raise ConfigError(f"{file}: [fetch].{key}: must be a number, got nan")
        if value < 0 or (value == 0 and key not in _FETCH_MAY_BE_ZERO):
            raise ConfigError(f"{file}: [fetch].{key}: must be positive, got {value}")
        if value > _FETCH_MAX[key]:
            raise ConfigError(f"{file}: [fetch].{key}: must be at most {_FETCH_MAX[key]:,}, got {value}")
    sections = {k: doc[k] for k in ("clock", "alerts", "triggers", "pipeline", "roster", "workday_clocks")
                if k in doc}
    for name, value in sections.items():
        if not isinstance(value, Mapping):
            raise ConfigError(f"{file}: [{name}] must be a table")
    _validate_sections(sections, file)
    _check_database(doc.get("database"), file)
    return DeskConfig(home, code, desk["district_name"], tz, fetch, sections)


def _validate_sections(sections: Mapping[str, Any], file: str) -> None:
    """Let the owning packages validate their sections, so errors name the key."""
    if "clock" in sections:
        try:
            from responders.policy import policy_from_mapping
        except ImportError:  # responders not built yet
            pass
        else:
            _wrap(policy_from_mapping, sections["clock"], file, "clock")
    if "alerts" in sections:
        try:
            from responders.alerts.config import parse_alerts_config
        except ImportError:
            pass
        else:
            _wrap(parse_alerts_config, sections["alerts"], file, "alerts")
    if "triggers" in sections:
        from pipeline.triggers import parse_triggers

        _wrap(parse_triggers, sections["triggers"], file, "triggers")
    if "pipeline" in sections:
        _wrap(_check_pipeline, sections["pipeline"], file, "pipeline")
    if "roster" in sections:
        from responders.roster import check_config

        _wrap(check_config, sections["roster"], file, "roster")
    if "workday_clocks" in sections:
        from responders.workday_clocks import parse_config

        _wrap(parse_config, sections["workday_clocks"], file, "workday_clocks")


def _check_database(table, file: str) -> None:
    """[database]: only ``url``, a postgresql:// URL without a password (server mode)."""
    if table is None:
        return
    if not isinstance(table, Mapping):
        raise ConfigError(f"{file}: [database] must be a table")
    from storage.dburl import has_password, is_server

    for key in table:
        if key != "url":
            raise ConfigError(f"{file}: [database].{key}: unknown key (known: url)")
    url = table.get("url")
    if url is None:
        return
    if not isinstance(url, str) or not is_server(url):
        raise ConfigError(f"{file}: [database].url: expected a postgresql://user@host:port/dbname URL "
                          "(leave [database] out for the SQLite file in the desk home)")
    if has_password(url):
        raise ConfigError(f"{file}: [database].url: holds a password: take it out and give it by "
                          "PGPASSWORD or ~/.pgpass (desk.toml is no place for secrets)")


def database_section(url: str) -> str:
    """The [database] section naming ``url`` (its password taken out) for desk.toml."""
    from storage.dburl import without_password

    shown = without_password(url).replace("\\", "\\\\").replace('"', '\\"')
    return ("\n[database]\n# Server mode: the desk's PostgreSQL database. The password is not kept here:\n"
            "# give it by PGPASSWORD or ~/.pgpass. --database and YUQING_DATABASE_URL override this.\n"
            f'url = "{shown}"\n')


def record_database(home: DeskHome, url: str) -> str | None:
    """Write ``[database] url`` (without its password) into the home's desk.toml when it names
    none. Returns the URL the file names afterwards (None without a desk.toml)."""
    from storage.dburl import without_password

    if not home.desk_toml.is_file():
        return None
    table = read_toml(home.desk_toml).get("database") or {}
    if table.get("url"):
        return str(table["url"])
    text = home.desk_toml.read_text(encoding="utf-8")
    write_atomic(home.desk_toml, text.rstrip("\n") + "\n" + database_section(url))
    return without_password(url)


def _check_pipeline(table) -> None:
    for key, value in table.items():
        if key != "auto_confirm_releases":
            raise ValueError(f"[pipeline] {key}: unknown key (known: auto_confirm_releases)")
        if not isinstance(value, bool):
            raise ValueError(f"[pipeline] auto_confirm_releases: expected true or false, got {value!r}")


def _wrap(fn, table, file: str, section: str):
    try:
        return fn(table)
    except ConfigError:
        raise
    except Exception as exc:  # each package's own validation error, reworded with the file
        text = str(exc)
        where = f"{file}: " if text.startswith(f"[{section}]") else f"{file}: [{section}]: "
        raise ConfigError(where + text) from None


def load_config(home: DeskHome) -> DeskConfig:
    """Load desk.toml and sources.toml from the home; raise ConfigError on any problem."""
    desk_doc = read_toml(home.desk_toml)
    cfg = parse_desk(desk_doc, home, file=str(home.desk_toml))
    sources = load_sources(home)
    from storage.timeutil import set_desk_tz

    set_desk_tz(cfg.timezone)  # the zone staff type and read in, for this whole process
    return DeskConfig(cfg.home, cfg.district_code, cfg.district_name, cfg.timezone, cfg.fetch,
                      cfg.sections, tuple(sources))


def load_sources(home: DeskHome) -> list[SourceSpec]:
    if not home.sources_toml.exists():
        raise ConfigError(f"{home.sources_toml}: file not found (run `yuqing init`)")
    return parse_sources(read_toml(home.sources_toml), file=str(home.sources_toml))


def init_home(home: DeskHome, *, force: bool = False, sources_text: str | None = None) -> list[Path]:
    """Write default desk.toml and sources.toml (never overwriting unless ``force``), and the
    ``templates/`` folder for the department's own report templates with its README."""
    home.path.mkdir(parents=True, exist_ok=True)
    home.log_dir.mkdir(exist_ok=True)
    written = []
    templates = home.path / "templates"  # the department's own report templates (yuqing templates)
    templates.mkdir(exist_ok=True)
    if not (templates / "README.txt").exists():
        (templates / "README.txt").write_text((DATA_DIR / "templates" / "README.txt").read_text("utf-8"), encoding="utf-8")
        written.append(templates / "README.txt")
    defaults = [
        (home.desk_toml, default_desk_toml()),
        (home.sources_toml, sources_text if sources_text is not None else DEFAULT_SOURCES_TOML.read_text("utf-8")),
    ]
    for path, text in defaults:
        if path.exists() and not force:
            continue
        write_atomic(path, text)
        written.append(path)
    return written


def default_desk_toml() -> str:
    """The default desk.toml: data/desk.default.toml plus the sections other packages define."""
    parts = [DEFAULT_DESK_TOML.read_text("utf-8").rstrip() + "\n"]
    for module, attr in (("responders.policy", "DEFAULT_CLOCK_TOML"),
                         ("responders.alerts.config", "DEFAULT_ALERTS_TOML"),
                         ("pipeline.triggers", "DEFAULT_TRIGGERS_TOML"),
                         ("responders.roster", "DEFAULT_ROSTER_TOML"),
                         ("responders.workday_clocks", "DEFAULT_WORKDAY_CLOCKS_TOML")):
        try:
            mod = __import__(module, fromlist=[attr])
            parts.append(getattr(mod, attr).strip() + "\n")
        except (ImportError, AttributeError):
            continue
    return "\n".join(parts)
