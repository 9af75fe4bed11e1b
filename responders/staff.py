"""The desk's staff (值班人员) and what each role may do. Owns the ``staff`` table (migration set
``staff``); every other module asks here who an actor is and whether they may act.

Roles: ``admin`` (管理员: everything, and alone edits staff, sources and schemes), ``leader``
(带班领导: works incidents and gives instructions), ``officer`` (值班员: works incidents),
``viewer`` (只读: reads everything, changes nothing). A staff member is never deleted, only
disabled, so the timeline's actor ids keep naming someone. A desk with no staff yet works as a
one-operator desk (any actor name is taken as written) until the first member is added; the
first member is always an admin.
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Literal

import sqlite_utils
from sqlite_utils import Migrations

from responders.exceptions import ResponderError
from storage.db import transaction
from storage.timeutil import to_db, utcnow

migrations = Migrations("staff")

ROLES = ("admin", "leader", "officer", "viewer")
ROLE_LABELS = {"admin": "管理员", "leader": "带班领导", "officer": "值班员", "viewer": "只读"}
CONTACT_FIELDS = ("login", "wecom", "dingtalk", "feishu", "email")
#: Actors the desk itself records (the pipeline, clocks, release detection), shown as 系统.
SYSTEM_ACTORS = frozenset({"system", "daemon", "pipeline"})

#: What an action needs: ``read`` anyone active; ``write`` officers, leaders and admins;
#: ``lead`` leaders and admins (instructions); ``admin`` admins only (staff, sources, schemes).
Access = Literal["read", "write", "lead", "admin"]
_ALLOWED: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "write": frozenset({"admin", "leader", "officer"}),
    "lead": frozenset({"admin", "leader"}),
    "admin": frozenset({"admin"}),
}
_ACCESS_LABELS = {"read": "查看", "write": "处置操作", "lead": "领导批示", "admin": "管理（人员、信息源、方案）"}
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")


class StaffError(ResponderError):
    """A staff record or an actor is refused; the message says why, for staff."""


class UnknownStaff(StaffError):
    """No staff member with that id or login."""


class StaffDisabled(StaffError):
    """The staff member exists but is disabled."""


class NotPermitted(StaffError):
    """The staff member's role does not allow the action."""


@dataclass(frozen=True)
class Staff:
    id: str
    name: str
    role: str
    login: str | None = None
    wecom: str | None = None
    dingtalk: str | None = None
    feishu: str | None = None
    email: str | None = None
    active: bool = True
    created_at: str = ""

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def to_dict(self) -> dict:
        return asdict(self)


@migrations()
def m001_staff(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE staff (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            login TEXT,
            wecom TEXT,
            dingtalk TEXT,
            feishu TEXT,
            email TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            disabled_at TEXT
        )""")
    db.execute("CREATE UNIQUE INDEX staff_login ON staff(login) WHERE login IS NOT NULL AND active = 1")


def _row(r: dict) -> Staff:
    return Staff(id=r["id"], name=r["name"], role=r["role"], login=r["login"], wecom=r["wecom"],
                 dingtalk=r["dingtalk"], feishu=r["feishu"], email=r["email"],
                 active=bool(r["active"]), created_at=r["created_at"])


def has_staff(db: sqlite_utils.Database) -> bool:
    """True once the desk has at least one staff member (enabled or not)."""
    return bool(db.execute("SELECT 1 FROM staff LIMIT 1").fetchone())


def list_staff(db: sqlite_utils.Database, *, include_disabled: bool = True) -> list[Staff]:
    sql = "SELECT * FROM staff" + ("" if include_disabled else " WHERE active = 1") + " ORDER BY created_at, id"
    return [_row(r) for r in db.execute_returning_dicts(sql)]


def get_staff(db: sqlite_utils.Database, staff_id: str) -> Staff | None:
    rows = db.execute_returning_dicts("SELECT * FROM staff WHERE id = ?", [staff_id])
    return _row(rows[0]) if rows else None


def by_login(db: sqlite_utils.Database, login: str) -> Staff | None:
    rows = db.execute_returning_dicts("SELECT * FROM staff WHERE login = ? AND active = 1", [login])
    return _row(rows[0]) if rows else None


def display_name(db: sqlite_utils.Database, actor: str) -> str:
    """How staff see an actor: the member's name for a staff id, 系统 for the desk itself,
    else the actor as recorded."""
    member = get_staff(db, actor) if actor else None
    if member is not None:
        return member.name
    if not actor or actor.startswith("[") or actor in SYSTEM_ACTORS:
        return "系统"
    return actor


def add_staff(db: sqlite_utils.Database, staff_id: str, name: str, role: str, *,
              now: datetime | None = None, **contacts: str | None) -> tuple[Staff, bool]:
    """Add a member; returns ``(member, made_admin)`` where ``made_admin`` says the first member
    of a desk was made an admin whatever role was asked for."""
    staff_id = (staff_id or "").strip()
    name = (name or "").strip()
    if not _ID_RE.match(staff_id):
        raise StaffError(f"人员编号「{staff_id}」无效：请用 1–32 位字母、数字、下划线、点或连字符，以字母或数字开头")
    if not name:
        raise StaffError("姓名不能为空（--name）")
    if role not in ROLES:
        raise StaffError(f"角色「{role}」无效，可选：" + "、".join(f"{r}（{ROLE_LABELS[r]}）" for r in ROLES))
    unknown = set(contacts) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"unknown contact fields: {sorted(unknown)}")
    values = {k: (contacts.get(k) or "").strip() or None for k in CONTACT_FIELDS}
    with transaction(db):  # one writer: the check and the write see the same staff
        made_admin = not has_staff(db) and role != "admin"
        if made_admin:
            role = "admin"
        if get_staff(db, staff_id) is not None:
            raise StaffError(f"人员编号「{staff_id}」已存在（未作任何更改）")
        if values["login"] and by_login(db, values["login"]) is not None:
            raise StaffError(f"登录名「{values['login']}」已属于 {by_login(db, values['login']).id}（未作任何更改）")
        try:
            db.execute(
                "INSERT INTO staff (id, name, role, login, wecom, dingtalk, feishu, email, active, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                [staff_id, name, role, values["login"], values["wecom"], values["dingtalk"],
                 values["feishu"], values["email"], to_db(now or utcnow())])
        except sqlite3.IntegrityError as exc:
            raise StaffError(f"无法添加人员「{staff_id}」：{exc}（未作任何更改）") from None
    member = get_staff(db, staff_id)
    assert member is not None
    return member, made_admin


def disable_staff(db: sqlite_utils.Database, staff_id: str, *, now: datetime | None = None) -> Staff:
    """Disable a member (never deleted: the timeline keeps naming them). The last active admin
    cannot be disabled, or nobody could edit staff again."""
    with transaction(db):  # one writer: the check and the write see the same staff
        member = get_staff(db, staff_id)
        if member is None:
            raise UnknownStaff(_unknown_text(db, staff_id))
        if member.role == "admin" and member.active:
            admins = db.execute("SELECT COUNT(*) FROM staff WHERE role = 'admin' AND active = 1").fetchone()[0]
            if admins <= 1:
                raise StaffError(f"{staff_id} 是最后一位启用的管理员，不能停用（未作任何更改）")
        db.execute("UPDATE staff SET active = 0, disabled_at = ? WHERE id = ?",
                   [to_db(now or utcnow()), staff_id])
    member = get_staff(db, staff_id)
    assert member is not None
    return member


def _unknown_text(db: sqlite_utils.Database, staff_id: str) -> str:
    known = [m.id for m in list_staff(db, include_disabled=False)]
    hint = f"；已登记：{'、'.join(known[:8])}" if known else ""
    return f"未登记的人员「{staff_id}」{hint}（未作任何更改）"


def resolve_actor(db: sqlite_utils.Database, as_id: str | None, login: str | None,
                  access: Access = "write") -> Staff | None:
    """The staff member acting, checked for ``access``. ``as_id`` (``--as``) wins over the OS
    ``login`` mapped by ``staff add --login``. Returns None on a desk with no staff yet (it
    works as a one-operator desk). Raises :class:`UnknownStaff`, :class:`StaffDisabled` or
    :class:`NotPermitted` with a message for staff; nothing has been written then."""
    if not has_staff(db):
        return None
    if as_id:
        member = get_staff(db, as_id)
        if member is None:
            raise UnknownStaff(_unknown_text(db, as_id))
    else:
        member = by_login(db, login) if login else None
        if member is None:
            raise UnknownStaff(f"操作系统用户「{login or '?'}」未登记为值班人员：请用 --as 人员编号 指明操作人"
                               "（或由管理员 yuqing staff add … --login 登记）（未作任何更改）")
    if not member.active:
        raise StaffDisabled(f"人员「{member.id}」（{member.name}）已停用（未作任何更改）")
    require(member, access)
    return member


def require(member: Staff, access: Access) -> None:
    if member.role not in _ALLOWED[access]:
        raise NotPermitted(f"{member.name}（{member.id}，{member.role_label}）无权{_ACCESS_LABELS[access]}"
                           "（未作任何更改）")
