"""Least-privilege roles on a PostgreSQL desk: the statements that create a login role and give
it exactly the table privileges a policy lists, nothing else.

The policy (which table gets what) is the caller's (``yuqing/dbaccess.py``); this module knows no
table names. Grants are rebuilt from scratch each time (every privilege the role had on the
desk's tables and sequences is revoked first), so running it again after an upgrade that added
tables gives the same result as a fresh set-up. Nobody but the desk's own role (which owns the
tables) may drop or disable the timeline's guard triggers; the roles made here own nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from storage.errors import StorageError

PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RoleError(StorageError):
    """A role name or policy the server cannot take as given; the message says which."""


@dataclass(frozen=True)
class TableGrant:
    """What a role may do on one table. ``update_except``: UPDATE only on the other columns."""
    table: str
    privileges: tuple[str, ...]
    update_except: tuple[str, ...] = ()


def check_name(name: str, what: str) -> str:
    """A role name as PostgreSQL keeps it unquoted: lower-case letters, digits and _."""
    if not _NAME.match(name or ""):
        raise RoleError(f"{what} 角色名 {name!r} 不合规：只用小写字母、数字和下划线，以字母或下划线开头，最长 63 个字符")
    return name


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _schema_and_database(db) -> tuple[str, str]:
    row = db.execute("SELECT current_schema(), current_database()").fetchone()
    return row[0], row[1]


def _tables(db, schema: str) -> set[str]:
    return {r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = ?", [schema]).fetchall()}


def _columns(db, schema: str, table: str) -> list[str]:
    return [r[0] for r in db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?"
        " AND is_generated = 'NEVER' ORDER BY ordinal_position", [schema, table]).fetchall()]


def role_statements(db, role: str, grants: list[TableGrant], *, read_all: bool = False) -> list[str]:
    """The statements that create ``role`` (a login role, when missing) and grant it ``grants``
    on the desk's tables (SELECT on every table too with ``read_all``). Tables the database does
    not have are left out. No password is set: the operator gives one (``ALTER ROLE ... PASSWORD``,
    psql's ``\\password``) or uses certificate or peer authentication."""
    check_name(role, "")
    schema, database = _schema_and_database(db)
    present = _tables(db, schema)
    r, s = _q(role), _q(schema)
    out = [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
        f"CREATE ROLE {r} LOGIN; END IF; END $$",
        f"GRANT CONNECT ON DATABASE {_q(database)} TO {r}",
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {r}",
    ]
    if read_all:
        out.append(f"GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {r}")
    for g in grants:
        if g.table not in present:
            continue
        bad = [p for p in g.privileges if p not in PRIVILEGES]
        if bad:
            raise RoleError(f"表 {g.table}：不支持的权限 {', '.join(bad)}")
        whole = [p for p in g.privileges if not (p == "UPDATE" and g.update_except)]
        if whole:
            out.append(f"GRANT {', '.join(whole)} ON {s}.{_q(g.table)} TO {r}")
        if "UPDATE" in g.privileges and g.update_except:
            cols = [c for c in _columns(db, schema, g.table) if c not in g.update_except]
            if cols:
                out.append(f"GRANT UPDATE ({', '.join(_q(c) for c in cols)}) ON {s}.{_q(g.table)} TO {r}")
    return out


def apply(db, statements: list[str]) -> None:
    """Run the statements in one transaction (all or nothing)."""
    from storage.db import transaction

    with transaction(db):
        for sql in statements:
            db.execute(sql)


def current_role(db) -> str:
    return db.execute("SELECT current_user").fetchone()[0]
