"""``yuqing staff``: add, list and disable the desk's staff (CLI wiring over responders.staff).

Only an admin edits staff; the first member of a desk needs no ``--as`` and is made an admin.
"""
from __future__ import annotations

import json

import click

from yuqing.cmd_incidents import desk_command


@click.group(name="staff")
def staff() -> None:
    """Staff and roles: add, list, disable (admin only)."""


def _add_options(fn):
    for field, help_ in reversed([
        ("login", "OS login that acts as this member without --as."),
        ("wecom", "企业微信 userid (for @-mentions in alerts)."),
        ("dingtalk", "钉钉 mobile number (for @-mentions in alerts)."),
        ("feishu", "飞书 open_id (for @-mentions in alerts)."),
        ("email", "E-mail address."),
    ]):
        fn = click.option(f"--{field}", default=None, help=help_)(fn)
    return fn


def _echo_member(m, made_admin: bool = False) -> None:
    state = "" if m.active else "（已停用）"
    click.echo(f"{m.id}  {m.name}  {m.role_label}{state}")
    if made_admin:
        click.echo("本台首位人员，已设为管理员（admin）；此后的写操作须以登记人员身份进行（--as 人员编号）。")


@desk_command("add", creates=True, access="admin")
@click.argument("staff_id", metavar="ID")
@click.option("--name", required=True, help="姓名.")
@click.option("--role", required=True, type=click.Choice(["officer", "leader", "admin", "viewer"]),
              help="officer 值班员, leader 带班领导, admin 管理员, viewer 只读.")
@_add_options
def add(svc, actor, staff_id, name, role, **contacts):
    """Add a staff member (admin only; the first member needs no --as)."""
    from responders import staff as staff_mod

    member, made_admin = staff_mod.add_staff(svc.db, staff_id, name, role, now=svc.clock(), **contacts)
    _echo_member(member, made_admin)


@desk_command("list", access="read")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(svc, actor, as_json):
    """List staff with their roles and contacts."""
    from responders import staff as staff_mod

    members = staff_mod.list_staff(svc.db)
    if as_json:
        click.echo(json.dumps([m.to_dict() for m in members], ensure_ascii=False, indent=2))
        return
    if not members:
        click.echo("尚未登记人员：本台按单人值守运行。用 yuqing staff add ID --name 姓名 --role admin 登记首位人员（管理员）。")
        return
    for m in members:
        _echo_member(m)


@desk_command("disable", access="admin")
@click.argument("staff_id", metavar="ID")
def disable(svc, actor, staff_id):
    """Disable a staff member (admin only; never deleted)."""
    from responders import staff as staff_mod

    _echo_member(staff_mod.disable_staff(svc.db, staff_id, now=svc.clock()))


staff.add_command(add)
staff.add_command(list_)
staff.add_command(disable)
