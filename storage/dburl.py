"""Which database a desk uses, named by a SQLite path or a PostgreSQL URL.

A target is either a filesystem path (the embedded default: one SQLite file) or a
``postgresql://user@host:port/dbname?...`` URL (libpq parameters pass through). Passwords never
leave this module in text meant for people: :func:`redacted` is how a URL is shown or logged.
"""
from __future__ import annotations

import re
from pathlib import Path

SERVER_SCHEMES = ("postgresql://", "postgres://")


def is_server(target) -> bool:
    """Whether ``target`` names a PostgreSQL server rather than a SQLite file."""
    return isinstance(target, str) and target.lower().startswith(SERVER_SCHEMES)


#: Connection settings for a client across a network (storage.pg.PgConnection): a dead network
#: or server is noticed in about 15 s instead of the operating system's minutes.
NETWORK_DEFAULTS = {"connect_timeout": "10", "keepalives": "1", "keepalives_idle": "5",
                    "keepalives_interval": "2", "keepalives_count": "3"}


def with_defaults(target, defaults: dict[str, str] = NETWORK_DEFAULTS):
    """A server URL with the libpq parameters in ``defaults`` that it does not set itself (what the
    URL says wins); a path as is."""
    if not is_server(target):
        return target
    from urllib.parse import urlencode

    from psycopg.conninfo import conninfo_to_dict

    given = conninfo_to_dict(target)
    missing = {k: v for k, v in defaults.items() if k not in given}
    if not missing:
        return target
    return target + ("&" if "?" in target else "?") + urlencode(missing)


def redacted(target) -> str:
    """The target as shown to people: a URL's password (in the authority or as a
    ``password=`` parameter) replaced by ``***``; a path as is."""
    if not is_server(target):
        return str(target)
    text = re.sub(r"^(postgres(?:ql)?://[^:/@?#]*):[^@/?#]*@", r"\1:***@", str(target), flags=re.I)
    return re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", text)


def as_target(value) -> str | Path:
    """A configured value as a target: a server URL stays a string, anything else is a path."""
    return value if is_server(value) else Path(value)


def without_password(target) -> str:
    """The URL with any password taken out (the authority's ``:secret`` and a ``password=``
    parameter), for writing into a configuration file: passwords come from the environment
    (``PGPASSWORD``) or ``~/.pgpass``. A path is returned as is."""
    if not is_server(target):
        return str(target)
    text = re.sub(r"^(postgres(?:ql)?://[^:/@?#]*):[^@/?#]*@", r"\1@", str(target), flags=re.I)
    text = re.sub(r"(?i)([?&])password=[^&#]*(&|$)", lambda m: m.group(1) if m.group(2) else "", text)
    return re.sub(r"[?&]$", "", text)


def has_password(target) -> bool:
    """Whether a URL carries a password of its own."""
    return is_server(target) and without_password(target) != str(target)
