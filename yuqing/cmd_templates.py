"""`yuqing templates`: which report templates the desk uses, and copies of the defaults to edit."""
from __future__ import annotations

import shutil

import click

from yuqing.clictx import fail, home_from


@click.command()
@click.option("--copy", "copy_name", default=None, metavar="NAME|all",
              help="Copy a default template (or all of them) into <home>/templates/ to edit.")
@click.option("--force", is_flag=True, help="With --copy: replace a template the home already has.")
@click.option("--check", is_flag=True, help="Parse every template in use; exit 1 naming the broken ones.")
@click.pass_context
def templates(ctx: click.Context, copy_name: str | None, force: bool, check: bool) -> None:
    """List the report templates (the desk home's own override the defaults), copy defaults to edit,
    or check them. Example: yuqing templates --copy incident_report.docx"""
    from responders.exports.templates import (DEFAULT_DIR, HOME_SUBDIR, TemplateError, check_template,
                                              list_templates)

    home = home_from(ctx)
    own = home.path / HOME_SUBDIR
    if copy_name:
        names = [n for n, _, _ in list_templates()] if copy_name == "all" else [copy_name]
        for name in names:
            src = DEFAULT_DIR / name
            if name not in [n for n, _, _ in list_templates()]:
                fail(f"no default template named {name!r} (see `yuqing templates`)")
            dest = own / name
            if dest.exists() and not force:
                click.echo(f"已有 {dest}，未覆盖（--force 覆盖） / kept (pass --force to replace)")
                continue
            try:
                own.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
            except OSError as exc:
                fail(f"{dest}: cannot write ({exc.strerror or exc})")
            click.echo(f"已复制 {dest}")
        return
    try:
        rows = list_templates(home.path)
    except TemplateError as exc:
        fail(str(exc))
    if check:
        broken = 0
        for name, _, _ in rows:
            try:
                path = check_template(name, home.path)
                click.echo(f"  正常 / ok      {path}")
            except TemplateError as exc:
                broken += 1
                click.echo(f"  有误 / broken  {exc}")
        if broken:
            fail(f"{broken} 个模板有误 / {broken} broken template(s)")
        return
    click.echo(f"报告模板（{own} 中的同名文件优先）：")
    for name, path, overridden in rows:
        click.echo(f"  {name:<28} {'本地 ' if overridden else '默认 '}{path}")
